"""Delivery receipts: a provider's word on a message after it was handed over (SPEC §2)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from . import rules
from .app_events.record import record_message_statuses
from .db import transaction
from .models import Direction, Message, MessageStatus
from .provider import DeliveryReceipt

log = logging.getLogger(__name__)

# How far along a message is; a receipt never moves a message to a lower rank, so receipts that
# arrive out of order (delivered before sent) leave the latest news standing.
_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.UNDELIVERED: 3,
    MessageStatus.FAILED: 3,
}
RECEIPT_STATUSES = frozenset(
    {MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED}
)


def apply_receipt(receipt: DeliveryReceipt) -> bool:
    """Apply ``receipt`` to its message and contact; False when no message matches it.

    A receipt that does not move the message forward changes nothing, so a provider retrying
    the same callback cannot count an unreachable handset twice.
    """
    new = MessageStatus(receipt.status)
    if new not in RECEIPT_STATUSES:
        raise ValueError(f"not a receipt status: {receipt.status}")
    with transaction() as session:
        message_id = _find(session, receipt)
        if message_id is None:
            log.warning(
                "receipt for unknown message (id %s, %s id %s)",
                receipt.message_id,
                receipt.channel,
                receipt.provider_message_id,
            )
            return False
        message = session.get_one(Message, message_id, with_for_update=True)
        if _stale(message, receipt):
            log.info("message %s: receipt for an earlier attempt ignored", message.id)
            return True
        if receipt.provider_message_id and not message.provider_message_id:
            message.provider_message_id = receipt.provider_message_id
        current = MessageStatus(message.status)
        if current not in _RANK or _RANK[new] <= _RANK[current]:
            return True
        message.status = new.value
        if new in (MessageStatus.SENT, MessageStatus.DELIVERED):
            # No error of an earlier attempt stays on a message that went out.
            message.error_code = None
            if new == MessageStatus.DELIVERED:
                rules.record_delivered(rules.lock_contact_by_id(session, message.contact_id))
            record_message_statuses(session, [message.id])
            return True
        # The provider had the message and gave up on it: a failure after the hand-over is final
        # (sending again could text the person twice), whatever the error code.
        message.error_code = receipt.error_code
        reason = f"{receipt.channel} receipt: {new.value}, error {receipt.error_code}"
        rules.apply_provider_verdict(session, message, receipt.verdict, reason)
        record_message_statuses(session, [message.id])
        return True


def _stale(message: Message, receipt: DeliveryReceipt) -> bool:
    """A receipt about an earlier attempt of this message, which a later attempt replaced."""
    if receipt.provider_message_id and message.provider_message_id:
        return receipt.provider_message_id != message.provider_message_id
    return receipt.attempt is not None and receipt.attempt != message.attempts


def _find(session, receipt: DeliveryReceipt) -> int | None:  # type: ignore[no-untyped-def]
    base = select(Message.id).where(
        Message.channel == receipt.channel, Message.direction == Direction.OUTBOUND.value
    )
    if receipt.message_id is not None:
        found = session.scalar(base.where(Message.id == receipt.message_id))
        if found is not None:
            return found
    if receipt.provider_message_id:
        by_provider_id = Message.provider_message_id == receipt.provider_message_id
        return session.scalar(base.where(by_provider_id))
    return None
