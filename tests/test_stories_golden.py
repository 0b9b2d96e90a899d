"""Near-duplicate signatures on the pair set (pure): copies merge, boilerplate never does."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newswatch.config import Dedup
from newswatch.dedup.signature import (
    _BAND_OFFSETS,
    _INCREMENTS,
    _MULTIPLIERS,
    _PUNCTUATION,
    BANDS,
    MAX_WORDS,
    SIGNATURE_BYTES,
    band_keys,
    band_keys_of,
    band_offsets_generated,
    batch_signatures,
    permutations_generated,
    recurring_pieces,
    signature_of,
    signatures_of,
    similarity,
    unsigned_band_keys_of,
)
from newswatch.dedup.signature import _words as words_of
from newswatch.model import Document
from storypairs import (
    COUNCIL,
    FOOTER,
    HARBOUR,
    PAIRS,
    VARGA_TRIAL,
    WIRE,
    Pair,
    changed_words,
    with_footer,
)

THRESHOLD = Dedup().threshold
FOOTER_SENTENCES = set(re.split(r"(?<=\.) ", " ".join(FOOTER.split())))


def _similarity(pair: Pair) -> float:
    first, second = signature_of(pair.first), signature_of(pair.second)
    assert first is not None and second is not None, "both texts are long enough to sign"
    return similarity(first, second)


@pytest.mark.parametrize("pair", [p for p in PAIRS if p.same_story is not None], ids=str)
def test_each_pair_is_one_story_or_two_as_a_reader_would_say(pair: Pair) -> None:
    assert (_similarity(pair) >= THRESHOLD) is pair.same_story


def test_a_footer_repeated_under_a_feeds_entries_is_not_hashed() -> None:
    bodies = [with_footer(COUNCIL), with_footer(HARBOUR), with_footer(VARGA_TRIAL)]
    assert recurring_pieces(bodies) == FOOTER_SENTENCES
    council, harbour, _ = signatures_of(bodies)
    assert council is not None and harbour is not None
    assert council == signature_of(COUNCIL)
    assert similarity(council, harbour) < 0.1


def test_a_footer_under_one_entry_is_known_from_the_sources_stored_bodies() -> None:
    """A batch of one entry: its footer is found among the source's latest stored bodies
    (the context), which are not signed; a copy in the context keeps what it shares."""
    [alone] = signatures_of([with_footer(HARBOUR)])
    [known] = signatures_of([with_footer(HARBOUR)], context=[with_footer(COUNCIL)])
    assert known == signature_of(HARBOUR) != alone
    [copy] = signatures_of([with_footer(HARBOUR)], context=[HARBOUR, with_footer(COUNCIL)])
    assert copy == signature_of(HARBOUR)
    [kept] = signatures_of([HARBOUR], context=[HARBOUR])
    assert kept == signature_of(HARBOUR), "a body's own stored copy is not boilerplate"


def test_titles_and_one_line_texts_get_no_signature() -> None:
    assert signature_of("") is None
    assert signature_of("Read the full story on our website.") is None


@pytest.mark.parametrize("join", ["\n\n", " "], ids=["own paragraph", "run on"])
def test_a_footer_longer_than_the_items_under_it_is_still_a_footer(join: str) -> None:
    """Two short items under one 90-word footer share more words than they own: they
    are still two items, and the footer (on its own or run on from the text) goes."""
    strike, trial = HARBOUR.split("\n\n")[0], VARGA_TRIAL.split("\n\n")[0]
    bodies = [strike + join + FOOTER, trial + join + FOOTER]
    assert recurring_pieces(bodies) == FOOTER_SENTENCES
    copy, other = signatures_of(bodies)
    assert copy == signature_of(strike)
    assert similarity(copy or b"", other or b"") < 0.1


def test_a_byline_over_short_items_and_a_footer_under_them_are_both_boilerplate() -> None:
    """A short header line (a byline) and a footer around two different short items:
    both go, and each item is signed as it reads alone."""
    strike, trial = HARBOUR.split("\n\n")[0], VARGA_TRIAL.split("\n\n")[0]
    byline = "By our city desk."
    bodies = [f"{byline}\n\n{strike}\n\n{FOOTER}", f"{byline}\n\n{trial}\n\n{FOOTER}"]
    assert recurring_pieces(bodies) == {byline} | FOOTER_SENTENCES
    copy, other = signatures_of(bodies)
    assert copy == signature_of(strike)
    assert similarity(copy or b"", other or b"") < 0.1


def test_a_footer_followed_by_a_line_of_its_own_is_still_a_footer() -> None:
    """A last line that names the item ("The post ... appeared first on ...") after the
    shared footer: the footer goes, the lines stay."""
    strike, trial = HARBOUR.split("\n\n")[0], VARGA_TRIAL.split("\n\n")[0]
    bodies = [
        f"{strike}\n\n{FOOTER}\n\nThe post Port at a standstill appeared first on Gazette.",
        f"{trial}\n\n{FOOTER}\n\nThe post Mayor in court appeared first on Gazette.",
    ]
    found = recurring_pieces(bodies)  # the footer, whole or as its sentences
    footer = " ".join(FOOTER.split())
    assert all(piece in footer for piece in found)
    assert sum(len(piece.split()) for piece in found) == len(footer.split())
    copy, other = signatures_of(bodies)
    assert similarity(copy or b"", signature_of(strike) or b"") > 0.6
    assert similarity(copy or b"", other or b"") < 0.1


def test_a_footer_run_on_into_a_last_sentence_of_its_own_is_still_a_footer() -> None:
    strike, trial = HARBOUR.split("\n\n")[0], VARGA_TRIAL.split("\n\n")[0]
    bodies = [
        f"{strike} {FOOTER} You are reading story 1 of today's briefing.",
        f"{trial} {FOOTER} You are reading story 2 of today's briefing.",
    ]
    assert recurring_pieces(bodies) == FOOTER_SENTENCES
    copy, other = signatures_of(bodies)
    assert similarity(copy or b"", signature_of(strike) or b"") > 0.6
    assert similarity(copy or b"", other or b"") < 0.1


def test_a_copy_with_its_last_sentence_replaced_keeps_its_text() -> None:
    """All but the last sentence shared: that is the story, not a footer."""
    *lead, _ = COUNCIL.split("\n\n")
    ending = "The mayor said she would ask the regional government for the footbridge money."
    assert recurring_pieces([with_footer(COUNCIL), "\n\n".join([*lead, ending])]) == frozenset()


def test_a_shared_lead_is_not_a_header() -> None:
    """Two versions of one story that share their first paragraphs and end differently
    (an edited ending) are copies: what they share is the story, however it sits."""
    *lead, _ = COUNCIL.split("\n\n")
    other_ending = "The mayor said she would ask the regional government for the footbridge money."
    bodies = [COUNCIL, "\n\n".join([*lead, other_ending])]
    assert recurring_pieces(bodies) == frozenset()


def test_two_versions_of_one_lead_under_one_footer_are_copies() -> None:
    """What two entries share may be all they end with, footer and most of the text:
    when what comes before is alike (an edited first sentence), they are copies and
    keep their text."""
    first, rest = COUNCIL.split(", ending", 1)
    edited = changed_words(first, 0.1) + ", ending" + rest
    assert recurring_pieces([with_footer(COUNCIL), with_footer(edited)]) == frozenset()
    assert recurring_pieces([with_footer(COUNCIL), with_footer(edited), HARBOUR]) == frozenset()


def test_a_one_sentence_text_is_one_story_only_with_the_same_words() -> None:
    wire = "Mayor Elena Varga resigned on Monday after the council voted to end her mandate."
    signature = signature_of(wire)
    assert signature is not None
    assert signature_of(wire.upper().replace(" on ", " \u2014 on ")) == signature
    assert band_keys(signature) == band_keys(signature_of(wire.upper()) or b"")
    near = wire.replace("Monday", "Tuesday")
    for other in (near, wire + " More follows.", COUNCIL, wire.replace("Varga", "")):
        assert similarity(signature, signature_of(other) or b"") < 0.05, other
    assert signature_of("Mayor Elena Varga resigned on Monday after a vote.") is None


WIRE_SENTENCE = "Mayor Elena Varga resigned on Monday after the council voted to end her mandate."


@pytest.mark.parametrize(
    "dressed",
    [
        "LONDON (Reuters) - {}",
        "Kyiv, Ukraine (AP) \u2014 {}",
        "WASHINGTON \u2014 {}",
        "NEW YORK - {}",
        "(AFP) - {}",
        "{} (Reuters)",
        "BRUSSELS (dpa) \u2013 {} (dpa)",
    ],
)
def test_a_wire_items_dateline_and_credit_leave_it_the_same_story(dressed: str) -> None:
    """Outlets re-publishing a wire item keep or drop its dateline and credit: a
    one-sentence item (an exact signature) and a longer one (MinHash) alike."""
    for text in (WIRE_SENTENCE, WIRE):
        assert signature_of(dressed.format(text)) == signature_of(text) is not None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Elena Varga \u2014 {}", "John Smith \u2014 {}"),  # names, not a place in capitals
        ("US-China {}", "EU-China {}"),  # a hyphen, not a dash
        ("{} More follows.", "{}"),
        ("{} (Frost Security)", "{}"),  # not one word: the text's own
    ],
)
def test_only_a_dateline_and_a_credit_are_dropped(first: str, second: str) -> None:
    text = "talks on Monday ended after the council voted to end the mandate of the mayor."
    one, other = signature_of(first.format(text)), signature_of(second.format(text))
    assert one is not None and other is not None
    assert similarity(one, other) < 0.05


def _item(key: str, title: str, body: str, url: str) -> Document:
    return Document("Herald", key, title, body, url, published=None, content_hash=key)


def test_one_feeds_description_under_its_entries_is_not_signed_but_a_copy_is() -> None:
    blurb = "News, analysis and opinion from the Herald newsroom, updated every hour of the day."
    batch = [
        _item("a", "Tram line opens", blurb, "https://herald.example/a"),
        _item("b", "Deputy mayor named", blurb, "https://herald.example/b"),
        _item("f", "Library reopens", blurb, "https://herald.example/f"),
        _item("c", "Strike ends", with_footer(HARBOUR), "https://herald.example/c"),
        _item("d", "Dock strike over", with_footer(HARBOUR), "https://gazette.example/d"),
        _item("e", "Tram line opens", blurb, "https://wire.example/e"),
        _item("g", "Port strike ends", with_footer(HARBOUR), "https://herald.example/g"),
    ]
    signed = batch_signatures(batch, feed=True)
    assert signed[("Herald", "a")] is None and signed[("Herald", "b")] is None
    assert signed[("Herald", "e")] is None  # its body is the Herald's stock text
    # the same text under two headlines of one host: a story and its copy
    assert signed[("Herald", "c")] == signed[("Herald", "g")] == signature_of(with_footer(HARBOUR))
    assert signed[("Herald", "d")] == signed[("Herald", "c")]
    # a seed folder's documents come from any outlet: the same text is a copy
    seeds = batch_signatures(batch)
    assert seeds[("Herald", "a")] == seeds[("Herald", "b")] == signature_of(blurb) is not None


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
    assert recurring_pieces(bodies) == FOOTER_SENTENCES
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
    padded = " ".join(f"{word} {'-' * 8}" for word in words[:MAX_WORDS])  # past the short cut
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


# ASCII, the quotes and dashes blanked as bytes, letters that case-fold to several
# (ß, İ, ﬁ), Greek final sigma, CJK, emoji, a combining dot, a zero-width space
_MIXED = "abcXYZ019_ -.,'\n\t" + _PUNCTUATION + "éÉßİﬁΣσςΑω²½Ж漢字😉★\u0307\u200b"


@given(st.text(alphabet=_MIXED, max_size=60))
def test_the_words_hashed_are_the_case_folded_word_runs_of_any_text(text: str) -> None:
    """ASCII runs go through a bytes table and only pieces holding other characters
    through the regular expression: the words are those of `\\w+` over the folded text."""
    assert words_of(text).split() == [w.encode() for w in re.findall(r"\w+", text.casefold())]


def _entry(shared: str, own_words: int, tag: str) -> str:
    return shared + "\n\n" + " ".join(f"{tag}{n}" for n in range(own_words))


def test_entries_are_copies_when_what_they_share_is_half_the_shorter() -> None:
    """A paragraph two entries share is boilerplate unless they are copies: the shared
    words at least half the shorter entry's (its own words counted only as far as
    that decides)."""
    shared = " ".join(f"s{n}" for n in range(10))  # 10 words
    paragraph = {shared}
    # 10 of 20 words shared: copies, the paragraph stays
    assert recurring_pieces([_entry(shared, 10, "a"), _entry(shared, 10, "b")]) == set()
    # 10 of 21 and of 21: different entries, the paragraph is dropped
    assert recurring_pieces([_entry(shared, 11, "a"), _entry(shared, 11, "b")]) == paragraph
    # the shorter decides, whichever comes first
    assert recurring_pieces([_entry(shared, 10, "a"), _entry(shared, 300, "b")]) == set()
    assert recurring_pieces([_entry(shared, 300, "a"), _entry(shared, 10, "b")]) == set()
    # own words over several paragraphs and lines, each a word more than its separators
    lines = shared + "\n\nx1 x2\ny1\n\nz1 z2 z3 z4 z5 z6"
    assert recurring_pieces([lines, _entry(shared, 11, "b")]) == set()
    assert recurring_pieces([lines + " z7 z8", _entry(shared, 11, "b")]) == paragraph


def _numpy_band_keys(signatures: list[bytes]) -> list[list[int]]:
    """The band keys as numpy computed them before (format 2): the reference."""
    np = pytest.importorskip("numpy")
    values = np.frombuffer(b"".join(signatures), dtype="<u4").reshape(len(signatures), -1)
    keys = values[:, :BANDS].astype(np.uint64)
    with np.errstate(over="ignore"):
        keys += np.array(band_offsets_generated(), dtype=np.uint64)
        keys ^= keys >> np.uint64(29)
        keys *= np.uint64(0xBF58476D1CE4E5B9)
        keys ^= keys >> np.uint64(32)
    top = (keys >> np.uint64(32)).astype(np.uint32)
    result: list[list[int]] = top.view(np.int32).astype(np.int64).tolist()
    return result


def test_band_keys_and_similarity_in_plain_python_equal_numpys() -> None:
    """The main process files and compares signatures without numpy: the same keys and
    estimates as numpy's arithmetic, over real signatures and random bytes."""
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(7)
    real = [s for s in signatures_of([COUNCIL, HARBOUR, VARGA_TRIAL, FOOTER * 3]) if s]
    randoms = [rng.integers(0, 256, SIGNATURE_BYTES, dtype=np.uint8).tobytes() for _ in range(300)]
    extremes = [b"\xff" * SIGNATURE_BYTES, b"\x00" * SIGNATURE_BYTES]
    halves = [bytes(real[0])[:100] + randoms[0][100:], bytes(real[0])]  # 50 values alike
    signatures = [bytes(s) for s in real] + randoms + extremes + halves
    assert band_keys_of(signatures) == _numpy_band_keys(signatures)
    assert unsigned_band_keys_of(signatures) == [
        [k & 0xFFFFFFFF for k in row] for row in _numpy_band_keys(signatures)
    ]
    for a, b in itertools.pairwise(signatures):
        same = np.count_nonzero(np.frombuffer(a, "<u2") == np.frombuffer(b, "<u2"))
        assert similarity(a, b) == same / (SIGNATURE_BYTES // 2)


def test_the_written_band_offsets_are_those_drawn() -> None:
    assert band_offsets_generated() == _BAND_OFFSETS


def test_the_written_permutations_are_those_drawn() -> None:
    assert permutations_generated() == (_MULTIPLIERS, _INCREMENTS)
    # the plain-Python finaliser adds them to a 32-bit value without a cut to 64 bits
    assert max(_BAND_OFFSETS) + 0xFFFFFFFF < 1 << 64


def test_a_signature_too_short_for_its_bands_is_refused() -> None:
    with pytest.raises(ValueError, match="shorter"):
        band_keys_of([b"\x01" * SIGNATURE_BYTES, b"\x01" * 31])


def test_a_body_twice_in_a_batch_is_signed_once_and_alike() -> None:
    """Identical bodies of one batch share one signature, the one each gets alone."""
    bodies = [COUNCIL, HARBOUR, COUNCIL, VARGA_TRIAL, HARBOUR]
    found = signatures_of(bodies)
    assert found[0] is found[2] and found[1] is found[4]
    assert found == [signatures_of([body], frozenset())[0] for body in bodies]


_SENTENCES = st.sampled_from(
    [FOOTER.split(". ")[0] + ".", "Varga said so.", "Ships wait at anchor!", "Why now?", "—", ""]
)
_BODIES = st.lists(
    st.builds(
        lambda parts, seps: "".join(p + s for p, s in zip(parts, seps, strict=False)),
        st.lists(st.one_of(_SENTENCES, st.text(alphabet=_MIXED, max_size=40)), max_size=8),
        st.lists(st.sampled_from([" ", "\n", "\n\n", ". ", "? "]), min_size=8, max_size=8),
    ),
    max_size=6,
)


@given(_BODIES)
def test_any_batch_is_signed_without_error_and_a_body_alike_wherever_it_sits(
    bodies: list[str],
) -> None:
    """Footers, run-on sentences, empty and odd texts: every body gets a signature of the
    format or none, and the same body the same one within its batch."""
    signed = signatures_of(bodies)
    assert all(s is None or len(s) == SIGNATURE_BYTES for s in signed)
    first = dict(zip(bodies, signed, strict=True))
    assert all(first[body] == signature for body, signature in zip(bodies, signed, strict=True))
