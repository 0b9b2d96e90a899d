"""Parse workers: real processes that start with a large body, stop when idle or
abandoned, stay small on a huge item, and never outlive the process that owns them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newswatch.config import Person
from newswatch.match import compile_watches
from newswatch.normalize import MAX_TEXT_CHARS
from newswatch.parsing.feedwork import (
    POOL_THRESHOLD_BYTES,
    FeedBody,
    FeedParsers,
    ParseAbandoned,
    documents_of,
)
from procs import command_line, descendants, forkservers_of, peak_rss_mb, survivors, workers_of
from test_stopping import big_feed as feed_of_50000_items


def big_feed() -> bytes:
    item = "<item><guid>{0}</guid><title>Story {0}</title><description>{1}</description></item>"
    filler = "Biden spoke at length. " * 20
    items = "".join(item.format(number, filler) for number in range(40))
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}'
    return (body + "</channel></rss>").encode()


@pytest.mark.slow(seconds=3)
def test_workers_parse_and_match_then_stop_when_idle(capfd: pytest.CaptureFixture[str]) -> None:
    body = big_feed()
    assert len(body) > POOL_THRESHOLD_BYTES
    parsers = FeedParsers(compile_watches([Person(name="Joe Biden", aliases=("Biden",))], []))
    try:
        work = FeedBody(body, "http://127.0.0.1/wire", {}, None, datetime.now(UTC))
        parsed = parsers.submit(work).result()
        assert parsed.title == "Wire" and len(parsed.documents) == 40
        assert all(
            [m.watch for m in parsed.matched[(d.source, d.key)]] == ["Joe Biden"]
            for d in parsed.documents
        )
        assert not parsers.close_if_idle(60), "used a moment ago"
        assert any(workers_of(os.getpid())) and any(trackers())
        assert forkservers_of(os.getpid()) == [], "no forkserver (~30 MB) beside the workers"
        assert parsers.close_if_idle(0)
        assert workers_of(os.getpid()) == [], "an idle daemon keeps no parse worker resident"
        assert trackers() == [], "nor a resource tracker (~12 MB)"
        assert not parsers.close_if_idle(0), "already stopped"
        assert trackers() == [], "no late finalizer started the tracker again"
        again = parsers.submit(work).result()  # starts afresh
        assert len(again.documents) == 40
        assert parsers.close_if_idle(0) and workers_of(os.getpid()) == trackers() == []
    finally:
        parsers.close()
    assert "leaked" not in capfd.readouterr().err, "the tracker stopped with nothing registered"


@pytest.mark.slow(seconds=3)
def test_what_a_worker_sends_back_is_what_it_parsed() -> None:
    # every field of every document, match and hit crosses the process boundary pickled
    item = (
        "<item><guid>{0}</guid><title>Biden, story {0}</title><link>https://e.org/{0}</link>"
        "<author>jo@e.org (Jo Writer)</author><category>Politics</category>"
        "<pubDate>Sun, 01 Feb 2026 09:30:00 GMT</pubDate>"
        "<description>{1}</description></item>"
    )
    text = "Joe Biden spoke at length.&lt;br&gt;Biden left. " * 20
    items = "".join(item.format(number, text) for number in range(40))
    body = f'<rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'.encode()
    assert len(body) > POOL_THRESHOLD_BYTES
    matcher = compile_watches([Person(name="Joe Biden", aliases=("Biden",))], [])
    work = FeedBody(body, "http://127.0.0.1/wire", {}, None, datetime.now(UTC), (("Biden", 2),))
    parsers = FeedParsers(matcher)
    try:
        pooled = parsers.submit(work).result()
        assert parsers.close_if_idle(0), "a worker parsed it"
    finally:
        parsers.close()
    here = documents_of(work, matcher)
    assert pooled == here
    assert len(pooled.documents) == 40 and pooled.documents[0].authors == ("Jo Writer",)
    assert all(len(matches[0].hits) == 41 for matches in pooled.matched.values())


def trackers() -> list[int]:
    return [p for p in descendants(os.getpid()) if "resource_tracker" in command_line(p)]


def single_item_feed(text_bytes: int) -> bytes:
    """One item whose description is `text_bytes` of plain prose."""
    sentence = "Biden spoke at length. "
    text = (sentence * (text_bytes // len(sentence) + 1))[:text_bytes]
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>One</title>'
    item = f"<item><guid>1</guid><title>Huge</title><description>{text}</description></item>"
    return (head + item + "</channel></rss>").encode()


def test_a_huge_single_item_is_cut_to_1_mib_and_its_worker_stays_small() -> None:
    """A 9.9 MiB single-item feed made a worker peak at 328 MB; now ~100 MB."""
    body = single_item_feed(int(9.9 * 2**20))
    parsers = FeedParsers(compile_watches([Person(name="Joe Biden", aliases=("Biden",))], []))
    try:
        parsers.warm_up()
        work = FeedBody(body, "http://127.0.0.1/one", {}, None, datetime.now(UTC))
        parsed = parsers.submit(work).result()
        workers = workers_of(os.getpid())
        peak = max(peak_rss_mb(pid) for pid in workers)
    finally:
        parsers.close()
    (document,) = parsed.documents
    assert MAX_TEXT_CHARS - 200 <= len(document.body) <= MAX_TEXT_CHARS
    assert document.body.rsplit(" ", 1)[1] in {"Biden", "spoke", "at", "length."}  # whole words
    assert parsed.truncated == 1
    assert [m.watch for m in parsed.matched[(document.source, document.key)]] == ["Joe Biden"]
    assert peak < 200, f"a worker peaked at {peak} MB"


def test_abandon_kills_a_parse_in_flight_and_nothing_is_parsed_after() -> None:
    body = single_item_feed(8 * 2**20)
    parsers = FeedParsers(compile_watches([Person(name="Joe Biden", aliases=("Biden",))], []))
    try:
        work = FeedBody(body, "http://127.0.0.1/one", {}, None, datetime.now(UTC))
        parsing = parsers.submit(work)
        workers = _wait_for_workers()
        started = time.monotonic()
        parsers.abandon()
        with pytest.raises(ParseAbandoned):
            parsing.result()  # not parsed again in-process, as when a worker crashes
        assert time.monotonic() - started < 10
        with pytest.raises(ParseAbandoned):
            parsers.submit(work).result()
        assert survivors(workers) == []
    finally:
        parsers.close()


@pytest.mark.slow(seconds=2)
def test_abandon_ends_the_wait_for_a_parse_in_this_process_mid_body() -> None:
    """With no workers (`ingest`), a body parses on a thread while its asker waits:
    abandoning hands the asker ParseAbandoned mid-parse (a feed of 50,000 entries
    parses for seconds), not the documents once the parse is over."""
    matcher = compile_watches([Person(name="Joe Biden", aliases=("Biden",))], [])
    parsers = FeedParsers(matcher, workers=0)
    work = FeedBody(feed_of_50000_items(), "http://127.0.0.1/big", {}, None, datetime.now(UTC))
    parsing = parsers.submit(work)
    outcome: list[object] = []

    def ask() -> None:
        try:
            outcome.append(parsing.result())
        except ParseAbandoned as exc:
            outcome.append(exc)

    asker = threading.Thread(target=ask)
    asker.start()
    deadline = time.monotonic() + 30
    while not any(thread.name == "newswatch-parse" for thread in threading.enumerate()):
        assert time.monotonic() < deadline and not outcome, "the parse never started"
        time.sleep(0.05)
    parsers.abandon()
    asker.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], ParseAbandoned), outcome
    assert workers_of(os.getpid()) == []
    with pytest.raises(ParseAbandoned):
        parsers.submit(work).result()


def _wait_for_workers(timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while not (workers := workers_of(os.getpid())):
        assert time.monotonic() < deadline, "no parse worker started"
        time.sleep(0.2)
    return workers


OWNER = """
import sys, time
from newswatch.config import Person
from newswatch.parsing.feedwork import FeedParsers
from newswatch.match import compile_watches

if __name__ == "__main__":
    parsers = FeedParsers(compile_watches([Person(name="Joe Biden")], []))
    parsers.warm_up()
    print("ready", flush=True)
    time.sleep(600)
"""


def test_idle_workers_and_tracker_exit_when_their_owner_is_killed(
    tmp_path: Path,
) -> None:
    """The case that left 2.2 GB of processes alive for 11 minutes after a kill -9."""
    script = tmp_path / "owner.py"
    script.write_text(OWNER)
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None and owner.stdout.readline() == "ready\n"
        deadline = time.monotonic() + 30
        while not workers_of(owner.pid):
            assert time.monotonic() < deadline, "the daemon's worker never started"
            time.sleep(0.2)
        processes = descendants(owner.pid)
        assert len(processes) == 2, "resource tracker, the worker (no forkserver)"
    finally:
        owner.kill()
        owner.wait()
    assert survivors(processes, within=30) == []
