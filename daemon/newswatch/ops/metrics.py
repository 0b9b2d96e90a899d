"""Metrics through prometheus_client: what the pipeline and the outbox record, served
by the status endpoint as Prometheus text or OpenMetrics.

Series are declared up front for every configured source and sink, failure
series included, so a rate() or an alert on them works before the first
failure. `configure` is called at start and on every reload; a source or sink
removed from the config disappears from /metrics and /healthz. Sinks are
labelled by name (`name:` in the config, else `log`, `email`, `email-2`...),
never by address; seed folders by name, never by path.

Gauges that live in the database (outbox backlog per sink, feeds by status)
are read at scrape time by `DatabaseCollector`, which the status endpoint
registers while it runs.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol, cast

from newswatch import __version__

if TYPE_CHECKING:  # imported with the registry: a one-off command never needs them
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
    from prometheus_client.metrics_core import Metric

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DeliveryResult = Literal["ok", "failed", "dead"]
REFRESH_STATUSES = ("ok", "not_modified", "unchanged", "error")  # declared at 0
# every status a refresh can end in: a removed source's series are dropped for each
ALL_REFRESH_STATUSES = (*REFRESH_STATUSES, "gone", "empty", "unreadable", "interrupted")
DELIVERY_RESULTS: tuple[DeliveryResult, ...] = ("ok", "failed", "dead")
# seconds: a 304 answers in milliseconds, a cold large feed in seconds, a hung one in 30 s
REFRESH_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
DELIVERY_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How the last refresh of one source went (for /healthz)."""

    last_refresh: datetime
    status: str
    last_error: str | None


@dataclass
class Labels:
    """The configured sources (label -> kind) and sinks (key -> label)."""

    sources: dict[str, str] = field(default_factory=dict)
    sinks: dict[str, str] = field(default_factory=dict)
    feed_urls: tuple[str, ...] = ()

    def sink(self, key: str) -> str:
        return self.sinks.get(key) or key.partition(":")[0]


class Registry:
    """newswatch's metrics and the last refresh of every source; safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._monotonic_start = time.monotonic()
        self.labels = Labels()
        self._sources: dict[str, SourceHealth] = {}
        self.prometheus = self._declare()

    def _declare(self) -> CollectorRegistry:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            GCCollector,
            Histogram,
            Info,
            PlatformCollector,
            ProcessCollector,
        )

        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        Info("newswatch_build", "The running version.", registry=registry).info(
            {"version": __version__}
        )
        Gauge("newswatch_up", "1 while the daemon runs.", registry=registry).set(1)
        self.refreshes = Counter(
            "newswatch_refreshes",
            "Source refreshes by outcome.",
            ["source", "status"],
            registry=registry,
        )
        self.documents = Counter(
            "newswatch_documents_new",
            "Documents stored the first time.",
            ["source"],
            registry=registry,
        )
        self.duplicates = Counter(
            "newswatch_duplicates",
            "Entries that repeat a stored document.",
            ["source"],
            registry=registry,
        )
        self.alerts = Counter(
            "newswatch_alerts",
            "Alerts raised (stored in the outbox).",
            ["source"],
            registry=registry,
        )
        self.last_refresh = Gauge(
            "newswatch_source_last_refresh_timestamp_seconds",
            "When the last refresh of a source ended (Unix time).",
            ["source"],
            registry=registry,
        )
        self.refresh_time = Histogram(
            "newswatch_refresh_duration_seconds",
            "Time spent refreshing a source, by kind of source.",
            ["kind"],
            buckets=REFRESH_BUCKETS,
            registry=registry,
        )
        self.deliveries = Counter(
            "newswatch_alert_deliveries",
            "Alerts handed to a sink by result: ok, failed (retried), dead (refused for good).",
            ["sink", "result"],
            registry=registry,
        )
        self.delivery_time = Histogram(
            "newswatch_delivery_duration_seconds",
            "Time to hand one message to a sink.",
            ["sink"],
            buckets=DELIVERY_BUCKETS,
            registry=registry,
        )
        return registry

    def clear(self) -> None:
        """Forget every sample and source, as at a fresh start."""
        with self._lock:
            self._sources.clear()
            self.labels = Labels()
            self.prometheus = self._declare()

    def configure(
        self,
        sources: Mapping[str, str],
        sinks: Mapping[str, str],
        feed_urls: Sequence[str] = (),
    ) -> None:
        """The sources now configured (label -> kind: feed, seeds) and sinks (key -> label):
        their series exist at zero from now on; those of removed ones are dropped."""
        with self._lock:
            old = self.labels
            self.labels = Labels(dict(sources), dict(sinks), tuple(feed_urls))
            gone = set(old.sources) - set(sources)
            for label in gone:
                self._sources.pop(label, None)
            self._drop_sources(gone)
            self._drop_sinks({old.sink(key) for key in old.sinks} - set(sinks.values()))
            for label, kind in sources.items():
                self._declare_source(label, kind)
            for label in sinks.values():
                for result in DELIVERY_RESULTS:
                    self.deliveries.labels(label, result)
                self.delivery_time.labels(label)

    def _declare_source(self, label: str, kind: str) -> None:
        for status in REFRESH_STATUSES:
            self.refreshes.labels(label, status)
        for family in (self.documents, self.duplicates, self.alerts):
            family.labels(label)
        self.refresh_time.labels(kind)

    def _drop_sources(self, labels: set[str]) -> None:
        for label in labels:
            for status in ALL_REFRESH_STATUSES:
                _forget(self.refreshes, label, status)
            for family in (self.documents, self.duplicates, self.alerts, self.last_refresh):
                _forget(family, label)

    def _drop_sinks(self, labels: set[str]) -> None:
        for label in labels:
            for result in DELIVERY_RESULTS:
                _forget(self.deliveries, label, result)
            _forget(self.delivery_time, label)

    def note_source(self, name: str, health: SourceHealth) -> None:
        with self._lock:
            self._sources[name] = health

    def sources(self) -> dict[str, SourceHealth]:
        with self._lock:
            return dict(self._sources)

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self._monotonic_start

    def render(self, accept: str | None = None) -> str:
        return self.exposition(accept)[1].decode()

    def exposition(
        self, accept: str | None = None, extra: Collecting | None = None
    ) -> tuple[str, bytes]:
        """(content type, body): OpenMetrics when the scraper asks for it, else text 0.0.4.
        `extra` adds series collected for this scrape only (the database's)."""
        from prometheus_client import CollectorRegistry
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(accept or "")
        scrape = _Scrape((self.prometheus, extra) if extra else (self.prometheus,))
        return content_type, encoder(cast(CollectorRegistry, scrape))


class Collecting(Protocol):
    """What prometheus_client's registry asks of a collector."""

    def collect(self) -> Iterator[Metric]: ...


class _Scrape:
    """The registry's series and a scrape's own, as one registry to the encoders."""

    def __init__(self, parts: Sequence[CollectorRegistry | Collecting]) -> None:
        self._parts = parts

    def collect(self) -> Iterator[Metric]:
        for part in self._parts:
            yield from part.collect()


def _per_source(
    kind: type[Counter] | type[Gauge], name: str, help: str, registry: CollectorRegistry
) -> Counter | Gauge:
    return kind(name, help, ["source"], registry=registry)


def _forget(family: Counter | Gauge | Histogram, *labels: str) -> None:
    with contextlib.suppress(KeyError):
        family.remove(*labels)


_registry: Registry | None = None
_registry_lock = threading.Lock()


def registry() -> Registry:
    """The process's metrics, made on first use (importing prometheus_client then).

    Until something asks for them (the daemon at its start, the status endpoint) nothing
    is recorded: a one-off command like `ingest` has no /metrics to show them on, and
    would pay the import for nothing (issue 11).
    """
    global _registry
    with _registry_lock:
        if _registry is None:
            from prometheus_client import disable_created_metrics

            # `_created` series double the output and help no query here
            disable_created_metrics()  # type: ignore[no-untyped-call]
            _registry = Registry()
        return _registry


def __getattr__(name: str) -> Registry:
    if name == "REGISTRY":  # `metrics.REGISTRY`: the registry, made on first use
        return registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def record_refresh(
    source: str,
    status: str,
    *,
    new: int,
    duplicates: int,
    alerts: int,
    duration_s: float,
    error: str | None,
    kind: str = "feed",
    registry: Registry | None = None,
) -> None:
    """Count one refresh of the source labelled `source` and remember how it went (/healthz)."""
    registry = registry or _registry
    if registry is None:  # nothing asked for metrics in this process
        return
    ended = datetime.now(UTC)
    label = source
    registry.refreshes.labels(label, status).inc()
    registry.documents.labels(label).inc(new)
    registry.duplicates.labels(label).inc(duplicates)
    registry.alerts.labels(label).inc(alerts)
    registry.last_refresh.labels(label).set(ended.timestamp())
    registry.refresh_time.labels(kind).observe(duration_s)
    registry.note_source(source, SourceHealth(ended, status, error))


def record_delivery(
    sink: str,
    result: DeliveryResult,
    alerts: int,
    seconds: float | None = None,
    registry: Registry | None = None,
) -> None:
    """Count alerts handed to a sink (by its key); `seconds` it took, per message sent."""
    registry = registry or _registry
    if registry is None:  # nothing asked for metrics in this process
        return
    label = registry.labels.sink(sink)
    registry.deliveries.labels(label, result).inc(alerts)
    if seconds is not None:
        registry.delivery_time.labels(label).observe(seconds)


@dataclass(frozen=True)
class Backlog:
    """What the database says at scrape time."""

    pending: Mapping[str, tuple[int, float | None]]  # sink label -> (count, oldest age in s)
    feeds: Mapping[str, int]  # status -> feeds


class DatabaseCollector:
    """Outbox backlog per sink and feeds by status, read from the database per scrape."""

    def __init__(self, read: Callable[[], Backlog]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.metrics_core import GaugeMetricFamily

        try:
            backlog = self._read()
        except Exception:  # a scrape must never fail because the database did
            return
        pending = GaugeMetricFamily(
            "newswatch_outbox_pending", "Alerts a sink has not yet received.", labels=["sink"]
        )
        oldest = GaugeMetricFamily(
            "newswatch_outbox_oldest_pending_age_seconds",
            "Age of the oldest alert a sink has not yet received (0 when none).",
            labels=["sink"],
        )
        for sink, (count, age) in sorted(backlog.pending.items()):
            pending.add_metric([sink], count)
            oldest.add_metric([sink], age or 0.0)
        feeds = GaugeMetricFamily(
            "newswatch_feeds", "Configured feeds by status.", labels=["status"]
        )
        for status, count in sorted(backlog.feeds.items()):
            feeds.add_metric([status], count)
        yield from (pending, oldest, feeds)


def feed_statuses(counts: Mapping[str, int], words: Sequence[str]) -> dict[str, int]:
    """Every status in `words` at its count (0 when none), so each series always exists."""
    return {status: counts.get(status, 0) for status in words} | dict(counts)
