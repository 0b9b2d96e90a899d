"""Character folding: the text the automaton reads, with offsets that map back.

Two per-character tables, each mapping one character to exactly one character,
so a folded string has the same length as the original and offsets carry over:

- the *search* fold keeps only words: letters and digits lower-cased with their
  diacritics stripped ("Erdoğan" -> "erdogan"), every other character a space,
  invisible marks (combining accents, soft hyphens, joiners) a placeholder;
- the *verify* fold is the same for letters and digits but keeps punctuation,
  turning only whitespace and dashes into spaces and curly apostrophes into
  straight ones; it tells "Kim Jong-un" (a phrase) from "Kim Jong, Un" (not).

`compact` then removes placeholders and squeezes runs of spaces to one, and
can map a compacted offset back to the original.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from functools import cache
from itertools import accumulate, count
from operator import add

DROPPED = "\x00"
_NOT_WORD = " " + DROPPED
_INVISIBLE = {0x0000, 0x00AD, 0x034F, 0x180E, 0x200C, 0x200D, 0x2060, 0xFEFF}
_APOSTROPHES = {0x2019, 0x2018, 0x02BC, 0x2032, 0x0060, 0x00B4}
_LETTERS = {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "ı": "i", "ħ": "h", "ŧ": "t", "ς": "σ"}
# Prebuilt: Latin-1 and Latin Extended-A/B, most of what news text holds; any other
# character is folded on first sight (prebuilding 0x3000 cost ~50 ms of every start-up).
_TABLE_SIZE = 0x250
_TO_CP1252 = "newswatch.fold-to-cp1252"
_CP1252 = "cp1252"
_GAPS = re.compile("(?<= ) +|\x00+")
_GAP_PIECES = re.compile(f"({_GAPS.pattern})")
_RUN_PIECES = re.compile(" ( +)")  # the gaps of text without placeholders
_GAP_BYTE_PIECES = re.compile(_GAP_PIECES.pattern.encode("ascii"))
_RUN_BYTE_PIECES = re.compile(_RUN_PIECES.pattern.encode("ascii"))
_SPACE_RUNS = re.compile("  +")
_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # kana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK extensions
)


def _fold_letter(char: str) -> str:
    lower = char.lower()
    decomposed = unicodedata.normalize("NFD", lower)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    base = _LETTERS.get(base, base)
    return base if len(base) == 1 else (lower[:1] or char)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char) == "Mc"


def _is_invisible(code: int) -> bool:
    return code in _INVISIBLE or unicodedata.category(chr(code)) in ("Mn", "Me")


def search_char(code: int) -> str:
    """The search fold of one character."""
    if _is_invisible(code):
        return DROPPED
    char = chr(code)
    return _fold_letter(char) if _is_word_char(char) else " "


def verify_char(code: int) -> str:
    """The verify fold of one character."""
    if _is_invisible(code):
        return DROPPED
    char = chr(code)
    if _is_word_char(char):
        return _fold_letter(char)
    if char.isspace() or unicodedata.category(char) == "Pd" or code == 0x2212:
        return " "
    return "'" if code in _APOSTROPHES else char


class _LazyTable(dict[int, str]):
    """A translate table that folds characters beyond the prebuilt range on first sight."""

    def __init__(self, prebuilt: dict[int, str], rule: Callable[[int], str]) -> None:
        super().__init__(prebuilt)
        self._rule = rule

    def __missing__(self, code: int) -> str:
        folded = self._rule(code)
        self[code] = folded
        return folded


@cache
def _search_table() -> _LazyTable:
    prebuilt = {code: search_char(code) for code in range(_TABLE_SIZE)}
    return _LazyTable(prebuilt, search_char)


@cache
def _verify_table() -> _LazyTable:
    prebuilt = {code: verify_char(code) for code in range(_TABLE_SIZE)}
    return _LazyTable(prebuilt, verify_char)


@cache
def _ascii_search_table() -> bytes:
    """The search fold of ASCII as a bytes table."""
    table = _search_table()
    return bytes(ord(table[code]) for code in range(128)) + bytes(128)


@cache
def _cp1252_search_table() -> bytes:
    """The search fold of Windows-1252 as a bytes table (the fold of each of its
    characters is one of its characters), registering the codec error handler.

    Its five unassigned bytes map to themselves: no encoded text holds them.
    """
    codecs.register_error(_TO_CP1252, _fold_to_cp1252)
    table = _search_table()
    folded = bytearray(range(256))
    for byte in range(256):
        try:
            char = bytes((byte,)).decode(_CP1252)
        except UnicodeDecodeError:
            continue
        folded[byte] = table[ord(char)].encode(_CP1252)[0]
    if _GONE[0] in folded:
        raise AssertionError("no byte may fold to 0xFF: _squeezed marks what goes with it")
    return bytes(folded)


@cache
def _cp1252_fixed() -> frozenset[str]:
    """The Windows-1252 characters that are their own search fold (a, e, ß, space...)."""
    table = _search_table()
    chars = bytes(range(256)).decode(_CP1252, "ignore")
    return frozenset(char for char in chars if table[ord(char)] == char)


def _fold_to_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: a run of characters beyond Windows-1252 ("″", "→", an
    emoji), folded, if each fold is a character of it that the table leaves alone.

    Otherwise it raises a new error, not `error`: raised, `error` would hold this
    frame in its traceback while the frame holds it, a reference cycle that kept the
    whole stack alive (a feed's documents, its parse) until a full collection."""
    if isinstance(error, UnicodeEncodeError):
        folded = error.object[error.start : error.end].translate(_search_table())
        if _cp1252_fixed().issuperset(folded):
            return folded, error.end
    raise _NotFolded


class _NotFolded(UnicodeEncodeError):
    """Text that does not fold into Windows-1252 (see `_fold_to_cp1252`)."""

    def __init__(self) -> None:
        super().__init__(_CP1252, "", 0, 0, "does not fold into Windows-1252")


def search_fold(text: str) -> str:
    """Search fold of `text`, same length.

    Most news text is ASCII, or Windows-1252 (quotes, dashes, accented letters) but
    for a rare arrow or prime, all of which fold to such characters: such text is
    folded through a bytes table, 3-4x faster than `str.translate` over a str with
    non-ASCII characters. Other text (Cyrillic, Greek...) is translated.
    """
    folded = _folded_bytes(text)
    return text.translate(_search_table()) if folded is None else _decoded(folded)


def _folded_bytes(text: str) -> bytes | None:
    """The search fold of `text` as Windows-1252 bytes (one byte a character), or None
    for text that does not fold into Windows-1252 (see `search_fold`)."""
    if text.isascii():
        return text.encode("ascii").translate(_ascii_search_table())
    table = _cp1252_search_table()
    try:
        encoded = text.encode(_CP1252, _TO_CP1252)
    except UnicodeEncodeError:
        return None
    return encoded.translate(table)


def _decoded(folded: bytes) -> str:
    """Folded Windows-1252 bytes as text; most fold to ASCII (accents stripped, quotes and
    dashes spaces), which decodes ~5x faster as ASCII, to the same str."""
    return folded.decode("ascii") if folded.isascii() else folded.decode(_CP1252)


def verify_fold(text: str) -> str:
    """Verify fold of `text`, compacted and stripped: the form two spellings compare in."""
    return compact(text.translate(_verify_table())).text.strip()


def is_unspaced(char: str) -> bool:
    """True for scripts written without spaces between words (CJK, Thai...)."""
    code = ord(char)
    return code >= _UNSPACED[0][0] and any(low <= code <= high for low, high in _UNSPACED)


class Compacted:
    """A folded text without placeholders and with single spaces, mappable back.

    The map back to the original offsets is worked out on first use: most texts
    match nothing and never need it, and building it cost a third of matching.
    """

    __slots__ = ("_folded", "_marks", "_shifts", "text")

    def __init__(self, text: str, folded: str | bytes | None = None) -> None:
        self.text = text
        # None: nothing was removed, offsets are the same; bytes: a Windows-1252 fold
        # (one byte a character, so its pieces have the lengths of the str's)
        self._folded = folded
        # marks[i] is a position in `text` from which on shifts[i] characters of the
        # original were removed before it
        self._marks: tuple[int, ...] = ()
        self._shifts: tuple[int, ...] = ()

    def _offsets(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        if self._folded is not None:
            # kept, gap, kept, gap, ..., kept: a gap starts where the kept text before
            # it ends in the compacted text, and shifts what follows by all gaps so far
            # (without placeholders, the first space of a run is kept out of the pieces:
            # a literal first makes that split several times faster)
            folded = self._folded
            if isinstance(folded, bytes):
                if _PLACEHOLDER in folded:
                    pieces, first = _GAP_BYTE_PIECES.split(folded), 0
                else:
                    pieces, first = _RUN_BYTE_PIECES.split(folded), 1
            elif DROPPED in folded:
                pieces, first = _GAP_PIECES.split(folded), 0
            else:
                pieces, first = _RUN_PIECES.split(folded), 1
            ends = accumulate(map(len, pieces[0:-1:2]))
            self._marks = tuple(map(add, ends, count(first, first)) if first else ends)
            self._shifts = tuple(accumulate(map(len, pieces[1::2])))
            self._folded = None
        return self._marks, self._shifts

    def original(self, position: int) -> int:
        """The original offset of the character at `position` in the compacted text."""
        marks, shifts = self._offsets()
        index = bisect_right(marks, position) - 1
        return position if index < 0 else position + shifts[index]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) of the compacted [start, end) (end > start)."""
        return self.original(start), self.original(end - 1) + 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Compacted):
            return NotImplemented
        return self.text == other.text and self._offsets() == other._offsets()

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"Compacted({self.text!r})"


def compact(folded: str) -> Compacted:
    """Remove placeholders and squeeze runs of spaces, remembering the offsets."""
    if DROPPED in folded:
        return Compacted(_GAPS.sub("", folded), folded)
    if "  " not in folded:
        return Compacted(folded)
    return Compacted(_SPACE_RUNS.sub(" ", folded), folded)


def fold_for_search(text: str) -> Compacted:
    """The compacted search fold of a document field.

    Text folded through bytes (nearly all) is squeezed as bytes too, without
    a regular expression: news text has a run of spaces every ~35 characters
    (", ", ". ", " - "), and a substitution per run cost more than folding.
    The uncompacted fold stays bytes, decoded only if a hit needs its offsets.
    """
    folded = _folded_bytes(text)
    if folded is None:
        return compact(text.translate(_search_table()))
    placeholders = _PLACEHOLDER in folded
    if b"  " not in folded and not placeholders:
        return Compacted(_decoded(folded))
    return Compacted(_decoded(_squeezed(folded, placeholders)), folded)


_PLACEHOLDER = DROPPED.encode("ascii")
_GONE = b"\xff"  # no folded byte is 0xFF (it is "ÿ", which folds to "y"): marks what goes
_SPACE_MASK = bytes(0xFF if byte == ord(" ") else 0 for byte in range(256))
_PLACEHOLDER_MASK = bytes(0xFF if byte == ord(DROPPED) else 0 for byte in range(256))


def _squeezed(folded: bytes, placeholders: bool) -> bytes:
    """`folded` as `compact` makes it: without placeholders, and without the spaces
    that follow a space in `folded` (a run squeezed to its first space).

    Whole-text integer operations (C loops) find those spaces: byte i of an int
    made little-endian is byte i of the text, and shifting it by 8 bits lines
    byte i - 1 up with byte i. What goes is turned into 0xFF, then deleted.
    """
    spaces = int.from_bytes(folded.translate(_SPACE_MASK), "little")
    gone = spaces & (spaces << 8)
    if placeholders:
        gone |= int.from_bytes(folded.translate(_PLACEHOLDER_MASK), "little")
    marked = int.from_bytes(folded, "little") | gone
    return marked.to_bytes(len(folded), "little").translate(None, _GONE)


def word_bounds(folded: str) -> tuple[int, int]:
    """[start, end) of `folded` without leading and trailing non-word characters."""
    start = len(folded) - len(folded.lstrip(_NOT_WORD))
    end = len(folded.rstrip(_NOT_WORD))
    return start, max(start, end)
