"""admin page: staff accounts, staff action log, folder counts kept by triggers, search indexes

Revision ID: 0004
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 16

# PostgreSQL: statement-level triggers with transition tables, so a bulk UPDATE of 100,000
# contacts adds to the counts once per statement, not once per row.
PG_FUNCTION = f"""
CREATE FUNCTION contact_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO contact_counts (status, shard, n)
        SELECT status, id % {SHARDS}, count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (status, shard) DO UPDATE SET n = contact_counts.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO contact_counts (status, shard, n)
        SELECT status, id % {SHARDS}, -count(*) FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (status, shard) DO UPDATE SET n = contact_counts.n + excluded.n;
    ELSE
        INSERT INTO contact_counts (status, shard, n)
        SELECT status, shard, sum(d) FROM (
            SELECT status, id % {SHARDS} AS shard, 1 AS d FROM new_rows
            UNION ALL
            SELECT status, id % {SHARDS}, -1 FROM old_rows
        ) AS changes
        GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2
        ON CONFLICT (status, shard) DO UPDATE SET n = contact_counts.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$
"""
PG_TRIGGERS = [
    "CREATE TRIGGER contact_counts_insert AFTER INSERT ON contacts REFERENCING NEW TABLE AS "
    "new_rows FOR EACH STATEMENT EXECUTE FUNCTION contact_counts_apply()",
    "CREATE TRIGGER contact_counts_update AFTER UPDATE ON contacts REFERENCING OLD TABLE AS "
    "old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION contact_counts_apply()",
    "CREATE TRIGGER contact_counts_delete AFTER DELETE ON contacts REFERENCING OLD TABLE AS "
    "old_rows FOR EACH STATEMENT EXECUTE FUNCTION contact_counts_apply()",
]


def _sqlite_upsert(status: str, delta: str) -> str:
    return (
        f"INSERT INTO contact_counts (status, shard, n) VALUES ({status}.status, "
        f"{status}.id % {SHARDS}, {delta}) "
        f"ON CONFLICT (status, shard) DO UPDATE SET n = n + {delta};"
    )


SQLITE_TRIGGERS = [
    "CREATE TRIGGER contact_counts_insert AFTER INSERT ON contacts BEGIN "
    + _sqlite_upsert("NEW", "1")
    + " END",
    "CREATE TRIGGER contact_counts_update AFTER UPDATE OF status ON contacts "
    "WHEN OLD.status IS NOT NEW.status BEGIN "
    + _sqlite_upsert("OLD", "-1")
    + " "
    + _sqlite_upsert("NEW", "1")
    + " END",
    "CREATE TRIGGER contact_counts_delete AFTER DELETE ON contacts BEGIN "
    + _sqlite_upsert("OLD", "-1")
    + " END",
]


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_on", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'agent')", name=op.f("ck_staff_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("name", name=op.f("uq_staff_name")),
    )
    op.create_table(
        "staff_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_actions")),
    )
    op.create_index("ix_staff_actions_created_on", "staff_actions", ["created_on"])
    op.create_table(
        "contact_counts",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("status", "shard", name=op.f("pk_contact_counts")),
    )

    # Keyset pages of a folder (newest first) and of a last_seen_on search (oldest first, and
    # never-seen ordered by id) each read one index range.
    op.create_index("ix_contacts_status_id", "contacts", ["status", "id"])
    op.create_index(
        "ix_contacts_status_last_seen_on_id", "contacts", ["status", "last_seen_on", "id"]
    )
    # The dashboard's per-day figures read the last 30 days only.
    op.create_index("ix_contact_events_created_on", "contact_events", ["created_on"])
    op.create_index("ix_messages_created_on", "messages", ["created_on"])
    # rules.bulk_set_status looks each contact's event of the batch up by (batch_id, contact_id);
    # with batch_id alone the planner may scan the whole batch per contact (a 100,000-contact
    # archive took minutes instead of seconds).
    op.create_index(
        "ix_contact_events_batch_id_contact_id", "contact_events", ["batch_id", "contact_id"]
    )

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Name search is by prefix, case-insensitively, served by this index.
        op.execute("CREATE INDEX ix_contacts_lower_name ON contacts (lower(name) text_pattern_ops)")
        # No contact may change between the initial count and the triggers taking over.
        op.execute("LOCK TABLE contacts IN SHARE ROW EXCLUSIVE MODE")
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.execute(
        f"INSERT INTO contact_counts (status, shard, n) "
        f"SELECT status, id % {SHARDS}, count(*) FROM contacts GROUP BY 1, 2"
    )


def downgrade() -> None:
    bind = op.get_bind()
    for name in ("insert", "update", "delete"):
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER contact_counts_{name} ON contacts")
        else:
            op.execute(f"DROP TRIGGER contact_counts_{name}")
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION contact_counts_apply()")
        op.execute("DROP INDEX ix_contacts_lower_name")
    op.drop_index("ix_contact_events_batch_id_contact_id", table_name="contact_events")
    op.drop_index("ix_messages_created_on", table_name="messages")
    op.drop_index("ix_contact_events_created_on", table_name="contact_events")
    op.drop_index("ix_contacts_status_last_seen_on_id", table_name="contacts")
    op.drop_index("ix_contacts_status_id", table_name="contacts")
    op.drop_table("contact_counts")
    op.drop_index("ix_staff_actions_created_on", table_name="staff_actions")
    op.drop_table("staff_actions")
    op.drop_table("staff")
