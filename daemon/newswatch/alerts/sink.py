"""The interface every alert sink implements."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from newswatch.model import Alert
from newswatch.ops.feedhealth import Notice

Result = Literal["sent", "dead", "later"]


class SinkError(Exception):
    """The sink failed as a whole (cannot connect, login refused...): what it has not
    reported on yet stays pending, and the sink is left alone for a while."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message (one alert, or every alert of a digest).

    `sent`: accepted; `dead`: refused for good (kept, retried only by hand);
    `later`: refused for now, this message is retried after a back-off.
    """

    alert_ids: tuple[int, ...]
    result: Result = "sent"
    error: str | None = None


class Sink(Protocol):
    @property
    def key(self) -> str:
        """Stable name of this sink in the outbox (e.g. `log`, `email:a@example.org`)."""
        ...

    def deliver(self, batch: Sequence[Alert]) -> Generator[Outcome, None, None]:
        """Deliver the batch, yielding each message's outcome as soon as it is known.

        The caller records an outcome before asking for the next one, so a
        crash repeats at most the message in flight; it may stop iterating
        at any point (a stop was requested). Raises SinkError when the sink
        fails as a whole.
        """
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


@runtime_checkable
class RateLimited(Protocol):
    """A sink that may send at most `max_per_hour` messages per clock hour (UTC).

    The outbox sends no more than that; what is left waits, and once an hour
    that reached the limit is over, goes out as one digest (`deliver_digest`).
    """

    @property
    def max_per_hour(self) -> int | None: ...

    def deliver_digest(self, batch: Sequence[Alert]) -> Generator[Outcome, None, None]:
        """Like `deliver`, as one message carrying the whole batch."""
        ...


def hourly_limit(sink: Sink) -> int | None:
    """The sink's `max_per_hour`, or None when it has none."""
    return sink.max_per_hour if isinstance(sink, RateLimited) else None


@runtime_checkable
class Announcing(Protocol):
    """A sink that can also carry feed-health notices (log and email do)."""

    def announce(self, notice: Notice) -> None:
        """Send one notice now; raises SinkError when it could not."""
        ...
