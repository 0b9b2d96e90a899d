"""Building alerts from matches (pure) and delivering the outbox (I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine

from newswatch import metrics
from newswatch.alerts.sink import Sink, SinkError, is_ready
from newswatch.log import get_logger
from newswatch.match import snippet
from newswatch.model import Alert, Document, Match
from newswatch.store import alerts as alert_store

RETRY_AFTER = timedelta(minutes=1)  # doubled after each failure in a row ...
MAX_RETRY_AFTER = timedelta(hours=1)  # ... up to this

log = get_logger(__name__)


def build_alert(document: Document, match: Match) -> Alert:
    """The alert a match of a stored document raises."""
    if document.id is None:
        raise ValueError("alerts are built for stored documents only")
    first = match.first_hit
    text = document.title if first is not None and first.field == "title" else document.body
    return Alert(
        document_id=document.id,
        watch=match.watch,
        kind=match.kind,
        title=document.title,
        url=document.url,
        source=document.source,
        published=document.published,
        matched=tuple(match.matched),
        snippet=snippet(text, first) if first is not None else document.body[:240],
    )


def deliver_pending(engine: Engine, sinks: Sequence[Sink], now: datetime) -> int:
    """Hand every pending alert to its sinks; a failing sink is retried later. Returns sent.

    A deferring sink (a digest) is asked first whether it is ready, given the
    creation time of its oldest pending alert.
    """
    sent = 0
    for sink in sinks:
        with engine.begin() as connection:
            batch = alert_store.pending_deliveries(connection, sink.key, now)
        if not batch or not is_ready(sink, _oldest(batch, now), now):
            continue
        ids = [alert.id for alert in batch if alert.id is not None]
        try:
            sink.deliver(batch)
        except SinkError as exc:
            log.error("alert_delivery_failed", sink=sink.key, alerts=len(ids), error=str(exc))
            metrics.record_delivery(sink.key, "failed", len(ids))
            with engine.begin() as connection:
                failures = alert_store.failed_attempts(connection, ids, sink.key)
                retry = now + retry_delay(failures)
                alert_store.mark_failed(connection, ids, sink.key, str(exc), retry)
            continue
        with engine.begin() as connection:
            alert_store.mark_delivered(connection, ids, sink.key, now)
        metrics.record_delivery(sink.key, "ok", len(ids))
        sent += len(ids)
    return sent


def retry_delay(failures_before: int) -> timedelta:
    """1 min after the first failure, then 2, 4, 8... capped at an hour: a sink that is
    down for long (a mail server refusing us) is not hammered every minute."""
    doubled: timedelta = RETRY_AFTER * (1 << min(failures_before, 16))
    return min(doubled, MAX_RETRY_AFTER)


def _oldest(batch: Sequence[Alert], now: datetime) -> datetime:
    return min((alert.created_at for alert in batch if alert.created_at), default=now)
