"""`newswatch run` as a real process: picks up dropped files, reloads, stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import WATCHES, migrated_sqlite, seed_text, wait_until, write_config


class Daemon:
    """A running `newswatch run` whose stdout and stderr are collected line by line."""

    def __init__(
        self,
        config: Path,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        cwd: Path | None = None,
        prefix: tuple[str, ...] = (),
    ) -> None:
        default = [*prefix, sys.executable, "-m", "newswatch", "--config", str(config)]
        self.process = subprocess.Popen(
            command or [*default, "--log-format", "json", "run"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=None if env is None else {**os.environ, **env},
            cwd=cwd,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, sink in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._collect, args=(stream, sink), daemon=True).start()

    @staticmethod
    def _collect(stream, sink: list[str]) -> None:
        for line in stream:
            sink.append(line)

    def wait_for(self, lines: list[str], needle: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                if needle in line:
                    return line
            assert self.process.poll() is None, "".join(self.err)
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not seen within {timeout}s:\n{''.join(self.err)}")

    def stop(self) -> tuple[int, float]:
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        return code, time.monotonic() - started


@pytest.mark.slow(seconds=3)
def test_daemon_imports_a_dropped_file_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), folder)
    daemon = Daemon(config)
    try:
        daemon.wait_for(daemon.err, '"daemon_started"')
        time.sleep(1.5)  # a rescan or two of the empty folder
        (folder / "new.txt.part").write_text("half written")
        text = seed_text("Talks", "Kosachev spoke to reporters.", "https://x.org/new")
        (folder / "new.txt.part").write_text(text)
        os.replace(folder / "new.txt.part", folder / "new.txt")
        line = daemon.wait_for(daemon.out, "Konstantin Kosachev")
        alert = json.loads(line)
        assert alert["event"] == "alert" and alert["url"] == "https://x.org/new"
    finally:
        code, took = daemon.stop()
    assert code == 0 and took < 10  # CONTRACT: SIGTERM stops it within 10 s
    assert any('"daemon_stopped"' in line for line in daemon.err)
    refreshes = [line for line in daemon.err if '"source_refreshed"' in line]
    assert len(refreshes) == 1, "idle rescans are not logged at info level"
    assert not any("Traceback" in line for line in daemon.err)


@pytest.mark.slow(seconds=5)
def test_sighup_reload_keeps_the_old_config_when_the_new_one_is_bad(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), folder)
    good = config.read_text()
    daemon = Daemon(config)
    try:
        daemon.wait_for(daemon.err, '"daemon_started"')
        config.write_text(good + "bogus_key: 1\n")
        daemon.process.send_signal(signal.SIGHUP)
        daemon.wait_for(daemon.err, "config_reload_rejected")
        config.write_text(good.replace("name: China", "name: Beijing watch"))
        daemon.process.send_signal(signal.SIGHUP)
        daemon.wait_for(daemon.err, '"config_reloaded"')
        (folder / "a.txt").write_text(seed_text("Trade", "China exports rose.", "https://x.org/a"))
        line = daemon.wait_for(daemon.out, '"alert"')
        assert json.loads(line)["watch"] == "Beijing watch"
    finally:
        code, _ = daemon.stop()
    assert code == 0


@pytest.mark.slow(seconds=7)
def test_daemon_polls_feeds_and_stops_within_10s_while_a_server_hangs(tmp_path: Path) -> None:
    import feedserver

    server = feedserver.start()
    try:
        body = (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
            b"<item><guid>1</guid><title>Talks</title><description>Biden met Kosachev."
            b"</description></item></channel></rss>"
        )
        good = feedserver.set_route(server, "/wire.xml", feedserver.feed(body))
        hang = feedserver.set_route(server, "/hang.xml", feedserver.Reply(behaviour="hang"))
        (tmp_path / "seeds").mkdir()
        config = write_config(
            tmp_path,
            migrated_sqlite(tmp_path / "nw.db"),
            tmp_path / "seeds",
            extra="fetch: {timeout: 60s}\n",
        )
        # The good feed is due at every tick (its first poll, spread over its interval,
        # comes within 1 s): a cycle held by the hanging fetch (up to its 60 s) must not
        # find it not yet due, which a first poll spread over 5 s could (a loaded machine
        # starting the tick late), leaving it to the next cycle, after the hang.
        feeds = f"sources:\n  feeds:\n    - url: {good}\n      interval: 1s\n    - url: {hang}\n"
        text = config.read_text().replace("sources:\n", feeds)
        config.write_text(text.replace("schedule:\n", "schedule:\n  interval: 1h\n"))
        daemon = Daemon(config)
        try:
            line = daemon.wait_for(daemon.out, "Konstantin Kosachev")
            assert json.loads(line)["source"] == "Wire"
            wait_until(lambda: any(s.path == "/hang.xml" for s in server.seen))
        finally:
            code, took = daemon.stop()
        assert code == 0 and took < 10  # CONTRACT: SIGTERM stops it within 10 s
    finally:
        feedserver.stop(server)


@pytest.mark.slow(seconds=4)
def test_a_missing_seed_folder_is_reported_once_and_picked_up_when_created(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "later"
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), folder)
    daemon = Daemon(config)
    try:
        daemon.wait_for(daemon.err, "does not exist")
        time.sleep(2.5)  # two or three more rescans of the missing folder
        folder.mkdir()
        (folder / "a.txt").write_text(seed_text("T", "Biden spoke.", "https://x.org/a"))
        daemon.wait_for(daemon.out, "Joe Biden")
    finally:
        code, _ = daemon.stop()
    assert code == 0
    errors = [line for line in daemon.err if '"level": "error"' in line]
    assert len(errors) == 1, errors


@pytest.mark.slow(seconds=7)
def test_a_hanging_smtp_server_holds_up_neither_importing_nor_the_log_nor_stopping(
    tmp_path: Path,
) -> None:
    import socket

    silent = socket.socket()  # accepts connections, never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = silent.getsockname()[1]
    folder = tmp_path / "seeds"
    folder.mkdir()
    extra = (
        "alerts:\n  - type: log\n  - type: email\n    to: [a@example.org]\n"
        f"    from: nw@example.org\n    smtp: {{host: 127.0.0.1, port: {port}, timeout: 120s}}\n"
    )
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), folder, extra=extra)
    daemon = Daemon(config)
    try:
        daemon.wait_for(daemon.err, '"daemon_started"')
        (folder / "a.txt").write_text(seed_text("A", "Biden spoke.", "https://x.org/a"))
        daemon.wait_for(daemon.out, "Joe Biden")
        time.sleep(1)  # the email job is now stuck talking to the silent server
        (folder / "b.txt").write_text(seed_text("B", "Kosachev spoke.", "https://x.org/b"))
        daemon.wait_for(daemon.out, "Konstantin Kosachev")
    finally:
        code, took = daemon.stop()
        silent.close()
    assert code == 0 and took < 10  # CONTRACT: 10 s, not the 120 s SMTP timeout


@pytest.mark.slow(seconds=6)
def test_every_stderr_line_is_json_including_apschedulers_own(tmp_path: Path) -> None:
    """APScheduler logs through the standard library; its warnings were plain text in the
    JSON stream, once spliced onto a JSON line. A scan that outlasts its 10 ms interval
    makes APScheduler warn that it skipped a run, while our own events are written too."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    for n in range(300):
        (folder / f"{n}.txt").write_text(seed_text(f"T{n}", "Biden spoke.", f"https://x.org/{n}"))
    config = tmp_path / "newswatch.yaml"
    config.write_text(
        f"database: {migrated_sqlite(tmp_path / 'nw.db')}\n"
        f"sources:\n  seeds:\n    - {{path: {folder}, name: seeds, interval: 10ms}}\n" + WATCHES
    )
    daemon = Daemon(config)
    try:
        daemon.wait_for(daemon.err, '"logger": "apscheduler')
    finally:
        code, _ = daemon.stop()
    assert code == 0
    records = [json.loads(line) for line in daemon.err]  # each line parses on its own
    skipped = [r for r in records if r.get("logger", "").startswith("apscheduler")]
    assert skipped[0]["level"] == "warning" and "skipped" in skipped[0]["event"]
    assert any(r["event"] == "daemon_started" for r in records)
