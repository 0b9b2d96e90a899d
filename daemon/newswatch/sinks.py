"""Sinks from the config: the one place that knows which class serves which `type`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from newswatch.alerts.digest import DigestSchedule, digest_messages
from newswatch.alerts.email import EmailSink, Envelope, list_id, sink_key
from newswatch.alerts.log import LogSink
from newswatch.alerts.sink import Sink
from newswatch.alerts.smtpsend import SmtpTransport
from newswatch.config import Config, EmailAlert, LogAlert
from newswatch.config.schema import sink_names
from newswatch.config.zones import system_zone, zone_named


def build_sinks(config: Config) -> list[Sink]:
    """One sink per `alerts:` entry; never raises (the daemon calls it on reload too)."""
    sinks: list[Sink] = []
    for entry, name in zip(config.alerts, sink_names(config.alerts), strict=True):
        if isinstance(entry, LogAlert):
            sinks.append(LogSink())
        elif isinstance(entry, EmailAlert):
            taken = {sink.key for sink in sinks}
            sinks.append(email_sink(entry, _unique_key(entry, taken), name))
    return sinks


def email_sink(entry: EmailAlert, key: str, name: str = "email") -> EmailSink:
    zone = _zone(entry)
    envelope = Envelope(
        sender=entry.sender,
        to=entry.to,
        subject_prefix=entry.subject_prefix,
        key=key,
        list_id=list_id(name, entry.sender),
        zone=zone,
    )
    transport = SmtpTransport(entry.smtp)
    if entry.mode == "immediate":
        return EmailSink(envelope, transport)
    schedule = DigestSchedule.from_config(entry.every, entry.at, zone)
    return EmailSink(envelope, transport, digest_messages, schedule.ready)


def _zone(entry: EmailAlert) -> tzinfo:
    """The entry's `timezone` (checked when the config was loaded), else the system's."""
    try:
        return zone_named(entry.timezone) if entry.timezone else system_zone()
    except ValueError:  # its zone data went away since: not worth failing a reload for
        return system_zone()


def _unique_key(entry: EmailAlert, taken: set[str]) -> str:
    """A second entry for the same recipients gets `#2` (stable while the order stays)."""
    ordinal = 1
    while (key := sink_key(entry.to, ordinal)) in taken:
        ordinal += 1
    return key


def sink_labels(config: Config, sinks: Sequence[Sink]) -> dict[str, str]:
    """Sink key -> its name (what /metrics and `health.alerts` use; never an address)."""
    return dict(zip((s.key for s in sinks), sink_names(config.alerts), strict=False))
