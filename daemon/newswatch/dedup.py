"""Exact-duplicate keys (pure). The database's unique indexes are the referee.

A document has three keys: its identity inside its source (so an edited
item updates instead of duplicating), its canonical URL, and the hash of its
normalised text. Two documents sharing any key are the same document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from newswatch.model import Document


@dataclass(frozen=True, slots=True)
class DedupKeys:
    identity_hash: str
    url_hash: str | None
    content_hash: str


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def keys_of(document: Document) -> DedupKeys:
    return DedupKeys(
        identity_hash=sha256_hex(f"{document.source}\0{document.key}"),
        url_hash=sha256_hex(document.url) if document.url else None,
        content_hash=document.content_hash,
    )


def first_of_each(documents: Iterable[Document]) -> tuple[list[tuple[Document, DedupKeys]], int]:
    """Drop documents that repeat a key of an earlier one in the same batch.

    Returns the kept documents with their keys, and how many were dropped.
    """
    seen: set[str] = set()
    kept: list[tuple[Document, DedupKeys]] = []
    dropped = 0
    for document in documents:
        keys = keys_of(document)
        own = {"i" + keys.identity_hash, "c" + keys.content_hash}
        if keys.url_hash:
            own.add("u" + keys.url_hash)
        if own & seen:
            dropped += 1
            continue
        seen |= own
        kept.append((document, keys))
    return kept, dropped
