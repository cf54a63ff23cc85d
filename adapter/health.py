"""``GET /healthz`` (SPEC §5 *Operations*): the database and Redis checked separately, so a 503
says which store is down; with both up, how much work is waiting."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from .app_events.models import AppEvent, EventState
from .models import Direction, Message, MessageStatus
from .queue import redis_problem

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {}
    failed: list[str] = []
    try:
        body.update(_database_figures())
        body["database"] = "ok"
    except SQLAlchemyError as exc:
        # The exception class only: its text can carry the database URL.
        body["database"] = f"unavailable ({exc.__class__.__name__})"
        failed.append("database")
    problem = redis_problem()
    body["redis"] = "ok" if problem is None else problem
    if problem is not None:
        failed.append("redis")
    if failed:
        body["status"] = "unavailable"
        body["failed"] = failed
        return jsonify(body), 503
    body["status"] = "ok"
    return jsonify(body), 200


def _database_figures() -> dict[str, int]:
    engine = current_app.extensions["adapter.engine"]
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        queued = connection.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.status == MessageStatus.QUEUED.value,
                Message.direction == Direction.OUTBOUND.value,
            )
        )
        events = connection.execute(
            select(AppEvent.state, func.count())
            .where(AppEvent.state.in_([EventState.PENDING.value, EventState.FAILED.value]))
            .group_by(AppEvent.state)
        ).all()
    counts = dict(events)
    return {
        "queue_depth": queued or 0,
        "events_pending": counts.get(EventState.PENDING.value, 0),
        "events_failed": counts.get(EventState.FAILED.value, 0),
    }
