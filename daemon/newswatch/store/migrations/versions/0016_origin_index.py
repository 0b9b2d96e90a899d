"""An index on documents (origin, id): a source's latest documents (issue 9).

A batch's boilerplate (a footer under an outlet's entries) is sought among the
source's latest stored bodies too (newswatch.dedup.signature): an outlet whose
feed shows one entry at a time, or a seed file added alone, never has its footer
twice in one batch. Each batch with stored predecessors reads a few of them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_origin_id", "documents", ["origin", "id"])


def downgrade() -> None:
    raise NotImplementedError("newswatch migrations only go forward; restore a backup instead")
