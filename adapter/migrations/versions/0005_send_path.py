"""send path: claim order (priority), the keyword a compliance reply answers, in-flight sends

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = sa.text("status = 'queued'")
SENDING = sa.text("status = 'sending'")


def upgrade() -> None:
    op.add_column(
        "messages", sa.Column("priority", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column("messages", sa.Column("keyword", sa.String(length=16), nullable=True))
    op.add_column("messages", sa.Column("sending_since", sa.DateTime(timezone=True), nullable=True))
    # Compliance replies already waiting keep their place ahead of the rest.
    op.execute("UPDATE messages SET priority = 0 WHERE kind = 'compliance'")
    op.execute("UPDATE messages SET sending_since = modified_on WHERE status = 'sending'")
    # Redis no longer holds one job per message, so there is no job to track. Plain DROP COLUMN
    # (SQLite 3.35+): a batch table rebuild would fire the ON DELETE actions of the foreign keys
    # that point at messages.
    op.execute("ALTER TABLE messages DROP COLUMN enqueued_at")
    op.drop_index("ix_messages_status_next_attempt_at", table_name="messages")
    op.create_index(
        "ix_messages_claim",
        "messages",
        ["channel", "priority", "next_attempt_at", "id"],
        postgresql_where=QUEUED,
        sqlite_where=QUEUED,
    )
    op.create_index(
        "ix_messages_in_flight",
        "messages",
        ["sending_since"],
        postgresql_where=SENDING,
        sqlite_where=SENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_in_flight", table_name="messages")
    op.drop_index("ix_messages_claim", table_name="messages")
    op.create_index("ix_messages_status_next_attempt_at", "messages", ["status", "next_attempt_at"])
    op.add_column("messages", sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("ALTER TABLE messages DROP COLUMN sending_since")
    op.execute("ALTER TABLE messages DROP COLUMN keyword")
    op.execute("ALTER TABLE messages DROP COLUMN priority")
