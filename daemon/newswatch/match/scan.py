"""Stage one: every term of every watch, found in one Aho–Corasick pass.

Each term is keyed by its search fold with a space on each side that must be a
word boundary (none on a side written in a script without spaces, and none
after a wildcard stem). The document field is search-folded and compacted the
same way, so the automaton itself only reports whole words and phrases. A hit
is then confirmed only where the fold alone cannot decide: terms in capitals
(case-sensitive) and terms with inner spaces or punctuation (verify fold).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from newswatch.match.fold import (
    Compacted,
    fold_for_search,
    is_unspaced,
    trim_to_words,
    verify_fold,
)
from newswatch.model import Field


@dataclass(frozen=True, slots=True)
class TermSpec:
    """One distinct term: how it is keyed and how a hit of it is confirmed."""

    text: str
    key: str
    verify: str | None
    exact_case: bool
    prefix: bool


def compile_term(text: str, wildcard: bool = False) -> TermSpec | None:
    """The spec of a term as written in a watch; None if it has no letter or digit."""
    core = trim_to_words(text)
    key = fold_for_search(core).text.strip()
    if not key:
        return None
    verify = verify_fold(core)
    needs_verify = " " in key or verify != key
    letters = [char for char in text if char.isalpha()]
    exact_case = len(letters) >= 2 and all(char.isupper() for char in letters)
    return TermSpec(text, key, verify if needs_verify else None, exact_case, wildcard)


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
    """An immutable automaton over many terms; `scan` is safe from several threads."""

    def __init__(self, specs: Iterable[TermSpec]) -> None:
        self.terms: tuple[TermSpec, ...] = tuple(specs)
        by_key: dict[str, list[int]] = {}
        for term_id, spec in enumerate(self.terms):
            by_key.setdefault(_automaton_key(spec), []).append(term_id)
        self._keys = tuple(
            (len(key), key[0] == " ", key[-1] == " ", tuple(ids)) for key, ids in by_key.items()
        )
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for key_id, key in enumerate(by_key):
            self._automaton.add_word(key, key_id)
        if by_key:
            self._automaton.make_automaton()

    def scan(self, fields: Iterable[tuple[Field, str]]) -> Scan:
        found: dict[int, list[Occurrence]] = {}
        folded: dict[Field, Compacted] = {}
        for field, text in fields:
            folded[field] = compacted = fold_for_search(text)
            if self._keys:
                self._scan_field(field, text, compacted, found)
        return Scan(found, folded)

    def _scan_field(
        self, field: Field, text: str, folded: Compacted, found: dict[int, list[Occurrence]]
    ) -> None:
        keys, terms = self._keys, self.terms
        for end, key_id in self._automaton.iter(f" {folded.text} "):
            length, left_pad, right_pad, term_ids = keys[key_id]
            cstart = end - length + left_pad
            cend = end - right_pad
            for term_id in term_ids:
                spec = terms[term_id]
                wend = _word_end(folded.text, cend) if spec.prefix else cend
                start, stop = folded.original_span(cstart, wend)
                if (spec.verify or spec.exact_case) and not _confirm(
                    spec, text[start : folded.original_span(cstart, cend)[1]]
                ):
                    continue
                found.setdefault(term_id, []).append(Occurrence(field, start, stop, cstart, wend))


def _automaton_key(spec: TermSpec) -> str:
    left = "" if is_unspaced(spec.key[0]) else " "
    right = "" if spec.prefix or is_unspaced(spec.key[-1]) else " "
    return f"{left}{spec.key}{right}"


def _word_end(folded: str, position: int) -> int:
    space = folded.find(" ", position)
    return len(folded) if space < 0 else space


def _confirm(spec: TermSpec, written: str) -> bool:
    """A hit of the search fold is a hit of the term: same case and same punctuation."""
    if spec.exact_case and any(char.islower() for char in written):
        return False
    if spec.verify is None:
        return True
    seen = verify_fold(written)
    return seen.startswith(spec.verify) if spec.prefix else seen == spec.verify


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
