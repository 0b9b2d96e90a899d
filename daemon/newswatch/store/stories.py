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

**Only the window is indexed, in two parts.** The *current* part holds the
rows of the `PERIOD` (two UTC days) now running: its key is the period above
the 32-bit band key, so a batch's rows go to one small part of the index, the
pages a commit writes and a checkpoint copies. Once a period has passed, its
rows move to the *archive*, keyed band key above period: a lookup reads a key's
archived rows of every period of the window with one probe. (With one layout
either way, a full week cost one probe per period and key, 4-5 where a young
database needs one, or, band key first throughout, each batch wrote pages all
over the index: the commits cost what the probes saved; bench/README.md, "Cost,
part 4".) Rows of periods before `now - window` are pruned as time passes:
`story_periods` lists the archived periods, and once the oldest leaves the
window a prune sweeps the archive's keys a slice at a time. Moving and pruning
each stop after about `budget` rows, the next batch going on from there; a
connection that found nothing to do remembers it until the period changes (no
statement a batch). So the table holds a window's worth of documents, however
long the stored history. The cost: a copy stored more than `window` after the
original (up to one period more) starts a story of its own, even when both
carry the same old date; and when the clocks of two nodes straddle the start of
a period, the one behind may file rows in the ended period after the other
archived it, which the other finds only once it tidies at the next period.

**One outlet's items under different titles are different items.** A story is
one report carried by several outlets (or one page listed twice); an outlet that
lists two items under two titles publishes two items, however alike their texts.
Templated entries are alike that way: a podcast's episodes over one blurb, a game
catalogue's pages, a magazine's daily puzzles. On the corpus 7 of the 12 stories
of several documents were such pairs of one feed, 5 of them with different texts
(bench/README.md, "Session 30"), and each such join cost an alert: a watch that
alerted on one episode never heard of the next. So a document does not join, by
similarity, a document of the same outlet (the same feed, its links on the same
host or both without one) under another title (compared case-folded), unless
their texts are the same words (one item re-headlined). The same title, another
host in one feed (an aggregator's entries from several outlets) and other feeds
join as before. A seed folder is not one outlet (its files come from anywhere):
the rule is for feeds only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)

from newswatch.dedup.signature import band_keys, similarity, unsigned_band_keys_of
from newswatch.model import FEED_ORIGIN, Alert, Outlet, Story
from newswatch.store.bulk import list_parameter, placeholder, select_in
from newswatch.store.dialect import insert_ignoring_conflicts
from newswatch.store.tables import alerts, documents, story_bands, story_periods

# How many other outlets an alert or a story lists at most.
MAX_OUTLETS = 20
PERIOD = 2 * 86_400  # seconds: band rows are filed by the period their document was stored
_LOW = 0xFFFFFFFF  # the band key proper, below the period
# Archived rows (periods before the current one): their band key above their period
_ARCHIVE = 1 << 62  # the archive's first key: above every current row's
_DAY_BITS = 20  # an archived row's period: 2 days x 2**20, until the year 7700
_ARCHIVE_SPAN = 1 << (32 + _DAY_BITS)
_SWEEP_STEP = _ARCHIVE_SPAN >> 4  # archived keys a prune sweeps per statement: 1/16
_MOVE_STEP = 1 << 28  # current keys archived per statement: 1/16 of a period
_TIDY = "newswatch.stories.tidy"  # connection.info: (first, today, archive) once tidied


@dataclass(frozen=True, slots=True)
class Listing:
    """Where and how a document was listed: by which source (its stable key, `feed:URL`
    or `seed:FOLDER`), under which title, with which link (module docstring)."""

    origin: str | None = None
    title: str = ""
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Placed:
    """A stored document to place in a story."""

    id: int
    signature: bytes | None
    moment: datetime  # published, or stored when undated
    listing: Listing = Listing()


@dataclass(frozen=True, slots=True)
class _Candidate:
    id: int
    story_id: int
    signature: bytes
    moment: datetime
    listing: Listing


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
    first, today, recent, archived = _tidy(connection, now, window)
    keyed = _band_keys(placed)
    every = [k for found in keyed.values() for k in found]
    distinct = set(every)
    stored = _candidates(connection, distinct, first, today, recent, archived)
    # keys two of the batch share: only through those is one a candidate for another
    # (counted only when there are any: most batches share none)
    shared: set[int] = set()
    if len(distinct) < len(every):
        shared = {k for k, n in Counter(every).items() if n > 1}
    stories: dict[int, int] = {}
    for item in placed:
        story = _best_story(item, keyed.get(item.id, []), stored, threshold, window)
        stories[item.id] = story if story is not None else item.id
        if item.signature is not None and shared:
            candidate = _Candidate(
                item.id, stories[item.id], item.signature, item.moment, item.listing
            )
            for key in shared.intersection(keyed[item.id]):
                stored.setdefault(key, []).append(candidate)
    joined = {d: s for d, s in stories.items() if d != s}
    if joined:
        change = (
            update(documents)
            .where(documents.c.id == bindparam("document"))
            .values(story_id=bindparam("story"))
        )
        connection.execute(change, [{"document": d, "story": s} for d, s in joined.items()])
    today_key = today << 32
    rows = [(today_key | k, d) for d, keys in keyed.items() for k in keys]
    rows.sort(key=itemgetter(0))  # by key alone: comparing ints, not tuples (0.7x)
    _insert_bands(connection, rows)
    return stories


def _day(moment: datetime) -> int:
    """The number of the PERIOD holding a moment (periods since 1970-01-01 UTC)."""
    return int(moment.timestamp()) // PERIOD


def _archived(band_key: int, day: int) -> int:
    """An archived band row's key: the band key above the period (20 bits)."""
    return _ARCHIVE | band_key << _DAY_BITS | day


def _tidy(connection: Connection, now: datetime, window: timedelta) -> tuple[int, int, int, bool]:
    """The window's first and current periods, and the first period the current
    part may still hold rows of, once earlier periods' rows are archived and those
    that left the window pruned (each step within a budget: the first batch of a
    period does not move a whole period's rows in its transaction; what is left
    goes on in the next batch). When all is done this connection remembers it until
    the window moves: no statement a batch. (A transaction that archived and was
    rolled back leaves the rows where they were, found by the next period's check.)
    Last, whether the archive may hold rows: a young database has none to probe."""
    first, today = _day(now - window), _day(now)
    known = connection.info.get(_TIDY)
    if known is not None and known[:2] == (first, today):
        return first, today, today, known[2]
    sql = "SELECT (SELECT min(band_key) FROM story_bands), (SELECT min(period) FROM story_periods)"
    oldest_key, oldest_archived = connection.exec_driver_sql(sql).one()
    done, archived = True, oldest_archived is not None
    if oldest_key is not None and oldest_key < today << 32:
        oldest_key, archived = _archive(connection, first, today, oldest_key), True
        done = oldest_key is None or oldest_key >= today << 32
    if oldest_archived is not None and oldest_archived < first:
        done = prune_bands(connection, first) is not None and done
    archived = archived or (oldest_key is not None and oldest_key >= _ARCHIVE)
    if done:
        connection.info[_TIDY] = (first, today, archived)
    recent = today if oldest_key is None or oldest_key >= _ARCHIVE else oldest_key >> 32
    return first, today, max(first, min(recent, today)), archived


def _archive(
    connection: Connection, first: int, today: int, low: int | None, budget: int = 50_000
) -> int | None:
    """Move the current part's rows of periods before `today` to the archive (those
    before `first` are deleted instead), from the lowest band key stored, `low`, a
    slice of band keys at a time, until about `budget` rows went; list their periods
    in `story_periods`. Return the lowest band key stored then (None: no row)."""
    moved, days = 0, set()
    while low is not None and low < today << 32 and moved < budget:
        high = min(today << 32, (low | (_MOVE_STEP - 1)) + 1)
        day = low >> 32
        if day >= first:
            days.add(day)
            connection.exec_driver_sql(
                "INSERT INTO story_bands (band_key, document_id)"
                f" SELECT {_ARCHIVE | day} + (band_key - {day << 32}) * {1 << _DAY_BITS},"
                f" document_id FROM story_bands WHERE band_key >= {low} AND band_key < {high}"
                " ORDER BY band_key, document_id ON CONFLICT DO NOTHING"
            )
        deleted = connection.exec_driver_sql(
            f"DELETE FROM story_bands WHERE band_key >= {low} AND band_key < {high}"
        )
        moved += int(deleted.rowcount or 0)
        low = connection.exec_driver_sql("SELECT min(band_key) FROM story_bands").scalar()
    if days:
        rows = [{"period": day, "swept": _ARCHIVE} for day in sorted(days)]
        connection.execute(insert_ignoring_conflicts(connection, story_periods), rows)
    return low


def prune_bands(connection: Connection, first_day: int, budget: int = 50_000) -> int | None:
    """Delete archived band rows filed before `first_day`; return how many went, None
    when some may be left (the sweep goes on from there on the next call).

    An archived period's rows are spread over the archive (the band key comes
    first): a prune sweeps its keys a slice (1/16) at a time, until about `budget`
    rows went, and keeps how far it got in `story_periods`. A finished sweep drops
    the periods it pruned from the list."""
    old = story_periods.c.period < first_day
    swept = connection.execute(select(func.min(story_periods.c.swept)).where(old)).scalar()
    if swept is None:
        return 0
    gone, key, end = 0, int(swept), _ARCHIVE + _ARCHIVE_SPAN
    filed = story_bands.c.band_key.op("&")((1 << _DAY_BITS) - 1)
    while gone < budget and key < end:
        last = key + _SWEEP_STEP - 1
        deleted = connection.execute(
            delete(story_bands).where(story_bands.c.band_key.between(key, last), filed < first_day)
        )
        gone += int(deleted.rowcount or 0)
        key = last + 1
    if key >= end:
        connection.execute(delete(story_periods).where(old))
        return gone
    connection.execute(update(story_periods).where(old).values(swept=key))
    return None


def _band_keys(placed: Sequence[Placed]) -> dict[int, list[int]]:
    """{document id: its distinct band keys (unsigned 32-bit)}, for the whole batch at once."""
    signed = [p for p in placed if p.signature]
    if not signed:
        return {}
    keys = unsigned_band_keys_of([p.signature for p in signed if p.signature])
    return {p.id: list(dict.fromkeys(row)) for p, row in zip(signed, keys, strict=True)}


def filed_key(band_key: int, day: int, today: int) -> int:
    """The key of a band row filed in period `day` once `today` is the current period
    and earlier periods are archived (for tools that fill the table themselves)."""
    key = band_key & _LOW
    return day << 32 | key if day >= today else _archived(key, day)


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


# a band key's rows of the current part's periods, one probe each, and its run of
# archived rows of the window's periods, one range
_CANDIDATES = """\
SELECT b.band_key, d.id, d.story_id, d.signature, d.published, d.created_at,
  d.origin, d.title, d.url
FROM {keys} CROSS JOIN story_bands b CROSS JOIN documents d
WHERE {match} AND d.id = b.document_id"""


def _candidates(
    connection: Connection,
    keys: set[int],
    first: int,
    today: int,
    recent: int,
    archived: bool,
) -> dict[int, list[_Candidate]]:
    """Stored documents sharing a band key filed in a period of the window, by band key
    (the current part's periods from `recent` on; the archive's of the whole window,
    when it may hold rows). The keys are ints, written into the SQL as such and run
    by the driver: rendering an expanding bind parameter (or parsing a text() clause)
    of hundreds of keys cost more than the lookup."""
    found: dict[int, list[_Candidate]] = {}
    if not keys:
        return found
    ordered = sorted(keys)
    oldest = _ARCHIVE | first
    # a document found through several keys (a copy shares most): made once
    made: dict[int, _Candidate] = {}
    for start in range(0, len(ordered), 2000):
        chunk = ordered[start : start + 2000]
        current = [day << 32 | key for day in range(recent, today + 1) for key in chunk]
        bases = [oldest | key << _DAY_BITS for key in chunk] if archived else None
        rows = _candidate_rows(connection, current, bases, today - first)
        for band_key, document_id, story_id, signature, published, created_at, *listed in rows:
            if signature is None:
                continue
            candidate = made.get(document_id)
            if candidate is None:
                moment = _utc(published or created_at)
                candidate = _Candidate(
                    document_id, story_id or document_id, bytes(signature), moment, Listing(*listed)
                )
                made[document_id] = candidate
            key = (band_key >> _DAY_BITS if band_key >= _ARCHIVE else band_key) & _LOW
            found.setdefault(key, []).append(candidate)
    return found


def _candidate_rows(
    connection: Connection, current: list[int], archived: list[int] | None, span: int
) -> Any:
    """PostgreSQL: array parameters. SQLite: JSON arrays read by json_each (the list
    written into the SQL took longer to parse than the lookup)."""
    if connection.dialect.name == "postgresql":
        keys = "unnest(%s::bigint[]) AS k(base)"
    else:
        keys = f"(SELECT value AS base FROM json_each({placeholder(connection.dialect)})) k"
    sql = _CANDIDATES.format(keys=keys, match="b.band_key = k.base")
    lists = [current]
    if archived is not None:
        match = f"b.band_key BETWEEN k.base AND k.base + {int(span)}"
        sql += "\nUNION ALL\n" + _CANDIDATES.format(keys=keys, match=match)
        lists.append(archived)
    parameters = tuple(list_parameter(connection.dialect, values) for values in lists)
    return connection.exec_driver_sql(sql, parameters)


def _utc(value: datetime | str) -> datetime:
    """A date as the driver returns it (SQLite: naive UTC text) as an aware UTC datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _best_story(
    item: Placed,
    keys: Sequence[int],
    stored: dict[int, list[_Candidate]],
    threshold: float,
    window: timedelta,
) -> int | None:
    if item.signature is None or stored.keys().isdisjoint(keys):
        return None
    best: tuple[float, int] | None = None
    seen: set[int] = set()
    for key in keys:
        for candidate in stored.get(key, ()):
            if candidate.id in seen or candidate.id == item.id:
                continue
            seen.add(candidate.id)
            if abs(candidate.moment - item.moment) > window or _listed_apart(item, candidate):
                continue
            score = similarity(item.signature, candidate.signature)
            if score >= threshold and (best is None or score > best[0]):
                best = (score, candidate.story_id)
    return best[1] if best else None


def _listed_apart(item: Placed, candidate: _Candidate) -> bool:
    """True for two items of one outlet under different titles and with different
    texts: two items, not one story (module docstring)."""
    mine, theirs = item.listing, candidate.listing
    return (
        mine.origin is not None
        and mine.origin.startswith(FEED_ORIGIN)
        and theirs.origin == mine.origin
        and theirs.title.casefold() != mine.title.casefold()
        and candidate.signature != item.signature
        and _host(theirs.url) == _host(mine.url)
    )


def _host(url: str | None) -> str | None:
    """The link's host; of a link no URL parser reads (an unclosed IPv6 bracket), what
    stands between its `//` and the next `/`."""
    if not url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return url.partition("//")[2].partition("/")[0].lower()


def story_ids(connection: Connection, document_ids: Iterable[int]) -> dict[int, int]:
    """Each document's story id (its own id where it started its story), by the driver:
    run once per stored feed with alerts (issue 11)."""
    ids = sorted(set(document_ids))
    if not ids:
        return {}
    rows = select_in(connection, _STORY_OF, ids, kind="bigint")
    return {document_id: story_id or document_id for document_id, story_id in rows}


def first_per_story(connection: Connection, batch: Sequence[Alert]) -> list[Alert]:
    """Alerts whose story has not alerted this watch yet (one per story and watch).

    An alert of the same document is kept: the alerts table's unique index
    decides whether it is new (an edited document never alerts twice). Both
    look-ups go by the driver (through Core, building the two selects cost about
    as much as running them; issue 11).
    """
    if not batch:
        return []
    stories = story_ids(connection, [a.document_id for a in batch])
    ordered = sorted(set(stories.values()))
    found = select_in(connection, _ALERTED, ordered, ordered, kind="bigint")
    done = {(story or id_, kind, watch): alerted for id_, story, alerted, kind, watch in found}
    kept: list[Alert] = []
    for alert in batch:
        key = (stories.get(alert.document_id, alert.document_id), alert.kind, alert.watch)
        if done.setdefault(key, alert.document_id) == alert.document_id:
            kept.append(alert)
    return kept


_STORY_OF = "SELECT id, story_id FROM documents WHERE id IN ({})"
# the alerts of these stories' documents: each story's first document and those that joined it
_ALERTED = """\
SELECT documents.id, documents.story_id, alerts.document_id, alerts.kind, alerts.watch
FROM alerts JOIN documents ON documents.id = alerts.document_id
WHERE documents.id IN ({}) OR documents.story_id IN ({})"""


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
