"""Salience of shared surnames: documents naming each watched person in full, per day
(issue 12).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "name_counts",
        sa.Column("watch", sa.String(500), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("documents", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("name_counts")
