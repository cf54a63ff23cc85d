"""A contact's history as staff read it: one timeline of events and messages, the person's last
word on consent in plain words, and the same timeline as CSV evidence."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..models import Contact, ContactEvent, ContactStatus, Direction, EventKind, Message

# The most recent events and messages shown on the page; the CSV export has everything.
TIMELINE_LIMIT = 300
OPT_OUT_VALUES = frozenset({ContactStatus.STOPPED.value, "opted_out"})


@dataclass
class Entry:
    when: datetime
    event: ContactEvent | None = None
    message: Message | None = None


def timeline(session: Session, contact: Contact, limit: int | None = TIMELINE_LIMIT) -> list[Entry]:
    """Events and messages of ``contact``, newest first."""
    events = select(ContactEvent).where(ContactEvent.contact_id == contact.id)
    messages = select(Message).where(Message.contact_id == contact.id)
    if limit is not None:
        events = events.order_by(ContactEvent.id.desc()).limit(limit)
        messages = messages.order_by(Message.id.desc()).limit(limit)
    entries = [Entry(e.created_on, event=e) for e in session.scalars(events)]
    entries += [Entry(m.created_on, message=m) for m in session.scalars(messages)]
    # Events sort after the message that caused them when both carry the same instant.
    entries.sort(key=lambda entry: (entry.when, entry.event is not None), reverse=True)
    return entries[:limit] if limit is not None else entries


def last_consent_event(session: Session, contact: Contact) -> ContactEvent | None:
    """The latest event that opted the person out or back in."""
    return session.scalars(
        select(ContactEvent)
        .where(
            ContactEvent.contact_id == contact.id,
            or_(
                ContactEvent.kind == EventKind.CONSENT.value,
                and_(
                    ContactEvent.kind == EventKind.STATUS.value,
                    or_(
                        ContactEvent.new_value == ContactStatus.STOPPED.value,
                        ContactEvent.old_value == ContactStatus.STOPPED.value,
                    ),
                ),
            ),
        )
        .order_by(ContactEvent.id.desc())
        .limit(1)
    ).first()


def opt_out_notice(session: Session, contact: Contact) -> str | None:
    """ "This person texted STOP on 2026-11-02 14:31 via twilio" when the person's last word on
    consent is an opt-out; None otherwise."""
    if not contact.opted_out:
        return None
    event = last_consent_event(session, contact)
    if event is None or event.new_value not in OPT_OUT_VALUES:
        return "This person's last word on consent is an opt-out."
    when = f"{event.created_on:%Y-%m-%d %H:%M} UTC"
    via = f" via {event.channel}" if event.channel else ""
    body = None
    if event.message_id is not None:
        message = session.get(Message, event.message_id)
        if message is not None and message.direction == Direction.INBOUND.value:
            body = " ".join(message.body.split())[:80]
    if event.source in ("keyword", "intent") and body:
        return f"This person texted {body} on {when}{via}."
    if event.source == "provider":
        detail = f" ({event.reason})" if event.reason else ""
        return f"The provider reported that this person opted out on {when}{via}{detail}."
    who = f" by {event.actor}" if event.actor else ""
    detail = f": {event.reason}" if event.reason else ""
    return f"Stopped ({event.source}{who}) on {when}{detail}."


def intent_notice(session: Session, contact: Contact) -> str | None:
    """When the person's latest word on consent is an opt-out request written as a sentence that
    the channel's policy (``ask`` or ``flag``) did not act on, and they are still active: staff
    should know before anyone texts them again."""
    if contact.status != ContactStatus.ACTIVE.value:
        return None
    intent = session.scalars(
        select(ContactEvent)
        .where(ContactEvent.contact_id == contact.id, ContactEvent.kind == EventKind.INTENT.value)
        .order_by(ContactEvent.id.desc())
        .limit(1)
    ).first()
    if intent is None:
        return None
    consent = last_consent_event(session, contact)
    if consent is not None and consent.id > intent.id:
        return None
    when = f"{intent.created_on:%Y-%m-%d %H:%M} UTC"
    via = f" via {intent.channel}" if intent.channel else ""
    return (
        f'This person wrote "{intent.reason}" on {when}{via}, which reads as a request to stop '
        f"getting messages; the channel's policy ({intent.new_value}) left them active."
    )


def provider_block_note(session: Session, contact: Contact) -> str | None:
    """Where the person's opt-out was on a channel whose provider enforces it (e.g. Twilio
    Advanced Opt-Out), reactivating here does not lift the provider's own block (SPEC §1.2)."""
    from ..channels import channel_settings

    event = last_consent_event(session, contact) if contact.opted_out else None
    if event is None or event.new_value not in OPT_OUT_VALUES or not event.channel:
        return None
    try:
        enforced = channel_settings(event.channel).enforces_opt_out
    except KeyError:  # a channel no longer configured
        return None
    if not enforced:
        return None
    return (
        f"{event.channel} itself blocks texts to this number until the person texts START "
        "(or another opt-in keyword): reactivating here does not lift that block."
    )


CSV_COLUMNS = [
    "time_utc",
    "record",
    "kind",
    "old_value",
    "new_value",
    "source",
    "actor",
    "reason",
    "channel",
    "message_id",
    "direction",
    "status",
    "error_code",
    "provider_message_id",
    "body",
    "opt_out_intent",
]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: a message body must stay text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def history_csv(session: Session, contact: Contact) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in reversed(timeline(session, contact, limit=None)):
        if entry.event is not None:
            e = entry.event
            row = [
                e.created_on.isoformat(),
                "event",
                e.kind,
                e.old_value,
                e.new_value,
                e.source,
                e.actor,
                e.reason,
                e.channel,
                e.message_id,
                "",
                "",
                "",
                "",
                "",
                "",
            ]
        else:
            m = entry.message
            assert m is not None
            row = [
                m.created_on.isoformat(),
                "message",
                m.kind,
                "",
                "",
                "",
                "",
                m.reason,
                m.channel,
                m.id,
                m.direction,
                m.status,
                m.error_code,
                m.provider_message_id,
                m.body,
                "true" if m.opt_out_intent else "",
            ]
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()
