"""Near-duplicate signatures (pure): MinHash over word shingles, LSH band keys.

A document's *signature* is 128 MinHash values over the 3-word shingles of its
body, each cut to its top 16 bits (256 bytes); two signatures agree in a
fraction of places that estimates the Jaccard similarity of the two shingle
sets (two different minima agree by chance once in 65,536: no estimate moves
by 0.001). Its first 16 values are cut into 8 bands of 2; each band hashes to
one 32-bit *band key*, and documents sharing any band key are candidates (the
store keeps the keys in an indexed table). With 8 x 2, pairs at 0.4
similarity share a key 75% of the time, at 0.5 90%, at 0.6 97%: more often
than with the 16 bands of 3 before (65%, 88%, 98% from 0.6 up alike), with
half the index rows to write, probe and commit, the index's cost
(bench/README.md). The price: more candidates of low similarity, pairs that
share a phrase or two (on the corpus's 4,737 signed entries 996 candidate
pairs of 11 million, 16 x 3 made 89), each costing one similarity check.
All 128 values still estimate the similarity of a candidate.

What is hashed, and why (boilerplate must never merge two stories):

- **Body only.** Headlines are rewritten by every outlet; the title never
  enters the signature.
- **Boilerplate is dropped** (`dedup.boilerplate`): pieces that recur under
  entries that are not copies of each other (a footer, a header, a cookie
  notice), among a batch's entries and the source's `CONTEXT_BODIES` latest
  stored ones (an outlet whose feed shows one entry at a time, or a seed file
  added alone, still has its footer found: unremoved, an 80-word footer made
  a short copy unlike its original and like the outlet's other items); and in
  a feed an outlet's stock description under all its entries. Only a body's
  first `READ_CUT` characters are searched, as far as a lead can reach.
- **Short texts are one story only when their words are the same.** Below
  `MIN_WORDS` words of body a few shared words say nothing about two texts
  being one story, so a text of `MIN_CONTENT_WORDS` (a sentence of news) up to
  `MIN_WORDS` words gets an *exact* signature instead: 128 values drawn from a
  hash of its case-folded words, alike only for the same words in the same
  order (a one-sentence wire item re-headlined by another outlet), ~0 similar
  to any other. A wire item's dateline and credit ("LONDON (Reuters) - ",
  "(AP)"), which re-publishing outlets keep or drop, are not hashed, short
  text or long. Titles only and shorter teasers get no signature: the exact
  keys of `dedup.keys` alone apply.
- **The lead only: the first `MAX_WORDS` words.** The lead is what makes a
  story that story; copies share it, while footers, related-article lists
  and appended updates come after it. It also bounds the cost of a long
  article (TIME's feed carries 3,000-word bodies) to that of a 250-word one.
- **3-word shingles**, case-folded words: an edit of 10% of the words still
  leaves ~0.6 similarity; two stories about the same person on the same day
  share names, not runs of words, and stay under 0.2 (see tests/test_stories_golden.py).

Shingles are hashed here rather than with datasketch: its import took 2.2 s
(it pulls in scipy), and per 3 KB document it took 0.9-1.1 ms of CPU against
0.6-0.75 ms for the same numpy arithmetic written here in a dozen lines. A
batch is hashed in a few numpy calls, with no Python object per word: each
word's hash is a polynomial over its bytes, read off one running sum over
the batch's joined text; a shingle's three word hashes are mixed to 32 bits,
and its 128 values come from one matrix, a row per permutation a * x + b
modulo 2**32 (estimates as good as 64-bit multiply-shift ones, at half the
memory and a native multiply). Signing the corpus's 200 feeds took 0.6-0.8
s of CPU with CRC-32 per word and 64-bit arithmetic, 0.3 s, then ~0.27 s. Of
that the matrix is a fifth (three passes of SIMD arithmetic, _ROWS
permutations at a time so that the three stay in the core's cache: the whole
4 MB matrix at once cost 1.2-1.4x as much); finding boilerplate a third
(`dedup.boilerplate`); the rest finding and hashing words. A body found twice
in a batch is signed once.

This is signature format 2 (format 1: 128 32-bit values, 512 bytes, 16 bands
of 3): `similarity` says 0 for two signatures of different formats, and
migration 0014 dropped the band rows of format 1. Hashing is stable across
processes (no Python `hash`), so stored signatures and band keys stay valid
after restarts and on other nodes. numpy is imported on first use, keeping
`newswatch --help` fast.
"""

from __future__ import annotations

import hashlib
import operator
import os
import re
import sys
from array import array
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from itertools import accumulate, pairwise
from typing import TYPE_CHECKING, Any

from newswatch.dedup.boilerplate import read_pieces, recurring, stock_descriptions
from newswatch.dedup.keys import MIN_CONTENT_WORDS
from newswatch.model import Document

if TYPE_CHECKING:
    import numpy as np
    from numpy import ndarray

NUM_PERM = 128
BANDS = 8
ROWS = 2  # the band keys use the signature's first BANDS x ROWS values
SHINGLE = 3
MIN_WORDS = 20
MAX_WORDS = 250
SEED = 20261130
READ_CUT = MAX_WORDS * 20 + 1000  # characters of a body searched for its lead and boilerplate
CONTEXT_BODIES = 8  # the source's latest stored bodies among which a batch's boilerplate is sought
_SHORT_CUT = 1800  # characters: hold MAX_WORDS + 1 words of 99% of the corpus's leads
_GROUP = 32  # documents MinHashed together (their shingles side by side in each block)
_ROWS = 32  # permutations computed at a time (32 x 248 x 32 x 4 bytes: 1 MB)
_CHUNK = 32  # documents whose words are found in one pass over their joined text
_POWERS = _CHUNK * (MAX_WORDS * 20 + 1) + 2  # bytes of a chunk's joined leads, nearly always
_SPACE = ord(" ")

_WORD = re.compile(r"\w+")
# A wire item's dateline and credit, which the outlets re-publishing it keep or drop:
# before a dash at the start, a place in capitals, an agency in brackets, or both
# ("LONDON (Reuters) - ", "Kyiv, Ukraine (AP) \u2014 ", "WASHINGTON \u2014 ", "(AFP) - "); an
# agency of one word in brackets at the end ("(Reuters)"). Nothing else: words before a
# dash, or a longer bracket at the end ("(Frost Security)"), are the text's own.
_AGENCY = r"\([A-Za-z][A-Za-z.&' ]{1,24}\)"
_CAPITALS = r"[A-Z][A-Z.'\u2019-]+(?: [A-Z][A-Z.'\u2019-]+)*"
_NAMED = r"[A-Z][\w.'\u2019-]*(?:,? [A-Z][\w.'\u2019-]*){0,3}"
_DATELINE = re.compile(
    rf"^(?:(?:{_CAPITALS}|{_NAMED}),? ?{_AGENCY}|{_CAPITALS}|{_AGENCY}) ?[-\u2013\u2014]+ +"
)
_DASHES = re.compile("[-\u2013\u2014] ")  # a dateline ends with one
_CREDIT = re.compile(r" *\([A-Za-z][A-Za-z.&']{1,14}\)\.?$")
# ASCII letters, digits and "_" (what \w matches there) lower-cased, other ASCII a
# space; bytes of other characters kept (a UTF-8 sequence is never split)
_PUNCTUATION = "\u2019\u2018\u201c\u201d\u2014\u2013\u2026\u00a0\u00ab\u00bb\u2022\u00b7"
_NON_ASCII_PIECE = re.compile(rb"[\x80-\xff][^ ]*")
_ASCII_WORDS = bytes(
    c if c >= 0x80 or chr(c).isalnum() or c == ord("_") else ord(" ") for c in range(256)
).lower()


SIGNATURE_BYTES = NUM_PERM * 2  # the format: 16-bit values (earlier versions: 32-bit, 512 bytes)
# Each band's offset, drawn once with numpy's PCG64 (`band_offsets_generated`): the
# keys stored in databases depend on them, so they are written out here.
_BAND_OFFSETS = (
    1360894613441635141,
    12569607660172156824,
    10884647876063149067,
    12154200149378390491,
    12645341929556283056,
    4084214577522963067,
    8323432024667905665,
    17317585446771454317,
)
# Each permutation's a (odd) and b, drawn once with numpy's PCG64 (`permutations_generated`):
# stored signatures depend on them, and numpy.random would cost each parse worker 0.025 s
# of CPU and 6.7 MB, so they are written out here too.
# fmt: off
_MULTIPLIERS = (
    3443829609, 2813880905, 1886065575, 1386493051, 3891179465, 2069073191,
    3919195283, 21211249, 3091148111, 1873574137, 2538449155, 1982891369,
    1655257629, 2178324331, 3865225849, 2927486381, 2049377637, 3452555275,
    2303289509, 3917173625, 2114580929, 3870319257, 3397697849, 2576266569,
    3380168407, 3171585577, 2355056523, 1639950829, 244252599, 2902725923,
    4065132623, 3126967699, 3705119137, 1543595141, 735303539, 3023475531,
    2358765071, 436010725, 1742745405, 1771559855, 4267249669, 259797517,
    3612789493, 3669319255, 3589257929, 2465771133, 830141899, 1045412977,
    3036754227, 360187019, 4099018703, 701003761, 2504203597, 1677647431,
    178212153, 3066729733, 1535323077, 3649926881, 4065321209, 2286008561,
    975246901, 3467967637, 1694893701, 3620931063, 1479611899, 1575795101,
    812554329, 3843055345, 2175816055, 3959572507, 2559251071, 1160104825,
    3518448419, 814734237, 85405117, 2645754579, 1546644699, 862349167,
    2833071221, 4001343607, 475597411, 1105693453, 443901465, 3203260919,
    4105805593, 813129625, 1040520045, 2024459093, 2308668901, 3951461319,
    1744989717, 1358813457, 3656348855, 3126322477, 2613909145, 2692247467,
    1284580147, 2418724285, 2738800583, 2149098905, 1014879883, 2376229763,
    1527544517, 799670145, 2493164447, 2563480795, 2703200641, 3353272923,
    3147207863, 2790012547, 284227983, 3245172495, 544779885, 1502103485,
    4082719923, 2735656665, 954166577, 4199456917, 4286539691, 2306075717,
    3959172481, 4042624645, 2053174319, 3589382247, 3734467321, 1623873799,
    2090206585, 4221793037,
)
_INCREMENTS = (
    883864778, 223049240, 1284278711, 3741850167, 742462959, 949276403,
    2596882048, 2793620548, 24214038, 788480256, 4010693754, 4239198639,
    1179706231, 2918413474, 1198741547, 1784672894, 2260177136, 528750411,
    178444366, 1160910428, 2293777424, 2418405512, 2837313839, 788965481,
    796951264, 153997395, 1402822379, 91870537, 3181286045, 628007116,
    3078762373, 1983270064, 2780718991, 3974974922, 1698427000, 2855371816,
    2934507210, 1410628465, 3218792302, 2805099707, 2165098690, 2450746030,
    1621883804, 1491299915, 2902504256, 2821889513, 2941200507, 722714477,
    2094426628, 2445883741, 3811450620, 4134493913, 3794128767, 3861122179,
    1327054083, 422981709, 3587004415, 399963682, 3455192000, 2812298789,
    1814619468, 1329649573, 548458157, 785796204, 4205320147, 81941710,
    969076253, 3624587, 435262660, 1604338375, 4138006877, 1625250082,
    2121573778, 1565105705, 1097566801, 2196751486, 189896528, 3615047981,
    1257818436, 3919918499, 3124204367, 1565403289, 177824518, 1229812841,
    387854295, 284753695, 2336604692, 4249893067, 391261727, 3045077738,
    1671891904, 3921180714, 1785719712, 882213343, 2771407872, 619150128,
    2542194469, 1463671117, 3704529051, 1061268170, 3576720958, 2367298435,
    3826384614, 2014187494, 3340312658, 1431054320, 2160690819, 3871137668,
    1016420374, 2523766905, 745842834, 545730424, 3713706900, 2692205997,
    2753560863, 1711482072, 1239066637, 4218135255, 405898292, 3725519381,
    3142028248, 3545756778, 654126284, 4260631168, 1819125873, 214667910,
    3826565483, 456519977,
)
# fmt: on
_M64 = (1 << 64) - 1
_U32 = next(code for code in "IL" if array(code).itemsize == 4)  # array's 32-bit type


class Signature(bytes):
    """NUM_PERM little-endian uint16 MinHash values (256 bytes), storable as a blob."""


def recurring_pieces(bodies: Iterable[str]) -> frozenset[str]:
    """What signing drops as a batch's boilerplate (`dedup.boilerplate`)."""
    return recurring(read_pieces(bodies, READ_CUT).values())


def signature_of(body: str, boilerplate: frozenset[str] = frozenset()) -> Signature | None:
    """The body's signature without its boilerplate pieces; None when too short."""
    return signatures_of([body], boilerplate)[0]


def signatures_of(
    bodies: Sequence[str],
    boilerplate: frozenset[str] | None = None,
    context: Sequence[str] = (),
) -> list[Signature | None]:
    """Signatures of one source's batch, each without the pieces recurring among the
    batch and its `context` (the source's latest stored bodies, not signed), or
    without `boilerplate` when given. A batch's words are found and hashed in a few
    numpy calls over its joined text, its shingles in one matrix per group: per
    document, the calls cost more than the arithmetic."""
    split = read_pieces([*bodies, *context], READ_CUT)
    if boilerplate is None:
        boilerplate = recurring(split.values())
    sizes = {len(piece) for piece in boilerplate}
    distinct = list(dict.fromkeys(bodies))  # a body's signature depends on it alone
    signed: dict[str, Signature] = {}
    for first in range(0, len(distinct), _CHUNK):
        chunk = distinct[first : first + _CHUNK]
        texts = [_undated(_lead_text(body, split[body], boilerplate, sizes)) for body in chunk]
        words = _lead_hashes(texts)
        long = [index for index, hashes in enumerate(words) if len(hashes) >= MIN_WORDS]
        for index, hashes in enumerate(words):
            if MIN_CONTENT_WORDS <= len(hashes) < MIN_WORDS:
                signed[chunk[index]] = _exact_signature(texts[index])
        for start in range(0, len(long), _GROUP):
            group = long[start : start + _GROUP]
            for index, signature in zip(group, _minhash([words[i] for i in group]), strict=True):
                signed[chunk[index]] = signature
    return [signed.get(body) for body in bodies]


def _lead_text(body: str, split: list[str], boilerplate: frozenset[str], sizes: set[int]) -> str:
    """The body without its boilerplate pieces (`split`: the pieces of its first
    READ_CUT characters), as far as the lead can reach. `sizes`: the boilerplate's
    lengths; a piece of another length is not hashed."""
    if not boilerplate or boilerplate.isdisjoint(split):
        return body
    kept, size = [], 0
    for piece in split:
        if len(piece) not in sizes or piece not in boilerplate:
            kept.append(piece)
            size += len(piece) + 1
            if size > MAX_WORDS * 20:
                break
    return " ".join(kept)


def _undated(text: str) -> str:
    """The text without a wire item's dateline and credit (see _DATELINE), which would
    make a one-sentence item re-published with or without them another story."""
    head = text[:80]  # a dateline is shorter: the search stays short on any text
    if (head[:1].isupper() or head[:1] == "(") and _DASHES.search(head):
        dateline = _DATELINE.match(head)
        if dateline is not None:
            text = text[dateline.end() :]
    if text[-1:] in ")." and "(" in text[-19:]:
        text = _CREDIT.sub("", text, count=1)
    return text


def _lead_hashes(texts: list[str]) -> list[ndarray[Any, Any]]:
    """The hashes of the first MAX_WORDS words of each text. Most leads fit in the short
    cut; MAX_WORDS + 1 words there prove no word was cut, the others are read again
    further."""
    words = _split(*_word_hashes([_words(text[:_SHORT_CUT]) for text in texts]))
    longer = [i for i, t in enumerate(texts) if len(words[i]) <= MAX_WORDS and len(t) > _SHORT_CUT]
    if longer:
        more = _word_hashes([_words(texts[i][: MAX_WORDS * 20]) for i in longer])
        for index, found in zip(longer, _split(*more), strict=True):
            words[index] = found
    return [found[:MAX_WORDS] for found in words]


def _split(hashes: ndarray[Any, Any], ends: list[int]) -> list[ndarray[Any, Any]]:
    """The joined texts' word hashes, a slice per text (`ends`: each text's last word's,
    plus one)."""
    return [hashes[start:end] for start, end in pairwise([0, *ends])]


def _words(text: str) -> bytes:
    """The text's `\\w+` runs, case-folded, as UTF-8 between ASCII spaces. Most news text
    is ASCII but for its quotes and dashes: a bytes table lower-cases it and blanks
    what is not a word character, and only pieces holding other characters (found
    by a regular expression over the bytes, no object per word) go through `\\w+`
    on their decoded, case-folded text."""
    if not text.isascii():
        for mark in _PUNCTUATION:  # not word characters: a space splits as they do
            text = text.replace(mark, " ")
    blanked = text.encode().translate(_ASCII_WORDS)
    if blanked.isascii():
        return blanked
    parts: list[bytes] = []
    done = 0
    for found in _NON_ASCII_PIECE.finditer(blanked):  # the rest of a piece from its first
        start = blanked.rfind(b" ", done, found.start()) + 1  # non-ASCII byte; its start
        words = _WORD.findall(blanked[start : found.end()].decode().casefold())
        parts += (blanked[done:start], " ".join(words).encode())
        done = found.end()
    parts.append(blanked[done:])
    return b" ".join(parts)


def _word_hashes(leads: list[bytes]) -> tuple[ndarray[Any, Any], list[int]]:
    """64-bit hashes of the words of all leads, in order, and where each lead's words end
    (the number of words of it and the leads before it).

    A word's hash is the polynomial sum of its bytes times powers of an odd
    constant, modulo 2**64: one running sum over the joined text gives every word's
    as a difference of two sums, scaled back by the inverse power of its start
    (odd numbers are invertible modulo 2**64), so no Python object is made per word.
    """
    np = _numpy()
    text = b" " + b" ".join(leads) + b" "
    codes = np.frombuffer(text, dtype=np.uint8)
    word = codes != _SPACE
    # the byte before a word's start, the word's last byte, ...
    edges = np.flatnonzero(word[1:] != word[:-1])
    before, last = edges[0::2], edges[1::2]
    powers, inverses = _powers(len(text))
    sums = np.multiply(codes, powers[: len(text)], dtype=np.uint64)
    np.cumsum(sums, out=sums)
    hashes = sums[last]
    hashes -= sums[before]
    hashes *= inverses[1:][before]
    # a lead's words start before the space after it: those spaces (a few) searched
    # among the bytes before the words (many)
    spaces = list(accumulate(len(lead) + 1 for lead in leads))
    return hashes, np.searchsorted(before, spaces).tolist()


def _exact_signature(text: str) -> Signature:
    """A short text's signature: its case-folded words hashed to SIGNATURE_BYTES bytes,
    equal for the same words in the same order and ~0 similar to anything else."""
    return Signature(hashlib.shake_128(b" ".join(_words(text).split())).digest(SIGNATURE_BYTES))


def batch_signatures(
    documents: Sequence[Document], feed: bool = False, context: Sequence[str] = ()
) -> dict[tuple[str, str], bytes | None]:
    """Signatures of one source's batch by (source, key), the first entry of a key winning.
    A `feed`'s entries are one outlet's: none for its stock description. (A seed folder
    holds documents of any outlet, often all linked on one host such as example.com:
    the same text under two headlines there is a copy.) `context`: the source's latest
    stored bodies, where the batch's boilerplate is sought too."""
    found: dict[tuple[str, str], bytes | None] = {}
    stock = stock_descriptions(documents) if feed else frozenset()
    bodies = ["" if d.body in stock else d.body for d in documents]
    signatures = signatures_of(bodies, context=context)
    for document, signature in zip(documents, signatures, strict=True):
        found.setdefault((document.source, document.key), signature)
    return found


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two shingle sets; 0 when either signature is
    not of this format (one stored by an earlier version): never compared as alike."""
    if len(a) != SIGNATURE_BYTES or len(b) != SIGNATURE_BYTES:
        return 0.0
    same: int = sum(map(operator.eq, memoryview(a).cast("H"), memoryview(b).cast("H")))
    return same / NUM_PERM


def band_keys(signature: bytes) -> list[int]:
    """One signed 32-bit key per band (band number mixed in), for an indexed table."""
    return band_keys_of([signature])[0]


def band_keys_of(signatures: Sequence[bytes]) -> list[list[int]]:
    """The band keys of many signatures, a list per signature. A band's ROWS 16-bit
    values side by side are one exact little-endian number, mixed with its band's
    offset (a 64-bit finaliser); the top 32 bits are the key, signed. 32 bits keep
    the index small (SQLite stores them in 4 bytes); a chance match of two keys only
    costs one similarity check. Plain integers, not numpy: the daemon's main process
    only files and compares signatures the parse workers made, and numpy (~13 MB)
    stays out of it (bench/README.md, idle daemon)."""
    top = 1 << 31
    return [
        [k - (top << 1) if k >= top else k for k in row]
        for row in unsigned_band_keys_of(signatures)
    ]


def unsigned_band_keys_of(signatures: Sequence[bytes]) -> list[list[int]]:
    """band_keys_of's keys as unsigned 32-bit numbers (what the store files). The
    finaliser's steps written out in one comprehension per band, over that band's
    values of all the signatures (one array of their first bytes, sliced): a call or
    a tuple per value cost as much as the arithmetic (0.6x of a loop per signature).
    Its last step, `x ^= x >> 32`, leaves the top 32 bits as they are; the first,
    the offset added, needs no cut to 64 bits: every offset is below 2**64 - 2**32."""
    if not signatures:
        return []
    width = BANDS * ROWS * 2  # bytes: ROWS 16-bit values a band
    joined = b"".join([signature[:width] for signature in signatures])
    if len(joined) != width * len(signatures):
        raise ValueError("a signature is shorter than its bands")
    values = array(_U32, joined)  # a band's two 16-bit values side by side: one number
    if sys.byteorder == "big":
        values.byteswap()
    mask = _M64
    columns = [
        [
            ((((v := x + offset) ^ v >> 29) * 0xBF58476D1CE4E5B9) & mask) >> 32
            for x in values[band::BANDS]
        ]
        for band, offset in enumerate(_BAND_OFFSETS)
    ]
    return [list(row) for row in zip(*columns, strict=True)]


def _minhash(documents: list[ndarray[Any, Any]]) -> list[Signature]:
    """The signatures of several documents' word hashes: one matrix of all their
    shingles, then the minimum of each document's rows."""
    np = _numpy()
    lengths = [len(words) for words in documents]
    hashed = np.concatenate(documents)
    # shingle i of a document starts at its word i; the last SHINGLE - 1 words start
    # none: shingles at every position of the joined words, then those dropped
    counts = np.array(lengths, dtype=np.intp) - SHINGLE + 1
    span = len(hashed) - SHINGLE + 1
    factors = _shingle_factors()
    shingles = hashed[:span] * factors[0]
    for offset in range(1, SHINGLE):
        shingles += hashed[offset : offset + span] * factors[offset]
    if len(lengths) > 1:  # without those running into the next document: joined slices,
        # cheaper than np.delete's mask
        bounds = list(accumulate(lengths, initial=0))
        shingles = np.concatenate(
            [shingles[start : end - SHINGLE + 1] for start, end in pairwise(bounds)]
        )
    shingles ^= shingles >> np.uint64(29)
    shingles *= np.uint64(0xBF58476D1CE4E5B9)
    mixed = (shingles >> np.uint64(32)).astype(np.uint32)
    multipliers, increments = _permutations()
    starts = np.cumsum(counts) - counts
    minima = np.empty((NUM_PERM, len(lengths)), dtype=np.uint32)
    # a row per permutation, _ROWS rows at a time in one buffer: the minima run along
    # contiguous memory, and the block stays in the core's cache between the three
    # passes (the whole matrix, 4 MB, did not: see the module docstring)
    block = np.empty((_ROWS, len(mixed)), dtype=np.uint32)
    for row in range(0, NUM_PERM, _ROWS):
        rows = slice(row, row + _ROWS)
        np.multiply(multipliers[rows, None], mixed, out=block)
        np.add(block, increments[rows, None], out=block)
        np.minimum.reduceat(block, starts, axis=1, out=minima[rows])
    # the top 16 bits of each minimum: half the bytes, and two different minima
    # agree by chance once in 65,536
    values = (minima.T >> np.uint32(16)).astype("<u2").tobytes()
    size = SIGNATURE_BYTES
    return [Signature(values[i : i + size]) for i in range(0, len(values), size)]


@cache
def _numpy() -> Any:
    """numpy, loaded at the first signature. MinHash needs no linear algebra, so
    numpy's OpenBLAS gets one thread: otherwise it starts one per core at import,
    which spin a while and cost each process ~0.1 s of CPU (issue 11)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy

    return numpy


@cache
def _permutations() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Hash functions a * x + b modulo 2**32, a odd: a permutation of 32-bit values each.
    Over well-mixed shingle hashes they estimate similarity as well as 64-bit
    multiply-shift ones did (bench/README.md), at half the memory and a native
    multiply."""
    np = _numpy()
    return np.array(_MULTIPLIERS, dtype=np.uint32), np.array(_INCREMENTS, dtype=np.uint32)


def _powers(size: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Powers 0.. of the word hash's odd constant and of its inverse, modulo 2**64, for
    a joined text of `size` bytes: one table for a chunk's leads, kept (2.6 MB); a
    longer text (non-Latin words take several bytes a character) gets its own."""
    return _power_table(max(1 << (size - 1).bit_length(), _POWERS))


@lru_cache(maxsize=2)
def _power_table(length: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    np = _numpy()
    base = 0x9E3779B97F4A7C15
    inverse = pow(base, -1, 1 << 64)
    powers = np.full(length, base, dtype=np.uint64)
    powers[0] = 1
    inverses = np.full(length, inverse, dtype=np.uint64)
    inverses[0] = 1
    return np.cumprod(powers, dtype=np.uint64), np.cumprod(inverses, dtype=np.uint64)


@cache
def _shingle_factors() -> list[Any]:
    np = _numpy()
    constants = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)
    return [np.uint64(c) for c in constants]


def permutations_generated() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """What `_MULTIPLIERS` and `_INCREMENTS` were drawn from (a test holds them equal)."""
    np = _numpy()
    generator = np.random.Generator(np.random.PCG64(SEED))
    top = np.iinfo(np.uint32).max
    multipliers = generator.integers(1, top, size=NUM_PERM, dtype=np.uint32, endpoint=True) | 1
    increments = generator.integers(0, top, size=NUM_PERM, dtype=np.uint32, endpoint=True)
    return tuple(map(int, multipliers)), tuple(map(int, increments))


@cache
def band_offsets_generated() -> tuple[int, ...]:
    """What `_BAND_OFFSETS` was drawn from (a test holds them equal)."""
    np = _numpy()
    generator = np.random.Generator(np.random.PCG64(SEED + 1))
    top = np.iinfo(np.uint64).max
    offsets = generator.integers(0, top, size=BANDS, dtype=np.uint64, endpoint=True)
    return tuple(int(x) for x in offsets)
