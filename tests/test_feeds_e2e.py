"""Feeds through the whole pipeline, served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

import feedserver
from helpers import WATCHES, alert_records, feeds_config, migrated_sqlite
from newswatch.cli import main
from newswatch.store.db import open_database


def rss(*items: tuple[str, str, str]) -> bytes:
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>https://news.example/{guid}</link>"
        f"<description>&lt;p&gt;{text}&lt;/p&gt;</description>"
        "<pubDate>Thu, 14 Nov 2024 10:00:00 GMT</pubDate></item>"
        for guid, title, text in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Example World</title><link>https://news.example/</link>{entries}</channel></rss>"
    ).encode()


def configure(tmp_path: Path, database_url: str, feeds: list[str], extra: str = "") -> Path:
    fetch = "fetch: {timeout: 30s, connect_timeout: 10s}\n"
    return feeds_config(tmp_path, database_url, feeds, fetch, WATCHES + extra)


def run(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "--log-format", "json", *args])
    out, err = capsys.readouterr()
    return code, out, err


def refreshed(err: str) -> dict[str, dict]:
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return {r["url"]: r for r in lines if r.get("event") == "source_refreshed" and "url" in r}


def feed_health(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:
    code, out, _ = run(config, capsys, "feeds", "--json")
    assert code == 0
    return {row["url"]: row for row in map(json.loads, out.splitlines())}


def test_a_feed_alerts_once_and_the_second_pass_is_a_conditional_get(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    body = rss(("k1", "Senator speaks", "Kosachev spoke about NATO."))
    url = feedserver.set_route(server, "/world.xml", feedserver.feed(body))
    config = configure(tmp_path, database_url, [url])

    code, out, err = run(config, capsys, "ingest")
    assert code == 0, err
    alerts = alert_records(out)
    assert {a["watch"] for a in alerts} == {"Konstantin Kosachev", "NATO"}
    assert {a["source"] for a in alerts} == {"Example World"}
    assert alerts[0]["url"] == "https://news.example/k1"
    assert alerts[0]["published"] == "2024-11-14T10:00:00Z"
    assert refreshed(err)[url]["new"] == 1

    code, out, err = run(config, capsys, "ingest")
    assert code == 0 and alert_records(out) == []
    assert refreshed(err)[url]["status"] == "not_modified"
    assert server.seen[-1].headers.get("if-none-match")
    health = feed_health(config, capsys)[url]
    assert health["status"] == "ok" and health["documents"] == 1
    assert health["name"] == "Example World" and health["last_success"]


def test_an_edited_entry_updates_its_document_without_alerting_again(
    tmp_path: Path, server, capsys
) -> None:
    url = feedserver.set_route(
        server,
        "/f.xml",
        feedserver.feed(rss(("g", "T", "Biden spoke.")), etag=False, last_modified=False),
    )
    config = configure(tmp_path, migrated_sqlite(tmp_path / "nw.db"), [url])
    _, out, _ = run(config, capsys, "ingest")
    assert [a["watch"] for a in alert_records(out)] == ["Joe Biden"]
    feedserver.set_route(
        server,
        "/f.xml",
        feedserver.feed(rss(("g", "T", "Biden spoke on China.")), etag=False, last_modified=False),
    )
    _, out, err = run(config, capsys, "ingest")
    assert [a["watch"] for a in alert_records(out)] == ["China"]
    assert refreshed(err)[url]["updated"] == 1


def test_faulty_feeds_are_reported_and_the_others_still_import(
    tmp_path: Path, server, capsys
) -> None:
    good = feedserver.set_route(server, "/good.xml", feedserver.feed(rss(("a", "T", "Putin."))))
    missing = feedserver.set_route(server, "/missing.xml", feedserver.status(404))
    gone = feedserver.set_route(server, "/gone.xml", feedserver.status(410))
    busy = feedserver.set_route(server, "/busy.xml", feedserver.status(429, retry_after="3600"))
    page = feedserver.set_route(
        server,
        "/page.html",
        feedserver.feed(
            b"<!DOCTYPE html><html><body>Welcome</body></html>", content_type="text/html"
        ),
    )
    config = configure(
        tmp_path, migrated_sqlite(tmp_path / "nw.db"), [good, missing, gone, busy, page]
    )
    code, out, err = run(config, capsys, "ingest")
    assert code == 1, "a failing feed makes a one-shot ingest exit 1"
    assert [a["watch"] for a in alert_records(out)] == ["Vladimir Putin"]
    lines = refreshed(err)
    assert lines[good]["status"] == "ok"
    assert lines[missing]["status"] == "error" and "404" in lines[missing]["error"]
    assert lines[gone]["status"] == "gone"
    assert lines[page]["status"] == "error" and "HTML" in lines[page]["error"]
    assert "Traceback" not in err

    health = feed_health(config, capsys)
    assert health[missing]["status"] == "failing" and health[missing]["consecutive_failures"] == 1
    assert health[gone]["status"] == "gone" and health[gone]["next_poll"] is None
    assert health[busy]["status"] == "backing off"
    assert health[page]["documents"] == 0

    asked = len(server.seen)
    run(config, capsys, "ingest")
    paths = [seen.path for seen in server.seen[asked:]]
    assert "/gone.xml" not in paths, "a 410 feed is not polled again"
    assert "/busy.xml" not in paths, "an unexpired Retry-After is honoured by ingest"
    assert "/missing.xml" in paths


def test_a_feed_the_database_refuses_costs_only_itself(tmp_path: Path, server, capsys) -> None:
    """Parsed feeds are stored several to a transaction; one that fails is not stored
    and is polled again, the others stored with it are kept, each with its alerts."""
    first = feedserver.set_route(server, "/a.xml", feedserver.feed(rss(("a", "T", "Putin."))))
    refused = feedserver.set_route(
        server, "/b.xml", feedserver.feed(rss(("b", "Refused", "Biden.")))
    )
    last = feedserver.set_route(server, "/c.xml", feedserver.feed(rss(("c", "T2", "NATO."))))
    database = migrated_sqlite(tmp_path / "nw.db")
    config = configure(tmp_path, database, [first, refused, last])
    engine = open_database(database)
    with engine.begin() as connection:  # the database refuses one document, as a full disk might
        connection.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON documents WHEN NEW.title = 'Refused' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        )

    code, out, err = run(config, capsys, "ingest")
    assert code == 1
    assert sorted(a["watch"] for a in alert_records(out)) == ["NATO", "Vladimir Putin"]
    lines = refreshed(err)
    assert lines[first]["status"] == "ok" and lines[last]["status"] == "ok"
    assert lines[refused]["status"] == "error" and "refused" in lines[refused]["error"]

    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER refuse"))
    engine.dispose()
    code, out, err = run(config, capsys, "ingest")
    assert code == 0, err
    assert [a["watch"] for a in alert_records(out)] == ["Joe Biden"], "polled again, not lost"
    assert refreshed(err)[refused]["new"] == 1


def test_a_permanent_redirect_is_remembered(tmp_path: Path, server, capsys) -> None:
    new = feedserver.set_route(server, "/new.xml", feedserver.feed(rss(("a", "T", "Biden."))))
    old = feedserver.set_route(server, "/old.xml", feedserver.redirect(301, new))
    config = configure(tmp_path, migrated_sqlite(tmp_path / "nw.db"), [old])
    _, _, err = run(config, capsys, "ingest")
    assert '"feed_moved"' in err
    assert feed_health(config, capsys)[old]["moved_to"] == new
    asked = len(server.seen)
    run(config, capsys, "ingest")
    assert [seen.path for seen in server.seen[asked:]] == ["/new.xml"]


def test_opml_lists_feeds_and_import_opml_prints_and_merges(tmp_path: Path, server, capsys) -> None:
    url = feedserver.set_route(server, "/o.xml", feedserver.feed(rss(("a", "T", "NATO met."))))
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>s</title></head><body>'
        f'<outline text="Outlet" title="Outlet" type="rss" xmlUrl="{url}"/></body></opml>'
    )
    code, out, _ = run(tmp_path / "unused.yaml", capsys, "import-opml", str(opml))
    assert code == 0 and f"url: {url}" in out and "name: Outlet" in out

    feeds_file = tmp_path / "feeds.yaml"
    assert (
        run(tmp_path / "unused.yaml", capsys, "import-opml", str(opml), "--merge", str(feeds_file))[
            0
        ]
        == 0
    )
    assert "1 feed(s) added" in capsys.readouterr().out or feeds_file.exists()
    run(tmp_path / "unused.yaml", capsys, "import-opml", str(opml), "--merge", str(feeds_file))
    assert feeds_file.read_text().count(url) == 1

    config = tmp_path / "newswatch.yaml"
    config.write_text(
        f"database: {migrated_sqlite(tmp_path / 'nw.db')}\nsources:\n  include: [feeds.yaml]\n"
        + WATCHES
    )
    _, out, _ = run(config, capsys, "ingest")
    assert [(a["watch"], a["source"]) for a in alert_records(out)] == [("NATO", "Outlet")]

    config.write_text(
        f"database: sqlite:///{tmp_path}/nw2.db\nsources:\n  opml: [{opml}]\n" + WATCHES
    )
    _, out, _ = run(config, capsys, "ingest")
    assert [(a["watch"], a["source"]) for a in alert_records(out)] == [("NATO", "Outlet")]


@pytest.mark.slow(seconds=4)
def test_a_steady_pass_saves_every_feed_state_in_a_few_transactions(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    """All 304s (and a failing feed): each state is saved, not one commit per feed."""
    urls = [
        feedserver.set_route(server, f"/f{i}.xml", feedserver.feed(rss((f"g{i}", "T", "Text."))))
        for i in range(30)
    ]
    broken = feedserver.set_route(server, "/broken.xml", feedserver.status(500))
    config = configure(tmp_path, database_url, [*urls, broken])
    assert run(config, capsys, "ingest")[0] == 1  # the broken feed fails
    first = feed_health(config, capsys)

    commits = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(Engine, "commit", count)
    try:
        code, _, err = run(config, capsys, "ingest")
    finally:
        event.remove(Engine, "commit", count)
    assert code == 1
    reports = refreshed(err)
    assert {reports[url]["status"] for url in urls} == {"not_modified"}
    assert reports[broken]["status"] == "error" and "HTTP 500" in reports[broken]["error"]
    assert len(commits) < len(urls) // 2
    second = feed_health(config, capsys)
    for url in urls:
        assert second[url]["last_success"] > first[url]["last_success"]
        assert second[url]["documents"] == 1
    assert second[broken]["consecutive_failures"] == 2
