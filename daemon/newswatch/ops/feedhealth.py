"""Feed-health alerts (pure): a feed failing for too long, or silent for too long,
is announced once, and its recovery once; never again while the state lasts.

`judge` looks at a feed after each poll: its stored state, when it last
brought a new entry, and which notice (if any) is already out for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from newswatch.model import iso_utc

Raised = Literal["failing", "silent"]
NoticeKind = Literal["failing", "silent", "recovered"]
FAILING_AFTER = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class FeedView:
    """What `judge` needs to know of one feed."""

    name: str
    url: str
    failing_since: datetime | None  # first failure of the current run of failures
    last_error: str | None
    last_new: datetime | None  # last poll that stored a new entry (or first poll)
    raised: Raised | None  # the notice already out for it


@dataclass(frozen=True, slots=True)
class Notice:
    """One message about a feed's health, for the sinks."""

    kind: NoticeKind
    feed: str
    url: str
    since: datetime | None
    detail: str

    @property
    def subject(self) -> str:
        words = {"failing": "failing", "silent": "silent", "recovered": "recovered"}
        return f"feed {words[self.kind]}: {self.feed}"

    def record(self) -> dict[str, Any]:
        return {
            "event": "feed_health",
            "state": self.kind,
            "feed": self.feed,
            "url": self.url,
            "since": iso_utc(self.since),
            "detail": self.detail,
        }


def judge(
    feed: FeedView,
    now: datetime,
    failing_after: timedelta = FAILING_AFTER,
    silent_after: timedelta | None = None,
) -> tuple[Raised | None, Notice | None]:
    """The notice that should be out for this feed now, and the message to send (if any)."""
    failing = feed.failing_since is not None and now - feed.failing_since >= failing_after
    silent = (
        silent_after is not None
        and feed.failing_since is None
        and feed.last_new is not None
        and now - feed.last_new >= silent_after
    )
    wanted: Raised | None = "failing" if failing else "silent" if silent else None
    if wanted == feed.raised:
        return wanted, None
    if wanted == "failing":
        error = feed.last_error or "unknown error"
        detail = f"failing since {iso_utc(feed.failing_since)}: {error}"
        return wanted, Notice("failing", feed.name, feed.url, feed.failing_since, detail)
    if wanted == "silent":
        detail = f"no new entry since {iso_utc(feed.last_new)}"
        return wanted, Notice("silent", feed.name, feed.url, feed.last_new, detail)
    if feed.raised is None:  # a failing feed that never reached its threshold recovered
        return None, None
    was = "failing" if feed.raised == "failing" else "silent"
    return None, Notice("recovered", feed.name, feed.url, now, f"was {was}; works again")
