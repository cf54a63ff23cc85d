"""SQLite: ids are never handed out twice (AUTOINCREMENT on contacts, messages, contact_events)

Without AUTOINCREMENT SQLite gives a new row max(id) + 1, so deleting the newest rows hands their
ids out again: after an archived contact and its message 2 were deleted, the next inbound message
became message 2, and `GET /api/v1/messages/2` showed someone else's message. PostgreSQL's
sequences never go back; nothing changes there.

Revision ID: 0006
Revises: 0008
"""

import re
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0006"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("contacts", "messages", "contact_events")


def upgrade() -> None:
    for table in TABLES:
        _rebuild(table, autoincrement=True)


def downgrade() -> None:
    for table in TABLES:
        _rebuild(table, autoincrement=False)


def _rebuild(table: str, autoincrement: bool) -> None:
    """SQLite's own recipe for a change ALTER TABLE cannot make: a copy with the new definition,
    the rows, then its indexes and triggers exactly as they were (partial indexes included).

    Foreign keys are off while migrations run (see env.py): with them on, dropping the old
    contacts table would cascade-delete every message.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    create = bind.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    ).scalar_one()
    dependents = (
        bind.execute(
            text(
                "SELECT sql FROM sqlite_master WHERE tbl_name = :t AND type IN ('index', 'trigger')"
                " AND sql IS NOT NULL"
            ),
            {"t": table},
        )
        .scalars()
        .all()
    )
    if autoincrement:
        new, done = re.subn(
            r"\bid INTEGER NOT NULL,",
            "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,",
            create,
            count=1,
        )
        new, dropped = re.subn(rf",\s*CONSTRAINT pk_{table} PRIMARY KEY \(id\)", "", new)
        if not (done and dropped):
            raise RuntimeError(f"unexpected definition of {table}: {create}")
        new = new.replace(
            "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,",
            f"id INTEGER NOT NULL CONSTRAINT pk_{table} PRIMARY KEY AUTOINCREMENT,",
        )
    else:
        new, done = re.subn(
            rf"id INTEGER NOT NULL CONSTRAINT pk_{table} PRIMARY KEY AUTOINCREMENT,",
            "id INTEGER NOT NULL,",
            create,
        )
        if not done:
            raise RuntimeError(f"unexpected definition of {table}: {create}")
        new = (
            new.rstrip().removesuffix(")").rstrip()
            + f",\n\tCONSTRAINT pk_{table} PRIMARY KEY (id)\n)"
        )
    staging = f"_rebuild_{table}"
    new = re.sub(rf"^CREATE TABLE \"?{table}\"?", f"CREATE TABLE {staging}", new, count=1)
    op.execute("PRAGMA legacy_alter_table = ON")
    op.execute(new)
    op.execute(f"INSERT INTO {staging} SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {staging} RENAME TO {table}")
    op.execute("PRAGMA legacy_alter_table = OFF")
    for statement in dependents:
        op.execute(statement)
