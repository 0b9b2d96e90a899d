"""Value types passed between the pipeline stages.

Every stage takes and returns these plain, immutable values; none of them
knows about the database, the network or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any, Literal, TypeVar

_T = TypeVar("_T")

WatchKind = Literal["person", "topic"]
Field = Literal["title", "body"]

# A stored document's `origin` names the configured source that brought it:
# FEED_ORIGIN + the feed's configured URL, or SEED_ORIGIN + the seed folder's
# absolute path (stable keys: names and titles may be shared or change).
FEED_ORIGIN = "feed:"
SEED_ORIGIN = "seed:"


@dataclass(frozen=True, slots=True)
class RawItem:
    """One item as a source produced it, before normalisation.

    `key` identifies the item inside its source (a seed file's relative path,
    a feed entry's GUID or link) so that an edited item updates its document.
    `body` is already plain text: sources turn HTML into text themselves.
    """

    source: str
    key: str
    title: str
    body: str
    url: str | None = None
    published: datetime | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


def _pickled_as_call(cls: type[_T]) -> type[_T]:
    """Pickle instances as a call of the class with their fields in order.

    A parse worker sends every document, match and hit it makes to the main process
    pickled (parsing/feedwork.py). A frozen dataclass with slots pickles its state through
    `dataclasses.fields()` and sets each field back with `object.__setattr__`, both in
    Python; a call is smaller work on either side (the corpus's results: dump 0.075 ->
    0.05 s, load 0.068 -> 0.05 s of CPU)."""
    state = attrgetter(*(f.name for f in fields(cls)))  # type: ignore[arg-type]

    def __reduce__(self: _T) -> tuple[type[_T], tuple[Any, ...]]:
        return cls, state(self)

    setattr(cls, "__reduce__", __reduce__)  # noqa: B010 (mypy refuses a method assigned)
    return cls


@_pickled_as_call
@dataclass(frozen=True, slots=True)
class Document:
    """A normalised item: clean text, canonical URL, UTC date, content hash."""

    source: str
    key: str
    title: str
    body: str
    url: str | None
    published: datetime | None
    content_hash: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    id: int | None = None


@_pickled_as_call
@dataclass(frozen=True, slots=True)
class Hit:
    """One mention of a watch term: where it is and how it is written there."""

    field: Field
    start: int
    end: int
    text: str


@_pickled_as_call
@dataclass(frozen=True, slots=True)
class Match:
    """A watch that matched a document, with every mention that counted."""

    watch: str
    kind: WatchKind
    hits: tuple[Hit, ...]
    rule: str = ""
    named: bool = False  # a person named by a term of their own, not only by a shared alias

    @property
    def matched(self) -> list[str]:
        """The distinct matched terms as written in the text, in reading order."""
        seen: dict[str, None] = {}
        for hit in sorted(self.hits, key=_reading_order):
            seen.setdefault(hit.text, None)
        return list(seen)

    @property
    def first_hit(self) -> Hit | None:
        return min(self.hits, key=_reading_order, default=None)


def _reading_order(hit: Hit) -> tuple[int, int]:
    return (0 if hit.field == "title" else 1, hit.start)


@dataclass(frozen=True, slots=True)
class Outlet:
    """Another document of a story: who published it, where."""

    source: str
    url: str | None
    title: str = ""
    origin: str | None = None  # the document's `origin` (`seed:...` for seed files)

    def record(self) -> dict[str, Any]:
        return {"source": self.source, "url": self.url, "title": self.title}


@dataclass(frozen=True, slots=True)
class Story:
    """The near-duplicate group a document belongs to, and its other documents."""

    id: int
    others: tuple[Outlet, ...] = ()
    # the story's first alert (any watch): the message carrying it roots the story's thread
    root_alert_id: int | None = None

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "also_reported_by": [o.record() for o in self.others]}


@dataclass(frozen=True, slots=True)
class Alert:
    """A (document, watch) pair that matched; stored once, then delivered."""

    document_id: int
    watch: str
    kind: WatchKind
    title: str
    url: str | None
    source: str
    published: datetime | None
    matched: tuple[str, ...]
    snippet: str
    created_at: datetime | None = None
    id: int | None = None
    story: Story | None = None
    origin: str | None = None  # the document's `origin`: `seed:<folder>` for a seed file

    def record(self) -> dict[str, Any]:
        """The alert record of CONTRACT.md (without the `event` key)."""
        return {
            "alert_id": self.id,
            "watch": self.watch,
            "kind": self.kind,
            "document_id": self.document_id,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "published": iso_utc(self.published),
            "matched": list(self.matched),
            "snippet": self.snippet,
            "story": self.story.record() if self.story else None,
        }


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a trailing Z, or None."""
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")
