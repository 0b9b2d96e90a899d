"""HTML fragments from feeds -> readable plain text.

An HTML5 parser (lexbor, through selectolax) builds the tree, as a browser
would, so an unclosed `<p>`, a stray `<head>` or `<select>` in prose, or a
3,000-character attribute costs no text. Two repairs run first, because feed
bodies are often XML-serialised HTML, which HTML5 reads differently:

- `<script/>`, `<iframe/>`, `<style/>`, `<title/>`, `<template/>` ... are not
  self-closing in HTML5: their content, raw text up to a closing tag that never
  comes, would swallow the rest of the entry. Such a tag, and one of these that
  is never closed at all, becomes an empty element.
- An attribute value whose closing quote is missing (`<a href="x>link</a> ...`)
  would run on to the next quote; it is closed at the tag's `>`.

Scripts, styles, templates, SVG, MathML and iframes are dropped; `<noscript>`
and `<object>` fallback text is kept (often the only readable content).
"""

from __future__ import annotations

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
_BLOCK_SELECTOR = ",".join(_BLOCK_TAGS)
_DROPPED_SELECTOR = ",".join(_DROPPED_TAGS)

# Paragraph and line-break marks: control characters that XML cannot carry.
_BLOCK = "\x01"
_LINE = "\x02"

# Elements whose content HTML5 reads as raw text (or, for template, svg and
# math, as a subtree we drop): an XML-style `<x/>` or a never-closed `<x>` of
# these would take the rest of the fragment with it.
_SWALLOWING = (
    *("script", "style", "iframe", "textarea", "title", "xmp", "noembed", "noframes"),
    *("plaintext", "template", "svg", "math"),
)
_NAMES = "|".join(_SWALLOWING)
# A start tag up to its `>` (quoted values may hold `>`), or to where it stops
# being one. Possessive, and resumed after each match: linear on any input.
_OPEN_RE = re.compile(
    rf"<({_NAMES})(?=[\s/>])([^\"'>]*+(?:(?:\"[^\"]*+\"|'[^']*+')[^\"'>]*+)*+)(>?)",
    re.IGNORECASE,
)
_CLOSE_RE = re.compile(rf"</({_NAMES})(?=[\s/>])", re.IGNORECASE)
# `="value>` with no closing quote before the tag's text and the next tag.
_UNCLOSED_QUOTE_RE = re.compile(r"(=[^\S\n]*+([\"'])[^\"'<>]*+)(?=>[^\"'<>]*(?:<|\Z))")
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
    body = LexborHTMLParser(_repaired(markup)).body
    if body is None:
        return ""
    return _assemble(_marked_text(body).split(_BLOCK), _LINE)


def plain_text(text: str) -> str:
    """Text that is plain already: its lines and blank-line paragraphs kept, spaces tidied."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _assemble(_BLANK_LINE_RE.split(text), "\n")


def _repaired(markup: str) -> str:
    """The markup with the two repairs of the module docstring applied."""
    if "=" in markup and ('"' in markup or "'" in markup):
        markup = _UNCLOSED_QUOTE_RE.sub(r"\1\2", markup)
    opened = list(_OPEN_RE.finditer(markup))
    if not opened:
        return markup
    last_close = {m.group(1).lower(): m.start() for m in _CLOSE_RE.finditer(markup)}
    pieces: list[str] = []
    done = 0
    for tag in opened:
        name, attributes, end = tag.group(1).lower(), tag.group(2), tag.group(3)
        closed = last_close.get(name, -1) > tag.end() and name != "plaintext"
        if end and closed and not attributes.endswith("/"):
            continue
        pieces += (markup[done : tag.start()], f"<{name}{attributes.rstrip('/')}></{name}>")
        done = tag.end()
    pieces.append(markup[done:])
    return "".join(pieces)


def _marked_text(body: LexborNode) -> str:
    """The body's text with block and line marks where the markup breaks it."""
    for node in body.css(_DROPPED_SELECTOR):
        node.decompose()
    for node in body.css("br"):
        node.replace_with(_LINE)
    for cell in body.css("td,th,option"):
        cell.insert_before(" ")
    for ordered in body.css("ol"):
        _number_items(ordered)
    for node in body.css(_BLOCK_SELECTOR):
        node.insert_before(_BLOCK)
        node.insert_after(_BLOCK)
    return body.text(deep=True, separator="")


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
