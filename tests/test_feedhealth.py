"""Feed-health notices (pure): one when a feed fails or falls silent too long, one on recovery."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from newswatch.ops.feedhealth import FeedView, judge

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HEALTHY = FeedView(
    name="World", url="https://x.org/rss", failing_since=None, last_error=None,
    last_new=NOW - timedelta(hours=1), raised=None,
)  # fmt: skip
DAY = timedelta(hours=24)


def test_a_feed_failing_past_the_threshold_is_announced_once() -> None:
    failing = replace(HEALTHY, failing_since=NOW - timedelta(hours=25), last_error="HTTP 500")
    raised, notice = judge(failing, NOW, DAY)
    assert raised == "failing" and notice is not None
    assert notice.subject == "feed failing: World" and "HTTP 500" in notice.detail
    assert judge(replace(failing, raised=raised), NOW + timedelta(hours=3), DAY) == (
        "failing",
        None,
    )


def test_a_feed_failing_for_less_than_the_threshold_says_nothing() -> None:
    failing = replace(HEALTHY, failing_since=NOW - timedelta(hours=23), last_error="timeout")
    assert judge(failing, NOW, DAY) == (None, None)
    assert judge(HEALTHY, NOW, DAY) == (None, None)  # and then recovers: nothing to say either


def test_recovery_is_announced_once_after_an_announced_failure() -> None:
    recovered = replace(HEALTHY, raised="failing")
    raised, notice = judge(recovered, NOW, DAY)
    assert raised is None and notice is not None and notice.kind == "recovered"
    assert notice.record()["event"] == "feed_health" and notice.record()["state"] == "recovered"


def test_a_silent_feed_is_announced_only_with_silent_after_and_recovers_with_new_entries() -> None:
    quiet = replace(HEALTHY, last_new=NOW - timedelta(days=4))
    assert judge(quiet, NOW, DAY) == (None, None)
    raised, notice = judge(quiet, NOW, DAY, silent_after=timedelta(days=3))
    assert raised == "silent" and notice is not None and notice.subject == "feed silent: World"
    again = judge(replace(quiet, raised="silent"), NOW, DAY, silent_after=timedelta(days=3))
    assert again == ("silent", None)
    fresh = replace(HEALTHY, raised="silent")
    assert judge(fresh, NOW, DAY, timedelta(days=3))[1].kind == "recovered"  # type: ignore[union-attr]
