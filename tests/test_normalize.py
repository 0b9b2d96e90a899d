"""Normalisation: clean text, canonical URLs, UTC dates, content hashes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import SEED_FILE
from newswatch.model import RawItem
from newswatch.normalize import (
    MAX_TEXT_CHARS,
    canonical_url,
    content_hash,
    normalize,
    normalize_text,
    to_utc,
)

TEXT_CASES = [
    # Unicode NFC: decomposed é becomes the composed one.
    ("cafe\u0301", "caf\u00e9"),
    ("caf\u00e9", "caf\u00e9"),
    # whitespace folded inside lines, line breaks (<br>) and paragraphs kept, ends stripped
    ("  a \t b\nc  ", "a b\nc"),
    ("line one \n  line two\u2028line three", "line one\nline two\nline three"),
    ("one\n\ntwo", "one\n\ntwo"),
    ("one\n \n\t\n\n\ntwo", "one\n\ntwo"),
    ("one\r\n\r\ntwo\rthree", "one\n\ntwo\nthree"),
    ("a\u00a0b\u2003c", "a b c"),
    # control and invisible characters dropped
    ("Kosa\u00adchev\x00 said\x07", "Kosachev said"),
    ("\ufeffTitle", "Title"),
    # glued sentences split again
    ("he said.What explains", "he said. What explains"),
    ("in particular.“This will", "in particular. “This will"),
    ("theoretical gains.”There is", "theoretical gains.” There is"),
    ("he asked?Nobody knew", "he asked? Nobody knew"),
    ("Stop!Now", "Stop! Now"),
    ("he asked?”The", "he asked?” The"),
    ("wait...Then", "wait... Then"),
    ("by 20 years.Such a deal", "by 20 years. Such a deal"),
    ("he added.Trump’s victory", "he added. Trump’s victory"),
    ("where profit begins.This video", "where profit begins. This video"),
    ("perspective, Kosachev“I say", "perspective, Kosachev “I say"),
    ("he said,“This", "he said, “This"),
    ("сказал.Что", "сказал. Что"),
    # ...but not abbreviations, numbers, code names, addresses, initials
    ("the U.S. Army and U.S.A.", "the U.S. Army and U.S.A."),
    ("the U.S.’s role", "the U.S.’s role"),
    ("grew 3.5 percent", "grew 3.5 percent"),
    ("e.g. this, i.e. that", "e.g. this, i.e. that"),
    ("built with Node.js today", "built with Node.js today"),
    ("see example.com for more", "see example.com for more"),
    ("see https://Example.com/A.Html now", "see https://Example.com/A.Html now"),
    ("see www.Example.Org now", "see www.Example.Org now"),
    ("J.R.R. Tolkien and J.R.R.Tolkien", "J.R.R. Tolkien and J.R.R.Tolkien"),
    ("on ASP.NET", "on ASP.NET"),
    # identifiers: dotted names, code members, file names (the corpus's 1,300 cases)
    ("System.Xml and sun.misc.Unsafe", "System.Xml and sun.misc.Unsafe"),
    ("Microsoft.Extensions.AI is new", "Microsoft.Extensions.AI is new"),
    ("var buffer bytes.Buffer if err", "var buffer bytes.Buffer if err"),
    ("Python’s multiprocessing.Semaphore is", "Python’s multiprocessing.Semaphore is"),
    ("a single ie.CSS file", "a single ie.CSS file"),
    ("SqlDataReader.HasRows and Vb.Net", "SqlDataReader.HasRows and Vb.Net"),
    ('ctx.Export("asg-name", asg.Name) return', 'ctx.Export("asg-name", asg.Name) return'),
    # in capitals after a full stop, a constant as often as an acronym: left alone
    ("of the future.NATO says", "of the future.NATO says"),
    ("Trump’s and Trump's", "Trump’s and Trump's"),
    ("", ""),
    (" \n\n ", ""),
]


@pytest.mark.parametrize(("raw", "clean"), TEXT_CASES)
def test_normalize_text(raw: str, clean: str) -> None:
    assert normalize_text(raw) == clean


URL_CASES = [
    ("https://example.org/a?utm_source=x&utm_medium=y&id=7", "https://example.org/a?id=7"),
    ("https://example.org/a?fbclid=abc", "https://example.org/a"),
    ("https://example.org/a?b=2&gclid=1&a=1&UTM_Campaign=z", "https://example.org/a?b=2&a=1"),
    ("https://example.org/a?mc_cid=1&mc_eid=2&igshid=3&ref_src=twsrc", "https://example.org/a"),
    ("https://example.org/a?z=1&&flag", "https://example.org/a?z=1&flag"),
    ("https://example.org/a#section-2", "https://example.org/a#section-2"),
    ("https://example.org/a#Release notes 1.2", "https://example.org/a#Release%20notes%201.2"),
    ("https://example.org/a#xtor=RSS-1", "https://example.org/a"),
    ("https://example.org/a#", "https://example.org/a"),
    ("HTTPS://News.Example.ORG/Path/Case", "https://news.example.org/Path/Case"),
    ("http://example.org:80/x", "http://example.org/x"),
    ("https://example.org:443/x", "https://example.org/x"),
    ("https://example.org:8443/x", "https://example.org:8443/x"),
    ("http://example.org", "http://example.org/"),
    ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
    ("  https://example.org/a  ", "https://example.org/a"),
    (None, None),
    ("", None),
    ("   ", None),
    # not an absolute http(s) URL: returned stripped
    (" /relative/path ", "/relative/path"),
    ("mailto:someone@example.org", "mailto:someone@example.org"),
    ("http://[::1", "http://[::1"),
    ("http://example.org:port/", "http://example.org:port/"),
    ("not a url", "not a url"),
]


@pytest.mark.parametrize(("raw", "canonical"), URL_CASES)
def test_canonical_url(raw: str | None, canonical: str | None) -> None:
    assert canonical_url(raw) == canonical


UTC_CASES = [
    (datetime(2024, 11, 14, 10, 0, tzinfo=timezone(timedelta(hours=3))), (2024, 11, 14, 7)),
    (datetime(2024, 11, 14, 10, 0), (2024, 11, 14, 10)),
    (date(2024, 11, 14), (2024, 11, 14, 0)),
    ("2024-11-14T10:00:00+03:00", (2024, 11, 14, 7)),
    ("2024-11-14T10:00:00Z", (2024, 11, 14, 10)),
    ("2024-11-14 10:00:00", (2024, 11, 14, 10)),
    ("2024-11-14", (2024, 11, 14, 0)),
    ("Thu, 14 Nov 2024 10:00:00 +0300", (2024, 11, 14, 7)),
    ("Thu, 14 Nov 2024 10:00:00 GMT", (2024, 11, 14, 10)),
    ("14 Nov 2024 23:30:00 -0500", (2024, 11, 15, 4)),
    ("Thu, 14 Nov 2024 10:00:00 -0000", (2024, 11, 14, 10)),
]


@pytest.mark.parametrize(("moment", "expected"), UTC_CASES)
def test_to_utc(moment: datetime | date | str, expected: tuple[int, int, int, int]) -> None:
    result = to_utc(moment)
    assert result is not None
    assert result.tzinfo is UTC
    assert (result.year, result.month, result.day, result.hour) == expected


GARBAGE_DATES = [None, "", "   ", "yesterday", "2024-13-45", "Thu, 31 Feb 2024 10:00 GMT"]


@pytest.mark.parametrize("garbage", [*GARBAGE_DATES, "0001-01-01T00:00+05:00"])
def test_to_utc_gives_none_for_garbage(garbage: str | None) -> None:
    assert to_utc(garbage) is None


def test_bidi_overrides_are_dropped_from_titles_and_text_but_rtl_marks_stay() -> None:
    """A title with U+202E shows reversed in a mail subject ("Invoice \u202efdp.exe")."""
    item = RawItem(
        source="s",
        key="k",
        title="Invoice \u202egpj.exe\u202c and \u2067isolated\u2069",
        body="\u202aembedded\u202c \u202doverride\u202c; \u05e9\u05dc\u05d5\u05dd\u200f!",
    )
    document = normalize(item)
    assert document.title == "Invoice gpj.exe and isolated"
    assert document.body == "embedded override; \u05e9\u05dc\u05d5\u05dd\u200f!"


def test_a_text_longer_than_the_cap_is_cut_at_a_space() -> None:
    words = "Kosachev spoke. " * (MAX_TEXT_CHARS // 8)
    clean = normalize_text(words)
    assert MAX_TEXT_CHARS - 200 < len(clean) <= MAX_TEXT_CHARS
    assert clean.endswith(("Kosachev", "spoke."))
    assert normalize_text("x" * (MAX_TEXT_CHARS + 5)) == "x" * MAX_TEXT_CHARS  # no space: cut


def test_content_hash_ignores_whitespace_case_and_glue() -> None:
    reference = content_hash("Trump 2.0", "He said. What now?\n\nNext.")
    assert content_hash("  TRUMP   2.0 ", "he said.What now?\nnext.") == reference
    assert len(reference) == 64
    assert int(reference, 16) >= 0


def test_content_hash_tells_different_texts_apart() -> None:
    assert content_hash("a", "b c") != content_hash("a b", "c")
    assert content_hash("Title", "body one") != content_hash("Title", "body two")


def test_normalize_composes_the_rules() -> None:
    item = RawItem(
        source="seeds",
        key="000.txt",
        title="  What Does\nRussia  Expect? ",
        body="he said.What explains\n\n\nMore.",
        url="HTTPS://Example.org/a?utm_source=rss#top",
        published=datetime(2024, 11, 14, 3, 0, tzinfo=timezone(timedelta(hours=3))),
        authors=(" Jane  Doe ", "Jane Doe", ""),
        categories=("World", " world "),
    )
    doc = normalize(item)
    assert (doc.source, doc.key) == ("seeds", "000.txt")
    assert doc.title == "What Does Russia Expect?"
    assert doc.body == "he said. What explains\n\nMore."
    assert doc.url == "https://example.org/a#top"
    assert doc.published == datetime(2024, 11, 14, 0, 0, tzinfo=UTC)
    assert doc.content_hash == content_hash(item.title, item.body)
    assert doc.authors == ("Jane Doe",)
    assert doc.categories == ("World", "world")


# --- properties -----------------------------------------------------------

_PIECES = [*"aAbZé\u0301 .?!,;:\n\t\r“”‘’\"'()-_/@3", "\u00a0", "\u2029", "\x00", "www.", "://"]
_TEXTY = st.builds("".join, st.lists(st.sampled_from(_PIECES), max_size=40))
_ANY_TEXT = st.one_of(st.text(max_size=80), _TEXTY)


@given(_ANY_TEXT)
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert once == once.strip()
    assert "\n\n\n" not in once


_URL_PIECES = [
    *("http", "HTTPS", "://", "Ex.com", ":80", ":443", ":x", "[", "]", "::1", "/", "?", "&"),
    *("=", "#", "utm_a=1", "fbclid", "q=2", "@", " ", "%41", "\t", "é"),
]
_URLISH = st.builds("".join, st.lists(st.sampled_from(_URL_PIECES), max_size=12))


@given(st.one_of(st.none(), st.text(max_size=60), _URLISH))
def test_canonical_url_never_raises_and_is_idempotent(url: str | None) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


_WORDS = st.lists(st.text(alphabet="abcXYZé.,", min_size=1, max_size=6), min_size=1, max_size=8)
_GAPS = st.lists(st.sampled_from([" ", "  ", "\t", "\n", " \n ", "\u00a0"]), min_size=8, max_size=8)


@given(_WORDS, _GAPS)
def test_content_hash_ignores_whitespace_runs(words: list[str], gaps: list[str]) -> None:
    spaced = " ".join(words)
    respaced = "".join(word + gap for word, gap in zip(words, gaps, strict=False))
    assert content_hash(spaced, spaced) == content_hash(f"  {respaced}", respaced + "\n")


@given(st.one_of(st.none(), st.text(max_size=40), st.datetimes(), st.dates()))
def test_to_utc_never_raises(moment: datetime | date | str | None) -> None:
    result = to_utc(moment)
    assert result is None or result.utcoffset() == timedelta(0)


@given(_ANY_TEXT, _ANY_TEXT)
def test_a_documents_hash_is_the_hash_of_its_own_text(title: str, body: str) -> None:
    doc = normalize(RawItem(source="s", key="k", title=title, body=body))
    assert doc.content_hash == content_hash(title, body)
    assert doc.content_hash == content_hash(doc.title, doc.body)
    assert "\n" not in doc.title


def test_nul_and_lone_surrogates_are_dropped_from_every_stored_field() -> None:
    item = RawItem(
        source="feed",
        key="urn:\x00id\ud800",
        title="Ti\x00tle",
        body="Bo\x00dy",
        url="https://example.org/a\x00b",
        authors=("Ann\x00 Lee",),
    )
    document = normalize(item)
    stored = [document.key, document.title, document.body, document.url, *document.authors]
    assert stored == ["urn:id", "Title", "Body", "https://example.org/ab", "Ann Lee"]


def test_the_seeds_glued_sentences_split_and_nothing_else_changes() -> None:
    raw = SEED_FILE.read_text(encoding="utf-8")
    clean = normalize_text(raw)
    for fixed in (
        "he said. What explains",
        "partners. “This will",
        "purely theoretical gains.” There is",
        "by 20 years. Such a deal",
        "the two countries. “This is",
        "he added. Trump’s victory",
        "defense spending. Such a scenario",
        "Kosachev “I",
    ):
        assert fixed in clean
    assert "".join(clean.split()) == "".join(raw.split())  # only spaces were added
