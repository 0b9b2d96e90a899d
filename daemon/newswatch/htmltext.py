"""HTML fragments from feeds -> readable plain text.

An HTML5 parser (lexbor, through selectolax) builds the tree, as a browser
would, so an unclosed `<p>`, a stray `<head>` or `<select>` in prose, or a
3,000-character attribute costs no text. Three repairs run first, because feed
bodies are often XML-serialised or carelessly escaped HTML:

- `<script/>`, `<iframe/>`, `<style/>`, `<title/>`, `<template/>` ... are not
  self-closing in HTML5: their content, raw text up to a closing tag that never
  comes, would swallow the rest of the entry. Such a tag, and one of these that
  is never closed at all, becomes an empty element.
- An attribute value whose closing quote is missing (`<a href="x>link</a> ...`)
  would run on to the next quote; it is closed at the tag's `>`.
- `<EOF`, `<Vec` ... (a name no element has) running into the next `<` before
  any `>` is text that was not escaped (code, generics), not a tag.

Scripts, styles, templates, SVG, MathML and iframes are dropped; `<noscript>`
and `<object>` fallback text is kept (often the only readable content).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable

from selectolax.lexbor import LexborHTMLParser, LexborNode

_BLOCK_TAGS = (
    *("p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table"),
    *("blockquote", "pre", "hr", "section", "article", "aside", "header", "footer", "nav"),
    *("main", "figure", "figcaption", "dl", "dt", "dd", "thead", "tbody", "tfoot"),
    *("address", "details", "summary", "form", "fieldset", "center", "caption", "legend"),
)
_DROPPED_TAGS = ("script", "style", "template", "svg", "math", "iframe", "noembed", "noframes")
_BLOCKS = frozenset(_BLOCK_TAGS)
_DROPPED = frozenset(_DROPPED_TAGS)
_CELLS = frozenset(("td", "th", "option"))

# Paragraph and line-break marks: control characters that XML cannot carry.
_BLOCK = "\x01"
_LINE = "\x02"
_BLOCK_NODE = _BLOCK.encode()  # bytes: selectolax skips encoding them for each node
_LINE_NODE = _LINE.encode()

# Elements whose content HTML5 reads as raw text (or, for template, svg and
# math, as a subtree we drop): an XML-style `<x/>` or a never-closed `<x>` of
# these would take the rest of the fragment with it.
_SWALLOWING = (
    *("script", "style", "iframe", "textarea", "title", "xmp", "noembed", "noframes"),
    *("plaintext", "template", "svg", "math"),
)
# A start tag up to its `>` (quoted values may hold `>`), or to where it stops
# being one. Possessive, and resumed after each match: linear on any input.
_OPEN = r"<({names})(?=[\s/>])([^\"'>]*+(?:(?:\"[^\"]*+\"|'[^']*+')[^\"'>]*+)*+)(>?)"
_CLOSE = r"</({names})(?=[\s/>])"
_RAW_TEXT = frozenset(_SWALLOWING)
_SWALLOWING_RE = re.compile(rf"<({'|'.join(_SWALLOWING)})(?=[\s/>])", re.IGNORECASE)
# `="value>` whose closing quote does not come before the next tag, or comes
# right after the `>` and is followed by a word (`href="x/>"Title</a>`).
_UNCLOSED_QUOTE_RE = re.compile(
    r"=[^\S\n]*+(?:(?P<quote>\")[^\"<>]*+(?=>(?:[^\"<]*+(?:<|\Z)|\"[^\s/>]))"
    r"|'[^'<>]*+(?=>(?:[^'<]*+(?:<|\Z)|'[^\s/>])))"
)
# `<EOF ...` or `Result<Vec<T>>`: text, not a tag. A name no HTML element has
# (capitals, dots) that runs into the next `<` before its `>`.
_NOT_A_TAG_RE = re.compile(
    r"<(?=[A-Z]|[a-z][a-z0-9-]*+[^a-z0-9\s/<>-])[^\s/<>]++"
    r"(?:=\s*+(?:\"[^\"<]*+\"|'[^'<]*+')|[^<>])*+(?=<)"
)
_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n")


def html_to_text(markup: str) -> str:
    """Readable text: paragraphs as blocks separated by a blank line, `<br>` as a newline.

    Scripts, styles, comments and all markup are dropped and entities decoded;
    whitespace inside a paragraph collapses to single spaces, as a browser shows
    it; items of a numbered list are numbered.
    """
    if "<" not in markup:
        return plain_text(html.unescape(markup) if "&" in markup else markup)
    if _BLOCK in markup or _LINE in markup:
        markup = markup.replace(_BLOCK, " ").replace(_LINE, " ")
    if "<![CDATA[" in markup:
        markup = markup.replace("<![CDATA[", "").replace("]]>", "")
    return _assemble(_body_text(_repaired(markup)).split(_BLOCK), _LINE)


def plain_text(text: str) -> str:
    """Text that is plain already: its lines and blank-line paragraphs kept, spaces tidied."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _assemble(_BLANK_LINE_RE.split(text), "\n")


def _body_text(markup: str) -> str:
    """The marked text of the body; parsed again with raw-text elements emptied
    when the first tree holds any (one entry in twenty: the search costs as much
    as the parse, so it runs only then). `<title/>` first in a fragment goes to
    the head and takes the rest with it, so a head with children counts too."""
    tree = LexborHTMLParser(markup)
    if tree.body is None:
        return ""
    text, raw = _marked_text(tree.body)
    if raw or (tree.head is not None and tree.head.child is not None):
        emptied = _emptied(markup)
        if emptied != markup:
            body = LexborHTMLParser(emptied).body
            text = "" if body is None else _marked_text(body)[0]
    return text


def _repaired(markup: str) -> str:
    """The markup with the quote and not-a-tag repairs of the module docstring."""
    if "=" in markup and ('"' in markup or "'" in markup):
        markup = _UNCLOSED_QUOTE_RE.sub(_close_quote, markup)
    return _NOT_A_TAG_RE.sub(_as_text, markup)


def _as_text(match: re.Match[str]) -> str:
    return "&lt;" + match.group()[1:]


def _close_quote(match: re.Match[str]) -> str:
    return match.group() + (match.group("quote") or "'")


def _emptied(markup: str) -> str:
    """Each `<x/>` and never-closed `<x>` of the raw-text elements made `<x></x>`."""
    names = tuple(sorted({name.lower() for name in _SWALLOWING_RE.findall(markup)}))
    if not names:
        return markup
    opening, closing = _tag_patterns(names)
    last_close = {m.group(1).lower(): m.start() for m in closing.finditer(markup)}
    pieces: list[str] = []
    done = 0
    for tag in opening.finditer(markup):
        name, attributes, end = tag.group(1).lower(), tag.group(2), tag.group(3)
        closed = last_close.get(name, -1) > tag.end() and name != "plaintext"
        if end and closed and not attributes.endswith("/"):
            continue
        pieces += (markup[done : tag.start()], f"<{name}{attributes.rstrip('/')}></{name}>")
        done = tag.end()
    pieces.append(markup[done:])
    return "".join(pieces)


@functools.cache
def _tag_patterns(names: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    alternatives = "|".join(names)
    return (
        re.compile(_OPEN.format(names=alternatives), re.IGNORECASE),
        re.compile(_CLOSE.format(names=alternatives), re.IGNORECASE),
    )


def _marked_text(body: LexborNode) -> tuple[str, bool]:
    """The body's text with block and line marks where the markup breaks it, and
    whether it held raw-text elements. One walk over the elements in Python:
    cheaper than a CSS query per kind of mark."""
    dropped = []
    raw = False
    for node in body.traverse():
        tag = node.tag
        if tag in _BLOCKS:
            node.insert_before(_BLOCK_NODE)
            node.insert_after(_BLOCK_NODE)
            if tag == "ol":
                _number_items(node)
        elif tag in _DROPPED:
            dropped.append(node)
        elif tag == "br":
            node.insert_before(_LINE_NODE)
        elif tag in _CELLS:
            node.insert_before(b" ")
        elif tag in _RAW_TEXT:
            raw = True
    for node in dropped:
        node.decompose()
    return body.text(deep=True, separator=""), raw or bool(dropped)


def _number_items(ordered: LexborNode) -> None:
    """Put "1. ", "2. " ... before the items of a numbered list (start, reversed, value)."""
    items = [child for child in ordered.iter() if child.tag == "li"]
    step = -1 if "reversed" in ordered.attributes else 1
    number = _integer(ordered.attributes.get("start"), len(items) if step < 0 else 1)
    for item in items:
        number = _integer(item.attributes.get("value"), number)
        first = item.first_child
        if first is None:
            item.insert_child(f"{number}.")
        else:
            first.insert_before(f"{number}. ")
        number += step


def _integer(value: str | None, default: int) -> int:
    try:
        return int(value.strip()) if value else default
    except ValueError:
        return default


def _assemble(blocks: Iterable[str], line_break: str) -> str:
    """The blocks as paragraphs (lines at `line_break`), whitespace folded to single
    spaces, empty ones dropped. Most blocks of text are folded already: one whose
    only whitespace is single spaces inside it (every other whitespace character is
    unprintable) is kept as it is, not split into words and joined again."""
    paragraphs = []
    for block in blocks:
        if line_break in block:
            lines = (" ".join(line.split()) for line in block.split(line_break))
            paragraph = "\n".join(line for line in lines if line)
            if paragraph:
                paragraphs.append(paragraph)
        elif block.isprintable() and "  " not in block:
            if block[:1] == " " or block[-1:] == " ":
                block = block.strip(" ")
            if block:
                paragraphs.append(block)
        elif block and not block.isspace():
            paragraphs.append(" ".join(block.split()))
    return "\n\n".join(paragraphs)
