"""A full disk under the database: one clear line, nothing already stored lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import run_cli, seed_text, small_tmpfs, write_config


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 400 KiB tmpfs."""
    with small_tmpfs(tmp_path / "tiny", "400k") as folder:
        yield folder


@pytest.mark.slow(seconds=5)
def test_a_full_disk_is_reported_and_earlier_documents_survive(
    tmp_path: Path, tiny_disk: Path
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "first.txt").write_text(seed_text("First", "Biden spoke.", "https://x.org/1"))
    config = write_config(tmp_path, f"sqlite:///{tiny_disk}/nw.db", seeds)
    first = run_cli("--config", str(config), "--log-format", "json", "ingest")
    assert first.returncode == 0, first.stderr

    filler = "Kosachev answered questions at length. " * 2000
    for number in range(40):
        (seeds / f"big{number}.txt").write_text(
            seed_text(f"Big {number}", f"{number} {filler}", f"https://x.org/big{number}")
        )
    full = run_cli("--config", str(config), "--log-format", "json", "ingest")
    assert full.returncode == 1
    assert "Traceback" not in full.stderr
    assert "disk is full" in full.stderr and "free space" in full.stderr

    listed = run_cli("--config", str(config), "alerts", "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"watch": "Joe Biden"' in listed.stdout
