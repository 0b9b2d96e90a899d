"""In-process counters and gauges, the last refresh of every source, Prometheus text.

The pipeline and the outbox record what happened (`record_refresh`,
`record_delivery`); the status endpoint reads it (`render`, `sources`).
Everything lives in memory since the process started: a restart starts
the counters at zero, which is what Prometheus expects of a counter.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from newswatch import __version__

Kind = Literal["counter", "gauge", "summary"]
SampleKey = tuple[str, tuple[str, ...]]  # (name suffix, label values)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How the last refresh of one source went."""

    last_refresh: datetime
    status: str
    last_error: str | None


@dataclass
class _Family:
    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...]
    samples: dict[SampleKey, float]

    def key(self, suffix: str, labels: dict[str, str]) -> SampleKey:
        if set(labels) != set(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}, got {tuple(labels)}")
        return suffix, tuple(labels[name] for name in self.labels)

    def lines(self) -> Iterator[str]:
        yield f"# HELP {self.name} {_escape_help(self.help)}"
        yield f"# TYPE {self.name} {self.kind}"
        for (suffix, values), value in sorted(self.samples.items(), key=_label_order):
            yield f"{self.name}{suffix}{_label_text(self.labels, values)} {_number(value)}"


class Registry:
    """newswatch's metric families; safe to update from any thread."""

    def __init__(self, started: float | None = None) -> None:
        self.started = time.time() if started is None else started
        self._monotonic_start = time.monotonic()
        self._lock = threading.Lock()
        self._families: dict[str, _Family] = {}
        self._sources: dict[str, SourceHealth] = {}
        _declare_newswatch(self)

    def clear(self) -> None:
        """Forget every sample and source, as at a fresh start."""
        with self._lock:
            self._families.clear()
            self._sources.clear()
        _declare_newswatch(self)

    def declare(self, name: str, kind: Kind, help: str, labels: tuple[str, ...] = ()) -> None:
        with self._lock:
            self._families[name] = _Family(name, kind, help, labels, {})

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        with self._lock:
            family = self._families[name]
            key = family.key("", labels)
            family.samples[key] = family.samples.get(key, 0.0) + value

    def set(self, name: str, value: float, **labels: str) -> None:
        with self._lock:
            family = self._families[name]
            family.samples[family.key("", labels)] = value

    def observe(self, name: str, value: float, **labels: str) -> None:
        """A summary without quantiles: adds to `<name>_sum` and one to `<name>_count`."""
        with self._lock:
            family = self._families[name]
            for suffix, amount in (("_sum", value), ("_count", 1.0)):
                key = family.key(suffix, labels)
                family.samples[key] = family.samples.get(key, 0.0) + amount

    def note_source(self, name: str, health: SourceHealth) -> None:
        with self._lock:
            self._sources[name] = health

    def sources(self) -> dict[str, SourceHealth]:
        with self._lock:
            return dict(self._sources)

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self._monotonic_start

    def render(self) -> str:
        """Every family in the Prometheus text format 0.0.4."""
        with self._lock:
            lines = [line for family in self._families.values() for line in family.lines()]
        return "\n".join(lines) + "\n"


_FAMILIES: tuple[tuple[str, Kind, str, tuple[str, ...]], ...] = (
    ("newswatch_refreshes_total", "counter", "Source refreshes by outcome.", ("source", "status")),
    ("newswatch_documents_new_total", "counter", "Documents stored the first time.", ("source",)),
    ("newswatch_duplicates_total", "counter", "Copies of stored documents dropped.", ("source",)),
    ("newswatch_alerts_total", "counter", "Alerts raised (stored in the outbox).", ("source",)),
    (
        "newswatch_refresh_duration_seconds",
        "summary",
        "Time spent refreshing a source.",
        ("source",),
    ),
    (
        "newswatch_source_last_refresh_timestamp_seconds",
        "gauge",
        "When the last refresh of a source ended (Unix time).",
        ("source",),
    ),
    (
        "newswatch_alert_deliveries_total",
        "counter",
        "Alerts handed to a sink, by result (ok, or failed and to be retried).",
        ("sink", "result"),
    ),
    ("newswatch_up", "gauge", "1 while the daemon runs.", ()),
    ("newswatch_process_start_time_seconds", "gauge", "When the process started (Unix time).", ()),
    ("newswatch_build_info", "gauge", "The running version, as a label.", ("version",)),
)


def _declare_newswatch(registry: Registry) -> None:
    for name, kind, help, labels in _FAMILIES:
        registry.declare(name, kind, help, labels)
    registry.set("newswatch_up", 1.0)
    registry.set("newswatch_process_start_time_seconds", registry.started)
    registry.set("newswatch_build_info", 1.0, version=__version__)


REGISTRY = Registry()


def record_refresh(
    source: str,
    status: str,
    *,
    new: int,
    duplicates: int,
    alerts: int,
    duration_s: float,
    error: str | None,
    registry: Registry = REGISTRY,
) -> None:
    """Count one source refresh and remember how it went (for /healthz)."""
    ended = datetime.now(UTC)
    registry.inc("newswatch_refreshes_total", source=source, status=status)
    registry.inc("newswatch_documents_new_total", new, source=source)
    registry.inc("newswatch_duplicates_total", duplicates, source=source)
    registry.inc("newswatch_alerts_total", alerts, source=source)
    registry.observe("newswatch_refresh_duration_seconds", duration_s, source=source)
    registry.set(
        "newswatch_source_last_refresh_timestamp_seconds", ended.timestamp(), source=source
    )
    registry.note_source(source, SourceHealth(ended, status, error))


def record_delivery(
    sink: str, result: Literal["ok", "failed"], alerts: int, registry: Registry = REGISTRY
) -> None:
    """Count alerts handed to a sink: delivered (`ok`) or `failed` (retried, or dead-lettered)."""
    registry.inc("newswatch_alert_deliveries_total", alerts, sink=sink, result=result)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _label_text(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{n}="{_escape_label(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}"


def _label_order(item: tuple[SampleKey, float]) -> tuple[tuple[str, ...], str]:
    (suffix, values), _ = item
    return values, suffix


def _number(value: float) -> str:
    """Integers without a fraction; infinities and NaN as Prometheus spells them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)
