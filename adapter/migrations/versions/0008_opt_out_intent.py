"""opt-out requests in sentences: event source and kind ``intent``, the inbound message's flag

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = "'keyword', 'intent', 'provider', 'staff', 'api', 'import', 'bulk', 'system'"
KINDS = "'status', 'consent', 'phone_valid', 'intent'"
OLD_SOURCES = "'keyword', 'provider', 'staff', 'api', 'import', 'bulk', 'system'"
OLD_KINDS = "'status', 'consent', 'phone_valid'"


def _constraints(sources: str, kinds: str) -> None:
    # SQLite cannot alter a CHECK constraint: batch mode copies the table with the new ones
    # (nothing points at contact_events, so the copy fires no foreign-key action). PostgreSQL
    # alters the table in place.
    with op.batch_alter_table("contact_events") as batch:
        batch.drop_constraint(op.f("ck_contact_events_source"), type_="check")
        batch.drop_constraint(op.f("ck_contact_events_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_contact_events_source"), sa.text(f"source IN ({sources})")
        )
        batch.create_check_constraint(op.f("ck_contact_events_kind"), sa.text(f"kind IN ({kinds})"))


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column("opt_out_intent", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    _constraints(SOURCES, KINDS)


def downgrade() -> None:
    # The older schema has no word for an intent: an opt-out it caused becomes what it is closest
    # to (the person's own opt-out, a note in the reason); intents that changed nothing go.
    op.execute("DELETE FROM contact_events WHERE kind = 'intent'")
    op.execute(
        "UPDATE contact_events SET source = 'keyword', "
        "reason = 'opt-out request in a sentence: ' || COALESCE(reason, '') "
        "WHERE source = 'intent'"
    )
    _constraints(OLD_SOURCES, OLD_KINDS)
    op.execute("ALTER TABLE messages DROP COLUMN opt_out_intent")
