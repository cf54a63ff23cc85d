"""Sending through Telnyx's Messaging API v2, and finding a send whose answer was lost among its
message detail records by the status URL the send named."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from adapter.config import SEND_CONCURRENCY
from adapter.errors import InvalidRequest
from adapter.http import HttpClient, http_status_error, read_timeout, response_json
from adapter.lookup import found_message, send_window
from adapter.provider import LookupResult, OutboundRequest, SendError, SendResult
from adapter.webhooks import callback_reference

from .errors import first_error, verdict_for
from .events import record_status

TELNYX_API = "https://api.telnyx.com"
# Records of one number on the days of a send's window read per lookup, newest first.
_PAGE_SIZE = "50"


class TelnyxSender:
    """Thread-safe: the HTTP session is shared, nothing else changes after construction."""

    def __init__(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> None:
        self._http = HttpClient(
            "telnyx",
            base_url=config.get("TELNYX_API_BASE_URL") or TELNYX_API,
            headers={"Authorization": f"Bearer {config['TELNYX_API_KEY']}"},
            read_timeout=read_timeout(config),
            pool_size=pool_size,
        )
        self._from = {"from": config["TELNYX_FROM"]}
        if config.get("TELNYX_MESSAGING_PROFILE_ID"):
            self._from["messaging_profile_id"] = config["TELNYX_MESSAGING_PROFILE_ID"]

    def send(self, request: OutboundRequest) -> SendResult:
        message: dict[str, str] = {"to": request.to, "text": request.body, **self._from}
        if request.status_callback_url:
            # A URL in the request wins over the messaging profile's for this message's events.
            message["webhook_url"] = request.status_callback_url
        response = self._http.request("POST", "/v2/messages", json=message)
        if response.status_code >= 300:
            raise _refusal(response)
        data = response_json(response).get("data")
        found = data.get("id") if isinstance(data, dict) else None
        return SendResult(provider_message_id=str(found) if found else None)

    def lookup(self, request: OutboundRequest) -> LookupResult | None:
        window = send_window(request, self._http.read_timeout)
        if window is None:
            return None
        # The search filters creation time by day; the reference does the rest.
        params = {
            "filter[record_type]": "messaging",
            "filter[direction]": "outbound",
            "filter[cld]": request.to,
            "filter[created_at][gte]": window.start.date().isoformat(),
            "filter[created_at][lt]": (window.end.date() + timedelta(days=1)).isoformat(),
            "page[size]": _PAGE_SIZE,
            "sort": "-created_at",
        }
        response = self._http.request("GET", "/v2/detail_records", params=params)
        if response.status_code >= 300:
            raise _refusal(response)
        # Every send names its own status URL, carrying our message id and attempt: an earlier
        # attempt's record, or another message's with the same text, is not ours.
        ours = (request.message_id, request.attempt)
        records = response_json(response).get("data")
        for record in records if isinstance(records, list) else []:
            if not isinstance(record, dict):
                continue
            found = record.get("uuid") or record.get("id")
            if not found or _reference(record.get("delivery_status_webhook_url")) != ours:
                continue
            return found_message(
                str(found),
                record_status(record.get("status")),
                _record_error(record.get("errors")),
                verdict_for,
            )
        return None


def _refusal(response: requests.Response) -> SendError:
    code, title = first_error(response_json(response).get("errors"))
    return http_status_error("telnyx", response, code, title or response.reason, verdict_for(code))


def _reference(url: object) -> tuple[int | None, int | None]:
    """The message id and attempt in a status URL we gave a send; (None, None) for another."""
    if not isinstance(url, str):
        return None, None
    try:
        return callback_reference(dict(parse_qsl(urlsplit(url).query)))
    except InvalidRequest:
        return None, None


def _record_error(errors: object) -> str | None:
    """The first Telnyx error code of a detail record's ``errors`` (a list of codes)."""
    if isinstance(errors, list) and errors:
        code = str(errors[0]).strip()
        return code if code.isascii() and code.isdigit() else None
    return None
