"""Storing documents: insert the new, update the edited, report the rest as duplicates."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update
from sqlalchemy.exc import IntegrityError

from newswatch.dedup import DedupKeys, first_of_each
from newswatch.model import Document
from newswatch.store.dialect import insert_ignoring_conflicts
from newswatch.store.tables import documents

CHUNK = 500


@dataclass
class SaveResult:
    """What storing a batch did. Only `new` and `updated` go on to matching."""

    new: list[Document] = field(default_factory=list)
    updated: list[Document] = field(default_factory=list)
    unchanged: int = 0
    duplicates: int = 0


def save_documents(connection: Connection, batch: Sequence[Document], now: datetime) -> SaveResult:
    kept, repeated_in_batch = first_of_each(batch)
    result = SaveResult(duplicates=repeated_in_batch)
    for start in range(0, len(kept), CHUNK):
        _save_chunk(connection, kept[start : start + CHUNK], now, result)
    return result


def _save_chunk(
    connection: Connection,
    chunk: list[tuple[Document, DedupKeys]],
    now: datetime,
    result: SaveResult,
) -> None:
    stored = _stored_by_identity(connection, [keys.identity_hash for _, keys in chunk])
    fresh: list[tuple[Document, DedupKeys]] = []
    for document, keys in chunk:
        known = stored.get(keys.identity_hash)
        if known is None:
            fresh.append((document, keys))
        elif known.content_hash == keys.content_hash:
            result.unchanged += 1
        elif _update(connection, known.id, document, keys, now):
            result.updated.append(replace(document, id=known.id))
        else:
            result.duplicates += 1
    _insert(connection, fresh, now, result)


def _stored_by_identity(connection: Connection, hashes: list[str]) -> dict[str, Any]:
    query = select(documents.c.id, documents.c.identity_hash, documents.c.content_hash).where(
        documents.c.identity_hash.in_(hashes)
    )
    return {row.identity_hash: row for row in connection.execute(query)}


def _update(
    connection: Connection, document_id: int, document: Document, keys: DedupKeys, now: datetime
) -> bool:
    """Rewrite an edited item; False when its new text or URL is another document's."""
    values = _row(document, keys, now)
    del values["created_at"]
    try:
        with connection.begin_nested():
            connection.execute(
                update(documents).where(documents.c.id == document_id).values(**values)
            )
    except IntegrityError:
        return False
    return True


def _insert(
    connection: Connection,
    fresh: list[tuple[Document, DedupKeys]],
    now: datetime,
    result: SaveResult,
) -> None:
    if not fresh:
        return
    statement = insert_ignoring_conflicts(connection, documents).returning(
        documents.c.id, documents.c.identity_hash
    )
    rows = connection.execute(statement, [_row(d, k, now) for d, k in fresh])
    ids = {row.identity_hash: row.id for row in rows}
    for document, keys in fresh:
        new_id = ids.get(keys.identity_hash)
        if new_id is None:
            result.duplicates += 1
        else:
            result.new.append(replace(document, id=new_id))


def _row(document: Document, keys: DedupKeys, now: datetime) -> dict[str, Any]:
    return {
        "source": document.source,
        "item_key": document.key,
        "identity_hash": keys.identity_hash,
        "url": document.url,
        "url_hash": keys.url_hash,
        "content_hash": keys.content_hash,
        "title": document.title,
        "body": document.body,
        "published": document.published,
        "authors": list(document.authors),
        "categories": list(document.categories),
        "created_at": now,
        "updated_at": now,
    }


def document_from_row(row: Row[Any]) -> Document:
    return Document(
        id=row.id,
        source=row.source,
        key=row.item_key,
        title=row.title,
        body=row.body,
        url=row.url,
        published=row.published,
        content_hash=row.content_hash,
        authors=tuple(row.authors or ()),
        categories=tuple(row.categories or ()),
    )


def iter_documents_since(
    connection: Connection, since: datetime, batch_size: int = 500
) -> Iterator[list[Document]]:
    """Stored documents published (or, undated, stored) at or after `since`, in batches."""
    last_id = 0
    while True:
        query = (
            select(documents)
            .where(documents.c.id > last_id)
            .where(
                (documents.c.published >= since)
                | (documents.c.published.is_(None) & (documents.c.created_at >= since))
            )
            .order_by(documents.c.id)
            .limit(batch_size)
        )
        batch = [document_from_row(row) for row in connection.execute(query)]
        if not batch:
            return
        yield batch
        last_id = batch[-1].id or last_id


def count_documents(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(documents)).scalar_one())
