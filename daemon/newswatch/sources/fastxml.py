"""The fast parse path: fastfeedparser for well-formed, plain feeds; feedparser for the rest.

feedparser (`feedxml`) is pure Python and was a third of a cold cycle's CPU
(issue 11); fastfeedparser (Rust core over lxml) reads the same well-formed
RSS 2.0 / Atom 1.0 / RDF with a fraction of the CPU. feedparser stays the
reference: every body the fast path is not sure to read the same way goes to
it. The gate works on the UTF-8 bytes `decode_body` made (the character set is
settled for both paths alike). Before parsing, a body goes to feedparser if:

- it is not well-formed XML (expat, the strict parser feedparser tries first,
  says so): fastfeedparser repairs differently and cuts text short;
- its root is not `rss`, `rdf:RDF` or an unprefixed Atom 1.0 `feed`;
- it has a DOCTYPE other than a bare `<!DOCTYPE name>` (entities
  `replace_doctype` handles), prefixed item elements (`itemscan`'s case), C1
  control characters (feedparser repairs them), several authors on one entry
  (but for one person named twice, as `author` and `dc:creator`),
  Media RSS or iTunes keywords, categories or authors (feedparser makes them tags or
  authors; fastfeedparser reads none), RSS 1.0 content:encoded,
  or Atom text constructs whose type varies between entries.

After parsing, if fastfeedparser raised or found no entries (feedparser then
names why), or an entry has no link while it has a link element (one
fastfeedparser dropped), or neither link nor its own guid or id in a form read
alike (feedparser takes a guid as the link unless isPermaLink is "false"), or
a relative link as its id that is not the text of its own guid or id element
(fastfeedparser makes an entry's link its id when it has none; feedparser then
gives no id), or no date while its text names one (an entry of the body's
dated ones that names none has none either way), or a date of unusual shape
that feedparser reads otherwise, or a relative link under `xml:base`, or the
feed-level author is needed and unread, or an entry with no text of its own
whose Media RSS fallback (media:description) fastfeedparser does not give as
exactly one text (it reads a nested one only with `include_media`), or a text
read is UTF-8 mojibake feedparser repairs.

The result is shaped as feedparser's entries are (the keys `feeds._EntryMapper`
reads), so one mapper makes RawItems of either.
"""

from __future__ import annotations

import html
import re
import sys
import time
import xml.parsers.expat
from datetime import UTC, datetime
from typing import Any, NamedTuple

from feedparser.mixin import _FeedParserMixin

from newswatch.sources.feedxml import MEDIA_TEXT

_C1_CONTROLS = re.compile(rb"\xc2[\x80-\x9f]")
# UTF-8 read as Latin-1 and encoded again ("Ã©" for "é"): feedparser re-decodes
# each element text made of Latin-1 characters only that is valid UTF-8 as bytes.
# A body holding this byte pattern may hold such a text (or only "é" and a
# no-break space): the texts read are checked (`_redecoded`).
_MOJIBAKE = re.compile(rb"\xc3[\x82-\xb4]\xc2[\x80-\xbf]")
# Several authors of one entry (fastfeedparser keeps the first).
_AUTHORS = re.compile(rb"</(?:\w+:)?(?:creator|author)>\s*<(?:\w+:)?(?:creator|author)\b")
# An author element of plain text (CDATA or not; no entity, no child element), and
# where its end tag starts.
_AUTHOR_TEXT = re.compile(
    rb"<(?:\w+:)?(?:creator|author)\b[^>]*>\s*(?:<!\[CDATA\[([^\]<&]*)\]\]>|([^<&]*))\s*"
    rb"(</)(?:\w+:)?(?:creator|author)>"
)
_FEED_AUTHOR = re.compile(rb"<(?:\w+:)?(?:creator|author)\b")
_FIRST_ENTRY = re.compile(rb"<(?:\w+:)?(?:item|entry)\b")
# What gives an entry a link or an id (feedparser takes a guid as the link too).
_IDENTIFIED = re.compile(rb"<(?:\w+:)?(?:link|guid|id)\b")
# An entry's guid or id element and its text (no CDATA section).
_OWN_ID = re.compile(rb"<(?:guid|id)\b([^>]*)>([^<]*)</(?:guid|id)>")
# Its attributes: none, or isPermaLink exactly "true" (feedparser then takes it as the
# entry's link too when it has none) or "false".
_PERMALINK = re.compile(rb"""\s*(?:(?i:isPermaLink)\s*=\s*(["'])(true|false)\1\s*)?""")
_LINK_ELEMENT = re.compile(rb"<(?:\w+:)?link\b")
_ENTRY_DATE = re.compile(rb"<(?:pubDate|published|updated)>([^<]*)</")
# Elements of other namespaces that feedparser maps onto tags or authors:
# fastfeedparser reads none of them, so feeds using them go to feedparser.
# (media:title, media:description and itunes:summary are fallbacks for an entry
# with no title or text of its own on both paths: `feedxml._MediaTextApart`.)
_MAPPED_ELSEWHERE = {
    b"http://search.yahoo.com/mrss": b"keywords|category",
    b"http://www.itunes.com/dtds/podcast-1.0.dtd": b"keywords|category|author",
}
# Texts both paths use only when an entry has none of its own; fastfeedparser
# reads them as the item's own only when they are its children, feedparser
# inside media:group and media:content too (`_nested_media_texts`).
_FALLBACK_TEXTS = {
    b"http://search.yahoo.com/mrss": b"title|description",
    b"http://www.itunes.com/dtds/podcast-1.0.dtd": b"summary",
}
_PREFIX_OF = re.compile(rb"""xmlns:([\w.-]+)\s*=\s*["']([^"']*)["']""")
# Atom 0.3 (searched as plain bytes: a regex alternation without a literal prefix
# costs more than the parse), prefixed items (one literal-first search for both
# names: `in` took 3x as long for the two, short needles ending in a common `>`).
# Entity declarations need no search of their own: only a DOCTYPE holds them, and
# any but a bare one (`_odd_doctype`) goes to feedparser.
_ATOM_03 = b"purl.org/atom/ns#"
_PREFIXED_ITEMS = re.compile(rb":(?:item|entry)>")
# A DOCTYPE with neither identifiers nor internal subset (`<!DOCTYPE html>`):
# `replace_doctype` drops it and there is nothing to expand. Any other goes to feedparser.
_DOCTYPE = b"<!DOCTYPE"
_BARE_DOCTYPE = re.compile(rb"<!DOCTYPE\s+[A-Za-z_][\w:.-]*\s*>")
_XML_BASE = b"xml:base"
# Atom text constructs with no type attribute are plain text (RFC 4287 3.1.1);
# fastfeedparser reports untyped content as HTML, and gives no type for a summary
# or a title: the body says which.
_ATOM_TYPE = re.compile(rb"<(?:\w+:)?(content|summary|title)\b([^>]*)>")
# CDATA sections, comments, processing instructions: what holds no element (in a
# well-formed body, read from the start, no one of them begins inside another).
_NOT_ELEMENTS = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|<\?.*?\?>", re.DOTALL)
_TYPE_ATTR = re.compile(rb"""\btype\s*=\s*["']([^"']*)""")
_ATOM_TYPES = {"text": "text/plain", "html": "text/html", "xhtml": "application/xhtml+xml"}
_EMAIL = re.compile(
    r"[\w.+-]+@(?:\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.|(?:[a-zA-Z0-9-]+\.)+)"
    r"(?:[a-zA-Z]{2,4}|[0-9]{1,3})\]?(?:\?subject=\S+)?"
)
_DATE = re.compile(rb"<(?:\w+:)?(?:pubDate|published|updated|date|issued|modified|created)\b")
_DATE_TEXT = re.compile(
    rb"<(?:\w+:)?(?:pubDate|published|updated|date|issued|modified|created)\b[^>]*>([^<]*)<"
)
# Date shapes both parsers read alike (the corpus test holds them to it); any
# other date text is read by feedparser too, and the fast dates must agree.
_PLAIN_DATE = re.compile(
    rb"\s*(?:(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} "
    rb"\d\d:\d\d(?::\d\d)? (?:[+-]\d{4}|GMT|UTC?)"
    rb"|\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d))\s*"
)


# RSS titles are plain text unless they look like HTML (feedparser's guess, `_title_type`).
_RSS_TYPES = {"title": None, "feed_title": None, "summary": "text/html", "content": None}


def _fastfeedparser() -> Any:
    """fastfeedparser (the parse path only: a worker imports it, the CLI never), with its
    optional fallback to dateparser ruled out.

    For a date dateutil cannot read, fastfeedparser tries `import dateparser` inside a
    function. dateparser is not ours to install, and a failed import is not cached:
    the whole path was searched again for each such entry. Undated entries are such
    entries (their guid is tried as a date): a 7 MB feed of 50,000 took 3.0 s to read,
    1.8 s of it in failed imports. None in `sys.modules` makes the import fail at once;
    and dateparser, were it installed, would read dates that feedparser, the reference,
    does not.
    """
    sys.modules.setdefault("dateparser", None)  # type: ignore[arg-type]
    import fastfeedparser

    return fastfeedparser


def fast_parse(data: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """(feed, entries) in feedparser's shape, or None when feedparser should read `data`."""
    if _ATOM_03 in data or _PREFIXED_ITEMS.search(data) or _uses(data, _MAPPED_ELSEWHERE):
        return None
    if _has_c1_controls(data) or _odd_doctype(data):
        return None
    if _AUTHORS.search(data) and not _one_person_each(data):
        return None
    root = root_element(data)
    if root not in ("rss", "rdf:RDF", "feed"):
        return None  # not well-formed, or a root (prefixed Atom, Atom 0.3...) left to feedparser
    if root == "rdf:RDF" and b":encoded>" in data:
        return None  # fastfeedparser reads RSS 1.0's description, not its content:encoded
    types = _atom_types(data) if root == "feed" else _RSS_TYPES
    if types is None:
        return None
    try:
        parsed = _fastfeedparser().parse(data, include_media=False, include_enclosures=False)
    except Exception:  # any failure here means: let feedparser read it
        return None
    entries = _entries(parsed.get("entries") or [], types, data)
    if not entries or (not _absolute_links(entries) and _XML_BASE in data):
        return None
    needs_media = not all(map(_has_own_text, entries)) and _uses(data, _FALLBACK_TEXTS)
    if needs_media and not _nested_media_texts(data, entries):
        return None  # an entry whose fallback text fastfeedparser does not give
    if not _dates_agree(data, entries):
        return None
    feed = _feed(parsed.get("feed") or {}, types)
    if not feed["authors"] and not all(e["authors"] for e in entries) and _feed_author(data):
        return None  # a feed-level author fastfeedparser did not read, needed as a fallback
    # its first byte first: one memchr, and half the bodies have none
    if b"\xc3" in data and _MOJIBAKE.search(data) and _redecoded((feed, entries)):
        return None
    return feed, entries


def _has_c1_controls(data: bytes) -> bool:
    """True if `data` holds a C1 control character (U+0080-U+009F in UTF-8). Each
    starts with the byte C2, which half the corpus's bodies lack: a search for that
    one byte (memchr) costs an eighth of the pattern's."""
    return b"\xc2" in data and _C1_CONTROLS.search(data) is not None


def _odd_doctype(data: bytes) -> bool:
    """True if `data` has a DOCTYPE other than one bare `<!DOCTYPE name>` (not Netscape's)."""
    if _DOCTYPE not in data:
        return False
    found = _BARE_DOCTYPE.search(data)
    return found is None or data.count(_DOCTYPE) != 1 or b"netscape" in found.group().lower()


def _one_person_each(data: bytes) -> bool:
    """True if each run of author elements side by side (`<author>jo@x.org (Jo)</author>
    <dc:creator>Jo</dc:creator>`: one person twice) names one person, as the mapper
    reads an author (`_person`, then name or address): feedparser keeps them all and
    the mapper drops the repeats, fastfeedparser keeps one. Plain texts only."""
    readings: dict[int, str] = {}  # by where an element starts
    closing: dict[int, str] = {}  # by where its end tag starts
    for found in _AUTHOR_TEXT.finditer(data):
        text = (found.group(1) or found.group(2) or b"").decode("utf-8", "replace").strip()
        person = _person({"name": text})
        reading = (person.get("name") or person.get("email") or "").strip()
        readings[found.start()] = closing[found.start(3)] = reading
    for pair in _AUTHORS.finditer(data):
        second = data.rfind(b"<", pair.start(), pair.end())
        first = closing.get(pair.start())
        if first is None or first != readings.get(second):
            return False
    return True


def _redecoded(value: Any) -> bool:
    """True if a text in `value` is one feedparser re-decodes: Latin-1 characters only,
    valid UTF-8 as bytes, once stripped (a no-break space is Latin-1 but not UTF-8).
    The fast path's texts are the element texts, or parts of them split at ASCII
    characters (an author's name and address): a part of a text re-decoded is
    re-decoded too."""
    if isinstance(value, str):
        return _mended(value) or _mended(value.strip())
    if isinstance(value, dict):
        return any(map(_redecoded, value.values()))
    if isinstance(value, list | tuple):
        return any(map(_redecoded, value))
    return False


def _mended(text: str) -> bool:
    try:
        return text.encode("iso-8859-1").decode("utf-8") != text
    except UnicodeError:
        return False


def _dates_agree(data: bytes, entries: list[dict[str, Any]]) -> bool:
    """True unless a date text of unusual shape is read differently by feedparser."""
    odd = [t for t in _DATE_TEXT.findall(data) if t.strip() and not _PLAIN_DATE.fullmatch(t)]
    if not odd:
        return True
    from feedparser.datetimes import _parse_date

    readings = [_parse_date(text.decode("utf-8", "replace").strip()) for text in odd]
    if any(reading is None for reading in readings):
        return False
    known = {tuple(reading[:6]) for reading in readings}
    return all(
        tuple(e["published_parsed"][:6]) in known for e in entries if "published_parsed" in e
    )


def _feed_author(data: bytes) -> bool:
    """True if the feed names an author before its first entry."""
    first = _FIRST_ENTRY.search(data)
    return _FEED_AUTHOR.search(data, 0, first.start() if first else len(data)) is not None


def _uses(data: bytes, elements: dict[bytes, bytes]) -> bool:
    """True if `data` holds one of `elements` (namespace URI: names) under any prefix."""
    if not any(uri in data for uri in elements):
        return False
    for prefix, uri in _PREFIX_OF.findall(data):
        names = elements.get(uri.rstrip(b"/"))
        if names and re.search(b"<" + re.escape(prefix) + b":(?:" + names + rb")\b", data):
            return True
    return False


def root_element(data: bytes) -> str | None:
    """The root element's name if expat reads `data` to the end (the strict parser
    feedparser tries first), else None."""
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    names: list[str] = []

    def first(name: str, _attributes: Any) -> None:
        names.append(name)
        parser.StartElementHandler = None

    parser.StartElementHandler = first
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError:
        return None
    return names[0] if names else None


def _atom_types(data: bytes) -> dict[str, str | None] | None:
    """The one type each Atom text construct of the entries has throughout `data`,
    and the feed title's; None if one varies from entry to entry. An element
    named so in a CDATA section (an SVG `<title>` in HTML content) is text, not one."""
    types = _types_found(data)
    if types is None and b"<![CDATA[" in data:
        types = _types_found(_NOT_ELEMENTS.sub(b"", data))
    return types


def _types_found(data: bytes) -> dict[str, str | None] | None:
    first = _FIRST_ENTRY.search(data)
    start = first.start() if first else len(data)
    head = _ATOM_TYPE.search(data, 0, start)
    found: dict[str, set[bytes]] = {"title": set(), "summary": set(), "content": set()}
    for match in _ATOM_TYPE.finditer(data, start):
        found[match.group(1).decode()].add(_type_of(match))
    if any(len(kinds) > 1 for kinds in found.values()):
        return None
    found["feed_title"] = {_type_of(head)} if head and head.group(1) == b"title" else set()
    types: dict[str, str | None] = {}
    for name, kinds in found.items():
        kind = next(iter(kinds), b"text").decode("ascii", "replace")
        types[name] = _ATOM_TYPES.get(kind, kind)
    return types


def _type_of(match: re.Match[bytes]) -> bytes:
    declared = _TYPE_ATTR.search(match.group(2))
    return declared.group(1).strip() if declared else b"text"


def _entries(
    raw_entries: list[dict[str, Any]], types: dict[str, str | None], data: bytes
) -> list[dict[str, Any]]:
    """The entries in feedparser's shape; none at all if one lacks what the mapper needs."""
    dated = _DATE.search(data) is not None
    entries = []
    anonymous: list[bytes | None] | None = None
    owned: list[_OwnId | None] | None = None
    undated: list[bool] | None = None
    for index, raw in enumerate(raw_entries):
        link, key = raw.get("link"), raw.get("id")
        own = None
        if key and (not link or (key == link and not _is_absolute(link))):
            if owned is None:
                owned = _own_ids(data, len(raw_entries))
            own = owned[index]
            if own is not None and own.text != key:
                own = None
        if link:
            entry = _entry(raw, types, own is not None)
        elif key:
            entry = _linkless(raw, types, key, own)
        else:
            if anonymous is None:
                anonymous = _anonymous_dates(data, len(raw_entries))
            entry = _anonymous(raw, types, anonymous[index])
        if entry is None:
            return []
        if dated and "published_parsed" not in entry:
            # a date fastfeedparser did not read, unless the entry names none
            if undated is None:
                undated = _undated(data, len(raw_entries))
            if not undated[index]:
                return []
        entries.append(entry)
    return entries


def _slices(data: bytes, count: int) -> list[bytes] | None:
    """Each of the `count` entries of `data`: from its start tag to the next one's (the
    last, to the end); None if the start tags found are not `count` (one in a CDATA
    section, say: not sure which is which)."""
    starts = [match.start() for match in _FIRST_ENTRY.finditer(data)]
    if len(starts) != count:
        return None
    return [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]


class _OwnId(NamedTuple):
    """An entry's one guid or id element: its text, whether feedparser also takes it
    as the link of an entry of none (None: attributes not understood), and whether
    the entry has a link element."""

    text: str
    is_link: bool | None
    has_link: bool


def _own_ids(data: bytes, count: int) -> list[_OwnId | None]:
    """For each of the `count` entries of `data`: its one `guid` or `id` element, if
    it has exactly one and no `source` (whose id is not the entry's), else None."""
    ids: list[_OwnId | None] = []
    for item in _slices(data, count) or [b""] * count:
        if b"<!" in item:  # a `<guid>` written in a CDATA section or comment is none
            item = _NOT_ELEMENTS.sub(b"", item)
        found = _OWN_ID.findall(item)
        if len(found) != 1 or b"<source" in item:
            ids.append(None)
            continue
        attributes, text = found[0]
        permalink = _PERMALINK.fullmatch(attributes)
        is_link = None if permalink is None else permalink.group(2) != b"false"
        # the XML text: a well-formed body has no entity but XML's own and numeric ones
        value = html.unescape(text.decode("utf-8", "replace")).strip()
        ids.append(_OwnId(value, is_link, _LINK_ELEMENT.search(item) is not None))
    return ids


def _undated(data: bytes, count: int) -> list[bool]:
    """For each of the `count` entries of `data`: True if it names no date at all
    (then both parsers give it none), False if it does or may."""
    slices = _slices(data, count)
    return [False] * count if slices is None else [_DATE.search(s) is None for s in slices]


def _anonymous_dates(data: bytes, count: int) -> list[bytes | None]:
    """For each of the `count` entries of `data`: its one date text if it is an
    entry of neither link nor id (`<item>` or `<entry>` with no attributes, no
    link, guid or id element inside), else None."""
    dates: list[bytes | None] = []
    for item in _slices(data, count) or [b""] * count:
        if not item.startswith((b"<item>", b"<entry>")) or _IDENTIFIED.search(item):
            dates.append(None)
            continue
        found = _ENTRY_DATE.findall(item)
        dates.append(found[0] if len(found) == 1 and len(_DATE.findall(item)) == 1 else None)
    return dates


def _linkless(
    raw: dict[str, Any], types: dict[str, str | None], key: str, own: _OwnId | None
) -> dict[str, Any] | None:
    """An entry of no link element but its own guid or id `own` (the text of `key`):
    feedparser takes the guid as the link unless isPermaLink says "false"."""
    if own is None or own.is_link is None or own.has_link:
        return None  # a link element fastfeedparser dropped, say: feedparser reads it
    return _shaped(raw, types, key, key if own.is_link else None, [])


def _anonymous(
    raw: dict[str, Any], types: dict[str, str | None], date: bytes | None
) -> dict[str, Any] | None:
    """An entry of neither link nor id, keyed by its title and date text (`feeds.item_key`):
    the date text as feedparser gives it, `date`, is needed, in plain ASCII."""
    if date is None or not date.isascii() or b"&" in date:
        return None
    entry = _shaped(raw, types, None, None, [])
    if entry is not None:
        entry["published"] = date.decode("ascii").strip()
    return entry


def _nested_media_texts(data: bytes, entries: list[dict[str, Any]]) -> bool:
    """Give each entry with a title but no text the media:description that
    fastfeedparser finds only with its media (in media:content or media:group, as
    in YouTube's feeds), feedparser's fallback text; False if an entry has no
    title, or not exactly one such text: feedparser then reads the body."""
    import fastfeedparser

    try:
        parsed = fastfeedparser.parse(data, include_media=True, include_enclosures=False)
    except Exception:  # any failure here means: let feedparser read it
        return False
    raws = parsed.get("entries") or []
    if len(raws) != len(entries):
        return False
    for entry, raw in zip(entries, raws, strict=True):
        if _has_own_text(entry):
            continue
        media = [m for m in raw.get("media_content") or () if isinstance(m, dict)]
        texts = {m.get("description") for m in media} - {None, ""}
        if not entry["title"].strip() or len(texts) != 1 or raw.get("id") != entry["id"]:
            return False
        entry[MEDIA_TEXT] = texts.pop()
        entry[f"{MEDIA_TEXT}_detail"] = {"type": "text/html"}
    return True


def _has_own_text(entry: dict[str, Any]) -> bool:
    """True if the entry has a title and some text (else the mapper takes a fallback)."""
    texts = [entry["summary"]] + [content["value"] for content in entry["content"]]
    return bool(entry["title"].strip()) and any(text.strip() for text in texts)


def _absolute_links(entries: list[dict[str, Any]]) -> bool:
    """True if no entry link depends on an `xml:base` (which feedparser applies)."""
    for entry in entries:
        hrefs = [entry.get("link")] + [link.get("href") for link in entry["links"]]
        for href in hrefs:
            if href and not _is_absolute(href):
                return False
    return True


def _is_absolute(href: str) -> bool:
    return href.lower().startswith(("http://", "https://"))


def _feed(raw: dict[str, Any], types: dict[str, str | None]) -> dict[str, Any]:
    return {
        "title": raw.get("title") or "",
        "title_detail": {"type": _title_type(raw.get("title"), types["feed_title"])},
        "authors": _people(raw),
    }


def _entry(
    raw: dict[str, Any], types: dict[str, str | None], own_id: bool = False
) -> dict[str, Any] | None:
    """The entry in feedparser's shape, or None; `own_id`: a relative link as id is the
    text of the entry's own guid or id element (see `_own_ids`)."""
    link = raw.get("link")
    if not link:
        return None  # none, or one fastfeedparser dropped (a fragment with spaces)
    if raw.get("id") == link and not _is_absolute(link) and not own_id:
        # fastfeedparser takes the link as the id of an entry of none; feedparser gives
        # it no id and the mapper keys it by its link made absolute
        return None
    return _shaped(
        raw, types, raw.get("id"), link, [_link(item) for item in raw.get("links") or ()]
    )


def _shaped(
    raw: dict[str, Any],
    types: dict[str, str | None],
    key: Any,
    link: str | None,
    links: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """The entry in feedparser's shape; None if its date is not one feedparser reads alike."""
    entry: dict[str, Any] = {
        "id": key,
        "title": raw.get("title") or "",
        "title_detail": {"type": _title_type(raw.get("title"), types["title"])},
        "link": link,
        "links": links,
        "content": _contents(raw, types["content"]),
        "summary": raw.get("description") or "",
        "summary_detail": {"type": types["summary"]},
        "authors": _people(raw),
        "tags": [tag for tag in raw.get("tags") or () if isinstance(tag, dict)],
    }
    date = raw.get("published") or raw.get("updated")
    if date:
        parsed = _struct_time(date)
        if parsed is None:
            return None
        entry["published_parsed"] = parsed
    return entry


def _title_type(title: Any, declared: str | None) -> str:
    """Atom's declared type; for RSS and RDF, feedparser's guess whether the text is HTML."""
    if declared:
        return declared
    looks_like_html = _FeedParserMixin.looks_like_html
    return "text/html" if isinstance(title, str) and looks_like_html(title) else "text/plain"


def _link(item: dict[str, Any]) -> dict[str, Any]:
    return {"rel": item.get("rel") or "alternate", "href": item.get("href")}


def _contents(raw: dict[str, Any], kind: str | None) -> list[dict[str, Any]]:
    """Content with its type: Atom's one type (`kind`), else what fastfeedparser says."""
    return [
        {"type": kind or content.get("type") or "text/html", "value": content.get("value") or ""}
        for content in raw.get("content") or ()
    ]


def _people(node: dict[str, Any]) -> list[dict[str, Any]]:
    people = [p for p in node.get("authors") or () if isinstance(p, dict)]
    if not people and isinstance(node.get("author"), str):
        people = [{"name": node["author"]}]
    return [_person(p) for p in people]


def _person(person: dict[str, Any]) -> dict[str, Any]:
    """feedparser's reading of an author given as text: "jo@x.org (Jo Bloggs)" is Jo Bloggs."""
    name = person.get("name")
    if person.get("email") or not isinstance(name, str):
        return person
    email = _EMAIL.search(name)
    if email is None:
        return person
    rest = name.replace(email.group(0), "").replace("()", "").replace("<>", "").strip()
    rest = rest.removeprefix("(").removesuffix(")").strip()
    return {"name": rest, "email": email.group(0)}


def _struct_time(text: str) -> time.struct_time | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).timetuple()
