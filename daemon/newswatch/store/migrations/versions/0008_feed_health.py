"""Feed health: when a feed began failing, when it last brought something new,
and which feed-health notice is out for it (issue 13).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from newswatch.store.tables import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("failing_since", UtcDateTime()))
    op.add_column("feeds", sa.Column("last_new_at", UtcDateTime()))
    op.add_column("feeds", sa.Column("health_alert", sa.String(16)))
    # a feed failing now has failed at least since its last error
    op.execute(
        "UPDATE feeds SET failing_since = last_error_at "
        "WHERE status IN ('failing', 'backing_off', 'gone')"
    )


def downgrade() -> None:
    op.drop_column("feeds", "health_alert")
    op.drop_column("feeds", "last_new_at")
    op.drop_column("feeds", "failing_since")
