"""Contacts: create, read, change status, delete, their history, and the paged list (SPEC §5)."""

from __future__ import annotations

from flask import g, jsonify
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, selectinload

from .. import rules
from ..db import get_session, insert_or_ignore
from ..errors import Conflict, InvalidRequest
from ..models import Contact, ContactEvent, ContactStatus, EventSource, Group
from . import blueprint
from .lookups import find_contact, phone
from .openapi import answers, spec
from .render import contact_json, event_json
from .schemas import (
    ContactAnswer,
    ContactEvents,
    ContactRequest,
    ContactsPage,
    ContactsQuery,
    StatusRequest,
)


@blueprint.post("/contacts")
@spec.validate(resp=answers(201, ContactAnswer, 409), tags=["contacts"])
def create_contact(json: ContactRequest):  # type: ignore[no-untyped-def]
    """Add a contact, active unless ``status`` says otherwise, in the groups named.

    A number that opted out before an earlier contact of it was deleted starts stopped, in no
    group, and the answer's ``note`` says why.
    """
    number = phone(json.phone)
    groups = list(dict.fromkeys(json.groups or ()))
    if json.status not in (None, ContactStatus.ACTIVE) and groups:
        raise InvalidRequest(
            f"a contact created {json.status.value} cannot join groups: only active"
        )
    session = get_session()
    # Of concurrent requests for one phone exactly one creates it; each other one is told so,
    # none silently merged into it.
    contact = rules.create_contact(session, number, json.name)
    if contact is None:
        raise Conflict(f"a contact with phone {number} exists already")
    # A number on the suppression list starts stopped, and stopped contacts are in no group.
    joins = contact.status == ContactStatus.ACTIVE
    for group_name in groups if joins else ():
        contact.groups.append(_group(session, group_name))
    if json.status is not None and joins:
        rules.set_status(
            session,
            contact,
            json.status,
            rules.Cause(source=EventSource.API, actor=g.api_key.name, reason="created so"),
        )
    session.commit()
    body = contact_json(contact)
    if not joins:
        body["note"] = "this number opted out before an earlier contact was deleted: it starts "
        body["note"] += "stopped, in no group, until the person opts back in"
    return jsonify(body), 201


@blueprint.get("/contacts/<phone>")
@spec.validate(resp=answers(200, ContactAnswer, 404), tags=["contacts"])
def get_contact(phone: str):  # type: ignore[no-untyped-def]
    """One contact by phone number (E.164, URL-encoded: %2B for the +)."""
    return jsonify(contact_json(find_contact(phone)))


@blueprint.get("/contacts/<phone>/events")
@spec.validate(resp=answers(200, ContactEvents, 404), tags=["contacts"])
def contact_events(phone: str):  # type: ignore[no-untyped-def]
    """A contact's whole history, newest first: who changed what, why, and how."""
    contact = find_contact(phone)
    events = get_session().scalars(
        select(ContactEvent)
        .where(ContactEvent.contact_id == contact.id)
        .order_by(ContactEvent.id.desc())
    )
    return jsonify(events=[event_json(event) for event in events])


@blueprint.post("/contacts/<phone>/status")
@spec.validate(resp=answers(200, ContactAnswer, 404), tags=["contacts"])
def change_status(phone: str, json: StatusRequest):  # type: ignore[no-untyped-def]
    """Change a contact's status under the rules of SPEC §1; the change is recorded with the
    API key's name and the reason given."""
    session = get_session()
    contact = find_contact(phone, lock=True)
    event = rules.set_status(
        session,
        contact,
        json.status,
        rules.Cause(source=EventSource.API, actor=g.api_key.name, reason=json.reason),
    )
    session.commit()
    body = contact_json(contact)
    if event is not None and event.new_value != json.status.value:
        # Unblocking or unarchiving someone who had opted out returns them as stopped.
        body["note"] = (
            f"the contact opted out while {event.old_value}, so it returns as "
            f"{event.new_value}, not {json.status.value}"
        )
    return jsonify(body)


@blueprint.delete("/contacts/<phone>")
@spec.validate(resp=answers(204, None, 404, 409), tags=["contacts"])
def delete_contact(phone: str):  # type: ignore[no-untyped-def]
    """Delete an archived contact and its history (archive it first). A number that had opted
    out stays on the suppression list."""
    session = get_session()
    rules.delete_contact(session, find_contact(phone, lock=True))
    session.commit()
    return "", 204


@blueprint.get("/contacts")
@spec.validate(resp=answers(200, ContactsPage), tags=["contacts"])
def list_contacts(query: ContactsQuery):  # type: ignore[no-untyped-def]
    """Contacts in id order, filtered, a page at a time (keyset cursor on the id)."""
    where: list[ColumnElement[bool]] = []
    if query.status is not None:
        where.append(Contact.status == query.status.value)
    if query.last_seen_before is not None or query.never_seen:
        where.append(
            rules.dormant_filter(query.last_seen_before, include_never_seen=query.never_seen)
        )
    if query.q:
        escaped = query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        where.append(
            or_(Contact.phone.like(pattern, escape="\\"), Contact.name.ilike(pattern, escape="\\"))
        )
    if query.cursor is not None:
        where.append(Contact.id > query.cursor)
    contacts = (
        get_session()
        .scalars(
            select(Contact)
            .options(selectinload(Contact.groups))
            .where(*where)
            .order_by(Contact.id)
            .limit(query.limit)
        )
        .all()
    )
    # A listing: no cursor once the last page is reached.
    full = len(contacts) == query.limit
    return jsonify(
        contacts=[contact_json(contact) for contact in contacts],
        next_cursor=str(contacts[-1].id) if full else None,
    )


def _group(session: Session, name: str) -> Group:
    # Created with ON CONFLICT: two requests naming one new group both find it.
    insert_or_ignore(session, Group, ["name"], {"name": name})
    return session.scalars(select(Group).where(Group.name == name)).one()
