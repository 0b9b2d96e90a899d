"""HTML fragments to readable text: what a reader of the body would expect to see."""

from __future__ import annotations

import html
import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newswatch.htmltext import html_to_text, plain_text


def test_paragraphs_breaks_and_inline_markup() -> None:
    markup = (
        '<div class="story"><h2>Head&shy;line</h2>\n<p>First  <a href="/x?a=1&amp;b=2">link'
        "</a>\n    wrapped line.</p><p>Second<br>line<BR/>third</p></div>"
    )
    assert html_to_text(markup) == "Head\xadline\n\nFirst link wrapped line.\n\nSecond\nline\nthird"


def test_scripts_styles_templates_comments_and_head_are_dropped() -> None:
    markup = (
        "<head><title>t</title></head><style>p { color: red }</style><p>Kept</p>"
        "<script type='text/javascript'>if (a < b) { alert('x') }</script>"
        "<!-- a <p>comment</p> --><template><p>hidden</p></template><p>Also kept</p><?php echo 1 ?>"
    )
    assert html_to_text(markup) == "Kept\n\nAlso kept"


def test_entities_are_decoded_after_tags_are_gone() -> None:
    markup = (
        "<p>&lt;b&gt; is a tag &amp; &quot;quotes&quot; &#8220;curly&#x201D; &eacute; &nbsp;x</p>"
    )
    assert html_to_text(markup) == '<b> is a tag & "quotes" “curly” é x'


def test_lists_and_tables_become_paragraphs() -> None:
    markup = "<ul><li>one</li><li>two</li></ul><table><tr><th>a</th><td>b</td></tr></table>"
    assert html_to_text(markup) == "one\n\ntwo\n\na b"


def test_attribute_values_holding_angle_brackets() -> None:
    markup = '<p><img alt="a > b" src="x.png"> after <a title=\'1>0\'>link</a></p>'
    assert html_to_text(markup) == "after link"


def test_unclosed_and_stray_markup_keeps_the_text() -> None:
    assert html_to_text("<p>open <b>bold <i>both") == "open bold both"
    assert html_to_text("a < b and c > d, <p>x") == "a < b and c > d,\n\nx"
    # Never closed: a literal tag in prose far more often than a cut-off script.
    assert html_to_text("<script>never closed") == "never closed"
    assert html_to_text("text <!-- never closed") == "text"


def test_cdata_markers_are_removed() -> None:
    assert html_to_text("<p><![CDATA[inside]]></p>") == "inside"


def test_text_without_markup_keeps_its_paragraphs() -> None:
    assert html_to_text("One\n\n\n  Two &amp; three\r\nfour") == "One\n\nTwo & three\nfour"
    assert plain_text("  a  b \r\n\r\n\n  c\nd  ") == "a b\n\nc\nd"


def test_marks_in_the_input_do_not_become_breaks() -> None:
    assert html_to_text("<b>a\x01b\x02c</b>") == "a b c"


@pytest.mark.parametrize(
    "markup",
    [
        *("<a" * 50_000, '<a href="' * 50_000, "<!--" * 50_000, "<script>" * 50_000),
        *("<p x='" * 50_000, '<script x="' * 50_000, "<svg/>" * 50_000, '<a x="y>' * 50_000),
        *("<EOF x=" * 50_000, "<Vec<" * 50_000, "</script>" * 50_000),
    ],
)
def test_hostile_markup_stays_linear(markup: str) -> None:
    started = time.perf_counter()
    html_to_text(markup)
    assert time.perf_counter() - started < 15  # linear: well under 1 s; quadratic: minutes


@given(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))))
def test_escaped_text_comes_back_word_for_word(text: str) -> None:
    assert html_to_text(html.escape(text)).split() == text.split()


# NUL and lone surrogates are left out: HTML5 and our text cleaning drop them.
_PROSE = st.characters(blacklist_characters="<>&\x00\x01\x02", blacklist_categories=("Cs",))


@given(st.lists(st.text(alphabet=_PROSE), max_size=5))
def test_paragraph_tags_separate_paragraphs(paragraphs: list[str]) -> None:
    markup = "".join(f"<p>{p}</p>" for p in paragraphs)
    expected = [" ".join(p.split()) for p in paragraphs if p.split()]
    assert html_to_text(markup).split("\n\n") == (expected or [""])


@given(st.text())
def test_any_markup_gives_tidy_text_without_marks(text: str) -> None:
    result = html_to_text(f"<b>{text}</b>")
    assert "\x01" not in result and "\x02" not in result
    assert result == result.strip()


@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=200))
def test_any_input_gives_text_never_an_error(text: str) -> None:
    """Lone surrogates (JSON Feed can carry them) and NULs included."""
    for markup in (text, f"<p>{text}</p><script/>{text}", f'<a href="{text}>{text}'):
        assert isinstance(html_to_text(markup), str)


_SPACED = st.lists(
    st.sampled_from([" ", "\n", "\t", "\xa0", "\u2003", "\r", "a", "é", "\u200b", "b c"])
)


@given(st.builds("".join, _SPACED))
def test_plain_text_folds_each_line_and_keeps_paragraphs(text: str) -> None:
    """Paragraphs at blank lines, lines kept, every whitespace run inside a line one
    space, nothing at either end; a line already folded comes out as it went in."""
    text = text.replace("\r", "")  # (carriage returns are line breaks: tested above)
    paragraphs = []
    for block in re.split(r"\n[^\S\n]*\n", text):
        lines = [" ".join(line.split()) for line in block.split("\n")]
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    assert plain_text(text) == "\n\n".join(paragraphs)
