"""Sending through Bandwidth's Messaging API v2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapter.http import HttpClient, http_status_error, read_timeout, response_json
from adapter.provider import LookupResult, OutboundRequest, SendResult, Verdict

from .events import tag_for

BANDWIDTH_API = "https://messaging.bandwidth.com"


class BandwidthSender:
    """Thread-safe: the HTTP session is shared, nothing else changes after construction."""

    def __init__(self, config: Mapping[str, Any], pool_size: int = 32) -> None:
        self._http = HttpClient(
            "bandwidth",
            base_url=config.get("BANDWIDTH_API_BASE_URL") or BANDWIDTH_API,
            auth=(config["BANDWIDTH_USERNAME"], config["BANDWIDTH_PASSWORD"]),
            read_timeout=read_timeout(config),
            pool_size=pool_size,
        )
        self._messages = f"/api/v2/users/{config['BANDWIDTH_ACCOUNT_ID']}/messages"
        self._application = config["BANDWIDTH_APPLICATION_ID"]
        self._from = config["BANDWIDTH_FROM"]

    def send(self, request: OutboundRequest) -> SendResult:
        message = {
            "applicationId": self._application,
            "to": [request.to],
            "from": self._from,
            "text": request.body,
            # The callbacks go to the application's URL; the tag they echo finds our message.
            "tag": tag_for(request.message_id, request.attempt),
        }
        response = self._http.request("POST", self._messages, json=message)
        payload = response_json(response)
        if response.status_code >= 300:
            # Refusals name a type, not a code: an opted-out recipient is accepted (202) and
            # reported by a message-failed callback with 4775.
            reason = str(payload.get("description") or response.reason)
            raise http_status_error("bandwidth", response, None, reason, Verdict.NONE)
        found = payload.get("id")
        return SendResult(provider_message_id=str(found) if found else None)

    def lookup(self, request: OutboundRequest) -> LookupResult | None:
        # Messaging v2 keeps no record to fetch by our reference: the callback or the
        # reconciler's timeout settles a send whose answer was lost.
        return None
