"""Sending through Plivo's Message API, and finding a send whose answer was lost among its
message detail records."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from adapter.config import SEND_CONCURRENCY
from adapter.http import HttpClient, http_status_error, read_timeout, response_json
from adapter.lookup import found_message, only_one, send_window
from adapter.provider import LookupResult, OutboundRequest, SendError, SendResult, Verdict

from .errors import verdict_for
from .events import message_status

PLIVO_API = "https://api.plivo.com"
# The most records the List Messages API returns in one page.
_PAGE = "20"


class PlivoSender:
    """Thread-safe: the HTTP session is shared, nothing else changes after construction."""

    def __init__(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> None:
        auth_id = config["PLIVO_AUTH_ID"]
        self._http = HttpClient(
            "plivo",
            base_url=config.get("PLIVO_API_BASE_URL") or PLIVO_API,
            auth=(auth_id, config["PLIVO_AUTH_TOKEN"]),
            read_timeout=read_timeout(config),
            pool_size=pool_size,
        )
        self._messages = f"/v1/Account/{auth_id}/Message/"
        sender = config["PLIVO_FROM"]
        # A Powerpack (number pool) is named by its UUID; anything else is a number or sender id.
        self._from = (
            {"powerpack_uuid": sender} if len(sender) == 36 and "-" in sender else {"src": sender}
        )

    def send(self, request: OutboundRequest) -> SendResult:
        message: dict[str, str] = {"dst": request.to, "text": request.body, **self._from}
        if request.status_callback_url:
            message["url"] = request.status_callback_url
            message["method"] = "POST"
        response = self._http.request("POST", self._messages, json=message)
        if response.status_code >= 300:
            # Plivo's refusals carry a sentence, not a code: an opted-out recipient is accepted
            # here and reported in the receipt (error 200).
            raise _refusal(response)
        ids = response_json(response).get("message_uuid")
        found = ids[0] if isinstance(ids, list) and ids else None
        return SendResult(provider_message_id=str(found) if found else None)

    def lookup(self, request: OutboundRequest) -> LookupResult | None:
        # A message detail record keeps neither the text nor our callback URL, so a message is
        # found by its number and the time Plivo took it, and only when it is the one that fits.
        window = send_window(request, self._http.read_timeout)
        if window is None:
            return None
        params = {
            "message_direction": "outbound",
            "to_number": _plivo_number(request.to),
            "message_time__gte": _plivo_time(window.start),
            "message_time__lte": _plivo_time(window.end),
            "limit": _PAGE,
        }
        source = _plivo_number(self._from.get("src", ""))
        if source.isascii() and source.isdigit():
            # A number; a Powerpack or an alphanumeric sender id is left out of the filter.
            params["from_number"] = source
        response = self._http.request("GET", self._messages, params=params)
        if response.status_code >= 300:
            raise _refusal(response)
        listed = response_json(response).get("objects")
        candidates = [
            found
            for found in (listed if isinstance(listed, list) else [])
            if isinstance(found, dict)
            and found.get("message_uuid")
            and _plivo_number(str(found.get("to_number") or "")) == _plivo_number(request.to)
            and window.holds(found.get("message_time"))
        ]
        found = only_one(candidates, request, "Plivo")
        if found is None:
            return None
        code = str(found.get("error_code") or "").strip()
        return found_message(
            str(found["message_uuid"]),
            message_status(found.get("message_state")),
            code if code.isascii() and code.isdigit() and code.strip("0") else None,
            verdict_for,
        )


def _refusal(response: requests.Response) -> SendError:
    reason = str(response_json(response).get("error") or response.reason)
    return http_status_error("plivo", response, None, reason, Verdict.NONE)


def _plivo_number(number: str) -> str:
    """Plivo's records write numbers in international form without the ``+``."""
    return number.strip().lstrip("+")


def _plivo_time(when: datetime) -> str:
    """The List Messages filters take ``YYYY-MM-DD HH:MM[:ss]`` in UTC."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
