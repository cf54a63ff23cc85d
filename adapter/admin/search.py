"""Finding contacts for the admin page: folders, search criteria and keyset pages.

Every page is one index range read (see migration 0004): a folder newest first on
(status, id); a last_seen_on search oldest first on (status, last_seen_on, id); never seen on the
same index's NULL range by id; a full phone number on the unique phone index. No OFFSET.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, tuple_
from sqlalchemy.orm import Session

from ..errors import InvalidPhone, InvalidRequest
from ..models import Contact, ContactStatus
from ..phone import to_e164
from .models import contact_counts

PAGE_SIZE = 50
FOLDERS = tuple(ContactStatus)
_PHONE_CHARS = re.compile(r"^[\d\s+().\-/]+$")
_LIKE_SPECIAL = re.compile(r"([\\%_])")


@dataclass(frozen=True)
class Criteria:
    """What staff asked for: a folder, and optionally a number or name and a last-seen range."""

    folder: ContactStatus = ContactStatus.ACTIVE
    q: str = ""
    seen_before: date | None = None
    seen_after: date | None = None
    never_seen: bool = False
    # Set when ``q`` is a whole phone number: the search is that one contact, in any folder.
    phone: str | None = field(default=None, compare=False)

    @property
    def by_last_seen(self) -> bool:
        return self.seen_before is not None or self.seen_after is not None

    def as_args(self) -> dict[str, str]:
        """The criteria as query-string arguments (links, hidden form fields, job arguments)."""
        args = {"folder": self.folder.value}
        if self.q:
            args["q"] = self.q
        if self.seen_before:
            args["seen_before"] = self.seen_before.isoformat()
        if self.seen_after:
            args["seen_after"] = self.seen_after.isoformat()
        if self.never_seen:
            args["never_seen"] = "y"
        return args

    def describe(self) -> str:
        parts = [f"{self.folder.value} contacts"]
        if self.phone:
            parts = [f"the contact {self.phone}"]
        elif self.q:
            parts.append(f"matching {self.q!r}")
        if self.never_seen:
            parts.append("never seen")
        if self.seen_before:
            parts.append(f"last seen before {self.seen_before.isoformat()}")
        if self.seen_after:
            parts.append(f"last seen on or after {self.seen_after.isoformat()}")
        return ", ".join(parts)


def parse_criteria(args: Mapping[str, Any], default_region: str | None) -> Criteria:
    """Criteria from a query string or form; raises :class:`InvalidRequest` saying what is wrong."""
    folder_value = (args.get("folder") or ContactStatus.ACTIVE.value).strip().lower()
    try:
        folder = ContactStatus(folder_value)
    except ValueError:
        raise InvalidRequest(
            f"unknown folder {folder_value!r}: use one of {', '.join(FOLDERS)}"
        ) from None
    q = (args.get("q") or "").strip()[:200]
    never_seen = (args.get("never_seen") or "").lower() in ("y", "yes", "on", "true", "1")
    before = _date(args.get("seen_before"), "last seen before")
    after = _date(args.get("seen_after"), "last seen after")
    if never_seen and (before or after):
        raise InvalidRequest("'never seen' cannot be combined with a last-seen date")
    if before and after and after >= before:
        raise InvalidRequest("'last seen after' must be earlier than 'last seen before'")
    phone = None
    if q and _PHONE_CHARS.match(q):
        try:
            phone = to_e164(q, default_region)
        except InvalidPhone:
            phone = None
    return Criteria(folder, q, before, after, never_seen, phone)


def _date(value: object, label: str) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"{label}: {text!r} is not a date like 2025-01-31") from None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _digits_prefixes(q: str, default_region: str | None) -> list[str]:
    """E.164 prefixes a partly typed number may stand for: as typed, and in the default region."""
    import phonenumbers

    digits = re.sub(r"\D", "", q)
    prefixes = ["+" + digits]
    code = phonenumbers.country_code_for_region(default_region or "")
    if code and not q.lstrip().startswith("+"):
        prefixes.append(f"+{code}{digits}")
    return prefixes


def where(criteria: Criteria, default_region: str | None = None) -> list[ColumnElement[bool]]:
    """The SQL conditions of ``criteria``: what a page lists and what a bulk job acts on."""
    if criteria.phone:
        return [Contact.phone == criteria.phone]
    clauses: list[ColumnElement[bool]] = [Contact.status == criteria.folder.value]
    if criteria.q:
        if _PHONE_CHARS.match(criteria.q) and re.search(r"\d", criteria.q):
            prefixes = _digits_prefixes(criteria.q, default_region)
            clauses.append(or_(*(Contact.phone.startswith(p, autoescape=True) for p in prefixes)))
        else:
            pattern = _LIKE_SPECIAL.sub(r"\\\1", criteria.q.lower()) + "%"
            clauses.append(func.lower(Contact.name).like(pattern, escape="\\"))
    if criteria.never_seen:
        clauses.append(Contact.last_seen_on.is_(None))
    if criteria.seen_before:
        clauses.append(Contact.last_seen_on < _midnight(criteria.seen_before))
    if criteria.seen_after:
        clauses.append(Contact.last_seen_on >= _midnight(criteria.seen_after))
    return clauses


@dataclass
class Page:
    contacts: list[Contact]
    next_cursor: str | None


def page(
    session: Session,
    criteria: Criteria,
    cursor: str | None,
    default_region: str | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One keyset page of the contacts matching ``criteria``, after ``cursor``."""
    query: Select[tuple[Contact]] = select(Contact).where(*where(criteria, default_region))
    if criteria.by_last_seen:
        query = query.order_by(Contact.last_seen_on, Contact.id)
        if cursor:
            seen, contact_id = _cursor_pair(cursor)
            query = query.where(tuple_(Contact.last_seen_on, Contact.id) > (seen, contact_id))
    else:
        query = query.order_by(Contact.id.desc())
        if cursor:
            query = query.where(Contact.id < _cursor_id(cursor))
    rows = list(session.scalars(query.limit(size + 1)))
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        if criteria.by_last_seen and last.last_seen_on is not None:
            next_cursor = f"{last.last_seen_on.isoformat()}~{last.id}"
        else:
            next_cursor = str(last.id)
    return Page(rows, next_cursor)


def _cursor_id(cursor: str) -> int:
    try:
        return int(cursor)
    except ValueError:
        raise InvalidRequest("the page cursor is not one this page made; start again") from None


def _cursor_pair(cursor: str) -> tuple[datetime, int]:
    try:
        seen, contact_id = cursor.split("~", 1)
        return datetime.fromisoformat(seen), int(contact_id)
    except ValueError:
        raise InvalidRequest("the page cursor is not one this page made; start again") from None


def count(session: Session, criteria: Criteria, default_region: str | None = None) -> int:
    """How many contacts match: read before a bulk job, never on an ordinary page view."""
    return (
        session.scalar(
            select(func.count()).select_from(Contact).where(*where(criteria, default_region))
        )
        or 0
    )


def folder_counts(session: Session) -> dict[str, int]:
    """Contacts per status, from the trigger-kept counts table: a few dozen rows, not a scan."""
    totals = {status.value: 0 for status in FOLDERS}
    rows = session.execute(
        select(contact_counts.c.status, func.sum(contact_counts.c.n)).group_by(
            contact_counts.c.status
        )
    )
    for status, total in rows:
        totals[status] = int(total or 0)
    return totals
