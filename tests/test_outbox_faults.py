"""Each alert e-mailed once under faults: refusals, session limits, a dying or hanging
server, a locked database, and `ingest` or `run` killed mid-delivery.

Every test counts messages at a real SMTP server (aiosmtpd on 127.0.0.1).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import REPO, migrated_sqlite, seed_text, wait_until, write_config
from newswatch.alerts import outbox
from newswatch.alerts.status import failing_sinks
from newswatch.cli import main
from newswatch.store import deliveries
from newswatch.store.db import open_database
from smtpserver import HOST, SmtpServer

SINK = "email:desk@example.org"


pytestmark = pytest.mark.usefixtures("json_logs")


def newsroom(tmp_path: Path, port: int, stories: int, timeout: str = "5s") -> Path:
    """A config whose seed folder holds `stories` documents, each raising one NATO alert."""
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    for number in range(stories):
        text = seed_text(f"Story {number:04d}", "NATO met.", f"https://x.org/{number}")
        (seeds / f"story{number:04d}.txt").write_text(text)
    return write_config(
        tmp_path,
        migrated_sqlite(tmp_path / "nw.db"),
        seeds,
        f"""
alerts:
  - type: email
    to: [desk@example.org]
    from: newswatch@example.org
    smtp: {{host: {HOST}, port: {port}, timeout: {timeout}}}
http: {{listen: "127.0.0.1:0"}}
""",
    )


def cli(config: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--config", str(config), "--log-format", "json", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_once_each(server: SmtpServer, stories: int, extra: int = 0) -> None:
    copies = server.handler.copies()
    assert len(copies) == stories, "every alert arrived"
    assert sum(copies.values()) - stories <= extra, f"duplicates: {copies.most_common(3)}"


def test_a_poison_message_is_dead_lettered_and_the_others_go_through(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    smtp.handler.replies["Story 0003"] = "550 5.6.0 content rejected"
    config = newsroom(tmp_path, smtp.port, 12)
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 1, "a message was refused"
    assert "1 alert(s) refused for good (dead-lettered)" in err
    assert len(smtp.received) == 11 and len(smtp.sessions) == 1
    assert_once_each(smtp, 11)

    code, out, _err = cli(config, "outbox", capsys=capsys)
    assert f"{SINK}: 0 pending (0 retrying), 1 dead-lettered" in out
    assert "dead #" in out and "Story 0003" in out and "550 5.6.0 content rejected" in out
    code, out, _err = cli(config, "alerts", "--json", capsys=capsys)
    listed = {record["title"]: record for record in map(json.loads, out.splitlines())}
    [dead] = listed["Story 0003"]["deliveries"]
    assert dead["sink"] == SINK and dead["state"] == "dead" and dead["attempts"] == 1
    assert "550 5.6.0 content rejected" in dead["last_error"]
    assert listed["Story 0004"]["deliveries"][0]["state"] == "delivered"
    code, out, _err = cli(config, "ingest", capsys=capsys)
    assert code == 0 and len(smtp.received) == 11, "a dead letter is not retried by itself"

    del smtp.handler.replies["Story 0003"]
    code, out, _err = cli(config, "deliver", "--dead", capsys=capsys)
    assert code == 0
    assert f"{SINK}: 0 pending (0 retrying), 0 dead-lettered" in out
    assert_once_each(smtp, 12)


def test_a_per_session_limit_costs_a_reconnection_not_a_copy(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    smtp.handler.per_session = 10
    config = newsroom(tmp_path, smtp.port, 35)
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 0, err
    assert_once_each(smtp, 35)
    assert len(smtp.sessions) == 4
    assert "smtp_reconnecting" in err and "after 10 messages in one session" in err


def test_a_server_dying_mid_session_resends_nothing_it_accepted(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    smtp.handler.die_after = 12
    config = newsroom(tmp_path, smtp.port, 30)
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 1
    assert "closed the connection after 12 messages" in err
    assert "ssl" not in err.split("closed the connection after 12 messages")[1].split("\n")[0]
    assert f"18 alert(s) not delivered to {SINK}" in err

    code, out, _err = cli(config, "alerts", capsys=capsys)
    assert out.count(f"{SINK}: delivered") == 12
    assert out.count(f"{SINK}: retrying (1 attempt, next ") == 18

    smtp.handler.die_after = None
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 0, err
    assert_once_each(smtp, 30)


def test_a_server_deferring_everything_is_backed_off_and_reported(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    smtp.handler.reply_all = "451 4.3.0 try again later"
    config = newsroom(tmp_path, smtp.port, 8)
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 1
    assert "deferred 2 messages in a row (451 4.3.0 try again later)" in err
    assert smtp.handler.offered == 2, "two tries, then the sink backs off"

    code, out, _err = cli(config, "outbox", "--json", capsys=capsys)
    [status] = [json.loads(line) for line in out.splitlines()]
    assert status["sink"] == SINK and status["pending"] == 8 and status["dead"] == 0
    assert status["failing_since"] is not None and status["next_try"] > status["failing_since"]
    assert "451 4.3.0 try again later" in status["last_error"]

    engine = open_database(f"sqlite:///{tmp_path}/nw.db")
    with engine.connect() as connection:
        statuses = deliveries.sink_statuses(connection, [SINK], _now())
    engine.dispose()
    assert failing_sinks(statuses, _now() + timedelta(minutes=16), timedelta(minutes=15)) == [SINK]
    assert failing_sinks(statuses, _now(), timedelta(minutes=15)) == []

    smtp.handler.reply_all = None
    code, _out, err = cli(config, "deliver", "--sink", SINK, capsys=capsys)
    assert code == 0, err
    assert_once_each(smtp, 8)


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_locked_database_retries_the_marking_not_the_sending(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = newsroom(tmp_path, smtp.port, 20)
    text = config.read_text().replace("/nw.db", "/nw.db?timeout=0.5")
    config.write_text(text)
    released = threading.Event()

    def lock_for_three_seconds(number: int) -> None:
        if number != 5:
            return

        def hold() -> None:
            locker = sqlite3.connect(tmp_path / "nw.db", isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")
            time.sleep(3)
            locker.execute("COMMIT")
            locker.close()
            released.set()

        threading.Thread(target=hold).start()
        time.sleep(0.3)  # the lock is taken before the message is accepted

    smtp.handler.on_message = lock_for_three_seconds
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert released.wait(10)
    assert code == 0, err
    assert "delivery_record_retrying" in err
    assert_once_each(smtp, 20)


@pytest.mark.slow(seconds=4)
def test_a_hanging_server_times_out_and_nothing_is_sent_twice(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    smtp.handler.hang_after = 5
    config = newsroom(tmp_path, smtp.port, 10)  # 5 s: a busy server is slow, not hanging
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 1
    assert "timed out after 5 messages" in err
    smtp.handler.hang_after = None
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 0, err
    assert_once_each(smtp, 10)


# --- killed or stopped mid-delivery, in a separate process ---------------------------


def spawn(config: Path, command: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newswatch",
            "--config",
            str(config),
            "--log-format",
            "json",
            command,
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def finish(process: subprocess.Popen[str], seconds: float = 60) -> tuple[int, str]:
    try:
        _out, err = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return process.returncode, err


@pytest.mark.parametrize("command", ["ingest", "run"])
@pytest.mark.slow(seconds=6)
def test_sigkill_mid_delivery_repeats_at_most_the_message_in_flight(
    tmp_path: Path, smtp: SmtpServer, command: str
) -> None:
    stories = 60
    smtp.handler.delay = 0.03
    config = newsroom(tmp_path, smtp.port, stories)
    process = spawn(config, command)
    try:
        wait_until(lambda: len(smtp.received) >= 20)
    finally:
        process.send_signal(signal.SIGKILL)
        finish(process)
    smtp.handler.delay = 0.0
    code, err = finish(spawn(config, "ingest"))
    assert code == 0, err
    assert_once_each(smtp, stories, extra=1)


@pytest.mark.parametrize("command", ["ingest", "run"])
@pytest.mark.slow(seconds=6)
def test_sigterm_mid_delivery_stops_soon_and_sends_nothing_twice(
    tmp_path: Path, smtp: SmtpServer, command: str
) -> None:
    stories = 60
    smtp.handler.delay = 0.03
    config = newsroom(tmp_path, smtp.port, stories)
    process = spawn(config, command)
    try:
        wait_until(lambda: len(smtp.received) >= 20)
    finally:
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code, err = finish(process, seconds=30)
    assert time.monotonic() - started < 10, "stopped within seconds"
    assert code == (0 if command == "run" else 1), err
    assert len(smtp.received) < stories, "stopped before the end"
    smtp.handler.delay = 0.0
    code, err = finish(spawn(config, "ingest"))
    assert code == 0, err
    assert_once_each(smtp, stories)


def test_ingest_delivers_a_backlog_beyond_one_batch(
    tmp_path: Path,
    smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It used to stop after 1,000 alerts per sink and exit 0. Batches of 40 (500 in
    production) make a backlog of two batches and a part a tenth of the size."""
    monkeypatch.setattr(outbox, "BATCH", 40)
    stories = 2 * outbox.BATCH + 30
    config = newsroom(tmp_path, smtp.port, stories)
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 0, err[-2000:]
    assert_once_each(smtp, stories)
    code, out, _err = cli(config, "outbox", capsys=capsys)
    assert f"{SINK}: 0 pending (0 retrying), 0 dead-lettered" in out
