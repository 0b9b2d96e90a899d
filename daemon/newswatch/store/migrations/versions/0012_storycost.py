"""Story band keys in the cheaper layout: 16 bands of 3 values, 32-bit keys (issue 9).

The band keys of every stored signature are computed again with the current
newswatch.dedup.signature, so an upgraded database keeps finding its old
stories (signatures of the current format: 0014 dropped format 1's). Signatures
themselves are unchanged. A later change of the layout
adds its own migration doing the same.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from newswatch.dedup.signature import SIGNATURE_BYTES, band_keys_of

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CHUNK = 5000


def upgrade() -> None:
    connection = op.get_bind()
    connection.execute(sa.text("DELETE FROM story_bands"))
    select = sa.text(
        "SELECT id, signature FROM documents WHERE signature IS NOT NULL AND id > :after"
        " ORDER BY id LIMIT :chunk"
    )
    insert = sa.text("INSERT INTO story_bands (band_key, document_id) VALUES (:key, :document)")
    after = 0
    while rows := connection.execute(select, {"after": after, "chunk": CHUNK}).all():
        after = rows[-1].id
        signed = [(row.id, bytes(row.signature)) for row in rows]
        signed = [(id_, sig) for id_, sig in signed if len(sig) == SIGNATURE_BYTES]
        if not signed:
            continue
        keys = band_keys_of([sig for _, sig in signed])
        bands = [
            {"key": key, "document": id_}
            for (id_, _), row in zip(signed, keys, strict=True)
            for key in sorted(set(row))
        ]
        connection.execute(insert, bands)


def downgrade() -> None:
    raise NotImplementedError("newswatch migrations only go forward; restore a backup instead")
