"""Signatures of format 2 (16-bit values, 8 bands of 2) and story_bands without its
foreign key (issue 9).

Signatures stored before this version are of another format (512 bytes of
32-bit values): they are never compared with the new ones (`similarity` says 0
for two formats) and their band rows are dropped, so a copy of a document
stored before the upgrade starts its own story for one `dedup.window`.

The table is made again without its foreign key to `documents`: with no index on
`document_id`, every deleted document made SQLite and PostgreSQL read the whole
band table for rows pointing at it (a retention batch of 1,000 documents over
240,000 band rows: 45 s on SQLite, 0.04 s without the key). Retention deletes a
purged document's band rows itself, and a lookup joins `documents`, so a row
left behind finds nothing and goes with its period.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from newswatch.dedup.signature import SIGNATURE_BYTES

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    connection = op.get_bind()
    kept = connection.execute(  # rows of signatures of this format (none but in tests)
        sa.text(
            "SELECT b.band_key, b.document_id FROM story_bands b"
            " JOIN documents d ON d.id = b.document_id WHERE length(d.signature) = :size"
        ),
        {"size": SIGNATURE_BYTES},
    ).all()
    op.drop_table("story_bands")
    op.create_table(
        "story_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("document_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("band_key", "document_id", name="pk_story_bands"),
        sqlite_with_rowid=False,
    )
    if kept:
        insert = sa.text("INSERT INTO story_bands (band_key, document_id) VALUES (:key, :id)")
        connection.execute(insert, [{"key": key, "id": id_} for key, id_ in kept])


def downgrade() -> None:
    raise NotImplementedError("newswatch migrations only go forward; restore a backup instead")
