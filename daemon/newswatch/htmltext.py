"""HTML fragments from feeds -> readable plain text.

A few compiled regular expressions instead of an HTML parser: feed bodies are
on the hot path, and these passes run in C (`bench/bench_feeds.py` compares
them with a stdlib `html.parser` version). Nothing here needs well-formed
input: an unclosed tag or a stray `<` costs the markup around it, never the text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

_BLOCK_TAGS = (
    *("p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table"),
    *("blockquote", "pre", "hr", "section", "article", "aside", "header", "footer", "nav"),
    *("main", "figure", "figcaption", "dl", "dt", "dd", "thead", "tbody", "tfoot"),
    *("address", "details", "summary", "form", "fieldset", "center"),
)
_DROPPED_TAGS = (
    *("script", "style", "noscript", "template", "svg", "math", "iframe", "object"),
    *("head", "select"),
)

# Paragraph and line-break marks: control characters that XML cannot carry.
_BLOCK = "\x01"
_LINE = "\x02"


def _anycase(text: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in text)


def _trie(words: Iterable[str]) -> str:
    """An alternation factored on leading letters, in either case.

    `re` tries the branches of an alternation one by one; factored, a tag that
    is not a block tag fails on its first letter (about 1.7x faster than IGNORECASE).
    """
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(word[1:])
    branches = []
    for first, rests in groups.items():
        tails = [rest for rest in rests if rest]
        if not tails:
            branches.append(_anycase(first))
            continue
        optional = "?" if len(tails) < len(rests) else ""
        branches.append(f"{_anycase(first)}(?:{_trie(tails)}){optional}")
    return "|".join(branches)


# A quoted attribute value may hold `>`; its length is bounded so a lone quote
# cannot make the scan from every `<` run to the end of the text.
_TAG_BODY = r"[^<>\"']*(?:(?:\"[^\"]{0,2000}\"|'[^']{0,2000}')[^<>\"']*)*"
_DROPPED_RE = re.compile(
    r"<(?:!--.*?(?:-->|\Z)"
    rf"|({'|'.join(_DROPPED_TAGS)})\b.*?(?:</\1\s*>|\Z)"
    r"|!\[CDATA\[|![^>]*(?:>|\Z)|\?[^>]*(?:>|\Z))",
    re.DOTALL | re.IGNORECASE | re.ASCII,
)
_LINE_RE = re.compile(rf"<{_anycase('br')}\b{_TAG_BODY}>")
_BLOCK_RE = re.compile(rf"</?(?:{_trie(_BLOCK_TAGS)})\b{_TAG_BODY}>")
_CELL_RE = re.compile(rf"</?(?:{_trie(['td', 'th'])})\b{_TAG_BODY}>")
_ANY_TAG_RE = re.compile(rf"</?[A-Za-z][^\s/<>]*{_TAG_BODY}>")
_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n")


def html_to_text(markup: str) -> str:
    """Readable text: paragraphs as blocks separated by a blank line, `<br>` as a newline.

    Scripts, styles, comments and all markup are dropped and entities decoded;
    whitespace inside a paragraph collapses to single spaces, as a browser shows it.
    """
    if "<" not in markup:
        return plain_text(html.unescape(markup) if "&" in markup else markup)
    if _BLOCK in markup or _LINE in markup:
        markup = markup.replace(_BLOCK, " ").replace(_LINE, " ")
    text = _DROPPED_RE.sub(" ", markup)
    if "]]>" in text:
        text = text.replace("]]>", "")
    text = _LINE_RE.sub(_LINE, text)
    text = _BLOCK_RE.sub(_BLOCK, text)
    text = _CELL_RE.sub(" ", text)
    text = _ANY_TAG_RE.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return _assemble(text.split(_BLOCK), _LINE)


def plain_text(text: str) -> str:
    """Text that is plain already: its lines and blank-line paragraphs kept, spaces tidied."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _assemble(_BLANK_LINE_RE.split(text), "\n")


def _assemble(blocks: Iterable[str], line_break: str) -> str:
    paragraphs = []
    for block in blocks:
        if line_break in block:
            lines = (" ".join(line.split()) for line in block.split(line_break))
            paragraph = "\n".join(line for line in lines if line)
        else:
            paragraph = " ".join(block.split())
        if paragraph:
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)
