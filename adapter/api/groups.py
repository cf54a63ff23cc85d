"""Groups and group sends in the application API (SPEC §5 *More of the application API*).

Only active contacts are members (SPEC §1.1: entering stopped, blocked or archived leaves every
group), so a group send reaches every active member and nobody else; the gate checks each message
again at send time.
"""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import func, select

from ..db import get_session, insert_or_ignore
from ..dispatch import wake
from ..errors import Conflict
from ..models import ApiKey, ContactStatus, Group, GroupMembership, MessageStatus
from ..outbox import create_outbound_to_group
from . import blueprint
from .lookups import find_contact, find_group
from .openapi import answers, spec
from .schemas import GroupAnswer, GroupRequest, Groups, Membership


@blueprint.get("/groups")
@spec.validate(resp=answers(200, Groups), tags=["groups"])
def list_groups():  # type: ignore[no-untyped-def]
    """Every group with its number of members."""
    rows = get_session().execute(
        select(Group.name, func.count(GroupMembership.contact_id))
        .outerjoin(GroupMembership, GroupMembership.group_id == Group.id)
        .group_by(Group.id, Group.name)
        .order_by(Group.name)
    )
    return jsonify(groups=[{"name": name, "members": members} for name, members in rows])


@blueprint.post("/groups")
@spec.validate(resp=answers(201, GroupAnswer, 409), tags=["groups"])
def create_group(json: GroupRequest):  # type: ignore[no-untyped-def]
    """Make an empty group."""
    session = get_session()
    # One INSERT ... ON CONFLICT DO NOTHING: of concurrent requests for one name, the unique
    # index lets exactly one create it.
    if insert_or_ignore(session, Group, ["name"], {"name": json.name}) is None:
        raise Conflict(f"a group named {json.name!r} exists already")
    session.commit()
    return jsonify(name=json.name, members=0), 201


@blueprint.put("/groups/<name>/members/<phone>")
@spec.validate(resp=answers(200, Membership, 404, 409), tags=["groups"])
def add_member(name: str, phone: str):  # type: ignore[no-untyped-def]
    """Add an active contact to a group (a 409 for any other status)."""
    session = get_session()
    group = find_group(name)
    contact = find_contact(phone, lock=True)
    if contact.status != ContactStatus.ACTIVE:
        raise Conflict(
            f"{contact.phone} is {contact.status}: only active contacts can join a group"
        )
    if group not in contact.groups:
        contact.groups.append(group)
    session.commit()
    return jsonify(phone=contact.phone, groups=contact.group_names)


@blueprint.delete("/groups/<name>/members/<phone>")
@spec.validate(resp=answers(204, None, 404), tags=["groups"])
def remove_member(name: str, phone: str):  # type: ignore[no-untyped-def]
    """Take a contact out of a group."""
    session = get_session()
    group = find_group(name)
    contact = find_contact(phone, lock=True)
    if group in contact.groups:
        contact.groups.remove(group)
    session.commit()
    return "", 204


def send_to_group(name: str, body: str, channel: str, api_key: ApiKey):  # type: ignore[no-untyped-def]
    """``POST /messages`` with ``group``: one gated message per active member, made in one
    set-based statement; each is gated at send time like a single send."""
    group = find_group(name)
    session = get_session()
    created = create_outbound_to_group(
        session, group.id, body, channel=channel, api_key_id=api_key.id
    )
    session.commit()
    if created:
        wake(channel)
    status = MessageStatus.QUEUED.value
    return jsonify(
        messages=[
            {"id": message_id, "to": phone, "status": status} for message_id, phone in created
        ],
        count=len(created),
    ), 202
