"""The e-mail sink against a real SMTP server (aiosmtpd on 127.0.0.1): immediate and digest."""

from __future__ import annotations

import shutil
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from conftest import SEED_FILE
from helpers import alert, alert_records, migrated_sqlite, seed_text, write_config
from newswatch.alerts.digest import DigestSchedule
from newswatch.alerts.outbox import deliver_pending
from newswatch.alerts.sink import Outcome, Sink, SinkError
from newswatch.cli import main
from newswatch.config import Config, load_config
from newswatch.match.watchlist import compile_config
from newswatch.model import Alert
from newswatch.pipeline import Pipeline
from newswatch.sinks import build_sinks
from newswatch.store.db import open_database
from smtpserver import HOST, SmtpServer, make_certificate

KOSACHEV_TITLE = "What Does Russia Expect From Trump 2.0? Senior Russian Lawmaker Explains"
SEED_ALERTS = 9


pytestmark = pytest.mark.usefixtures("json_logs")


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED_FILE, folder / SEED_FILE.name)
    return folder


def email_yaml(
    port: int, mode: str = "immediate", schedule: str = "", smtp: str = "", zone: str = "UTC"
) -> str:
    return f"""
alerts:
  - type: log
  - type: email
    to: [analyst@example.org, desk@example.org]
    from: newswatch@example.org
    smtp: {{host: {HOST}, port: {port}, timeout: 30s{smtp}}}
    mode: {mode}
    timezone: {zone}
{schedule}"""


def configure(tmp_path: Path, seeds: Path, port: int, **options: str) -> Path:
    return write_config(
        tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds, email_yaml(port, **options)
    )


def ingest(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict], str]:
    code = main(["--config", str(config), "--log-format", "json", "ingest"])
    out, err = capsys.readouterr()
    return code, alert_records(out), err


def email_sink(port: int, **smtp: Any) -> Sink:
    config = Config.model_validate(
        {
            "alerts": [
                {
                    "type": "email",
                    "to": ["analyst@example.org"],
                    "from": "newswatch@example.org",
                    "smtp": {"host": HOST, "port": port, "timeout": "30s", **smtp},
                }
            ]
        }
    )
    [sink] = build_sinks(config)
    return sink


def send(sink: Sink, batch: list[Alert]) -> list[Outcome]:
    """Every outcome of one delivery, as the outbox would collect them."""
    return list(sink.deliver(batch))


def test_immediate_mode_mails_each_document_once_naming_every_watch(
    tmp_path: Path, seeds: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = configure(tmp_path, seeds, smtp.port)
    code, logged, err = ingest(config, capsys)
    assert code == 0, err
    assert len(logged) == SEED_ALERTS, "the log sink still writes one record per alert"
    [mail] = smtp.received  # one seed article matched nine watches: one message
    names = "Donald Trump, Konstantin Kosachev, Joe Biden +6 more"
    assert mail.subject == f"[newswatch] {names}: {KOSACHEV_TITLE}"
    assert mail.sender == "newswatch@example.org"
    assert mail.recipients == ["analyst@example.org", "desk@example.org"]
    assert mail.message["To"] == "analyst@example.org, desk@example.org"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message["List-Id"] == "<email.newswatch.example.org>"
    assert mail.message["Message-ID"].endswith("@example.org>") and mail.message["Date"]
    text = mail.text()
    assert f"Title:     {KOSACHEV_TITLE}" in text
    assert "URL:       https://sputnikglobe.com/20241114/" in text
    assert "Source:    sputnikglobe.com" in text, "a seed's source is its publisher's host"
    assert "Published: 2024-11-14 00:00 UTC" in text
    for record in logged:
        assert f"Watch:     {record['watch']} ({record['kind']})" in text
    assert "Matched:   Konstantin Kosachev, Kosachev" in text
    assert "*Konstantin Kosachev*, Vice Speaker" in text and "«" not in text
    rich = mail.html()
    assert '<a href="https://sputnikglobe.com/20241114/' in rich
    assert "<mark>Konstantin Kosachev</mark>, Vice Speaker" in rich
    assert rich.count("<h3>") == SEED_ALERTS
    assert '"event": "email_sent"' in err and '"messages": 1' in err

    code, again, err = ingest(config, capsys)
    assert code == 0 and again == []
    assert len(smtp.received) == 1, "a second ingest sends nothing more"


def test_server_down_keeps_alerts_pending_until_it_is_up(
    tmp_path: Path, seeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = SmtpServer()
    config = configure(tmp_path, seeds, server.port)
    code, logged, err = ingest(config, capsys)
    assert code == 1, "a delivery failed"
    assert len(logged) == SEED_ALERTS, "the log sink keeps working"
    failure = next(line for line in err.splitlines() if "alert_delivery_failed" in line)
    assert f"cannot connect to SMTP server {HOST}:{server.port}" in failure
    assert "check smtp.host and smtp.port" in failure
    assert f"newswatch: {SEED_ALERTS} alert(s) not delivered to email:analyst@" in err

    server.start()
    try:
        engine = open_database(f"sqlite:///{tmp_path}/nw.db")
        sinks = build_sinks(load_config(config))
        later = datetime.now(UTC) + timedelta(minutes=2)
        assert deliver_pending(engine, sinks, later).sent == SEED_ALERTS
        assert len(server.received) == 1, "one message for the one document"
        assert deliver_pending(engine, sinks, later + timedelta(minutes=2)).sent == 0
        assert capsys.readouterr().out == "", "the log sink had delivered already"
        engine.dispose()
    finally:
        server.stop()


@pytest.mark.parametrize("schedule", ["    every: 1h", '    at: "07:00"'])
def test_digest_waits_for_the_boundary_then_sends_one_grouped_message(
    tmp_path: Path, smtp: SmtpServer, schedule: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    stories = {
        "a": ("NATO summit", "NATO allies met. Biden spoke.", "2024-11-12"),
        "b": ("Talks", "Biden met Kosachev.", "2024-11-14"),
        "c": ("Alliance", "The North Atlantic Treaty Organization grew.", "2024-11-13"),
    }
    for name, (title, body, day) in stories.items():
        (folder / f"{name}.txt").write_text(seed_text(title, body, f"https://x.org/{name}", day))
    path = configure(tmp_path, folder, smtp.port, mode="digest", schedule=schedule)
    config = load_config(path)
    engine = open_database(config.database)
    created = datetime(2024, 11, 14, 6, 30, tzinfo=UTC)
    pipeline = Pipeline(engine, compile_config(config), build_sinks(config), clock=lambda: created)
    pipeline.refresh_seeds(config.sources.seeds[0])
    assert len(alert_records(capsys.readouterr().out)) == 5
    assert smtp.received == []

    def deliver(now: datetime) -> int:  # fresh sinks each time: nothing is remembered
        return deliver_pending(engine, build_sinks(load_config(path)), now).sent

    assert deliver(datetime(2024, 11, 14, 6, 59, 59, tzinfo=UTC)) == 0
    assert smtp.received == []
    assert deliver(datetime(2024, 11, 14, 7, 0, 1, tzinfo=UTC)) == 5
    assert deliver(datetime(2024, 11, 15, 7, 0, 1, tzinfo=UTC)) == 0
    engine.dispose()

    [mail] = smtp.received
    subject = "[newswatch] digest: 3 articles for 3 watches: Joe Biden, Konstantin Kosachev, NATO"
    assert mail.subject == subject
    text = mail.text()
    assert "newswatch digest: 5 alerts on 3 articles for 3 watches, as of " in text
    biden, kosachev, nato = (
        text.index("== Joe Biden (person): 2 alerts"),
        text.index("== Konstantin Kosachev (person): 1 alert"),
        text.index("== NATO (topic): 2 alerts"),
    )
    assert biden < kosachev < nato
    assert text.index("* Alliance", nato) < text.index("* NATO summit", nato), "newest first"
    assert text.index("* Talks", biden) < text.index("* NATO summit", biden)
    assert "URL: https://x.org/c" in text and "Matched: North Atlantic Treaty Organization" in text
    assert "<h2>NATO (topic): 2 alerts</h2>" in mail.html()


def test_a_digest_waits_for_the_next_boundary_after_its_oldest_alert() -> None:
    hourly = DigestSchedule.from_config(timedelta(hours=1), None)
    at_seven = DigestSchedule.from_config(None, "7:00")
    every_90m = DigestSchedule.from_config(timedelta(minutes=90), None)
    day = datetime(2024, 11, 14, tzinfo=UTC)
    oldest = day + timedelta(hours=7, minutes=10)
    assert not hourly.ready(oldest, day + timedelta(hours=7, minutes=59))
    assert hourly.ready(oldest, day + timedelta(hours=8))
    assert not at_seven.ready(oldest, day + timedelta(hours=23))
    assert not at_seven.ready(oldest, day + timedelta(days=1, hours=6, minutes=59))
    assert at_seven.ready(oldest, day + timedelta(days=1, hours=7))
    assert at_seven.last_boundary(day + timedelta(hours=6)) == day - timedelta(hours=17)
    assert every_90m.last_boundary(day + timedelta(hours=8)) == day + timedelta(hours=7, minutes=30)
    assert not hourly.ready(day + timedelta(hours=8), day + timedelta(hours=8)), "strictly before"


def test_login_reads_the_password_from_the_environment_at_send_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = SmtpServer(users={"newswatch": "s3cret-pw"}).start()
    try:
        sink = email_sink(server.port, username="newswatch", password_env="NW_SMTP_PASSWORD")
        with pytest.raises(SinkError, match="environment variable NW_SMTP_PASSWORD is not set"):
            send(sink, [alert(1)])
        monkeypatch.setenv("NW_SMTP_PASSWORD", "wrong-pw")
        with capture_logs() as logs, pytest.raises(SinkError) as refused:
            send(sink, [alert(1)])
        message = str(refused.value)
        assert f"SMTP server {HOST}:{server.port} refused the login of 'newswatch'" in message
        assert "$NW_SMTP_PASSWORD" in message and "wrong-pw" not in message + str(logs)
        monkeypatch.setenv("NW_SMTP_PASSWORD", "s3cret-pw")
        send(sink, [alert(1), alert(2)])
    finally:
        server.stop()
    assert [m.login for m in server.received] == ["newswatch", "newswatch"]
    assert server.received[0].subject == "[newswatch] NATO: Story 1"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    made = make_certificate(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("TLS tests need the openssl command")
    return made


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "ssl"])
def test_tls_to_a_server_whose_certificate_is_trusted(
    certificate: tuple[Path, Path], implicit: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = SmtpServer(certificate=certificate, implicit_tls=implicit).start()
    try:
        sink = email_sink(server.port, starttls=not implicit, ssl=implicit)
        with pytest.raises(
            SinkError, match=r"TLS with SMTP server .* failed \(self-signed certificate\)"
        ):
            send(sink, [alert(1)])
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        send(sink, [alert(1)])
    finally:
        server.stop()
    assert [m.subject for m in server.received] == ["[newswatch] NATO: Story 1"]


def test_starttls_required_by_the_config_but_not_offered(smtp: SmtpServer) -> None:
    with pytest.raises(SinkError) as error:
        send(email_sink(smtp.port, starttls=True), [alert(1)])
    assert "STARTTLS extension not supported" in str(error.value)
    assert "smtp.starttls" in str(error.value)


def test_a_refused_recipient_is_a_clear_error(smtp: SmtpServer) -> None:
    smtp.handler.refuse.add("analyst@example.org")
    assert send(email_sink(smtp.port), [alert(1)]) == [
        Outcome(
            (1,),
            "dead",
            f"SMTP server {HOST}:{smtp.port} refused every recipient "
            "(analyst@example.org: 550 5.1.1 no such mailbox here); check `to`",
        )
    ]


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind((HOST, 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(SinkError) as error:
            send(email_sink(port, timeout="200ms"), [alert(1)])
    assert str(error.value) == (
        f"SMTP server {HOST}:{port} did not answer within 0.2s; "
        "check smtp.host and smtp.port, or raise smtp.timeout"
    )


def test_sink_keys_name_the_recipients_and_stay_distinct() -> None:
    entry = {"type": "email", "from": "nw@example.org"}
    many = [f"reader{n}@newsroom.example.org" for n in range(10)]
    config = Config.model_validate(
        {
            "alerts": [
                {"type": "log"},
                {**entry, "to": ["a@example.org", "b@example.org"]},
                {**entry, "to": ["a@example.org", "b@example.org"], "mode": "digest", "at": "7:00"},
                {**entry, "to": many},
            ]
        }
    )
    with capture_logs() as logs:
        keys = [sink.key for sink in build_sinks(config)]
    assert keys[:3] == [
        "log",
        "email:a@example.org,b@example.org",
        "email:a@example.org,b@example.org#2",
    ]
    assert len(keys[3]) == 100 and keys[3].startswith("email:reader0@")
    assert keys == [sink.key for sink in build_sinks(config)], "stable"
    assert logs == []
