"""Per-sink hourly send count (`max_per_hour`): the clock hour being counted and the
messages sent in it, kept in the database so a restart does not reset the count.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from newswatch.store.tables import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sink_state", sa.Column("window_start", UtcDateTime()))
    op.add_column(
        "sink_state", sa.Column("window_sent", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    op.drop_column("sink_state", "window_sent")
    op.drop_column("sink_state", "window_start")
