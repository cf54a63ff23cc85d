"""Sending through Twilio's Messages API, and looking a send up when its answer was lost."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from adapter.config import SEND_CONCURRENCY
from adapter.http import HttpClient, http_status_error, read_timeout, response_json
from adapter.provider import LookupResult, OutboundRequest, SendError, SendResult, Verdict

from .errors import verdict_for
from .receipts import receipt_status

TWILIO_API = "https://api.twilio.com"
# A message is looked up among the newest sends to its number; one created more than this before
# its claim is an older message with the same text.
_CLOCK_SKEW = timedelta(seconds=60)

log = logging.getLogger(__name__)


class TwilioSender:
    """Thread-safe: the HTTP session is shared, nothing else changes after construction."""

    def __init__(self, config: Mapping[str, Any], pool_size: int = SEND_CONCURRENCY) -> None:
        account = config["TWILIO_ACCOUNT_SID"]
        self._http = HttpClient(
            "twilio",
            base_url=config.get("TWILIO_API_BASE_URL") or TWILIO_API,
            auth=(account, config["TWILIO_AUTH_TOKEN"]),
            read_timeout=read_timeout(config),
            pool_size=pool_size,
        )
        self._messages = f"/2010-04-01/Accounts/{account}/Messages.json"
        sender = config["TWILIO_FROM"]
        # A Messaging Service SID picks the sender from its pool; anything else is a number.
        self._from = (
            {"MessagingServiceSid": sender} if sender.startswith("MG") else {"From": sender}
        )

    def send(self, request: OutboundRequest) -> SendResult:
        form: dict[str, str] = {"To": request.to, "Body": request.body, **self._from}
        if request.status_callback_url:
            form["StatusCallback"] = request.status_callback_url
        response = self._http.request("POST", self._messages, data=form)
        if response.status_code >= 300:
            raise _refusal(response)
        sid = response_json(response).get("sid")
        if not sid:
            # Twilio took it (2xx) but we cannot tell which message it made: a receipt or the
            # reconciler's lookup fills the sid in.
            log.warning(
                "message %s: Twilio answered %s without a sid",
                request.message_id,
                response.status_code,
            )
        return SendResult(provider_message_id=sid or None)

    def lookup(self, request: OutboundRequest) -> LookupResult | None:
        response = self._http.request(
            "GET", self._messages, params={"To": request.to, "PageSize": "50"}
        )
        if response.status_code >= 300:
            raise _refusal(response)
        since = (request.claimed_at - _CLOCK_SKEW) if request.claimed_at else None
        for found in response_json(response).get("messages") or []:
            if found.get("body") != request.body or not found.get("sid"):
                continue
            if since is not None and not _created_since(found.get("date_created"), since):
                continue
            code = found.get("error_code")
            return LookupResult(
                provider_message_id=found["sid"],
                status=receipt_status(str(found.get("status") or "")) or "sent",
                error_code=str(code) if code else None,
                verdict=verdict_for(_int(code)) if code else Verdict.NONE,
            )
        return None


def _refusal(response: requests.Response) -> SendError:
    payload = response_json(response)
    code = _int(payload.get("code"))
    return http_status_error(
        "twilio",
        response,
        str(code) if code is not None else None,
        str(payload.get("message") or response.reason),
        verdict_for(code, response.status_code),
    )


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _created_since(value: object, since) -> bool:  # type: ignore[no-untyped-def]
    try:
        return parsedate_to_datetime(str(value)) >= since
    except (TypeError, ValueError):
        # No usable date: the body and number matched, which is the best Twilio lets us know.
        return True
