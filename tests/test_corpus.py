"""Every one of the 200 real feeds of the shared corpus, served from loopback, sent
through `newswatch ingest` into a fresh SQLite database.

What parsing alone makes of each feed (entries, warnings, dates) is asserted by
tests/test_fastparse.py, which parses every corpus feed by both paths anyway.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

import feedserver
from helpers import CORPUS, alert_records, feeds_config
from newswatch.cli import main

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no feed corpus at {CORPUS}")


def manifest() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


CORPUS_ENTRIES = 6565
# Every entry is accounted for: 14 repeat an entry of their own feed (same
# GUID, or no GUID and the same link, title, date and text), 4 repeat the text
# of another feed's article (the same Time story in two of its feeds), and 4
# have neither title nor text (image-only Tumblr posts). Before issue 7 only
# 6,418 were stored: entries sharing a link or a feed title were lost.
DISTINCT_DOCUMENTS = 6543


def corpus_config(tmp_path: Path, urls: list[str]) -> tuple[Path, Path]:
    database = tmp_path / "corpus.db"
    fetch = "fetch: {concurrency: 16, per_host: 4}\n"
    return feeds_config(tmp_path, f"sqlite:///{database}", urls, fetch), database


@pytest.mark.slow(seconds=25)
def test_the_whole_corpus_goes_through_ingest(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    server = feedserver.start(feedserver.loopback_hosts(8))
    try:
        served = feedserver.serve_folder(CORPUS, server)
        config, database = corpus_config(tmp_path, [served[row["file"]] for row in manifest()])
        code = main(["--config", str(config), "--log-format", "json", "ingest"])
    finally:
        feedserver.stop(server)
    out, err = capfd.readouterr()  # file descriptors: parse workers' output is caught too
    assert "Traceback" not in err and "Traceback" not in out
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    refreshed = {e["url"]: e for e in events if e.get("event") == "source_refreshed"}
    assert len(refreshed) == 200
    assert {url: e.get("error") for url, e in refreshed.items() if e["status"] == "error"} == {}
    assert code == 0
    assert len({e["url"] for e in events if e.get("event") == "feed_malformed"}) == 6
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        alerted = db.execute("SELECT document_id, watch FROM alerts").fetchall()
    print(f"\n{CORPUS_ENTRIES} corpus entries -> {stored} documents, {len(alerted)} alerts")
    fates = {k: sum(e[k] for e in refreshed.values()) for k in ("new", "duplicates", "empty")}
    print(fates)
    assert fates == {"new": DISTINCT_DOCUMENTS, "duplicates": 18, "empty": 4}
    assert sum(e["entries"] for e in refreshed.values()) == CORPUS_ENTRIES
    assert sum(1 for e in refreshed.values() if e["entries"]) >= 199
    assert stored == fates["new"] == DISTINCT_DOCUMENTS
    assert fates["new"] + fates["duplicates"] + fates["empty"] == CORPUS_ENTRIES
    assert len(alerted) > 500 and len(set(alerted)) == len(alerted)
    assert {"Donald Trump", "United States", "China", "Iran", "NATO"} <= {w for _, w in alerted}
    assert len(alert_records(out)) == len(alerted)
