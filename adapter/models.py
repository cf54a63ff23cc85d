"""The data model of SPEC §1-2: contacts, groups, messages, contact history, API keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UTCDateTime, utcnow


class ContactStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"
    BLOCKED = "blocked"
    ARCHIVED = "archived"


class EventSource(StrEnum):
    """Who or what caused a change: keyword and provider are the person's own opt-outs."""

    KEYWORD = "keyword"
    # An opt-out request written as a sentence ("please stop texting me"), SPEC §3.
    INTENT = "intent"
    PROVIDER = "provider"
    STAFF = "staff"
    API = "api"
    IMPORT = "import"
    BULK = "bulk"
    SYSTEM = "system"


class EventKind(StrEnum):
    STATUS = "status"
    CONSENT = "consent"
    PHONE_VALID = "phone_valid"
    # An opt-out request in a sentence that changed nothing by itself (policy ask or flag, or
    # a contact already stopped): new_value is the policy, reason the words that triggered it.
    INTENT = "intent"


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class MessageStatus(StrEnum):
    # inbound
    RECEIVED = "received"
    ARCHIVED = "archived"
    # outbound
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class MessageKind(StrEnum):
    INBOUND = "inbound"
    API = "api"
    # Opt-out / opt-in confirmations and HELP answers: the only messages a stopped contact gets.
    COMPLIANCE = "compliance"
    # "Reply STOP to stop all messages from us", after an opt-out request in a sentence under
    # the ask policy: at most one per contact a day, and only to an active contact.
    CLARIFICATION = "clarification"


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(ContactStatus)})", name="status"),
        Index("ix_contacts_status_last_seen_on", "status", "last_seen_on"),
        # SQLite: never hand a deleted row's id out again (migration 0006).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=ContactStatus.ACTIVE.value)
    # The person's own last word on consent (a keyword or a provider's opt-out flag). It outlives a
    # block or an archive, so that unblocking someone who opted out returns them as stopped.
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_valid: Mapped[bool] = mapped_column(Boolean, default=True)
    # Handset-unreachable verdicts (Twilio 30003) since the last delivery; three make it invalid.
    unreachable_count: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_on: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    groups: Mapped[list[Group]] = relationship(
        secondary="group_memberships", back_populates="contacts", order_by="Group.name"
    )

    @property
    def group_names(self) -> list[str]:
        return [group.name for group in self.groups]

    def __repr__(self) -> str:
        return f"<Contact {self.phone} {self.status}>"


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contacts: Mapped[list[Contact]] = relationship(
        secondary="group_memberships", back_populates="groups"
    )


class GroupMembership(Base):
    __tablename__ = "group_memberships"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # A provider retries webhooks; its message id is the de-duplication key.
        UniqueConstraint("channel", "provider_message_id"),
        UniqueConstraint("api_key_id", "idempotency_key"),
        # One compliance reply per inbound message, however often the webhook is retried.
        UniqueConstraint("reply_to_id"),
        CheckConstraint(f"status IN ({_values(MessageStatus)})", name="status"),
        CheckConstraint(f"direction IN ({_values(Direction)})", name="direction"),
        # The dispatcher's claim: a channel's queued messages, compliance replies first, then
        # oldest due first. Partial, so the index holds only the backlog, not the history.
        Index(
            "ix_messages_claim",
            "channel",
            "priority",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
        # The reconciler's scan of sends whose outcome is not known yet.
        Index(
            "ix_messages_in_flight",
            "sending_since",
            postgresql_where=text("status = 'sending'"),
            sqlite_where=text("status = 'sending'"),
        ),
        # SQLite: never hand a deleted row's id out again (migration 0006).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    # Why a message was suppressed: stopped, blocked, archived, phone_invalid.
    reason: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(16))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    # An inbound message that asks in a sentence for no more messages (SPEC §3); forwarded to
    # the application as ``"opt_out_intent": true`` whatever the channel's policy.
    opt_out_intent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Sends tried so far, and when the next may be; a message is claimed once it is due.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Claim order on a channel: compliance replies (0) before everything else (1).
    priority: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # For a compliance reply, the keyword it answers: re-checked against the contact at send time.
    keyword: Mapped[str | None] = mapped_column(String(16))
    # When the latest attempt was claimed (kept afterwards: it is when the gate read the
    # contact); a message `sending` for long is settled by the reconciler.
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contact: Mapped[Contact] = relationship()


class ContactEvent(Base):
    """One change of a contact's status, consent or phone validity (SPEC §1.4)."""

    __tablename__ = "contact_events"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(EventKind)})", name="kind"),
        CheckConstraint(f"source IN ({_values(EventSource)})", name="source"),
        Index("ix_contact_events_contact_id_id", "contact_id", "id"),
        # SQLite: never hand a deleted row's id out again (migration 0006).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    old_value: Mapped[str | None] = mapped_column(String(32))
    new_value: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(32))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    # Names of the groups the contact was removed from by this change (never re-added on return).
    groups_left: Mapped[list[str] | None] = mapped_column(JSON)
    # Set on every event written by one bulk action, so that the action can be traced as a whole.
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # SHA-256 of the key: keys are long random tokens, so a fast hash is enough and lookups stay
    # a single indexed equality.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
