"""Groups and group sends in the application API (SPEC §5 *More of the application API*).

Only active contacts are members (SPEC §1.1: entering stopped, blocked or archived leaves every
group), so a group send reaches every active member and nobody else; the gate checks each message
again at send time.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .api import (
    MAX_NAME_LENGTH,
    _contact,
    _json_object,
    blueprint,
    message_body_and_channel,
)
from .db import get_session
from .dispatch import wake
from .errors import Conflict, GroupNotFound, InvalidRequest
from .inputs import storable
from .models import (
    ApiKey,
    ContactStatus,
    Group,
    GroupMembership,
    MessageStatus,
)
from .outbox import create_outbound_to_group


@blueprint.get("/groups")
def list_groups():  # type: ignore[no-untyped-def]
    rows = get_session().execute(
        select(Group.name, func.count(GroupMembership.contact_id))
        .outerjoin(GroupMembership, GroupMembership.group_id == Group.id)
        .group_by(Group.id, Group.name)
        .order_by(Group.name)
    )
    return jsonify(groups=[{"name": name, "members": members} for name, members in rows])


@blueprint.post("/groups")
def create_group():  # type: ignore[no-untyped-def]
    name = _group_name(_json_object().get("name"))
    session = get_session()
    if session.scalar(select(Group.id).where(Group.name == name)) is not None:
        raise Conflict(f"a group named {name!r} exists already")
    session.add(Group(name=name))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"a group named {name!r} exists already") from None
    return jsonify(name=name, members=0), 201


@blueprint.put("/groups/<name>/members/<phone>")
def add_member(name: str, phone: str):  # type: ignore[no-untyped-def]
    session = get_session()
    group = _group(name)
    contact = _contact(phone, lock=True)
    if contact.status != ContactStatus.ACTIVE:
        raise Conflict(
            f"{contact.phone} is {contact.status}: only active contacts can join a group"
        )
    if group not in contact.groups:
        contact.groups.append(group)
    session.commit()
    return jsonify(phone=contact.phone, groups=contact.group_names)


@blueprint.delete("/groups/<name>/members/<phone>")
def remove_member(name: str, phone: str):  # type: ignore[no-untyped-def]
    session = get_session()
    group = _group(name)
    contact = _contact(phone, lock=True)
    if group in contact.groups:
        contact.groups.remove(group)
    session.commit()
    return "", 204


def send_to_group(data: dict[str, Any], api_key: ApiKey):  # type: ignore[no-untyped-def]
    """``POST /messages`` with ``group``: one gated message per active member, made in one
    set-based statement; each is gated at send time like a single send."""
    if data.get("to") is not None:
        raise InvalidRequest("give either 'to' or 'group', not both")
    if data.get("idempotency_key") is not None:
        raise InvalidRequest("'idempotency_key' is for single sends; a group send takes none")
    group = _group(_group_name(data.get("group")))
    body, channel = message_body_and_channel(data)
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


def _group_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("'name' of a group is required: a non-empty string")
    if len(value.strip()) > MAX_NAME_LENGTH:
        raise InvalidRequest(f"a group name is at most {MAX_NAME_LENGTH} characters")
    return storable(value.strip(), "name")


def _group(name: str) -> Group:
    storable(name, "name")
    group = get_session().scalar(select(Group).where(Group.name == name))
    if group is None:
        raise GroupNotFound(f"no group named {name!r}")
    return group
