"""`newswatch ingest` end to end on real files and real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import SEED_FILE
from helpers import alert_records, migrated_sqlite, seed_text, write_config
from newswatch.cli import main

SEED_WATCHES = {
    ("person", "Donald Trump"),
    ("person", "Konstantin Kosachev"),
    ("person", "Joe Biden"),
    ("topic", "NATO"),
    ("topic", "Arms control"),
    ("topic", "Ukraine ceasefire"),
    ("topic", "China"),
    ("topic", "Iran"),
    ("topic", "United States"),
}


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED_FILE, folder / SEED_FILE.name)
    return folder


def ingest(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict], str]:
    code = main(["--config", str(config), "--log-format", "json", "ingest"])
    out, err = capsys.readouterr()
    return code, alert_records(out), err


def test_the_seed_raises_the_expected_alerts_once(
    tmp_path: Path, seeds: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, database_url, seeds)
    code, alerts, err = ingest(config, capsys)
    assert code == 0, err
    assert {(a["kind"], a["watch"]) for a in alerts} == SEED_WATCHES
    kosachev = next(a for a in alerts if a["watch"] == "Konstantin Kosachev")
    assert (
        kosachev["title"]
        == "What Does Russia Expect From Trump 2.0? Senior Russian Lawmaker Explains"
    )
    assert kosachev["url"].startswith("https://sputnikglobe.com/20241114/")
    assert kosachev["published"] == "2024-11-14T00:00:00Z"
    assert kosachev["source"] == "seeds"
    assert kosachev["matched"] == ["Konstantin Kosachev", "Kosachev"]
    assert "Kosachev" in kosachev["snippet"]
    assert isinstance(kosachev["document_id"], int)
    assert '"event": "source_refreshed"' in err and '"new": 1' in err

    code, again, err = ingest(config, capsys)
    assert code == 0 and again == []
    assert '"new": 0' in err


def test_decoys_raise_nothing(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "decoys"
    folder.mkdir()
    body = (
        "A trumpet played in Trumpington. Let us go. Mr Natoli spoke about the "
        "Iran-Contra affair. He stayed at Trump Tower."
    )
    (folder / "decoy.txt").write_text(seed_text("Brass bands", body, "https://x.org/decoy"))
    code, alerts, err = ingest(write_config(tmp_path, database_url, folder), capsys)
    assert code == 0, err
    assert alerts == []


def test_the_same_file_under_two_names_is_one_document(
    tmp_path: Path, seeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(SEED_FILE, seeds / "copy.txt")
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds)
    code, alerts, err = ingest(config, capsys)
    assert code == 0
    assert len({a["document_id"] for a in alerts}) == 1
    assert len(alerts) == len(SEED_WATCHES)
    assert '"duplicates": 1' in err


def test_a_broken_file_is_named_and_the_others_still_import(
    tmp_path: Path, seeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (seeds / "broken.txt").write_text("\n\nno date line here\nTitle\n\nBody\n")
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds)
    code, alerts, err = ingest(config, capsys)
    assert code == 0
    assert len(alerts) == len(SEED_WATCHES)
    skipped = [line for line in err.splitlines() if "seed_file_skipped" in line]
    assert len(skipped) == 1 and "broken.txt:3" in skipped[0] and "date" in skipped[0]
    code, _, err = ingest(config, capsys)
    assert "seed_file_skipped" not in err, "an unchanged broken file is reported once"


def test_an_edited_file_updates_its_document_and_alerts_only_new_watches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    story = folder / "story.txt"
    story.write_text(seed_text("Talks", "Biden met advisers.", "https://x.org/talks"))
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), folder)
    _, first, _ = ingest(config, capsys)
    assert [a["watch"] for a in first] == ["Joe Biden"]
    story.write_text(
        seed_text("Talks", "Biden met advisers. China was discussed.", "https://x.org/talks")
    )
    _, second, err = ingest(config, capsys)
    assert [a["watch"] for a in second] == ["China"]
    assert second[0]["document_id"] == first[0]["document_id"]
    assert '"updated": 1' in err


def test_a_missing_seed_folder_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), tmp_path / "nowhere")
    code, alerts, err = ingest(config, capsys)
    assert code == 1 and alerts == []
    assert "nowhere" in err and '"status": "error"' in err


def test_alerts_command_lists_what_was_stored(
    tmp_path: Path, seeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds)
    ingest(config, capsys)
    assert main(["--config", str(config), "alerts", "--json"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if line]
    assert len(listed) == len(SEED_WATCHES)
    assert main(["--config", str(config), "alerts", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["--config", str(config), "alerts", "--json", "--limit", "1"]) == 0
    assert capsys.readouterr().out.splitlines() == listed[:1]


@pytest.mark.parametrize("limit", ["-5", "0", "ten"])
def test_alerts_limit_below_one_is_a_usage_error(
    tmp_path: Path, limit: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, SQLite read a negative LIMIT as none (every alert listed) and
    PostgreSQL refused it with a traceback."""
    config = write_config(tmp_path, "sqlite:///unused.db", tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "alerts", "--limit", limit])
    assert exited.value.code == 2
    assert f"--limit: '{limit}' is not a number of alerts (1 or more)" in capsys.readouterr().err


def test_ingest_source_runs_only_that_source_and_names_the_known_ones(
    tmp_path: Path, seeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds)
    code = main(["--config", str(config), "--log-format", "json", "ingest", "--source", "seeds"])
    out, _ = capsys.readouterr()
    assert code == 0 and len(alert_records(out)) == len(SEED_WATCHES)
    code = main(["--config", str(config), "ingest", "--source", "elsewhere"])
    err = capsys.readouterr().err
    assert code == 2 and "no source named 'elsewhere'; sources: seeds" in err
