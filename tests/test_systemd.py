"""systemd integration: the unit verifies and rates well; the daemon talks sd_notify.

The notify test binds the datagram socket systemd would, runs `newswatch run`
as the unit would (NOTIFY_SOCKET, WATCHDOG_USEC), and reads what arrives.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from helpers import REPO, migrated_sqlite, write_config
from newswatch.config import load_config
from newswatch.listen import is_loopback
from newswatch.ops.systemd import notify
from newswatch.service import _warn_if_exposed
from test_daemon import Daemon

UNIT = REPO / "deploy" / "newswatch.service"
needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


class NotifySocket:
    """The AF_UNIX datagram socket systemd listens on, collecting every message."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.5)
        self.messages: list[str] = []

    def wait_for(self, pattern: str, timeout: float = 30, times: int = 1) -> None:
        """Until `times` messages match `pattern` (all received so far count)."""
        deadline = time.monotonic() + timeout
        while sum(bool(re.search(pattern, m)) for m in self.messages) < times:
            if time.monotonic() > deadline:
                raise AssertionError(f"{times}x {pattern!r} not within {timeout}s: {self.messages}")
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue

    def close(self) -> None:
        self.sock.close()


def test_notify_never_blocks_when_the_supervisor_stops_reading(tmp_path: Path, monkeypatch) -> None:
    """A full datagram queue (systemd busy, or gone) must not hang a stop: the message is
    dropped, `notify` says so and returns at once."""
    listener = NotifySocket(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(listener.path))
    try:
        sent = [notify("WATCHDOG=1") for _ in range(500)]  # nobody reads
    finally:
        listener.close()
    assert sent[0] is True and sent[-1] is False


@pytest.mark.slow(seconds=4)
def test_the_daemon_says_ready_pings_the_watchdog_reports_status_and_stopping(
    tmp_path: Path,
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds)
    notify = NotifySocket(tmp_path / "notify")
    daemon = Daemon(config, env={"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "3000000"})
    try:
        notify.wait_for(r"^READY=1$")
        notify.wait_for(r"^STATUS=feeds: none; 0 deliveries pending$")
        notify.wait_for(r"^WATCHDOG=1$", times=3)  # every second with WatchdogSec=3
        config.write_text(config.read_text() + "\nnot_a_key: 1\n")
        daemon.process.send_signal(1)  # SIGHUP
        notify.wait_for(r"^STATUS=.*reload rejected \(1 errors; see the log\)$")
    finally:
        code, _ = daemon.stop()
        try:
            notify.wait_for(r"^STOPPING=1$", timeout=5)
        finally:
            notify.close()
    assert code == 0


@needs_systemd
def test_the_unit_verifies(tmp_path: Path) -> None:
    """`systemd-analyze verify` needs the ExecStart binary: point it at this venv's."""
    unit = tmp_path / "newswatch.service"
    executable = Path(sys.executable).parent / "newswatch"
    unit.write_text(UNIT.read_text().replace("/opt/newswatch/venv/bin/newswatch", str(executable)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in result.stderr.splitlines() if "newswatch.service" in line]
    assert result.returncode == 0 and problems == [], result.stderr


@needs_systemd
def test_the_unit_exposure_is_at_most_two() -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert score is not None, result.stdout + result.stderr
    assert float(score.group(1)) <= 2.0, result.stdout


@pytest.mark.parametrize(
    ("listen", "loopback"),
    [
        ("127.0.0.1:9464", True),
        ("[::1]:9464", True),
        ("localhost:9464", True),
        (":9464", False),
        ("0.0.0.0:9464", False),
        ("192.0.2.7:9464", False),
        ("status.example:9464", False),
    ],
)
def test_only_loopback_addresses_count_as_private(listen: str, loopback: bool) -> None:
    assert is_loopback(listen) is loopback


@pytest.mark.slow(seconds=3)
def test_start_up_says_what_runs_and_warns_when_the_endpoint_is_exposed(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path}/nw.db", seeds, extra="http: {listen: ':9464'}\n"
    )
    with capture_logs() as logs:
        _warn_if_exposed(load_config(config))
    assert [e["event"] for e in logs] == ["status_endpoint_exposed"]
    assert "no authentication" in logs[0]["hint"]
    daemon = Daemon(write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", seeds))
    try:
        started = json.loads(daemon.wait_for(daemon.err, '"daemon_started"'))
    finally:
        daemon.stop()
    assert started["database"] == "sqlite" and started["sinks"] == ["log"]
    assert started["seeds"] == 1 and started["people"] > 0
