"""One verdict per entry of a batch, from its keys and what is stored (pure).

Order of the checks, first that applies wins:

1. no title and no body: *empty*, not stored;
2. the same identity earlier in the batch, or the same content key: a
   *duplicate* of that earlier entry;
3. a stored document with this identity (or, not yet adopted, its legacy
   identity): *unchanged* when the text hash is the same, else *edited* — unless
   the new text is another stored document's, then a *duplicate* of it; an
   identity retention purged is *unchanged* too (not stored again);
4. a stored document with this content key: a *duplicate* (same article text);
5. a stored document from *another* origin with this URL key: a *duplicate*
   (same link and title); inside one origin a shared link never merges;
6. otherwise *new*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from newswatch.dedup.keys import DedupKeys, is_empty
from newswatch.model import Document

VerdictKind = Literal["new", "unchanged", "edited", "duplicate", "empty"]


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """What dedup needs to know of a stored document."""

    id: int
    origin: str | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: VerdictKind
    # the stored document this entry is (unchanged, edited) or repeats (duplicate)
    document_id: int | None = None
    # a duplicate of an earlier entry of the same batch: its index there
    twin: int | None = None
    # rewrite the stored row's identity to the origin-based one (legacy rows)
    adopt: bool = False
    reason: str = ""


NEW = Verdict("new")  # the verdict of most entries of a cold pass: one, not one each


@dataclass
class Known:
    """Stored documents found by each key of a batch."""

    by_identity: dict[str, StoredDocument] = field(default_factory=dict)
    by_content_key: dict[str, StoredDocument] = field(default_factory=dict)
    by_url_key: dict[str, list[StoredDocument]] = field(default_factory=dict)
    purged: set[str] = field(default_factory=set)  # identities retention removed


def decide(
    entries: Sequence[tuple[Document, DedupKeys]], origin: str, known: Known
) -> list[Verdict]:
    verdicts: list[Verdict] = []
    first_with: dict[str, int] = {}
    for index, (document, keys) in enumerate(entries):
        if is_empty(document):
            verdicts.append(Verdict("empty", reason="no title and no text"))
            continue
        twin = _earlier_twin(keys, first_with)
        if twin is not None:
            verdicts.append(Verdict("duplicate", twin=twin, reason="repeated in the same batch"))
            continue
        first_with.setdefault("i" + keys.identity_hash, index)
        if keys.content_key:
            first_with.setdefault("c" + keys.content_key, index)
        verdicts.append(_against_store(keys, origin, known))
    return verdicts


def _earlier_twin(keys: DedupKeys, first_with: Mapping[str, int]) -> int | None:
    twin = first_with.get("i" + keys.identity_hash)
    if twin is None and keys.content_key:
        twin = first_with.get("c" + keys.content_key)
    return twin


def _against_store(keys: DedupKeys, origin: str, known: Known) -> Verdict:
    same_text = known.by_content_key.get(keys.content_key) if keys.content_key else None
    stored, adopt = _stored_identity(keys, known)
    if stored is not None:
        if stored.content_hash == keys.content_hash:
            return Verdict("unchanged", document_id=stored.id, adopt=adopt)
        if same_text is not None and same_text.id != stored.id:
            return Verdict(
                "duplicate", document_id=same_text.id, reason="edited into the same text"
            )
        return Verdict("edited", document_id=stored.id, adopt=adopt)
    if keys.identity_hash in known.purged:
        return Verdict("unchanged", reason="purged by retention; not stored again")
    if same_text is not None:
        return Verdict("duplicate", document_id=same_text.id, reason="same text")
    for other in known.by_url_key.get(keys.url_key or "", ()):
        if other.origin != origin:
            return Verdict("duplicate", document_id=other.id, reason="same link and title")
    return NEW


def _stored_identity(keys: DedupKeys, known: Known) -> tuple[StoredDocument | None, bool]:
    stored = known.by_identity.get(keys.identity_hash)
    if stored is not None:
        return stored, False
    legacy = known.by_identity.get(keys.legacy_identity_hash)
    if legacy is not None and legacy.origin is None:
        return legacy, True
    return None, False
