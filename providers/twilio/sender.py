"""Sending through Twilio's Messages API with the twilio SDK."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from adapter.provider import OutboundRequest, SendError, SendResult, Verdict
from adapter.retry import parse_retry_after

from .errors import verdict_for

TWILIO_API = "https://api.twilio.com"
# Seconds to wait for Twilio's answer; a send with no answer is retried by the worker.
REQUEST_TIMEOUT = 15

# The SDK logs every request at INFO, message text included; keep message content out of logs.
_sdk_log = logging.getLogger("twilio.http_client.adapter")
_sdk_log.setLevel(logging.WARNING)


class _HttpClient(TwilioHttpClient):
    """The SDK's client, pointed at ``base_url`` (a local stub or an egress proxy) when given,
    and keeping the last response's headers for Retry-After."""

    def __init__(self, base_url: str | None) -> None:
        super().__init__(timeout=REQUEST_TIMEOUT, logger=_sdk_log)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.last_headers: Mapping[str, str] = {}

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.base_url and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        self.last_headers = {}
        response = super().request(method, url, *args, **kwargs)
        self.last_headers = response.headers or {}
        return response


class TwilioSender:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self._http = _HttpClient(config.get("TWILIO_API_BASE_URL") or None)
        self._client = Client(
            config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], http_client=self._http
        )
        sender = config["TWILIO_FROM"]
        # A Messaging Service SID picks the sender from its pool; anything else is a number.
        self._from = (
            {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
        )

    def send(self, request: OutboundRequest) -> SendResult:
        params: dict[str, Any] = {"to": request.to, "body": request.body, **self._from}
        if request.status_callback_url:
            params["status_callback"] = request.status_callback_url
        try:
            message = self._client.messages.create(**params)
        except TwilioRestException as exc:
            raise SendError(
                f"Twilio refused the message: {exc.msg}",
                code=str(exc.code or exc.status),
                verdict=verdict_for(exc.code, exc.status),
                retry_after=parse_retry_after(self._http.last_headers),
            ) from exc
        except requests.RequestException as exc:
            # No answer (timeout, connection refused): the worker retries with backoff.
            raise SendError(
                f"no answer from Twilio: {exc.__class__.__name__}",
                code="timeout" if isinstance(exc, requests.Timeout) else "connection",
                verdict=Verdict.TRANSIENT,
            ) from exc
        return SendResult(provider_message_id=message.sid)
