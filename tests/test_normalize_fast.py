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
_EVERY_FULL_STOP = re.compile("[.](?=[^ \n])")
_RUN_PIECES = ["said", "What", "NATO", "x", "I", "3", "5", "com", "js", "Trump’s", "’s", "_"]
_RUN_PIECES += [".", ".", "...", ",", " ", " ", "\n", "”", "’", "»", ")", '"', "‘", "«"]
_RUN_PIECES += ["www.", "@"]
_RARE = ["!", "?", "…", "“", "?!", "!!", "said.“What", "a!«B", "x?‘Y", "y.“3", "said“What", "a,“b"]
# Each run replays the same examples in CI (derandomised); HYPOTHESIS_PROFILE=thorough
# raises them to its 2,000 (an explicit max_examples would hold it down).
_EXAMPLES = max(300, settings.default.max_examples)
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
@settings(max_examples=_EXAMPLES)
@given(_RUNS)
def test_the_splitter_splits_as_it_does_looking_at_every_stop(text: str) -> None:
    with (
        patch.object(normalize, "_CANDIDATE", _EVERY_STOP),
        patch.object(normalize, "_DOT_CANDIDATE", _EVERY_FULL_STOP),
        patch.object(normalize, "_may_open", lambda char: True),
    ):
        slow = normalize_text(text)
    assert normalize_text(text) == slow


@settings(max_examples=_EXAMPLES)
@given(_RUNS)
def test_candidates_are_where_the_candidate_pattern_matches(text: str) -> None:
    """Full stops by their own scan, the rare stops one by one: the places one scan
    of the whole text with `_CANDIDATE` finds, in order."""
    expected = [match.start() for match in normalize._CANDIDATE.finditer(text)]
    assert normalize._candidates(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        *("", "no stops", "said.What", "a.b.c", "Really?Yes!No…Maybe “Quote”.Then", "“““"),
        *("x?!?!Y.", "Wow!Really?" * 40, "a.B" + "!" * 2000 + "“X"),  # many: one whole scan
    ],
)
def test_candidates_of_hand_made_texts(text: str) -> None:
    expected = [match.start() for match in normalize._CANDIDATE.finditer(text)]
    assert normalize._candidates(text) == expected


@pytest.mark.parametrize(
    "body",
    [
        "PLAIN Ascii Words",
        "It’s “quoted” — café … déjà",  # non-ASCII letters and marks case folding keeps
        "Élan", "STRASSE Straße", "ΣΟΦΟΣ σοφος", "ﬁne ligature", "Cherokee \uab70",
    ],
)  # fmt: skip
def test_the_hash_folds_case_as_casefold_does(body: str) -> None:
    """The shortcut (lower-casing ASCII bytes) is taken only where no other character
    would change: a text that case folding changes beyond ASCII hashes as casefold says."""
    words = f"Title\x00{' '.join(normalize_text(body).split())}"
    expected = hashlib.sha256(words.casefold().encode("utf-8")).hexdigest()
    assert content_hash("Title", body) == expected


@settings(max_examples=_EXAMPLES)
@given(st.builds("".join, st.lists(st.sampled_from([" ", "\n", "a", "é", "\t", "\u2003"]))))
def test_untidy_text_is_found_as_substring_tests_find_it(text: str) -> None:
    """The search anchored on line breaks finds what the substring tests it replaced found
    (so text normalised before is normalised alike, and tidy text is left as it is)."""
    for printable in (True, False):
        if printable and not text.replace("\n", " ").isprintable():
            continue
        expected = bool(text) and (
            text[0] in " \n"
            or text[-1] in " \n"
            or any(part in text for part in ("  ", " \n", "\n ", "\n\n\n"))
            or (not printable and any(c.isspace() and c not in " \n" for c in text))
        )
        assert normalize._untidy(text, printable) == expected
