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
keeps what it needs to map a compacted offset back to the original.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

DROPPED = "\x00"
_NOT_WORD = " " + DROPPED
_INVISIBLE = {0x0000, 0x00AD, 0x034F, 0x180E, 0x200C, 0x200D, 0x2060, 0xFEFF}
_APOSTROPHES = {0x2019, 0x2018, 0x02BC, 0x2032, 0x0060, 0x00B4}
_LETTERS = {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "ı": "i", "ħ": "h", "ŧ": "t", "ς": "σ"}
_TABLE_SIZE = 0x3000
_TO_ASCII = "newswatch.fold-to-ascii"
_BEYOND_TABLE = re.compile("[^\x00-\u2fff]")
_GAPS = re.compile("(?<= ) +|\x00+")
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
def _search_tables() -> tuple[dict[int, str], _LazyTable]:
    prebuilt = {code: search_char(code) for code in range(_TABLE_SIZE)}
    return prebuilt, _LazyTable(prebuilt, search_char)


@cache
def _verify_table() -> _LazyTable:
    prebuilt = {code: verify_char(code) for code in range(_TABLE_SIZE)}
    return _LazyTable(prebuilt, verify_char)


@cache
def _ascii_search_table() -> bytes:
    """The search fold of ASCII as a bytes table, registering the codec error handler."""
    codecs.register_error(_TO_ASCII, _fold_to_ascii)
    fast, _ = _search_tables()
    return bytes(ord(fast[code]) for code in range(128)) + bytes(128)


def _fold_to_ascii(error: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: a run of non-ASCII characters, folded, if that is ASCII."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    _, lazy = _search_tables()
    folded = error.object[error.start : error.end].translate(lazy)
    if not folded.isascii():
        raise error
    return folded, error.end


def search_fold(text: str) -> str:
    """Search fold of `text`, same length.

    Most news text is ASCII but for quotes, dashes and a few accented letters,
    all of which fold to ASCII: such text is folded through a bytes table, ~3x
    faster than `str.translate` over a str with non-ASCII characters.
    """
    table = _ascii_search_table()
    if not text.isascii():
        try:
            text = text.encode("ascii", _TO_ASCII).decode("ascii")
        except UnicodeEncodeError:
            fast, lazy = _search_tables()
            return text.translate(lazy if _BEYOND_TABLE.search(text) else fast)
    return text.encode("ascii").translate(table).decode("ascii")


def verify_fold(text: str) -> str:
    """Verify fold of `text`, compacted and stripped: the form two spellings compare in."""
    return compact(text.translate(_verify_table())).text.strip()


def is_unspaced(char: str) -> bool:
    """True for scripts written without spaces between words (CJK, Thai...)."""
    code = ord(char)
    return code >= _UNSPACED[0][0] and any(low <= code <= high for low, high in _UNSPACED)


@dataclass(frozen=True, slots=True)
class Compacted:
    """A folded text without placeholders and with single spaces, mappable back.

    `marks[i]` is a position in `text` from which on `shifts[i]` characters of
    the original were removed before it.
    """

    text: str
    marks: tuple[int, ...] = ()
    shifts: tuple[int, ...] = ()

    def original(self, position: int) -> int:
        """The original offset of the character at `position` in the compacted text."""
        index = bisect_right(self.marks, position) - 1
        return position if index < 0 else position + self.shifts[index]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) of the compacted [start, end) (end > start)."""
        return self.original(start), self.original(end - 1) + 1


def compact(folded: str) -> Compacted:
    """Remove placeholders and squeeze runs of spaces, remembering the offsets."""
    if DROPPED in folded:
        return _compact_any(folded)
    gap = folded.find("  ")
    if gap < 0:
        return Compacted(folded)
    pieces: list[str] = []
    marks: list[int] = []
    shifts: list[int] = []
    kept = removed = 0
    while gap >= 0:  # str.find is much faster than a regular expression here
        end = gap + 2
        while end < len(folded) and folded[end] == " ":
            end += 1
        pieces.append(folded[kept : gap + 1])
        marks.append(gap + 1 - removed)
        removed += end - gap - 1
        shifts.append(removed)
        kept = end
        gap = folded.find("  ", end)
    pieces.append(folded[kept:])
    return Compacted("".join(pieces), tuple(marks), tuple(shifts))


def _compact_any(folded: str) -> Compacted:
    marks: list[int] = []
    shifts: list[int] = []
    removed = 0
    for match in _GAPS.finditer(folded):
        start, end = match.span()
        marks.append(start - removed)
        removed += end - start
        shifts.append(removed)
    return Compacted(_GAPS.sub("", folded), tuple(marks), tuple(shifts))


def fold_for_search(text: str) -> Compacted:
    """The compacted search fold of a document field."""
    return compact(search_fold(text))


def word_bounds(folded: str) -> tuple[int, int]:
    """[start, end) of `folded` without leading and trailing non-word characters."""
    start = len(folded) - len(folded.lstrip(_NOT_WORD))
    end = len(folded.rstrip(_NOT_WORD))
    return start, max(start, end)
