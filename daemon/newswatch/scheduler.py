"""APScheduler 3 as an in-process timer: it only decides *when*; the pipeline does the work."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler

from newswatch.config import Config
from newswatch.ops.memory import release_connections, release_memory
from newswatch.pipeline import Pipeline

if TYPE_CHECKING:
    from newswatch.config import FeedSource
    from newswatch.pipeline import RefreshReport

OUTBOX_INTERVAL = timedelta(seconds=30)
OUTBOX_PREFIX = "outbox:"
PARSERS_IDLE = timedelta(minutes=2)
PARSERS_IDLE_CHECK = timedelta(minutes=1)
FEED_TICK = timedelta(seconds=5)
SOURCE_JOB_PREFIX = "source:"
STATUS_INTERVAL = timedelta(seconds=30)
RETENTION_INTERVAL = timedelta(days=1)
RETENTION_FIRST = timedelta(hours=1)


def new_scheduler() -> BackgroundScheduler:
    return BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )


def schedule_sources(scheduler: BackgroundScheduler, config: Config, pipeline: Pipeline) -> None:
    """(Re)place one job per source; every job runs once at once, then on its interval."""
    for job in scheduler.get_jobs():
        if job.id.startswith(SOURCE_JOB_PREFIX):
            job.remove()
    now = datetime.now(UTC)
    node = pipeline.node.id if pipeline.node is not None else None
    for seed in config.sources.seeds:
        if seed.node is not None and seed.node != node:
            continue  # a folder on another node's machine
        _every(
            scheduler,
            f"{SOURCE_JOB_PREFIX}seeds:{seed.source_name}",
            seed.interval or config.schedule.seed_scan,
            pipeline.rescan_seeds,
            (seed,),
            now,
        )
    if config.sources.feeds:
        # one job for all feeds: each feed's next poll lives in the database
        _every(
            scheduler,
            f"{SOURCE_JOB_PREFIX}feeds",
            FEED_TICK,
            feed_cycle,
            (pipeline, config.sources.feeds),
            now,
        )


def feed_cycle(pipeline: Pipeline, feeds: Sequence[FeedSource]) -> list[RefreshReport]:
    """The daemon's feed cycle. After one that parsed bodies the heap is given back: the
    daemon idles next, and should not idle at the cycle's peak. (`ingest` exits
    instead: there a full collection, 0.1 s in a large heap, bought nothing.)"""
    reports = pipeline.refresh_feeds(feeds)
    if any("entries" in report.details for report in reports):
        release_memory()
    return reports


def schedule_housekeeping(scheduler: BackgroundScheduler, pipeline: Pipeline) -> None:
    """Stop idle parse workers; they start again with the next large feed body."""
    _every(
        scheduler,
        "parsers-idle",
        PARSERS_IDLE_CHECK,
        rest_if_idle,
        (pipeline, PARSERS_IDLE.total_seconds()),
        datetime.now(UTC) + PARSERS_IDLE_CHECK,
    )


def rest_if_idle(pipeline: Pipeline, idle_s: float) -> bool:
    """Once the feeds have been quiet for `idle_s`: stop the parse workers, close the
    pooled database connections (their page and statement caches, ~12 MB after a cold
    cycle; the next use opens one) and give the freed heap back. True if it did."""
    if not pipeline.parsers.close_if_idle(idle_s):
        return False
    release_connections(pipeline.engine)
    release_memory()
    return True


def schedule_retention(scheduler: BackgroundScheduler, config: Config, pipeline: Pipeline) -> None:
    """Purge old documents daily (first an hour after start), if `retention.documents` is set."""
    with contextlib.suppress(JobLookupError):
        scheduler.remove_job("retention")
    period = config.retention.documents
    if period is not None:
        first = datetime.now(UTC) + RETENTION_FIRST
        _every(scheduler, "retention", RETENTION_INTERVAL, pipeline.purge, (period,), first)


def schedule_supervision(
    scheduler: BackgroundScheduler,
    ping: Callable[[], object],
    ping_every: timedelta | None,
    report: Callable[[], object],
) -> None:
    """WATCHDOG=1 from the scheduler's own threads (so a stuck scheduler stops pinging,
    and systemd restarts it), and a STATUS= line every half minute."""
    now = datetime.now(UTC)
    if ping_every is not None:
        _every(scheduler, "watchdog", ping_every, ping, (), now)
    _every(scheduler, "status", STATUS_INTERVAL, report, (), now)


def schedule_outbox(scheduler: BackgroundScheduler, pipeline: Pipeline) -> None:
    """One delivery job per sink: run at once when alerts are stored, and every 30 s to
    retry failures. Importing never waits for a sink, nor one sink for another."""
    for job in scheduler.get_jobs():
        if job.id.startswith(OUTBOX_PREFIX):
            job.remove()
    now = datetime.now(UTC)
    for sink in pipeline.sinks:
        _every(
            scheduler, OUTBOX_PREFIX + sink.key, OUTBOX_INTERVAL, pipeline.deliver, (sink.key,), now
        )
    pipeline.wake_delivery = lambda: _run_outbox_now(scheduler)


def _run_outbox_now(scheduler: BackgroundScheduler) -> None:
    now = datetime.now(UTC)
    for job in scheduler.get_jobs():
        if job.id.startswith(OUTBOX_PREFIX):
            with contextlib.suppress(JobLookupError, SchedulerNotRunningError):  # stopping
                job.modify(next_run_time=now)


def _every(
    scheduler: BackgroundScheduler,
    job_id: str,
    interval: timedelta,
    func: Callable[..., object],
    args: tuple[object, ...],
    first: datetime,
) -> None:
    scheduler.add_job(
        func,
        "interval",
        seconds=interval.total_seconds(),
        args=args,
        id=job_id,
        name=job_id,
        next_run_time=first,
        replace_existing=True,
    )
