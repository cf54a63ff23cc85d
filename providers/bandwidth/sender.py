"""Sending through Bandwidth's Messaging API v2, and finding a send whose answer was lost with
its List Messages search."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from adapter.config import SEND_CONCURRENCY
from adapter.http import HttpClient, http_status_error, read_timeout, response_json
from adapter.lookup import found_message, iso_utc, only_one, send_window
from adapter.provider import LookupResult, OutboundRequest, SendError, SendResult, Verdict

from .errors import verdict_for
from .events import error_code, listed_status, tag_for

BANDWIDTH_API = "https://messaging.bandwidth.com"


class BandwidthSender:
    """Thread-safe: the HTTP session is shared, nothing else changes after construction."""

    def __init__(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> None:
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
        if response.status_code >= 300:
            # Refusals name a type, not a code: an opted-out recipient is accepted (202) and
            # reported by a message-failed callback with 4775.
            raise _refusal(response)
        found = response_json(response).get("id")
        return SendResult(provider_message_id=str(found) if found else None)

    def lookup(self, request: OutboundRequest) -> LookupResult | None:
        # The search keeps neither the text nor the tag, so a message is found by its number and
        # the time Bandwidth received it, and only when it is the one message that fits.
        window = send_window(request, self._http.read_timeout)
        if window is None:
            return None
        params = {
            "sourceTn": self._from,
            "destinationTn": request.to,
            "messageDirection": "OUTBOUND",
            "fromDateTime": iso_utc(window.start),
            "toDateTime": iso_utc(window.end),
            "limit": "100",
        }
        response = self._http.request("GET", self._messages, params=params)
        if response.status_code >= 300:
            raise _refusal(response)
        listed = response_json(response).get("messages")
        candidates = [
            found
            for found in (listed if isinstance(listed, list) else [])
            if isinstance(found, dict)
            and found.get("messageId")
            and found.get("destinationTn") == request.to
            and window.holds(found.get("receiveTime"))
        ]
        found = only_one(candidates, request, "Bandwidth")
        if found is None:
            return None
        return found_message(
            str(found["messageId"]),
            listed_status(found.get("messageStatus")),
            error_code(found.get("errorCode")),
            verdict_for,
        )


def _refusal(response: requests.Response) -> SendError:
    reason = str(response_json(response).get("description") or response.reason)
    return http_status_error("bandwidth", response, None, reason, Verdict.NONE)
