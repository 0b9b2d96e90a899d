"""Routing (`watches:` on a sink) and `max_per_hour`, against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import migrated_sqlite, seed_text, write_config
from hookserver import HookServer
from newswatch.alerts.outbox import deliver_pending
from newswatch.cli import main
from newswatch.config import Config, load_config
from newswatch.log import configure_logging
from newswatch.match.watchlist import compile_config
from newswatch.model import Alert, Document
from newswatch.pipeline.app import feed_settings, open_app
from newswatch.sinks import build_sinks, sink_routes
from newswatch.store import alerts as alert_store
from newswatch.store import deliveries as delivery_store
from newswatch.store import documents as document_store
from newswatch.store.db import open_database
from smtpserver import HOST, Received, SmtpServer

STORIES = {
    "a": ("NATO summit", "NATO allies met. Biden spoke."),
    "b": ("Talks", "Biden met Kosachev."),
    "c": ("Alliance", "The North Atlantic Treaty Organization grew."),
}


@pytest.fixture(autouse=True)
def json_logs() -> None:
    configure_logging("json", "INFO")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def email_entry(port: int, to: str, extra: str = "") -> str:
    return f"""
  - type: email
    to: [{to}]
    from: newswatch@example.org
    smtp: {{host: {HOST}, port: {port}, timeout: 30s}}{extra}"""


def stories_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name, (title, body) in STORIES.items():
        (folder / f"{name}.txt").write_text(seed_text(title, body, f"https://x.org/{name}"))
    return folder


def watches_in(mail: Received) -> set[str]:
    """The watch names a message's subject starts with (`<prefix> <watches>: <title>`)."""
    named = mail.subject.removeprefix("[newswatch] ").split(": ")[0]
    return {w for w in named.split(", ") if not w.startswith("+")}


def test_each_recipient_gets_only_the_watches_its_sink_routes(
    tmp_path: Path, database_url: str, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sinks = "\nalerts:\n  - type: log"
    sinks += email_entry(smtp.port, "nato@example.org", "\n    watches: [NATO]")
    sinks += email_entry(smtp.port, "people@example.org", '\n    watches: ["*kosachev", "JOE *"]')
    config = write_config(tmp_path, database_url, stories_folder(tmp_path), sinks)

    assert main(["--config", str(config), "ingest"]) == 0, capsys.readouterr().err

    by_recipient: dict[str, list[Received]] = {}
    for mail in smtp.received:
        [recipient] = mail.recipients
        by_recipient.setdefault(recipient, []).append(mail)
    nato, people = by_recipient.pop("nato@example.org"), by_recipient.pop("people@example.org")
    assert by_recipient == {}
    assert set().union(*map(watches_in, nato)) == {"NATO"}
    assert {m.subject.rsplit(": ", 1)[1] for m in nato} == {"NATO summit", "Alliance"}
    assert set().union(*map(watches_in, people)) == {"Joe Biden", "Konstantin Kosachev"}
    assert {m.subject.rsplit(": ", 1)[1] for m in people} == {"NATO summit", "Talks"}

    engine = open_database(database_url)  # nothing waits for a sink that does not route it
    keys = [sink.key for sink in build_sinks(load_config(config))]
    with engine.connect() as connection:
        statuses = delivery_store.sink_statuses(connection, keys, datetime.now(UTC))
        backlog = delivery_store.backlog(connection)
    engine.dispose()
    assert [s.pending for s in statuses] == [0, 0, 0] and backlog == {}
    capsys.readouterr()
    assert main(["--config", str(config), "outbox"]) == 0
    assert capsys.readouterr().out.count(": 0 pending (0 retrying)") == 3


def test_a_webhook_sink_takes_watches_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver = HookServer().start()
    try:
        sinks = f"""
alerts:
  - type: webhook
    url: {receiver.url}/hook
    watches: ["*kosachev"]
"""
        config = write_config(
            tmp_path, migrated_sqlite(tmp_path / "nw.db"), stories_folder(tmp_path), sinks
        )
        assert main(["--config", str(config), "ingest"]) == 0, capsys.readouterr().err
    finally:
        receiver.stop()
    assert [(p.json()["title"], p.json()["watch"]) for p in receiver.posts] == [
        ("Talks", "Konstantin Kosachev")
    ]


def test_check_refuses_a_watches_entry_that_matches_no_watch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = stories_folder(tmp_path)
    sinks = "\nalerts:\n  - type: log\n    watches: [nato*, vladimir putin]"
    sinks += email_entry(2525, "desk@example.org", "\n    watches: [Natoo, 'Joe *']")
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), folder, sinks)

    assert main(["--config", str(config), "check"]) != 0
    err = capsys.readouterr().err
    [problem] = [line for line in err.splitlines() if "matches no watch" in line]
    line = 1 + config.read_text().splitlines().index("    watches: [Natoo, 'Joe *']")
    assert problem.startswith(f"{config}:{line}: alerts[1].watches: 'Natoo' matches no watch; ")
    assert "the watches are: Donald Trump, Konstantin Kosachev, Joe Biden" in problem

    config.write_text(config.read_text().replace("Natoo", "NATO"))
    assert main(["--config", str(config), "check"]) == 0, capsys.readouterr().err


def test_watches_may_be_one_name_but_not_an_empty_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = stories_folder(tmp_path)
    config = write_config(
        tmp_path,
        migrated_sqlite(tmp_path / "nw.db"),
        folder,
        "alerts:\n  - {type: log, watches: NATO}",
    )
    assert main(["--config", str(config), "check"]) == 0, capsys.readouterr().err
    config.write_text(config.read_text().replace("watches: NATO", "watches: []"))
    assert main(["--config", str(config), "check"]) != 0
    assert "alerts.0.watches: an empty list sends this sink nothing" in capsys.readouterr().err


def test_a_reload_that_changes_routing_applies_to_alerts_raised_from_then_on(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "a.txt").write_text(seed_text(*STORIES["a"], "https://x.org/a"))
    entry = email_entry(2525, "desk@example.org", "\n    watches: [NATO]")
    path = write_config(tmp_path, database_url, folder, "\nalerts:" + entry)
    app = open_app(load_config(path))
    app.pipeline.wake_delivery = lambda: None  # queue only: this test looks at the outbox
    app.pipeline.refresh_seeds(app.config.sources.seeds[0])

    path.write_text(path.read_text().replace("watches: [NATO]", "watches: [joe*]"))
    new = load_config(path)
    sinks = build_sinks(new)
    app.pipeline.reconfigure(
        compile_config(new), sinks, feed_settings(new), None, sink_routes(new, sinks)
    )
    (folder / "b.txt").write_text(seed_text(*STORIES["b"], "https://x.org/b"))
    app.pipeline.refresh_seeds(app.config.sources.seeds[0])

    with app.engine.connect() as connection:
        queued = delivery_store.pending_deliveries(connection, sinks[0].key, datetime.now(UTC))
    app.close()
    assert {(a.title, a.watch) for a in queued} == {("NATO summit", "NATO"), ("Talks", "Joe Biden")}


def test_ingest_over_max_per_hour_sends_the_limit_and_says_the_rest_waits(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sinks = "\nalerts:" + email_entry(smtp.port, "desk@example.org", "\n    max_per_hour: 2")
    config = write_config(
        tmp_path, migrated_sqlite(tmp_path / "nw.db"), stories_folder(tmp_path), sinks
    )

    assert main(["--config", str(config), "ingest"]) == 0, "holding alerts back is no failure"
    err = capsys.readouterr().err
    assert len(smtp.received) == 2, "one message per article: the first two of three"
    assert {m.subject.rsplit(": ", 1)[1] for m in smtp.received} == {"NATO summit", "Talks"}
    assert "newswatch: 1 alert(s) for email:desk@example.org wait for one digest after" in err
    assert "not delivered" not in err
    assert main(["--config", str(config), "outbox"]) == 0
    out = capsys.readouterr().out
    assert "email:desk@example.org: 1 pending (0 retrying)" in out
    assert "; max_per_hour reached: one digest after " in out


BURST = 1000
LIMIT = 50
HOUR = datetime(2024, 11, 14, 10, 0, tzinfo=UTC)


def store_burst(url: str, sink: str, count: int, now: datetime, first: int = 0) -> None:
    """`count` documents, each with one alert queued for `sink`, raised at `now`."""
    documents = [
        Document(
            source="wire",
            key=f"burst{n}",
            title=f"Burst {n:04d}",
            body=f"NATO allies met (story {n}).",
            url=f"https://example.org/{n}",
            published=now,
            content_hash=f"{n:064x}",
        )
        for n in range(first, first + count)
    ]
    engine = open_database(url)
    with engine.begin() as connection:
        saved = document_store.save_documents(connection, documents, now, "wire").new
        alerts = [
            Alert(
                document_id=d.id or 0,
                watch="NATO",
                kind="topic",
                title=d.title,
                url=d.url,
                source=d.source,
                published=now,
                matched=("NATO",),
                snippet=d.body,
            )
            for d in saved
        ]
        alert_store.save_alerts(connection, alerts, [sink], now)
    engine.dispose()


def test_a_burst_over_max_per_hour_waits_for_one_digest_at_the_next_hour(
    database_url: str, smtp: SmtpServer
) -> None:
    entry = {
        "type": "email",
        "to": ["desk@example.org"],
        "from": "newswatch@example.org",
        "smtp": {"host": HOST, "port": smtp.port, "timeout": "30s"},
        "max_per_hour": LIMIT,
    }
    config = Config.model_validate({"alerts": [entry]})
    key = build_sinks(config)[0].key
    store_burst(database_url, key, BURST, HOUR + timedelta(minutes=5))
    engine = open_database(database_url)

    def deliver(now: datetime) -> int:  # fresh sinks each time: as after a restart
        return deliver_pending(engine, build_sinks(config), now).sent

    def pending(now: datetime) -> int:
        with engine.connect() as connection:
            return sum(delivery_store.count_pending(connection, key, now))

    assert deliver(HOUR + timedelta(minutes=6)) == LIMIT
    assert len(smtp.received) == LIMIT and pending(HOUR) == BURST - LIMIT
    assert deliver(HOUR + timedelta(minutes=59)) == 0, "the count survives a restart"
    assert len(smtp.received) == LIMIT

    assert deliver(HOUR + timedelta(hours=1, seconds=1)) == BURST - LIMIT
    assert len(smtp.received) == LIMIT + 1 and pending(HOUR) == 0
    in_digest = set(re.findall(r"Burst \d{4}", smtp.received[-1].text()))
    assert len(in_digest) == BURST - LIMIT, "one digest carries every alert held back"

    store_burst(database_url, key, 1, HOUR + timedelta(hours=1, minutes=5), first=BURST)
    assert deliver(HOUR + timedelta(hours=1, minutes=6)) == 1, "the new hour has room again"
    engine.dispose()

    carried = Counter(
        token for mail in smtp.received for token in set(re.findall(r"Burst \d{4}", mail.text()))
    )
    assert len(carried) == BURST + 1, "nothing lost"
    assert set(carried.values()) == {1}, "nothing twice"
    assert "Burst 1000" in smtp.received[-1].subject
