"""Helpers shared by the test modules: Twilio settings and correctly signed webhooks."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask
from twilio.request_validator import RequestValidator

from adapter.apikeys import create_api_key

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "test-auth-token"
TWILIO = {
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_FROM": "+14155550199",
    "PUBLIC_BASE_URL": "https://adapter.example.com",
    # High enough that only the rate-limit test meets the limit.
    "TWILIO_SENDS_PER_SECOND": "1000",
}


def twilio_signature(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


def post_form(app: Flask, path: str, form: dict[str, str], signature: str | None = None):  # type: ignore[no-untyped-def]
    """POST ``form`` as Twilio does, with ``signature`` as its X-Twilio-Signature if given."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return app.test_client().post(path, data=urlencode(form), headers=headers)


def post_signed(app: Flask, path: str, form: dict[str, str], token: str = AUTH_TOKEN):  # type: ignore[no-untyped-def]
    """POST ``form`` to ``path`` signed as Twilio signs it: over PUBLIC_BASE_URL + path."""
    base = app.config.get("PUBLIC_BASE_URL") or "http://localhost"
    return post_form(app, path, form, twilio_signature(base + path, form, token))


def api_caller(app: Flask, key_name: str = "app"):  # type: ignore[no-untyped-def]
    """A new API key for ``app``, and a function making API requests with it."""
    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        key = create_api_key(session, key_name)
        session.commit()
        session.close()
    client = app.test_client()

    def call(method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
        return client.open(path, method=method, headers=headers, **kwargs)

    return call


_inbound_ids = iter(range(1, 10**9))


def text_in(app: Flask, phone: str, body: str = "hello", channel: str = "dev") -> None:
    """An inbound message from ``phone`` as any provider's webhook hands it to the core."""
    from adapter.inbound import handle_inbound
    from adapter.provider import InboundMessage

    with app.app_context():
        handle_inbound(
            InboundMessage(
                channel=channel,
                sender=phone,
                recipient=None,
                text=body,
                provider_message_id=f"IN{next(_inbound_ids):09d}",
            )
        )


def make_due(app: Flask, message_id: int) -> None:
    """Let a message's backoff pass now instead of waiting for it."""
    from sqlalchemy import update

    from adapter.db import utcnow
    from adapter.models import Message

    with app.app_context():
        session = app.extensions["adapter.sessionmaker"]()
        session.execute(
            update(Message).where(Message.id == message_id).values(next_attempt_at=utcnow())
        )
        session.commit()
        session.close()


def in_flight(app: Flask, phone: str, channel: str = "twilio") -> int:
    """An outbound message claimed for its first attempt and not yet answered (``sending``), as
    the worker leaves it while the provider has the request; its id."""
    from adapter import rules
    from adapter.db import transaction
    from adapter.models import MessageKind, MessageStatus
    from adapter.outbox import create_outbound

    with app.app_context(), transaction() as session:
        contact = rules.get_or_create_contact(session, phone)
        message = create_outbound(session, contact, "hi", kind=MessageKind.API, channel=channel)
        message.status, message.attempts = MessageStatus.SENDING.value, 1
        session.flush()
        return message.id
