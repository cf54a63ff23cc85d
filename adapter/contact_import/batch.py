"""Applying one batch of import rows in one transaction, set-based: a handful of statements per
batch whatever its size, and the contact rules' own bulk change for statuses, so every change is
an event with source ``import`` (and an event to the application)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import rules, suppressions
from ..db import utcnow
from ..models import Contact, ContactStatus, EventSource, Group, GroupMembership
from .rows import Refusal, Row

ACTOR = "import-contacts"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Created stopped because the number opted out before an earlier contact was deleted.
    created_stopped: int = 0
    # Rows whose groups were not joined because the contact is not active (SPEC §1.1).
    groups_skipped: int = 0
    refused: list[Refusal] = field(default_factory=list)

    def add(self, other: ImportReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.created_stopped += other.created_stopped
        self.groups_skipped += other.groups_skipped
        self.refused.extend(other.refused)


def apply_batch(session: Session, rows: list[Row], source_name: str) -> ImportReport:
    report = ImportReport()
    current = {
        phone: (contact_id, status, name)
        for contact_id, phone, status, name in session.execute(
            select(Contact.id, Contact.phone, Contact.status, Contact.name)
            .where(Contact.phone.in_([row.phone for row in rows]))
            .order_by(Contact.id)
            .with_for_update()
        )
    }
    accepted: list[Row] = []
    for row in rows:
        found = current.get(row.phone)
        if found and found[1] == ContactStatus.STOPPED and row.status == ContactStatus.ACTIVE:
            reason = (
                f"{row.phone} opted out: an import never makes a stopped contact active "
                "(the person can text START, or staff can act)"
            )
            report.refused.append(Refusal(row.line, reason))
        else:
            accepted.append(row)
    changed: set[str] = set()
    new = [row for row in accepted if row.phone not in current]
    suppressed = _create(session, new, report)
    changed |= _statuses(session, accepted, current, suppressed, source_name)
    changed |= _names(session, accepted, current)
    changed |= _groups(session, accepted, report)
    for row in accepted:
        if row.phone in current:
            if row.phone in changed:
                report.updated += 1
            else:
                report.unchanged += 1
    return report


def _create(session: Session, new: list[Row], report: ImportReport) -> set[str]:
    """Insert the new contacts active; those on the suppression list are then stopped.
    Returns the suppressed numbers."""
    if not new:
        return set()
    now = utcnow()
    session.execute(
        insert(Contact),
        [
            {
                "phone": row.phone,
                "name": row.name,
                "status": ContactStatus.ACTIVE.value,
                "opted_out": False,
                "phone_valid": True,
                "unreachable_count": 0,
                "created_on": now,
                "modified_on": now,
            }
            for row in new
        ],
    )
    report.created += len(new)
    found = suppressions.take(session, [row.phone for row in new])
    by_date: dict[str, list[str]] = defaultdict(list)
    for phone, opted_out_on in found.items():
        by_date[suppressions.reason(opted_out_on)].append(phone)
    for reason, phones in by_date.items():
        cause = rules.Cause(EventSource.SYSTEM, actor=ACTOR, reason=reason)
        rules.bulk_set_status(session, ContactStatus.STOPPED, cause, [Contact.phone.in_(phones)])
    report.created_stopped += len(found)
    return set(found)


def _statuses(
    session: Session,
    rows: list[Row],
    current: dict[str, tuple[int, str, str | None]],
    suppressed: set[str],
    source_name: str,
) -> set[str]:
    by_target: dict[ContactStatus, list[str]] = defaultdict(list)
    for row in rows:
        if row.status is None:
            continue
        if row.phone in current:
            before = current[row.phone][1]
        else:
            before = ContactStatus.STOPPED if row.phone in suppressed else ContactStatus.ACTIVE
        # A suppressed number stays stopped whatever the file says, like any stopped contact.
        if row.status != before and not (
            before == ContactStatus.STOPPED and row.status == ContactStatus.ACTIVE
        ):
            by_target[row.status].append(row.phone)
    cause = rules.Cause(EventSource.IMPORT, actor=ACTOR, reason=f"imported from {source_name}")
    for target, phones in by_target.items():
        rules.bulk_set_status(session, target, cause, [Contact.phone.in_(phones)])
    return {phone for phones in by_target.values() for phone in phones}


def _names(
    session: Session, rows: list[Row], current: dict[str, tuple[int, str, str | None]]
) -> set[str]:
    renamed = [
        (row.phone, current[row.phone][0], row.name)
        for row in rows
        if row.phone in current and row.name is not None and row.name != current[row.phone][2]
    ]
    if renamed:
        table = Contact.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("contact_id"))
            .values(name=bindparam("new_name"), modified_on=utcnow()),
            [{"contact_id": cid, "new_name": name} for _, cid, name in renamed],
        )
    return {phone for phone, _, _ in renamed}


def _groups(session: Session, rows: list[Row], report: ImportReport) -> set[str]:
    """Join the rows' groups, for contacts that are active now; returns the numbers that joined
    a group they were not in."""
    wanted = [row for row in rows if row.groups]
    if not wanted:
        return set()
    contacts = {
        phone: (contact_id, status)
        for contact_id, phone, status in session.execute(
            select(Contact.id, Contact.phone, Contact.status).where(
                Contact.phone.in_([row.phone for row in wanted])
            )
        )
    }
    joining = []
    for row in wanted:
        if contacts[row.phone][1] == ContactStatus.ACTIVE:
            joining.append(row)
        else:
            report.groups_skipped += 1
    names = sorted({group for row in joining for group in row.groups})
    if not names:
        return set()
    session.execute(_ignoring_duplicates(session, Group, ["name"]), [{"name": n} for n in names])
    group_ids = dict(
        session.execute(select(Group.name, Group.id).where(Group.name.in_(names))).all()
    )
    contact_ids = [contacts[row.phone][0] for row in joining]
    present = set(
        session.execute(
            select(GroupMembership.contact_id, GroupMembership.group_id).where(
                GroupMembership.contact_id.in_(contact_ids)
            )
        ).all()
    )
    missing = []
    joined: set[str] = set()
    for row in joining:
        contact_id = contacts[row.phone][0]
        for group in row.groups:
            pair = (contact_id, group_ids[group])
            if pair not in present:
                present.add(pair)
                missing.append({"contact_id": pair[0], "group_id": pair[1]})
                joined.add(row.phone)
    if missing:
        session.execute(insert(GroupMembership), missing)
    return joined


def _ignoring_duplicates(session: Session, model: type, columns: list[str]):  # type: ignore[no-untyped-def]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model.__table__).on_conflict_do_nothing(index_elements=columns)  # type: ignore[attr-defined]
