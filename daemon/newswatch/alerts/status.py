"""What the outbox looks like to a user: per-alert delivery states and per-sink health.

Pure value types and their rendering, shared by `newswatch alerts`,
`newswatch outbox` and `/healthz`; the store fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from newswatch.model import Alert, iso_utc

FAILING_AFTER = timedelta(minutes=15)  # /healthz says `degraded` past this


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """One alert's delivery to one sink."""

    sink: str
    attempts: int
    delivered_at: datetime | None = None
    dead_at: datetime | None = None
    last_error: str | None = None
    next_attempt: datetime | None = None

    @property
    def state(self) -> str:
        """`delivered`, `dead` (refused for good), `retrying` (failed, retried later), `pending`."""
        if self.delivered_at is not None:
            return "delivered"
        if self.dead_at is not None:
            return "dead"
        return "retrying" if self.last_error else "pending"

    def record(self) -> dict[str, Any]:
        return {
            "sink": self.sink,
            "state": self.state,
            "attempts": self.attempts,
            "delivered_at": iso_utc(self.delivered_at),
            "dead_at": iso_utc(self.dead_at),
            "next_attempt": iso_utc(self.next_attempt) if self.state == "retrying" else None,
            "last_error": self.last_error,
        }

    def line(self) -> str:
        """`log: delivered <when>`, or `email:x: retrying (3 attempts, next <when>): <why>`."""
        if self.state == "delivered":
            return f"{self.sink}: delivered {iso_utc(self.delivered_at)}"
        tries = f"{self.attempts} attempt{'' if self.attempts == 1 else 's'}"
        if self.state == "pending":
            return f"{self.sink}: pending ({tries})"
        if self.state == "dead":
            return f"{self.sink}: dead-lettered ({tries}): {self.last_error}"
        when = iso_utc(self.next_attempt)
        return f"{self.sink}: retrying ({tries}, next {when}): {self.last_error}"


@dataclass(frozen=True, slots=True)
class SinkStatus:
    """The outbox of one sink: how much waits, what failed, when it is tried next."""

    sink: str
    pending: int = 0  # not delivered, not dead-lettered
    retrying: int = 0  # of which failed at least once
    dead: int = 0
    next_try: datetime | None = None
    failing_since: datetime | None = None
    last_error: str | None = None
    last_success: datetime | None = None

    def failing_for(self, now: datetime) -> timedelta:
        return now - self.failing_since if self.failing_since is not None else timedelta(0)

    def record(self, now: datetime) -> dict[str, Any]:
        return {
            "sink": self.sink,
            "pending": self.pending,
            "retrying": self.retrying,
            "dead": self.dead,
            "next_try": iso_utc(self.next_try),
            "failing_since": iso_utc(self.failing_since),
            "failing_s": round(self.failing_for(now).total_seconds()),
            "last_error": self.last_error,
            "last_success": iso_utc(self.last_success),
        }

    def line(self) -> str:
        text = f"{self.sink}: {self.pending} pending ({self.retrying} retrying), "
        text += f"{self.dead} dead-lettered"
        if self.next_try is not None:
            text += f"; next try {iso_utc(self.next_try)}"
        if self.failing_since is not None:
            text += f"; failing since {iso_utc(self.failing_since)}: {self.last_error}"
        return text


def failing_sinks(statuses: list[SinkStatus], now: datetime, after: timedelta) -> list[str]:
    """Sinks that have been failing as a whole for longer than `after`."""
    return [s.sink for s in statuses if s.failing_since is not None and s.failing_for(now) > after]


def dead_letter(alert: Alert, error: str) -> dict[str, Any]:
    """A dead-lettered alert as `newswatch outbox` shows it."""
    return {"alert_id": alert.id, "watch": alert.watch, "title": alert.title, "error": error}
