"""Plivo's form posts, parsed into the core's neutral inbound messages and receipts."""

from __future__ import annotations

from collections.abc import Mapping

from adapter.errors import InvalidRequest
from adapter.inputs import without_nul
from adapter.models import MessageStatus
from adapter.provider import DeliveryReceipt, InboundMessage, Keyword
from adapter.webhooks import inbound_text, provider_message_id, provider_receipt

from .errors import verdict_for

# The Status of a status callback, by what it means for the adapter.
_STATUS = {
    "queued": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "rejected": MessageStatus.FAILED,
}
# Plivo's own keyword handling reports what it made of an inbound message in MessageIntent.
_INTENT = {
    "optout": Keyword.OPT_OUT,
    "opt_out": Keyword.OPT_OUT,
    "optin": Keyword.OPT_IN,
    "opt_in": Keyword.OPT_IN,
    "help": Keyword.HELP,
}


def message_status(raw: object) -> MessageStatus | None:
    """What a Plivo message state (a status callback's ``Status`` or a message detail record's
    ``message_state``) means for the adapter."""
    return _STATUS.get(str(raw or "").strip().lower())


def e164(number: str) -> str:
    """Plivo writes numbers in international form without the ``+``."""
    number = number.strip()
    return f"+{number}" if number.isascii() and number.isdigit() else number


def parse_inbound(form: Mapping[str, str], channel: str) -> InboundMessage:
    message_id = provider_message_id(form.get("MessageUUID"), "MessageUUID")
    if message_id is None:
        raise InvalidRequest("MessageUUID is missing")
    sender = (form.get("From") or "").strip()
    if not sender:
        raise InvalidRequest("From is missing")
    media = [
        without_nul(url)
        for key, url in sorted(form.items())
        if key.startswith("Media") and key[5:].isdigit() and url.strip()
    ]
    intent = (form.get("MessageIntent") or "").strip().lower().replace("-", "")
    return InboundMessage(
        channel=channel,
        sender=e164(sender),
        recipient=without_nul(e164(form.get("To") or "")) or None,
        text=inbound_text(form.get("Text"), "Text"),
        provider_message_id=message_id,
        media=media,
        provider_keyword=_INTENT.get(intent),
    )


def parse_status(
    form: Mapping[str, str], channel: str, our_id: int | None, attempt: int | None
) -> DeliveryReceipt:
    raw = (form.get("Status") or "").strip().lower()
    status = message_status(raw)
    if status is None:
        raise InvalidRequest(f"unknown Status {raw[:32]!r}")
    provider_id = provider_message_id(form.get("MessageUUID"), "MessageUUID")
    code = _code(form.get("ErrorCode"))
    return provider_receipt(
        channel,
        status,
        our_id=our_id,
        attempt=attempt,
        provider_id=provider_id,
        code=code,
        verdict_for=verdict_for,
    )


def _code(value: str | None) -> str | None:
    code = (value or "").strip()
    if not code:
        return None
    if not code.isascii() or not code.isdigit() or len(code) > 9:
        raise InvalidRequest("ErrorCode must be a number")
    return code
