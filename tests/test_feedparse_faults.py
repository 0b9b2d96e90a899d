"""Bad feed bodies: entity bombs, wrong charsets, malformed XML, HTML pages, empty bodies."""

from __future__ import annotations

import resource
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.sources.charset import decode_body
from newswatch.sources.feeds import FeedParseError, ParsedFeed, parse_feed

URL = "https://example.org/feed.xml"


def parse(body: bytes, content_type: str = "application/xml") -> ParsedFeed:
    return parse_feed(
        body,
        url=URL,
        headers={"content-type": content_type} if content_type else {},
        source="s",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def laughs(one_line: bool) -> bytes:
    """The billion laughs: ten levels of ten references, 10^9 'lol's if expanded."""
    separator = "" if one_line else "\n"
    levels = [f'<!ENTITY lol0 "{"lol" * 10}">']
    levels += [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    doctype = f"<!DOCTYPE rss [{separator}{separator.join(levels)}{separator}]>"
    item = "<item><guid>1</guid><title>boom &lol9;</title><description>x</description></item>"
    feed = f'<rss version="2.0"><channel>{item}</channel></rss>'
    return f'<?xml version="1.0"?>\n{doctype}\n{feed}'.encode()


@pytest.mark.parametrize("one_line", [False, True])
def test_billion_laughs_is_never_expanded(one_line: bool) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    feed = parse(laughs(one_line))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 20  # and the title below holds no expansion: it never happened
    assert feed.bozo and feed.bozo.startswith("malformed XML")
    assert len(feed.items) == 1 and len(feed.items[0].title) < 100


CYRILLIC = (
    '<rss version="2.0"><channel><title>Новости</title><item><guid>1</guid>'
    "<title>Переговоры о перемирии</title><description>Москва и Киев: встреча в Стамбуле."
    "</description></item></channel></rss>"
)
FRENCH = (
    '<rss version="2.0"><channel><title>Été</title><item><guid>1</guid>'
    "<title>Café à Paris</title><description>Le garçon a mangé une crème brûlée "
    "près de la fenêtre.</description></item></channel></rss>"
)


def declared(xml: str, encoding: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n{xml}'


@pytest.mark.parametrize(
    ("xml", "content_type", "warning"),
    [
        (
            CYRILLIC,
            "application/xml",
            "no charset declared and the body is not UTF-8; read as cp1251",
        ),
        (
            CYRILLIC,
            "text/xml; charset=utf-8",
            "declared utf-8 and the body is not UTF-8; read as cp1251",
        ),
        (
            declared(CYRILLIC, "ISO-8859-1"),
            "application/xml",
            "declared ISO-8859-1, but the text is cp1251",
        ),
        (declared(CYRILLIC, "windows-1251"), "text/xml", None),
        (declared(CYRILLIC, "windows-1251"), "text/xml; charset=iso-8859-1", None),
    ],
)
def test_windows_1251_with_wrong_or_missing_charset(
    xml: str, content_type: str, warning: str | None
) -> None:
    feed = parse(xml.encode("cp1251"), content_type)
    assert feed.title == "Новости"
    assert feed.items[0].title == "Переговоры о перемирии"
    assert feed.items[0].body == "Москва и Киев: встреча в Стамбуле."
    assert feed.bozo == warning


@pytest.mark.parametrize(
    ("xml", "content_type", "warning"),
    [
        (FRENCH, "", "no charset declared and the body is not UTF-8; read as cp1252"),
        (
            FRENCH,
            "application/rss+xml; charset=utf-8",
            "declared utf-8 and the body is not UTF-8; read as cp1252",
        ),
        (
            declared(FRENCH, "utf-8"),
            "text/xml",
            "declared utf-8 and the body is not UTF-8; read as cp1252",
        ),
        (declared(FRENCH, "ISO-8859-1"), "text/xml", None),
    ],
)
def test_latin1_with_wrong_or_missing_charset(
    xml: str, content_type: str, warning: str | None
) -> None:
    feed = parse(xml.encode("latin-1"), content_type)
    assert feed.title == "Été" and feed.items[0].title == "Café à Paris"
    assert feed.items[0].body.startswith("Le garçon a mangé une crème brûlée")
    assert feed.bozo == warning


def test_koi8r_without_charset_is_recognised() -> None:
    feed = parse(CYRILLIC.encode("koi8_r"))
    assert feed.items[0].title == "Переговоры о перемирии"


def test_utf8_declared_as_something_else_reads_as_utf8() -> None:
    body = declared(CYRILLIC, "utf-16").encode("utf-8")
    feed = parse(body, "application/xml; charset=iso-8859-1")
    assert feed.items[0].title == "Переговоры о перемирии"
    assert feed.bozo == "declared iso-8859-1, but the body is UTF-8"


def test_unknown_declared_encoding_reads_as_utf8() -> None:
    feed = parse(declared(FRENCH, "Atf-8").encode("utf-8"))
    assert feed.items[0].title == "Café à Paris"
    assert feed.bozo == "declared Atf-8, but the body is UTF-8"
    legacy = parse(declared(FRENCH, "no-such-charset").encode("latin-1"))
    assert legacy.items[0].title == "Café à Paris"


def test_byte_order_marks() -> None:
    assert parse(b"\xef\xbb\xbf" + FRENCH.encode()).items[0].title == "Café à Paris"
    utf16 = "\ufeff" + declared(FRENCH, "utf-16")
    assert parse(utf16.encode("utf-16-le")).items[0].title == "Café à Paris"


def test_decode_body_leaves_plain_utf8_untouched() -> None:
    body = declared(FRENCH, "utf-8").encode()
    assert decode_body(body, "text/xml; charset=utf-8") == (body, None)


def test_undefined_entities_and_unclosed_tags_keep_what_parsed() -> None:
    body = (
        b'<rss version="2.0"><channel><title>Broken &nbsp; feed</title>'
        b"<item><guid>1</guid><title>Caf&eacute; &bogus; ok</title><description>"
        b"&lt;p&gt;unclosed &lt;b&gt;bold</description></item>"
        b"<item><guid>2</guid><title>Second<title></item></channel></rss>"
    )
    feed = parse(body)
    assert feed.bozo == "malformed XML at line 1, column 43: undefined entity"
    assert [item.key for item in feed.items] == ["1", "2"]
    assert feed.items[0].title == "Café &bogus; ok"
    assert feed.items[0].body == "unclosed bold"


def test_junk_after_the_document_keeps_the_items() -> None:
    feed = parse(b'<rss version="2.0"><channel><item><guid>1</guid></item></channel></rss><p>junk')
    assert [item.key for item in feed.items] == ["1"]
    assert feed.bozo == "malformed XML at line 1, column 72: junk after document element"


def test_html_page_is_a_clear_error_naming_the_feed_it_links() -> None:
    page = (
        b"<!DOCTYPE html>\n<html><head><title>Site</title>"
        b'<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss/news.xml">'
        b"</head><body><p>Welcome</p></body></html>"
    )
    with pytest.raises(FeedParseError) as error:
        parse(page, "text/html; charset=utf-8")
    assert str(error.value) == (
        f"{URL}: this is an HTML page, not a feed; the page names its feed: "
        "use https://example.org/rss/news.xml"
    )


def test_html_page_without_feed_link() -> None:
    with pytest.raises(FeedParseError, match="HTML page, not a feed; use the address of the site"):
        parse(b"  <html lang=en><body>Hello</body></html>", "text/html")


def test_doctype_html_before_a_feed_root_is_still_a_feed() -> None:
    body = b'<!DOCTYPE html><rss version="2.0"><channel><item><guid>1</guid></item></channel></rss>'
    assert [item.key for item in parse(body).items] == ["1"]


@pytest.mark.parametrize("body", [b"", b" \r\n\t ", b"\xef\xbb\xbf\n"])
def test_empty_body_is_a_clear_error(body: bytes) -> None:
    with pytest.raises(FeedParseError, match="empty body instead of a feed"):
        parse(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<?xml version='1.0'?><urlset><url>x</url></urlset>", "not a feed: no RSS, Atom or RDF"),
        (b"Service temporarily unavailable", "not a feed: malformed XML at line 1, column 1"),
        (b"\x00\x01\x02\xff\xfe garbage", "not a feed"),
    ],
)
def test_bodies_that_are_no_feed(body: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse(body)


SMALL_FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
    b"<item><guid>1</guid><title>A &amp; B</title><link>/a</link>"
    b"<description>&lt;p&gt;x&lt;/p&gt;</description>"
    b"<pubDate>Sun, 01 Feb 2026 09:30:00 GMT</pubDate></item></channel></rss>"
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_give_a_feed_or_a_feed_parse_error(body: bytes) -> None:
    try:
        parse(body)
    except FeedParseError as exc:
        assert str(exc).startswith(URL)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SMALL_FEED) - 1), st.binary(max_size=3)), max_size=6))
def test_damaged_feed_never_crashes(damage: list[tuple[int, bytes]]) -> None:
    body = bytearray(SMALL_FEED)
    for position, junk in damage:
        body[position : position + len(junk)] = junk
    try:
        feed = parse(bytes(body))
    except FeedParseError:
        return
    assert all(item.key and item.published for item in feed.items)


def test_a_declared_non_text_codec_is_read_as_an_unknown_charset() -> None:
    # found by Hypothesis: "uu" is a codec, but bytes.decode refuses it
    body = b'<?xml version="1.0" encoding="uu"?><rss version="2.0"><channel><title>T\x80</title>'
    body += b"<item><guid>1</guid><title>Caf\xe9</title></item></channel></rss>"
    parsed = parse_feed(
        body, url="http://127.0.0.1/f", headers={}, source="s", fetched_at=datetime.now(UTC)
    )
    assert [item.title for item in parsed.items] == ["Café"]
