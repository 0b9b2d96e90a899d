"""Near-duplicate signatures (pure): MinHash over word shingles, LSH band keys.

A document's *signature* is 128 MinHash values over the 3-word shingles of its
body; two signatures agree in a fraction of places that estimates the Jaccard
similarity of the two shingle sets. The signature is cut into 32 bands of 4
values; each band hashes to one 64-bit *band key*, and documents sharing any
band key are candidates (the store keeps the keys in an indexed table). With
32 x 4, pairs at 0.5 similarity share a key 87% of the time, at 0.6 99%.

What is hashed, and why (boilerplate must never merge two stories):

- **Body only.** Headlines are rewritten by every outlet; the title never
  enters the signature.
- **Paragraphs that recur across a source's batch are dropped.** A feed's
  newsletter blurb, cookie notice or "The post ... appeared first on ..."
  footer is the same paragraph under each of its entries; a paragraph found
  under two entries of one batch that are otherwise different (not copies of
  each other: a seed folder may hold the original and its copy) is that
  source's boilerplate and is not hashed. (Chosen over a keyword list, which
  misses every footer it was not written for, and over a stored table of
  lines per source, which needs I/O in this pure stage.)
- **Short texts get no signature.** Below `MIN_WORDS` words of body (titles
  only, one-line summaries, a teaser) only the exact keys of `dedup.keys`
  apply: a few shared words say nothing about two texts being one story.
- **The lead only: the first `MAX_WORDS` words.** The lead is what makes a
  story that story; copies share it, while footers, related-article lists
  and appended updates come after it. It also bounds the cost of a long
  article (TIME's feed carries 3,000-word bodies) to that of a 250-word one.
- **3-word shingles**, case-folded words: an edit of 10% of the words still
  leaves ~0.6 similarity; two stories about the same person on the same day
  share names, not runs of words, and stay under 0.2 (see tests/test_stories_golden.py).

Shingles are hashed here rather than with datasketch: its import took 2.2 s
(it pulls in scipy), and per 3 KB document it took 0.9-1.1 ms of CPU against
0.6-0.75 ms for the same numpy arithmetic written here in a dozen lines. Hashing is
stable across processes (CRC-32 of each word, no Python `hash`), so stored
signatures and band keys stay valid after restarts and on other nodes. numpy
is imported on first use, keeping `newswatch --help` fast.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from newswatch.model import Document

if TYPE_CHECKING:
    import numpy as np

NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
SHINGLE = 3
MIN_WORDS = 20
MAX_WORDS = 250
SEED = 20261130

_WORD = re.compile(r"\w+")


class Signature(bytes):
    """NUM_PERM little-endian uint32 MinHash values (512 bytes), storable as a blob."""


def paragraphs(body: str) -> list[str]:
    """The body's paragraphs; normalize_text already collapsed the spaces inside them."""
    return [p for p in (part.strip() for part in body.split("\n\n")) if p]


def recurring_paragraphs(bodies: Iterable[str]) -> frozenset[str]:
    """Paragraphs that recur under two *different* entries of one source's batch.

    A footer recurs under unrelated entries; the paragraphs of a re-published
    copy recur too, under an entry that is mostly the same text. Two entries
    are copies when the paragraphs they share make up at least half the words
    of the shorter one; a paragraph shared only by copies is kept.
    """
    texts = [set(paragraphs(body)) for body in set(bodies) if "\n\n" in body]
    holders: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        for paragraph in text:
            holders.setdefault(paragraph, []).append(index)
    sizes = [sum(len(p.split()) for p in text) for text in texts]
    copies: dict[tuple[int, int], bool] = {}
    found = set()
    for paragraph, where in holders.items():
        pairs = ((a, b) for i, a in enumerate(where) for b in where[i + 1 :])
        if any(not _copies(texts, sizes, pair, copies) for pair in pairs):
            found.add(paragraph)
    return frozenset(found)


def _copies(
    texts: list[set[str]],
    sizes: list[int],
    pair: tuple[int, int],
    known: dict[tuple[int, int], bool],
) -> bool:
    if pair not in known:
        a, b = pair
        shared = sum(len(p.split()) for p in texts[a] & texts[b])
        known[pair] = 2 * shared >= min(sizes[a], sizes[b])
    return known[pair]


def signature_of(body: str, boilerplate: frozenset[str] = frozenset()) -> Signature | None:
    """The body's signature without its boilerplate paragraphs; None when too short."""
    text = body
    if boilerplate and "\n\n" in body:
        text = " ".join(p for p in paragraphs(body) if p not in boilerplate)
    text = text[: MAX_WORDS * 20]
    words = _WORD.findall(text.casefold())[:MAX_WORDS]
    if len(words) < MIN_WORDS:
        return None
    return _minhash(words)


def signatures_of(bodies: Sequence[str]) -> list[Signature | None]:
    """Signatures of one source's batch, each without the batch's recurring paragraphs."""
    boilerplate = recurring_paragraphs(bodies)
    return [signature_of(body, boilerplate) for body in bodies]


def batch_signatures(documents: Sequence[Document]) -> dict[tuple[str, str], bytes | None]:
    """Signatures of one source's batch by (source, key), the first entry of a key winning."""
    found: dict[tuple[str, str], bytes | None] = {}
    signatures = signatures_of([d.body for d in documents])
    for document, signature in zip(documents, signatures, strict=True):
        found.setdefault((document.source, document.key), signature)
    return found


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    np = _numpy()
    left = np.frombuffer(a, dtype="<u4")
    right = np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(left == right)) / NUM_PERM


def band_keys(signature: bytes) -> list[int]:
    """One signed 64-bit key per band (band number mixed in), for an indexed table."""
    np = _numpy()
    values = np.frombuffer(signature, dtype="<u4").astype(np.uint64).reshape(BANDS, ROWS)
    mix, offsets = _band_mixers()
    with np.errstate(over="ignore"):
        keys = (values * mix).sum(axis=1, dtype=np.uint64) + offsets
        keys ^= keys >> np.uint64(29)
        keys *= np.uint64(0xBF58476D1CE4E5B9)
        keys ^= keys >> np.uint64(32)
    return [int(k) for k in keys.view(np.int64)]


def _minhash(words: list[str]) -> Signature:
    np = _numpy()
    hashed = np.fromiter(map(zlib.crc32, map(str.encode, words)), np.uint64, len(words))
    count = max(len(words) - SHINGLE + 1, 1)
    shingles = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset, factor in enumerate(_shingle_factors()[: min(SHINGLE, len(words))]):
            shingles += hashed[offset : offset + count] * factor
        shingles ^= shingles >> np.uint64(31)
        multipliers, increments = _permutations()
        permuted = (shingles[:, None] * multipliers + increments) >> np.uint64(32)
    return Signature(permuted.min(axis=0).astype("<u4").tobytes())


@cache
def _numpy() -> Any:
    import numpy

    return numpy


@cache
def _permutations() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Multiply-shift hash functions: (a * x + b) >> 32 over uint64, a odd."""
    np = _numpy()
    generator = np.random.Generator(np.random.PCG64(SEED))
    top = np.iinfo(np.uint64).max
    multipliers = generator.integers(1, top, size=NUM_PERM, dtype=np.uint64, endpoint=True) | 1
    increments = generator.integers(0, top, size=NUM_PERM, dtype=np.uint64, endpoint=True)
    return multipliers, increments


@cache
def _shingle_factors() -> list[Any]:
    np = _numpy()
    constants = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)
    return [np.uint64(c) for c in constants]


@cache
def _band_mixers() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    np = _numpy()
    generator = np.random.Generator(np.random.PCG64(SEED + 1))
    top = np.iinfo(np.uint64).max
    mix = generator.integers(1, top, size=ROWS, dtype=np.uint64, endpoint=True) | 1
    offsets = generator.integers(0, top, size=BANDS, dtype=np.uint64, endpoint=True)
    return mix, offsets
