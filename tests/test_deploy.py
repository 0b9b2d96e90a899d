"""deploy/README.md followed literally (through deploy/install.sh) under a scratch root.

What a machine without systemd as PID 1 allows: the `newswatch` system user
is really created (as root), every file lands where the unit expects it with
its mode, the installed unit verifies, and the daemon checks its config and
starts as that user in the unit's working directory, creating a private
database. The one substitution: the venv step links this test run's venv
instead of building one from PyPI.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import REPO
from test_daemon import Daemon

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("setpriv") is None,
    reason="installing as a service needs root, useradd and setpriv",
)


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    """A scratch root others can traverse (the service user must reach its files)."""
    folder = Path(tempfile.mkdtemp(prefix="newswatch-root-"))
    folder.chmod(0o755)
    env = {**os.environ, "ROOT": str(folder), "VENV_FROM": sys.prefix}
    result = subprocess.run(
        ["sh", str(REPO / "deploy" / "install.sh")], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_files_land_where_the_unit_expects_them_with_private_modes(root: Path) -> None:
    user = pwd.getpwnam("newswatch")
    assert user.pw_shell == "/usr/sbin/nologin" and user.pw_dir == "/var/lib/newswatch"
    state = root / "var/lib/newswatch"
    assert state.stat().st_uid == user.pw_uid and mode(state) == 0o700
    assert mode(root / "etc/newswatch/secrets.env") == 0o600
    assert mode(root / "etc/newswatch/newswatch.yaml") == 0o644
    unit = (root / "etc/systemd/system/newswatch.service").read_text()
    for path in ("/opt/newswatch/venv/bin/newswatch", "/etc/newswatch/newswatch.yaml"):
        assert path in unit and (root / path.lstrip("/")).exists()
    assert "WorkingDirectory=/var/lib/newswatch" in unit
    assert "EnvironmentFile=-/etc/newswatch/secrets.env" in unit


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_installed_unit_verifies(root: Path) -> None:
    installed = root / "etc/systemd/system/newswatch.service"
    unit = root / "newswatch.service"
    executable = root / "opt/newswatch/venv/bin/newswatch"
    unit.write_text(
        installed.read_text().replace("/opt/newswatch/venv/bin/newswatch", str(executable))
    )
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def reachable_by_others(path: Path) -> bool:
    """Every folder above the file can be traversed, and the file run, by any user."""
    real = path.resolve()
    folders_ok = all(mode(folder) & 0o001 for folder in real.parents)
    return folders_ok and bool(mode(real) & 0o001)


SERVICE_USER_CAN_RUN_PYTHON = reachable_by_others(Path(sys.executable))


def as_service(root: Path, *args: str) -> list[str]:
    """The command as the unit runs it: as `newswatch` where this machine's Python
    allows (a Python under /root/.pyenv is out of its reach), else as root. setpriv
    execs the daemon in its own place, as systemd's `User=` does: signals reach it
    and its exit status is its own (runuser stays its parent and dies of the signal)."""
    user = (
        ["setpriv", "--reuid=newswatch", "--regid=newswatch", "--init-groups", "--"]
        if SERVICE_USER_CAN_RUN_PYTHON
        else []
    )
    return [
        *user,
        str(root / "opt/newswatch/venv/bin/newswatch"),
        "--config",
        str(root / "etc/newswatch/newswatch.yaml"),
        "--log-format",
        "json",
        *args,
    ]


@pytest.mark.slow(seconds=5)
def test_the_service_user_checks_the_config_and_starts_with_a_private_database(
    root: Path,
) -> None:
    state = root / "var/lib/newswatch"
    checked = subprocess.run(as_service(root, "check"), cwd=state, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = root / "etc/newswatch/newswatch.yaml"
    daemon = Daemon(config, command=as_service(root, "run"), cwd=state)
    database = state / "state" / "newswatch.db"
    try:
        daemon.wait_for(daemon.err, '"daemon_started"', timeout=60)
        assert database.exists()
    finally:
        code, _ = daemon.stop()
    assert code == 0
    assert mode(database) == 0o600 and mode(database.parent) == 0o700
    if SERVICE_USER_CAN_RUN_PYTHON:
        assert database.stat().st_uid == pwd.getpwnam("newswatch").pw_uid
