"""Delivery rows (one per alert and sink) and each sink's health.

A delivery is pending until the sink accepted it (`delivered_at`) or refused
it for good (`dead_at`, kept until retried by hand). Rows are marked one
message at a time, as soon as the sink accepted it, so a crash repeats at
most the message in flight.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    case,
    distinct,
    func,
    or_,
    select,
    text,
    true,
    type_coerce,
    update,
)
from sqlalchemy.engine import Dialect

from newswatch.store.bulk import in_list, list_parameter, placeholder
from newswatch.store.dialect import insert_ignoring_conflicts
from newswatch.store.tables import UtcDateTime, alerts, deliveries, sink_state

# The alert store and the status types load when alerts are read (issue 11: a cycle
# of 304s asks only whether any delivery waits).
if TYPE_CHECKING:
    from newswatch.alerts.status import DeliveryState, SinkStatus
    from newswatch.model import Alert

_undelivered = and_(deliveries.c.delivered_at.is_(None), deliveries.c.dead_at.is_(None))


def pending_deliveries(
    connection: Connection,
    sink: str,
    now: datetime,
    limit: int = 500,
    *,
    due_only: bool = True,
    exclude: Collection[int] = (),
    created_before: datetime | None = None,
) -> list[Alert]:
    """Alerts `sink` has neither accepted nor refused for good, oldest first.

    With `due_only`, those whose retry time (if any) has come.
    """
    from newswatch.store.alerts import alert_from_row, alert_query

    query = (
        alert_query()
        .join(deliveries, deliveries.c.alert_id == alerts.c.id)
        .where(deliveries.c.sink == sink, _undelivered)
        .order_by(alerts.c.id)
        .limit(limit)
    )
    if due_only:
        query = query.where(
            or_(deliveries.c.next_attempt.is_(None), deliveries.c.next_attempt <= now)
        )
    if exclude:
        query = query.where(deliveries.c.alert_id.not_in(list(exclude)))
    if created_before is not None:
        query = query.where(alerts.c.created_at < created_before)
    batch = [alert_from_row(row) for row in connection.execute(query)]
    # with their stories' other outlets: the message names them ("Also in")
    if not batch:
        return []
    from newswatch.store.stories import with_stories  # only for alerts to send

    return with_stories(connection, whole_documents(batch, limit))


def whole_documents(batch: list[Alert], limit: int) -> list[Alert]:
    """A full batch without its last document's alerts, which the limit may have cut:
    an e-mail carries every alert of a document, so they wait for the next batch."""
    if len(batch) < limit or len({alert.document_id for alert in batch}) < 2:
        return batch
    last = batch[-1].document_id
    return [alert for alert in batch if alert.document_id != last]


def _rows(sink: str, alert_ids: Sequence[int]) -> Any:
    return update(deliveries).where(
        and_(deliveries.c.sink == sink, deliveries.c.alert_id.in_(alert_ids))
    )


def without_waiting_for_disk(connection: Connection) -> None:
    """On PostgreSQL, let this transaction's commit return before its WAL reaches the disk.

    A message's outcome is recorded in its own transaction; waiting for an
    fsync each time would cap delivery at the disk's flush rate. If our
    process dies the server still has the record; only a crash of the database
    server itself within ~0.2 s (wal_writer_delay) could forget it, and then
    that message is sent again. SQLite in WAL mode with synchronous=NORMAL
    already works this way.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL synchronous_commit TO OFF"))


def mark_delivered(
    connection: Connection, alert_ids: Sequence[int], sink: str, now: datetime
) -> None:
    """Accepted by the sink. One statement per message sent, straight to the driver:
    through Core (a prebuilt statement, its compiled form cached) the execution
    layers cost more than SQLite's update (issue 11)."""
    if not alert_ids:
        return
    dialect = connection.dialect
    sql, processed = _delivered_sql(dialect, len(alert_ids) == 1)
    when = processed(now) if processed is not None else now
    if len(alert_ids) == 1:  # the usual message: one alert
        connection.exec_driver_sql(sql, (when, sink, alert_ids[0]))
    else:
        connection.exec_driver_sql(sql, (when, sink, list_parameter(dialect, alert_ids)))


@functools.lru_cache(maxsize=8)
def _delivered_sql(dialect: Dialect, one: bool) -> tuple[str, Any]:
    """The update marking one alert (or several) delivered, and the bind processor
    of its time (UtcDateTime: naive UTC text on SQLite, as Core would store it)."""
    mark = placeholder(dialect)
    which = f"alert_id = {mark}" if one else f"alert_id IN ({in_list(dialect, 'bigint')})"
    sql = (
        f"UPDATE deliveries SET delivered_at = {mark}, attempts = attempts + 1,"
        f" last_error = NULL WHERE sink = {mark} AND {which}"
    )
    column = deliveries.c.delivered_at.type
    return sql, column.dialect_impl(dialect).bind_processor(dialect)


def mark_dead(
    connection: Connection, alert_ids: Sequence[int], sink: str, error: str, now: datetime
) -> None:
    """Refused for good: kept with its error, never retried unless by hand."""
    if alert_ids:
        connection.execute(
            _rows(sink, alert_ids).values(
                dead_at=now, attempts=deliveries.c.attempts + 1, last_error=error
            )
        )


def mark_failed(
    connection: Connection,
    alert_ids: Sequence[int],
    sink: str,
    error: str,
    next_attempt: datetime,
) -> None:
    if alert_ids:
        connection.execute(
            _rows(sink, alert_ids).values(
                attempts=deliveries.c.attempts + 1, last_error=error, next_attempt=next_attempt
            )
        )


def failed_attempts(connection: Connection, alert_ids: Sequence[int], sink: str) -> int:
    """The most failed attempts among these alerts' deliveries to `sink`."""
    query = select(func.max(deliveries.c.attempts)).where(
        deliveries.c.sink == sink, deliveries.c.alert_id.in_(alert_ids)
    )
    return int(connection.execute(query).scalar_one() or 0)


def count_undelivered(connection: Connection) -> int:
    """Alerts that at least one sink has neither received nor refused for good."""
    query = select(func.count(distinct(deliveries.c.alert_id))).where(_undelivered)
    return int(connection.execute(query).scalar_one())


def any_undelivered(connection: Connection) -> bool:
    """Whether any alert waits for a sink (one indexed row read, not a count)."""
    query = select(deliveries.c.alert_id).where(_undelivered).limit(1)
    return connection.execute(query).first() is not None


def count_pending(connection: Connection, sink: str, now: datetime) -> tuple[int, int]:
    """(due now, waiting for their retry time) for one sink."""
    due = or_(deliveries.c.next_attempt.is_(None), deliveries.c.next_attempt <= now)
    query = select(
        func.count(),
        func.coalesce(func.sum(case((due, 1), else_=0)), 0),
    ).where(deliveries.c.sink == sink, _undelivered)
    total, due_now = connection.execute(query).one()
    return int(due_now), int(total) - int(due_now)


def retry_now(connection: Connection, sinks: Iterable[str], *, dead_too: bool) -> int:
    """Make every undelivered row of these sinks due now (and dead letters, with `dead_too`)."""
    names = list(sinks)
    connection.execute(
        update(sink_state).where(sink_state.c.sink.in_(names)).values(paused_until=None)
    )
    waiting = deliveries.c.dead_at.is_(None) if not dead_too else true()
    result = connection.execute(
        update(deliveries)
        .where(deliveries.c.sink.in_(names), deliveries.c.delivered_at.is_(None))
        .where(waiting)
        .values(next_attempt=None, dead_at=None)
    )
    return int(result.rowcount or 0)


def sent_in_window(connection: Connection, sink: str) -> tuple[datetime | None, int]:
    """(the clock hour being counted, messages sent in it) for a rate-limited sink."""
    query = select(sink_state.c.window_start, sink_state.c.window_sent).where(
        sink_state.c.sink == sink
    )
    row = connection.execute(query).one_or_none()
    return (row.window_start, int(row.window_sent or 0)) if row is not None else (None, 0)


def count_sent(connection: Connection, sink: str, window: datetime, messages: int = 1) -> None:
    """Count messages sent in the clock hour `window` (a new hour starts from zero)."""
    _ensure_state(connection, sink)
    same = sink_state.c.window_start == window
    connection.execute(
        update(sink_state)
        .where(sink_state.c.sink == sink)
        .values(
            window_sent=case((same, sink_state.c.window_sent + messages), else_=messages),
            window_start=window,
        )
    )


def paused_until(connection: Connection, sink: str) -> datetime | None:
    query = select(sink_state.c.paused_until).where(sink_state.c.sink == sink)
    moment: datetime | None = connection.execute(query).scalar_one_or_none()
    return moment


def sink_failures(connection: Connection, sink: str) -> int:
    query = select(sink_state.c.failures).where(sink_state.c.sink == sink)
    return int(connection.execute(query).scalar_one_or_none() or 0)


def _ensure_state(connection: Connection, sink: str) -> None:
    statement = insert_ignoring_conflicts(connection, sink_state)
    connection.execute(statement, [{"sink": sink, "failures": 0}])


def sink_failed(
    connection: Connection, sink: str, error: str, now: datetime, until: datetime
) -> None:
    """The sink failed as a whole: leave it alone until `until`."""
    _ensure_state(connection, sink)
    connection.execute(
        update(sink_state)
        .where(sink_state.c.sink == sink)
        .values(
            failing_since=func.coalesce(sink_state.c.failing_since, now),
            failures=sink_state.c.failures + 1,
            paused_until=until,
            last_error=error,
            last_error_at=now,
        )
    )


def sink_succeeded(connection: Connection, sink: str, now: datetime) -> None:
    _ensure_state(connection, sink)
    connection.execute(
        update(sink_state)
        .where(sink_state.c.sink == sink)
        .values(failing_since=None, failures=0, paused_until=None, last_success=now)
    )


def delivery_states(
    connection: Connection, alert_ids: Sequence[int]
) -> dict[int, list[DeliveryState]]:
    """Each alert's deliveries, by sink name."""
    from newswatch.alerts.status import DeliveryState

    states: dict[int, list[DeliveryState]] = {}
    if not alert_ids:
        return states
    query = (
        select(deliveries)
        .where(deliveries.c.alert_id.in_(list(alert_ids)))
        .order_by(deliveries.c.alert_id, deliveries.c.sink)
    )
    for row in connection.execute(query):
        states.setdefault(row.alert_id, []).append(
            DeliveryState(
                sink=row.sink,
                attempts=row.attempts,
                delivered_at=row.delivered_at,
                dead_at=row.dead_at,
                last_error=row.last_error,
                next_attempt=row.next_attempt,
            )
        )
    return states


def sink_statuses(connection: Connection, sinks: Sequence[str], now: datetime) -> list[SinkStatus]:
    """The outbox of every sink named (configured) or found in the delivery rows."""
    waiting = _undelivered
    due = and_(waiting, or_(deliveries.c.next_attempt.is_(None), deliveries.c.next_attempt <= now))
    query = (
        select(
            deliveries.c.sink,
            func.sum(case((waiting, 1), else_=0)).label("pending"),
            func.sum(case((and_(waiting, deliveries.c.attempts > 0), 1), else_=0)).label("retry"),
            func.sum(case((deliveries.c.dead_at.is_not(None), 1), else_=0)).label("dead"),
            func.sum(case((due, 1), else_=0)).label("due"),
            type_coerce(func.min(case((waiting, deliveries.c.next_attempt))), UtcDateTime()).label(
                "next_attempt"
            ),
        )
        .where(deliveries.c.delivered_at.is_(None))
        .group_by(deliveries.c.sink)
    )
    counts = {row.sink: row for row in connection.execute(query)}
    health = {row.sink: row for row in connection.execute(select(sink_state))}
    return [
        _status(name, counts.get(name), health.get(name), now)
        for name in [*sinks, *sorted(set(counts) - set(sinks))]
    ]


def _status(
    name: str, counts: Row[Any] | None, state: Row[Any] | None, now: datetime
) -> SinkStatus:
    from newswatch.alerts.status import SinkStatus

    pending = int(counts.pending or 0) if counts is not None else 0
    next_try: datetime | None = None
    if pending and counts is not None:
        next_try = now if counts.due else counts.next_attempt
        if state is not None and state.paused_until is not None and next_try is not None:
            next_try = max(next_try, state.paused_until)
    return SinkStatus(
        sink=name,
        pending=pending,
        retrying=int(counts.retry or 0) if counts is not None else 0,
        dead=int(counts.dead or 0) if counts is not None else 0,
        next_try=next_try,
        failing_since=state.failing_since if state is not None else None,
        last_error=state.last_error if state is not None else None,
        last_success=state.last_success if state is not None else None,
    )


def dead_letters(connection: Connection, sink: str | None = None) -> list[tuple[Alert, str, str]]:
    """Dead-lettered deliveries: (alert, sink, why), oldest first."""
    from newswatch.store.alerts import alert_from_row, alert_query

    query = (
        alert_query()
        .add_columns(deliveries.c.sink.label("sink"), deliveries.c.last_error.label("error"))
        .join(deliveries, deliveries.c.alert_id == alerts.c.id)
        .where(deliveries.c.dead_at.is_not(None), deliveries.c.delivered_at.is_(None))
        .order_by(alerts.c.id, deliveries.c.sink)
    )
    if sink is not None:
        query = query.where(deliveries.c.sink == sink)
    return [(alert_from_row(row), row.sink, row.error or "") for row in connection.execute(query)]


def backlog(connection: Connection) -> dict[str, tuple[int, datetime | None]]:
    """Per sink: alerts not yet received nor refused for good, and the oldest one's time."""
    oldest = type_coerce(func.min(alerts.c.created_at), UtcDateTime())
    query = (
        select(deliveries.c.sink, func.count(), oldest)
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .where(_undelivered)
        .group_by(deliveries.c.sink)
    )
    return {sink: (int(count), first) for sink, count, first in connection.execute(query)}
