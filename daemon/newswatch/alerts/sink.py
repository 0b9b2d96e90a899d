"""The interface every alert sink implements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from newswatch.model import Alert


class SinkError(Exception):
    """Delivery failed; the alerts stay pending and are retried later."""


class Sink(Protocol):
    @property
    def key(self) -> str:
        """Stable name of this sink in the outbox (e.g. `log`, `email:a@example.org`)."""
        ...

    def deliver(self, batch: Sequence[Alert]) -> None:
        """Deliver every alert of the batch or raise SinkError."""
        ...


@runtime_checkable
class Deferring(Protocol):
    """A sink that waits before delivering (a digest): the optional readiness hook."""

    def ready(self, oldest_pending: datetime, now: datetime) -> bool:
        """Whether pending alerts, the oldest created at `oldest_pending`, go out `now`."""
        ...


def is_ready(sink: Sink, oldest_pending: datetime, now: datetime) -> bool:
    """Ask a deferring sink whether to deliver now; every other sink is always ready."""
    return not isinstance(sink, Deferring) or sink.ready(oldest_pending, now)
