"""Every entry kept (issue 7): feeds that share a title, a link or anchors, through `ingest`.

Real HTTP on 127.0.0.1, the real CLI, SQLite and PostgreSQL. Each case is one
that lost entries silently before: the second feed's stories overwrote the
first's, or all but one entry sharing a link became "duplicates" forever.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from xml.sax.saxutils import escape

import feedserver
from helpers import alert_records
from test_feeds_e2e import configure, feed_health, refreshed, run


def channel(title: str, items: list[tuple[str, str, str, str]]) -> bytes:
    """RSS with (guid, title, link, text) items."""
    entries = "".join(
        f"<item><guid isPermaLink='false'>{escape(guid)}</guid><title>{escape(head)}</title>"
        f"<link>{escape(link)}</link><description>{escape(text)}</description></item>"
        for guid, head, link, text in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://site.example/</link>{entries}</channel></rss>"
    ).encode()


def test_two_feeds_with_the_same_title_keep_their_own_stories_and_alerts(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    first = channel(
        "News", [(str(n), f"Local item {n}", "", f"Garden show {n}.") for n in range(3)]
    )
    second = channel(
        "News",
        [("0", "Senate hearing", "", "Kosachev spoke at the hearing.")]
        + [(str(n), f"Other item {n}", "", f"Weather report {n}.") for n in (1, 2)],
    )
    urls = [
        feedserver.set_route(server, "/a.xml", feedserver.feed(first)),
        feedserver.set_route(server, "/b.xml", feedserver.feed(second)),
    ]
    config = configure(tmp_path, database_url, urls)
    code, out, err = run(config, capsys, "ingest")
    assert code == 0, err
    lines = refreshed(err)
    assert [(lines[u]["new"], lines[u]["updated"]) for u in urls] == [(3, 0), (3, 0)]
    assert [a["watch"] for a in alert_records(out)] == ["Konstantin Kosachev"]
    health = feed_health(config, capsys)
    assert [health[u]["last_entries"]["new"] for u in urls] == [3, 3]


def test_episodes_linking_to_the_home_page_are_all_stored_and_feeds_says_so(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    episodes = [
        (f"ep-{n}", f"Episode {n}: guest {n}", "https://pod.example/", f"We talk to guest {n}.")
        for n in range(131)
    ]
    url = feedserver.set_route(server, "/pod.xml", feedserver.feed(channel("Pod", episodes)))
    config = configure(tmp_path, database_url, [url])
    code, _, err = run(config, capsys, "ingest")
    assert code == 0, err
    assert refreshed(err)[url]["new"] == 131
    code, out, _ = run(config, capsys, "feeds")
    assert code == 0
    assert "131 entries, 131 stored" in out


def test_entries_linking_to_anchors_with_spaces_are_all_stored_with_their_anchor(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    notes = [
        (f"n{n}", f"Release 2.{n}", f"https://site.example/notes#Release 2.{n}", f"Fixed {n}.")
        for n in range(30)
    ]
    url = feedserver.set_route(server, "/notes.xml", feedserver.feed(channel("Notes", notes)))
    config = configure(tmp_path, database_url, [url])
    code, _, err = run(config, capsys, "ingest")
    assert code == 0, err
    assert refreshed(err)[url]["new"] == 30


def test_a_later_poll_counts_each_entry_with_its_fate(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    story = "Kosachev spoke about NATO and the treaty at length on Thursday in Moscow."
    items = [("1", "Talks", "https://site.example/1", story), ("2", "", "", "")]
    url = feedserver.set_route(server, "/f.xml", feedserver.feed(channel("F", items)))
    config = configure(tmp_path, database_url, [url])
    assert run(config, capsys, "ingest")[0] == 0
    items.append(("3", "Talks", "https://site.example/3", story))
    feedserver.set_route(server, "/f.xml", feedserver.feed(channel("F", items)))
    code, out, err = run(config, capsys, "ingest")
    assert code == 0 and alert_records(out) == []
    line = refreshed(err)[url]
    assert (line["entries"], line["unchanged"], line["empty"], line["duplicates"]) == (3, 1, 1, 1)
    code, out, _ = run(config, capsys, "feeds")
    expected = "3 entries, 1 unchanged, 1 empty (no title, no text), 1 duplicate (of documents 1)"
    assert expected in out


def test_a_feed_failing_past_its_threshold_is_announced_once_and_its_recovery_once(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    url = feedserver.set_route(server, "/flaky.xml", feedserver.status(500))
    config = configure(tmp_path, database_url, [url], "health: {failing_after: 1s}\n")

    def notices() -> list[tuple[str, str]]:
        _, out, _ = run(config, capsys, "ingest")
        records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return [(r["state"], r["feed"]) for r in records if r["event"] == "feed_health"]

    assert notices() == []  # failing for less than a second
    time.sleep(1.5)
    assert notices() == [("failing", url)]
    assert notices() == []  # still failing: said once
    items = [("1", "Back", "https://site.example/1", "Back online.")]
    feedserver.set_route(server, "/flaky.xml", feedserver.feed(channel("Flaky", items)))
    assert notices() == [("recovered", url)]
    assert notices() == []
