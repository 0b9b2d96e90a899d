"""Near-duplicate signatures (pure): MinHash over word shingles, LSH band keys.

A document's *signature* is 128 MinHash values over the 3-word shingles of its
body; two signatures agree in a fraction of places that estimates the Jaccard
similarity of the two shingle sets. Its first 48 values are cut into 16 bands
of 3; each band hashes to one 32-bit *band key*, and documents sharing any
band key are candidates (the store keeps the keys in an indexed table). With
16 x 3, pairs at 0.4 similarity share a key 65% of the time, at 0.5 88%, at
0.6 98%: as 32 bands of 4 did from 0.5 up (56%, 87%, 99%), with half the
index rows to write and probe — the index's cost (bench/README.md). On the
corpus's news feeds 16 x 3 made 144 candidate pairs of 11 million, 32 x 4 164.
All 128 values still estimate the similarity of a candidate.

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
0.6-0.75 ms for the same numpy arithmetic written here in a dozen lines; a
batch's shingles are now hashed in one matrix, a row per permutation, which
is ~4x faster again. Hashing is
stable across processes (CRC-32 of each word, no Python `hash`), so stored
signatures and band keys stay valid after restarts and on other nodes. numpy
is imported on first use, keeping `newswatch --help` fast.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from newswatch.model import Document

if TYPE_CHECKING:
    import numpy as np
    from numpy import ndarray

NUM_PERM = 128
BANDS = 16
ROWS = 3  # the band keys use the signature's first BANDS x ROWS values
SHINGLE = 3
MIN_WORDS = 20
MAX_WORDS = 250
SEED = 20261130
_SHORT_CUT = 2500  # characters: holds MAX_WORDS + 1 words of nearly every lead
_GROUP = 32  # documents hashed in one matrix (32 x 248 shingles x 128 x 8 bytes: 8 MB)

_WORD = re.compile(r"\w+")
# ASCII letters, digits and "_" (what \w matches there) lower-cased, other ASCII a
# space; bytes of other characters kept (a UTF-8 sequence is never split)
_PUNCTUATION = "\u2019\u2018\u201c\u201d\u2014\u2013\u2026\u00a0\u00ab\u00bb\u2022\u00b7"
_ASCII_WORDS = bytes(
    c if c >= 0x80 or chr(c).isalnum() or c == ord("_") else ord(" ") for c in range(256)
).lower()


class Signature(bytes):
    """NUM_PERM little-endian uint32 MinHash values (512 bytes), storable as a blob."""


def paragraphs(body: str) -> list[str]:
    """The body's paragraphs; normalize_text already collapsed the spaces inside them."""
    return list(filter(None, map(str.strip, body.split("\n\n"))))


def recurring_paragraphs(bodies: Iterable[str]) -> frozenset[str]:
    """Paragraphs that recur under two *different* entries of one source's batch.

    A footer recurs under unrelated entries; the paragraphs of a re-published
    copy recur too, under an entry that is mostly the same text. Two entries
    are copies when the paragraphs they share make up at least half the words
    of the shorter one; a paragraph shared only by copies is kept.
    """
    texts = [set(paragraphs(body)) for body in set(bodies) if "\n\n" in body]
    seen: set[str] = set()
    repeated: set[str] = set()  # found under two entries: set operations, most are not
    for text in texts:
        repeated |= seen & text
        seen |= text
    holders: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        for paragraph in text & repeated if repeated else ():
            holders.setdefault(paragraph, []).append(index)
    copies = _Copies(texts)
    found = set()
    for paragraph, where in holders.items():
        if len(where) < 2:
            continue
        pairs = ((a, b) for i, a in enumerate(where) for b in where[i + 1 :])
        if any(not copies(pair) for pair in pairs):
            found.add(paragraph)
    return frozenset(found)


class _Copies:
    """Whether two entries of a batch are copies; words counted only for entries
    that share a paragraph (most share none)."""

    def __init__(self, texts: list[set[str]]) -> None:
        self.texts = texts
        self.sizes: dict[int, int] = {}
        self.known: dict[tuple[int, int], bool] = {}

    def __call__(self, pair: tuple[int, int]) -> bool:
        if pair not in self.known:
            a, b = pair
            shared = _word_count(self.texts[a] & self.texts[b])
            self.known[pair] = 2 * shared >= min(self._size(a), self._size(b))
        return self.known[pair]

    def _size(self, index: int) -> int:
        if index not in self.sizes:
            self.sizes[index] = _word_count(self.texts[index])
        return self.sizes[index]


def _word_count(text: Iterable[str]) -> int:
    return len(" ".join(text).split())


def signature_of(body: str, boilerplate: frozenset[str] = frozenset()) -> Signature | None:
    """The body's signature without its boilerplate paragraphs; None when too short."""
    return signatures_of([body], boilerplate)[0]


def signatures_of(
    bodies: Sequence[str], boilerplate: frozenset[str] | None = None
) -> list[Signature | None]:
    """Signatures of one source's batch, each without the batch's recurring paragraphs
    (or without `boilerplate` when given). All of a batch's shingles are hashed
    in a few numpy calls: per document, the calls cost more than the arithmetic."""
    if boilerplate is None:
        boilerplate = recurring_paragraphs(bodies)
    words = [_lead_words(body, boilerplate) for body in bodies]
    signed = [index for index, found in enumerate(words) if len(found) >= MIN_WORDS]
    found: list[Signature | None] = [None] * len(bodies)
    for start in range(0, len(signed), _GROUP):
        group = signed[start : start + _GROUP]
        for index, signature in zip(group, _minhash([words[i] for i in group]), strict=True):
            found[index] = signature
    return found


def _lead_words(body: str, boilerplate: frozenset[str]) -> list[bytes]:
    """The first MAX_WORDS case-folded words of the body without its boilerplate, UTF-8."""
    text = body
    if boilerplate and "\n\n" in body:
        kept, size = [], 0
        for paragraph in paragraphs(body):  # up to MAX_WORDS * 20 characters: all it reads
            if paragraph not in boilerplate:
                kept.append(paragraph)
                size += len(paragraph) + 1
                if size > MAX_WORDS * 20:
                    break
        text = " ".join(kept)
    # most leads fit in the short cut; MAX_WORDS + 1 words there prove no word was cut
    words = _words(text[:_SHORT_CUT])
    if len(words) <= MAX_WORDS and len(text) > _SHORT_CUT:
        words = _words(text[: MAX_WORDS * 20])
    return words[:MAX_WORDS]


def _words(text: str) -> list[bytes]:
    """`\\w+` runs, case-folded, as UTF-8. Most news text is ASCII but for its quotes
    and dashes: it is split at ASCII non-word bytes through a bytes table, and only
    the pieces holding other characters go through the regular expression."""
    if not text.isascii():
        for mark in _PUNCTUATION:  # not word characters: a space splits as they do
            text = text.replace(mark, " ")
    pieces = text.encode().translate(_ASCII_WORDS).split()
    if text.isascii():
        return pieces
    words: list[bytes] = []
    for piece in pieces:
        if piece.isascii():
            words.append(piece)
        else:
            words += [word.encode() for word in _WORD.findall(piece.decode().casefold())]
    return words


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
    """One signed 32-bit key per band (band number mixed in), for an indexed table."""
    return [int(k) for k in band_keys_of([signature])[0]]


def band_keys_of(signatures: Sequence[bytes]) -> np.ndarray[Any, Any]:
    """The band keys of many signatures at once: an int64 array of 32-bit values, a row
    per signature. 32 bits keep the index small (SQLite stores them in 4 bytes); a
    chance match of two keys only costs one similarity check."""
    np = _numpy()
    values = np.frombuffer(b"".join(signatures), dtype="<u4").reshape(len(signatures), NUM_PERM)
    banded = values[:, : BANDS * ROWS].astype(np.uint64).reshape(len(signatures), BANDS, ROWS)
    mix, offsets = _band_mixers()
    with np.errstate(over="ignore"):
        keys = (banded * mix).sum(axis=2, dtype=np.uint64) + offsets
        keys ^= keys >> np.uint64(29)
        keys *= np.uint64(0xBF58476D1CE4E5B9)
        keys ^= keys >> np.uint64(32)
    top = (keys >> np.uint64(32)).astype(np.uint32)
    return cast("ndarray[Any, Any]", top.view(np.int32).astype(np.int64))


def _minhash(documents: list[list[bytes]]) -> list[Signature]:
    """The signatures of several word lists: one matrix of all their shingles, then the
    minimum of each document's rows."""
    np = _numpy()
    lengths = [len(words) for words in documents]
    flat = [word for words in documents for word in words]
    hashed = np.fromiter(map(zlib.crc32, flat), np.uint64, len(flat))
    # shingle i of a document starts at its word i; the last SHINGLE - 1 words start
    # none: shingles at every position of the joined words, then those dropped
    counts = np.array(lengths, dtype=np.intp) - SHINGLE + 1
    span = len(flat) - SHINGLE + 1
    with np.errstate(over="ignore"):
        factors = _shingle_factors()
        shingles = hashed[:span] * factors[0]
        for offset in range(1, SHINGLE):
            shingles += hashed[offset : offset + span] * factors[offset]
        ends = np.cumsum(lengths)[:-1]
        if len(ends):  # positions whose shingle runs into the next document
            shingles = np.delete(shingles, (ends[:, None] - np.arange(1, SHINGLE)).ravel())
        shingles ^= shingles >> np.uint64(31)
        multipliers, increments = _permutations()
        # a row per permutation: in place, and the minima run along contiguous memory
        permuted = np.multiply.outer(multipliers, shingles)
        permuted += increments[:, None]
    # the hash is the top 32 bits; a shift keeps the order, so it comes after the minimum
    minima = np.minimum.reduceat(permuted, np.cumsum(counts) - counts, axis=1)
    minima >>= np.uint64(32)
    return [Signature(row.tobytes()) for row in minima.T.astype("<u4")]


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
