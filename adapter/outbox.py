"""The outbox: an outbound message is committed as ``queued`` before anything else happens to it,
and Redis only ever holds a wake-up call for its channel (see ``dispatch``). A message accepted
while Redis is down waits in the database until the worker's sweep finds it."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Integer, insert, literal, select
from sqlalchemy.orm import Session

from .db import UTCDateTime, utcnow
from .models import Contact, Direction, Message, MessageKind, MessageStatus
from .provider import Keyword
from .retry import retry_delay

log = logging.getLogger(__name__)

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
    keyword: Keyword | None = None,
    api_key_id: int | None = None,
    idempotency_key: str | None = None,
) -> Message:
    """Add a ``queued`` outbound message to ``session``; once the caller has committed,
    ``dispatch.wake(message.channel)`` gets it sent."""
    message = Message(
        **_outbound_values(
            contact.id,
            body,
            kind=kind,
            channel=channel,
            reply_to_id=reply_to_id,
            keyword=keyword,
            api_key_id=api_key_id,
            idempotency_key=idempotency_key,
        )
    )
    session.add(message)
    session.flush()
    return message


def insert_outbound(
    session: Session,
    contact_id: int,
    body: str,
    *,
    kind: MessageKind,
    channel: str | None = None,
    reply_to_id: int | None = None,
    keyword: Keyword | None = None,
) -> int:
    """:func:`create_outbound` in one INSERT on the table, for the inbound path's compliance
    replies: its id, without the ORM instance (whose flush costs more than the statement)."""
    values = _outbound_values(
        contact_id, body, kind=kind, channel=channel, reply_to_id=reply_to_id, keyword=keyword
    )
    return session.execute(_INSERT, values).scalar_one()


# Built once, for insert_outbound.
_INSERT = insert(Message.__table__).returning(Message.__table__.c.id)


def _outbound_values(
    contact_id: int,
    body: str,
    *,
    kind: MessageKind,
    channel: str | None,
    reply_to_id: int | None,
    keyword: Keyword | None,
    api_key_id: int | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """The columns of a new ``queued`` outbound message, whichever way it is inserted."""
    now = utcnow()
    return {
        "contact_id": contact_id,
        "direction": Direction.OUTBOUND.value,
        "kind": kind.value,
        "channel": channel or current_app.extensions["adapter.channel"],
        "body": body,
        "status": MessageStatus.QUEUED.value,
        # Compliance replies (and the clarification of an opt-out request) are claimed ahead of
        # every other queued message on their channel.
        "priority": 0 if kind in (MessageKind.COMPLIANCE, MessageKind.CLARIFICATION) else 1,
        "keyword": keyword.value if keyword else None,
        "reply_to_id": reply_to_id,
        "api_key_id": api_key_id,
        "idempotency_key": idempotency_key,
        "attempts": 0,
        "next_attempt_at": now,
        "created_on": now,
        "modified_on": now,
    }


def create_outbound_to_group(
    session: Session,
    group_id: int,
    body: str,
    *,
    channel: str | None = None,
    api_key_id: int | None = None,
) -> list[tuple[int, str]]:
    """Add one ``queued`` API message for every active member of a group in one set-based
    INSERT ... SELECT (a 100,000-member group is one statement, not 100,000); returns
    ``(message id, phone)`` in contact order. The gate checks each member again at send time."""
    from .models import ContactStatus, GroupMembership

    now = utcnow()
    members = (
        select(
            Contact.id,
            literal(Direction.OUTBOUND.value),
            literal(MessageKind.API.value),
            literal(channel or current_app.extensions["adapter.channel"]),
            literal(body),
            literal(MessageStatus.QUEUED.value),
            literal(1),
            literal(api_key_id, Integer),
            literal(0),
            literal(now, UTCDateTime),
            literal(now, UTCDateTime),
            literal(now, UTCDateTime),
        )
        .join(GroupMembership, GroupMembership.contact_id == Contact.id)
        .where(GroupMembership.group_id == group_id, Contact.status == ContactStatus.ACTIVE.value)
        .order_by(Contact.id)
    )
    columns = [
        "contact_id", "direction", "kind", "channel", "body", "status", "priority",
        "api_key_id", "attempts", "next_attempt_at", "created_on", "modified_on",
    ]  # fmt: skip
    created = session.execute(
        insert(Message).from_select(columns, members).returning(Message.id, Message.contact_id)
    ).all()
    phones = dict(
        session.execute(
            select(Contact.id, Contact.phone).where(
                Contact.id.in_(
                    select(GroupMembership.contact_id).where(GroupMembership.group_id == group_id)
                )
            )
        ).all()
    )
    return sorted((message_id, phones[contact_id]) for message_id, contact_id in created)


def schedule_retry(message: Message, retry_after: float | None = None) -> bool:
    """Put a message the provider certainly did not take back in the queue, with backoff; False
    when it has used all its attempts (SEND_MAX_ATTEMPTS)."""
    max_attempts = int(current_app.config.get("SEND_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
    if message.attempts >= max_attempts:
        return False
    delay = retry_delay(message.attempts, retry_after)
    message.status = MessageStatus.QUEUED.value
    message.next_attempt_at = utcnow() + timedelta(seconds=delay)
    log.info("message %s: trying again in %.1fs", message.id, delay)
    return True
