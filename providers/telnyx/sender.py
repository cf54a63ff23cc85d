"""Sending through Telnyx's Messaging API v2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from adapter.http import HttpClient, http_status_error, read_timeout, response_json
from adapter.provider import LookupResult, OutboundRequest, SendError, SendResult

from .errors import first_error, verdict_for

TELNYX_API = "https://api.telnyx.com"


class TelnyxSender:
    """Thread-safe: the HTTP session is shared, nothing else changes after construction."""

    def __init__(self, config: Mapping[str, Any], pool_size: int = 32) -> None:
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
        # Telnyx looks messages up by their id only, which a lost answer never gave us; the
        # message.sent event (to our callback URL) or the reconciler's timeout settles it.
        return None


def _refusal(response: requests.Response) -> SendError:
    code, title = first_error(response_json(response).get("errors"))
    return http_status_error("telnyx", response, code, title or response.reason, verdict_for(code))
