"""Feed bodies -> RawItems: formats, identity, links, dates, text, authors and categories."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from newswatch.model import RawItem
from newswatch.sources.feeds import ParsedFeed, item_key, parse_feed

FEED_URL = "https://news.example.org/world/rss.xml"
FETCHED = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def parse(body: str | bytes, content_type: str = "application/xml", **kw: str) -> ParsedFeed:
    data = body.encode() if isinstance(body, str) else body
    return parse_feed(
        data,
        url=kw.get("url", FEED_URL),
        headers={"content-type": content_type},
        source=kw.get("source", "Example World"),
        fetched_at=FETCHED,
    )


def only(feed: ParsedFeed) -> RawItem:
    assert len(feed.items) == 1, feed.items
    return feed.items[0]


RSS2 = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Example &amp; World</title>
  <link>https://news.example.org/</link>
  <item>
    <title>Talks on &lt;b&gt;ceasefire&lt;/b&gt; resume</title>
    <link>/world/2026/talks</link>
    <guid isPermaLink="false">  tag:example.org,2026:1  </guid>
    <pubDate>Sun, 01 Feb 2026 09:30:00 +0200</pubDate>
    <dc:creator>Anna Smith</dc:creator>
    <category>Europe</category><category>Diplomacy</category><category>Europe</category>
    <description>Short summary.</description>
    <content:encoded><![CDATA[<p>First paragraph &amp; more.</p>
      <script>track()</script><p>Second<br/>line</p>]]></content:encoded>
  </item>
</channel>
</rss>"""


def test_rss2_entry_becomes_a_raw_item() -> None:
    feed = parse(RSS2)
    assert feed.title == "Example & World" and feed.bozo is None
    assert only(feed) == RawItem(
        source="Example World",
        key="tag:example.org,2026:1",
        title="Talks on ceasefire resume",
        body="First paragraph & more.\n\nSecond\nline",
        url="https://news.example.org/world/2026/talks",
        published=datetime(2026, 2, 1, 7, 30, tzinfo=UTC),
        authors=("Anna Smith",),
        categories=("Europe", "Diplomacy"),
    )


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.net/a/">
  <title type="text">Blog</title>
  <author><name>Feed Author</name></author>
  <entry>
    <title type="html">Q&amp;amp;A: &lt;i&gt;why&lt;/i&gt;</title>
    <id>urn:uuid:1</id>
    <link rel="alternate" href="posts/1.html"/>
    <updated>2026-01-05T10:00:00Z</updated>
    <summary>The summary only.</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
      <p>Full <em>text</em>.</p></div></content>
    <category term="tech"/>
  </entry>
  <entry xml:base="/b/">
    <title>Second</title>
    <link href="two"/>
    <published>2026-01-04T08:00:00-05:00</published>
    <updated>2026-01-06T00:00:00Z</updated>
    <author><name>Guest</name><email>g@example.net</email></author>
    <summary type="html">&lt;p&gt;Only &amp;amp; summary&lt;/p&gt;</summary>
  </entry>
</feed>"""


def test_atom_with_xml_base_feed_author_and_content_preferred() -> None:
    feed = parse(ATOM, url="https://elsewhere.example.com/feed")
    first, second = feed.items
    assert (first.key, first.title) == ("urn:uuid:1", "Q&A: why")
    assert first.url == "https://blog.example.net/a/posts/1.html"
    assert first.body == "Full text."
    assert first.published == datetime(2026, 1, 5, 10, tzinfo=UTC)  # updated, no published
    assert first.authors == ("Feed Author",) and first.categories == ("tech",)
    assert second.url == "https://blog.example.net/b/two"
    assert second.key == second.url  # no id: the link
    assert second.published == datetime(2026, 1, 4, 13, tzinfo=UTC)  # published wins
    assert second.body == "Only & summary" and second.authors == ("Guest",)


RSS1_RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example.org/"><title>RDF news</title></channel>
  <item rdf:about="https://rdf.example.org/1">
    <title>RDF item</title><link>https://rdf.example.org/1</link>
    <description>Body of RDF item.</description><dc:date>2026-01-02T03:04:05+01:00</dc:date>
  </item>
</rdf:RDF>"""

RSS091 = """<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old</title><link>http://old.example/</link>
<item><title>Old item</title><link>http://old.example/1</link><description>old</description></item>
</channel></rss>"""

ATOM03 = """<?xml version="1.0"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Atom 0.3</title>
<entry><title>Old atom</title><link rel="alternate" type="text/html" href="http://a03.example/1"/>
<id>tag:a03,1</id><issued>2005-01-01T00:00:00Z</issued><modified>2005-01-02T00:00:00Z</modified>
<content type="text/html" mode="escaped">&lt;p&gt;atom zero three&lt;/p&gt;</content>
</entry></feed>"""


def test_rdf_rss091_and_atom03_are_read() -> None:
    rdf = only(parse(RSS1_RDF))
    assert (rdf.title, rdf.body, rdf.key) == ("RDF item", "Body of RDF item.", rdf.url)
    assert rdf.published == datetime(2026, 1, 2, 2, 4, 5, tzinfo=UTC)
    old = parse(RSS091)
    assert old.title == "Old" and only(old).url == "http://old.example/1"
    atom03 = only(parse(ATOM03))
    assert (atom03.key, atom03.body) == ("tag:a03,1", "atom zero three")
    assert atom03.published == datetime(2005, 1, 1, tzinfo=UTC)


def rss_item(inner: str) -> str:
    return f'<rss version="2.0"><channel><title>F</title><item>{inner}</item></channel></rss>'


def test_identity_falls_back_from_guid_to_link_to_title_and_date() -> None:
    with_guid = only(parse(rss_item("<guid>g-1</guid><link>https://x.example/1</link>")))
    with_link = only(parse(rss_item("<title>T</title><link>https://x.example/1</link>")))
    dated = "<title>T</title><pubDate>Sun, 01 Feb 2026 09:30:00 GMT</pubDate>"
    bare_a = only(parse(rss_item(dated)))
    bare_b = only(parse(rss_item(dated + "<description>edited text</description>")))
    other_day = only(parse(rss_item(dated.replace("01 Feb", "02 Feb"))))
    assert with_guid.key == "g-1"
    assert with_link.key == "https://x.example/1"
    assert bare_a.key.startswith("sha256:") and bare_a.key == bare_b.key  # edits keep identity
    assert other_day.key != bare_a.key


def test_identity_hash_is_stable_and_long_guids_are_hashed() -> None:
    assert item_key(None, None, "T", "d", "body") == item_key(None, None, "T", "d", "other")
    long_guid = "x" * 600
    assert item_key(long_guid, None, "", "", "") == (
        "sha256:" + hashlib.sha256(long_guid.encode()).hexdigest()[:40]
    )
    assert item_key(42, None, "", "", "") == "42"


def test_links_are_resolved_and_only_http_kept() -> None:
    relative = only(parse(rss_item("<title>a</title><link>../up/x?q=1</link>")))
    assert relative.url == "https://news.example.org/up/x?q=1"
    script = only(parse(rss_item("<title>a</title><link>javascript:alert(1)</link>")))
    assert script.url is None


def test_a_link_with_a_non_http_uri_falls_back_to_the_http_one() -> None:
    text = '<title>a</title><link uri="javascript:void(0)">https://x.example/a?p=1&amp;q=2</link>'
    assert only(parse(rss_item(text))).url == "https://x.example/a?p=1&q=2"
    broken = rss_item(text).replace("</channel>", "<oops></channel>")  # the loose parser too
    assert only(parse(broken)).url == "https://x.example/a?p=1&q=2"
    atom = """<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id>
    <title>a</title><link href="https://x.example/b"/><link uri="gopher://x.example/b"/>
    </entry></feed>"""
    entry = only(parse(atom))
    assert entry.url == "https://x.example/b" and entry.key == "1"
    keyed = only(parse(rss_item('<title>a</title><link uri="ftp://x.example/c">/c</link>')))
    assert keyed.url == keyed.key == "https://news.example.org/c"


def test_missing_dates_fall_back_to_fetch_time_in_utc() -> None:
    undated = only(parse(rss_item("<title>a</title><guid>u</guid>")))
    assert undated.published == FETCHED
    local = datetime(2026, 2, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    item = parse_feed(
        rss_item("<guid>u</guid>").encode(),
        url=FEED_URL,
        headers={},
        source="s",
        fetched_at=local,
    ).items[0]
    assert item.published == FETCHED and item.published.tzinfo == UTC


def test_plain_text_content_keeps_its_characters() -> None:
    atom = """<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id>
    <title>Less &lt; more</title><content type="text">a &lt;b&gt; is not a tag

second paragraph</content></entry></feed>"""
    entry = only(parse(atom))
    assert entry.title == "Less < more"
    assert entry.body == "a <b> is not a tag\n\nsecond paragraph"


def test_feed_without_entries_is_an_empty_feed_not_an_error() -> None:
    feed = parse('<rss version="2.0"><channel><title>Quiet</title></channel></rss>')
    assert (feed.title, feed.items, feed.bozo, feed.unreadable) == ("Quiet", [], None, None)


def prefixed_items(count: int, prefix: str = "rss") -> str:
    return "".join(
        f"<{prefix}:item><{prefix}:title>Story {n}</{prefix}:title>"
        f"<{prefix}:link>https://news.example.org/{n}</{prefix}:link></{prefix}:item>\n"
        for n in range(count)
    )


def test_items_with_an_undeclared_prefix_make_an_unreadable_feed_not_an_empty_one() -> None:
    # as a real feed in the corpus has it (a site generator's "rss:" everywhere)
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Arts</title><link>https://news.example.org/</link>
{prefixed_items(35)}</channel></rss>"""
    feed = parse(body)
    assert feed.items == []
    assert feed.unreadable == (
        "35 <rss:item> elements, none readable: undeclared namespace prefix 'rss'"
    )
    assert feed.bozo is not None and "unbound prefix" in feed.bozo


def test_items_in_a_foreign_namespace_are_unreadable_with_the_namespace_named() -> None:
    body = (
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:x="urn:example:items"><title>A</title>'
        "<x:entry><x:title>one</x:title></x:entry><x:entry><x:title>two</x:title></x:entry></feed>"
    )
    feed = parse(body)
    assert feed.items == [] and feed.unreadable == (
        "2 <x:entry> elements, none readable: "
        "prefix 'x' names 'urn:example:items', not an RSS, RDF or Atom namespace"
    )


def test_items_lost_beside_readable_ones_are_counted_in_the_warning() -> None:
    body = (
        '<rss version="2.0" xmlns:r="urn:example:r"><channel><title>Mixed</title>'
        "<item><title>Read</title><guid>a</guid></item>"
        f"{prefixed_items(2, 'r')}</channel></rss>"
    )
    feed = parse(body)
    assert [item.title for item in feed.items] == ["Read"] and feed.unreadable is None
    assert feed.bozo == (
        "2 of 3 <r:item>/<item> elements could not be read: "
        "prefix 'r' names 'urn:example:r', not an RSS, RDF or Atom namespace"
    )


@pytest.mark.slow(seconds=3)
def test_feed_of_5000_entries() -> None:
    items = "".join(
        f"<item><guid>id-{n}</guid><title>Entry {n}</title><description>&lt;p&gt;Body {n}"
        f"&lt;/p&gt;</description></item>"
        for n in range(5000)
    )
    feed = parse(f'<rss version="2.0"><channel><title>Big</title>{items}</channel></rss>')
    assert len(feed.items) == 5000
    assert len({item.key for item in feed.items}) == 5000
    assert (feed.items[4999].title, feed.items[4999].body) == ("Entry 4999", "Body 4999")


def test_content_location_header_is_not_needed_for_relative_links() -> None:
    feed = parse_feed(
        rss_item("<title>a</title><link>b/c</link>").encode(),
        url="http://h.example/x/feed",
        headers={"content-type": "text/xml"},
        source="s",
        fetched_at=FETCHED,
    )
    assert only(feed).url == "http://h.example/x/b/c"
