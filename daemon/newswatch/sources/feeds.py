"""Feed bodies -> raw items: pure, no network, no clock.

feedparser reads RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and RDF from the bytes the
fetcher got; JSON Feed goes to `jsonfeed`. Before feedparser sees a body we
settle its character set ourselves (`charset.decode_body`), so a feed served
with a wrong or missing charset still reads right, and we tell HTML pages and
empty bodies apart from feeds with a clear message.

feedparser itself is driven in `feedxml`. A feed of no entries is either
empty or unreadable: `itemscan` counts the item-like elements the parser
could not read, so none is lost without a word.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from newswatch.htmltext import html_to_text, plain_text
from newswatch.model import RawItem
from newswatch.normalize import MAX_TEXT_CHARS
from newswatch.sources import cp1252
from newswatch.sources.charset import decode_body
from newswatch.sources.fastxml import fast_parse
from newswatch.sources.feedxml import LINK_TEXTS, MEDIA_TEXT, MEDIA_TITLE, run_feedparser
from newswatch.sources.itemscan import lost_items
from newswatch.sources.plainurls import joins_to_itself

MAX_KEY_LENGTH = 500
# An entry's content is read up to this much markup: its text is cut to
# MAX_TEXT_CHARS anyway, and turning 10 MB into text costs ~10x that in memory.
MAX_MARKUP_CHARS = 2 * MAX_TEXT_CHARS
cp1252.install()

_HTML_ROOT = re.compile(
    rb"^\s*(?:<\?[^>]*>\s*|<!--.*?-->\s*|<!doctype[^>]*>\s*)*<(?:html|head|body)\b",
    re.IGNORECASE | re.DOTALL,
)
_HTML_HINT = re.compile(rb"<!doctype\s+html|<html\b", re.IGNORECASE)
_FEED_LINK = re.compile(
    rb"<link\b[^>]*\btype\s*=\s*[\"']?application/(?:rss|atom|feed)\+(?:xml|json)[^>]*>",
    re.IGNORECASE,
)
_HREF = re.compile(rb"\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a feed body held: its title, its items, and why it was malformed, if it was.

    `unreadable` says why a feed of no items has item elements all the same
    (items the parser could not read); a feed with neither is just empty.
    """

    title: str | None
    items: list[RawItem]
    bozo: str | None = None
    unreadable: str | None = None


class FeedParseError(Exception):
    """The body is not a feed at all (HTML page, empty, nothing parseable)."""


def parse_feed(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    source: str,
    fetched_at: datetime,
    fast: bool = True,
) -> ParsedFeed:
    """Parse one feed body; raise FeedParseError when it holds no feed at all.

    `fast` lets well-formed, plain feeds go through `fastxml`; without it (or
    when the fast path declines a body) feedparser, the reference, reads it.
    """
    fetched_at = as_utc(fetched_at)
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise FeedParseError(f"{url}: the server sent an empty body instead of a feed")
    if _is_json(head, headers):
        from newswatch.sources.jsonfeed import parse_json_feed  # it builds on this module

        return parse_json_feed(body, url=url, source=source, fetched_at=fetched_at)
    if _HTML_ROOT.match(head):
        raise FeedParseError(_html_page_message(body, url))
    data, warning = decode_body(body, headers.get("content-type", ""))
    mapper = _EntryMapper(url=url, source=source, fetched_at=fetched_at)
    quick = fast_parse(data) if fast else None
    if quick is not None:
        feed, entries = quick
        items = mapper.items(feed, entries)
        return ParsedFeed(title=_title(feed) or None, items=items, bozo=warning)
    language = headers.get("content-language")
    return _parse_xml(body, data, warning, url=url, language=language, mapper=mapper)


def _is_json(head: bytes, headers: Mapping[str, str]) -> bool:
    if head.startswith((b"{", b"[")):
        return True
    content_type = headers.get("content-type", "").lower()
    return "json" in content_type and not head.startswith(b"<")


def _html_page_message(body: bytes, url: str) -> str:
    message = f"{url}: this is an HTML page, not a feed"
    for tag in _FEED_LINK.finditer(body[:200_000]):
        href = _HREF.search(tag.group(0))
        if href:
            raw = next(part for part in href.groups() if part is not None)
            target = urljoin(url, raw.decode("utf-8", "replace").strip())
            return f"{message}; the page names its feed: use {target}"
    return f"{message}; use the address of the site's RSS or Atom feed instead"


def _parse_xml(
    body: bytes,
    data: bytes,
    warning: str | None,
    *,
    url: str,
    language: str | None,
    mapper: _EntryMapper,
) -> ParsedFeed:
    """feedparser's reading of `data` (the body as UTF-8), malformed feeds included."""
    handler, version, problem = run_feedparser(data, language)
    entries: list[dict[str, Any]] = handler.entries
    feed: dict[str, Any] = handler.feeddata
    lost = lost_items(data, len(entries), problem)
    if not version and not entries and lost is None:
        if _HTML_HINT.search(body[:4096]):
            raise FeedParseError(_html_page_message(body, url))
        reason = f": {problem}" if problem else ": no RSS, Atom or RDF elements found"
        raise FeedParseError(f"{url}: not a feed{reason}")
    unreadable = lost if lost and not entries else None
    notes = (warning, problem, lost if entries else None)
    bozo = "; ".join(note for note in notes if note) or None
    items = mapper.items(feed, entries)
    return ParsedFeed(title=_title(feed) or None, items=items, bozo=bozo, unreadable=unreadable)


class _EntryMapper:
    """Entries in feedparser's shape -> RawItem, with the feed's URL and authors as fallbacks."""

    def __init__(self, *, url: str, source: str, fetched_at: datetime):
        self.url = url
        self.source = source
        self.fetched_at = fetched_at
        self.feed_authors: tuple[str, ...] = ()

    def items(self, feed: dict[str, Any], entries: list[dict[str, Any]]) -> list[RawItem]:
        self.feed_authors = _authors(feed)
        return [self.item(entry) for entry in entries]

    def item(self, parsed: dict[str, Any]) -> RawItem:
        entry = dict(parsed)  # plain lookups: FeedParserDict maps "updated" to "published"
        title = _title(entry) or _title(entry, MEDIA_TITLE)
        body = _body(entry) or _media_text(entry)
        link = entry_link(self.url, entry)
        published = _entry_date(entry)
        date_text = entry.get("published") or entry.get("updated") or ""
        return RawItem(
            source=self.source,
            key=item_key(entry.get("id"), link, title, date_text, body),
            title=title,
            body=body,
            url=link,
            published=published or self.fetched_at,
            authors=_authors(entry) or self.feed_authors,
            categories=_categories(entry),
        )


def item_key(guid: Any, link: str | None, title: str, date_text: str, body: str) -> str:
    """The entry's identity: its GUID, else its link, else a hash of title and date."""
    for candidate in (guid, link):
        if isinstance(candidate, str | int) and str(candidate).strip():
            key = str(candidate).strip()
            return key if len(key) <= MAX_KEY_LENGTH else _digest(key)
    basis = f"{title}\n{date_text}" if title or date_text else body[:2000]
    return _digest(basis)


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:40]


def entry_link(base: str, entry: dict[str, Any]) -> str | None:
    """The entry's first usable (http or https) link: `link`, then its other
    alternate links, then the text of a `<link>` whose attribute was unusable."""
    return next(filter(None, (resolve_link(base, c) for c in _link_candidates(entry))), None)


def _link_candidates(entry: dict[str, Any]) -> Iterator[Any]:
    yield entry.get("link")
    for link in entry.get("links") or ():
        if isinstance(link, dict) and link.get("rel", "alternate") == "alternate":
            yield link.get("href")
    yield from entry.get(LINK_TEXTS) or ()


def resolve_link(base: str, link: Any) -> str | None:
    """An entry link made absolute against the feed URL; None unless it is http(s)."""
    if not isinstance(link, str) or not link.strip():
        return None
    stripped: str = link.strip()
    try:
        if joins_to_itself(stripped):  # most links: already absolute, given back as they are
            urlsplit(base)  # all urljoin reads of the base: raises where urljoin does
            return stripped
        absolute = urljoin(base, stripped)
    except ValueError:
        return None
    return absolute if absolute.lower().startswith(("http://", "https://")) else None


def _title(node: dict[str, Any], key: str = "title") -> str:
    title = (node.get(key) or "")[:MAX_MARKUP_CHARS]
    detail = node.get(f"{key}_detail") or {}
    if "html" in (detail.get("type") or "") and ("<" in title or "&" in title):
        title = html_to_text(title)
    return " ".join(title.split())


def _body(entry: dict[str, Any]) -> str:
    """Full content when it has some text, else the summary, as plain text."""
    contents = [c for c in entry.get("content") or () if _has_text(c.get("value"))]
    if contents:
        best = max(contents, key=lambda c: len(c.get("value") or ""))
        text = _text(best.get("value") or "", best.get("type"))
        if _has_text(text):
            return text  # else markup of no text ("<p></p>"): the summary has the words
    detail = entry.get("summary_detail") or {}
    return _text(entry.get("summary") or "", detail.get("type"))


def _has_text(value: str | None) -> bool:
    """`bool(value.strip())` without copying a long content to strip it."""
    return value is not None and value != "" and not value.isspace()


def _media_text(entry: dict[str, Any]) -> str:
    """The text of the entry's Media RSS description or iTunes summary: a fallback only
    (in a news feed it is a photo's caption, not the article)."""
    detail = entry.get(f"{MEDIA_TEXT}_detail") or {}
    return _text(entry.get(MEDIA_TEXT) or "", detail.get("type"))


def _text(value: str, content_type: str | None) -> str:
    value = value[:MAX_MARKUP_CHARS]
    if content_type == "text/plain":
        return plain_text(value)
    return html_to_text(value)


def _entry_date(entry: dict[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if isinstance(parsed, time.struct_time):
            try:
                return datetime(*parsed[:6], tzinfo=UTC)
            except (ValueError, OverflowError):
                continue
    return None


def _authors(node: dict[str, Any]) -> tuple[str, ...]:
    names = [a.get("name") or a.get("email") or "" for a in node.get("authors") or ()]
    if not any(names) and isinstance(node.get("author"), str):
        names = [node["author"]]
    return tuple(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def _categories(entry: dict[str, Any]) -> tuple[str, ...]:
    terms = [t.get("term") or t.get("label") or "" for t in entry.get("tags") or ()]
    return tuple(dict.fromkeys(t.strip() for t in terms if t and t.strip()))


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
