"""Vonage's Messages API webhooks, parsed into the core's neutral inbound messages and receipts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from adapter.errors import InvalidRequest
from adapter.inputs import without_nul
from adapter.models import MessageStatus
from adapter.provider import DeliveryReceipt, InboundMessage
from adapter.webhooks import callback_reference, inbound_text, provider_message_id, provider_receipt

from .errors import error_code, verdict_for

_STATUS = {
    "submitted": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "rejected": MessageStatus.FAILED,
    "undeliverable": MessageStatus.UNDELIVERED,
}


def message_status(raw: object) -> MessageStatus | None:
    """What a Messages API status (a webhook's or a report record's) means for the adapter."""
    return _STATUS.get(str(raw or "").strip().lower())


def e164(number: object) -> str:
    """Vonage writes numbers in international form without the ``+``."""
    text = str(number or "").strip()
    return f"+{text}" if text.isascii() and text.isdigit() else text


def parse_inbound(body: Any, channel: str) -> InboundMessage:
    if not isinstance(body, dict):
        raise InvalidRequest("the body is not a JSON object")
    if str(body.get("channel") or "sms") != "sms":
        # WhatsApp, Viber, ... share the application's webhook; answering them by SMS would be
        # wrong, so they are refused like Twilio's whatsapp: senders.
        raise InvalidRequest(f"channel {str(body.get('channel'))[:16]!r} is not SMS")
    message_id = provider_message_id(body.get("message_uuid"), "message_uuid")
    if message_id is None:
        raise InvalidRequest("message_uuid is missing")
    sender = e164(body.get("from"))
    if not sender:
        raise InvalidRequest("from is missing")
    return InboundMessage(
        channel=channel,
        sender=sender,
        recipient=without_nul(e164(body.get("to"))) or None,
        text=inbound_text(body.get("text"), "text"),
        provider_message_id=message_id,
    )


def parse_status(body: Any, query: Mapping[str, str], channel: str) -> DeliveryReceipt:
    if not isinstance(body, dict):
        raise InvalidRequest("the body is not a JSON object")
    raw = str(body.get("status") or "").strip().lower()
    status = message_status(raw)
    if status is None:
        raise InvalidRequest(f"unknown status {raw[:32]!r}")
    # Our reference is in the callback URL, and in client_ref too for a status sent to the
    # application's own status URL.
    ref = body.get("client_ref")
    our_id, attempt = callback_reference(query)
    if our_id is None and isinstance(ref, str):
        our_id, attempt = callback_reference(dict(parse_qsl(ref)))
    provider_id = provider_message_id(body.get("message_uuid"), "message_uuid")
    code = error_code(body.get("error"))
    return provider_receipt(
        channel,
        status,
        our_id=our_id,
        attempt=attempt,
        provider_id=provider_id,
        code=code,
        verdict_for=verdict_for,
    )
