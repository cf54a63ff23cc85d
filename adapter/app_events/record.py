"""Recording events to the application (SPEC §5 *Events to the application*).

Each function adds event rows to the caller's session and never commits: the event is stored by
the same transaction as the change it reports, so it is never lost and never sent for a change
that rolled back. Nothing is recorded while ``APP_WEBHOOK_URL`` is unset. The code that makes
the changes calls these in one line each; everything about events lives in this package.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import metrics
from ..db import utcnow
from ..models import Contact, ContactEvent, ContactStatus, EventKind, Message, MessageStatus
from .models import AppEvent, EventState

# Flag in ``Session.info``: events were added, so the deliverer is woken after the commit.
RECORDED = "adapter.app_events.recorded"

# Sources that are the person's own word on consent.
_PERSONAL = frozenset({"keyword", "provider", "intent"})
# The message statuses the application hears about.
REPORTED_STATUSES = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
        MessageStatus.FAILED,
        MessageStatus.UNDELIVERED,
        MessageStatus.SUPPRESSED,
    }
)


def enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("APP_WEBHOOK_URL"))


def new_webhook_id() -> str:
    return "msg_" + uuid.uuid4().hex


def record_contact_event(session: Session, contact: Contact, event: ContactEvent) -> None:
    """The application's view of one change in a contact's history (``rules`` calls this)."""
    metrics.count_status_change(session, event.old_value, event.new_value, event.source)
    if not enabled():
        return
    kind = contact_event_type(event.kind, event.old_value, event.new_value, event.source, event)
    if kind is None:
        return
    _add(session, kind, contact.id, _contact_data(contact.phone, contact.status, event))


def record_batch(session: Session, batch_id: str) -> None:
    """The events of one bulk status change, written set-based under ``batch_id``."""
    for old, new, source, contacts in session.execute(
        select(ContactEvent.old_value, ContactEvent.new_value, ContactEvent.source, func.count())
        .where(ContactEvent.batch_id == batch_id)
        .group_by(ContactEvent.old_value, ContactEvent.new_value, ContactEvent.source)
    ):
        metrics.count_status_change(session, old, new, source, contacts)
    if not enabled():
        return
    rows = session.execute(
        select(ContactEvent, Contact.phone)
        .join(Contact, Contact.id == ContactEvent.contact_id)
        .where(ContactEvent.batch_id == batch_id)
        .order_by(ContactEvent.contact_id)
    ).all()
    now = utcnow()
    values = []
    for event, phone in rows:
        kind = contact_event_type(event.kind, event.old_value, event.new_value, event.source, event)
        if kind is not None:
            data = _contact_data(phone, event.new_value, event)
            values.append(_row(kind, event.contact_id, data, now))
    if values:
        session.flush()
        session.execute(insert(AppEvent), values)
        session.info[RECORDED] = True


def record_message_received(session: Session, message: Message, contact: Contact) -> None:
    """An inbound message, forwarded unless its contact is blocked or archived (SPEC §1.1)."""
    forwarded = contact.status in (ContactStatus.ACTIVE, ContactStatus.STOPPED)
    metrics.count_inbound(session, message.channel, forwarded)
    if not enabled() or not forwarded:
        return
    data = {
        "id": message.id,
        "from": contact.phone,
        "body": message.body,
        "media": message.media or [],
        "channel": message.channel,
        "contact_status": contact.status,
        "received_on": message.created_on.isoformat(),
        # An opt-out request written as a sentence (SPEC §3), whatever the channel's policy did.
        "opt_out_intent": bool(message.opt_out_intent),
    }
    _add(session, "message.received", contact.id, data)


def record_message_statuses(session: Session, message_ids: Iterable[int]) -> None:
    """``message.status`` for each of ``message_ids`` that reached a reported status.

    Writers of message statuses call this after their update, in their transaction; a message
    reported twice in the same status (an answer and a receipt racing) yields one event.
    """
    ids = list(message_ids)
    if not ids:
        return
    rows = session.execute(
        select(
            Message.id,
            Message.contact_id,
            Message.status,
            Message.reason,
            Message.error_code,
            Message.channel,
            Message.kind,
            Message.idempotency_key,
            Message.created_on,
            Contact.phone,
        )
        .join(Contact, Contact.id == Message.contact_id)
        .where(Message.id.in_(ids), Message.status.in_([s.value for s in REPORTED_STATUSES]))
        .order_by(Message.id)
    ).all()
    for row in rows:
        metrics.count_outbound(
            session, row.channel, row.status, row.reason, row.error_code, row.created_on
        )
    if not rows or not enabled():
        return
    # Writers of a contact's own events (a STOP, a staff change) hold the contact FOR UPDATE
    # until they commit. Waiting for them here, and holding them off until this commits, makes
    # event ids follow commit order per contact: delivery, which sends a contact's events in id
    # order, can then never see a later event before an earlier one is committed.
    session.execute(
        select(Contact.id)
        .where(Contact.id.in_({row.contact_id for row in rows}))
        .order_by(Contact.id)
        .with_for_update(read=True)
    )
    now = utcnow()
    values = []
    for row in rows:
        data: dict[str, Any] = {
            "id": row.id,
            "to": row.phone,
            "status": row.status,
            "channel": row.channel,
            "kind": row.kind,
        }
        for field in ("reason", "error_code", "idempotency_key"):
            if getattr(row, field):
                data[field] = getattr(row, field)
        value = _row("message.status", row.contact_id, data, now)
        value["dedup_key"] = f"message:{row.id}:{row.status}"
        values.append(value)
    session.flush()
    session.execute(_insert_ignoring_duplicates(session), values)
    session.info[RECORDED] = True


def contact_event_type(
    kind: str, old: str | None, new: str, source: str, event: ContactEvent | None = None
) -> str | None:
    """The event type a change of a contact's history is reported as, or None for changes the
    application does not hear about (a blocked or archived contact's consent, which is never
    forwarded; a phone found valid again)."""
    if kind == EventKind.STATUS:
        if new == ContactStatus.STOPPED and source in _PERSONAL:
            return "contact.opted_out"
        inbound_caused = event is not None and event.message_id is not None
        if old == ContactStatus.STOPPED and new == ContactStatus.ACTIVE and inbound_caused:
            return "contact.opted_in"
        return "contact.status_changed"
    if kind == EventKind.PHONE_VALID and new == "false":
        return "contact.phone_invalid"
    return None


def _contact_data(phone: str, status: str, event: ContactEvent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "phone": phone,
        "status": status,
        "change": event.kind,
        "old_value": event.old_value,
        "new_value": event.new_value,
        "source": event.source,
    }
    for field in ("actor", "reason", "channel", "message_id", "groups_left"):
        value = getattr(event, field)
        if value:
            data[field] = value
    return data


def _row(kind: str, contact_id: int | None, data: dict[str, Any], now) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "webhook_id": new_webhook_id(),
        "type": kind,
        "contact_id": contact_id,
        "data": data,
        "dedup_key": None,
        "state": EventState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_on": now,
    }


def _add(session: Session, kind: str, contact_id: int, data: dict[str, Any]) -> None:
    # Added to the unit of work, not inserted at once: flushed in the order of the changes
    # around it, so a contact's events keep the order their changes were made in.
    now = utcnow()
    session.add(AppEvent(**_row(kind, contact_id, data, now)))
    session.info[RECORDED] = True


def _insert_ignoring_duplicates(session: Session):  # type: ignore[no-untyped-def]
    table = AppEvent.__table__
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["dedup_key"])
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=["dedup_key"])
