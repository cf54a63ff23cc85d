"""Staff accounts, the staff action log, and the folder counts the admin page reads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"


class Staff(Base):
    """A support staff member who logs in to the admin page."""

    __tablename__ = "staff"
    __table_args__ = (CheckConstraint("role IN ('admin', 'agent')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.AGENT.value)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_on: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Flask-Login's user protocol.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def may_delete(self) -> bool:
        return self.role == Role.ADMIN


class StaffAction(Base):
    """What a staff member did that leaves no contact event behind: deletions (the contact and
    its history are gone) and bulk jobs (one line for the whole job, beside its events)."""

    __tablename__ = "staff_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    count: Mapped[int | None] = mapped_column()
    created_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# Kept off Base.metadata on purpose: database triggers keep it equal to the contacts table
# (migration 0004), nothing writes it directly, and emptying "every table" (tests) must not
# reset it while contacts remain.
counts_metadata = MetaData()
contact_counts = Table(
    "contact_counts",
    counts_metadata,
    Column("status", String(16), primary_key=True),
    # Writers add to one of several rows per status (the contact id modulo SHARDS), so concurrent
    # transactions creating or changing contacts rarely wait for each other's count row.
    Column("shard", SmallInteger, primary_key=True),
    Column("n", BigInteger, nullable=False),
)
SHARDS = 16
