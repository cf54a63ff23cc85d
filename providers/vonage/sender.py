"""Sending SMS through Vonage's Messages API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from adapter.http import HttpClient, http_status_error, read_timeout, response_json
from adapter.provider import LookupResult, OutboundRequest, SendError, SendResult

from .errors import error_code, verdict_for

VONAGE_API = "https://api.nexmo.com"


class VonageSender:
    """Thread-safe: the HTTP session is shared, nothing else changes after construction."""

    def __init__(self, config: Mapping[str, Any], pool_size: int = 32) -> None:
        self._http = HttpClient(
            "vonage",
            base_url=config.get("VONAGE_API_BASE_URL") or VONAGE_API,
            auth=(config["VONAGE_API_KEY"], config["VONAGE_API_SECRET"]),
            read_timeout=read_timeout(config),
            pool_size=pool_size,
        )
        self._from = str(config["VONAGE_FROM"]).lstrip("+")

    def send(self, request: OutboundRequest) -> SendResult:
        message = {
            "message_type": "text",
            "channel": "sms",
            # Vonage wants numbers without the leading +.
            "to": request.to.lstrip("+"),
            "from": self._from,
            "text": request.body,
            "client_ref": f"message_id={request.message_id}&attempt={request.attempt}",
        }
        if request.status_callback_url:
            message["webhook_url"] = request.status_callback_url
        response = self._http.request("POST", "/v1/messages", json=message)
        if response.status_code >= 300:
            raise _refusal(response)
        found = response_json(response).get("message_uuid")
        return SendResult(provider_message_id=str(found) if found else None)

    def lookup(self, request: OutboundRequest) -> LookupResult | None:
        # The Messages API finds a message by its UUID only, which a lost answer never gave us;
        # the status webhook or the reconciler's timeout settles it.
        return None


def _refusal(response: requests.Response) -> SendError:
    payload = response_json(response)
    code = error_code(payload)
    reason = str(payload.get("title") or response.reason)
    return http_status_error("vonage", response, code, reason, verdict_for(code))
