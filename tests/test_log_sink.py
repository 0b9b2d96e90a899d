"""The log sink on a full disk and a closed pipe: each record whole, once, or not at all."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import REPO, migrated_sqlite, seed_text, small_tmpfs, write_config

STORIES = 60


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 KiB tmpfs for standard output."""
    with small_tmpfs(tmp_path / "small", "16k") as folder:
        yield folder


def newsroom(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for number in range(STORIES):
        # distinct stories (copies of one would be one story, alerting once)
        details = " ".join(f"point{number}x{i}" for i in range(number % 7 + 12))
        body = f"NATO met for the {number}th time and discussed {details}."
        text = seed_text(f"Story {number}", body, f"https://x.org/{number}")
        (seeds / f"story{number:03d}.txt").write_text(text)
    return write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds)


def ingest(config: Path, stdout: int | object) -> subprocess.CompletedProcess[str]:
    options = ["--config", str(config), "--log-format", "json"]
    return subprocess.run(
        [sys.executable, "-m", "newswatch", *options, "ingest"],
        cwd=REPO,
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )


def records(text: str) -> list[int]:
    """The alert ids of every line; each line must be one whole JSON record."""
    ids = []
    for line in text.splitlines():
        record = json.loads(line)
        assert record["event"] == "alert"
        ids.append(record["alert_id"])
    return ids


@pytest.mark.slow(seconds=5)
def test_a_full_disk_writes_whole_records_once_and_the_rest_later(
    tmp_path: Path, small_disk: Path
) -> None:
    config = newsroom(tmp_path)
    out = small_disk / "alerts.jsonl"
    with out.open("w") as stdout:
        full = ingest(config, stdout)
    assert full.returncode == 1
    assert "the disk is full; free space" in full.stderr
    assert "Traceback" not in full.stderr
    text = out.read_text()
    assert text.endswith("\n"), "no torn last line"
    first = records(text)
    assert 0 < len(first) < STORIES and len(set(first)) == len(first)

    out.write_text("")  # room again
    with out.open("a") as stdout:
        rest = ingest(config, stdout)
    assert rest.returncode == 0, rest.stderr
    second = records(out.read_text())
    assert sorted(first + second) == list(range(1, STORIES + 1)), "each alert exactly once"


@pytest.mark.slow(seconds=3)
def test_a_closed_pipe_loses_nothing(tmp_path: Path) -> None:
    config = newsroom(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "newswatch", "--config", str(config), "ingest"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.close()  # nobody reads the alerts
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "the reader closed the pipe" in err

    again = ingest(config, subprocess.PIPE)
    assert again.returncode == 0, again.stderr
    assert sorted(records(again.stdout)) == list(range(1, STORIES + 1))
