"""The commands of CONTRACT.md as a user runs them: exit codes, output, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SEED_FILE
from helpers import run_cli, seed_text, write_config
from newswatch.cli import main
from newswatch.store.db import head_revision


def test_check_accepts_the_example_config() -> None:
    result = run_cli("--config", "config/newswatch.yaml", "check")
    assert result.returncode == 0, result.stderr
    assert "people    4" in result.stdout


def test_check_exits_2_with_every_error_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("databse: x\nschedule:\n  interval: soon\n")
    result = run_cli("--config", str(bad), "check")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{bad}:1: unknown key 'databse'" in result.stderr
    assert f"{bad}:3: schedule.interval: 'soon' is not a duration" in result.stderr


def test_an_opml_outline_whose_url_cannot_be_read_is_one_line_not_a_traceback(
    tmp_path: Path,
) -> None:
    """`check` and `ingest` each say which outline of which list, and store nothing."""
    opml = tmp_path / "subs.opml"
    opml.write_text(
        "<opml version='2.0'><body><outline text='ok' xmlUrl='https://a.example/f'/>"
        "<outline text='Wire' xmlUrl='http://[wire.example/rss'/></body></opml>"
    )
    config = tmp_path / "newswatch.yaml"
    config.write_text(f"database: sqlite:///{tmp_path}/nw.db\nsources:\n  opml: [{opml}]\n")
    for command in ("check", "ingest"):
        result = run_cli("--config", str(config), command)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert f"{opml}: the outline 'Wire': 'http://[wire.example/rss'" in result.stderr
    assert not (tmp_path / "nw.db").exists()


def test_a_missing_config_exits_2(tmp_path: Path) -> None:
    result = run_cli("--config", str(tmp_path / "none.yaml"), "check")
    assert result.returncode == 2 and "cannot read the file" in result.stderr


def test_match_json_names_each_matching_watch(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path, "sqlite:///unused.db", tmp_path)
    code = main(
        ["--config", str(config), "match", "--json", "Kosachev said NATO-led talks stalled."]
    )
    assert code == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["watch"], r["kind"], r["matched"]) for r in records] == [
        ("Konstantin Kosachev", "person", ["Kosachev"]),
        ("NATO", "topic", ["NATO"]),
    ]


def test_match_reads_a_seed_file_and_stores_nothing(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", tmp_path)
    assert main(["--config", str(config), "match", "--file", str(SEED_FILE)]) == 0
    out = capsys.readouterr().out
    assert "person 'Konstantin Kosachev'" in out and "Vladimir Putin" not in out
    assert not (tmp_path / "nw.db").exists()


def test_match_without_a_hit_says_so(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path, "sqlite:///unused.db", tmp_path)
    assert main(["--config", str(config), "match", "a trumpet solo"]) == 0
    assert capsys.readouterr().out.strip() == "no watch matches"


def test_bad_since_is_a_usage_error(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", tmp_path)
    assert main(["--config", str(config), "alerts", "--since", "yesterday-ish"]) == 2
    assert "is not a date" in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["two", "-1", "1.5", "65", "99999"])
def test_parse_workers_must_be_a_whole_number(tmp_path: Path, capsys, workers: str) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(config), "ingest", "--parse-workers", workers])
    assert exit_.value.code == 2
    assert "is not a number of processes (0 to 64)" in capsys.readouterr().err
    assert not (tmp_path / "nw.db").exists()


def test_db_upgrade_reports_the_revision(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", tmp_path)
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out


@pytest.mark.parametrize("locked", [True])
def test_a_database_that_cannot_be_created_is_one_line_exit_1(tmp_path: Path, locked: bool) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = write_config(tmp_path, f"sqlite:///{blocker}/nw.db", tmp_path)
    result = run_cli("--config", str(config), "ingest")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cannot create the database folder" in result.stderr


@pytest.mark.slow(seconds=3)
def test_a_locked_sqlite_file_is_one_clear_line_and_nothing_is_lost(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "nw.db"
    config = write_config(tmp_path, f"sqlite:///{database}?timeout=0.5", tmp_path / "seeds")
    (tmp_path / "seeds").mkdir()
    assert run_cli("--config", str(config), "db", "upgrade").returncode == 0
    (tmp_path / "seeds" / "a.txt").write_text(seed_text("T", "Biden spoke.", "https://x.org/a"))
    holder = sqlite3.connect(database)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run_cli("--config", str(config), "ingest")
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "database is locked" in result.stderr and "another process" in result.stderr
    again = run_cli("--config", str(config), "ingest")
    assert again.returncode == 0 and '"watch": "Joe Biden"' in again.stdout


def test_check_masks_the_database_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://newswatch:s3cret-pw@db.example.org:5432/news"
    config = write_config(tmp_path, url, tmp_path)
    result = run_cli("--config", str(config), "check")
    assert result.returncode == 0, result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert "postgresql+psycopg://newswatch:***@db.example.org:5432/news" in result.stdout


PRECISION_WATCHES = """\
database: sqlite:///unused.db
watch:
  ambiguous: none
  people:
    - name: Nathan Law
      aliases: [Law]
    - name: Ben Chan
      aliases: [Chan]
    - name: Gary Chan
      aliases: [Chan]
    - name: Chuck Close
      aliases: [Close]
      case: insensitive
"""


def test_match_explain_says_which_rule_refused_each_candidate(tmp_path: Path, capsys) -> None:
    config = tmp_path / "newswatch.yaml"
    config.write_text(PRECISION_WATCHES)
    text = "Under the new law, Hwang Hee-Chan met Chan."
    assert main(["--config", str(config), "match", "--explain", text]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "no watch matches"
    assert lines[1].startswith("""rejected person 'Nathan Law': "law" body 14-17: case:""")
    assert any("'Ben Chan'" in line and ": hyphen:" in line for line in lines)
    assert any("'Gary Chan'" in line and ": ambiguous:" in line for line in lines)


def test_match_json_explain_adds_refused_candidates(tmp_path: Path, capsys) -> None:
    config = tmp_path / "newswatch.yaml"
    config.write_text(PRECISION_WATCHES)
    text = "Nathan Law and the new law; a close call."
    assert main(["--config", str(config), "match", "--json", "--explain", text]) == 0
    records = {r["watch"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert records["Nathan Law"]["outcome"] == "matched"
    assert [(r["text"], r["reason"]) for r in records["Nathan Law"]["rejected"]] == [
        ("law", "case")
    ]
    assert records["Chuck Close"]["matched"] == ["close"]  # case: insensitive, as in 0.1
    assert main(["--config", str(config), "match", "--json", text]) == 0
    plain = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all("rejected" not in record for record in plain)


def test_check_warns_of_a_seed_folder_not_yet_created_and_exits_0(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", tmp_path / "later")
    result = run_cli("--config", str(config), "check")
    assert result.returncode == 0, result.stderr
    assert f"warning: seed folder {tmp_path / 'later'} does not exist yet" in result.stderr
    assert f"config {config}: OK" in result.stdout
