"""Retention: tombstones of purged documents (issue 13).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from newswatch.store.tables import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purged_documents",
        sa.Column("identity_hash", sa.String(64), primary_key=True),
        sa.Column("purged_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("purged_documents")
