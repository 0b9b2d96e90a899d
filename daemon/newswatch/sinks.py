"""Sinks from the config: the one place that knows which class serves which `type`."""

from __future__ import annotations

from collections.abc import Sequence

from newswatch.alerts.digest import DigestSchedule, digest_messages
from newswatch.alerts.email import EmailSink, Envelope, sink_key
from newswatch.alerts.log import LogSink
from newswatch.alerts.routing import Route
from newswatch.alerts.sink import Sink
from newswatch.alerts.smtpsend import SmtpTransport
from newswatch.config import Config, EmailAlert, LogAlert
from newswatch.config.schema import sink_names


def build_sinks(config: Config) -> list[Sink]:
    """One sink per `alerts:` entry; never raises (the daemon calls it on reload too)."""
    sinks: list[Sink] = []
    for entry in config.alerts:
        if isinstance(entry, LogAlert):
            sinks.append(LogSink())
        elif isinstance(entry, EmailAlert):
            taken = {sink.key for sink in sinks}
            sinks.append(email_sink(entry, _unique_key(entry, taken)))
    return sinks


def email_sink(entry: EmailAlert, key: str) -> EmailSink:
    envelope = Envelope(
        sender=entry.sender, to=entry.to, subject_prefix=entry.subject_prefix, key=key
    )
    transport = SmtpTransport(entry.smtp)
    if entry.mode == "immediate":
        return EmailSink(
            envelope, transport, max_per_hour=entry.max_per_hour, overflow=digest_messages
        )
    schedule = DigestSchedule.from_config(entry.every, entry.at)
    return EmailSink(envelope, transport, digest_messages, schedule.ready)


def _unique_key(entry: EmailAlert, taken: set[str]) -> str:
    """A second entry for the same recipients gets `#2` (stable while the order stays)."""
    ordinal = 1
    while (key := sink_key(entry.to, ordinal)) in taken:
        ordinal += 1
    return key


def sink_routes(config: Config, sinks: Sequence[Sink]) -> list[Route]:
    """Each sink's key with the watches its entry routes (`watches:`; none: every watch).

    `build_sinks` makes one sink per entry, in order, whatever the entry's type.
    """
    return [
        Route(sink.key, entry.watches) for sink, entry in zip(sinks, config.alerts, strict=False)
    ]


def sink_labels(config: Config, sinks: Sequence[Sink]) -> dict[str, str]:
    """Sink key -> its name (what /metrics and `health.alerts` use; never an address)."""
    return dict(zip((s.key for s in sinks), sink_names(config.alerts), strict=False))
