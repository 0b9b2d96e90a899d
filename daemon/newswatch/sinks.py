"""Sinks from the config: the one place that knows which class serves which `type`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING

from newswatch.alerts.routing import Route
from newswatch.config.plain import sink_names

# Each kind of sink is imported when a config has one: a log sink alone (the
# default) costs no SMTP, e-mail, HTTP nor Apprise code at start-up (issue 11).
if TYPE_CHECKING:
    from newswatch.alerts.email import EmailSink
    from newswatch.alerts.sink import Sink
    from newswatch.config import Config
    from newswatch.config.schema import AppriseAlert, EmailAlert, WebhookAlert


def build_sinks(config: Config) -> list[Sink]:
    """One sink per `alerts:` entry; never raises (the daemon calls it on reload too).

    Webhook and apprise sinks read their secrets when they deliver, not here:
    a missing secret then leaves their alerts pending instead of unqueued.
    """
    sinks: list[Sink] = []
    for entry, name in zip(config.alerts, sink_names(config.alerts), strict=True):
        taken = {sink.key for sink in sinks}
        if entry.type == "log":
            from newswatch.alerts.log import LogSink

            sinks.append(LogSink())
        elif entry.type == "email":
            sinks.append(email_sink(entry, _unique_key(entry, taken), name))
        elif entry.type == "webhook":
            from newswatch.alerts.webhook import WebhookSink

            sinks.append(WebhookSink(entry, _numbered(webhook_key(entry), taken)))
        elif entry.type == "apprise":
            from newswatch.alerts.chat import AppriseSink

            sinks.append(AppriseSink(entry, _numbered(apprise_key(entry), taken)))
    return sinks


def webhook_key(entry: WebhookAlert) -> str:
    """`webhook:<name>`, else `webhook:<host[:port]>`: never the URL's path or query,
    which often hold a token."""
    from newswatch.alerts.webhook import endpoint

    return bounded_key("webhook:" + (entry.name or endpoint(entry.url).partition("://")[2]))


def apprise_key(entry: AppriseAlert) -> str:
    """`apprise:<name>`, else `apprise:$VARIABLE` or `apprise:<file>`: where the URLs are."""
    where = f"${entry.urls_env}" if entry.urls_env else str(entry.urls_file)
    return bounded_key("apprise:" + (entry.name or where))


def bounded_key(key: str) -> str:
    """A key that fits the outbox's column: a long one keeps its start and a hash of the whole."""
    from newswatch.alerts.email import KEY_MAX

    if len(key) <= KEY_MAX:
        return key
    return f"{key[: KEY_MAX - 17]}#{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _numbered(key: str, taken: set[str]) -> str:
    """A second entry with the same key gets `#2` (stable while the order stays)."""
    ordinal = 1
    while (numbered := key if ordinal == 1 else bounded_key(f"{key}#{ordinal}")) in taken:
        ordinal += 1
    return numbered


def email_sink(entry: EmailAlert, key: str, name: str = "email") -> EmailSink:
    from newswatch.alerts.digest import DigestSchedule, digest_messages
    from newswatch.alerts.email import EmailSink, Envelope, list_id
    from newswatch.alerts.smtpsend import SmtpTransport

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
        return EmailSink(
            envelope, transport, max_per_hour=entry.max_per_hour, overflow=digest_messages
        )
    schedule = DigestSchedule.from_config(entry.every, entry.at, zone)
    return EmailSink(envelope, transport, digest_messages, schedule.ready)


def _zone(entry: EmailAlert) -> tzinfo:
    """The entry's `timezone` (checked when the config was loaded), else the system's."""
    from newswatch.config.zones import system_zone, zone_named

    try:
        return zone_named(entry.timezone) if entry.timezone else system_zone()
    except ValueError:  # its zone data went away since: not worth failing a reload for
        return system_zone()


def _unique_key(entry: EmailAlert, taken: set[str]) -> str:
    """A second entry for the same recipients gets `#2` (stable while the order stays)."""
    from newswatch.alerts.email import sink_key

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
