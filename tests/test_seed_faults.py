"""Hostile seed folders: undecodable names, NUL bytes, links out, unreadable files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import alert_records, migrated_sqlite, seed_text, write_config
from newswatch.cli import main
from newswatch.match import compile_watches
from newswatch.model import RawItem
from newswatch.normalize import normalize
from newswatch.pipeline import Pipeline, RefreshReport
from newswatch.pipeline.seeds import store_batch
from newswatch.sources.seeds import FileStamp
from newswatch.store import tables
from newswatch.store.db import open_database
from test_daemon import Daemon

GOOD = [
    ("a.txt", "Biden met advisers.", "https://x.org/a"),
    ("b.txt", "China was discussed.", "https://x.org/b"),
    ("c.txt", "Iran was mentioned.", "https://x.org/c"),
]
GOOD_WATCHES = {"Joe Biden", "China", "Iran"}


def ingest(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict], str]:
    code = main(["--config", str(config), "--log-format", "json", "ingest"])
    out, err = capsys.readouterr()
    return code, alert_records(out), err


def good_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name, body, url in GOOD:
        (folder / name).write_text(seed_text(name, body, url))
    return folder


def test_a_name_that_is_not_utf8_is_refused_in_one_line_and_the_rest_imports(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = good_folder(tmp_path)
    bad = os.fsencode(folder) + b"/bad\xff\xfe.txt"
    with open(bad, "wb") as handle:
        handle.write(seed_text("Odd", "Putin spoke.", "https://x.org/odd").encode())
    config = write_config(tmp_path, database_url, folder)
    code, alerts, err = ingest(config, capsys)
    assert code == 0, err
    assert {a["watch"] for a in alerts} == GOOD_WATCHES
    refused = [line for line in err.splitlines() if "seed_file_refused" in line]
    assert len(refused) == 1
    assert "bad\\\\xff\\\\xfe.txt" in refused[0] and "not valid UTF-8" in refused[0]
    assert "Traceback" not in err


def test_a_nul_byte_in_a_url_blocks_no_file(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = good_folder(tmp_path)
    (folder / "nul.txt").write_text(seed_text("Nul", "Putin spoke.", "https://x.org/n\x00ul"))
    code, alerts, err = ingest(write_config(tmp_path, database_url, folder), capsys)
    assert code == 0, err
    assert {a["watch"] for a in alerts} == GOOD_WATCHES | {"Vladimir Putin"}
    putin = next(a for a in alerts if a["watch"] == "Vladimir Putin")
    assert putin["url"] == "https://x.org/nul"


def test_a_link_out_of_the_folder_is_never_read_nor_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = good_folder(tmp_path)
    secret = tmp_path / "shadow"
    secret.write_text("root:SECRET-HASH:19000:0:99999:7:::\n")
    (folder / "shadow.txt").symlink_to(secret)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.txt").write_text(seed_text("X", "Putin spoke.", "https://x.org/x"))
    (folder / "linked-folder").symlink_to(outside)
    (folder / "loop").symlink_to(folder)
    inside = folder / ".store"
    inside.mkdir()
    (inside / "kept.txt").write_text(seed_text("Kept", "Kosachev spoke.", "https://x.org/k"))
    (folder / "kept.txt").symlink_to(inside / "kept.txt")
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), folder)
    code, alerts, err = ingest(config, capsys)
    assert code == 0, err
    assert {a["watch"] for a in alerts} == GOOD_WATCHES | {"Konstantin Kosachev"}
    refused = [line for line in err.splitlines() if "seed_file_refused" in line]
    assert len(refused) == 3
    assert any("loop" in line and "a link to a folder" in line for line in refused)
    assert any("shadow.txt" in line and "outside the seed folder" in line for line in refused)
    assert any("linked-folder" in line and "outside the seed folder" in line for line in refused)
    assert "SECRET" not in err


def test_format_errors_do_not_quote_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "notes.txt").write_text("password: hunter2 for the vault\n\nTitle\n")
    code, _, err = ingest(
        write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), folder), capsys
    )
    assert code == 0
    assert "notes.txt:1" in err and "does not begin with `date`" in err
    assert "hunter2" not in err


def _without_root_reads() -> tuple[str, ...]:
    """Run a command unable to read a chmod 000 file, even as root (CI runs as root)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("as root, needs setpriv to drop the right to read any file")
    caps = "-dac_override,-dac_read_search"
    return ("setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}")


@pytest.mark.slow(seconds=3)
def test_an_unreadable_file_is_imported_once_it_becomes_readable(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    story = folder / "story.txt"
    story.write_text(seed_text("Talks", "Biden met advisers.", "https://x.org/talks"))
    story.chmod(0)
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), folder)
    command = [sys.executable, "-m", "newswatch", "--config", str(config)]
    command += ["--log-format", "json", "ingest"]
    first = subprocess.run(
        [*_without_root_reads(), *command], capture_output=True, text=True, timeout=60
    )
    assert first.returncode == 0, first.stderr
    assert "cannot read seed file" in first.stderr and "story.txt" in first.stderr
    assert alert_records(first.stdout) == []
    stat = story.stat()
    story.chmod(0o644)  # same size and mtime: only the permission changed
    assert (story.stat().st_size, story.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    second = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert [a["watch"] for a in alert_records(second.stdout)] == ["Joe Biden"], second.stderr


@pytest.mark.slow(seconds=4)
def test_the_daemon_imports_a_file_once_it_becomes_readable(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    story = folder / "story.txt"
    story.write_text(seed_text("Talks", "Biden met advisers.", "https://x.org/talks"))
    story.chmod(0)
    daemon = Daemon(
        write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), folder),
        prefix=_without_root_reads(),
    )
    try:
        daemon.wait_for(daemon.err, "cannot read seed file")
        story.chmod(0o644)
        line = daemon.wait_for(daemon.out, "Joe Biden", timeout=20)
        assert "https://x.org/talks" in line
    finally:
        code, _ = daemon.stop()
    assert code == 0
    warnings = [line for line in daemon.err if "cannot read seed file" in line]
    assert len(warnings) == 1, "an unreadable file is reported once, not at every rescan"


def test_a_document_the_database_refuses_is_named_and_the_others_stored(
    migrated_postgres_url: str,
) -> None:
    engine = open_database(migrated_postgres_url)
    pipeline = Pipeline(engine, compile_watches([], []), [])
    documents = [
        normalize(RawItem("s", f"{n}.txt", f"Title {n}", f"Body {n}", f"https://x.org/{n}"))
        for n in range(3)
    ]
    # what normalisation strips, put back: PostgreSQL refuses NUL in text
    documents[1] = replace(documents[1], url="https://x.org/1\x00")
    report = RefreshReport(source="s")
    stamps = [(f"{n}.txt", FileStamp(10, 1, f"{n}" * 64), None) for n in range(3)]
    try:
        rejected = store_batch(pipeline, "s", "seed:/s", documents, stamps, report)
        with engine.connect() as connection:
            stored = connection.execute(select(tables.documents.c.item_key)).scalars().all()
            query = select(tables.seed_files.c.item_key, tables.seed_files.c.error)
            errors = {row.item_key: row.error for row in connection.execute(query)}
    finally:
        engine.dispose()
    assert list(rejected) == ["1.txt"]
    assert "NUL" in rejected["1.txt"] and "https://" not in rejected["1.txt"]
    assert sorted(stored) == ["0.txt", "2.txt"] and report.new == 2
    assert errors == {"0.txt": None, "1.txt": rejected["1.txt"], "2.txt": None}
