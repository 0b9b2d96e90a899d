"""Digest e-mails: when one is due (pure and stateless) and what it says.

`at: "07:00"` puts a boundary at 07:00 each day in the sink's `timezone`
(its wall clock: 07:00 stays 07:00 across daylight-saving changes, and each
day has exactly one boundary, even when a clock change skips or repeats it).
`every: 1h` puts one at every whole multiple of the period since the Unix
epoch (on the hour; `every: 1d` at midnight UTC). A digest goes out once a
boundary lies after its oldest pending alert, so nothing but the outbox rows
is remembered: a restart, a reload or a missed tick changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from newswatch.alerts.email import Envelope, new_message
from newswatch.alerts.mailtext import count, digest_bodies
from newswatch.alerts.render import WatchGroup, digest_groups, moment_text, story_key
from newswatch.alerts.smtpsend import Letter
from newswatch.model import Alert

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_EVERY = timedelta(days=1)
NAMES_IN_SUBJECT = 3


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """Digest boundaries: `at` a time of day in `zone`, else `every` a period since the epoch."""

    every: timedelta = DEFAULT_EVERY
    at: time | None = None
    zone: tzinfo = UTC

    @classmethod
    def from_config(
        cls, every: timedelta | None, at: str | None, zone: tzinfo = UTC
    ) -> DigestSchedule:
        """From the config's `every` and `at` ("HH:MM"); `at` wins if both are given."""
        if at is not None:
            hours, minutes = at.split(":")
            return cls(at=time(int(hours), int(minutes)), zone=zone)
        return cls(every=every or DEFAULT_EVERY, zone=zone)

    def last_boundary(self, now: datetime) -> datetime:
        """The latest boundary at or before `now` (in UTC)."""
        now = now.astimezone(UTC)
        if self.at is None:
            return EPOCH + ((now - EPOCH) // self.every) * self.every
        today = now.astimezone(self.zone).date()
        boundary = self._on(today)
        return boundary if boundary <= now else self._on(today - timedelta(days=1))

    def _on(self, day: date) -> datetime:
        """`at` on that local day, in UTC. A wall time a clock change skips is read
        with the offset before the change (02:30 becomes 03:30 new time); one the
        clock shows twice is its first occurrence (fold 0)."""
        return datetime.combine(day, self.at or time(), tzinfo=self.zone).astimezone(UTC)

    def ready(self, oldest_pending: datetime, now: datetime) -> bool:
        """Whether a boundary has passed since the oldest pending alert was created."""
        return oldest_pending < self.last_boundary(now)


def digest_messages(envelope: Envelope, batch: Sequence[Alert], now: datetime) -> list[Letter]:
    """One message listing every alert of the batch: watches A to Z, in each one entry
    per story (its other copies folded under it), newest first. Nothing for no alerts.

    The outbox marks all its alerts in one transaction once the server accepted it.
    """
    if not batch:
        return []
    groups = digest_groups(batch)
    plain, rich = digest_bodies(_summary(batch, groups, now, envelope), groups, envelope.zone)
    message = new_message(
        envelope,
        _subject(batch, groups),
        plain,
        rich,
        f"digest.{batch[0].id}-{batch[-1].id}",
        now,
    )
    return [Letter(tuple(alert.id for alert in batch if alert.id is not None), message)]


def _articles(batch: Sequence[Alert]) -> int:
    return len({story_key(alert) for alert in batch})


def _subject(batch: Sequence[Alert], groups: list[WatchGroup]) -> str:
    names = [group.watch for group in groups]
    shown = ", ".join(names[:NAMES_IN_SUBJECT]) + (", …" if len(names) > NAMES_IN_SUBJECT else "")
    what = f"{count(_articles(batch), 'article')} for {count(len(groups), 'watch')}"
    return f"digest: {what}: {shown}"


def _summary(
    batch: Sequence[Alert], groups: list[WatchGroup], now: datetime, envelope: Envelope
) -> str:
    what = f"{count(len(batch), 'alert')} on {count(_articles(batch), 'article')}"
    stamp = moment_text(now, envelope.zone)
    return f"{what} for {count(len(groups), 'watch')}, as of {stamp}"
