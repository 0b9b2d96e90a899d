"""A new database: created at once without Alembic, alike in use to a migrated one, safe
when several processes create it together, and never created over another file."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from conftest import SEED_FILE
from helpers import alert_records, run_cli, seed_text, write_config
from newswatch.cli import main
from newswatch.store.db import (
    DatabaseError,
    head_revision,
    open_database,
    schema_revision,
    upgrade_schema,
)

STORY = (
    "Konstantin Kosachev said on Thursday that NATO and China would meet in Geneva to "
    "talk about arms control, the first such talks in years, and that Joe Biden had "
    "sent a letter to the summit."
)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """The real seed, and a few more: a copy under another name, a retelling (a story),
    documents that match nothing."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED_FILE, folder / SEED_FILE.name)
    texts = {
        "talks.txt": seed_text("Talks in Geneva", STORY, "https://a.example/talks"),
        "talks-copy.txt": seed_text("Talks in Geneva", STORY, "https://b.example/copy"),
        "retold.txt": seed_text(
            "Geneva talks", STORY.replace("Thursday", "Friday"), "https://c.example/r"
        ),
        "weather.txt": seed_text("Rain", "Rain all week in the north.", "https://d.example/w"),
        "trump.txt": seed_text("Trump Tower", "Trump spoke at Trump Tower.", "https://e.x/t"),
    }
    for name, body in texts.items():
        (folder / name).write_text(body, encoding="utf-8")
    return folder


def ingest(folder: Path, url: str, seeds: Path, capsys: pytest.CaptureFixture[str]) -> list[Any]:
    folder.mkdir()
    config = write_config(folder, url, seeds)
    code = main(["--config", str(config), "--log-format", "json", "ingest"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return sorted((a["watch"], a["title"], a["document_id"]) for a in alert_records(out))


# what an ingest stores, without the clock's columns
STORED = {
    "documents": "SELECT id, source, origin, item_key, identity_hash, url, url_key, content_hash,"
    " content_key, title, body, published, authors, categories, story_id, signature"
    " FROM documents ORDER BY id",
    "alerts": "SELECT id, document_id, kind, watch, matched, snippet FROM alerts ORDER BY id",
    "deliveries": "SELECT alert_id, sink, attempts, last_error, dead_at FROM deliveries"
    " ORDER BY alert_id, sink",
    "seed_files": "SELECT source, item_key, size, sha256, document_id, error FROM seed_files"
    " ORDER BY source, item_key",
    "story_bands": "SELECT count(*) FROM story_bands",
    "name_counts": "SELECT watch, day, documents FROM name_counts ORDER BY watch, day",
}


def stored(url: str) -> dict[str, list[Any]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {name: connection.execute(text(sql)).all() for name, sql in STORED.items()}
    finally:
        engine.dispose()


def test_a_created_and_a_migrated_database_store_and_alert_the_same(
    tmp_path: Path,
    seeds: Path,
    empty_database_url: str,
    another_database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = open_database(empty_database_url, upgrade=False)
    upgrade_schema(old, head_revision())  # through every migration
    old.dispose()
    migrated_alerts = ingest(tmp_path / "migrated", empty_database_url, seeds, capsys)
    created_alerts = ingest(tmp_path / "created", another_database_url, seeds, capsys)
    assert len(created_alerts) >= 9  # the seed's alone raise 9
    assert created_alerts == migrated_alerts
    by_migrations, by_metadata = stored(empty_database_url), stored(another_database_url)
    assert len(by_metadata["documents"]) == 5  # the copy is a duplicate, not stored
    assert by_metadata["story_bands"][0][0] > 0
    assert by_metadata == by_migrations


PROBE = """
import sys
from newswatch.cli import main
code = main(sys.argv[1:])
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"alembic", "mako", "pygments"})
print(code, *loaded, file=sys.stderr)
"""


def test_ingest_on_a_new_database_loads_no_alembic(
    tmp_path: Path, seeds: Path, empty_database_url: str
) -> None:
    config = write_config(tmp_path, empty_database_url, seeds)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "--config", str(config), "ingest"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
    )
    assert result.stderr.strip().splitlines()[-1] == "0", result.stderr
    engine = open_database(empty_database_url, upgrade=False)
    assert schema_revision(engine) == head_revision()
    engine.dispose()


# connected and ready, each process waits for the word to create, so that they race
CREATE = """
import sys
from newswatch.store import fresh
from newswatch.store.db import open_database, upgrade_schema
engine = open_database(sys.stdin.readline().strip(), upgrade=False)
print("ready", flush=True)
sys.stdin.readline()
upgrade_schema(engine)
"""


def test_several_processes_creating_one_database_at_once_all_start(empty_database_url: str) -> None:
    """Nodes started together on one new PostgreSQL (or commands on one new SQLite file):
    one creates the schema, the others wait and find it made."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    starting = [
        subprocess.Popen(
            [sys.executable, "-c", CREATE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    for process in starting:
        assert process.stdin and process.stdout
        process.stdin.write(empty_database_url + "\n")
        process.stdin.flush()
        assert process.stdout.readline() == "ready\n"
    for process in starting:
        assert process.stdin
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in starting:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    engine = open_database(empty_database_url, upgrade=False)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM documents")).scalar() == 0
    assert schema_revision(engine) == head_revision()
    engine.dispose()


def test_a_file_that_is_no_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("shopping: milk, eggs, bread\n" * 200)
    before = notes.read_bytes()
    with pytest.raises(DatabaseError, match="file is not a database; it is some other file"):
        open_database(f"sqlite:///{notes}")
    assert notes.read_bytes() == before
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    result = run_cli("--config", str(write_config(tmp_path, f"sqlite:///{notes}", seeds)), "ingest")
    assert result.returncode == 1
    assert "is not a database" in result.stderr and "Traceback" not in result.stderr
    assert notes.read_bytes() == before


def test_another_programs_tables_are_not_created_over(tmp_path: Path) -> None:
    """A SQLite file of another program that has a `documents` table: refused as before,
    its rows kept."""
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE documents (name TEXT)")
        other.execute("INSERT INTO documents VALUES ('contract.pdf')")
    other.close()
    with pytest.raises(DatabaseError, match="table documents already exists"):
        open_database(f"sqlite:///{path}")
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT * FROM documents").fetchall() == [("contract.pdf",)]
    other.close()


def test_a_database_with_other_tables_is_migrated_beside_them(empty_database_url: str) -> None:
    """As before the shortcut: a database holding only unrelated tables goes through the
    migrations, which add newswatch's tables beside them and touch nothing else."""
    engine = create_engine(empty_database_url)
    if empty_database_url.startswith("sqlite"):
        engine.dispose()
        open_database(empty_database_url, upgrade=False).dispose()  # makes the folder and file
        engine = create_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE contacts (name TEXT)"))
        connection.execute(text("INSERT INTO contacts VALUES ('Ada')"))
    engine.dispose()
    opened = open_database(empty_database_url)
    assert schema_revision(opened) == head_revision()
    with opened.connect() as connection:
        assert connection.execute(text("SELECT name FROM contacts")).all() == [("Ada",)]
        assert connection.execute(text("SELECT count(*) FROM documents")).scalar() == 0
    opened.dispose()
