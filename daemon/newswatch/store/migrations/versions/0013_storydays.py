"""Story band rows filed by period: when a document was stored, above its band key.

newswatch.store.stories looks band keys up only in the periods (2 days) of
`dedup.window` and prunes the rest, so the index holds the window, not the
whole history. Every stored signature's band rows (of the current format: 0014
dropped format 1's) are filed again in the
period its document was last stored or edited (`updated_at`); the first
batches stored after the upgrade prune the periods outside the window.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from newswatch.dedup.signature import SIGNATURE_BYTES, band_keys_of
from newswatch.store.stories import PERIOD

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

CHUNK = 5000


def upgrade() -> None:
    connection = op.get_bind()
    connection.execute(sa.text("DELETE FROM story_bands"))
    select = sa.text(
        "SELECT id, signature, updated_at FROM documents"
        " WHERE signature IS NOT NULL AND id > :after ORDER BY id LIMIT :chunk"
    )
    insert = sa.text("INSERT INTO story_bands (band_key, document_id) VALUES (:key, :document)")
    after = 0
    while rows := connection.execute(select, {"after": after, "chunk": CHUNK}).all():
        after = rows[-1].id
        signed = [(row.id, bytes(row.signature), _day(row.updated_at)) for row in rows]
        signed = [row for row in signed if len(row[1]) == SIGNATURE_BYTES]
        if not signed:
            continue
        keys = [
            [k & 0xFFFFFFFF for k in row] for row in band_keys_of([sig for _, sig, _ in signed])
        ]
        bands = [
            {"key": day << 32 | key, "document": id_}
            for (id_, _, day), row in zip(signed, keys, strict=True)
            for key in sorted(set(row))
        ]
        connection.execute(insert, bands)


def _day(value: datetime | str) -> int:
    """The period number of a stored time (SQLite returns naive UTC text)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return int(moment.timestamp()) // PERIOD


def downgrade() -> None:
    raise NotImplementedError("newswatch migrations only go forward; restore a backup instead")
