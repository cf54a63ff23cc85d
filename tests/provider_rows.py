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
    has_marker = True
    signs_body = True
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
    has_marker = True
    signs_body = True
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


class PlivoRow:
    """Plivo: form posts signed with X-Plivo-Signature-V3 (HMAC-SHA256 of the URL, the sorted
    fields and a nonce). Its refusals of a send carry no code: opt-outs come in the receipt."""

    name = "plivo"
    config = {
        "PLIVO_AUTH_ID": "MAXXXXXXXXXXXXXXXXXX",
        "PLIVO_AUTH_TOKEN": "plivo-test-token",
        "PLIVO_FROM": "14155550199",
        "PUBLIC_BASE_URL": BASE,
        "PLIVO_SENDS_PER_SECOND": "1000",
    }
    api_url = "https://api.plivo.com/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/"
    signs_time = False
    has_marker = True
    signs_body = True
    send_verdicts = {Verdict.NONE: "400"}
    # https://www.plivo.com/docs/messaging/troubleshooting/error-codes
    receipt_verdicts = {Verdict.OPTED_OUT: "200", Verdict.PHONE_INVALID: "50", Verdict.NONE: "30"}
    transient_code = "500"
    _markers = {Keyword.OPT_OUT: "optout", Keyword.OPT_IN: "optin", Keyword.HELP: "help"}
    _statuses = {"sent": "sent", "delivered": "delivered", "failed": "undelivered"}

    def provider_id(self, n: int) -> str:
        return f"db3ce55a-7f1d-11e1-8ea7-{n:012d}"

    def inbound(self, sender: str, text: str, n: int, marker: Keyword | None = None) -> Webhook:
        # https://www.plivo.com/docs/messaging/api/message/receive-a-message (message_url)
        form = {
            "From": sender.lstrip("+"),
            "To": "14155550199",
            "Type": "sms",
            "Text": text,
            "MessageUUID": self.provider_id(n),
            "TotalRate": "0",
            "TotalAmount": "0",
            "Units": "1",
        }
        if marker is not None:
            form["MessageIntent"] = self._markers[marker]
        return self._form("/plivo/inbound", form)

    def receipt(
        self, our_id: int | None, attempt: int | None, provider_id: str, status: str, code=None
    ) -> Webhook:
        form = {
            "MessageUUID": provider_id,
            "Status": self._statuses[status],
            "From": "14155550199",
            "To": "14155550100",
            "TotalRate": "0.0050",
            "TotalAmount": "0.0050",
            "Units": "1",
            "MCC": "310",
            "MNC": "260",
            "ErrorCode": code or "",
            "PartInfo": "1 of 1",
        }
        return self._form(_callback_path("/plivo/status", our_id, attempt), form)

    def _form(self, path: str, form: dict[str, str]) -> Webhook:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return Webhook(path, urlencode(form).encode(), headers, form)

    def sign(self, hook: Webhook, *, wrong: bool = False, at: float | None = None) -> Webhook:
        from plivo.utils.signature_v3 import construct_post_url, get_signature_v3

        token = "another-token" if wrong else self.config["PLIVO_AUTH_TOKEN"]
        nonce = "05429567804466091622"
        url = construct_post_url(BASE + hook.path, dict(hook.fields)).decode()
        signature = get_signature_v3(token.encode(), url, nonce).decode()
        headers = {
            **hook.headers,
            "X-Plivo-Signature-V3": signature,
            "X-Plivo-Signature-V3-Nonce": nonce,
        }
        return Webhook(hook.path, hook.body, headers, hook.fields)

    def accepted(self, provider_id: str) -> tuple[int, dict]:
        return 202, {
            "api_id": "db342550-7f1d-11e1-8ea7-1231380bc196",
            "message": "message(s) queued",
            "message_uuid": [provider_id],
        }

    def refused(self, code: str) -> tuple[int, dict]:
        return int(code), {"api_id": "x", "error": "dst parameter not found"}

    def callback_url(self, body: bytes | str) -> str | None:
        return json.loads(body).get("url")


class BandwidthRow:
    """Bandwidth: JSON arrays of events under HTTP Basic; our reference rides in the ``tag``.
    Its refusals of a send carry no code: opt-outs come in a message-failed callback."""

    name = "bandwidth"
    config = {
        "BANDWIDTH_ACCOUNT_ID": "9900000",
        "BANDWIDTH_USERNAME": "api-user",
        "BANDWIDTH_PASSWORD": "api-password",
        "BANDWIDTH_APPLICATION_ID": "93de2206-9669-4e07-948d-329f4b722ee2",
        "BANDWIDTH_FROM": OUR_NUMBER,
        "BANDWIDTH_CALLBACK_USERNAME": "callback-user",
        "BANDWIDTH_CALLBACK_PASSWORD": "callback-password",
        "PUBLIC_BASE_URL": BASE,
        "BANDWIDTH_SENDS_PER_SECOND": "1000",
    }
    api_url = "https://messaging.bandwidth.com/api/v2/users/9900000/messages"
    signs_time = False
    has_marker = False
    # HTTP Basic authenticates the caller, not the body.
    signs_body = False
    send_verdicts = {Verdict.NONE: "400"}
    # https://dev.bandwidth.com/docs/messaging/errors/ (4775 opted out, 4720 invalid, 4470 spam)
    receipt_verdicts = {
        Verdict.OPTED_OUT: "4775",
        Verdict.PHONE_INVALID: "4720",
        Verdict.NONE: "4470",
    }
    transient_code = "429"
    _statuses = {
        "sent": "message-sending",
        "delivered": "message-delivered",
        "failed": "message-failed",
    }

    def provider_id(self, n: int) -> str:
        return f"1589228074636{n:07d}"

    def inbound(self, sender: str, text: str, n: int, marker: Keyword | None = None) -> Webhook:
        if marker is not None:
            # Bandwidth's callbacks carry no keyword flag: its opt-outs come as 4775 only.
            raise NotImplementedError
        # https://dev.bandwidth.com/docs/messaging/webhooks (message-received)
        event = {
            "type": "message-received",
            "time": "2026-05-11T20:14:34.579Z",
            "description": "Incoming message received",
            "to": OUR_NUMBER,
            "message": {
                "id": self.provider_id(n),
                "owner": OUR_NUMBER,
                "applicationId": self.config["BANDWIDTH_APPLICATION_ID"],
                "time": "2026-05-11T20:14:34.579Z",
                "segmentCount": 1,
                "direction": "in",
                "to": [OUR_NUMBER],
                "from": sender,
                "text": text,
            },
        }
        return self._hook("/bandwidth/inbound", [event])

    def receipt(
        self, our_id: int | None, attempt: int | None, provider_id: str, status: str, code=None
    ) -> Webhook:
        message: dict[str, Any] = {
            "id": provider_id,
            "owner": OUR_NUMBER,
            "applicationId": self.config["BANDWIDTH_APPLICATION_ID"],
            "time": "2026-05-11T20:14:34.579Z",
            "segmentCount": 1,
            "direction": "out",
            "to": ["+14155550100"],
            "from": OUR_NUMBER,
            "text": "",
        }
        if our_id is not None:
            message["tag"] = f"message_id={our_id}&attempt={attempt or 1}"
        event: dict[str, Any] = {
            "type": self._statuses[status],
            "time": "2026-05-11T20:14:35.579Z",
            "description": "ok" if code is None else "error",
            "to": "+14155550100",
            "message": message,
        }
        if code is not None:
            event["errorCode"] = int(code)
        return self._hook("/bandwidth/status", [event])

    def _hook(self, path: str, events: list) -> Webhook:
        return _json_hook(path, events)

    def sign(self, hook: Webhook, *, wrong: bool = False, at: float | None = None) -> Webhook:
        password = "guess" if wrong else self.config["BANDWIDTH_CALLBACK_PASSWORD"]
        pair = f"{self.config['BANDWIDTH_CALLBACK_USERNAME']}:{password}".encode()
        auth = "Basic " + base64.b64encode(pair).decode()
        return Webhook(hook.path, hook.body, {**hook.headers, "Authorization": auth})

    def accepted(self, provider_id: str) -> tuple[int, dict]:
        return 202, {
            "id": provider_id,
            "owner": OUR_NUMBER,
            "applicationId": self.config["BANDWIDTH_APPLICATION_ID"],
            "time": "2026-05-11T20:14:34.579Z",
            "segmentCount": 1,
            "direction": "out",
            "to": ["+14155550100"],
            "from": OUR_NUMBER,
            "text": "hi",
        }

    def refused(self, code: str) -> tuple[int, dict]:
        return int(code), {
            "type": "request-validation",
            "description": "Your request could not be accepted",
        }

    def callback_url(self, body: bytes | str) -> str | None:
        # Callbacks go to the application's URL; the tag carries our reference.
        tag = json.loads(body).get("tag")
        return f"{BASE}/bandwidth/status?{tag}" if tag else None


class VonageRow:
    """Vonage Messages API: JSON webhooks with an HS256 JWT (signature secret) whose
    ``payload_hash`` is the body's SHA-256. Opt-outs (Opt-out Assist) come in the status webhook."""

    name = "vonage"
    config = {
        "VONAGE_API_KEY": "abcd1234",
        "VONAGE_API_SECRET": "api-secret",
        "VONAGE_SIGNATURE_SECRET": "signature-secret-of-32-bytes-long!",
        "VONAGE_FROM": "14155550199",
        "PUBLIC_BASE_URL": BASE,
        "VONAGE_SENDS_PER_SECOND": "1000",
    }
    api_url = "https://api.nexmo.com/v1/messages"
    signs_time = True
    has_marker = False
    signs_body = True
    send_verdicts = {Verdict.NONE: "1150"}
    # SPEC §1.3: 9 opted out (Opt-out Assist), 7 barred, 6 anti-spam rejection.
    receipt_verdicts = {Verdict.OPTED_OUT: "9", Verdict.PHONE_INVALID: "7", Verdict.NONE: "6"}
    transient_code = "429"
    _statuses = {"sent": "submitted", "delivered": "delivered", "failed": "rejected"}

    def provider_id(self, n: int) -> str:
        return f"aaaaaaaa-bbbb-cccc-dddd-{n:012d}"

    def inbound(self, sender: str, text: str, n: int, marker: Keyword | None = None) -> Webhook:
        if marker is not None:
            raise NotImplementedError
        # https://developer.vonage.com/en/api/messages (inbound message webhook, SMS)
        payload = {
            "channel": "sms",
            "message_uuid": self.provider_id(n),
            "to": "14155550199",
            "from": sender.lstrip("+"),
            "timestamp": "2026-01-01T14:00:00.000Z",
            "text": text,
            "sms": {
                "num_messages": "1",
                "keyword": text.split()[0].upper() if text.split() else "",
            },
            "usage": {"price": "0.0057", "currency": "EUR"},
            "message_type": "text",
        }
        return _json_hook("/vonage/inbound", payload)

    def receipt(
        self, our_id: int | None, attempt: int | None, provider_id: str, status: str, code=None
    ) -> Webhook:
        payload: dict[str, Any] = {
            "message_uuid": provider_id,
            "to": "14155550100",
            "from": "14155550199",
            "timestamp": "2026-01-01T14:00:00.000Z",
            "status": self._statuses[status],
            "usage": {"currency": "EUR", "price": "0.0333"},
            "channel": "sms",
            "destination": {"network_code": "12345"},
            "sms": {"count_total": "1"},
        }
        if code is not None:
            payload["error"] = {
                "type": f"https://developer.vonage.com/api-errors/messages#{code}",
                "title": int(code),
                "detail": "The message was rejected",
            }
        return _json_hook(_callback_path("/vonage/status", our_id, attempt), payload)

    def sign(self, hook: Webhook, *, wrong: bool = False, at: float | None = None) -> Webhook:
        import hashlib
        import uuid

        import jwt

        secret = (
            "another-secret-of-32-bytes-long!!!"
            if wrong
            else self.config["VONAGE_SIGNATURE_SECRET"]
        )
        claims = {
            "iat": int(time.time() if at is None else at),
            "jti": str(uuid.uuid4()),
            "iss": "Vonage",
            "payload_hash": hashlib.sha256(hook.body).hexdigest(),
            "api_key": self.config["VONAGE_API_KEY"],
            "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        }
        token = jwt.encode(claims, secret, algorithm="HS256")
        return Webhook(hook.path, hook.body, {**hook.headers, "Authorization": f"Bearer {token}"})

    def accepted(self, provider_id: str) -> tuple[int, dict]:
        return 202, {"message_uuid": provider_id}

    def refused(self, code: str) -> tuple[int, dict]:
        if code == "429":
            return 429, {
                "type": "https://developer.vonage.com/api-errors#throttled",
                "title": "Rate Limit Hit",
            }
        return 422, {
            "type": f"https://developer.vonage.com/api-errors/messages#{code}",
            "title": "Invalid params",
            "detail": "The value of one or more parameters is invalid.",
        }

    def callback_url(self, body: bytes | str) -> str | None:
        return json.loads(body).get("webhook_url")


# Every provider in providers.all_providers() but the development one must have a row here.
ROWS = {
    row.name: row for row in (TwilioRow(), TelnyxRow(), PlivoRow(), BandwidthRow(), VonageRow())
}
