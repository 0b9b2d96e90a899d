"""Stories: near-duplicate documents grouped under the id of the story's first document.

`documents.story_id` is NULL for a document that started its story (its own
id is the story's), so storing a document of a new story costs no update.

A new document's band keys (newswatch.dedup.signature) are looked up in the
`story_bands` table; candidates published within `window` of it whose estimated
similarity reaches `threshold` are near-duplicates, and the document joins the
story of the most similar one. Otherwise it starts a story of its own. The
table lives in the database, so it survives restarts and several processes
share it; two processes storing two copies at the same instant may each start
a story (the next copy joins one of them).

**Only the window is indexed.** A band row's key carries the `PERIOD` (two
UTC days) in which its document was stored (or last edited) above the 32-bit
band key. A lookup probes the periods from `now - window` to now; rows of
earlier periods are pruned as time passes (a range at the start of the index:
cheap to delete). So the table holds a window's worth of documents, however
long the stored history, and a new document's rows go into the current
period's part of the index, not random pages of an index over every document
ever stored (what made the cost grow with the history; bench/README.md). Only
the periods that hold rows are probed. Two days, not one: each period is one
more probe of every key, and a week in 2-day periods probed 0.64-0.70 ms a
document where 1-day ones took 0.79-0.83 (1M stored, bench/README.md). The
cost: a copy stored more than `window` after the original (up to one period
more) starts a story of its own, even when both carry the same old date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)

from newswatch.dedup.signature import band_keys, band_keys_of, similarity
from newswatch.model import Alert, Outlet, Story
from newswatch.store.bulk import placeholder
from newswatch.store.tables import alerts, documents, story_bands

# How many other outlets an alert or a story lists at most.
MAX_OUTLETS = 20
PERIOD = 2 * 86_400  # seconds: band rows are filed by the period their document was stored
_LOW = 0xFFFFFFFF  # the band key proper, below the period
_PRUNE_STEP = 1 << 28  # band keys a prune deletes at most per step: 1/16 of a period


@dataclass(frozen=True, slots=True)
class Placed:
    """A stored document to place in a story."""

    id: int
    signature: bytes | None
    moment: datetime  # published, or stored when undated


@dataclass(frozen=True, slots=True)
class _Candidate:
    id: int
    story_id: int
    signature: bytes
    moment: datetime


def assign_stories(
    connection: Connection,
    placed: Sequence[Placed],
    threshold: float,
    window: timedelta,
    now: datetime,
) -> dict[int, int]:
    """Give each new document (stored at `now`) a story; return {document id: story id}.

    Band rows of periods that left the window are pruned first. Documents earlier
    in `placed` are candidates for later ones (one batch can hold copies), then
    the band keys of all of them are stored.
    """
    keyed = _band_keys(placed)
    stored = _candidates(connection, {k for keys in keyed.values() for k in keys}, now, window)
    stories: dict[int, int] = {}
    for item in placed:
        story = _best_story(item, keyed.get(item.id, []), stored, threshold, window)
        stories[item.id] = story if story is not None else item.id
        if item.signature is not None:
            candidate = _Candidate(item.id, stories[item.id], item.signature, item.moment)
            for key in keyed[item.id]:
                stored.setdefault(key, []).append(candidate)
    joined = {d: s for d, s in stories.items() if d != s}
    if joined:
        change = (
            update(documents)
            .where(documents.c.id == bindparam("document"))
            .values(story_id=bindparam("story"))
        )
        connection.execute(change, [{"document": d, "story": s} for d, s in joined.items()])
    today = _day(now) << 32
    _insert_bands(connection, sorted((today | k, d) for d, keys in keyed.items() for k in keys))
    return stories


def _day(moment: datetime) -> int:
    """The number of the PERIOD holding a moment (periods since 1970-01-01 UTC)."""
    return int(moment.timestamp()) // PERIOD


def prune_bands(connection: Connection, first_day: int, budget: int = 50_000) -> int:
    """Delete band rows filed before `first_day`; return how many went.

    A slice of the key space (1/16 of a period) at a time, until about `budget`
    rows went: the first batch of a new period does not delete a whole period's
    rows in its transaction, and a backlog of sparse old ones still goes quickly."""
    floor, gone = first_day << 32, 0
    oldest, _ = _filed_range(connection)
    while oldest is not None and oldest < floor and gone < budget:
        bound = min(floor, (oldest | (_PRUNE_STEP - 1)) + 1)
        deleted = connection.execute(delete(story_bands).where(story_bands.c.band_key < bound))
        gone += int(deleted.rowcount or 0)
        oldest, _ = _filed_range(connection)
    return gone


def _filed_range(connection: Connection) -> tuple[int | None, int | None]:
    """The lowest and highest band key stored: two index ends, one statement by the
    driver (through Core the two lookups cost more than a batch's probes)."""
    sql = "SELECT (SELECT min(band_key) FROM story_bands), (SELECT max(band_key) FROM story_bands)"
    row = connection.exec_driver_sql(sql).one()
    return row[0], row[1]


def _band_keys(placed: Sequence[Placed]) -> dict[int, list[int]]:
    """{document id: its distinct band keys (unsigned 32-bit)}, for the whole batch at once."""
    signed = [p for p in placed if p.signature]
    if not signed:
        return {}
    keys = [
        [k & _LOW for k in row]
        for row in band_keys_of([p.signature for p in signed if p.signature])
    ]
    return {p.id: list(dict.fromkeys(row)) for p, row in zip(signed, keys, strict=True)}


def filed_keys(signature: bytes, day: int) -> list[int]:
    """The band rows' keys of a signature filed in period `day`, above the band key."""
    return sorted({day << 32 | (key & _LOW) for key in band_keys(signature)})


def replace_bands(
    connection: Connection, edited: Sequence[tuple[int, bytes | None]], now: datetime
) -> None:
    """Edited documents keep their stories; their band keys follow their new texts, filed
    now. Their old band rows stay until their period is pruned: a lookup through one
    compares the document's new signature, so it finds nothing the new text does not
    (deleting them by document id read the whole table: no index there)."""
    day = _day(now)
    rows = {(k, d) for d, signature in edited if signature for k in filed_keys(signature, day)}
    _insert_bands(connection, sorted(rows), ignore_stored=True)


def _insert_bands(
    connection: Connection, rows: list[tuple[int, int]], *, ignore_stored: bool = False
) -> None:
    """Straight to the driver: Core's per-row parameter processing cost more than the insert.
    Rows in key order walk the index forwards, each page reached once. `ignore_stored`:
    a row already there (an edit that left a band as it was) is kept."""
    if not rows:
        return
    conflict = " ON CONFLICT DO NOTHING" if ignore_stored else ""
    if connection.dialect.name == "postgresql":  # one statement: two arrays, not a row each
        keys, ids = [k for k, _ in rows], [d for _, d in rows]
        sql = (
            "INSERT INTO story_bands (band_key, document_id)"
            f" SELECT * FROM unnest(%s::bigint[], %s::bigint[]){conflict}"
        )
        connection.exec_driver_sql(sql, (keys, ids))
        return
    mark = placeholder(connection.dialect)
    sql = f"INSERT INTO story_bands (band_key, document_id) VALUES ({mark}, {mark}){conflict}"
    connection.exec_driver_sql(sql, rows)


_CANDIDATES = """\
SELECT b.band_key, d.id, d.story_id, d.signature, d.published, d.created_at
FROM story_bands b JOIN documents d ON d.id = b.document_id
WHERE b.band_key IN ({keys})"""


def _filed_days(connection: Connection, now: datetime, window: timedelta) -> range:
    """The periods of the window that hold band rows, once earlier ones are pruned.
    Only those are probed: a young database (a first pass) holds the current one."""
    first, today = _day(now - window), _day(now)
    oldest, newest = _filed_range(connection)
    if oldest is not None and oldest < first << 32:
        prune_bands(connection, first)
        oldest, newest = _filed_range(connection)
    if oldest is None or newest is None:
        return range(0)
    return range(max(first, oldest >> 32), min(today, newest >> 32) + 1)


def _candidates(
    connection: Connection, keys: set[int], now: datetime, window: timedelta
) -> dict[int, list[_Candidate]]:
    """Stored documents sharing a band key in a period of the window, by band key. The
    keys are ints, written into the SQL as such and run by the driver: rendering an
    expanding bind parameter (or parsing a text() clause) of hundreds of keys cost
    more than the lookup."""
    found: dict[int, list[_Candidate]] = {}
    if not keys:
        return found
    ordered = sorted(keys)
    ordered = [day << 32 | key for day in _filed_days(connection, now, window) for key in ordered]
    for start in range(0, len(ordered), 5000):
        rows = _candidate_rows(connection, ordered[start : start + 5000])
        for band_key, document_id, story_id, signature, published, created_at in rows:
            if signature is None:
                continue
            moment = _utc(published or created_at)
            candidate = _Candidate(document_id, story_id or document_id, bytes(signature), moment)
            found.setdefault(band_key & _LOW, []).append(candidate)
    return found


def _candidate_rows(connection: Connection, keys: list[int]) -> Any:
    """PostgreSQL: one array parameter. SQLite: one JSON array read by json_each (the
    list written into the SQL took longer to parse than the lookup)."""
    if connection.dialect.name == "postgresql":
        sql = _CANDIDATES.format(keys="SELECT unnest(%s::bigint[])")
        return connection.exec_driver_sql(sql, (keys,))
    sql = _CANDIDATES.format(keys=f"SELECT value FROM json_each({placeholder(connection.dialect)})")
    return connection.exec_driver_sql(sql, ("[" + ",".join(map(str, keys)) + "]",))


def _utc(value: datetime | str) -> datetime:
    """A date as the driver returns it (SQLite: naive UTC text) as an aware UTC datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _best_story(
    item: Placed,
    keys: Iterable[int],
    stored: dict[int, list[_Candidate]],
    threshold: float,
    window: timedelta,
) -> int | None:
    if item.signature is None:
        return None
    best: tuple[float, int] | None = None
    seen: set[int] = set()
    for key in keys:
        for candidate in stored.get(key, ()):
            if candidate.id in seen or candidate.id == item.id:
                continue
            seen.add(candidate.id)
            if abs(candidate.moment - item.moment) > window:
                continue
            score = similarity(item.signature, candidate.signature)
            if score >= threshold and (best is None or score > best[0]):
                best = (score, candidate.story_id)
    return best[1] if best else None


def story_ids(connection: Connection, document_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(document_ids))
    if not ids:
        return {}
    query = select(documents.c.id, documents.c.story_id).where(documents.c.id.in_(ids))
    return {row.id: row.story_id or row.id for row in connection.execute(query)}


def first_per_story(connection: Connection, batch: Sequence[Alert]) -> list[Alert]:
    """Alerts whose story has not alerted this watch yet (one per story and watch).

    An alert of the same document is kept: the alerts table's unique index
    decides whether it is new (an edited document never alerts twice).
    """
    if not batch:
        return []
    stories = story_ids(connection, [a.document_id for a in batch])
    c = documents.c
    query = (
        select(c.id, c.story_id, alerts.c.document_id, alerts.c.kind, alerts.c.watch)
        .join(documents, c.id == alerts.c.document_id)
        .where(_in_stories(set(stories.values())))
    )
    done = {(r.story_id or r.id, r.kind, r.watch): r.document_id for r in connection.execute(query)}
    kept: list[Alert] = []
    for alert in batch:
        key = (stories.get(alert.document_id, alert.document_id), alert.kind, alert.watch)
        if done.setdefault(key, alert.document_id) == alert.document_id:
            kept.append(alert)
    return kept


def with_stories(connection: Connection, batch: Sequence[Alert]) -> list[Alert]:
    """The alerts, each with its story: the id and the other outlets that carry it."""
    stories = story_ids(connection, [a.document_id for a in batch])
    members = _members(connection, set(stories.values()))
    roots = _first_alerts(connection, set(stories.values()))
    return [replace(a, story=_story(a, stories.get(a.document_id), members, roots)) for a in batch]


def _first_alerts(connection: Connection, story_set: set[int]) -> dict[int, int]:
    """Each story's first alert (lowest id, any watch): what e-mail threads hang from."""
    if not story_set:
        return {}
    story = func.coalesce(documents.c.story_id, documents.c.id).label("story")
    query = (
        select(story, func.min(alerts.c.id).label("first"))
        .join(documents, documents.c.id == alerts.c.document_id)
        .where(_in_stories(story_set))
        .group_by(story)
    )
    return {row.story: row.first for row in connection.execute(query)}


def _members(connection: Connection, story_set: set[int]) -> dict[int, list[Any]]:
    members: dict[int, list[Any]] = {}
    if not story_set:
        return members
    c = documents.c
    query = (
        select(c.id, c.story_id, c.source, c.url, c.title, c.origin, c.created_at)
        .where(_in_stories(story_set))
        .order_by(c.id)
    )
    for row in connection.execute(query):
        members.setdefault(row.story_id or row.id, []).append(row)
    return members


def _in_stories(story_set: set[int]) -> Any:
    """Documents of these stories: each story's first document and those that joined it."""
    ordered = sorted(story_set)
    return or_(documents.c.id.in_(ordered), documents.c.story_id.in_(ordered))


def _story(
    alert: Alert, story_id: int | None, members: dict[int, list[Any]], roots: dict[int, int]
) -> Story | None:
    if story_id is None:
        return None
    others = [_outlet(row) for row in members.get(story_id, []) if row.id != alert.document_id]
    return Story(id=story_id, others=tuple(others[:MAX_OUTLETS]), root_alert_id=roots.get(story_id))


def _outlet(row: Any) -> Outlet:
    return Outlet(source=row.source, url=row.url, title=row.title, origin=row.origin)


@dataclass(frozen=True, slots=True)
class StoryListing:
    id: int
    latest: datetime
    outlets: tuple[Outlet, ...]


def recent_stories(
    connection: Connection, since: datetime, *, shared_only: bool = True, limit: int = 200
) -> list[StoryListing]:
    """Stories with a document stored since `since`, newest first; by default only
    those a later copy joined (carried by two or more documents)."""
    c = documents.c
    # shared: a story a later copy joined (story_id set); else every document's story
    story = (c.story_id if shared_only else func.coalesce(c.story_id, c.id)).label("story")
    query = (
        select(story, func.max(c.created_at).label("latest"))
        .where(c.created_at >= since)
        .group_by(story)
        .order_by(func.max(c.created_at).desc(), story.desc())
    )
    if shared_only:
        query = query.where(c.story_id.is_not(None))
    rows = connection.execute(query.limit(limit)).all()
    members = _members(connection, {row.story for row in rows})
    return [
        StoryListing(
            id=row.story,
            latest=row.latest,
            outlets=tuple(_outlet(m) for m in members.get(row.story, [])[:MAX_OUTLETS]),
        )
        for row in rows
    ]
