"""The keys that say two entries are one document (pure).

- **identity**: the entry's key (GUID, link or hash; a seed's path) inside its
  *origin*, a stable per-source key — the configured feed URL or the seed
  folder's path — never the display name, which two feeds can share.
- **content key**: the hash of the normalised title and body, only for texts
  long enough to be an article (`MIN_CONTENT_WORDS` in the body); two empty or
  one-line entries with the same words are not the same article.
- **URL key**: the canonical URL without its fragment *and* the title; it merges
  the same article linked from two origins, never two entries of one feed that
  share a link (podcast episodes linking to the home page, `page#anchor-N`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from newswatch.model import Document

# Bodies shorter than this (in words) never merge by text alone: "Comments",
# "Read more", an empty description. Ten words is a sentence of news.
MIN_CONTENT_WORDS = 10


@dataclass(frozen=True, slots=True)
class DedupKeys:
    identity_hash: str
    # The identity before origins existed (display name + key); lets an upgraded
    # database adopt its old rows instead of storing every entry again.
    legacy_identity_hash: str
    url_key: str | None
    content_key: str | None
    content_hash: str


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def keys_of(document: Document, origin: str) -> DedupKeys:
    return DedupKeys(
        identity_hash=identity_hash(origin, document.key),
        legacy_identity_hash=sha256_hex(f"{document.source}\0{document.key}"),
        url_key=url_key(document.url, document.title),
        content_key=content_key(document.body, document.content_hash),
        content_hash=document.content_hash,
    )


def identity_hash(origin: str, key: str) -> str:
    return sha256_hex(f"{origin}\0{key}")


def url_key(url: str | None, title: str) -> str | None:
    """Canonical URL (fragment dropped) plus title, or None without either."""
    if not url or not title.strip():
        return None
    return sha256_hex(f"{url.partition('#')[0]}\0{title.casefold()}")


def content_key(body: str, content_hash: str) -> str | None:
    return content_hash if is_substantial(body) else None


def is_substantial(body: str) -> bool:
    """At least MIN_CONTENT_WORDS words (split stops counting there)."""
    return len(body.split(None, MIN_CONTENT_WORDS)) >= MIN_CONTENT_WORDS


def is_empty(document: Document) -> bool:
    """Nothing to read or match: no title and no body."""
    return not document.title.strip() and not document.body.strip()
