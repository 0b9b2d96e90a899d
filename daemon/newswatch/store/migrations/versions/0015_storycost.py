"""`story_periods`: the archived periods of `story_bands` (issue 9).

story_bands keeps the current period's rows as before (the period above the
band key, so a batch's rows go to one small part of the index) and archives
earlier periods' rows with the band key above the period, so a lookup reads a
key's archived rows of the whole window with one probe instead of one per
period (newswatch.store.stories). An archived period's rows are spread over
the archive: the periods archived are listed here, with how far a prune of
those leaving the window has swept the archive's keys.

The rows stored before this version are all of the current part's layout; the
first batches stored after the upgrade archive those of earlier periods.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_periods",
        sa.Column("period", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("swept", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("period", name="pk_story_periods"),
    )


def downgrade() -> None:
    raise NotImplementedError("newswatch migrations only go forward; restore a backup instead")
