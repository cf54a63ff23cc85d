"""One row per provider for the conformance suite: how the provider signs and shapes its
webhooks, and how its API answers a send. Payloads follow the examples in each provider's own
documentation (cited on each row); the suite in test_provider_conformance.py runs every row
through the same checks."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from nacl.signing import SigningKey
from support import ACCOUNT_SID, TWILIO, twilio_signature

from adapter.provider import Keyword, Verdict

BASE = "https://adapter.example.com"
OUR_NUMBER = "+14155550199"


@dataclass
class Webhook:
    """One request as the provider makes it; ``fields`` is what the provider signs, for the
    schemes that sign parsed fields rather than the raw body."""

    path: str
    body: bytes
    headers: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)


def _json_hook(path: str, payload: Any) -> Webhook:
    return Webhook(path, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def _callback_path(route: str, our_id: int | None, attempt: int | None) -> str:
    query = {}
    if our_id is not None:
        query["message_id"] = str(our_id)
    if attempt is not None:
        query["attempt"] = str(attempt)
    return f"{route}?{urlencode(query)}" if query else route


class TwilioRow:
    """Twilio: form posts signed with X-Twilio-Signature (HMAC-SHA1 of URL and fields)."""

    name = "twilio"
    config = TWILIO
    api_url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    # Twilio's signature has no timestamp: a replay is caught by the message id instead.
    signs_time = False
    # SPEC §1.3: 21610 unsubscribed; 21211 invalid 'To'; 30007 filtered says nothing of the person.
    send_verdicts = {
        Verdict.OPTED_OUT: "21610",
        Verdict.PHONE_INVALID: "21211",
        Verdict.NONE: "30007",
    }
    receipt_verdicts = {
        Verdict.OPTED_OUT: "21610",
        Verdict.PHONE_INVALID: "30006",
        Verdict.NONE: "30007",
    }
    transient_code = "20429"
    # https://www.twilio.com/docs/messaging/guides/webhook-request
    _markers = {Keyword.OPT_OUT: "STOP", Keyword.OPT_IN: "START", Keyword.HELP: "HELP"}
    _statuses = {"sent": "sent", "delivered": "delivered", "failed": "undelivered"}

    def provider_id(self, n: int) -> str:
        return f"SM{n:032d}"

    def inbound(self, sender: str, text: str, n: int, marker: Keyword | None = None) -> Webhook:
        form = {
            "ToCountry": "US",
            "SmsMessageSid": self.provider_id(n),
            "NumMedia": "0",
            "SmsSid": self.provider_id(n),
            "SmsStatus": "received",
            "Body": text,
            "To": OUR_NUMBER,
            "NumSegments": "1",
            "MessageSid": self.provider_id(n),
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        if marker is not None:
            form["OptOutType"] = self._markers[marker]
        return self._form("/twilio/inbound", form)

    def receipt(
        self, our_id: int | None, attempt: int | None, provider_id: str, status: str, code=None
    ) -> Webhook:
        form = {
            "MessageSid": provider_id,
            "SmsSid": provider_id,
            "MessageStatus": self._statuses[status],
            "AccountSid": ACCOUNT_SID,
            "From": OUR_NUMBER,
            "ApiVersion": "2010-04-01",
        }
        if code:
            form["ErrorCode"] = code
        return self._form(_callback_path("/twilio/status", our_id, attempt), form)

    def _form(self, path: str, form: dict[str, str]) -> Webhook:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return Webhook(path, urlencode(form).encode(), headers, form)

    def sign(self, hook: Webhook, *, wrong: bool = False, at: float | None = None) -> Webhook:
        token = "another-token" if wrong else TWILIO["TWILIO_AUTH_TOKEN"]
        signature = twilio_signature(BASE + hook.path, hook.fields, token)
        return Webhook(hook.path, hook.body, {**hook.headers, "X-Twilio-Signature": signature})

    def accepted(self, provider_id: str) -> tuple[int, dict]:
        return 201, {"sid": provider_id, "status": "queued", "error_code": None}

    def refused(self, code: str) -> tuple[int, dict]:
        status = 429 if code == "20429" else 400
        return status, {"code": int(code), "message": f"error {code}", "status": status}

    def callback_url(self, body: bytes | str) -> str | None:
        text = body.decode() if isinstance(body, bytes) else body
        return parse_qs(text).get("StatusCallback", [None])[0]


_TELNYX_KEY = SigningKey.generate()
_TELNYX_OTHER_KEY = SigningKey.generate()


class TelnyxRow:
    """Telnyx: JSON events signed with Ed25519 over ``timestamp|body``, five minutes' tolerance."""

    name = "telnyx"
    config = {
        "TELNYX_API_KEY": "KEY0123456789",
        "TELNYX_PUBLIC_KEY": base64.b64encode(bytes(_TELNYX_KEY.verify_key)).decode(),
        "TELNYX_FROM": OUR_NUMBER,
        "TELNYX_MESSAGING_PROFILE_ID": "0f512bda-ae1e-4597-8e11-e5f5686b97d3",
        "PUBLIC_BASE_URL": BASE,
        "TELNYX_SENDS_PER_SECOND": "1000",
    }
    api_url = "https://api.telnyx.com/v2/messages"
    signs_time = True
    # https://developers.telnyx.com/docs/messaging/messages/advanced-opt-in-out (40300) and the
    # messaging error codes (40001 not routable, 40008 undeliverable content).
    send_verdicts = {
        Verdict.OPTED_OUT: "40300",
        Verdict.PHONE_INVALID: "40001",
        Verdict.NONE: "40008",
    }
    receipt_verdicts = {
        Verdict.OPTED_OUT: "40300",
        Verdict.PHONE_INVALID: "40001",
        Verdict.NONE: "40008",
    }
    transient_code = "10011"
    _markers = {Keyword.OPT_OUT: "STOP", Keyword.OPT_IN: "START", Keyword.HELP: "HELP"}
    _statuses = {"sent": "sent", "delivered": "delivered", "failed": "delivery_failed"}

    def provider_id(self, n: int) -> str:
        return f"40385f64-5717-4562-b3fc-{n:012d}"

    def _event(self, event_type: str, n: int, payload: dict) -> dict:
        # https://developers.telnyx.com/api-reference/callbacks/inbound-message
        return {
            "data": {
                "event_type": event_type,
                "id": f"bf6307bd-884d-4c1f-b6ea-{n:012d}",
                "occurred_at": "2026-01-23T18:10:02.574Z",
                "payload": payload,
                "record_type": "event",
            },
            "meta": {"attempt": 1, "delivered_to": f"{BASE}/telnyx/inbound"},
        }

    def inbound(self, sender: str, text: str, n: int, marker: Keyword | None = None) -> Webhook:
        payload: dict[str, Any] = {
            "record_type": "message",
            "direction": "inbound",
            "id": self.provider_id(n),
            "type": "SMS",
            "messaging_profile_id": self.config["TELNYX_MESSAGING_PROFILE_ID"],
            "from": {
                "phone_number": sender,
                "carrier": "T-MOBILE USA, INC.",
                "line_type": "Wireless",
            },
            "to": [{"phone_number": OUR_NUMBER, "status": "webhook_delivered"}],
            "text": text,
            "media": [],
            "encoding": "GSM-7",
            "parts": 1,
            "received_at": "2026-01-23T18:10:02.574Z",
        }
        if marker is not None:
            payload["autoresponse_type"] = self._markers[marker]
        return _json_hook("/telnyx/inbound", self._event("message.received", n, payload))

    def receipt(
        self, our_id: int | None, attempt: int | None, provider_id: str, status: str, code=None
    ) -> Webhook:
        # https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks (finalized)
        payload: dict[str, Any] = {
            "record_type": "message",
            "direction": "outbound",
            "id": provider_id,
            "type": "SMS",
            "from": {"phone_number": OUR_NUMBER, "carrier": "Telnyx", "line_type": "Wireless"},
            "to": [{"phone_number": "+14155550100", "status": self._statuses[status]}],
            "text": "Your order shipped",
            "errors": [{"code": code, "title": "error", "detail": "detail"}] if code else [],
        }
        event_type = "message.sent" if status == "sent" else "message.finalized"
        path = _callback_path("/telnyx/status", our_id, attempt)
        return _json_hook(path, self._event(event_type, int(time.time() * 1000) % 10**9, payload))

    def sign(self, hook: Webhook, *, wrong: bool = False, at: float | None = None) -> Webhook:
        timestamp = str(int(time.time() if at is None else at))
        key = _TELNYX_OTHER_KEY if wrong else _TELNYX_KEY
        signature = key.sign(timestamp.encode() + b"|" + hook.body).signature
        headers = {
            **hook.headers,
            "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
            "telnyx-timestamp": timestamp,
        }
        return Webhook(hook.path, hook.body, headers)

    def accepted(self, provider_id: str) -> tuple[int, dict]:
        return 200, {
            "data": {
                "record_type": "message",
                "direction": "outbound",
                "id": provider_id,
                "to": [{"phone_number": "+14155550100", "status": "queued"}],
            }
        }

    def refused(self, code: str) -> tuple[int, dict]:
        status = 429 if code == "10011" else 400
        return status, {"errors": [{"code": code, "title": f"error {code}", "detail": "detail"}]}

    def callback_url(self, body: bytes | str) -> str | None:
        return json.loads(body).get("webhook_url")


# Every provider in providers.all_providers() but the development one must have a row here.
ROWS = {row.name: row for row in (TwilioRow(), TelnyxRow())}
