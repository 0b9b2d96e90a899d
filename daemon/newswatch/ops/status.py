"""The one-line STATUS= systemd shows in `systemctl status newswatch` (pure)."""

from __future__ import annotations

from collections.abc import Mapping

# feed status in the database -> the word people read, in this order
FEED_WORDS = {
    "ok": "ok",
    "failing": "failing",
    "backing_off": "backing off",
    "empty": "empty",
    "unreadable": "unreadable",
    "gone": "gone",
    "new": "new",
}


def status_line(
    feeds_by_status: Mapping[str, int], pending: int | None, note: str | None = None
) -> str:
    """e.g. "feeds: 180 ok, 3 failing; 12 deliveries pending; reload rejected (...)"."""
    counts = sorted(feeds_by_status.items(), key=lambda item: _rank(item[0]))
    feeds = ", ".join(f"{n} {FEED_WORDS.get(status, status)}" for status, n in counts if n)
    parts = [f"feeds: {feeds or 'none'}"]
    parts.append("database not answering" if pending is None else f"{pending} deliveries pending")
    if note:
        parts.append(note)
    return "; ".join(parts)


def _rank(status: str) -> int:
    return list(FEED_WORDS).index(status) if status in FEED_WORDS else len(FEED_WORDS)
