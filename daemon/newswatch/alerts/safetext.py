"""Feed text made safe for chat and push messages (pure functions).

Titles, snippets and links come from feeds, that is from anyone: a title could
carry a line break to forge a second line, bidi overrides to reverse what is
shown, markdown to fake a link or mention, or a `javascript:` link. Here titles
become one line of plain characters, only http(s) links are kept, and text put
into markdown has every character that markdown gives meaning to escaped.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

TITLE_MAX = 250
# C0/C1 controls, line and paragraph separators, zero-width and bidi controls
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")
_LEADING_LIST = re.compile(r"^(\s*(?:\d+(?=\.))?)([-.])")


def one_line(text: str, limit: int = TITLE_MAX) -> str:
    """`text` on one line: control characters become spaces, runs of space one space."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def http_link(url: str | None) -> str | None:
    """The URL if it is http(s) with a host, with characters that end a markdown link
    (`(`, `)`, `<`, `>`, spaces) percent-encoded; None for any other URL."""
    if not url:
        return None
    url = url.strip()
    if _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(url, safe="/:?#[]@!$&'*+,;=%~-._")


def markdown_text(text: str, limit: int = 1000) -> str:
    """Untrusted text as literal markdown on one line: nothing in it formats, links or quotes."""
    escaped = _MARKDOWN.sub(r"\\\1", one_line(text, limit))
    return _LEADING_LIST.sub(r"\1\\\2", escaped)
