"""The outbox: a message is committed as ``queued`` before it is put on Redis, and put there again
by the sweeper whenever it is due and has no live job (Redis was down, a job was lost, a retry's
backoff has passed). The send gate makes a second job for one message harmless."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .db import transaction, utcnow
from .models import Contact, Direction, Message, MessageKind, MessageStatus
from .queue import redis_problem, send_queue
from .retry import retry_delay

log = logging.getLogger(__name__)

# Messages the sweeper queues per pass; the next pass takes the rest.
SWEEP_BATCH = 500
# Sends tried before a message that keeps failing for passing reasons is given up as failed.
DEFAULT_MAX_ATTEMPTS = 5


def create_outbound(
    session: Session,
    contact: Contact,
    body: str,
    *,
    kind: MessageKind,
    channel: str | None = None,
    reply_to_id: int | None = None,
    api_key_id: int | None = None,
    idempotency_key: str | None = None,
) -> Message:
    """Add a ``queued`` outbound message to ``session``; queue it with :func:`enqueue` once the
    caller has committed."""
    now = utcnow()
    message = Message(
        contact_id=contact.id,
        direction=Direction.OUTBOUND.value,
        kind=kind.value,
        channel=channel or current_app.extensions["adapter.channel"],
        body=body,
        status=MessageStatus.QUEUED.value,
        reply_to_id=reply_to_id,
        api_key_id=api_key_id,
        idempotency_key=idempotency_key,
        attempts=0,
        next_attempt_at=now,
        # Claimed for the job the caller is about to queue; if that job never reaches Redis,
        # the sweeper takes the message back after REQUEUE_AFTER_SECONDS.
        enqueued_at=now,
        created_on=now,
        modified_on=now,
    )
    session.add(message)
    session.flush()
    return message


def enqueue(message_ids: Iterable[int]) -> bool:
    """Put send jobs for committed messages on Redis. Returns False when Redis is away: the
    messages are then released for the sweeper to queue as soon as Redis answers."""
    ids = list(message_ids)
    if not ids:
        return True
    from .sending import send_message

    try:
        queue = send_queue()
        with queue.connection.pipeline() as pipe:
            for message_id in ids:
                queue.enqueue(send_message, message_id, pipeline=pipe)
            pipe.execute()
    except RedisError as exc:
        log.warning("Redis unavailable (%s); %d message(s) left for the sweeper", exc, len(ids))
        _release(ids)
        return False
    return True


def _release(ids: list[int]) -> None:
    try:
        with transaction() as session:
            session.execute(
                update(Message)
                .where(Message.id.in_(ids), Message.status == MessageStatus.QUEUED.value)
                .values(enqueued_at=None)
            )
    except Exception:
        # The messages stay claimed; the sweeper takes them back after REQUEUE_AFTER_SECONDS.
        log.exception("could not release messages %s for the sweeper", ids)


def sweep() -> int:
    """Queue every ``queued`` message that is due and has no live job; returns how many.

    Claiming rows (``enqueued_at``) in the same statement that selects them, with SKIP LOCKED on
    PostgreSQL, keeps two workers' sweepers from queueing the same message twice.
    """
    if redis_problem() is not None:
        # Nothing can be queued; the messages stay in the database until Redis answers.
        return 0
    now = utcnow()
    stale = now - timedelta(seconds=current_app.config["REQUEUE_AFTER_SECONDS"])
    with transaction() as session:
        due = (
            select(Message.id)
            .where(
                Message.status == MessageStatus.QUEUED.value,
                Message.direction == Direction.OUTBOUND.value,
                or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
                or_(Message.enqueued_at.is_(None), Message.enqueued_at < stale),
            )
            .order_by(Message.next_attempt_at)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        )
        ids = list(session.scalars(due))
        if ids:
            session.execute(update(Message).where(Message.id.in_(ids)).values(enqueued_at=now))
    if ids and enqueue(ids):
        log.info("sweeper queued %d message(s)", len(ids))
        return len(ids)
    return 0


def schedule_retry(message: Message, retry_after: float | None = None) -> bool:
    """Put a message that failed for a passing reason back in the queue, with backoff; False
    when it has used all its attempts (SEND_MAX_ATTEMPTS)."""
    max_attempts = int(current_app.config.get("SEND_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
    if message.attempts >= max_attempts:
        return False
    delay = retry_delay(message.attempts, retry_after)
    message.status = MessageStatus.QUEUED.value
    message.next_attempt_at = utcnow() + timedelta(seconds=delay)
    # Not on Redis: the sweeper queues it once it is due.
    message.enqueued_at = None
    log.info("message %s: trying again in %.1fs", message.id, delay)
    return True
