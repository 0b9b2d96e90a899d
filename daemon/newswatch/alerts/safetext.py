"""Feed text made safe for every alert channel (pure functions, the one place for it).

Titles, snippets, names and links come from feeds, that is from anyone: a title
could carry a line break to forge a header or a second chat line, bidi
overrides or zero-width characters to change what is shown, markdown to fake a
link or mention, or a `javascript:` link.

- `clean_line`: any text as one line of plain characters (e-mail headers and
  bodies, chat titles, webhook and log messages).
- `safe_link`: a URL only when it is an absolute http(s) link without spaces
  or control characters (every channel links nothing else).
- `markdown_text`, `markdown_link`: the same for chat markdown, where every
  character markdown gives meaning to is escaped, and the characters that
  would end a link are percent-encoded (only there: e-mail shows URLs as given).
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

# C0 and C1 controls, DEL, zero-width and directional marks, line/paragraph
# separators, bidi embeddings, overrides and isolates
_CONTROLS = "\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROLS}]")
# what `clean_line` would change: controls, whitespace but a single space, edges
_UNCLEAN = re.compile(f"[{_CONTROLS}]|[^\\S ]|  |^ | $")
_SPACE_OR_CONTROL = re.compile(f"[\\s{_CONTROLS}]")
_LINK_SCHEMES = frozenset({"http", "https"})
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")
_LEADING_LIST = re.compile(r"^(\s*(?:\d+(?=\.))?)([-.])")
# what a markdown link destination may hold as it is; the rest is percent-encoded
_LINK_SAFE = "/:?#[]@!$&'*+,;=%~-._"


def clean_line(text: str, limit: int | None = None) -> str:
    """`text` on one line: control, zero-width and bidi characters and line breaks become
    spaces, runs of whitespace one space; cut to `limit` characters with "…" if given."""
    if _UNCLEAN.search(text):
        text = " ".join(_CONTROL.sub(" ", text).split())
    if limit is None or len(text) <= limit:
        return text  # the usual case, without building a new string
    return text[: limit - 1].rstrip() + "…"


def safe_link(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link without spaces or controls, else None
    (a `javascript:` or `data:` URL is shown as text, never linked)."""
    if not url:
        return None
    url = url.strip()
    if _SPACE_OR_CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in _LINK_SCHEMES or not parts.hostname:
        return None
    return url


def markdown_link(url: str | None) -> str | None:
    """`safe_link(url)` fit for a markdown link's target: the characters that would end it
    (`(`, `)`, `<`, `>`, `\\`...) and non-ASCII ones percent-encoded; None as there."""
    link = safe_link(url)
    return quote(link, safe=_LINK_SAFE) if link is not None else None


def markdown_escape(text: str) -> str:
    """`text` with every character markdown gives meaning to escaped (not flattened)."""
    return _MARKDOWN.sub(r"\\\1", text)


def markdown_line(text: str) -> str:
    """An already escaped line that cannot start a list either (`- `, `1. `)."""
    return _LEADING_LIST.sub(r"\1\\\2", text)


def markdown_text(text: str, limit: int = 1000) -> str:
    """Untrusted text as literal markdown on one line: nothing in it formats, links or quotes."""
    return markdown_line(markdown_escape(clean_line(text, limit)))
