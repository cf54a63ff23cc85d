"""The send job and its gate (SPEC §2).

The gate reads the contact's status and phone validity in the same transaction that moves the
message from ``queued`` to ``sending``; only after that commits is the provider called. A message
found in any other state is left alone, so a job that runs twice (the sweeper re-queued it, RQ
retried it, a worker died) never hands a message to the provider a second time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, update

from . import ratelimit, rules
from .db import transaction, utcnow
from .models import (
    Contact,
    ContactStatus,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
)
from .outbox import schedule_retry
from .provider import OutboundRequest, Provider, SendError, SendResult, Verdict
from .queue import redis_connection, redis_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Claimed:
    request: OutboundRequest
    provider: Provider


def suppression_reason(contact: Contact, message: Message) -> str | None:
    """Why ``message`` must not go to ``contact`` now, or None when it may."""
    status = ContactStatus(contact.status)
    if status in (ContactStatus.BLOCKED, ContactStatus.ARCHIVED):
        return status.value
    # Opt-out / opt-in confirmations and HELP answers are the only messages a stopped contact
    # may get; they are created once per inbound message.
    if status == ContactStatus.STOPPED and message.kind != MessageKind.COMPLIANCE:
        return status.value
    if not contact.phone_valid:
        return "phone_invalid"
    return None


def send_message(message_id: int) -> None:
    """The RQ job: gate, send, record the provider's answer."""
    claimed = _gate(message_id)
    if claimed is None:
        return
    sender = claimed.provider.sender(current_app.config)
    try:
        result = sender.send(claimed.request)
    except SendError as exc:
        log.info("message %s: send failed with %s (%s)", message_id, exc.code, exc.verdict)
        _record_failure(message_id, exc)
        return
    _record_sent(message_id, result)


def _gate(message_id: int) -> _Claimed | None:
    now = utcnow()
    with transaction() as session:
        # The claim: a conditional update that only one job for a message can win, however
        # many run at once.
        claimed = session.execute(
            update(Message)
            .where(
                Message.id == message_id,
                Message.direction == Direction.OUTBOUND.value,
                Message.status == MessageStatus.QUEUED.value,
                or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
            )
            .values(modified_on=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            return None
        message = session.get_one(Message, message_id)
        # FOR SHARE waits for a STOP being committed right now by the rules module (which holds
        # the contact FOR UPDATE), so a STOP that commits first always wins.
        contact = rules.lock_contact_by_id(session, message.contact_id, read=True)
        reason = suppression_reason(contact, message)
        if reason is not None:
            message.status = MessageStatus.SUPPRESSED.value
            message.reason = reason
            log.info("message %s suppressed: contact is %s", message_id, reason)
            return None
        provider = current_app.extensions["adapter.providers"].get(message.channel)
        if provider is None:
            message.status = MessageStatus.FAILED.value
            message.error_code = "unknown_channel"
            log.error("message %s: no provider named %r", message_id, message.channel)
            return None
        wait = ratelimit.acquire(
            redis_connection(),
            redis_key("ratelimit", message.channel),
            provider.sends_per_second(current_app.config),
        )
        if wait > 0:
            # The channel is at its limit: leave the message queued and let the sweeper bring it
            # back when the next window opens, without holding this worker.
            message.next_attempt_at = now + timedelta(seconds=wait)
            message.enqueued_at = None
            return None
        message.status = MessageStatus.SENDING.value
        message.attempts += 1
        return _Claimed(
            request=OutboundRequest(
                message_id=message.id,
                to=contact.phone,
                body=message.body,
                status_callback_url=_status_callback_url(message),
            ),
            provider=provider,
        )


def _status_callback_url(message: Message) -> str | None:
    """The receipt URL, carrying our own id so a receipt that beats the send's answer still
    finds its message. Providers can only reach us at PUBLIC_BASE_URL."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return None
    return f"{base}/{message.channel}/status?message_id={message.id}"


def _record_sent(message_id: int, result: SendResult) -> None:
    with transaction() as session:
        message = session.get_one(Message, message_id, with_for_update=True)
        if result.provider_message_id:
            message.provider_message_id = result.provider_message_id
        # A delivery receipt may have arrived before this answer; never move it backwards.
        if message.status == MessageStatus.SENDING.value:
            message.status = MessageStatus.SENT.value


def _record_failure(message_id: int, exc: SendError) -> None:
    with transaction() as session:
        message = session.get_one(Message, message_id, with_for_update=True)
        message.error_code = exc.code
        if exc.verdict == Verdict.TRANSIENT and schedule_retry(message, exc.retry_after):
            return
        message.status = MessageStatus.FAILED.value
        reason = f"{message.channel} refused a send with error {exc.code}"
        rules.apply_provider_verdict(session, message, exc.verdict, reason)
