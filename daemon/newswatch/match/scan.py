"""Stage one: every term of every watch, found in one Aho–Corasick pass.

Each term is keyed by its search fold with a space on each side that must be a
word boundary (none on a side written in a script without spaces, and none
after a wildcard stem). The document field is search-folded and compacted the
same way, so the automaton itself only reports whole words and phrases. A hit
is then confirmed only where the fold alone cannot decide: terms with capitals
(case-smart: each capital of the term is a capital in the text, so "Law" finds
"Law" and "LAW" but not "law"; a word after a hyphen in the text is free, so
"Kim Jong Un" finds "Kim Jong-un") and terms with inner spaces or punctuation
(verify fold). With `explain`, hits refused for their case are kept aside.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import ahocorasick

from newswatch.match.fold import (
    DROPPED,
    Compacted,
    fold_for_search,
    is_unspaced,
    search_char,
    search_fold,
    verify_fold,
    word_bounds,
)

if TYPE_CHECKING:
    from newswatch.model import Field

PLAIN = ""  # verify: the hit must be written without punctuation ("Donald, Trump" is not)
_SIMPLE = re.compile(r"[^\W_]+(?:[ -][^\W_]+)*")
_LEFT, _RIGHT, _CASE, _PREFIX, _VERIFY = 1, 2, 4, 8, 16


class TermSpec(NamedTuple):
    """One distinct term: its automaton key and how a hit of it is confirmed."""

    key: str  # the search fold, with a space on each side that must be a boundary
    verify: str | None  # None: nothing to check; PLAIN; else the verify fold to compare
    capitals: str | None  # None: any case; else the term's case mask ("Xxx Xxxxx")
    prefix: bool


def compile_term(text: str, wildcard: bool = False, smart_case: bool = True) -> TermSpec | None:
    """The spec of a term as written in a watch; None if it has no letter or digit.

    Case-smart (the default): a term with a capital must be written with that
    capital. Without it, only a term in capitals (NATO, US) keeps its case.
    """
    if _SIMPLE.fullmatch(text):  # letters and digits, single spaces or hyphens: most names
        key = search_fold(text)
        verify: str | None = PLAIN if " " in key else None
    else:
        folded = search_fold(text)
        start, end = word_bounds(folded)
        if start == end:
            return None
        key = " ".join(folded[start:end].replace(DROPPED, "").split())
        written = verify_fold(text[start:end])
        verify = written if written != key else PLAIN if " " in key else None
    in_capitals = text.isupper() and sum(char.isalpha() for char in text) >= 2
    capitals = case_mask(text) if smart_case or in_capitals else None
    left = "" if is_unspaced(key[0]) else " "
    right = "" if wildcard or is_unspaced(key[-1]) else " "
    return TermSpec(f"{left}{key}{right}", verify, capitals, wildcard)


class _MaskTable(dict[int, str]):
    """str.translate table: a capital -> X, another word character -> x, an invisible
    mark -> nothing, the rest a space (words as in the search fold)."""

    def __missing__(self, code: int) -> str:
        folded = search_char(code)
        mask = "" if folded == DROPPED else " " if folded == " " else "x"
        mask = "X" if mask == "x" and chr(code).isupper() else mask
        self[code] = mask
        return mask


_MASK_TABLE = _MaskTable()
_ASCII_MASK = bytes(
    ord("X") if chr(c).isupper() else ord("x") if chr(c).isalnum() else ord(" ") for c in range(256)
)  # only its first 128 entries are ever used


def _mask_text(text: str) -> str:
    """X, x and spaces for each character (ASCII through a bytes table: ~5x faster)."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_MASK).decode("ascii")
    return text.translate(_MASK_TABLE)


def case_mask(text: str) -> str | None:
    """The words of `text` as X (a capital) and x (anything else); None without capitals.

    Words are those of the search fold, so a mask lines up with any hit of the term.
    """
    if text == text.lower():
        return None
    return " ".join(_mask_text(text).split())


def _words(text: str) -> list[tuple[bool, str]]:
    """The words of `text` as the search fold sees them, each with: follows a hyphen."""
    folded = search_fold(text)
    words: list[tuple[bool, str]] = []
    current: list[str] = []
    hyphen = False
    for char, fold in zip(text, folded, strict=True):
        if fold == DROPPED:
            continue
        if fold != " ":
            current.append(char)
            continue
        if current:
            words.append((hyphen, "".join(current)))
            current = []
            hyphen = False
        hyphen = hyphen or _is_hyphen(char)
    if current:
        words.append((hyphen, "".join(current)))
    return words


def _is_hyphen(char: str) -> bool:
    return char in "-\u2010\u2011"


def case_fits(written: str, mask: str) -> bool:
    """Each capital of the term's mask is a capital in the text (a word after a hyphen is free)."""
    if _mask_text(written) == mask:  # written as in the watch: most hits
        return True
    for index, ((hyphen, word), wanted) in enumerate(
        zip(_words(written), mask.split(" "), strict=False)
    ):
        if index and hyphen:
            continue
        for char, want in zip(word, wanted, strict=False):
            if want == "X" and not char.isupper():
                return False
    return True


@dataclass(frozen=True, slots=True)
class Occurrence:
    """Where a term occurs: original offsets, and offsets in the compacted fold."""

    field: Field
    start: int
    end: int
    cstart: int
    cend: int


@dataclass(frozen=True, slots=True)
class Scan:
    """Stage one's result for one document."""

    occurrences: dict[int, list[Occurrence]]
    folded: dict[Field, Compacted]
    texts: dict[Field, str]
    miscased: dict[int, list[Occurrence]] | None = None  # with `explain`: hits refused for case

    def words(self, occurrence: Occurrence) -> tuple[int, int]:
        """Index of the first and of the last word of an occurrence in its field."""
        text = self.folded[occurrence.field].text
        return text.count(" ", 0, occurrence.cstart), text.count(" ", 0, occurrence.cend - 1)


class TermIndex:
    """An immutable automaton over many terms; `scan` is safe from several threads.

    The automaton maps a key to its term id, or, for a key several terms share
    (NATO and nato), to -1 - the index of their group.
    """

    def __init__(self, specs: Sequence[TermSpec]) -> None:
        self._lengths = array("I", (len(spec.key) for spec in specs))
        self._flags = bytearray(_flags(spec) for spec in specs)
        self._verify = {i: spec.verify for i, spec in enumerate(specs) if spec.verify is not None}
        masks: dict[str, int] = {"": 0}  # a few hundred distinct masks for 100,000 names
        self._mask_of = array("I", (masks.setdefault(s.capitals or "", len(masks)) for s in specs))
        self._masks = tuple(masks)
        first: dict[str, int] = {}
        shared: dict[str, list[int]] = {}
        for term_id, spec in enumerate(specs):
            known = first.setdefault(spec.key, term_id)
            if known != term_id:
                shared.setdefault(spec.key, [known]).append(term_id)
        self._groups = tuple(tuple(ids) for ids in shared.values())
        group_of = {key: -1 - index for index, key in enumerate(shared)}
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for key, term_id in first.items():
            self._automaton.add_word(key, group_of.get(key, term_id))
        if first:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self._lengths)

    def scan(self, fields: Iterable[tuple[Field, str]], explain: bool = False) -> Scan:
        found: dict[int, list[Occurrence]] = {}
        folded: dict[Field, Compacted] = {}
        texts: dict[Field, str] = {}
        miscased: dict[int, list[Occurrence]] | None = {} if explain else None
        for field, text in fields:
            folded[field] = compacted = fold_for_search(text)
            texts[field] = text
            if self._lengths:
                self._scan_field(_Field(field, text, compacted, found, miscased))
        return Scan(found, folded, texts, miscased)

    def _scan_field(self, field: _Field) -> None:
        for end, value in self._automaton.iter(f" {field.folded.text} "):
            if value >= 0:
                self._hit(value, end, field)
            else:
                for term_id in self._groups[-value - 1]:
                    self._hit(term_id, end, field)

    def _hit(self, term_id: int, end: int, field: _Field) -> None:
        flags = self._flags[term_id]
        folded = field.folded
        cstart = end - self._lengths[term_id] + (flags & _LEFT)
        cend = end - (flags & _RIGHT) // _RIGHT
        wend = _word_end(folded.text, cend) if flags & _PREFIX else cend
        start, stop = folded.original_span(cstart, wend)
        if flags & (_CASE | _VERIFY):
            written = field.text[
                start : folded.original_span(cstart, cend)[1] if wend != cend else stop
            ]
            if flags & _VERIFY and not _verified(written, self._verify[term_id]):
                return
            if flags & _CASE and not case_fits(written, self._masks[self._mask_of[term_id]]):
                if field.miscased is not None:
                    occurrence = Occurrence(field.name, start, stop, cstart, wend)
                    field.miscased.setdefault(term_id, []).append(occurrence)
                return
        occurrence = Occurrence(field.name, start, stop, cstart, wend)
        field.found.setdefault(term_id, []).append(occurrence)


@dataclass(frozen=True, slots=True)
class _Field:
    """One field being scanned, and where its finds go."""

    name: Field
    text: str
    folded: Compacted
    found: dict[int, list[Occurrence]]
    miscased: dict[int, list[Occurrence]] | None


def _word_end(folded: str, position: int) -> int:
    space = folded.find(" ", position)
    return len(folded) if space < 0 else space


def _flags(spec: TermSpec) -> int:
    return (
        (_LEFT if spec.key.startswith(" ") else 0)
        | (_RIGHT if spec.key.endswith(" ") else 0)
        | (_CASE if spec.capitals else 0)
        | (_PREFIX if spec.prefix else 0)
        | (_VERIFY if spec.verify is not None else 0)
    )


def _verified(written: str, verify: str) -> bool:
    """A hit of the search fold is a hit of the term: same punctuation."""
    seen = verify_fold(written)
    if verify == PLAIN:
        return search_fold(seen) == seen
    return seen == verify


def distinct(occurrences: Iterable[Occurrence]) -> list[Occurrence]:
    """In reading order, without those inside another one ("Trump" in "Donald Trump")."""
    kept: list[Occurrence] = []
    cover_field, cover_end = "", -1
    for occurrence in sorted(occurrences, key=_reading_order):
        if occurrence.field == cover_field and occurrence.end <= cover_end:
            continue
        kept.append(occurrence)
        cover_field, cover_end = occurrence.field, occurrence.end
    return kept


def _reading_order(occurrence: Occurrence) -> tuple[bool, int, int]:
    return (occurrence.field != "title", occurrence.start, -occurrence.end)
