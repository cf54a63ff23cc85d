"""Sending through Plivo's Message API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapter.http import HttpClient, http_status_error, read_timeout, response_json
from adapter.provider import LookupResult, OutboundRequest, SendResult, Verdict

PLIVO_API = "https://api.plivo.com"


class PlivoSender:
    """Thread-safe: the HTTP session is shared, nothing else changes after construction."""

    def __init__(self, config: Mapping[str, Any], pool_size: int = 32) -> None:
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
        payload = response_json(response)
        if response.status_code >= 300:
            # Plivo's refusals carry a sentence, not a code: an opted-out recipient is accepted
            # here and reported in the receipt (error 200).
            reason = str(payload.get("error") or response.reason)
            raise http_status_error("plivo", response, None, reason, Verdict.NONE)
        ids = payload.get("message_uuid")
        found = ids[0] if isinstance(ids, list) and ids else None
        return SendResult(provider_message_id=str(found) if found else None)

    def lookup(self, request: OutboundRequest) -> LookupResult | None:
        # Plivo finds a message by its UUID only, which a lost answer never gave us; the status
        # callback or the reconciler's timeout settles it.
        return None
