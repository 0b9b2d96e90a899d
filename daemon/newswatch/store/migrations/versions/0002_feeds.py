"""Feed state: conditional-GET validators, health, backoff and the next poll time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from newswatch.store.tables import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("url_hash", sa.String(64), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("current_url", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("body_hash", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_poll", UtcDateTime),
        sa.Column("retry_after", UtcDateTime),
        sa.Column("last_success", UtcDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", UtcDateTime),
        sa.Column("bozo", sa.Text),
        sa.Column("bozo_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("documents", sa.Integer, nullable=False, server_default="0"),
        sa.Column("entries_last", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_feeds_next_poll", "feeds", ["next_poll"])


def downgrade() -> None:
    op.drop_table("feeds")
