"""The shortcuts of normalisation give what the long way gives: the same text, the same
content hashes (a changed hash would alert again on every stored document)."""

from __future__ import annotations

import hashlib
import re
import sys
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch import normalize
from newswatch.normalize import content_hash, normalize_text

_PIECES = [*"aAbZÉé\u0301 .?!…,;:\n\t\r“”‘’«»\"'()-_/@37", "\u00a0", "\u2029", "\x00", "\u00ad"]
_PIECES += ["www.", "://", "...", "?!", "U.S.", "said.What", ".”There", "gains.«"]
_TEXTY = st.builds("".join, st.lists(st.sampled_from(_PIECES), max_size=40))
_ANY_TEXT = st.one_of(st.text(max_size=80), _TEXTY)
# every candidate and no early refusal: the splitter as it was before its shortcuts
_EVERY_STOP = re.compile("[.…!?“](?=[^ \n])")
_RUN_PIECES = ["said", "What", "NATO", "x", "I", "3", "5", "com", "js", "Trump’s", "’s", "_"]
_RUN_PIECES += [".", ".", "...", ",", " ", " ", "\n", "”", "’", "»", ")", '"', "‘", "«"]
_RUN_PIECES += ["www.", "@"]
_RARE = ["!", "?", "…", "“", "?!", "!!", "said.“What", "a!«B", "x?‘Y", "y.“3", "said“What", "a,“b"]
_RUNS = st.one_of(
    st.builds("".join, st.lists(st.sampled_from(_RUN_PIECES), max_size=14)),
    st.builds("".join, st.lists(st.sampled_from(_RUN_PIECES + _RARE), max_size=14)),
    _ANY_TEXT,
)


def test_hashes_of_stored_documents_stay_what_they_were() -> None:
    """Hashes computed before the shortcuts (main at e554af9) are computed again."""
    title = "  Kosachev said.What NEXT?  "
    body = "Line one \u00a0 two\n\n\nPara\u00adgraph “quoted”.Then STRASSE Straße ΣΟΦΟΣ"
    body += "\r\nend\u2029x"
    assert content_hash(title, body) == (
        "1e6664f3d3b59dd0ade42539f39a4d8ea86dac96eaf7d25e86df741af5a62407"
    )
    assert content_hash("", "") == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


@given(_ANY_TEXT, _ANY_TEXT)
def test_the_hash_is_of_the_words_of_the_normalised_text(title: str, body: str) -> None:
    words = f"{' '.join(normalize_text(title).split())}\x00{' '.join(normalize_text(body).split())}"
    expected = hashlib.sha256(words.casefold().encode("utf-8")).hexdigest()
    assert content_hash(title, body) == expected


def test_what_printable_text_cannot_hold_is_what_normalising_drops_or_folds() -> None:
    """Text printable but for its newlines skips the dropping and the odd-space search:
    right only while every character those look for is unprintable."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if normalize._DROPPED.match(char) or (char.isspace() and char not in " \n"):
            assert not char.isprintable(), hex(code)


@pytest.mark.slow(seconds=4)
@settings(max_examples=1000)
@given(_RUNS)
def test_the_splitter_splits_as_it_does_looking_at_every_stop(text: str) -> None:
    with (
        patch.object(normalize, "_CANDIDATE", _EVERY_STOP),
        patch.object(normalize, "_DOT_CANDIDATE", _EVERY_STOP),
        patch.object(normalize, "_may_open", lambda char: True),
    ):
        slow = normalize_text(text)
    assert normalize_text(text) == slow
