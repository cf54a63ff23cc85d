"""``GET /metrics`` in Prometheus text format (issue 10 *Operations*), via ``prometheus_client``.

Counters are counted once the transaction that made the change has committed (a rolled-back STOP
is no opt-out): :func:`after_commit` queues the increment in the session and a listener applies
it on commit. Across gunicorn's worker processes and the RQ worker, set
``PROMETHEUS_MULTIPROC_DIR`` to a directory every process of the deployment can write (emptied at
each deploy): each process then writes its counts there and ``/metrics`` adds them up. The
backlog figures (queue depth, events pending and failed) are read from the database at scrape
time, so every process answers alike.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime

from flask import Blueprint, Response, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .db import utcnow

blueprint = Blueprint("metrics", __name__)

_PENDING = "adapter.metrics.pending"

INBOUND = Counter(
    "sms_inbound_messages_total",
    "Inbound messages stored, by channel and whether they reach the application.",
    ["channel", "forwarded"],
)
OPT_OUTS = Counter(
    "sms_opt_outs_total",
    "Contacts that opted out or were stopped, by source (keyword, provider, intent, staff, api, "
    "import, bulk, system).",
    ["source"],
)
OPT_INS = Counter(
    "sms_opt_ins_total",
    "Contacts that opted back in or were made active again, by source.",
    ["source"],
)
OUTBOUND = Counter(
    "sms_outbound_messages_total",
    "Outbound messages by the status they reached, and the suppression reason.",
    ["channel", "status", "reason"],
)
PROVIDER_ERRORS = Counter(
    "sms_provider_errors_total",
    "Outbound messages failed or undelivered, by the provider's error code.",
    ["channel", "code"],
)
SEND_LATENCY = Histogram(
    "sms_send_latency_seconds",
    "From a message being accepted to the provider taking it (status sent).",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
)


def after_commit(session: Session, increment: Callable[[], None]) -> None:
    """Apply ``increment`` if and when ``session``'s transaction commits."""
    session.info.setdefault(_PENDING, []).append(increment)


def count_inbound(session: Session, channel: str, forwarded: bool) -> None:
    after_commit(session, INBOUND.labels(channel, str(forwarded).lower()).inc)


def count_status_change(
    session: Session, old: str | None, new: str, source: str, contacts: int = 1
) -> None:
    """A change of status or consent; entering or leaving an opt-out counts."""
    if new in ("stopped", "opted_out") and old not in ("stopped", "opted_out"):
        after_commit(session, lambda: OPT_OUTS.labels(source).inc(contacts))
    elif old in ("stopped", "opted_out") and new in ("active", "opted_in"):
        after_commit(session, lambda: OPT_INS.labels(source).inc(contacts))


def count_outbound(
    session: Session,
    channel: str,
    status: str,
    reason: str | None,
    error_code: str | None,
    created_on: datetime,
) -> None:
    after_commit(session, OUTBOUND.labels(channel, status, reason or "").inc)
    if status in ("failed", "undelivered") and error_code:
        after_commit(session, PROVIDER_ERRORS.labels(channel, error_code).inc)
    if status == "sent":
        latency = max(0.0, (utcnow() - created_on).total_seconds())
        after_commit(session, lambda: SEND_LATENCY.observe(latency))


@event.listens_for(Session, "after_commit")
def _apply(session: Session) -> None:
    for increment in session.info.pop(_PENDING, ()):
        increment()


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)


class _Backlog(Collector):
    """What is waiting, read from the database at scrape time."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from .app_events.models import AppEvent
        from .models import Direction, Message, MessageStatus

        try:
            with self.engine.connect() as connection:
                queued = connection.execute(
                    select(Message.channel, func.count())
                    .where(
                        Message.status == MessageStatus.QUEUED.value,
                        Message.direction == Direction.OUTBOUND.value,
                    )
                    .group_by(Message.channel)
                ).all()
                events = dict(
                    connection.execute(
                        select(AppEvent.state, func.count())
                        .where(AppEvent.state.in_(["pending", "failed"]))
                        .group_by(AppEvent.state)
                    ).all()
                )
        except SQLAlchemyError:
            return
        depth = GaugeMetricFamily(
            "sms_queue_depth", "Outbound messages queued, by channel.", labels=["channel"]
        )
        for channel, count in queued:
            depth.add_metric([channel], count)
        yield depth
        app_events = GaugeMetricFamily(
            "sms_app_events", "Events to the application not delivered, by state.", labels=["state"]
        )
        for state in ("pending", "failed"):
            app_events.add_metric([state], events.get(state, 0))
        yield app_events


@blueprint.get("/metrics")
def metrics():  # type: ignore[no-untyped-def]
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
        registries = [registry]
    else:
        registries = [REGISTRY, registry]
    registry.register(_Backlog(current_app.extensions["adapter.engine"]))
    body = b"".join(generate_latest(r) for r in registries)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
