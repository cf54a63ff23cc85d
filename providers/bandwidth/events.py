"""Bandwidth's callbacks: a JSON array of events, each an inbound message or a receipt.

Every send carries our reference in its ``tag`` (``message_id=<id>&attempt=<n>``), which each of
its events echoes, so a receipt finds its message before the send's answer is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from adapter.errors import InvalidRequest
from adapter.inputs import without_nul
from adapter.models import MessageStatus
from adapter.provider import DeliveryReceipt, InboundMessage
from adapter.webhooks import (
    WebhookEvent,
    callback_reference,
    inbound_text,
    provider_message_id,
    provider_receipt,
)

from .errors import verdict_for

_STATUS = {
    "message-sending": MessageStatus.SENT,
    "message-delivered": MessageStatus.DELIVERED,
    "message-failed": MessageStatus.FAILED,
}
# The messageStatus of a message in the List Messages answer, by what it means for the adapter.
_LISTED_STATUS = {
    "received": MessageStatus.SENT,
    "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "accepted": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "failed": MessageStatus.FAILED,
    "undelivered": MessageStatus.UNDELIVERED,
}
# A callback batches events; a larger one is not Bandwidth's.
MAX_EVENTS = 100


def parse_callback(body: Any, channel: str) -> list[WebhookEvent]:
    if not isinstance(body, list):
        raise InvalidRequest("a Bandwidth callback is a JSON array of events")
    if len(body) > MAX_EVENTS:
        raise InvalidRequest(f"at most {MAX_EVENTS} events in one callback")
    events: list[WebhookEvent] = []
    for index, event in enumerate(body):
        if not isinstance(event, dict) or not isinstance(event.get("message"), dict):
            raise InvalidRequest(f"event {index} has no 'message'")
        kind = str(event.get("type") or "")
        if kind == "message-received":
            events.append(_inbound(event["message"], channel))
        elif kind in _STATUS:
            events.append(_receipt(event, _STATUS[kind], channel))
        # Other types (read receipts of other channels, ...) say nothing the adapter keeps.
    return events


def _inbound(message: Mapping[str, Any], channel: str) -> InboundMessage:
    message_id = provider_message_id(message.get("id"), "message.id")
    if message_id is None:
        raise InvalidRequest("'message.id' is missing")
    sender = message.get("from")
    if not isinstance(sender, str) or not sender.strip():
        raise InvalidRequest("'message.from' is missing")
    media = message.get("media")
    owner = message.get("owner")
    return InboundMessage(
        channel=channel,
        sender=sender.strip(),
        recipient=without_nul(owner) if isinstance(owner, str) else None,
        text=inbound_text(message.get("text"), "message.text"),
        provider_message_id=message_id,
        media=[
            without_nul(url)
            for url in (media if isinstance(media, list) else [])
            if isinstance(url, str)
        ],
    )


def _receipt(event: Mapping[str, Any], status: MessageStatus, channel: str) -> DeliveryReceipt:
    message = event["message"]
    tag = message.get("tag")
    our_id, attempt = callback_reference(dict(parse_qsl(tag)) if isinstance(tag, str) else {})
    provider_id = provider_message_id(message.get("id"), "message.id")
    code = error_code(event.get("errorCode"))
    return provider_receipt(
        channel,
        status,
        our_id=our_id,
        attempt=attempt,
        provider_id=provider_id,
        code=code,
        verdict_for=verdict_for,
    )


def error_code(raw: object) -> str | None:
    """A callback's or a listed message's ``errorCode``: a number, 0 (or none) for no error."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw) if raw > 0 else None
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        return raw.strip()[:9] if raw.strip().lstrip("0") else None
    return None


def listed_status(raw: object) -> MessageStatus | None:
    """What a ``messageStatus`` of the List Messages answer means for the adapter."""
    return _LISTED_STATUS.get(str(raw or "").strip().lower())


def tag_for(message_id: int, attempt: int) -> str:
    return f"message_id={message_id}&attempt={attempt}"
