"""The dashboard's figures: opt-outs and opt-ins per day by source, messages per day by status,
the queue depth, and a server-rendered SVG chart (no script, no front-end build)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import ContactEvent, ContactStatus, Direction, EventKind, Message, MessageStatus
from ..queue import WORKER_QUEUES, named_queue

DAYS = 30
MESSAGE_STATUSES = (
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.SUPPRESSED,
    MessageStatus.FAILED,
)
# One colour per event source in the chart (colour-blind friendly palette).
SOURCE_COLOURS = {
    "keyword": "#0072b2",
    "provider": "#d55e00",
    "intent": "#cc79a7",
    "staff": "#009e73",
    "api": "#e69f00",
    "bulk": "#56b4e9",
    "import": "#f0e442",
    "system": "#999999",
}


def _day(session: Session, column: ColumnElement) -> ColumnElement:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def _opt_out() -> ColumnElement[bool]:
    return or_(
        and_(
            ContactEvent.kind == EventKind.STATUS.value,
            ContactEvent.new_value == ContactStatus.STOPPED.value,
        ),
        and_(ContactEvent.kind == EventKind.CONSENT.value, ContactEvent.new_value == "opted_out"),
    )


def _opt_in() -> ColumnElement[bool]:
    return or_(
        and_(
            ContactEvent.kind == EventKind.STATUS.value,
            ContactEvent.old_value == ContactStatus.STOPPED.value,
            ContactEvent.new_value == ContactStatus.ACTIVE.value,
        ),
        and_(ContactEvent.kind == EventKind.CONSENT.value, ContactEvent.new_value == "opted_in"),
    )


@dataclass
class Figures:
    days: list[str]
    opt_outs: dict[str, dict[str, int]]  # day -> source -> count
    opt_ins: dict[str, int]
    messages: dict[str, dict[str, int]]  # day -> status -> count
    queue_depth: dict[str, int]
    queued_messages: int

    @property
    def sources(self) -> list[str]:
        seen = {source for per_day in self.opt_outs.values() for source in per_day}
        return [source for source in SOURCE_COLOURS if source in seen] + sorted(
            seen - SOURCE_COLOURS.keys()
        )


def figures(session: Session, days: int = DAYS) -> Figures:
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    since = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    day_list = [(first + timedelta(days=i)).isoformat() for i in range(days)]

    opt_outs: dict[str, dict[str, int]] = defaultdict(dict)
    day = _day(session, ContactEvent.created_on)
    rows = session.execute(
        select(day, ContactEvent.source, func.count())
        .where(ContactEvent.created_on >= since, _opt_out())
        .group_by(day, ContactEvent.source)
    )
    for when, source, n in rows:
        opt_outs[when][source] = n
    opt_ins = dict(
        session.execute(
            select(day, func.count())
            .where(ContactEvent.created_on >= since, _opt_in())
            .group_by(day)
        ).all()
    )
    messages: dict[str, dict[str, int]] = defaultdict(dict)
    message_day = _day(session, Message.created_on)
    rows = session.execute(
        select(message_day, Message.status, func.count())
        .where(
            Message.created_on >= since,
            Message.direction == Direction.OUTBOUND.value,
            Message.status.in_([s.value for s in MESSAGE_STATUSES]),
        )
        .group_by(message_day, Message.status)
    )
    for when, status, n in rows:
        messages[when][status] = n
    queued = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.status == MessageStatus.QUEUED.value)
    )
    return Figures(day_list, dict(opt_outs), opt_ins, dict(messages), queue_depth(), queued or 0)


def queue_depth() -> dict[str, int]:
    """Jobs waiting on each worker queue; -1 where Redis does not answer."""
    from redis.exceptions import RedisError

    depth = {}
    for name in WORKER_QUEUES:
        try:
            depth[name] = len(named_queue(name))
        except RedisError:
            depth[name] = -1
    return depth


@dataclass
class Bar:
    x: float
    y: float
    height: float
    colour: str
    title: str


def opt_out_chart(data: Figures, width: int = 600, height: int = 200) -> dict[str, object]:
    """Stacked bars, one per day, one colour per source: coordinates for the SVG template."""
    totals = [sum(data.opt_outs.get(day, {}).values()) for day in data.days]
    peak = max([*totals, 1])
    slot = width / len(data.days)
    bars: list[Bar] = []
    for i, day in enumerate(data.days):
        y = float(height)
        for source in data.sources:
            n = data.opt_outs.get(day, {}).get(source, 0)
            if not n:
                continue
            h = n * height / peak
            y -= h
            bars.append(
                Bar(i * slot + 1, y, h, SOURCE_COLOURS.get(source, "#333"), f"{day} {source}: {n}")
            )
    return {
        "width": width,
        "height": height,
        "bar_width": max(slot - 2, 1),
        "bars": bars,
        "peak": peak,
        "legend": [(source, SOURCE_COLOURS.get(source, "#333")) for source in data.sources],
        "first": data.days[0],
        "last": data.days[-1],
    }
