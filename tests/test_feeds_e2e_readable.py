"""Feeds that used to lose text or items quietly, through `newswatch ingest` over loopback HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import feedserver
from helpers import alert_records, feeds_config, migrated_sqlite
from newswatch.cli import main

WATCHES = """\
watch:
  people:
    - name: Thomas Müller
      aliases: [Müller]
  topics:
    - name: Street closures
      any: [Straße]
    - name: Rents
      any: [Miete]
"""


def configure(tmp_path: Path, feeds: list[str]) -> Path:
    fetch = "fetch: {timeout: 3s, connect_timeout: 2s}\n"
    return feeds_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), feeds, fetch, WATCHES)


def run(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "--log-format", "json", *args])
    out, err = capsys.readouterr()
    return code, out, err


def events(err: str, name: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == name]


def refreshed(err: str) -> dict[object, dict[str, object]]:
    return {line["url"]: line for line in events(err, "source_refreshed")}


def test_a_stray_byte_in_a_utf8_feed_keeps_names_intact_and_matching(
    tmp_path: Path, server: feedserver.FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Lokal</title>'
        "<item><guid>m1</guid><title>Müller übernimmt den Vorsitz</title>"
        "<link>https://lokal.example/m1</link><description>Herr Müller zahlt in der "
        "Goethestraße STRAY5 Miete.</description></item>"
        "<item><guid>m2</guid><title>Sperrung der Straße</title>"
        "<link>https://lokal.example/m2</link><description>Die Straße bleibt gesperrt."
        "</description></item></channel></rss>"
    ).encode()
    body = feed.replace(b"STRAY", b"\xa3")  # one raw Windows-1252 pound sign
    url = feedserver.set_route(
        server, "/lokal.xml", feedserver.feed(body, content_type="application/rss+xml")
    )
    config = configure(tmp_path, [url])

    code, out, err = run(config, capsys, "ingest")
    assert code == 0, err
    alerts = alert_records(out)
    assert {(a["watch"], a["title"]) for a in alerts} == {
        ("Thomas Müller", "Müller übernimmt den Vorsitz"),
        ("Street closures", "Sperrung der Straße"),
        ("Rents", "Müller übernimmt den Vorsitz"),
    }
    assert "Ã" not in out
    assert refreshed(err)[url]["status"] == "ok" and refreshed(err)[url]["new"] == 2
    [warning] = events(err, "feed_malformed")
    assert "1 byte is not UTF-8" in str(warning["reason"])

    [rent] = [a for a in alerts if a["watch"] == "Rents"]
    assert "Goethestraße £5 «Miete»" in str(rent["snippet"])


def test_unreadable_and_empty_feeds_say_so_everywhere_and_are_polled_again(
    tmp_path: Path, server: feedserver.FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    items = "".join(
        f"<rss:item><rss:title>Story {n}</rss:title>"
        f"<rss:link>https://arts.example/{n}</rss:link></rss:item>"
        for n in range(35)
    )
    broken = f'<rss version="2.0"><channel><title>Arts</title>{items}</channel></rss>'
    unreadable = feedserver.set_route(server, "/arts.xml", feedserver.feed(broken.encode()))
    quiet = '<rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    empty = feedserver.set_route(server, "/quiet.xml", feedserver.feed(quiet.encode()))
    config = configure(tmp_path, [unreadable, empty])
    reason = "35 <rss:item> elements, none readable: undeclared namespace prefix 'rss'"

    code, _, err = run(config, capsys, "ingest")
    assert code == 0, "the feeds were fetched; their publishers have to mend them"
    lines = refreshed(err)
    assert lines[unreadable]["status"] == "unreadable" and lines[unreadable]["error"] == reason
    assert lines[unreadable]["level"] == "warning"
    assert lines[empty]["status"] == "empty" and "error" not in lines[empty]

    code, out, _ = run(config, capsys, "feeds", "--json")
    rows = {row["url"]: row for row in map(json.loads, out.splitlines())}
    assert (rows[unreadable]["status"], rows[unreadable]["last_error"]) == ("unreadable", reason)
    assert rows[unreadable]["next_poll"] and rows[unreadable]["consecutive_failures"] == 0
    assert rows[empty]["status"] == "empty" and rows[empty]["last_error"] is None

    code, out, _ = run(config, capsys, "feeds")
    assert "Arts  [unreadable]  0 documents" in out and reason in out
    assert "Quiet  [empty]  0 documents" in out
    assert "[ok]" not in out

    asked = len(server.seen)
    _, _, err = run(config, capsys, "ingest")
    assert {seen.path for seen in server.seen[asked:]} == {"/arts.xml", "/quiet.xml"}
    assert refreshed(err)[unreadable]["status"] == "not_modified"
    assert json.loads(run(config, capsys, "feeds", "--json")[1].splitlines()[0])["status"] == (
        "unreadable"
    ), "an unchanged body is still unreadable"


def test_a_news_entry_keeps_its_description_not_its_photo_caption(
    tmp_path: Path, server: feedserver.FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the New York Times' feeds are: a description, then a photo with its caption
    in media:content/media:description (feedparser used to store the caption as the text)."""
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"'
        ' xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Stadt</title>'
        "<link>https://stadt.example/</link><item><title>Neue Zahlen zur Stadt</title>"
        "<link>https://stadt.example/s1</link><guid>s1</guid>"
        "<pubDate>Sun, 01 Feb 2026 10:00:00 GMT</pubDate>"
        "<description>Die Miete steigt im dritten Jahr in Folge.</description>"
        '<media:content url="https://stadt.example/p.jpg" medium="image">'
        "<media:title>Protest</media:title>"
        "<media:description>Thomas Müller bei einer Kundgebung im Januar.</media:description>"
        "<media:credit>Foto: Stadt</media:credit></media:content></item></channel></rss>"
    ).encode()
    url = feedserver.set_route(server, "/stadt.xml", feedserver.feed(feed))
    config = configure(tmp_path, [url])

    code, out, err = run(config, capsys, "ingest")
    assert code == 0, err
    alerts = alert_records(out)
    assert [(a["watch"], a["title"]) for a in alerts] == [("Rents", "Neue Zahlen zur Stadt")]
    assert "Die «Miete» steigt" in str(alerts[0]["snippet"])
    engine = create_engine(f"sqlite:///{tmp_path}/nw.db")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT title, body FROM documents")).all()
    engine.dispose()
    assert [tuple(row) for row in stored] == [
        ("Neue Zahlen zur Stadt", "Die Miete steigt im dritten Jahr in Folge.")
    ]
