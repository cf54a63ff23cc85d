"""``flask --app wsgi import-contacts FILE.csv``: contacts from a CSV file, in batches, each batch
one transaction of set-based statements. A bad row is refused with its line number and reason,
and the import goes on; running the same file twice changes nothing the second time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TextIO

from sqlalchemy.exc import IntegrityError

from ..db import transaction
from .batch import ImportReport, apply_batch
from .rows import Refusal, Row, read_rows

__all__ = ["ImportReport", "import_contacts"]

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 5000
# Attempts at a batch: another writer creating one of its numbers first fails the insert, and
# the next attempt finds that contact.
_ATTEMPTS = 3


def import_contacts(
    file: TextIO,
    *,
    default_region: str,
    source_name: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import ``file``; ``progress`` is called with the number of rows each batch handled."""
    report = ImportReport()
    batch: list[Row] = []
    refused = 0
    # The line each number was first seen on, across batches: a number twice in one file is
    # most likely a mistake, and the first row is the one applied.
    first_line: dict[int, int] = {}
    for item in read_rows(file, default_region):
        if (
            isinstance(item, Row)
            and (seen := first_line.setdefault(int(item.phone[1:]), item.line)) != item.line
        ):
            item = Refusal(item.line, f"{item.phone} is on line {seen} already: one row per number")
        if isinstance(item, Refusal):
            report.refused.append(item)
            refused += 1
        else:
            batch.append(item)
        if len(batch) + refused >= batch_size:
            _run(batch, source_name, report)
            if progress:
                progress(len(batch) + refused)
            batch, refused = [], 0
    _run(batch, source_name, report)
    if progress:
        progress(len(batch) + refused)
    report.refused.sort(key=lambda refusal: refusal.line)
    return report


def _run(batch: list[Row], source_name: str, report: ImportReport) -> None:
    if not batch:
        return
    for attempt in range(_ATTEMPTS):
        try:
            with transaction() as session:
                part = apply_batch(session, batch, source_name)
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
            log.info("import batch met a concurrent writer; attempt %d", attempt + 2)
        else:
            report.add(part)
            return
