"""Reading an import file: each CSV row checked on its own, so one bad row refuses only itself."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from ..errors import AdapterError, InvalidRequest
from ..models import ContactStatus
from ..phone import to_e164
from ..rules import parse_status

COLUMNS = ("phone", "name", "groups", "status")
# Several groups in one cell: `news; vip`.
GROUP_SEPARATOR = ";"
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class Row:
    line: int
    phone: str
    # None where the cell is empty: an existing contact keeps what it has.
    name: str | None
    groups: tuple[str, ...]
    status: ContactStatus | None


@dataclass(frozen=True)
class Refusal:
    line: int
    reason: str


def read_rows(file: TextIO, default_region: str) -> Iterator[Row | Refusal]:
    """Each data row of ``file`` as a :class:`Row`, or a :class:`Refusal` saying what is wrong.

    Raises :class:`InvalidRequest` when the file itself cannot be imported (no phone column).
    """
    reader = csv.DictReader(file)
    fields = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if "phone" not in fields:
        raise InvalidRequest(
            f"the file has no 'phone' column; its first line must name the columns, "
            f"from {', '.join(COLUMNS)}"
        )
    unknown = [name for name in fields if name not in COLUMNS]
    if unknown:
        raise InvalidRequest(
            f"unknown column(s) {', '.join(map(repr, unknown))}: use {', '.join(COLUMNS)}"
        )
    reader.fieldnames = fields
    for record in reader:
        line = reader.line_num
        try:
            yield _row(line, record, default_region)
        except AdapterError as exc:
            yield Refusal(line, exc.message)


def _row(line: int, record: dict[str | None, object], default_region: str) -> Row:
    if record.get(None):
        raise InvalidRequest("more cells than the header has columns")
    phone = to_e164(record.get("phone") or "", default_region)
    name = _cell(record, "name")
    if name is not None and len(name) > MAX_NAME_LENGTH:
        raise InvalidRequest(f"name is longer than {MAX_NAME_LENGTH} characters")
    groups = tuple(
        dict.fromkeys(
            group.strip()
            for group in (_cell(record, "groups") or "").split(GROUP_SEPARATOR)
            if group.strip()
        )
    )
    if any(len(group) > MAX_NAME_LENGTH for group in groups):
        raise InvalidRequest(f"a group name is longer than {MAX_NAME_LENGTH} characters")
    status_cell = _cell(record, "status")
    status = parse_status(status_cell.lower()) if status_cell is not None else None
    return Row(line, phone, name, groups, status)


def _cell(record: dict[str | None, object], column: str) -> str | None:
    value = record.get(column)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()
