"""The events outbox: each event to the application is a row written in the same transaction as
the change it reports, then delivered by a worker job (see ``delivery``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow


class EventState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    # Retried for APP_WEBHOOK_RETRY_SECONDS without success: given up, so the contact's later
    # events are not held back forever.
    FAILED = "failed"


class AppEvent(Base):
    __tablename__ = "app_events"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state"),
        # The deliverer's look-ups: the due events, and whether an earlier event of the same
        # contact is still pending (order per contact). Partial, so it holds only the backlog.
        Index(
            "ix_app_events_pending",
            "contact_id",
            "id",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )

    # The id is the order of events: the transaction that wrote them decides it.
    id: Mapped[int] = mapped_column(primary_key=True)
    # The Standard Webhooks `webhook-id`: the same on every retry, so the application can
    # de-duplicate.
    webhook_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    # No foreign key: an event outlives the deletion of its contact, and is still delivered.
    contact_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Set for events a writer may report twice (a message reaching a status), so the second
    # report is dropped by the unique index.
    dedup_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=EventState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
