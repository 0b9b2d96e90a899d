"""Feed cycles: due feeds -> fetch (streamed) -> parse -> store and match -> next state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from newswatch import feedcycle
from newswatch.config import FeedSource
from newswatch.feedpolicy import FeedState, after_fetch
from newswatch.feedwork import FeedBody, ParsedBody
from newswatch.log import get_logger
from newswatch.pipeline.core import PipelineCore, RefreshReport, database_error
from newswatch.sources.http import FetchResult
from newswatch.store import feeds as feed_store

log = get_logger(__name__)


class FeedRefresh:
    """One feed cycle: due feeds -> fetch -> parse -> store and match -> next state."""

    def __init__(self, pipeline: PipelineCore, force: bool) -> None:
        self.pipeline = pipeline
        self.force = force
        self.settings = pipeline.feed_settings

    def run(self, feeds: Sequence[FeedSource]) -> list[RefreshReport]:
        due = self._due(feeds, self.pipeline.clock())
        if not due or self.pipeline.stop_requested.is_set():
            return []
        reports = []
        stop = self.pipeline.stop_requested
        for batch in feedcycle.fetch_in_batches(due, self.settings.fetch, stop):
            parsed = self._parse([(due[i], result) for i, result in batch])
            for (index, result), body in zip(batch, parsed, strict=True):
                reports.append(self._finish(due[index], result, body))
            self.pipeline.deliver()
        return reports

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
        changed = [r for url, r in records.items() if stored.get(url) is not r]
        if changed:
            with pipeline.write_lock, pipeline.engine.begin() as connection:
                feed_store.save_records(connection, changed)
        return feedcycle.select_due(feeds, records, now, interval, force=self.force)

    def _parse(
        self, fetched: Sequence[tuple[feedcycle.DueFeed, FetchResult]]
    ) -> list[ParsedBody | None]:
        """Parse the bodies that came back (in worker processes when there are many)."""
        fetched_at = self.pipeline.clock()
        work = {
            index: FeedBody(
                body=result.body,
                url=result.final_url,
                headers=result.headers,
                source=due.source.name or due.record.title,
                fetched_at=fetched_at,
            )
            for index, (due, result) in enumerate(fetched)
            if result.outcome == "ok" and result.body is not None
        }
        parsed = dict(zip(work, self.pipeline.parsers.parse_all(list(work.values())), strict=True))
        return [parsed.get(index) for index in range(len(fetched))]

    def _finish(
        self, due: feedcycle.DueFeed, result: FetchResult, parsed: ParsedBody | None
    ) -> RefreshReport:
        pipeline = self.pipeline
        record = due.record
        name = due.source.name or (parsed and parsed.title) or record.title or due.source.url
        report = RefreshReport(source=name, status=_feed_status(result, parsed))
        report.details = {
            "url": record.state.fetch_url,
            "http_status": result.status,
            "fetch_ms": round(result.elapsed_ms, 1),
        }
        state = after_fetch(
            record.state,
            result,
            now=pipeline.clock(),
            interval=due.interval,
            max_backoff=self.settings.fetch.max_backoff,
            rng=pipeline.rng,
            bozo=parsed.bozo if parsed else None,
            parse_error=parsed.error if parsed else None,
        )
        try:
            with pipeline.write_lock, pipeline.engine.begin() as connection:
                if parsed and parsed.documents:
                    report.add(pipeline.store_and_match(connection, parsed.documents))
                feed_store.save_records(connection, [_next_record(record, state, parsed, report)])
        except SQLAlchemyError as exc:
            report.status, report.error = "error", database_error(pipeline.engine, exc)
        _log_feed_events(record.state, state, parsed, name)
        if report.status in ("error", "gone"):
            report.error = report.error or state.last_error
        report.log()
        return report


def _feed_status(result: FetchResult, parsed: ParsedBody | None) -> str:
    if parsed is not None and parsed.error:
        return "error"
    return result.outcome


def _next_record(
    record: feed_store.FeedRecord,
    state: FeedState,
    parsed: ParsedBody | None,
    report: RefreshReport,
) -> feed_store.FeedRecord:
    if parsed is None or parsed.error:
        return feed_store.with_state(record, state)
    return feed_store.with_state(
        record,
        state,
        title=parsed.title or record.title,
        documents=record.documents + report.new,
        entries_last=len(parsed.documents),
        bozo_count=record.bozo_count + (1 if parsed.bozo else 0),
    )


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
