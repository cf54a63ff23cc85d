"""Sending messages, reading one, and polling the message feed (SPEC §5)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, jsonify
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import rules
from ..db import get_session, utcnow
from ..dispatch import wake
from ..errors import Conflict, InvalidRequest, MessageNotFound
from ..models import ApiKey, Direction, Message, MessageKind, MessageStatus
from ..outbox import create_outbound
from . import blueprint
from .groups import send_to_group
from .lookups import phone
from .openapi import answers, spec
from .render import message_json
from .schemas import MessageAnswer, MessageRequest, MessagesPage, MessagesQuery, Queued

# Only messages at least this old are listed: ids are handed out when a transaction inserts,
# not when it commits, so a message younger than the longest write could still appear behind
# a cursor the client has passed.
DEFAULT_SETTLE_SECONDS = 2.0
_DIRECTIONS = {"inbound": Direction.INBOUND.value, "outbound": Direction.OUTBOUND.value}


@blueprint.post("/messages")
@spec.validate(resp=answers(202, Queued, 404, 409, 413), tags=["messages"])
def create_message(json: MessageRequest):  # type: ignore[no-untyped-def]
    """Queue a message to one number, or to every active member of a group.

    The contact's status is read again when the message is sent: someone who opts out before
    then is not texted. A group send answers with a list of the queued messages instead.
    """
    api_key: ApiKey = g.api_key
    channel = checked_channel(json.body, json.channel)
    if json.group is not None:
        return send_to_group(json.group, json.body, channel, api_key)
    to = phone(json.to)
    session = get_session()
    key = json.idempotency_key
    if key is not None:
        earlier = _by_idempotency_key(api_key, key)
        if earlier is not None:
            return _repeated(earlier, to, json.body, channel)
    try:
        contact = rules.get_or_create_contact(session, to)
        message = create_outbound(
            session,
            contact,
            json.body,
            kind=MessageKind.API,
            channel=channel,
            api_key_id=api_key.id,
            idempotency_key=key,
        )
        session.commit()
    except IntegrityError:
        # The same idempotency key (or a new contact) committed by a concurrent request.
        session.rollback()
        earlier = _by_idempotency_key(api_key, key) if key else None
        if earlier is None:
            raise
        return _repeated(earlier, to, json.body, channel)
    wake(message.channel)
    return jsonify(message_json(message)), 202


def checked_channel(body: str, channel: str | None) -> str:
    """The channel a request names (or the default one), if configured and the body fits it."""
    channels: list[str] = current_app.extensions["adapter.channels"]
    if channel is None:
        channel = current_app.extensions["adapter.channel"]
    elif channel not in channels:
        raise InvalidRequest(
            f"'channel' {channel[:40]!r} is not a configured channel; use one of: "
            + ", ".join(channels)
        )
    limit = current_app.extensions["adapter.providers"][channel].max_body_length
    if len(body) > limit:
        raise InvalidRequest(f"'body' is {len(body)} characters; {channel} takes at most {limit}")
    return channel


def _repeated(earlier: Message, to: str, body: str, channel: str):  # type: ignore[no-untyped-def]
    """The answer to a request whose idempotency key names ``earlier``: the same message again
    when the request is the same, a 409 when the key is being reused for another message."""
    if earlier.contact.phone != to or earlier.body != body or earlier.channel != channel:
        raise Conflict(
            f"idempotency_key {earlier.idempotency_key!r} was already used for message "
            f"{earlier.id} with a different 'to', 'body' or 'channel'; use a new key for a new "
            "message"
        )
    return jsonify(message_json(earlier)), 202


def _by_idempotency_key(api_key: ApiKey, key: str) -> Message | None:
    return get_session().scalar(
        select(Message).where(Message.api_key_id == api_key.id, Message.idempotency_key == key)
    )


@blueprint.get("/messages/<int:message_id>")
@spec.validate(resp=answers(200, MessageAnswer, 404), tags=["messages"])
def get_message(message_id: int):  # type: ignore[no-untyped-def]
    """One message, inbound or outbound, with its current status."""
    message = get_session().get(Message, message_id)
    if message is None:
        raise MessageNotFound(f"no message with id {message_id}")
    return jsonify(message_json(message))


@blueprint.get("/messages")
@spec.validate(resp=answers(200, MessagesPage), tags=["messages"])
def list_messages(query: MessagesQuery):  # type: ignore[no-untyped-def]
    """The message feed, oldest first, for applications that poll instead of taking webhooks.

    Keyset pagination on the id: each page is one indexed range scan however deep it goes, and
    a message committed while a client pages is neither skipped nor shown twice. Inbound
    messages of blocked or archived contacts are never listed (SPEC §1.1).
    """
    where: list[ColumnElement[bool]] = [Message.status != MessageStatus.ARCHIVED.value]
    if query.direction is not None:
        where.append(Message.direction == _DIRECTIONS[query.direction])
    if query.status is not None:
        where.append(Message.status == query.status.value)
    if query.since is not None:
        where.append(Message.created_on >= query.since)
    after = query.cursor
    if after is not None:
        where.append(Message.id > after)
    settle = float(current_app.config.get("POLL_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))
    where.append(Message.created_on <= utcnow() - timedelta(seconds=settle))
    messages = (
        get_session()
        .scalars(
            select(Message)
            .options(selectinload(Message.contact))
            .where(*where)
            .order_by(Message.id)
            .limit(query.limit)
        )
        .all()
    )
    # A feed: the cursor to poll with next time, even when this page was short.
    last = messages[-1].id if messages else after
    return jsonify(
        messages=[message_json(message) for message in messages],
        next_cursor=str(last) if last is not None else None,
    )
