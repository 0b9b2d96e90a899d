"""`newswatch feeds`: each configured feed with its health, as rows (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from newswatch.config import FeedSource
from newswatch.model import iso_utc
from newswatch.store.feeds import FeedRecord

STATUS_WORDS = {
    "new": "new",
    "ok": "ok",
    "failing": "failing",
    "backing_off": "backing off",
    "gone": "gone",
}


def feed_rows(feeds: Sequence[FeedSource], records: dict[str, FeedRecord]) -> list[dict[str, Any]]:
    rows = []
    for feed in feeds:
        record = records.get(feed.url)
        state = record.state if record else None
        rows.append(
            {
                "name": feed.name or (record.title if record else None) or feed.url,
                "url": feed.url,
                "moved_to": state.current_url if state else None,
                "status": STATUS_WORDS[state.status] if state else "new",
                "last_success": iso_utc(state.last_success) if state else None,
                "last_error": state.last_error if state else None,
                "last_error_at": iso_utc(state.last_error_at) if state else None,
                "consecutive_failures": state.consecutive_failures if state else 0,
                "next_poll": _next_poll(state.next_poll if state else None, state),
                "documents": record.documents if record else 0,
                "entries_last": record.entries_last if record else 0,
                "malformed": state.bozo if state else None,
            }
        )
    return rows


def _next_poll(moment: datetime | None, state: Any) -> str | None:
    if state is not None and state.status == "gone":
        return None
    return iso_utc(moment)


def render_table(rows: Sequence[dict[str, Any]]) -> str:
    """A readable block per feed; the first line is the one to scan."""
    blocks = []
    for row in rows:
        lines = [f"{row['name']}  [{row['status']}]  {row['documents']} documents"]
        lines.append(f"  url           {row['url']}")
        if row["moved_to"]:
            lines.append(f"  moved to      {row['moved_to']}")
        lines.append(f"  last success  {row['last_success'] or 'never'}")
        if row["last_error"]:
            lines.append(f"  last error    {row['last_error_at']}  {row['last_error']}")
        if row["consecutive_failures"]:
            lines.append(f"  failures      {row['consecutive_failures']} in a row")
        if row["malformed"]:
            lines.append(f"  malformed     {row['malformed']}")
        lines.append(
            f"  next poll     {row['next_poll'] or 'not polled (edit its entry to retry)'}"
        )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
