"""Listing messages and contacts with filters and keyset cursors (SPEC §5): applications that
cannot take webhooks poll ``GET /api/v1/messages``; ``GET /api/v1/contacts`` pages through
contacts.

Keyset pagination on the id: each page is one indexed range scan however deep it goes, and a
row committed while a client pages is neither skipped nor shown twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, jsonify, request
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import selectinload

from . import rules
from .api import _contact_json, _message_json, blueprint
from .db import get_session, utcnow
from .errors import InvalidRequest
from .inputs import MAX_ID, storable
from .models import Contact, ContactStatus, Direction, Message, MessageStatus

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Only messages at least this old are listed: ids are handed out when a transaction inserts,
# not when it commits, so a message younger than the longest write could still appear behind
# a cursor the client has passed.
DEFAULT_SETTLE_SECONDS = 2.0
_DIRECTIONS = {"inbound": Direction.INBOUND.value, "outbound": Direction.OUTBOUND.value}


@blueprint.get("/messages")
def list_messages():  # type: ignore[no-untyped-def]
    args = request.args
    # A blocked or archived contact's inbound is stored as archived and never forwarded
    # (SPEC §1.1): polling is a way of forwarding, so it never lists them either.
    where: list[ColumnElement[bool]] = [Message.status != MessageStatus.ARCHIVED.value]
    direction = args.get("direction")
    if direction is not None:
        if direction not in _DIRECTIONS:
            raise InvalidRequest("'direction' must be inbound or outbound")
        where.append(Message.direction == _DIRECTIONS[direction])
    status = args.get("status")
    if status is not None:
        allowed = [s.value for s in MessageStatus]
        if status not in allowed:
            raise InvalidRequest(f"'status' must be one of {', '.join(allowed)}")
        where.append(Message.status == status)
    since = args.get("since")
    if since is not None:
        where.append(Message.created_on >= _time(since, "since"))
    after = _cursor()
    if after is not None:
        where.append(Message.id > after)
    settle = float(current_app.config.get("POLL_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))
    where.append(Message.created_on <= utcnow() - timedelta(seconds=settle))
    limit = _limit()
    messages = (
        get_session()
        .scalars(
            select(Message)
            .options(selectinload(Message.contact))
            .where(*where)
            .order_by(Message.id)
            .limit(limit)
        )
        .all()
    )
    # A feed: the cursor to poll with next time, even when this page was short.
    last = messages[-1].id if messages else after
    return jsonify(
        messages=[_message_json(message) for message in messages],
        next_cursor=str(last) if last is not None else None,
    )


@blueprint.get("/contacts")
def list_contacts():  # type: ignore[no-untyped-def]
    args = request.args
    where: list[ColumnElement[bool]] = []
    status = args.get("status")
    if status is not None:
        allowed = [s.value for s in ContactStatus]
        if status not in allowed:
            raise InvalidRequest(f"'status' must be one of {', '.join(allowed)}")
        where.append(Contact.status == status)
    never_seen = args.get("never_seen", "").lower() in ("1", "true", "yes")
    before = args.get("last_seen_before")
    if before is not None or never_seen:
        when = _time(before, "last_seen_before") if before is not None else None
        where.append(rules.dormant_filter(when, include_never_seen=never_seen))
    q = storable((args.get("q") or "").strip(), "q")
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            or_(Contact.phone.like(pattern, escape="\\"), Contact.name.ilike(pattern, escape="\\"))
        )
    after = _cursor()
    if after is not None:
        where.append(Contact.id > after)
    limit = _limit()
    contacts = (
        get_session()
        .scalars(
            select(Contact)
            .options(selectinload(Contact.groups))
            .where(*where)
            .order_by(Contact.id)
            .limit(limit)
        )
        .all()
    )
    # A listing: no cursor once the last page is reached.
    full = len(contacts) == limit
    return jsonify(
        contacts=[_contact_json(contact) for contact in contacts],
        next_cursor=str(contacts[-1].id) if full else None,
    )


def _limit() -> int:
    value = request.args.get("limit")
    if value is None:
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"'limit' must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def _cursor() -> int | None:
    value = request.args.get("cursor")
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or int(value) > MAX_ID:
        raise InvalidRequest("'cursor' must be a next_cursor this API returned")
    return int(value)


def _time(value: str, field: str) -> datetime:
    """An ISO 8601 time or date; a time without a zone is UTC, a date is its midnight UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            raise InvalidRequest(
                f"'{field}' must be an ISO 8601 time or date, e.g. 2025-01-31T09:00:00Z"
            ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
