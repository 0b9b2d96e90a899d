"""Parsing the dates users type on the command line."""

from __future__ import annotations

from datetime import UTC, datetime

from newswatch.config import parse_duration


def parse_since(text: str, now: datetime) -> datetime:
    """`2024-11-14`, `2024-11-14T08:00`, `2024-11-14T08:00+01:00`, or an age like `7d`."""
    text = text.strip()
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date; write 2024-11-14, 2024-11-14T08:00 or an age like 7d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
