"""The application API (SPEC §5): JSON in and out, authenticated with a bearer API key."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import rules
from .apikeys import find_api_key
from .db import get_session, insert_or_ignore
from .dispatch import wake
from .errors import AdapterError, Conflict, ContactNotFound, InvalidRequest, MessageNotFound
from .inputs import storable
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
            return _repeated(earlier, phone, body, channel)
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
        return _repeated(earlier, phone, body, channel)
    wake(message.channel)
    return jsonify(_message_json(message)), 202


def message_body_and_channel(data: dict[str, Any]) -> tuple[str, str]:
    """The request's message text, checked against the channel it will take."""
    body = data.get("body")
    if body is None:
        raise InvalidRequest("'body' is required: the text of the message")
    if not isinstance(body, str):
        raise InvalidRequest(f"'body' must be a string, not {_json_type(body)}")
    if not body.strip():
        raise InvalidRequest("'body' is empty: give the text of the message")
    storable(body, "body")
    channel = _channel(data.get("channel"))
    limit = current_app.extensions["adapter.providers"][channel].max_body_length
    if len(body) > limit:
        raise InvalidRequest(f"'body' is {len(body)} characters; {channel} takes at most {limit}")
    return body, channel


def _channel(value: Any) -> str:
    """The channel a request names, or the default one; only a configured provider is taken."""
    if value is None:
        return current_app.extensions["adapter.channel"]
    channels: list[str] = current_app.extensions["adapter.channels"]
    if not isinstance(value, str) or value not in channels:
        shown = repr(value[:40]) if isinstance(value, str) else f"({_json_type(value)})"
        raise InvalidRequest(
            f"'channel' {shown} is not a configured channel; use one of: {', '.join(channels)}"
        )
    return value


def _repeated(earlier: Message, phone: str, body: str, channel: str):  # type: ignore[no-untyped-def]
    """The answer to a request whose idempotency key names ``earlier``: the same message again
    when the request is the same, a 409 when the key is being reused for another message."""
    if earlier.contact.phone != phone or earlier.body != body or earlier.channel != channel:
        raise Conflict(
            f"idempotency_key {earlier.idempotency_key!r} was already used for message "
            f"{earlier.id} with a different 'to', 'body' or 'channel'; use a new key for a new "
            "message"
        )
    return jsonify(_message_json(earlier)), 202


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
    groups = data.get("groups")
    if groups is None:
        groups = []
    if not isinstance(groups, list) or not all(
        isinstance(group, str) and 0 < len(group.strip()) <= MAX_NAME_LENGTH for group in groups
    ):
        raise InvalidRequest(
            f"'groups' must be a list of group names of 1 to {MAX_NAME_LENGTH} characters"
        )
    for group in groups:
        storable(group, "groups")
    status = rules.parse_status(data["status"]) if data.get("status") is not None else None
    if status not in (None, ContactStatus.ACTIVE) and groups:
        raise InvalidRequest(f"a contact created {status.value} cannot join groups: only active")
    session = get_session()
    # Of concurrent requests for one phone exactly one creates it; each other one is told so,
    # none silently merged into it.
    contact = rules.create_contact(session, phone, name)
    if contact is None:
        raise Conflict(f"a contact with phone {phone} exists already")
    # A number on the suppression list starts stopped, and stopped contacts are in no group.
    joins = contact.status == ContactStatus.ACTIVE
    for group_name in dict.fromkeys(group.strip() for group in groups) if joins else ():
        contact.groups.append(_group(session, group_name))
    if status is not None and joins:
        rules.set_status(
            session,
            contact,
            status,
            rules.Cause(source=EventSource.API, actor=g.api_key.name, reason="created so"),
        )
    session.commit()
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


def _group(session: Session, name: str) -> Group:
    # Created with ON CONFLICT: two requests naming one new group both find it.
    insert_or_ignore(session, Group, ["name"], {"name": name})
    return session.scalars(select(Group).where(Group.name == name)).one()


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
    try:
        data = request.get_json(force=True, silent=True)
    except RecursionError:
        raise InvalidRequest("the request body is JSON nested too deeply") from None
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
    if not isinstance(value, str):
        raise InvalidRequest(f"'{field}' must be a string, not {_json_type(value)}")
    if not value.strip():
        raise InvalidRequest(f"'{field}' is empty: leave it out or give some text")
    if len(value) > max_length:
        raise InvalidRequest(f"'{field}' is longer than {max_length} characters")
    return storable(value.strip(), field)


def _json_type(value: object) -> str:
    """What a JSON value is, in JSON's words, for error messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {dict: "an object", list: "an array"}.get(type(value), type(value).__name__)


# Routes of the same blueprint kept in modules of their own.
from . import api_groups, api_lists  # noqa: E402, F401
