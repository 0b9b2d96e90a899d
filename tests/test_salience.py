"""A shared surname no full name decides goes to the sharer that recent documents
name in full far more often (`ambiguous: salient`, the default): `newswatch ingest`
on real seed files and real databases (SQLite and PostgreSQL), across restarts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

import feedserver
from helpers import alert_records, seed_text
from newswatch.cli import main
from newswatch.store.tables import name_counts
from test_feeds_e2e import rss

WATCHES = """\
watch:
  people:
    - name: Donald Trump
      aliases: [Trump]
    - name: Melania Trump
      aliases: [Trump]
    - name: Ben Chan
      aliases: [Chan]
    - name: Gary Chan
      aliases: [Chan]
"""

FULL_NAMES = [
    ("Donald Trump signs an order on tariffs", "Donald Trump signed an order on steel tariffs."),
    ("Donald Trump meets Canada's prime minister", "Donald Trump met Mark Carney at the G7."),
    ("Donald Trump speaks in Iowa", "Donald Trump spoke to farmers about soybean prices."),
    ("Donald Trump at the White House", "Donald Trump hosted a dinner for governors."),
    ("Ben Chan and Gary Chan", "Ben Chan and Gary Chan opened a restaurant in Kowloon."),
]


def write_seeds(folder: Path, items: list[tuple[str, str]], prefix: str) -> None:
    folder.mkdir(exist_ok=True)
    for number, (title, body) in enumerate(items):
        url = f"https://news.example/{prefix}/{number}"
        text = seed_text(title, body, url, day="2026-11-29")
        (folder / f"{prefix}-{number}.txt").write_text(text, encoding="utf-8")


def config_for(tmp_path: Path, database_url: str, seeds: Path, extra: str = "") -> Path:
    config = tmp_path / "newswatch.yaml"
    config.write_text(
        f"database: {database_url}\nsources:\n  seeds:\n    - path: {seeds}\n      name: seeds\n"
        + WATCHES
        + extra,
        encoding="utf-8",
    )
    return config


def ingest(config: Path, capsys: pytest.CaptureFixture[str]) -> set[tuple[str, str]]:
    assert main(["--config", str(config), "--log-format", "json", "ingest"]) == 0
    out, _ = capsys.readouterr()
    return {(str(a["title"]), str(a["watch"])) for a in alert_records(out)}


def test_a_bare_shared_surname_goes_to_the_salient_sharer_from_the_first_batch_on(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = tmp_path / "seeds"
    headline = "Trump Says Colombia Will Accept Deportees, Ending Tariff Standoff"
    write_seeds(seeds, [*FULL_NAMES, (headline, ""), ("Chan said yes", "Chan said yes.")], "a")
    config = config_for(tmp_path, database_url, seeds)
    alerts = ingest(config, capsys)  # one batch, an empty database: its own counts decide
    assert (headline, "Donald Trump") in alerts
    assert (headline, "Melania Trump") not in alerts
    assert not any(title == "Chan said yes" for title, _ in alerts)  # 1 to 1: ambiguous

    later = "Trump Threatens to Block Opening of Bridge"
    write_seeds(seeds, [(later, "Trump said the bridge would not open.")], "b")
    again = ingest(config, capsys)  # another process would read the same stored counts
    assert again == {(later, "Donald Trump")}

    engine = create_engine(database_url)
    with engine.connect() as connection:
        counted = dict(
            connection.execute(
                select(name_counts.c.watch, func.sum(name_counts.c.documents)).group_by(
                    name_counts.c.watch
                )
            ).all()
        )
    engine.dispose()
    assert counted == {"Donald Trump": 4, "Ben Chan": 1, "Gary Chan": 1}


def test_an_unwatched_namesake_and_the_other_policies(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = tmp_path / "seeds"
    son = "Eric Trump invests in a drone maker"
    write_seeds(seeds, [*FULL_NAMES, (son, "Trump said the contracts were fair.")], "a")
    alerts = ingest(config_for(tmp_path, database_url, seeds), capsys)
    assert not any(title == son for title, _ in alerts)  # Eric Trump is no watched Trump

    seeds = tmp_path / "seeds-none"
    write_seeds(seeds, [*FULL_NAMES, ("Trump Says Yes", "")], "n")
    (tmp_path / "db2").mkdir()
    url = database_url if "postgresql" in database_url else f"sqlite:///{tmp_path}/db2/n.db"
    config = config_for(tmp_path / "db2", url, seeds, "  ambiguous: none\n")
    assert not any(title == "Trump Says Yes" for title, _ in ingest(config, capsys))


def test_match_explain_shows_the_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "newswatch.yaml"
    config.write_text("database: sqlite:///unused.db\n" + WATCHES)
    assert main(["--config", str(config), "match", "--json", "--explain", "Trump said"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["watch"]: r["outcome"] for r in records} == {
        "Donald Trump": "rejected",
        "Melania Trump": "rejected",
    }
    details = [refused["detail"] for r in records for refused in r["rejected"]]
    assert all("(ambiguous: salient)" in detail for detail in details) and len(details) == 2


def test_feed_entries_matched_in_parse_workers_are_decided_as_well(
    tmp_path: Path, database_url: str, server, capsys: pytest.CaptureFixture[str]
) -> None:
    """The parse workers match with the counts they were given (none on a first pass);
    the batch's own full names then decide, and its documents are matched again."""
    items = [(f"g{n}", title, body) for n, (title, body) in enumerate(FULL_NAMES)]
    headline = "Trump Says He Will Not Use Force"
    url = feedserver.set_route(
        server, "/world.xml", feedserver.feed(rss(*items, ("h", headline, "")))
    )
    config = tmp_path / "newswatch.yaml"
    config.write_text(
        f"database: {database_url}\nsources:\n  feeds:\n    - url: {url}\n"
        "fetch: {timeout: 30s, connect_timeout: 10s}\n" + WATCHES
    )
    assert main(["--config", str(config), "--log-format", "json", "ingest"]) == 0
    out, _ = capsys.readouterr()
    decided = {str(a["watch"]) for a in alert_records(out) if a["title"] == headline}
    assert decided == {"Donald Trump"}
