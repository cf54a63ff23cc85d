"""Sending SMS through Vonage's Messages API, and finding a send whose answer was lost in the
Reports API by the ``client_ref`` every send carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from adapter.config import SEND_CONCURRENCY
from adapter.http import HttpClient, http_status_error, read_timeout, response_json
from adapter.lookup import found_message, iso_utc, send_window
from adapter.provider import LookupResult, OutboundRequest, SendError, SendResult

from .errors import error_code, verdict_for
from .events import message_status

VONAGE_API = "https://api.nexmo.com"
# Load records synchronously (Reports API): the account's outbound Messages API records in a
# date range, 1,000 a page, each with the client_ref its send carried.
_RECORDS = "/v2/reports/records"
# Pages of one window read at most per lookup; an account sending more than this many messages
# in one send's window leaves that send to its status webhook or the timeout.
_MAX_PAGES = 5


class VonageSender:
    """Thread-safe: the HTTP session is shared, nothing else changes after construction."""

    def __init__(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> None:
        self._http = HttpClient(
            "vonage",
            base_url=config.get("VONAGE_API_BASE_URL") or VONAGE_API,
            auth=(config["VONAGE_API_KEY"], config["VONAGE_API_SECRET"]),
            read_timeout=read_timeout(config),
            pool_size=pool_size,
        )
        self._from = str(config["VONAGE_FROM"]).lstrip("+")
        self._account = str(config["VONAGE_API_KEY"])

    def send(self, request: OutboundRequest) -> SendResult:
        message = {
            "message_type": "text",
            "channel": "sms",
            # Vonage wants numbers without the leading +.
            "to": request.to.lstrip("+"),
            "from": self._from,
            "text": request.body,
            "client_ref": client_ref(request),
        }
        if request.status_callback_url:
            message["webhook_url"] = request.status_callback_url
        response = self._http.request("POST", "/v1/messages", json=message)
        if response.status_code >= 300:
            raise _refusal(response)
        found = response_json(response).get("message_uuid")
        return SendResult(provider_message_id=str(found) if found else None)

    def lookup(self, request: OutboundRequest) -> LookupResult | None:
        window = send_window(request, self._http.read_timeout)
        if window is None:
            return None
        ours = client_ref(request)
        path = _RECORDS
        params: dict[str, str] | None = {
            "account_id": self._account,
            "product": "MESSAGES",
            "direction": "outbound",
            "date_start": iso_utc(window.start),
            "date_end": iso_utc(window.end),
        }
        for _page in range(_MAX_PAGES):
            response = self._http.request("GET", path, params=params)
            if response.status_code >= 300:
                raise _refusal(response)
            payload = response_json(response)
            for record in payload.get("records") or []:
                # The reference names the message and the attempt: an earlier attempt's record,
                # or another message with the same text, is never taken for this one.
                if not isinstance(record, dict) or record.get("client_ref") != ours:
                    continue
                if not record.get("message_id"):
                    continue
                code = str(record.get("error_code") or "").strip()
                return found_message(
                    str(record["message_id"]),
                    message_status(record.get("status")),
                    code if code not in ("", "0") else None,
                    verdict_for,
                )
            path, params = _next_page(payload), None
            if path is None:
                return None
        return None


def client_ref(request: OutboundRequest) -> str:
    """Our reference on a send, echoed by its status webhooks and its report record."""
    return f"message_id={request.message_id}&attempt={request.attempt}"


def _next_page(payload: Mapping[str, Any]) -> str | None:
    """The path and query of a truncated answer's next page, on our own base URL."""
    links = payload.get("_links")
    following = links.get("next") if isinstance(links, dict) else None
    href = following.get("href") if isinstance(following, dict) else None
    if not isinstance(href, str):
        return None
    parts = urlsplit(href)
    if parts.path != _RECORDS or not parts.query:
        return None
    return f"{parts.path}?{parts.query}"


def _refusal(response: requests.Response) -> SendError:
    payload = response_json(response)
    code = error_code(payload)
    reason = str(payload.get("title") or response.reason)
    return http_status_error("vonage", response, code, reason, verdict_for(code))
