"""Folding keeps offsets: one character out per character in, and a map back after compaction."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.match.fold import (
    DROPPED,
    Compacted,
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


# Windows-1252 text (its bytes table), with characters beyond it that fold into it
# (its error handler) or not (the str table), and anything else
_BEYOND = "″→─😉\u200e\u200fμ−′ćİẞ\ufb01\ud800ΣДж日\u0301\u00ad\x00"
_CP1252 = bytes(range(256)).decode("cp1252", "ignore")


@given(st.text(st.one_of(st.sampled_from(_CP1252), st.sampled_from(_BEYOND), st.characters())))
def test_the_windows_1252_shortcut_folds_like_the_table(text: str) -> None:
    assert search_fold(text) == "".join(search_char(ord(char)) for char in text)


@pytest.mark.parametrize("char", _CP1252 + _BEYOND)
def test_each_character_folds_like_the_table_in_windows_1252_text(char: str) -> None:
    text = f"é“{char}”{char}"
    assert search_fold(text) == "".join(search_char(ord(c)) for c in text)


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


@given(st.text(st.sampled_from(f"ab {DROPPED}"), max_size=40))
def test_a_compacted_character_maps_back_to_the_character_it_was(folded: str) -> None:
    """Removed are placeholders and spaces after a space: the n-th character kept is
    the n-th of the compacted text."""
    kept = [
        i
        for i, char in enumerate(folded)
        if char != DROPPED and not (char == " " and i and folded[i - 1] == " ")
    ]
    compacted = compact(folded)
    assert [compacted.original(p) for p in range(len(compacted.text))] == kept
    if kept:
        assert compacted.original_span(0, len(kept)) == (kept[0], kept[-1] + 1)


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


# A document field folded and squeezed as bytes must read, and map back, exactly
# like the fold of each character compacted by `compact`: whitespace runs of any
# kind and length, punctuation next to spaces, hyphens, placeholders (soft hyphen,
# combining accent), ligatures and characters beyond Windows-1252.
_FIELD_CHARS = st.one_of(
    st.sampled_from(" \t\n\r\xa0 ,.;:!?'\"()-–—’“”…"),  # what makes runs of spaces
    st.sampled_from("aZ9éÉßøŒœšŸÿ"),
    st.sampled_from("\u00ad\u0301\u200d\ufb01\ufb02ﬀ″→ΣЖ日"),
    st.characters(),
)


def _by_the_table(text: str) -> Compacted:
    return compact("".join(search_char(ord(char)) for char in text))


def _map_back(compacted: Compacted) -> list[int]:
    return [compacted.original(p) for p in range(len(compacted.text))]


@settings(max_examples=500)
@given(st.text(_FIELD_CHARS, max_size=60))
def test_a_field_folds_and_squeezes_like_the_table_and_compact(text: str) -> None:
    compacted = fold_for_search(text)
    expected = _by_the_table(text)
    assert compacted.text == expected.text
    assert _map_back(compacted) == _map_back(expected)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("", ""),
        ("   ", " "),
        (" Trump,  Putin .  ", " trump putin "),
        ("Kim Jong-un", "kim jong un"),
        ("Kim Jong — un", "kim jong un"),
        ("Donald\t\n\r\n Trump", "donald trump"),
        ("Donald\xa0\xa0Trump", "donald trump"),
        ("“Biden’s”  plan…", " biden s plan "),
        ("Ÿvonne ÿ œuvre", "yvonne y œuvre"),
        ("Soft\u00adhyphen  here", "softhyphen here"),
        ("Erdog\u0306an ,  said", "erdogan said"),
        ("ﬁnance  deal", "ﬁnance deal"),  # a ligature is one letter: kept
    ],
)
def test_a_field_folds_to_its_words_with_single_spaces(text: str, folded: str) -> None:
    compacted = fold_for_search(text)
    assert compacted.text == folded
    assert compacted == _by_the_table(text)


def test_a_hit_after_long_runs_maps_back_to_where_it_is_written() -> None:
    text = "Mr.\u00a0" + " " * 300 + "Erdoğan’s  …  ally, Putin"
    compacted = fold_for_search(text)
    assert compacted.text == "mr erdogan s ally putin"
    start = compacted.text.index("putin")
    assert compacted.original_span(start, start + 5) == (len(text) - 5, len(text))
    start = compacted.text.index("erdogan")
    assert text[slice(*compacted.original_span(start, start + 7))] == "Erdoğan"
