"""The contact rules of SPEC §1: the only code that changes a contact's status, consent or phone
validity. Every change writes a :class:`ContactEvent` saying who, why and how.

Functions here take the caller's session and never commit: the caller's transaction decides, so a
change and the message or request that caused it are stored together or not at all. Callers that
act on a contact other sessions may be changing load it with :func:`lock_contact`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from . import suppressions
from .app_events.record import record_batch, record_contact_event
from .db import attach_row, insert_or_ignore, utcnow
from .errors import DeletionRefused, InvalidStatus
from .intent import Policy
from .models import (
    Contact,
    ContactEvent,
    ContactStatus,
    EventKind,
    EventSource,
    Group,
    GroupMembership,
    Message,
)
from .provider import Verdict

# Entering any of these removes the contact from every group (SPEC §1.1).
LEAVES_GROUPS = frozenset({ContactStatus.STOPPED, ContactStatus.BLOCKED, ContactStatus.ARCHIVED})
# Statuses whose inbound is archived and never acted on.
IGNORED = frozenset({ContactStatus.BLOCKED, ContactStatus.ARCHIVED})
# Handset-unreachable verdicts in a row, with no delivery between, that make a phone invalid.
UNREACHABLE_LIMIT = 3


@dataclass(frozen=True)
class Cause:
    """Who or what makes a change, and why (SPEC §1.4)."""

    source: EventSource
    actor: str | None = None
    reason: str | None = None
    channel: str | None = None
    message_id: int | None = None


def parse_status(value: object) -> ContactStatus:
    """The status named by ``value`` (any case), or :class:`InvalidStatus` saying which exist."""
    allowed = ", ".join(s.value for s in ContactStatus)
    if value is None:
        raise InvalidStatus(f"'status' is required: one of {allowed}")
    if not isinstance(value, str):
        raise InvalidStatus(f"'status' must be a string: one of {allowed}")
    try:
        return ContactStatus(value.strip().lower())
    except ValueError:
        raise InvalidStatus(f"unknown status {value[:40]!r}: use one of {allowed}") from None


def lock_contact(session: Session, phone: str) -> Contact | None:
    """Load a contact for change, serialising with every other writer of the same contact."""
    return session.scalars(select(Contact).where(Contact.phone == phone).with_for_update()).first()


def new_contact_values(phone: str, name: str | None = None) -> dict[str, object]:
    """The columns of a new contact: active, valid, never opted out."""
    return {
        "phone": phone,
        "name": name,
        "status": ContactStatus.ACTIVE.value,
        "opted_out": False,
        "phone_valid": True,
        "unreachable_count": 0,
    }


def create_contact(session: Session, phone: str, name: str | None = None) -> Contact | None:
    """A new contact for an E.164 ``phone`` (active, or stopped if the number is on the
    suppression list), locked by its insert; None when one exists already.

    One INSERT ... ON CONFLICT DO NOTHING: of transactions creating the same contact at once,
    one inserts, the others wait for it to commit and get None.
    """
    contact_id = insert_or_ignore(session, Contact, ["phone"], new_contact_values(phone, name))
    if contact_id is None:
        return None
    contact = session.get_one(Contact, contact_id)
    for opted_out_on in suppressions.take(session, [phone]).values():
        stop(session, contact, Cause(EventSource.SYSTEM, reason=suppressions.reason(opted_out_on)))
    return contact


# Built once: the first statement of every inbound message, on the table rather than through the
# ORM, whose handling of an UPDATE ... RETURNING of an entity costs more than the statement.
_CONTACTS = Contact.__table__
_TOUCH = (
    update(_CONTACTS)
    .where(_CONTACTS.c.phone == bindparam("by_phone"))
    .values(last_seen_on=bindparam("seen"), unreachable_count=0)
    .returning(*_CONTACTS.c)
)


def touch_contact(session: Session, phone: str, seen_on: datetime) -> Contact | None:
    """An inbound message's first statement: the contact for ``phone`` locked, its last_seen_on
    set and its unreachable count cleared (SPEC §1.1, §1.3) in one UPDATE ... RETURNING; None
    when there is no such contact yet."""
    row = session.execute(_TOUCH, {"by_phone": phone, "seen": seen_on}).first()
    return None if row is None else attach_row(session, Contact, row)


def get_or_create_contact(session: Session, phone: str, name: str | None = None) -> Contact:
    """The locked contact for an E.164 ``phone``, created by :func:`create_contact` if it is new.

    Transactions creating the same new contact at once all end up with the one row.
    """
    contact = lock_contact(session, phone)
    if contact is None:
        contact = create_contact(session, phone, name) or lock_contact(session, phone)
        assert contact is not None, "a contact inserted or committed by another is visible"
    return contact


# --- status -----------------------------------------------------------------------------------


def _record(
    session: Session,
    contact: Contact,
    kind: EventKind,
    old: str | None,
    new: str,
    cause: Cause,
    groups_left: list[str] | None = None,
) -> ContactEvent:
    event = ContactEvent(
        contact_id=contact.id,
        kind=kind.value,
        old_value=old,
        new_value=new,
        source=EventSource(cause.source).value,
        actor=cause.actor,
        reason=cause.reason,
        channel=cause.channel,
        message_id=cause.message_id,
        groups_left=groups_left or None,
        created_on=utcnow(),
    )
    session.add(event)
    record_contact_event(session, contact, event)
    return event


# The names of a contact's groups, in Contact.groups' order: read on the table, as loading the
# relationship's Group instances costs the ORM several times the statement (every inbound STOP).
_GROUPS = Group.__table__
_MEMBERSHIPS = GroupMembership.__table__
_GROUP_NAMES = (
    select(_GROUPS.c.name)
    .join(_MEMBERSHIPS, _MEMBERSHIPS.c.group_id == _GROUPS.c.id)
    .where(_MEMBERSHIPS.c.contact_id == bindparam("of_contact"))
    .order_by(_GROUPS.c.name)
)


def _change_status(
    session: Session, contact: Contact, new: ContactStatus, cause: Cause
) -> ContactEvent | None:
    old = ContactStatus(contact.status)
    if old == new:
        return None
    groups_left: list[str] = []
    if new in LEAVES_GROUPS:
        groups_left = list(session.scalars(_GROUP_NAMES, {"of_contact": contact.id}))
    if groups_left:
        session.execute(delete(GroupMembership).where(GroupMembership.contact_id == contact.id))
        session.expire(contact, ["groups"])
    contact.status = new.value
    # Consent follows the person's last word: entering stopped is an opt-out, returning to active
    # an opt-in; block and archive leave it as it was.
    if new == ContactStatus.STOPPED:
        contact.opted_out = True
    elif new == ContactStatus.ACTIVE:
        contact.opted_out = False
    contact.modified_on = utcnow()
    return _record(session, contact, EventKind.STATUS, old.value, new.value, cause, groups_left)


def _return_status(contact: Contact) -> ContactStatus:
    """Where an unblocked or unarchived contact goes: stopped if the person opted out."""
    return ContactStatus.STOPPED if contact.opted_out else ContactStatus.ACTIVE


def stop(session: Session, contact: Contact, cause: Cause) -> ContactEvent | None:
    return _change_status(session, contact, ContactStatus.STOPPED, cause)


def reactivate(session: Session, contact: Contact, cause: Cause) -> ContactEvent | None:
    """Stopped → active. Groups left on stopping are not re-added."""
    if contact.status != ContactStatus.STOPPED:
        return None
    return _change_status(session, contact, ContactStatus.ACTIVE, cause)


def block(session: Session, contact: Contact, cause: Cause) -> ContactEvent | None:
    return _change_status(session, contact, ContactStatus.BLOCKED, cause)


def unblock(session: Session, contact: Contact, cause: Cause) -> ContactEvent | None:
    if contact.status != ContactStatus.BLOCKED:
        return None
    return _change_status(session, contact, _return_status(contact), cause)


def archive(session: Session, contact: Contact, cause: Cause) -> ContactEvent | None:
    return _change_status(session, contact, ContactStatus.ARCHIVED, cause)


def unarchive(session: Session, contact: Contact, cause: Cause) -> ContactEvent | None:
    if contact.status != ContactStatus.ARCHIVED:
        return None
    return _change_status(session, contact, _return_status(contact), cause)


def set_status(
    session: Session, contact: Contact, target: object, cause: Cause
) -> ContactEvent | None:
    """Move a contact towards ``target`` as staff or the API ask.

    Asking for ``active`` on a blocked or archived contact unblocks / unarchives it, which returns
    it as stopped when the person had opted out: the returned event's ``new_value`` says which.
    """
    wanted = parse_status(target)
    current = ContactStatus(contact.status)
    if wanted == ContactStatus.ACTIVE:
        if current == ContactStatus.BLOCKED:
            return unblock(session, contact, cause)
        if current == ContactStatus.ARCHIVED:
            return unarchive(session, contact, cause)
        return reactivate(session, contact, cause)
    return _change_status(session, contact, wanted, cause)


# --- consent (the person's own keywords and provider opt-out signals) ---------------------------


def record_opt_out(session: Session, contact: Contact, cause: Cause) -> ContactEvent | None:
    """The person opted out. An active contact becomes stopped; a blocked or archived one keeps
    its status but the opt-out is recorded, so that it returns as stopped."""
    if contact.status in IGNORED:
        if contact.opted_out:
            return None
        contact.opted_out = True
        return _record(session, contact, EventKind.CONSENT, "opted_in", "opted_out", cause)
    return stop(session, contact, cause)


def record_opt_in(session: Session, contact: Contact, cause: Cause) -> ContactEvent | None:
    """The person opted (back) in: a stopped contact becomes active, without its old groups."""
    if contact.status in IGNORED:
        if not contact.opted_out:
            return None
        contact.opted_out = False
        return _record(session, contact, EventKind.CONSENT, "opted_out", "opted_in", cause)
    return reactivate(session, contact, cause)


def apply_opt_out_intent(
    session: Session, contact: Contact, policy: Policy, cause: Cause
) -> ContactEvent:
    """An opt-out request written as a sentence (SPEC §3), ``cause.reason`` the words that
    triggered it. Under ``stop`` it is an opt-out as a keyword is; under ``ask`` and ``flag`` the
    contact is left as it is. Either way the request leaves one event in the history: the
    opt-out's own, or (when nothing changed) an ``intent`` event whose value is the policy."""
    if policy == Policy.STOP:
        event = record_opt_out(session, contact, cause)
        if event is not None:
            return event
    return _record(session, contact, EventKind.INTENT, None, policy.value, cause)


# --- phone validity ---------------------------------------------------------------------------


def mark_phone_invalid(session: Session, contact: Contact, cause: Cause) -> ContactEvent | None:
    """The provider says the number cannot receive SMS. This is not an opt-out."""
    if not contact.phone_valid:
        return None
    contact.phone_valid = False
    return _record(session, contact, EventKind.PHONE_VALID, "true", "false", cause)


def mark_phone_valid(session: Session, contact: Contact, cause: Cause) -> ContactEvent | None:
    contact.unreachable_count = 0
    if contact.phone_valid:
        return None
    contact.phone_valid = True
    return _record(session, contact, EventKind.PHONE_VALID, "false", "true", cause)


def record_unreachable(session: Session, contact: Contact, cause: Cause) -> ContactEvent | None:
    """One handset-unreachable verdict; the third in a row with no delivery marks it invalid."""
    contact.unreachable_count = (contact.unreachable_count or 0) + 1
    if contact.unreachable_count >= UNREACHABLE_LIMIT:
        return mark_phone_invalid(session, contact, cause)
    return None


def record_delivered(contact: Contact) -> None:
    """A delivery proves the handset reachable: the unreachable streak starts again."""
    contact.unreachable_count = 0


def record_seen(contact: Contact, when: datetime | None = None) -> None:
    """Every inbound message, whatever the status, sets last_seen_on (SPEC §1.1)."""
    contact.last_seen_on = when or utcnow()


# --- deletion ---------------------------------------------------------------------------------


def delete_contact(session: Session, contact: Contact) -> None:
    """Delete an archived contact with its messages and history. Anything else is refused."""
    if contact.status != ContactStatus.ARCHIVED:
        raise DeletionRefused(
            f"{contact.phone} is {contact.status}: only archived contacts can be deleted; "
            "archive it first"
        )
    suppressions.remember(session, [Contact.id == contact.id])
    session.delete(contact)
    session.flush()


def bulk_delete_archived(session: Session, where: Sequence[ColumnElement[bool]] = ()) -> int:
    """Delete every archived contact (matching ``where``); returns how many were deleted."""
    suppressions.remember(session, where)
    result = session.execute(
        delete(Contact).where(Contact.status == ContactStatus.ARCHIVED.value, *where)
    )
    return result.rowcount or 0


# --- bulk -------------------------------------------------------------------------------------


def dormant_filter(before: datetime | None, include_never_seen: bool = True) -> ColumnElement[bool]:
    """Contacts not seen since ``before`` (and, by default, those never seen at all)."""
    clauses: list[ColumnElement[bool]] = []
    if before is not None:
        clauses.append(Contact.last_seen_on < before)
    if include_never_seen:
        clauses.append(Contact.last_seen_on.is_(None))
    return or_(*clauses) if clauses else false()


def _groups_json(session: Session) -> ColumnElement:
    """A correlated subquery: the JSON array of a contact's group names, NULL when none."""
    if session.get_bind().dialect.name == "postgresql":
        agg = func.json_agg(Group.name)
    else:
        agg = func.nullif(func.json_group_array(Group.name), "[]")
    return (
        select(agg)
        .select_from(Group)
        .join(GroupMembership, GroupMembership.group_id == Group.id)
        .where(GroupMembership.contact_id == Contact.id)
        .scalar_subquery()
    )


def bulk_set_status(
    session: Session,
    target: object,
    cause: Cause,
    where: Sequence[ColumnElement[bool]] = (),
) -> int:
    """Apply :func:`set_status` to every contact matching ``where``, in four set-based statements.

    The events are written first, tagged with one batch id; the group removals and the status
    updates then act on exactly the contacts that got an event. Returns how many changed.
    """
    wanted = parse_status(target)
    batch_id = str(uuid.uuid4())
    now = utcnow()
    if wanted == ContactStatus.ACTIVE:
        new_value: ColumnElement = case(
            (
                and_(
                    Contact.status.in_([s.value for s in IGNORED]),
                    Contact.opted_out == true(),
                ),
                literal(ContactStatus.STOPPED.value),
            ),
            else_=literal(ContactStatus.ACTIVE.value),
        )
    else:
        new_value = literal(wanted.value)
    rows = select(
        Contact.id,
        literal(EventKind.STATUS.value),
        Contact.status,
        new_value,
        literal(EventSource(cause.source).value),
        literal(cause.actor),
        literal(cause.reason),
        literal(cause.channel),
        _groups_json(session) if wanted in LEAVES_GROUPS else null(),
        literal(batch_id),
        literal(now, ContactEvent.created_on.type),
    ).where(Contact.status != new_value, *where)
    # Lock the chosen contacts as every other writer does (lock_contact), in one order: a STOP
    # being stored at this moment is then waited for and seen, not overwritten by the update below.
    rows = rows.order_by(Contact.id).with_for_update(of=Contact)
    columns = [
        "contact_id",
        "kind",
        "old_value",
        "new_value",
        "source",
        "actor",
        "reason",
        "channel",
        "groups_left",
        "batch_id",
        "created_on",
    ]
    session.execute(insert(ContactEvent).from_select(columns, rows))
    record_batch(session, batch_id)
    in_batch = select(ContactEvent.contact_id).where(ContactEvent.batch_id == batch_id)
    if wanted in LEAVES_GROUPS:
        session.execute(delete(GroupMembership).where(GroupMembership.contact_id.in_(in_batch)))
    event_value = (
        select(ContactEvent.new_value)
        .where(ContactEvent.batch_id == batch_id, ContactEvent.contact_id == Contact.id)
        .scalar_subquery()
    )
    result = session.execute(
        update(Contact)
        .where(Contact.id.in_(in_batch))
        .values(
            status=event_value,
            opted_out=case(
                (event_value == ContactStatus.STOPPED.value, true()),
                (event_value == ContactStatus.ACTIVE.value, false()),
                else_=Contact.opted_out,
            ),
            modified_on=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return result.rowcount or 0


def lock_contact_by_id(session: Session, contact_id: int, read: bool = False) -> Contact:
    """:func:`lock_contact` by id; ``read`` takes a shared lock, enough to wait for writers."""
    return session.scalars(
        select(Contact).where(Contact.id == contact_id).with_for_update(read=read)
    ).one()


def apply_provider_verdict(
    session: Session, message: Message, verdict: Verdict, reason: str
) -> ContactEvent | None:
    """What a provider's error on ``message`` says about its recipient, applied to the contact
    (SPEC §1.3): an opt-out stops them, an unreachable number counts towards phone invalid."""
    actions = {
        Verdict.OPTED_OUT: record_opt_out,
        Verdict.PHONE_INVALID: mark_phone_invalid,
        Verdict.UNREACHABLE: record_unreachable,
    }
    action = actions.get(verdict)
    if action is None:
        return None
    cause = Cause(
        source=EventSource.PROVIDER, reason=reason, channel=message.channel, message_id=message.id
    )
    return action(session, lock_contact_by_id(session, message.contact_id), cause)
