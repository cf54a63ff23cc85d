"""The gate (SPEC §2): claim a batch of a channel's due messages and decide, in the same
transaction, which may go to the provider.

The claim moves messages ``queued → sending`` and reads their contacts ``FOR SHARE``: a STOP being
committed by the rules module (which holds the contact ``FOR UPDATE``) is waited for and wins; a
STOP committed after this transaction finds the message already handed over. Only after the
commit does the send pool call the provider, so a message is handed over at most once however
many dispatchers race for it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .app_events.record import record_message_statuses
from .db import utcnow
from .models import Contact, ContactStatus, Direction, Message, MessageKind, MessageStatus
from .provider import Keyword, OutboundRequest

log = logging.getLogger(__name__)

# The reason an opt-out confirmation is dropped when a START came after the STOP it answers.
SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Claimed:
    request: OutboundRequest
    channel: str


@dataclass(frozen=True)
class Batch:
    claimed: list[Claimed]
    # Messages the gate turned away, by reason, for whoever reports statuses onwards.
    suppressed: dict[str, list[int]]

    @property
    def taken(self) -> int:
        """Messages this claim took off the queue, sent or not."""
        return len(self.claimed) + sum(len(ids) for ids in self.suppressed.values())


def suppression_reason(
    status: ContactStatus, phone_valid: bool, kind: str, keyword: str | None
) -> str | None:
    """Why a message must not go to a contact now, or None when it may."""
    if status in (ContactStatus.BLOCKED, ContactStatus.ARCHIVED):
        return status.value
    if kind == MessageKind.COMPLIANCE:
        # A confirmation must still be true when it arrives: STOP then START in quick succession
        # must not end with "you are unsubscribed" as the last word, nor the reverse.
        if keyword == Keyword.OPT_IN and status != ContactStatus.ACTIVE:
            return status.value
        if keyword == Keyword.OPT_OUT and status != ContactStatus.STOPPED:
            return SUPERSEDED
    elif status == ContactStatus.STOPPED:
        # Compliance replies are the only messages a stopped contact may get.
        return status.value
    if not phone_valid:
        return "phone_invalid"
    return None


def claim(session: Session, channel: str, limit: int) -> Batch:
    """Claim up to ``limit`` due messages of ``channel`` (compliance replies first)."""
    now = utcnow()
    due = (
        select(Message.id)
        .where(
            Message.status == MessageStatus.QUEUED.value,
            Message.direction == Direction.OUTBOUND.value,
            Message.channel == channel,
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
        )
        .order_by(Message.priority, Message.next_attempt_at, Message.id)
        .limit(limit)
        # Concurrent dispatchers of one channel take disjoint batches instead of queueing up.
        .with_for_update(skip_locked=True)
    )
    candidates = list(session.scalars(due))
    if not candidates:
        return Batch([], {})
    # The compare-and-set is what makes the claim exclusive on SQLite, which has no row locks.
    ids = list(
        session.scalars(
            update(Message)
            .where(Message.id.in_(candidates), Message.status == MessageStatus.QUEUED.value)
            .values(
                status=MessageStatus.SENDING.value,
                attempts=Message.attempts + 1,
                sending_since=now,
                modified_on=now,
            )
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
    )
    rows = session.execute(
        select(
            Message.id,
            Message.body,
            Message.kind,
            Message.keyword,
            Message.attempts,
            Contact.phone,
            Contact.status,
            Contact.phone_valid,
        )
        .join(Contact, Contact.id == Message.contact_id)
        .where(Message.id.in_(ids))
        .order_by(Contact.id, Message.id)
        .with_for_update(of=Contact, read=True)
    ).all()
    claimed: list[Claimed] = []
    suppressed: dict[str, list[int]] = defaultdict(list)
    base = current_app.config.get("PUBLIC_BASE_URL")
    for row in rows:
        reason = suppression_reason(
            ContactStatus(row.status), row.phone_valid, row.kind, row.keyword
        )
        if reason is not None:
            suppressed[reason].append(row.id)
            continue
        claimed.append(
            Claimed(
                request=OutboundRequest(
                    message_id=row.id,
                    to=row.phone,
                    body=row.body,
                    status_callback_url=_status_callback_url(base, channel, row.id, row.attempts),
                    attempt=row.attempts,
                    claimed_at=now,
                ),
                channel=channel,
            )
        )
    for reason, message_ids in suppressed.items():
        session.execute(
            update(Message)
            .where(Message.id.in_(message_ids))
            .values(
                status=MessageStatus.SUPPRESSED.value,
                reason=reason,
                # Not sent, so not an attempt.
                attempts=Message.attempts - 1,
            )
            .execution_options(synchronize_session=False)
        )
        log.info("%d message(s) suppressed on %s: %s", len(message_ids), channel, reason)
        record_message_statuses(session, message_ids)
    return Batch(claimed, dict(suppressed))


def _status_callback_url(
    base: str | None, channel: str, message_id: int, attempt: int
) -> str | None:
    """The receipt URL, carrying our own id (a receipt that beats the send's answer still finds its
    message) and the attempt (a receipt for an earlier attempt is recognised as stale). Providers
    can only reach us at PUBLIC_BASE_URL."""
    if not base:
        return None
    return f"{base}/{channel}/status?message_id={message_id}&attempt={attempt}"
