"""Near-duplicate signatures on the pair set (pure): copies merge, boilerplate never does."""

from __future__ import annotations

import pytest

from newswatch.config import Dedup
from newswatch.dedup.signature import (
    BANDS,
    band_keys,
    recurring_paragraphs,
    signature_of,
    signatures_of,
    similarity,
)
from storypairs import COUNCIL, FOOTER, HARBOUR, PAIRS, VARGA_TRIAL, Pair, with_footer

THRESHOLD = Dedup().threshold


def _similarity(pair: Pair) -> float:
    first, second = signature_of(pair.first), signature_of(pair.second)
    assert first is not None and second is not None, "both texts are long enough to sign"
    return similarity(first, second)


@pytest.mark.parametrize("pair", [p for p in PAIRS if p.same_story is not None], ids=str)
def test_each_pair_is_one_story_or_two_as_a_reader_would_say(pair: Pair) -> None:
    assert (_similarity(pair) >= THRESHOLD) is pair.same_story


def test_a_footer_repeated_under_a_feeds_entries_is_not_hashed() -> None:
    bodies = [with_footer(COUNCIL), with_footer(HARBOUR), with_footer(VARGA_TRIAL)]
    assert recurring_paragraphs(bodies) == {" ".join(FOOTER.split())}
    council, harbour, _ = signatures_of(bodies)
    assert council is not None and harbour is not None
    assert council == signature_of(COUNCIL)
    assert similarity(council, harbour) < 0.1


def test_titles_and_one_line_texts_get_no_signature() -> None:
    assert signature_of("") is None
    assert signature_of("Read the full story on our website.") is None


def test_signatures_and_band_keys_are_stable_values_a_database_can_keep() -> None:
    signature = signature_of(COUNCIL)
    assert signature is not None and len(signature) == 512
    assert signature == signature_of(COUNCIL.upper())
    keys = band_keys(signature)
    assert len(keys) == BANDS
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert band_keys(signature_of(with_footer(COUNCIL)) or b"") != keys


def test_a_batch_holding_an_article_and_its_copy_keeps_their_shared_text() -> None:
    """A seed folder with the original, its footer-added copy and an unrelated story
    under the same footer: only the footer is boilerplate."""
    bodies = [COUNCIL, with_footer(COUNCIL), with_footer(HARBOUR)]
    assert recurring_paragraphs(bodies) == {" ".join(FOOTER.split())}
    original, copy, other = signatures_of(bodies)
    assert original is not None and copy is not None and other is not None
    assert similarity(original, copy) == 1.0
    assert similarity(copy, other) < 0.1


def test_band_keys_do_not_change_between_versions() -> None:
    """Stored band keys must still be found after an upgrade: a change of these values
    needs a migration that computes the stored ones again (as 0010 does)."""
    signature = signature_of(COUNCIL)
    assert signature is not None
    assert signature[:8].hex() == "2d68060013344905"
    assert band_keys(signature)[:2] == [508946640, 1460584719]
