"""Outbox state: dead-lettered deliveries and the health of each sink.

`deliveries.dead_at` marks a delivery the sink refused for good (an SMTP 5xx):
it is kept, shown and retried only by hand. `sink_state` remembers a sink
failing as a whole (cannot connect, login refused, 4xx to everything): since
when, how often in a row, and until when it is left alone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from newswatch.store.tables import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("dead_at", UtcDateTime))
    op.create_table(
        "sink_state",
        sa.Column("sink", sa.String(100), primary_key=True),
        sa.Column("failing_since", UtcDateTime),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("paused_until", UtcDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", UtcDateTime),
        sa.Column("last_success", UtcDateTime),
    )


def downgrade() -> None:
    op.drop_table("sink_state")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("dead_at")
