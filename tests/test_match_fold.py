"""Folding keeps offsets: one character out per character in, and a map back after compaction."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newswatch.match.fold import (
    DROPPED,
    compact,
    fold_for_search,
    search_char,
    search_fold,
    verify_fold,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Erdoğan’s NATO-led", "erdogan s nato led"),
        ("Wałęsa, Øresund", "walesa  oresund"),
        ("İstanbul ΣΟΦΟΣ", "istanbul σοφοσ"),
        ("Косачёв", "косачев"),
        ("a\u00adb e\u0301", f"a{DROPPED}b e{DROPPED}"),
    ],
)
def test_search_fold(text: str, folded: str) -> None:
    assert search_fold(text) == folded


def test_verify_fold_keeps_punctuation_but_not_dashes() -> None:
    assert verify_fold("  Kim Jong–un’s, U.S. ") == "kim jong un's, u.s."


@given(st.text())
def test_search_fold_has_the_length_of_the_text(text: str) -> None:
    assert len(search_fold(text)) == len(text)


@given(st.text(st.one_of(st.characters(max_codepoint=0x2FF), st.sampled_from("’–“”\u0301\x00Жß"))))
def test_the_ascii_shortcut_folds_like_the_table(text: str) -> None:
    assert search_fold(text) == "".join(search_char(ord(char)) for char in text)


@given(st.text(st.sampled_from(f"ab {DROPPED}"), max_size=40))
def test_compacted_characters_map_back_to_the_same_characters(folded: str) -> None:
    compacted = compact(folded)
    assert DROPPED not in compacted.text
    if DROPPED not in folded:
        assert "  " not in compacted.text
    for position, char in enumerate(compacted.text):
        assert folded[compacted.original(position)] == char
    originals = [compacted.original(p) for p in range(len(compacted.text))]
    assert originals == sorted(set(originals))


@given(st.text(st.sampled_from("ab "), max_size=40))
def test_compaction_squeezes_each_run_of_spaces_to_one(folded: str) -> None:
    assert compact(folded).text == re.sub(" +", " ", folded)


def test_document_offsets_survive_runs_of_whitespace() -> None:
    text = "Donald \n\n Trump’s  —  plan"
    compacted = fold_for_search(text)
    assert compacted.text == "donald trump s plan"
    start = compacted.text.index("trump")
    assert compacted.original_span(start, start + 5) == (10, 15)
    assert text[10:15] == "Trump"
