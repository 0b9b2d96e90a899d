"""Feed cycles: due feeds -> fetch (streamed) -> parse -> store and match -> next state."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from newswatch import feedcycle
from newswatch.alerts.sink import Announcing, SinkError
from newswatch.feedpolicy import FeedState, after_fetch
from newswatch.log import get_logger
from newswatch.model import FEED_ORIGIN
from newswatch.ops.feedhealth import FeedView, Notice, Raised, judge
from newswatch.ops.memory import tune_heap
from newswatch.parsing.feedwork import FeedBody, ParseAbandoned, ParsedBody, Parsing
from newswatch.pipeline.core import IngestCounts, PipelineCore, RefreshReport
from newswatch.sources.http import FetchResult
from newswatch.store import feeds as feed_store
from newswatch.store.db import database_error

if TYPE_CHECKING:
    from newswatch.config import FeedSource

log = get_logger(__name__)

# Start the parse workers ahead of the first body when this many due feeds have no
# validators (so will send a body); otherwise, a cycle of 304s would start them for
# nothing: they start (if at all) with the first body large enough to need them.
WARM_UP_AT = 8
# Feeds that brought no body (304, same body, errors) have only their state to save:
# saved together, at most this many or this late, instead of one transaction each
# (a commit per feed was most of a steady cycle's store time).
STATE_BATCH = 100
STATE_BATCH_S = 1.0
# Parsed feeds are stored together too, in one transaction of at most this many
# feeds or documents, held at most this long (a commit per feed was most of a
# cold pass's store time); a crash repeats them, as they are not marked polled.
STORE_BATCH = 50
STORE_BATCH_DOCUMENTS = 2000
STORE_BATCH_S = 1.0
# ... or of this many characters of text (titles and bodies): what waits in the main
# process is bounded by size too, not only by count (issue 11: on a cold pass the
# parsed feeds waiting to be stored were most of the main process's growth).
STORE_BATCH_CHARS = 2**20


@dataclass
class _Unsaved:
    """A polled feed whose next state waits to be saved with others."""

    due: feedcycle.DueFeed
    before: FeedState
    state: FeedState
    record: feed_store.FeedRecord
    report: RefreshReport
    name: str


@dataclass
class _Held:
    """A parsed feed waiting to be stored with others."""

    due: feedcycle.DueFeed
    state: FeedState
    parsed: ParsedBody
    report: RefreshReport
    name: str


_Outcome = tuple[IngestCounts, feed_store.FeedRecord]
_Done = tuple[_Held, _Outcome | None, str | None]  # what storing did, or why it failed


class FeedRefresh:
    """One feed cycle: due feeds -> fetch -> parse -> store and match -> next state."""

    def __init__(self, pipeline: PipelineCore, force: bool) -> None:
        self.pipeline = pipeline
        self.force = force
        self.settings = pipeline.feed_settings
        self._unsaved: list[_Unsaved] = []
        self._unsaved_since = 0.0
        self._held: list[_Held] = []
        self._held_since = 0.0
        self._held_documents = 0
        self._held_chars = 0
        self._reports: list[RefreshReport] = []
        self._fetched = threading.Event()  # every due feed fetched: the cycle's tail

    def run(self, feeds: Sequence[FeedSource]) -> list[RefreshReport]:
        due = self._due(feeds, self.pipeline.clock())
        node = self.pipeline.node
        if due and node is not None:  # several nodes: poll only the feeds this one claimed
            due = node.claim(due, force=self.force)
        if not due or self.pipeline.stop_requested.is_set():
            if node is not None:
                node.release(due)
            return []
        finished: set[int] = set()
        try:
            return self._poll(due, finished)
        finally:
            if node is not None and len(finished) < len(due):
                node.release([d for i, d in enumerate(due) if i not in finished])

    def _poll(self, due: list[feedcycle.DueFeed], finished: set[int]) -> list[RefreshReport]:
        stop = self.pipeline.stop_requested
        fetched_at = self.pipeline.clock()
        tune_heap()  # done by the command line; for other callers, before fetching at least
        if sum(1 for feed in due if _sends_a_body(feed)) >= WARM_UP_AT:
            self.pipeline.parsers.warm_up()

        def start_parsing(index: int, result: FetchResult) -> Parsing | None:
            return self._start_parsing(due[index], result, fetched_at)

        stream = feedcycle.fetch_streamed(
            due,
            self.settings.fetch,
            stop,
            start_parsing,
            idle=self._idle,
            max_ready_bytes=feedcycle.ready_bytes(self.pipeline.parsers.workers),
            fetched=self._fetched,
        )
        try:
            for index, result, parsing in stream:
                try:
                    parsed = self._parsed(parsing)
                except ParseAbandoned:
                    break
                if stop.is_set():
                    break  # stopping: store nothing more
                self._finish(due[index], result, parsed)
                del result, parsing, parsed  # the body and its parse: not kept while waiting
                finished.add(index)
                if self._unsaved and time.monotonic() - self._unsaved_since > STATE_BATCH_S:
                    self._save_unsaved()
        finally:
            self._store_parsed()  # what was polled is saved, stopping or not
            self._save_unsaved()
        if stop.is_set() and len(self._reports) < len(due):
            log.info(
                "feed_cycle_abandoned",
                finished=len(self._reports),
                left=len(due) - len(self._reports),
                hint="stopping; the feeds left are polled again at the next start",
            )
        return self._reports

    def _parsed(self, parsing: Parsing | None) -> ParsedBody | None:
        """The parse's result; the feeds parsed already are stored while it runs on."""
        if parsing is None:
            return None
        while not parsing.wait(0) and not parsing.wait(self._idle()):
            pass
        return parsing.result()

    def _idle(self) -> float | None:
        """Nothing to do but wait: store the parsed feeds held if they waited long enough,
        or at once in the cycle's tail; else how long they may still wait (None: none held).

        In the tail (every feed fetched, the last ones parsing) the feeds held are stored
        while the workers finish, not after them: a cold pass ended with up to a whole
        batch stored, its feeds' alerts then delivered, with the workers done (issue 11).
        """
        if not self._held:
            return None
        if self._fetched.is_set():
            self._store_parsed()
            return None
        left = self._held_since + STORE_BATCH_S - time.monotonic()
        if left > 0:
            return left
        self._store_parsed()
        return None

    def _due(self, feeds: Sequence[FeedSource], now: datetime) -> list[feedcycle.DueFeed]:
        pipeline = self.pipeline
        with pipeline.engine.connect() as connection:
            stored = feed_store.load_records(connection, [f.url for f in feeds])
        interval = self.settings.interval
        records = {
            f.url: feedcycle.current_record(
                f, stored.get(f.url), now, f.interval or interval, pipeline.rng
            )
            for f in feeds
        }
        added = [r for url, r in records.items() if url not in stored]
        changed = [r for url, r in records.items() if url in stored and stored[url] is not r]
        if added or changed:
            with pipeline.write_lock, pipeline.engine.begin() as connection:
                feed_store.add_records(connection, added)  # another node may have just added them
                feed_store.save_records(connection, changed)
        return feedcycle.select_due(feeds, records, now, interval, force=self.force)

    def _start_parsing(
        self, due: feedcycle.DueFeed, result: FetchResult, fetched_at: datetime
    ) -> Parsing | None:
        """Hand a fetched body to the parsers (None when there is nothing to parse)."""
        if result.outcome != "ok" or result.body is None:
            return None
        work = FeedBody(
            body=result.body,
            url=result.final_url,
            headers=result.headers,
            source=due.source.name or due.record.title,
            fetched_at=fetched_at,
            salience=tuple(self.pipeline.salience.items()),
            context=self._stored_bodies(due),
        )
        return self.pipeline.parsers.submit(work)

    def _stored_bodies(self, due: feedcycle.DueFeed) -> tuple[str, ...]:
        """The feed's latest stored bodies (none for a feed that stored nothing yet):
        where its batch's boilerplate is sought too (dedup.signature). Read on the
        fetching thread, as the body comes in; a database error leaves them out, and
        the store says it."""
        if not due.record.documents:
            return ()
        from newswatch.store.documents import signing_context

        try:
            with self.pipeline.engine.connect() as connection:
                found = signing_context(connection, feed_origin(due.source))
        except SQLAlchemyError:
            return ()
        return tuple(found)

    def _finish(
        self, due: feedcycle.DueFeed, result: FetchResult, parsed: ParsedBody | None
    ) -> None:
        """Judge the fetch; what it brought waits to be stored with other feeds' (see _Held)."""
        pipeline = self.pipeline
        record = due.record
        name = due.source.name or (parsed and parsed.title) or record.title or due.source.url
        report = RefreshReport(source=name, status=_feed_status(result, parsed))
        report.label = feed_label(due.source)
        report.details = {
            "url": record.state.fetch_url,
            "http_status": result.status,
            "fetch_ms": round(result.elapsed_ms, 1),
        }
        if parsed is not None and not parsed.error:
            report.details["entries"] = len(parsed.documents)
        state = after_fetch(
            record.state,
            result,
            now=pipeline.clock(),
            interval=due.interval,
            max_backoff=self.settings.fetch.max_backoff,
            rng=pipeline.rng,
            bozo=parsed.bozo if parsed else None,
            parse_error=parsed.error if parsed else None,
            entries=len(parsed.documents) if parsed else None,
            unreadable=parsed.unreadable if parsed else None,
        )
        self._reports.append(report)
        if parsed is None:  # nothing to store but the state: saved with others
            stored = _next_record(record, state, parsed, report, pipeline.clock())
            self._defer(_Unsaved(due, record.state, state, stored, report, name))
            return
        if not self._held:
            self._held_since = time.monotonic()
        self._held.append(_Held(due, state, parsed, report, name))
        self._held_documents += len(parsed.documents)
        self._held_chars += sum(len(d.title) + len(d.body) for d in parsed.documents)
        if (
            len(self._held) >= STORE_BATCH
            or self._held_documents >= STORE_BATCH_DOCUMENTS
            or self._held_chars >= STORE_BATCH_CHARS
        ):
            self._store_parsed()

    def _store_parsed(self) -> None:
        """Store the parsed feeds held, with the states waiting, in one transaction.

        A feed's documents, alerts and next state are stored together or not at
        all: a crash before the commit repeats the feeds held (their state says
        they were not polled), never loses one. When the batch fails, each feed
        is tried alone, so one that cannot be stored costs only itself.
        """
        held, self._held, self._held_documents, self._held_chars = self._held, [], 0, 0
        if not held:
            return
        unsaved, self._unsaved = self._unsaved, []
        pipeline = self.pipeline
        try:
            with pipeline.write_lock, pipeline.engine.begin() as connection:
                done: list[_Done] = [self._store(connection, h) for h in held]
                records = [outcome[1] for _, outcome, _ in done if outcome is not None]
                records += [u.record for u in unsaved]
                feed_store.save_records(connection, records, _owner(pipeline))
        except SQLAlchemyError as exc:
            self._unsaved = unsaved + self._unsaved
            self._save_unsaved()  # on their own
            if len(held) > 1 and not isinstance(exc, OperationalError):
                done = [self._store_alone(h) for h in held]
            else:
                done = [(h, None, database_error(pipeline.engine, exc)) for h in held]
        else:
            self._states_saved(unsaved, None)
        for h, outcome, error in done:
            self._stored(h, outcome, error)
        pipeline.alerts_stored(sum(h.report.alerts for h in held))

    def _store(self, connection: Connection, held: _Held) -> _Done:
        """One feed's documents, in the caller's transaction, and its next state to save."""
        pipeline, parsed = self.pipeline, held.parsed
        counts = IngestCounts()
        if parsed.documents:
            counts = pipeline.store_and_match(
                connection,
                parsed.documents,
                feed_origin(held.due.source),
                parsed.matched,
                parsed.signatures,
                dict(parsed.salience),
            )
        report = replace(held.report, duplicate_of=list(held.report.duplicate_of))
        report.add(counts)
        stored = _next_record(held.due.record, held.state, parsed, report, pipeline.clock())
        held.report.ended = time.perf_counter()  # its duration: not the wait for the others
        return held, (counts, stored), None

    def _store_alone(self, held: _Held) -> _Done:
        pipeline = self.pipeline
        try:
            with pipeline.write_lock, pipeline.engine.begin() as connection:
                done = self._store(connection, held)
                if done[1] is not None:
                    feed_store.save_records(connection, [done[1][1]], _owner(pipeline))
                return done
        except SQLAlchemyError as exc:
            return held, None, database_error(pipeline.engine, exc)

    def _stored(self, held: _Held, outcome: _Outcome | None, error: str | None) -> None:
        """After the commit (or the failure): count, judge the feed's health and log it."""
        report, parsed = held.report, held.parsed
        if outcome is None:
            report.status, report.error = "error", error
        else:
            counts, stored = outcome
            report.add(counts)
            watch_health(self.pipeline, held.due.source, stored)
        _log_feed_events(held.due.record.state, held.state, parsed, held.name)
        if parsed.truncated:
            report.details["truncated"] = parsed.truncated
            log.warning(
                "feed_entries_truncated",
                source=held.name,
                url=held.due.record.state.fetch_url,
                entries=parsed.truncated,
                max_chars=_max_text_chars(),
                hint="entries this long are cut; the rest of their text is not stored",
            )
        _log_outcome(report, held.state)

    def _defer(self, unsaved: _Unsaved) -> None:
        unsaved.report.ended = time.perf_counter()  # its duration: not the wait for the batch
        if not self._unsaved:
            self._unsaved_since = time.monotonic()
        self._unsaved.append(unsaved)
        if len(self._unsaved) >= STATE_BATCH:
            self._save_unsaved()

    def _save_unsaved(self) -> None:
        """Save the states waiting, in one transaction; then log and judge each feed."""
        batch, self._unsaved = self._unsaved, []
        if not batch:
            return
        pipeline = self.pipeline
        error = None
        try:
            with pipeline.write_lock, pipeline.engine.begin() as connection:
                feed_store.save_records(connection, [u.record for u in batch], _owner(pipeline))
        except SQLAlchemyError as exc:  # the feeds are polled again as if not polled
            error = database_error(pipeline.engine, exc)
        self._states_saved(batch, error)

    def _states_saved(self, batch: list[_Unsaved], error: str | None) -> None:
        """After saving states (or failing to): judge and log each feed."""
        pipeline = self.pipeline
        for unsaved in batch:
            report = unsaved.report
            if error is not None:
                report.status, report.error = "error", error
            else:
                watch_health(pipeline, unsaved.due.source, unsaved.record)
            _log_feed_events(unsaved.before, unsaved.state, None, unsaved.name)
            _log_outcome(report, unsaved.state)


def _owner(pipeline: PipelineCore) -> str | None:
    """The node whose leases a save gives back (None: one node, no leases)."""
    return pipeline.node.id if pipeline.node is not None else None


def _log_outcome(report: RefreshReport, state: FeedState) -> None:
    if report.status in ("error", "gone", "unreadable"):
        report.error = report.error or state.last_error
    report.log()


def watch_health(pipeline: PipelineCore, feed: FeedSource, record: feed_store.FeedRecord) -> None:
    """After a poll: announce a feed failing or silent too long, and its recovery, once."""
    settings = pipeline.feed_settings
    view = FeedView(
        name=feed_label(feed),
        url=feed.url,
        failing_since=record.state.failing_since,
        last_error=record.state.last_error,
        last_new=record.last_new_at,
        raised=_raised(record.health_alert),
    )
    raised, notice = judge(view, pipeline.clock(), settings.failing_after, feed.silent_after)
    if notice is not None:
        fields = {k: v for k, v in notice.record().items() if k != "event"}
        log.warning("feed_health", **fields)
        if not _announce(pipeline, notice):
            return  # not told: tried again after the next poll
    if raised != record.health_alert:
        try:
            with pipeline.write_lock, pipeline.engine.begin() as connection:
                feed_store.set_health_alert(connection, feed.url, raised)
        except SQLAlchemyError as exc:  # told twice at worst, after the next poll
            log.error("feed_health_not_recorded", error=database_error(pipeline.engine, exc))


def _raised(value: str | None) -> Raised | None:
    return "failing" if value == "failing" else "silent" if value == "silent" else None


def _announce(pipeline: PipelineCore, notice: Notice) -> bool:
    """Hand the notice to every sink named in `health.alerts`; False if one failed."""
    settings = pipeline.feed_settings
    told = True
    for sink, name in zip(pipeline.sinks, settings.sink_names, strict=False):
        if name not in settings.health_sinks or not isinstance(sink, Announcing):
            continue
        try:
            sink.announce(notice)
        except SinkError as exc:
            log.error("feed_health_not_sent", sink=name, feed=notice.feed, error=str(exc))
            told = False
    return told


def _sends_a_body(due: feedcycle.DueFeed) -> bool:
    """No ETag nor Last-Modified to send back: the server cannot answer 304."""
    state = due.record.state
    return not (state.etag or state.last_modified)


def feed_label(feed: FeedSource) -> str:
    """What /metrics and /healthz call a feed: its configured name, else its URL."""
    return feed.name or feed.url


def feed_origin(feed: FeedSource) -> str:
    """A feed's stable key: its configured URL (two feeds may share a title or name)."""
    return FEED_ORIGIN + feed.url


def _feed_status(result: FetchResult, parsed: ParsedBody | None) -> str:
    """The canonical line's status: the fetch outcome, or what the body turned out to be."""
    if parsed is None:
        return result.outcome
    if parsed.error:
        return "error"
    if parsed.unreadable:
        return "unreadable"
    return result.outcome if parsed.documents else "empty"


def _next_record(
    record: feed_store.FeedRecord,
    state: FeedState,
    parsed: ParsedBody | None,
    report: RefreshReport,
    now: datetime,
) -> feed_store.FeedRecord:
    if parsed is None or parsed.error:
        return feed_store.with_state(record, state)
    fresh = report.new > 0 or record.last_new_at is None  # silence counts from the first read
    return feed_store.with_state(
        record,
        state,
        last_new_at=now if fresh else record.last_new_at,
        title=parsed.title or record.title,
        documents=record.documents + report.new,
        entries_last=len(parsed.documents),
        last_outcome=_outcome(len(parsed.documents), report),
        bozo_count=record.bozo_count + (1 if parsed.bozo else 0),
    )


def _outcome(entries: int, report: RefreshReport) -> dict[str, object]:
    """What became of each entry of the body, for `newswatch feeds`."""
    return {
        "entries": entries,
        "new": report.new,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "duplicates": report.duplicates,
        "empty": report.empty,
        "duplicate_of": report.duplicate_of,
    }


def _log_feed_events(
    before: FeedState, after: FeedState, parsed: ParsedBody | None, name: str
) -> None:
    if after.current_url and after.current_url != before.current_url:
        log.info(
            "feed_moved",
            source=name,
            url=before.url,
            new_url=after.current_url,
            hint="update the feed's url in the config to stop this redirect",
        )
    if after.status == "gone" and before.status != "gone":
        log.warning(
            "feed_gone",
            source=name,
            url=before.url,
            hint="the server says the feed is gone; edit or remove its config entry",
        )
    if parsed is not None and parsed.bozo:
        log.warning("feed_malformed", source=name, url=after.fetch_url, reason=parsed.bozo)


def _max_text_chars() -> int:
    from newswatch.normalize import MAX_TEXT_CHARS  # only for a body to parse

    return MAX_TEXT_CHARS
