"""Near-duplicate signatures on the pair set (pure): copies merge, boilerplate never does."""

from __future__ import annotations

import pytest

from newswatch.config import Dedup
from newswatch.dedup.signature import (
    BANDS,
    MAX_WORDS,
    SIGNATURE_BYTES,
    band_keys,
    recurring_paragraphs,
    signature_of,
    signatures_of,
    similarity,
)
from storypairs import (
    COUNCIL,
    FOOTER,
    HARBOUR,
    PAIRS,
    VARGA_TRIAL,
    Pair,
    changed_words,
    with_footer,
)

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
    assert signature is not None and len(signature) == SIGNATURE_BYTES == 256
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
    needs a migration (0012 computed the stored ones again; 0014 drops those of an
    older format) and a format of its own."""
    signature = signature_of(COUNCIL)
    assert signature is not None
    assert signature[:8].hex() == "2c00f403e2001502"
    assert band_keys(signature)[:2] == [1007835007, -1146163739]


def test_a_signature_of_an_earlier_format_is_never_like_a_new_one() -> None:
    """Format 1 stored 128 32-bit values (512 bytes): compared with this format's, even
    the same bytes twice over, it is no copy."""
    signature = signature_of(COUNCIL)
    assert signature is not None
    older = signature + signature
    assert similarity(older, signature) == similarity(signature, older) == 0.0
    assert similarity(signature, signature) == 1.0


def test_a_long_article_is_signed_by_its_lead_however_long() -> None:
    """Words past the short cut are read when the lead needs them; what follows the
    first MAX_WORDS words never changes the signature."""
    words = changed_words(COUNCIL * 8, 0.0).split()
    lead = " ".join(words[:MAX_WORDS])
    padded = " ".join(f"{word} {'-' * 8}" for word in words[:MAX_WORDS])  # past 2,500 chars
    tail = " ".join(words[MAX_WORDS:])
    assert 2500 < len(padded) < MAX_WORDS * 20
    signature = signature_of(lead)
    assert signature is not None
    assert signature_of(lead + " " + tail) == signature
    assert signature_of(padded + " " + tail) == signature
    assert signature_of(padded) == signature


def test_a_batch_signs_each_entry_as_it_would_be_signed_alone() -> None:
    """Words are found a chunk of entries at a time over their joined text: entries of
    any script and length sign the same in a batch of any size as alone."""
    greek = "Η κυβέρνηση ανακοίνωσε σήμερα νέα μέτρα για τη στέγαση των νέων οικογενειών"
    english = [changed_words(COUNCIL, 0.1, seed=n) for n in range(20)]
    other = [
        f"{n} " + " ".join([greek.upper() if n % 2 else greek] * (5 + 9 * n)) for n in range(30)
    ]
    bodies = english + other
    alone = [signature_of(body) for body in bodies]
    assert all(alone) and len(set(alone)) == len(bodies)
    assert signatures_of(bodies, frozenset()) == alone
    assert signatures_of(bodies[::-1], frozenset()) == alone[::-1]
