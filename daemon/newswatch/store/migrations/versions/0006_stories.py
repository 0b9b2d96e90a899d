"""Stories: near-duplicate documents grouped, with LSH band keys in an indexed table.

Adds `documents.story_id` (the id of the story's first document; NULL for the
first document itself) and `documents.signature` (MinHash, see
newswatch.dedup.signature), and the `story_bands` table of band keys.
Existing rows are each a story of their own, without a signature: nothing is
re-alerted, and copies of them arriving later start a story of their own.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.add_column("documents", sa.Column("story_id", ID))
    op.add_column("documents", sa.Column("signature", sa.LargeBinary()))
    op.create_index("ix_documents_story_id", "documents", ["story_id"])
    op.create_table(
        "story_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column(
            "document_id",
            ID,
            sa.ForeignKey(
                "documents.id",
                ondelete="CASCADE",
                name="fk_story_bands_document_id_documents",
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("band_key", "document_id", name="pk_story_bands"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    raise NotImplementedError("newswatch migrations only go forward; restore a backup instead")
