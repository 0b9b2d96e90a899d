"""The loose parser (malformed feeds) reads past XML's entity references in longer runs
of text (`feedxml._Loose`): what it makes must be what feedparser's own loop makes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.sources.feeds import parse_feed
from newswatch.sources.feedxml import _LOOP, _Loose

RSS = (
    '<rss version="2.0"><channel><title>T &amp; co &nbsp;</title>'
    "<item><guid>1</guid><title>A &lt;b&gt;bold&lt;/b&gt; &quot;title&apos; &bogus;</title>"
    "<description>\n  &lt;p&gt;Caf&eacute; &amp;amp; &#60;i&#62;x&lt;/i&gt;  \n"
    "&lt;a href=&quot;https://e.org/?a=1&amp;b=2&quot;&gt;link&lt;/a&gt;&lt;/p&gt;\n"
    "</description><link>https://e.org/1?a=1&amp;b=2</link></item>"
    "<item><guid>2</guid><title>Raw <b>tag</b> &amp; more</title>"
    "<description>&lt;p&gt;x <p>raw &lt;em&gt;y&lt;/em&gt;</p> &amp;</description></item>"
    "<item><guid>3</guid><description><![CDATA[<p>a &lt; b &amp;amp;</p>]]> &lt;tail&gt;"
    "</description></item></channel></rss>"
)
ATOM = (
    '<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">&lt;b&gt;F&lt;/b&gt;</title>'
    "<entry><id>x1</id><title>One &amp; &lt;two&gt;</title>"
    '<content type="xhtml">\n  &lt;<div xmlns="http://www.w3.org/1999/xhtml">'
    "<p>a &lt; b &amp; c &gt; d &quot;q&quot; &apos;s&apos;</p>\n  &amp;</div>\n</content>"
    "</entry><entry><id>x2</id>"
    '<content type="html">\n  &lt;p&gt;one\n  <b>raw</b> &lt;i&gt;two&lt;/i&gt;  \n</content>'
    '<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">&amp;  </div></summary>'
    "</entry><entry><id>x3</id><title>&lt;cut &amp; <i</title></entry>"
)


def both(text: str) -> tuple[Any, Any]:
    """(this loose parser's reading, feedparser's own loop's) of `text`."""
    readings = []
    for own_loop in (False, True):
        parser = _Loose("", None, "utf-8", {})
        parser.resolve_relative_uris = parser.sanitize_html = False
        if own_loop:
            parser._loop = _LOOP  # sgmllib's SGMLParser.goahead, as feedparser has it
        parser.feed(text)
        readings.append((parser.feeddata, parser.entries, parser.version))
    return readings[0], readings[1]


@pytest.mark.parametrize("text", [RSS, ATOM, RSS[:-60], ATOM[:-30], ATOM.replace("x2", "&x2")])
def test_loose_parser_reads_as_feedparsers_own_loop(text: str) -> None:
    ours, reference = both(text)
    assert ours == reference
    assert ours[1]  # entries were read


_PIECES = ["&lt;", "&gt;", "&amp;", "&quot;", "&apos;", "&lt", "&amp", "&#60;", "&nbsp;"]
_PIECES += ["<p>", "</p>", "<b>", "<div>", "</div>", " ", "\n", "x", "&", "<", ";", "<br/>"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.sampled_from(["html", "xhtml", "text"]))
def test_any_text_reads_as_feedparsers_own_loop(pieces: list[str], kind: str) -> None:
    text = "".join(pieces)
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id>'
        f'<title type="{kind}">{text}</title><content type="{kind}">{text}</content></entry>'
    )
    rss = f'<rss version="2.0"><channel><item><guid>1</guid><description>{text}'
    for feed in (atom, rss):
        ours, reference = both(feed)
        assert ours == reference


def test_a_malformed_feed_of_escaped_html_keeps_its_text() -> None:
    feed = parse_feed(
        RSS.encode(),
        url="https://e.org/feed",
        headers={"content-type": "application/xml"},
        source="s",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert feed.bozo and feed.bozo.startswith("malformed XML")
    assert [item.key for item in feed.items] == ["1", "2", "3"]
    # as before the change (an RSS title that looks like HTML stays as written)
    assert [(item.title, item.body) for item in feed.items] == [
        ("A <b>bold</b> \"title' &bogus;", "Café & x link"),
        ("Raw tag & more", "<p>x\n\nraw <em>y</em>\n\n&"),
        ("", "a < b &amp;"),
    ]
    assert feed.items[0].url == "https://e.org/1?a=1&b=2"
