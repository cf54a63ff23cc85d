"""The suppression list: an opt-out that outlives the deletion of its contact (issue 10).

Deleting an archived contact whose last word on consent was an opt-out keeps a keyed hash of its
number (HMAC-SHA256 under a key derived from SECRET_KEY, never the number itself) and the date
of the opt-out. A contact created later for that number, by any path, starts stopped
(``rules.get_or_create_contact`` and the importer call :func:`take`). Changing SECRET_KEY makes
the stored hashes unrecognisable, so keep it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from datetime import datetime

from flask import current_app
from sqlalchemy import ColumnElement, String, delete, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, UTCDateTime, utcnow
from .models import Contact, ContactEvent, ContactStatus, EventKind


class Suppression(Base):
    __tablename__ = "suppressions"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    opted_out_on: Mapped[datetime] = mapped_column(UTCDateTime)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def phone_hash(phone: str) -> str:
    """The keyed hash of an E.164 number: useless without SECRET_KEY, stable with it."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = hmac.new(secret, b"adapter suppression list", hashlib.sha256).digest()
    return hmac.new(key, phone.encode(), hashlib.sha256).hexdigest()


def remember(session: Session, where: Sequence[ColumnElement[bool]]) -> int:
    """Before archived contacts matching ``where`` are deleted: keep the opted-out ones' hashes.
    Returns how many were kept."""
    opted_out_on = (
        select(func.max(ContactEvent.created_on))
        .where(
            ContactEvent.contact_id == Contact.id,
            or_(
                (ContactEvent.kind == EventKind.STATUS.value)
                & (ContactEvent.new_value == ContactStatus.STOPPED.value),
                (ContactEvent.kind == EventKind.CONSENT.value)
                & (ContactEvent.new_value == "opted_out"),
            ),
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(Contact.phone, func.coalesce(opted_out_on, Contact.modified_on)).where(
            Contact.status == ContactStatus.ARCHIVED.value, Contact.opted_out.is_(True), *where
        )
    ).all()
    if not rows:
        return 0
    hashes = {phone_hash(phone): when for phone, when in rows}
    # A number deleted twice keeps the newer record of its opt-out.
    session.execute(delete(Suppression).where(Suppression.phone_hash.in_(list(hashes))))
    now = utcnow()
    session.add_all(
        Suppression(phone_hash=key, opted_out_on=when, created_on=now)
        for key, when in hashes.items()
    )
    session.flush()
    return len(hashes)


def take(session: Session, phones: Iterable[str]) -> dict[str, datetime]:
    """For numbers whose contacts are being created: the ones that opted out before their
    contact was deleted, with the opt-out date. Their entries are removed: the new contact
    carries the opt-out from here on (and leaves a new entry if it is deleted stopped again)."""
    by_hash = {phone_hash(phone): phone for phone in phones}
    if not by_hash:
        return {}
    found = session.execute(
        delete(Suppression)
        .where(Suppression.phone_hash.in_(list(by_hash)))
        .returning(Suppression.phone_hash, Suppression.opted_out_on)
    ).all()
    return {by_hash[key]: when for key, when in found}


def reason(opted_out_on: datetime) -> str:
    return (
        f"this number opted out on {opted_out_on:%Y-%m-%d} before its contact was deleted: "
        "it starts stopped"
    )
