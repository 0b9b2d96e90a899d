"""`newswatch feeds`: each configured feed with its health, as rows (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from newswatch.feedpolicy import FeedState
from newswatch.model import iso_utc
from newswatch.store.feeds import FeedRecord

if TYPE_CHECKING:
    from newswatch.config import FeedSource

STATUS_WORDS = {
    "new": "new",
    "ok": "ok",
    "empty": "empty",
    "unreadable": "unreadable",
    "failing": "failing",
    "backing_off": "backing off",
    "gone": "gone",
}


def feed_rows(feeds: Sequence[FeedSource], records: dict[str, FeedRecord]) -> list[dict[str, Any]]:
    return [_row(feed, records.get(feed.url)) for feed in feeds]


def _row(feed: FeedSource, record: FeedRecord | None) -> dict[str, Any]:
    record = record or FeedRecord(state=FeedState(url=feed.url), config_hash="")
    state = record.state
    return {
        "name": feed.name or record.title or feed.url,
        "url": feed.url,
        "moved_to": state.current_url,
        "status": STATUS_WORDS[state.status],
        "last_success": iso_utc(state.last_success),
        "last_error": state.last_error,
        "last_error_at": iso_utc(state.last_error_at),
        "consecutive_failures": state.consecutive_failures,
        "next_poll": None if state.status == "gone" else iso_utc(state.next_poll),
        "documents": record.documents,
        "entries_last": record.entries_last,
        "last_entries": record.last_outcome,
        "malformed": state.bozo,
    }


def describe_entries(outcome: dict[str, Any] | None) -> str | None:
    """What became of the last body's entries: "131 entries, 9 stored, 122 duplicates ..."."""
    if outcome is None:
        return None
    entries = outcome.get("entries", 0)
    parts = [f"{entries} {'entry' if entries == 1 else 'entries'}"]
    for key, word in _OUTCOME_WORDS:
        count = outcome.get(key)
        if count:
            parts.append(f"{count} {word}{'s' if key == 'duplicates' and count > 1 else ''}")
    text = ", ".join(parts)
    of = [str(i) for i in outcome.get("duplicate_of") or []]
    if of:
        more = ", ..." if len(of) < outcome.get("duplicates", 0) else ""
        text += f" (of documents {', '.join(of)}{more})"
    return text


_OUTCOME_WORDS = (
    ("new", "stored"),
    ("updated", "updated"),
    ("unchanged", "unchanged"),
    ("empty", "empty (no title, no text)"),
    ("duplicates", "duplicate"),
)


def render_table(rows: Sequence[dict[str, Any]]) -> str:
    """A readable block per feed; the first line is the one to scan."""
    blocks = []
    for row in rows:
        lines = [f"{row['name']}  [{row['status']}]  {row['documents']} documents"]
        lines.append(f"  url           {row['url']}")
        if row["moved_to"]:
            lines.append(f"  moved to      {row['moved_to']}")
        lines.append(f"  last success  {row['last_success'] or 'never'}")
        entries = describe_entries(row["last_entries"])
        if entries:
            lines.append(f"  last body     {entries}")
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
