"""The worker's periodic sweep: wake every channel with due messages (those accepted while Redis
was down, retries whose backoff has passed, wake-ups lost with a killed worker), settle sends
whose outcome is unknown, and fail messages of a channel that no longer exists."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import func, select, update

from .app_events.record import record_message_statuses
from .db import transaction, utcnow
from .dispatch import wake, wake_later
from .models import Direction, Message, MessageStatus

log = logging.getLogger(__name__)

UNKNOWN_CHANNEL = "unknown_channel"


def sweep(settle: bool = True) -> int:
    """Wake the channels with messages due now (and schedule the rest); returns how many woke.
    With ``settle``, also settle stale ``sending`` messages (the worker's sweep)."""
    from .reconcile import reconcile

    now = utcnow()
    providers = current_app.extensions["adapter.providers"]
    with transaction() as session:
        rows = session.execute(
            select(Message.channel, func.min(Message.next_attempt_at))
            .where(
                Message.status == MessageStatus.QUEUED.value,
                Message.direction == Direction.OUTBOUND.value,
            )
            .group_by(Message.channel)
        ).all()
    woken = 0
    for channel, due_at in rows:
        if channel not in providers:
            fail_unknown_channel(channel)
        elif due_at is None or due_at <= now:
            woken += wake(channel)
        else:
            wake_later(channel, (due_at - now).total_seconds())
    if settle:
        reconcile()
    return woken


def fail_unknown_channel(channel: str) -> None:
    """Fail the queued messages of a channel no provider answers to (a provider was removed)."""
    with transaction() as session:
        failed = list(
            session.scalars(
                update(Message)
                .where(
                    Message.channel == channel,
                    Message.status == MessageStatus.QUEUED.value,
                    Message.direction == Direction.OUTBOUND.value,
                )
                .values(
                    status=MessageStatus.FAILED.value,
                    error_code=UNKNOWN_CHANNEL,
                    modified_on=utcnow(),
                )
                .returning(Message.id)
                .execution_options(synchronize_session=False)
            )
        )
        # The application learns of them like of any other failure.
        record_message_statuses(session, failed)
    if failed:
        log.error("%d message(s) failed: no provider named %r", len(failed), channel)


def due_count() -> int:
    """Queued outbound messages due now (what a burst worker still has to do)."""
    with transaction() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.status == MessageStatus.QUEUED.value,
                    Message.direction == Direction.OUTBOUND.value,
                    Message.next_attempt_at <= utcnow(),
                )
            )
            or 0
        )
