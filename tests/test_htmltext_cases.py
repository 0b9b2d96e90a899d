"""HTML to text, golden cases from real feeds: the markup that cost text before the
HTML5 parser (issue 7), and the structure a reader expects to keep."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newswatch.htmltext import html_to_text
from newswatch.model import RawItem
from newswatch.normalize import normalize
from newswatch.sources.feeds import parse_feed

AFTER = "<p>The rest of the article, <em>every</em> word of it.</p>"
REST = "The rest of the article, every word of it."

# XML-serialised embeds (Twitter, CodePen, YouTube): HTML5 does not self-close these.
SELF_CLOSING = [
    '<blockquote class="twitter-tweet"><p>A tweet</p></blockquote>'
    '<script async="async" src="https://platform.twitter.com/widgets.js" charset="utf-8"/>',
    '<p>Icon <svg viewBox="0 0 24 24"><path d="M0 0h24v24H0z"/></svg></p><svg class="x"/>',
    '<iframe height="300" src="https://codepen.io/x/embed/abc" frameborder="no"/>',
    '<iframe width="560" src="https://www.youtube.com/embed/x" allowfullscreen="allowfullscreen"/>',
    "<style/>",
    "<STYLE type='text/css'/>",
    "<title/>",
    "<textarea/>",
    "<template/>",
    '<p>Open</p><script src="a.js">',  # never closed at all
    "<p>A literal <iframe> in prose.</p>",
]


@pytest.mark.parametrize("embed", SELF_CLOSING)
def test_an_element_that_is_never_closed_does_not_swallow_the_rest(embed: str) -> None:
    text = html_to_text(f"<p>Before the embed.</p>{embed}{AFTER}")
    assert text.startswith("Before the embed.")
    assert text.endswith(REST)
    assert "<" not in text and "widgets.js" not in text


def test_an_xml_serialised_entry_keeps_every_paragraph() -> None:
    markup = (
        '<p>First.</p><script src="https://x.example/embed.js"/><p>Second.</p>'
        '<iframe src="https://codepen.io/pen"/><p>Third.</p><svg width="10"/><p>Fourth.</p>'
    )
    assert html_to_text(markup) == "First.\n\nSecond.\n\nThird.\n\nFourth."


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        (
            "<p>Put the link in the <head> of the page.</p><p>Then test it.</p>",
            "Put the link in the of the page.\n\nThen test it.",
        ),
        (
            "<p>A <select> element lists options.</p><p>Then test it.</p>",
            "A element lists options.\n\nThen test it.",
        ),
        (
            "<p>Wrap the tracker in <noscript> tags.</p><p>Then test it.</p>",
            "Wrap the tracker in tags.\n\nThen test it.",
        ),
    ],
)
def test_a_literal_tag_in_prose_costs_only_itself(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


def test_noscript_and_object_fallback_text_is_kept() -> None:
    markup = (
        '<div id="chart"></div><script>draw()</script>'
        "<noscript><p>Sales rose 5% in May.</p></noscript>"
        '<object data="talk.swf" type="application/x-shockwave-flash">'
        '<param name="movie" value="talk.swf"><p>Transcript: we met in Oslo.</p></object>'
    )
    assert html_to_text(markup) == "Sales rose 5% in May.\n\nTranscript: we met in Oslo."


def test_a_3000_character_attribute_leaks_nothing() -> None:
    data = "data:image/png;base64," + "iVBORw0KGgo" * 273
    markup = f'<p>Start <img src="{data}" alt="chart"> end of sentence.</p>{AFTER}'
    assert html_to_text(markup) == f"Start end of sentence.\n\n{REST}"


@pytest.mark.parametrize(
    "link",
    [
        '<a href="https://example.org/report>the report</a>',  # closing quote missing
        '<a href="https://example.org/report/>"the report</a>',  # quote after the >
        "<a href='https://example.org/report>the report</a>",
        '<a href=https://example.org/report">the report</a>',  # opening quote missing
    ],
)
def test_an_unbalanced_quote_leaks_no_tag_and_loses_no_text(link: str) -> None:
    text = html_to_text(f"<p>Read {link} today.</p>{AFTER}")
    assert text.replace('"', "") == f"Read the report today.\n\n{REST}"


def test_unescaped_code_is_text_not_a_tag() -> None:
    markup = (
        "<p>Run cat > app.desktop <<EOF\nName=App\nExec=app\nEOF</p>"
        "<p>It returns Result<Vec<(usize, Vec)>, Error> or panics.</p>"
    )
    assert html_to_text(markup).split("\n\n") == [
        "Run cat > app.desktop <<EOF Name=App Exec=app EOF",
        "It returns Result<Vec<(usize, Vec)>, Error> or panics.",
    ]


def test_br_is_a_line_break_and_p_a_paragraph() -> None:
    markup = "<p>12 High Street<br>Springfield<br/>SP1 2AB</p><div>Open daily.</div>After"
    assert html_to_text(markup) == "12 High Street\nSpringfield\nSP1 2AB\n\nOpen daily.\n\nAfter"
    # ...and the stored body keeps them (it used to fold <br> into a space)
    item = RawItem(source="f", key="k", title="Shop", body=html_to_text(markup))
    assert normalize(item).body == html_to_text(markup)


def test_numbered_lists_are_numbered_and_bullets_are_items() -> None:
    markup = (
        "<ol><li>Preheat the oven.</li><li>Mix <b>flour</b> and eggs.</li></ol>"
        "<ul><li>flour</li><li>eggs</li></ul>"
        '<ol start="7"><li>seventh<ol><li>nested first</li></ol></li><li>eighth</li></ol>'
        '<ol reversed><li>three</li><li>two</li><li value="9">nine</li></ol>'
    )
    assert html_to_text(markup).split("\n\n") == [
        "1. Preheat the oven.",
        "2. Mix flour and eggs.",
        "flour",
        "eggs",
        "7. seventh",
        "1. nested first",
        "8. eighth",
        "3. three",
        "2. two",
        "9. nine",
    ]


def test_entities_named_numeric_and_in_attributes() -> None:
    markup = "<p>caf&eacute; &amp; cr&#232;me &#x2014; &ldquo;5 &lt; 6&rdquo;&nbsp;ok &bogus;</p>"
    assert html_to_text(markup) == "café & crème — “5 < 6” ok &bogus;"


def test_a_feed_entry_with_an_embed_keeps_its_body() -> None:
    """The whole path: RSS with an XML-serialised Twitter embed, as one real feed sends it."""
    content = (
        "<p>The minister said the talks would resume.</p>"
        '<blockquote class="twitter-tweet"><p>Talks resume Monday.</p></blockquote>'
        '<script async="async" src="https://platform.twitter.com/widgets.js" charset="utf-8"/>'
        "<p>Negotiators from both sides are expected in Geneva.</p>"
    )
    rss = (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
        f"<item><title>Talks</title><link>https://example.org/a</link>"
        f"<content:encoded><![CDATA[{content}]]></content:encoded></item></channel></rss>"
    )
    feed = parse_feed(
        rss.encode(),
        url="https://example.org/rss",
        headers={"content-type": "application/rss+xml"},
        source="Example",
        fetched_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    assert feed.items[0].body == (
        "The minister said the talks would resume.\n\nTalks resume Monday.\n\n"
        "Negotiators from both sides are expected in Geneva."
    )


# Text a browser shows around inline tags, where a tag taken out of the markup
# before the parse would change it (issue 11: bench/bench_html_to_text.py).
AROUND_INLINE_TAGS = [
    # A tag inside what reads as an entity keeps it from being one.
    ("<p>AT&l<span></span>t;T and &<span>amp;</span></p>", "AT&lt;T and &amp;"),
    # A span breaks out of SVG, so its text shows though the SVG does not.
    ("<p>Icon<svg><span>label</span></svg> after</p>", "Iconlabel after"),
    # A comment ends at its first `-->`, even inside what looks like a quoted value.
    ('<p>a<!-- <span title="-->">shown</span> b</p>', 'a">shown b'),
    ('<p><a title="<span>">link</a></p>', "link"),
    ("<ol><li>one</li><li><span>two</span></li></ol>", "1. one\n\n2. two"),
    ("<p>x<span/>y</p>", "xy"),
    ("<pre><span>\n  def</span> f():\n<span>    return</span> 1</pre>", "def f(): return 1"),
]


@pytest.mark.parametrize(("markup", "text"), AROUND_INLINE_TAGS)
def test_inline_tags_leave_the_text_a_browser_shows(markup: str, text: str) -> None:
    assert html_to_text(markup) == text
