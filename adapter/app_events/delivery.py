"""Delivering the events outbox to ``APP_WEBHOOK_URL``, signed by the Standard Webhooks scheme.

One RQ job (queue ``app_events``) delivers at a time per deployment, under a Redis lock. Each
round takes, oldest first, the due events that have no earlier pending event of the same contact,
so a contact's events arrive in order: a failing event holds back its contact's later ones, not
other contacts'. The round POSTs them in parallel, then stores the outcomes. A failed event is
tried again with backoff, with the same ``webhook-id``, for ``APP_WEBHOOK_RETRY_SECONDS``
(three days by default); then it is given up as ``failed`` and its contact's next events go on.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import aliased
from standardwebhooks import Webhook

from ..db import transaction, utcnow
from ..queue import named_queue, redis_connection, redis_key
from .models import AppEvent, EventState

log = logging.getLogger(__name__)

EVENTS_QUEUE = "app_events"
# Events posted per round at most, and in parallel at most.
BATCH = 100
CONCURRENCY = 8
# A delivery job hands the worker back to RQ after this long (sends must not wait on it).
RUN_SECONDS = 2.0
DEFAULT_RETRY_SECONDS = 3 * 24 * 3600
DEFAULT_TIMEOUT_SECONDS = 10.0
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
WAKE_TTL_SECONDS = 30
LOCK_TTL_SECONDS = 120


@dataclass(frozen=True)
class _Due:
    id: int
    webhook_id: str
    body: str
    attempts: int
    created_on: datetime


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 5, 10, 20, ... then hourly."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


def event_body(event_type: str, created_on: datetime, data: dict[str, Any]) -> str:
    """The JSON the application receives: the same bytes on every retry."""
    payload = {"type": event_type, "timestamp": created_on.isoformat(), "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def due_filter(now: datetime):  # type: ignore[no-untyped-def]
    """Pending events due at ``now`` with no earlier pending event of their contact."""
    earlier = aliased(AppEvent)
    held_back = exists().where(
        and_(
            earlier.contact_id == AppEvent.contact_id,
            earlier.id < AppEvent.id,
            earlier.state == EventState.PENDING.value,
        )
    )
    return and_(
        AppEvent.state == EventState.PENDING.value,
        AppEvent.next_attempt_at <= now,
        ~held_back,
    )


def deliver_due(now: datetime | None = None, limit: int = BATCH) -> int:
    """One round: post the due events, store the outcomes; returns how many were tried."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config.get("APP_WEBHOOK_URL")
    if not url:
        return 0
    now = now or utcnow()
    with transaction() as session:
        rows = session.execute(
            select(
                AppEvent.id,
                AppEvent.webhook_id,
                AppEvent.type,
                AppEvent.data,
                AppEvent.attempts,
                AppEvent.created_on,
            )
            .where(due_filter(now))
            .order_by(AppEvent.id)
            .limit(limit)
        ).all()
    if not rows:
        return 0
    due = [
        _Due(r.id, r.webhook_id, event_body(r.type, r.created_on, r.data), r.attempts, r.created_on)
        for r in rows
    ]
    signer = Webhook(app.config["APP_WEBHOOK_SECRET"])
    timeout = float(app.config.get("APP_WEBHOOK_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS)
    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(due))) as pool:
        errors = list(pool.map(lambda d: _post(url, signer, d, timeout), due))
    _store(app, due, errors, now)
    return len(due)


def _post(url: str, signer: Webhook, due: _Due, timeout: float) -> str | None:
    """POST one event; None when the application took it (2xx), else what went wrong."""
    sent_at = datetime.now().astimezone()
    headers = {
        "Content-Type": "application/json",
        "webhook-id": due.webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signer.sign(due.webhook_id, sent_at, due.body),
    }
    try:
        response = _http().post(url, data=due.body.encode(), headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return f"no answer: {exc.__class__.__name__}"
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def _store(app: Flask, due: list[_Due], errors: list[str | None], now: datetime) -> None:
    give_up_after = timedelta(
        seconds=float(app.config.get("APP_WEBHOOK_RETRY_SECONDS") or DEFAULT_RETRY_SECONDS)
    )
    delivered = [d.id for d, error in zip(due, errors, strict=True) if error is None]
    with transaction() as session:
        if delivered:
            session.execute(
                update(AppEvent)
                .where(AppEvent.id.in_(delivered))
                .values(
                    state=EventState.DELIVERED.value,
                    attempts=AppEvent.attempts + 1,
                    delivered_on=utcnow(),
                    last_error=None,
                )
                .execution_options(synchronize_session=False)
            )
        for event, error in zip(due, errors, strict=True):
            if error is None:
                continue
            attempts = event.attempts + 1
            expired = now - event.created_on >= give_up_after
            log.warning(
                "event %s to the application: %s (attempt %d)%s",
                event.webhook_id,
                error,
                attempts,
                "; giving up" if expired else "",
            )
            session.execute(
                update(AppEvent)
                .where(AppEvent.id == event.id)
                .values(
                    state=(EventState.FAILED if expired else EventState.PENDING).value,
                    attempts=attempts,
                    next_attempt_at=now + timedelta(seconds=retry_delay(attempts)),
                    last_error=error[:200],
                )
                .execution_options(synchronize_session=False)
            )


_session: requests.Session | None = None


def _http() -> requests.Session:
    """One pooled session per process, shared by the delivery threads."""
    global _session
    if _session is None:
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=CONCURRENCY, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _session = session
    return _session


# --- the RQ job and its wake-ups ---------------------------------------------------------------


def wake_events(app: Flask | None = None) -> bool:
    """Make sure a delivery job is queued; False when Redis is away (the worker's pump wakes
    the deliverer once it is back, and the events wait in the database)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("APP_WEBHOOK_URL"):
        return False
    try:
        redis = redis_connection(app)
        if redis.set(redis_key("events", "wake", app=app), 1, nx=True, ex=WAKE_TTL_SECONDS):
            named_queue(EVENTS_QUEUE, app).enqueue(deliver_events, result_ttl=0)
    except RedisError as exc:
        log.warning("Redis unavailable (%s); events left for the pump", exc.__class__.__name__)
        return False
    return True


def deliver_events() -> int:
    """The RQ job: deliver rounds for up to RUN_SECONDS; returns how many events were tried."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    redis = redis_connection(app)
    # From here on a wake-up queues another run: nothing committed meanwhile is missed.
    redis.delete(redis_key("events", "wake", app=app))
    lock = redis.lock(redis_key("events", "lock", app=app), timeout=LOCK_TTL_SECONDS)
    if not lock.acquire(blocking=True, blocking_timeout=RUN_SECONDS):
        return 0
    started = time.monotonic()
    tried = 0
    try:
        while time.monotonic() - started < RUN_SECONDS:
            done = deliver_due()
            tried += done
            if not done:
                return tried
    finally:
        lock.release()
    wake_events(app)
    return tried


def pending_due(now: datetime | None = None) -> int:
    with transaction() as session:
        return (
            session.scalar(
                select(func.count()).select_from(AppEvent).where(due_filter(now or utcnow()))
            )
            or 0
        )


def pump(app: Flask) -> None:
    """The worker's periodic check: wake the deliverer when events are due (retries whose
    backoff has passed, events committed while Redis was away)."""
    if app.config.get("APP_WEBHOOK_URL") and pending_due():
        wake_events(app)
