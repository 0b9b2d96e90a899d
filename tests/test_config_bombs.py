"""Hostile configs: alias bombs and alias loops are refused at load, in `check` and on reload."""

from __future__ import annotations

import itertools
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import migrated_sqlite, seed_text, write_config
from newswatch.config import ConfigError, load_config
from test_daemon import Daemon

LEVELS = "abcdefg"


def alias_bomb() -> str:
    """`a` holds 9 strings, `b` 9 aliases of `a` ... `g` stands for 9**7 (4.8 million)."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in itertools.pairwise(LEVELS):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


def _limit_memory() -> None:
    limit = 600 * 1024 * 1024  # the bomb grew past 1.7 GB; a refused one stays far below
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def test_check_refuses_an_alias_bomb_quickly_in_little_memory(tmp_path: Path) -> None:
    config = tmp_path / "bomb.yaml"
    config.write_text(f"database: sqlite:///{tmp_path}/nw.db\n" + alias_bomb())
    result = subprocess.run(
        [sys.executable, "-m", "newswatch", "--config", str(config), "check"],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{config}:7: aliases here expand to more than 100,000 values" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_alias_to_its_own_list_is_refused_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "loop.yaml"
    config.write_text(f"database: sqlite:///{tmp_path}/nw.db\nwatch:\n  people: &p [*p]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert caught.value.problems == [
        f"{config}:3: an alias refers to the list or mapping that contains it; remove the loop"
    ]


def test_a_few_aliases_are_still_fine(tmp_path: Path) -> None:
    config = tmp_path / "ok.yaml"
    config.write_text(
        f"database: sqlite:///{tmp_path}/nw.db\n"
        "watch:\n"
        "  people:\n"
        "    - name: Joe Biden\n      exclude: &common [Biden Foundation, Hunter Biden]\n"
        "    - name: Jill Biden\n      exclude: *common\n"
    )
    people = load_config(config).watch.people
    assert [p.exclude for p in people] == [("Biden Foundation", "Hunter Biden")] * 2


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.slow(seconds=3)
def test_a_bomb_sent_with_sighup_leaves_the_daemon_working_and_stoppable(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), folder)
    daemon = Daemon(config)
    try:
        daemon.wait_for(daemon.err, '"daemon_started"')
        before = _peak_rss_mb(daemon.process.pid)
        config.write_text(config.read_text() + alias_bomb())
        os.kill(daemon.process.pid, signal.SIGHUP)
        line = daemon.wait_for(daemon.err, "alias bomb", timeout=30)
        assert '"config_reload_rejected"' in line and f"{config}:" in line
        daemon.wait_for(daemon.err, '"keeping": "the running configuration"')
        grown = _peak_rss_mb(daemon.process.pid) - before
        assert grown < 200, f"the refused reload grew the daemon by {grown:.0f} MB"
        story = seed_text("Talks", "Kosachev spoke to reporters.", "https://x.org/new")
        (folder / "new.txt").write_text(story)
        daemon.wait_for(daemon.out, "Konstantin Kosachev", timeout=20)
    finally:
        code, took = daemon.stop()
    assert code == 0 and took < 15
