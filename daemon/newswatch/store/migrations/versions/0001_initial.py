"""Documents with their dedup keys, seed file stamps, alerts and their deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from newswatch.store.tables import Id, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("item_key", sa.Text, nullable=False),
        sa.Column("identity_hash", sa.String(64), nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("url_hash", sa.String(64)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("published", UtcDateTime),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("uq_documents_identity_hash", "documents", ["identity_hash"], unique=True)
    op.create_index("uq_documents_url_hash", "documents", ["url_hash"], unique=True)
    op.create_index("uq_documents_content_hash", "documents", ["content_hash"], unique=True)
    op.create_index("ix_documents_published", "documents", ["published"])
    op.create_index("ix_documents_created_at", "documents", ["created_at"])

    op.create_table(
        "seed_files",
        sa.Column("source", sa.String(300), primary_key=True),
        sa.Column("item_key", sa.Text, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column(
            "document_id",
            Id,
            sa.ForeignKey(
                "documents.id", ondelete="SET NULL", name="fk_seed_files_document_id_documents"
            ),
        ),
        sa.Column("error", sa.Text),
        sa.Column("seen_at", UtcDateTime, nullable=False),
    )

    op.create_table(
        "alerts",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "document_id",
            Id,
            sa.ForeignKey(
                "documents.id", ondelete="CASCADE", name="fk_alerts_document_id_documents"
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("watch", sa.String(500), nullable=False),
        sa.Column("matched", sa.JSON, nullable=False),
        sa.Column("snippet", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index(
        "uq_alerts_document_id_kind_watch", "alerts", ["document_id", "kind", "watch"], unique=True
    )
    op.create_index("ix_alerts_created_at", "alerts", ["created_at"])

    op.create_table(
        "deliveries",
        sa.Column(
            "alert_id",
            Id,
            sa.ForeignKey("alerts.id", ondelete="CASCADE", name="fk_deliveries_alert_id_alerts"),
            primary_key=True,
        ),
        sa.Column("sink", sa.String(100), primary_key=True),
        sa.Column("delivered_at", UtcDateTime),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("next_attempt", UtcDateTime),
    )
    op.create_index("ix_deliveries_pending", "deliveries", ["sink", "delivered_at"])


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("alerts")
    op.drop_table("seed_files")
    op.drop_table("documents")
