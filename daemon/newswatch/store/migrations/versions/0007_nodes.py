"""Several nodes on one PostgreSQL: a `nodes` table with heartbeats, and leases.

A node claims due feeds by writing itself as `lease_owner` until
`lease_until` (`SELECT ... FOR UPDATE SKIP LOCKED`), and a sink by the same
two columns on `sink_state`: one node delivers a sink at a time. `host_slot`
(a hash of the feed's host) spreads hosts over the live nodes, so a host's
requests come from one node and its per-host limit holds across nodes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from newswatch.store.tables import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("machine", sa.String(200), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("heartbeat", UtcDateTime, nullable=False),
    )
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("host_slot", sa.BigInteger))
        batch.add_column(sa.Column("lease_owner", sa.String(200)))
        batch.add_column(sa.Column("lease_until", UtcDateTime))
    op.create_index("ix_feeds_lease_owner", "feeds", ["lease_owner"])
    with op.batch_alter_table("sink_state") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(200)))
        batch.add_column(sa.Column("lease_until", UtcDateTime))


def downgrade() -> None:
    with op.batch_alter_table("sink_state") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
    op.drop_index("ix_feeds_lease_owner", "feeds")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
        batch.drop_column("host_slot")
    op.drop_table("nodes")
