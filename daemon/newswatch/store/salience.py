"""How many recent documents named each watched person in full, per day.

Kept for the people who share an alias with another watched person only: it
is what decides a bare shared surname under `ambiguous: salient`
(match/salience.py). A row per (watch, day); rows older than the window are
dropped as new ones are written, so the table stays as small as the list of
sharers times the window's days.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from sqlalchemy import Connection, delete, func, select

from newswatch.store.dialect import upsert_adding
from newswatch.store.tables import name_counts

WINDOW = timedelta(days=30)


def recent_counts(connection: Connection, today: date) -> dict[str, int]:
    """Documents naming each person in full over the last `WINDOW`, today included."""
    since = today - WINDOW
    rows = connection.execute(
        select(name_counts.c.watch, func.sum(name_counts.c.documents))
        .where(name_counts.c.day > since)
        .group_by(name_counts.c.watch)
    )
    return {watch: int(total) for watch, total in rows}


def add_counts(connection: Connection, counts: Mapping[str, int], today: date) -> None:
    """Add today's documents naming each person in full; forget days out of the window."""
    rows = [{"watch": w, "day": today, "documents": n} for w, n in counts.items() if n > 0]
    if not rows:
        return
    connection.execute(upsert_adding(connection, name_counts, ["watch", "day"], "documents"), rows)
    connection.execute(delete(name_counts).where(name_counts.c.day <= today - WINDOW))
