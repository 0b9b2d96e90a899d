"""Identity within a stable origin; URL and content keys that only merge real copies.

Before 0004 a document's identity was its source's *display name* plus its
key, and its canonical URL and content hash were each globally unique, so two
feeds sharing a title overwrote each other, entries sharing a link collapsed,
and only one empty document could exist (issue 7). Existing rows keep their
identity and get `origin` NULL: the first source that presents the same
(name, key) again adopts the row (see newswatch.dedup.decide), so upgrading
neither loses documents nor alerts them again. Their URL and content keys are
recomputed here with the new rules.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MIN_CONTENT_WORDS = 10  # as newswatch.dedup.keys at the time of writing
BATCH = 2000


def upgrade() -> None:
    op.add_column("documents", sa.Column("origin", sa.Text()))
    op.add_column("documents", sa.Column("url_key", sa.String(64)))
    op.add_column("documents", sa.Column("content_key", sa.String(64)))
    op.add_column("feeds", sa.Column("last_outcome", sa.JSON()))
    _fill_keys()
    op.drop_index("uq_documents_url_hash", table_name="documents")
    op.drop_index("uq_documents_content_hash", table_name="documents")
    op.drop_column("documents", "url_hash")
    op.create_index("ix_documents_url_key", "documents", ["url_key"])
    op.create_index("uq_documents_content_key", "documents", ["content_key"], unique=True)


def _fill_keys() -> None:
    connection = op.get_bind()
    documents = sa.table(
        "documents",
        sa.column("id", sa.Integer),
        sa.column("url", sa.Text),
        sa.column("title", sa.Text),
        sa.column("body", sa.Text),
        sa.column("content_hash", sa.String),
        sa.column("url_key", sa.String),
        sa.column("content_key", sa.String),
    )
    change = (
        documents.update()
        .where(documents.c.id == sa.bindparam("row_id"))
        .values(url_key=sa.bindparam("new_url_key"), content_key=sa.bindparam("new_content_key"))
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(
                documents.c.id,
                documents.c.url,
                documents.c.title,
                documents.c.body,
                documents.c.content_hash,
            )
            .where(documents.c.id > last_id)
            .order_by(documents.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(change, [_keys(row) for row in rows])
        last_id = rows[-1].id


def _keys(row: sa.Row) -> dict[str, object]:
    url_key = None
    if row.url and row.title.strip():
        text = f"{row.url.partition('#')[0]}\0{row.title.casefold()}"
        url_key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    substantial = len(row.body.split(None, MIN_CONTENT_WORDS)) >= MIN_CONTENT_WORDS
    return {
        "row_id": row.id,
        "new_url_key": url_key,
        "new_content_key": row.content_hash if substantial else None,
    }


def downgrade() -> None:
    raise NotImplementedError("newswatch migrations only go forward; restore a backup instead")
