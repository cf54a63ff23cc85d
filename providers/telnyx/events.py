"""Telnyx's JSON webhook events, parsed into the core's neutral inbound messages and receipts.

Every event type may arrive at the messaging profile's webhook URL, so one parser serves both
routes: ``message.received`` is an inbound message, ``message.sent`` and ``message.finalized``
are receipts, anything else is acknowledged and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapter.errors import InvalidRequest
from adapter.inputs import without_nul
from adapter.models import MessageStatus
from adapter.provider import DeliveryReceipt, InboundMessage, Keyword
from adapter.webhooks import WebhookEvent, inbound_text, provider_message_id, provider_receipt

from .errors import first_error, verdict_for

# The recipient's status in an outbound event, by what it means for the adapter.
_STATUS = {
    "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "delivery_unconfirmed": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "sending_failed": MessageStatus.FAILED,
    "delivery_failed": MessageStatus.UNDELIVERED,
}
# The final status of a message detail record (Detail Records search), by what it means for the
# adapter; a record not yet final has none, which reads as sent.
_RECORD_STATUS = {
    "received": MessageStatus.SENT,
    "dlr_unconfirmed": MessageStatus.SENT,
    "dlr_timeout": MessageStatus.SENT,
    "gw_timeout": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "gw_reject": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
}
# What Telnyx's own keyword handling (Advanced Opt-In/Out) did, named by its operation.
_AUTORESPONSE = {
    "stop": Keyword.OPT_OUT,
    "opt_out": Keyword.OPT_OUT,
    "start": Keyword.OPT_IN,
    "opt_in": Keyword.OPT_IN,
    "help": Keyword.HELP,
}


def parse_event(
    body: Any, channel: str, our_id: int | None, attempt: int | None
) -> list[WebhookEvent]:
    """The events of one Telnyx webhook body (``{"data": {...}, "meta": {...}}``)."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise InvalidRequest("'data' is missing")
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise InvalidRequest("'data.payload' is missing")
    event_type = str(data.get("event_type") or "")
    if event_type == "message.received":
        return [_inbound(payload, channel)]
    if event_type in ("message.sent", "message.finalized"):
        return [_receipt(payload, channel, our_id, attempt)]
    return []


def _inbound(payload: Mapping[str, Any], channel: str) -> InboundMessage:
    message_id = provider_message_id(payload.get("id"), "payload.id")
    if message_id is None:
        raise InvalidRequest("'payload.id' is missing")
    sender = payload.get("from")
    phone = sender.get("phone_number") if isinstance(sender, dict) else None
    if not isinstance(phone, str) or not phone.strip():
        raise InvalidRequest("'payload.from.phone_number' is missing")
    recipients = payload.get("to")
    recipient = None
    if isinstance(recipients, list) and recipients and isinstance(recipients[0], dict):
        recipient = recipients[0].get("phone_number")
    media = payload.get("media")
    urls = [
        without_nul(item["url"])
        for item in (media if isinstance(media, list) else [])
        if isinstance(item, dict) and isinstance(item.get("url"), str)
    ]
    marker = str(payload.get("autoresponse_type") or "").strip().lower()
    return InboundMessage(
        channel=channel,
        sender=phone.strip(),
        recipient=without_nul(recipient) if isinstance(recipient, str) else None,
        text=inbound_text(payload.get("text"), "payload.text"),
        provider_message_id=message_id,
        media=urls,
        provider_keyword=_AUTORESPONSE.get(marker),
    )


def _receipt(
    payload: Mapping[str, Any], channel: str, our_id: int | None, attempt: int | None
) -> DeliveryReceipt:
    recipients = payload.get("to")
    raw = ""
    if isinstance(recipients, list) and recipients and isinstance(recipients[0], dict):
        raw = str(recipients[0].get("status") or "")
    status = _STATUS.get(raw.strip().lower())
    if status is None:
        raise InvalidRequest(f"unknown recipient status {raw[:32]!r}")
    provider_id = provider_message_id(payload.get("id"), "payload.id")
    code, _title = first_error(payload.get("errors"))
    return provider_receipt(
        channel,
        status,
        our_id=our_id,
        attempt=attempt,
        provider_id=provider_id,
        code=code,
        verdict_for=verdict_for,
    )


def record_status(raw: object) -> MessageStatus | None:
    """What a message detail record's ``status`` means for the adapter."""
    return _RECORD_STATUS.get(str(raw or "").strip().lower())
