"""Bulk actions as RQ jobs: set-based SQL in chunks, with progress kept in the job's meta."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from rq import get_current_job
from rq.job import Job
from sqlalchemy import ColumnElement, func, select

from .. import rules
from ..db import transaction
from ..models import Contact, ContactStatus, EventSource
from ..queue import named_queue, redis_connection
from . import search
from .models import StaffAction

QUEUE = "admin"
CHUNK_SIZE = 10_000


@dataclass(frozen=True)
class BulkAction:
    name: str
    label: str
    # The status the contacts are moved to; None for deletion.
    target: ContactStatus | None
    admin_only: bool = False


BULK_ACTIONS = {
    action.name: action
    for action in (
        BulkAction("archive", "Archive", ContactStatus.ARCHIVED),
        BulkAction("block", "Block", ContactStatus.BLOCKED),
        BulkAction("delete", "Delete (archived only)", None, admin_only=True),
    )
}


def enqueue(
    action: BulkAction,
    actor: str,
    reason: str | None,
    criteria: dict[str, str] | None = None,
    ids: Sequence[int] = (),
    description: str = "",
) -> str:
    """Queue ``action`` on the contacts of ``criteria`` (a search) or ``ids`` (a selection)."""
    job = named_queue(QUEUE).enqueue(
        run,
        action.name,
        actor,
        reason,
        criteria,
        list(ids),
        int(current_app.config.get("ADMIN_BULK_CHUNK_SIZE") or CHUNK_SIZE),
        job_timeout=3600,
        result_ttl=86400,
        meta={"action": action.label, "description": description, "actor": actor, "done": 0},
    )
    return job.id


def fetch(job_id: str) -> Job | None:
    """A bulk job of this deployment's admin queue, or None."""
    from rq.exceptions import NoSuchJobError

    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except (NoSuchJobError, ValueError):
        return None
    return job if job.origin == named_queue(QUEUE).name else None


def progress(job: Job) -> dict[str, Any]:
    meta = job.get_meta(refresh=True)
    total = meta.get("total")
    done = meta.get("done", 0)
    status = job.get_status(refresh=False)
    finished = status is not None and status.value == "finished"
    percent = 100 if finished else (int(done * 100 / total) if total else 0)
    return {
        "status": status.value if status is not None else "unknown",
        "total": total,
        "done": done,
        "changed": meta.get("changed", 0),
        "percent": percent,
        "action": meta.get("action"),
        "description": meta.get("description"),
        "error": "the job failed; see the worker's log"
        if status and status.value == "failed"
        else None,
    }


def run(
    action_name: str,
    actor: str,
    reason: str | None,
    criteria: dict[str, str] | None,
    ids: list[int],
    chunk_size: int = CHUNK_SIZE,
) -> int:
    """The job: walk the matching contacts by id in chunks, one transaction and one set-based
    rules call per chunk, and report progress after each. Returns how many were changed."""
    action = BULK_ACTIONS[action_name]
    job = get_current_job()
    if criteria is not None:
        parsed = search.parse_criteria(criteria, current_app.config.get("DEFAULT_REGION"))
        conditions = search.where(parsed, current_app.config.get("DEFAULT_REGION"))
    else:
        conditions = [Contact.id.in_(ids)]
    if action.target is None:
        # Whatever the search said, only archived contacts are ever deleted.
        conditions = [*conditions, Contact.status == ContactStatus.ARCHIVED.value]

    with transaction() as session:
        total = session.scalar(select(func.count()).select_from(Contact).where(*conditions)) or 0
    _report(job, total=total, done=0, changed=0)

    cause = rules.Cause(source=EventSource.BULK, actor=actor, reason=reason)
    done = changed = 0
    after = 0
    while True:
        with transaction() as session:
            next_ids = (
                select(Contact.id)
                .where(*conditions, Contact.id > after)
                .order_by(Contact.id)
                .limit(chunk_size)
                .subquery()
            )
            upper, chunk_total = session.execute(
                select(func.max(next_ids.c.id), func.count()).select_from(next_ids)
            ).one()
            if upper is None:
                break
            chunk: list[ColumnElement[bool]] = [
                *conditions,
                Contact.id > after,
                Contact.id <= upper,
            ]
            if action.target is None:
                changed += rules.bulk_delete_archived(session, chunk)
            else:
                changed += rules.bulk_set_status(session, action.target, cause, chunk)
        done += chunk_total
        after = upper
        _report(job, total=max(total, done), done=done, changed=changed)

    with transaction() as session:
        session.add(
            StaffAction(
                actor=actor,
                action=f"bulk {action.name}",
                detail=(job.meta.get("description") if job else None) or reason,
                count=changed,
            )
        )
    _report(job, total=max(total, done), done=max(total, done), changed=changed)
    return changed


def _report(job: Job | None, **values: int) -> None:
    if job is None:
        return
    job.meta.update(values)
    job.save_meta()
