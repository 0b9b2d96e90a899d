"""Digest e-mails: when one is due (pure and stateless) and what it says.

All times are UTC. `every: 1h` puts a boundary at every whole multiple of the
period since the Unix epoch (on the hour; `every: 1d` at midnight UTC);
`at: "07:00"` puts one at 07:00 UTC each day. A digest goes out once a
boundary lies after its oldest pending alert, so nothing but the outbox rows
is remembered: a restart, a reload or a missed tick changes nothing.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from newswatch.alerts.email import Envelope, alert_fields, alert_html, new_message
from newswatch.alerts.smtpsend import Letter
from newswatch.model import Alert

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_EVERY = timedelta(days=1)
NAMES_IN_SUBJECT = 3


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """Digest boundaries: `at` a time of day (UTC), else `every` a period since the epoch."""

    every: timedelta = DEFAULT_EVERY
    at: time | None = None

    @classmethod
    def from_config(cls, every: timedelta | None, at: str | None) -> DigestSchedule:
        """From the config's `every` and `at` ("HH:MM"); `at` wins if both are given."""
        if at is not None:
            hours, minutes = at.split(":")
            return cls(at=time(int(hours), int(minutes)))
        return cls(every=every or DEFAULT_EVERY)

    def last_boundary(self, now: datetime) -> datetime:
        """The latest boundary at or before `now`."""
        now = now.astimezone(UTC)
        if self.at is not None:
            today = datetime.combine(now.date(), self.at, tzinfo=UTC)
            return today if today <= now else today - timedelta(days=1)
        return EPOCH + ((now - EPOCH) // self.every) * self.every

    def ready(self, oldest_pending: datetime, now: datetime) -> bool:
        """Whether a boundary has passed since the oldest pending alert was created."""
        return oldest_pending < self.last_boundary(now)


def digest_messages(envelope: Envelope, batch: Sequence[Alert], now: datetime) -> list[Letter]:
    """One message listing every alert of the batch, grouped by watch (A to Z), oldest first.

    The outbox marks all its alerts in one transaction once the server accepted it.
    """
    if not batch:
        return []
    groups = group_by_watch(batch)
    message = new_message(
        envelope,
        _subject(batch, groups),
        _plain(batch, groups, now),
        _html(batch, groups, now),
        f"digest.{batch[0].id}-{batch[-1].id}",
        now,
    )
    return [Letter(tuple(alert.id for alert in batch if alert.id is not None), message)]


def group_by_watch(batch: Sequence[Alert]) -> dict[str, list[Alert]]:
    groups: dict[str, list[Alert]] = {}
    for alert in sorted(batch, key=lambda a: (a.watch.casefold(), a.kind, a.id or 0)):
        groups.setdefault(_heading(alert), []).append(alert)
    return groups


def _heading(alert: Alert) -> str:
    return f"{alert.watch} ({alert.kind})"


def _count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("ch") else "s")
    return f"{number} {noun if number == 1 else plural}"


def _subject(batch: Sequence[Alert], groups: dict[str, list[Alert]]) -> str:
    names = [alerts[0].watch for alerts in groups.values()]
    shown = ", ".join(names[:NAMES_IN_SUBJECT]) + (", …" if len(names) > NAMES_IN_SUBJECT else "")
    return f"digest: {_count(len(batch), 'alert')} for {_count(len(groups), 'watch')}: {shown}"


def _summary(batch: Sequence[Alert], groups: dict[str, list[Alert]], now: datetime) -> str:
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{_count(len(batch), 'alert')} for {_count(len(groups), 'watch')}, as of {stamp}"


def _plain(batch: Sequence[Alert], groups: dict[str, list[Alert]], now: datetime) -> str:
    lines = [f"newswatch digest: {_summary(batch, groups, now)}", ""]
    for heading, alerts in groups.items():
        lines += [f"== {heading}: {_count(len(alerts), 'alert')}", ""]
        for alert in alerts:
            lines.append(f"* {alert.title}")
            lines += [f"  {name}: {value}" for name, value in alert_fields(alert)[1:]]
            lines += [f"  {alert.snippet}", ""]
    return "\n".join(lines)


def _html(batch: Sequence[Alert], groups: dict[str, list[Alert]], now: datetime) -> str:
    parts = [f"<p>newswatch digest: {html.escape(_summary(batch, groups, now))}</p>"]
    for heading, alerts in groups.items():
        parts.append(f"<h2>{html.escape(heading)}: {_count(len(alerts), 'alert')}</h2>")
        parts += [alert_html(alert) for alert in alerts]
    return "".join(parts)
