"""The application API (SPEC §5): JSON in and out, authenticated with a bearer API key."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import rules
from .apikeys import find_api_key
from .db import get_session
from .dispatch import wake
from .errors import AdapterError, ContactNotFound, InvalidRequest, MessageNotFound
from .models import (
    ApiKey,
    Contact,
    ContactEvent,
    ContactStatus,
    EventSource,
    Group,
    Message,
    MessageKind,
)
from .outbox import create_outbound
from .phone import to_e164

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_NAME_LENGTH = 200
MAX_IDEMPOTENCY_KEY_LENGTH = 200
MAX_REASON_LENGTH = 1000


@blueprint.errorhandler(AdapterError)
def _adapter_error(exc: AdapterError):  # type: ignore[no-untyped-def]
    get_session().rollback()
    return jsonify(error=exc.message), exc.http_status


@blueprint.before_request
def _authenticate():  # type: ignore[no-untyped-def]
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    api_key = find_api_key(get_session(), key.strip()) if scheme.lower() == "bearer" else None
    if api_key is None:
        response = jsonify(error="a valid API key is required: Authorization: Bearer <key>")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response, 401
    g.api_key = api_key
    return None


# --- messages ---------------------------------------------------------------------------------


@blueprint.post("/messages")
def create_message():  # type: ignore[no-untyped-def]
    data = _json_object()
    api_key: ApiKey = g.api_key
    if data.get("group") is not None:
        from .api_groups import send_to_group

        return send_to_group(data, api_key)
    phone = _phone(data.get("to"), "to")
    body, channel = message_body_and_channel(data)
    idempotency_key = _optional_str(data, "idempotency_key", MAX_IDEMPOTENCY_KEY_LENGTH)

    session = get_session()
    if idempotency_key is not None:
        earlier = _by_idempotency_key(api_key, idempotency_key)
        if earlier is not None:
            return jsonify(_message_json(earlier)), 202
    try:
        contact = rules.get_or_create_contact(session, phone)
        message = create_outbound(
            session,
            contact,
            body,
            kind=MessageKind.API,
            channel=channel,
            api_key_id=api_key.id,
            idempotency_key=idempotency_key,
        )
        session.commit()
    except IntegrityError:
        # The same idempotency key (or a new contact) committed by a concurrent request.
        session.rollback()
        earlier = _by_idempotency_key(api_key, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        return jsonify(_message_json(earlier)), 202
    wake(message.channel)
    return jsonify(_message_json(message)), 202


def message_body_and_channel(data: dict[str, Any]) -> tuple[str, str]:
    """The request's message text, checked against the channel it will take."""
    body = data.get("body")
    if not isinstance(body, str) or not body.strip():
        raise InvalidRequest("'body' is required: the text of the message")
    channel = current_app.extensions["adapter.channel"]
    limit = current_app.extensions["adapter.providers"][channel].max_body_length
    if len(body) > limit:
        raise InvalidRequest(f"'body' is {len(body)} characters; {channel} takes at most {limit}")
    return body, channel


@blueprint.get("/messages/<int:message_id>")
def get_message(message_id: int):  # type: ignore[no-untyped-def]
    message = get_session().get(Message, message_id)
    if message is None:
        raise MessageNotFound(f"no message with id {message_id}")
    return jsonify(_message_json(message))


def _by_idempotency_key(api_key: ApiKey, key: str) -> Message | None:
    return get_session().scalar(
        select(Message).where(Message.api_key_id == api_key.id, Message.idempotency_key == key)
    )


def _message_json(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": message.id,
        "direction": message.direction,
        "to" if message.direction == "out" else "from": message.contact.phone,
        "body": message.body,
        "status": message.status,
        "channel": message.channel,
        "created_on": message.created_on.isoformat(),
        "modified_on": message.modified_on.isoformat(),
    }
    if message.reason:
        data["reason"] = message.reason
    if message.error_code:
        data["error_code"] = message.error_code
    if message.idempotency_key:
        data["idempotency_key"] = message.idempotency_key
    if message.direction == "in":
        # As in the forwarded message.received: an opt-out request written as a sentence.
        data["opt_out_intent"] = message.opt_out_intent
    return data


# --- contacts ---------------------------------------------------------------------------------


@blueprint.post("/contacts")
def create_contact():  # type: ignore[no-untyped-def]
    data = _json_object()
    phone = _phone(data.get("phone"), "phone")
    name = _optional_str(data, "name", MAX_NAME_LENGTH)
    groups = data.get("groups", [])
    if not isinstance(groups, list) or not all(
        isinstance(group, str) and 0 < len(group.strip()) <= MAX_NAME_LENGTH for group in groups
    ):
        raise InvalidRequest("'groups' must be a list of group names")
    session = get_session()
    if session.scalar(select(Contact.id).where(Contact.phone == phone)) is not None:
        return jsonify(error=f"a contact with phone {phone} exists already"), 409
    try:
        contact = rules.get_or_create_contact(session, phone, name)
        # A number on the suppression list starts stopped, and stopped contacts are in no group.
        joins = contact.status == ContactStatus.ACTIVE
        for group_name in dict.fromkeys(group.strip() for group in groups) if joins else ():
            contact.groups.append(_group(group_name))
        session.commit()
    except IntegrityError:
        session.rollback()
        return jsonify(error=f"a contact with phone {phone} exists already"), 409
    body = _contact_json(contact)
    if not joins:
        body["note"] = "this number opted out before an earlier contact was deleted: it starts "
        body["note"] += "stopped, in no group, until the person opts back in"
    return jsonify(body), 201


@blueprint.get("/contacts/<phone>")
def get_contact(phone: str):  # type: ignore[no-untyped-def]
    return jsonify(_contact_json(_contact(phone)))


@blueprint.get("/contacts/<phone>/events")
def contact_events(phone: str):  # type: ignore[no-untyped-def]
    contact = _contact(phone)
    events = get_session().scalars(
        select(ContactEvent)
        .where(ContactEvent.contact_id == contact.id)
        .order_by(ContactEvent.id.desc())
    )
    return jsonify(events=[_event_json(event) for event in events])


@blueprint.post("/contacts/<phone>/status")
def change_status(phone: str):  # type: ignore[no-untyped-def]
    data = _json_object()
    target = rules.parse_status(data.get("status"))
    reason = _optional_str(data, "reason", MAX_REASON_LENGTH)
    session = get_session()
    contact = _contact(phone, lock=True)
    event = rules.set_status(
        session,
        contact,
        target,
        rules.Cause(source=EventSource.API, actor=g.api_key.name, reason=reason),
    )
    session.commit()
    body = _contact_json(contact)
    if event is not None and event.new_value != target.value:
        # Unblocking or unarchiving someone who had opted out returns them as stopped.
        body["note"] = (
            f"the contact opted out while {event.old_value}, so it returns as "
            f"{event.new_value}, not {target.value}"
        )
    return jsonify(body)


@blueprint.delete("/contacts/<phone>")
def delete_contact(phone: str):  # type: ignore[no-untyped-def]
    session = get_session()
    rules.delete_contact(session, _contact(phone, lock=True))
    session.commit()
    return "", 204


def _contact(phone: str, lock: bool = False) -> Contact:
    e164 = _phone(phone, "phone")
    session = get_session()
    if lock:
        contact = rules.lock_contact(session, e164)
    else:
        contact = session.scalar(select(Contact).where(Contact.phone == e164))
    if contact is None:
        raise ContactNotFound(f"no contact with phone {e164}")
    return contact


def _group(name: str) -> Group:
    session = get_session()
    group = session.scalar(select(Group).where(Group.name == name))
    if group is None:
        group = Group(name=name)
        session.add(group)
    return group


def _contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "phone": contact.phone,
        "name": contact.name,
        "status": contact.status,
        "phone_valid": contact.phone_valid,
        "last_seen_on": contact.last_seen_on.isoformat() if contact.last_seen_on else None,
        "groups": contact.group_names,
    }


def _event_json(event: ContactEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "old_value": event.old_value,
        "new_value": event.new_value,
        "source": event.source,
        "actor": event.actor,
        "reason": event.reason,
        "channel": event.channel,
        "message_id": event.message_id,
        "groups_left": event.groups_left or [],
        "created_on": event.created_on.isoformat(),
    }


# --- input ------------------------------------------------------------------------------------


def _json_object() -> dict[str, Any]:
    # Parsed whatever the Content-Type says: a client that forgot the header still gets through.
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return data


def _phone(value: object, field: str) -> str:
    if value is None:
        raise InvalidRequest(f"'{field}' is required: a phone number in E.164 form")
    return to_e164(value, current_app.config["DEFAULT_REGION"])


def _optional_str(data: dict[str, Any], field: str, max_length: int) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{field}' must be a non-empty string")
    if len(value) > max_length:
        raise InvalidRequest(f"'{field}' is longer than {max_length} characters")
    return value.strip()


# Routes of the same blueprint kept in modules of their own.
from . import api_groups, api_lists  # noqa: E402, F401
