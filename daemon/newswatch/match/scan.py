"""Stage one: every term of every watch, found in one Aho–Corasick pass.

Each term is keyed by its search fold with a space on each side that must be a
word boundary (none on a side written in a script without spaces, and none
after a wildcard stem). The document field is search-folded and compacted the
same way, so the automaton itself only reports whole words and phrases. A hit
is then confirmed only where the fold alone cannot decide: terms in capitals
(case-sensitive) and terms with inner spaces or punctuation (verify fold).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick

from newswatch.match.fold import (
    DROPPED,
    Compacted,
    fold_for_search,
    is_unspaced,
    search_fold,
    verify_fold,
    word_bounds,
)
from newswatch.model import Field

PLAIN = ""  # verify: the hit must be written without punctuation ("Donald, Trump" is not)
_SIMPLE = re.compile(r"[^\W_]+(?:[ -][^\W_]+)*")
_LEFT, _RIGHT, _EXACT, _PREFIX, _VERIFY = 1, 2, 4, 8, 16


class TermSpec(NamedTuple):
    """One distinct term: its automaton key and how a hit of it is confirmed."""

    key: str  # the search fold, with a space on each side that must be a boundary
    verify: str | None  # None: nothing to check; PLAIN; else the verify fold to compare
    exact_case: bool
    prefix: bool


def compile_term(text: str, wildcard: bool = False) -> TermSpec | None:
    """The spec of a term as written in a watch; None if it has no letter or digit."""
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
    exact_case = text.isupper() and sum(char.isalpha() for char in text) >= 2
    left = "" if is_unspaced(key[0]) else " "
    right = "" if wildcard or is_unspaced(key[-1]) else " "
    return TermSpec(f"{left}{key}{right}", verify, exact_case, wildcard)


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

    def scan(self, fields: Iterable[tuple[Field, str]]) -> Scan:
        found: dict[int, list[Occurrence]] = {}
        folded: dict[Field, Compacted] = {}
        for field, text in fields:
            folded[field] = compacted = fold_for_search(text)
            if self._lengths:
                self._scan_field(_Field(field, text, compacted), found)
        return Scan(found, folded)

    def _scan_field(self, field: _Field, found: dict[int, list[Occurrence]]) -> None:
        for end, value in self._automaton.iter(f" {field.folded.text} "):
            if value >= 0:
                self._hit(value, end, field, found)
            else:
                for term_id in self._groups[-value - 1]:
                    self._hit(term_id, end, field, found)

    def _hit(
        self, term_id: int, end: int, field: _Field, found: dict[int, list[Occurrence]]
    ) -> None:
        flags = self._flags[term_id]
        folded = field.folded
        cstart = end - self._lengths[term_id] + (flags & _LEFT)
        cend = end - (flags & _RIGHT) // _RIGHT
        wend = _word_end(folded.text, cend) if flags & _PREFIX else cend
        start, stop = folded.original_span(cstart, wend)
        if flags & (_EXACT | _VERIFY):
            written = field.text[start : folded.original_span(cstart, cend)[1]]
            if not _confirm(written, bool(flags & _EXACT), self._verify.get(term_id)):
                return
        found.setdefault(term_id, []).append(Occurrence(field.name, start, stop, cstart, wend))


@dataclass(frozen=True, slots=True)
class _Field:
    name: Field
    text: str
    folded: Compacted


def _word_end(folded: str, position: int) -> int:
    space = folded.find(" ", position)
    return len(folded) if space < 0 else space


def _flags(spec: TermSpec) -> int:
    return (
        (_LEFT if spec.key.startswith(" ") else 0)
        | (_RIGHT if spec.key.endswith(" ") else 0)
        | (_EXACT if spec.exact_case else 0)
        | (_PREFIX if spec.prefix else 0)
        | (_VERIFY if spec.verify is not None else 0)
    )


def _confirm(written: str, exact_case: bool, verify: str | None) -> bool:
    """A hit of the search fold is a hit of the term: same case, same punctuation."""
    if exact_case and any(char.islower() for char in written):
        return False
    if verify is None:
        return True
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
