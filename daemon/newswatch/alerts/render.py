"""What an alert says, for any channel: pure shaping of alerts, no markup and no I/O.

Feed text is untrusted. What comes out of here is plain text: titles and
names made one clean line and links only when they are http(s) (both by
`safetext`, the one place for that), and snippets split into segments that the
channel marks up itself (`<mark>` in HTML, `*term*` in text, `**term**` in chat
markdown) after escaping the text. E-mail and chat show the same facts.

- `articles`: a batch of alerts as one entry per document, listing every watch.
- `digest_groups`: a batch grouped by watch, one entry per story, newest first.
- `source_label`: a feed's name; for a seed file, the publisher's host.
- `highlight`: a snippet's segments, the matched terms marked.
- `snippet_for`: which passage an alert shows (never just the title again).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from urllib.parse import urlsplit

from newswatch.alerts.safetext import clean_line, safe_link
from newswatch.match.reasons import CLOSE, ELLIPSIS, OPEN, snippet
from newswatch.model import SEED_ORIGIN, Alert, Hit, Outlet, WatchKind

SNIPPET_WIDTH = 240
NAMES_ROOM = 60  # characters of watch names in a subject before "+N more"
NAMES_MOST = 3

_MARKED = re.compile(f"{OPEN}([^{OPEN}{CLOSE}]{{1,300}}){CLOSE}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def publisher_host(url: str | None) -> str | None:
    """`example.org` of `https://www.example.org/a/b`, or None without an http(s) link."""
    link = safe_link(url)
    if link is None:
        return None
    host = urlsplit(link).hostname or ""
    return host.removeprefix("www.") or None


def source_label(source: str, origin: str | None, url: str | None) -> str:
    """Who published a document: the feed's name; for a seed file the publisher's host
    from its URL, else the seed folder's own name (never a local path)."""
    if not _from_seed(source, origin):
        return clean_line(source) or "unknown"
    host = publisher_host(url)
    if host is not None:
        return host
    if _looks_like_path(source):
        return clean_line(os.path.basename(os.path.normpath(source))) or "seeds"
    return clean_line(source) or "seeds"


def _from_seed(source: str, origin: str | None) -> bool:
    if origin is not None:
        return origin.startswith(SEED_ORIGIN)
    return _looks_like_path(source)  # stored before origins were (migration 0004)


def _looks_like_path(source: str) -> bool:
    if "://" in source:
        return False
    return source.startswith(("/", ".", "~")) or "/" in source or "\\" in source


def alert_source(alert: Alert) -> str:
    return source_label(alert.source, alert.origin, alert.url)


def outlet_source(outlet: Outlet) -> str:
    return source_label(outlet.source, outlet.origin, outlet.url)


# --- snippets ---------------------------------------------------------------------


def snippet_for(title: str, body: str, hits: Sequence[Hit], width: int = SNIPPET_WIDTH) -> str:
    """The passage an alert shows: around the first mention in the body; when only the
    title names the watch, the body's opening (the title is shown anyway)."""
    in_body = [hit for hit in hits if hit.field == "body"]
    if in_body:
        return snippet(body, min(in_body, key=lambda hit: hit.start), width)
    if body.strip():
        return opening(body, width)
    first = min(hits, key=lambda hit: hit.start, default=None)
    return snippet(title, first, width) if first is not None else ""


def opening(text: str, width: int = SNIPPET_WIDTH) -> str:
    """The first `width` characters of `text`, whitespace squeezed, cut at a space."""
    squeezed = " ".join(text.split())
    if len(squeezed) <= width:
        return squeezed
    cut = squeezed.rfind(" ", 0, width + 1)
    return squeezed[: cut if cut > width // 2 else width].rstrip() + ELLIPSIS


def shown_snippet(alert: Alert) -> str:
    """The alert's snippet on one line, or "" when it merely repeats the title
    (alerts stored before snippets came from the body did that)."""
    text = clean_line(alert.snippet)
    return "" if _bare(text) and _bare(text) in _bare(alert.title) else text


def _bare(text: str) -> str:
    return " ".join(
        text.replace(OPEN, "").replace(CLOSE, "").replace(ELLIPSIS, " ").split()
    ).casefold()


Segment = tuple[str, bool]  # a piece of text, and whether it is a matched term


def highlight(text: str, terms: Iterable[str]) -> list[Segment]:
    """`text` in segments, each occurrence of a matched term marked.

    The «…» the stored snippet puts around its mention is taken off where it
    encloses a matched term (feed text may use « » as quotes: those stay).
    `terms` are the alert's `matched`, as the text writes them.
    """
    wanted = sorted({clean_line(t) for t in terms if clean_line(t)}, key=len, reverse=True)
    if not wanted:
        return [(text, False)] if text else []
    text = _MARKED.sub(
        lambda m: m.group(1) if clean_line(m.group(1)) in wanted else m.group(0), text
    )
    segments: list[Segment] = []
    at = 0
    for found in _terms_pattern(tuple(wanted)).finditer(text):
        if found.start() > at:
            segments.append((text[at : found.start()], False))
        segments.append((found.group(0), True))
        at = found.end()
    if at < len(text):
        segments.append((text[at:], False))
    return segments


@lru_cache(maxsize=1024)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the terms (longest first), whole words, any run of whitespace between words.

    Case counts: the terms are written as the text has them, and `US` must not
    mark "us"."""
    return re.compile("|".join(_term_pattern(term) for term in terms))


def _term_pattern(term: str) -> str:
    body = r"\s+".join(re.escape(word) for word in term.split())
    before = r"(?<!\w)" if term[0].isalnum() or term[0] == "_" else ""
    after = r"(?!\w)" if term[-1].isalnum() or term[-1] == "_" else ""
    return f"{before}{body}{after}"


# --- times and names --------------------------------------------------------------


def moment_text(moment: datetime | None, zone: tzinfo = UTC) -> str:
    """`2024-11-14 09:30 EST` in `zone`, or `unknown`."""
    if moment is None:
        return "unknown"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z").strip()


def watch_names(names: Sequence[str], room: int = NAMES_ROOM, most: int = NAMES_MOST) -> str:
    """`Konstantin Kosachev, NATO`; a long list shortened: `A, B +2 more`."""
    names = [clean_line(name) for name in names]
    shown = names[:1]
    for name in names[1:most]:
        if len(", ".join([*shown, name])) > room:
            break
        shown.append(name)
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f" +{rest} more" if rest else "")


# --- grouping ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Article:
    """One document with every alert it raised in a batch (each a watch that matched it)."""

    alerts: tuple[Alert, ...]

    @property
    def lead(self) -> Alert:
        return self.alerts[0]

    @property
    def title(self) -> str:
        return clean_line(self.lead.title) or "(no title)"

    @property
    def link(self) -> str | None:
        return safe_link(self.lead.url)

    @property
    def source(self) -> str:
        return alert_source(self.lead)

    @property
    def watches(self) -> list[str]:
        return list(dict.fromkeys(alert.watch for alert in self.alerts))

    @property
    def alert_ids(self) -> tuple[int, ...]:
        return tuple(alert.id for alert in self.alerts if alert.id is not None)

    @property
    def others(self) -> tuple[Outlet, ...]:
        story = self.lead.story
        return story.others if story is not None else ()


def articles(batch: Sequence[Alert]) -> list[Article]:
    """One article per document, in the order of their first alert; its alerts in order."""
    by_document: dict[int, list[Alert]] = {}
    for alert in batch:
        by_document.setdefault(alert.document_id, []).append(alert)
    return [Article(tuple(alerts)) for alerts in by_document.values()]


@dataclass(frozen=True, slots=True)
class Entry:
    """One story in a watch's digest section: its newest alert, and the watch's
    alerts on other copies of the story (their outlets are listed as "also in")."""

    alert: Alert
    folded: tuple[Alert, ...] = ()

    @property
    def others(self) -> tuple[Outlet, ...]:
        story = self.alert.story
        return story.others if story is not None else ()


@dataclass(frozen=True, slots=True)
class WatchGroup:
    watch: str
    kind: WatchKind
    entries: tuple[Entry, ...]

    @property
    def alerts(self) -> int:
        return sum(1 + len(entry.folded) for entry in self.entries)


def digest_groups(batch: Sequence[Alert]) -> list[WatchGroup]:
    """Watches A to Z; in each, one entry per story, newest first."""
    sections: dict[tuple[str, str, WatchKind], dict[int, list[Alert]]] = {}
    for alert in batch:
        section = sections.setdefault((alert.watch.casefold(), alert.watch, alert.kind), {})
        section.setdefault(story_key(alert), []).append(alert)
    groups = []
    for (_, watch, kind), stories in sorted(sections.items(), key=lambda item: item[0]):
        entries = [_entry(alerts) for alerts in stories.values()]
        entries.sort(key=lambda entry: _newest_first(entry.alert))
        groups.append(WatchGroup(watch, kind, tuple(entries)))
    return groups


def story_key(alert: Alert) -> int:
    """The story an alert's document belongs to (a story's id is its first document's)."""
    return alert.story.id if alert.story is not None else alert.document_id


def _entry(alerts: list[Alert]) -> Entry:
    ordered = sorted(alerts, key=_newest_first)
    return Entry(ordered[0], tuple(ordered[1:]))


def _newest_first(alert: Alert) -> tuple[float, int]:
    moment = alert.published or alert.created_at or _EPOCH
    return (-(moment - _EPOCH).total_seconds(), -(alert.id or 0))
