"""Start-up: a command loads only what it uses, so `--help`, `check` and `match`
answer at once instead of after SQLAlchemy, Alembic and the pipeline (issue 11)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import feedserver
from helpers import REPO, WATCHES, run_cli, write_config
from newswatch.cli import main

HEAVY = (
    "sqlalchemy",
    "alembic",
    "prometheus_client",
    "feedparser",
    "newswatch.pipeline",
    "structlog",  # logging is configured, structlog loaded at the first line logged
    "asyncio",
)

PROBE = """
import json, sys
from newswatch.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = tuple(json.loads(HEAVY))
# (a None entry is a module kept from loading, as newswatch does to httpx._main)
loaded = sorted({name for name, m in sys.modules.items() if m and name.startswith(heavy)})
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def imports_of(*args: str, heavy: tuple[str, ...] = HEAVY) -> tuple[int, list[str], str]:
    """Run `newswatch ARGS` in a fresh interpreter: its exit code, the heavy modules it
    loaded, and its standard output."""
    probe = PROBE.replace("HEAVY", repr(json.dumps(heavy)))
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report["code"], report["loaded"], result.stdout


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_load_no_database_nor_pipeline(flag: str) -> None:
    heavy = (*HEAVY, "importlib.metadata", "pydantic", "yaml", "shutil")
    code, loaded, out = imports_of(flag, heavy=heavy)
    assert code == 0
    assert out == "newswatch 0.1.0\n" if flag == "--version" else "COMMAND" in out
    assert loaded == []


def test_check_and_match_load_no_database_nor_pipeline(tmp_path: Path) -> None:
    config = str(write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", tmp_path))
    # nor XML without an OPML list, nor entry points for pydantic's plugins (all off)
    # nor what only matching needs (compiling the watch list does not)
    matching = ("newswatch.match.evaluate", "newswatch.match.people", "newswatch.model")
    heavy = (*HEAVY, "xml", "importlib.metadata", *matching)
    code, loaded, out = imports_of("--config", config, "check", heavy=heavy)
    assert code == 0 and "OK" in out
    assert loaded == []
    code, loaded, out = imports_of("--config", config, "match", "Kosachev spoke.")
    assert code == 0 and "Konstantin Kosachev" in out
    assert loaded == []
    assert not (tmp_path / "nw.db").exists()


def test_main_in_the_same_process_leaves_the_collector_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`main` runs start-up without the cyclic garbage collector; a caller in the same
    process (as these tests) gets it back on, with nothing frozen, whatever happened."""
    config = str(write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", tmp_path))
    assert main(["--config", config, "check"]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert main(["--config", str(tmp_path / "missing.yaml"), "check"]) == 2
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert "OK" in capsys.readouterr().out


def settled(*files: Path) -> None:
    """Written a minute ago: a config written in the last seconds is not kept (its file
    times could not tell a later edit from the text the rules were made from)."""
    for file in files:
        when = file.stat().st_mtime - 60
        os.utime(file, (when, when))


VALIDATION = (*HEAVY, "pydantic", "yaml", "newswatch.config.schema", "newswatch.config.load")


def test_match_reuses_the_watch_list_compiled_before(tmp_path: Path) -> None:
    """The second `match` on an unchanged config reads the rules the first compiled and
    does not validate again: no pydantic, no YAML; the same answer."""
    written = write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", tmp_path)
    settled(written)
    config = str(written)
    code, loaded, first = imports_of(
        "--config", config, "match", "Kosachev spoke.", heavy=VALIDATION
    )
    assert code == 0 and "pydantic" in loaded  # validated, then kept
    code, loaded, again = imports_of(
        "--config", config, "match", "Kosachev spoke.", heavy=VALIDATION
    )
    assert code == 0 and loaded == []
    assert again == first and "Konstantin Kosachev" in again


@pytest.mark.slow(seconds=5)
def test_a_changed_config_or_watch_list_is_validated_again(tmp_path: Path) -> None:
    """Whatever changed since the rules were kept (the config, a file it includes, a
    seed folder) counts: `match` answers and fails exactly as a full validation does."""
    seeds = tmp_path / "volume" / "seeds"
    seeds.mkdir(parents=True)
    listed = tmp_path / "more.yaml"
    listed.write_text("people:\n  - name: Ada Lovelace\n", encoding="utf-8")
    config = write_config(tmp_path, "sqlite:///nw.db", seeds)
    config.write_text(config.read_text().replace("watch:\n", "watch:\n  include: [more.yaml]\n"))
    settled(config, listed)
    args = ("--config", str(config), "match")
    assert "Ada Lovelace" in run_cli(*args, "Ada Lovelace spoke.").stdout
    listed.write_text("people:\n  - name: Augusta Ada King\n    aliases: [Lovelace]\n")
    settled(listed)  # as if edited long after: only its text tells the change
    assert "Augusta Ada King" in run_cli(*args, "Lovelace spoke.").stdout
    config.write_text(config.read_text().replace("Joe Biden", "Jill Biden"))
    assert "Jill Biden" in run_cli(*args, "Biden spoke.").stdout
    config.write_text(config.read_text() + "bogus_key: 1\n")
    failed = run_cli(*args, "Biden spoke.")
    assert failed.returncode == 2 and "bogus_key" in failed.stderr
    config.write_text(config.read_text().replace("bogus_key: 1\n", ""))
    settled(config)
    assert run_cli(*args, "Biden spoke.").returncode == 0  # kept, with the seed folder
    seeds.rmdir()
    seeds.parent.rmdir()  # the volume is gone: an error, the config file unchanged
    failed = run_cli(*args, "Biden spoke.")
    assert failed.returncode == 2 and f"seed folder {seeds} does not exist" in failed.stderr


WORKER_PROBE = """
import sys
from newswatch.cli import main  # what the `newswatch` console script runs first

if __name__ == "__main__":
    import json
    from newswatch.parsing.feedwork import FeedParsers
    from newswatch.match import compile_watches

    parsers = FeedParsers(compile_watches([], []), workers=2)
    try:
        pool = parsers._ensure_pool()
        print(json.dumps(pool.submit(eval, "sorted(__import__('sys').modules)").result()))
    finally:
        parsers.close()
"""


def test_a_parse_worker_loads_the_parse_path_only(tmp_path: Path) -> None:
    """A worker started under the console script does not import the store, the config
    schema, logging or the pipeline: it starts faster and stays smaller."""
    script = tmp_path / "newswatch"
    script.write_text(WORKER_PROBE)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "newswatch.sources.feeds" in loaded  # the probe ran in a real worker
    unwanted = ("sqlalchemy", "alembic", "prometheus_client", "pydantic", "structlog")
    unwanted += ("newswatch.config", "newswatch.store", "newswatch.pipeline")
    unwanted += ("newswatch.match.watchlist",)
    assert [name for name in loaded if name.startswith(unwanted)] == []


@pytest.mark.slow(seconds=7)
def test_ingest_loads_no_metrics_nor_httpx_command_line(tmp_path: Path) -> None:
    """A one-off `ingest` on an up-to-date database has no /metrics to serve, never runs
    httpx's command line nor a migration: it does not pay for prometheus_client, click,
    pygments or Alembic (issue 11)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "one.txt").write_text(
        " date 2024-11-14 https://example.org/one\n\nTitle\n\nKosachev spoke.\n", encoding="utf-8"
    )
    config = str(write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", seeds))
    assert run_cli("--config", config, "ingest").returncode == 0  # creates the database
    settled(Path(config))
    assert run_cli("--config", config, "ingest").returncode == 0  # validated, kept
    heavy = ("prometheus_client", "click", "pygments", "alembic", "sqlalchemy.dialects.postgresql")
    code, loaded, _ = imports_of("--config", config, "ingest", heavy=heavy + NOT_STEADY)
    assert code == 0
    assert loaded == []


BAD_SCHEMA = """\
database: sqlite:///nw.db
sources:
  seeds:
    - path: {seeds}
  feeds:
    - url: ftp://example.org/feed
  seed: []
schedule:
  interval: 0s
watch:
  people:
    - name: Ada Lovelace
      aliases: ["!!"]
  topics:
    - name: Peace
      query: 'ceasefire AND ('
alerts:
  - type: log
  - type: email
    to: [not-an-address]
    from: newswatch@example.org
    smtp: {{host: localhost, password: hunter2}}
"""

BAD_CHECKS = """\
database: sqlite:///nw.db
sources:
  seeds:
    - path: /nonexistent-parent/seeds
watch:
  include: [people.csv]
  people:
    - name: Ada Lovelace
      aliases: [Lovelace]
    - name: Ada Lovelace
  topics:
    - name: Peace
      query: 'NOT ceasefire'
alerts:
  - type: log
    watches: [Adaa*]
"""


def test_check_reports_every_error_as_before(tmp_path: Path) -> None:
    """What `check` prints for a bad config is unchanged by the start-up work (the
    expected lines are those of main before it): schema errors with "did you mean",
    term and query problems, a secret in the file, then, on a config the schema
    accepts, an unreadable CSV list, a missing seed folder, a name used twice, a query
    that only excludes, and a sink routed to no watch."""
    (tmp_path / "seeds").mkdir()
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_SCHEMA.format(seeds=tmp_path / "seeds"), encoding="utf-8")
    done = run_cli("--config", str(bad), "check")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{bad}:6: sources.feeds.0.url: 'ftp://example.org/feed' is not an http:// or https:// URL",
        f"{bad}:7: unknown key 'seed' in `sources` (did you mean 'seeds'?)",
        f"{bad}:9: schedule.interval: must be longer than zero",
        f"{bad}:13: 'Ada Lovelace': term '!!' has no letter or digit",
        f'{bad}:16: query of topic \'Peace\': expected a term, a "phrase" or "(" but found '
        "the end of the query at column 16: ceasefire AND (",
        f"{bad}:20: alerts.1.to.0: 'not-an-address' is not an email address; write it like "
        "alerts@example.org or 'Newsroom <alerts@example.org>'",
        f"{bad}:22: `password` must not be written in the file; use password_env: VARIABLE "
        "or password_file: PATH",
        "newswatch: 7 configuration error(s)",
    ]
    ingest = run_cli("--config", str(bad), "ingest")  # validated by a child (config/aside.py)
    assert (ingest.returncode, ingest.stdout, ingest.stderr) == (2, "", done.stderr)
    listed = tmp_path / "people.csv"
    listed.write_bytes(b"name,aliases\nGrace Hopper,Hopper\n\xff\xfe,bad\n")
    bad.write_text(BAD_CHECKS, encoding="utf-8")
    done = run_cli("--config", str(bad), "check")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{bad}:4: seed folder /nonexistent-parent/seeds does not exist, nor does "
        "/nonexistent-parent; fix the path or create the folder",
        f"{bad}:10: people name 'Ada Lovelace' is used twice; names must be unique",
        f"{bad}:13: query of topic 'Peace' only excludes terms, so it can never match; add "
        "a term that must appear",
        f"{bad}:16: alerts[0].watches: 'Adaa*' matches no watch; the watches are: "
        "Ada Lovelace, Ada Lovelace, Peace",
        f"{listed}:1: cannot read the watch list: 'utf-8' codec can't decode byte 0xff in "
        "position 33: invalid start byte",
        "newswatch: 5 configuration error(s)",
    ]


# What a pass that parses, matches and stores nothing does without (issue 11): the
# config's validation, the matcher, the parse path, documents, stories, alert texts
# and every sink but the log.
NOT_STEADY = (
    "pydantic",
    "yaml",
    "newswatch.config.schema",
    "newswatch.config.load",
    "newswatch.match.matcher",
    "newswatch.match.rules",
    "newswatch.match.scan",
    "ahocorasick",
    "newswatch.sources.feeds",
    "feedparser",
    "newswatch.store.documents",
    "newswatch.store.stories",
    "newswatch.dedup.signature",
    "numpy",
    "newswatch.alerts.render",
    "newswatch.alerts.email",
    "newswatch.alerts.smtpsend",
    "newswatch.alerts.webhook",
    "newswatch.alerts.chat",
    # nothing raised and nothing waiting: no sink is asked, the outbox stays unloaded
    "newswatch.alerts.outbox",
    "newswatch.store.alerts",
    "newswatch.alerts.status",
    # no parse workers: neither the process pool nor multiprocessing
    "concurrent.futures.process",
    "multiprocessing",
)


@pytest.mark.slow(seconds=4)
def test_a_steady_feed_pass_loads_neither_parsing_nor_matching(tmp_path: Path, server) -> None:
    """Every feed answers 304: nothing to parse, match, store or alert, and the config
    unchanged since the last pass: none of that code is loaded."""
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    body += b"<item><guid>1</guid><title>Kosachev spoke</title></item></channel></rss>"
    url = feedserver.set_route(server, "/steady.xml", feedserver.feed(body))
    config = tmp_path / "newswatch.yaml"
    config.write_text(
        f"database: sqlite:///{tmp_path}/nw.db\nsources:\n  feeds:\n    - url: {url}\n" + WATCHES
    )
    settled(config)
    assert run_cli("--config", str(config), "ingest").returncode == 0  # cold; config kept
    args = ("--config", str(config), "--log-format", "json", "ingest")
    code, loaded, _ = imports_of(*args, heavy=(*NOT_STEADY, "newswatch.pipeline.seeds"))
    assert code == 0
    assert loaded == []
    assert server.seen[-1].headers.get("if-none-match")  # it was a conditional GET


# The feed path fetches on urllib3 in threads (issue 11): httpx, with httpcore and
# anyio, cost a fifth of a steady pass and twice urllib3's CPU per request. (asyncio is
# still loaded, by structlog's stdlib and native loggers.)
ASYNC_HTTP = ("httpx", "httpcore", "anyio", "sniffio", "h11")


@pytest.mark.slow(seconds=4)
def test_a_steady_feed_pass_loads_no_httpx_nor_anyio(tmp_path: Path, server) -> None:
    """Feeds on two hosts, one of them redirected: a cold pass, then a steady one of
    conditional GETs, neither with httpx nor anyio in the process."""
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    body += b"<item><guid>1</guid><title>Kosachev spoke</title></item></channel></rss>"
    url = feedserver.set_route(server, "/fetched.xml", feedserver.feed(body))
    moved = feedserver.set_route(server, "/moved.xml", feedserver.redirect(302, url))
    config = tmp_path / "newswatch.yaml"
    feeds = f"    - url: {url}\n    - url: {moved.replace('127.0.0.1', 'localhost')}\n"
    config.write_text(
        f"database: sqlite:///{tmp_path}/nw.db\nsources:\n  feeds:\n{feeds}" + WATCHES
    )
    settled(config)
    code, loaded, out = imports_of("--config", str(config), "ingest", heavy=ASYNC_HTTP)
    assert code == 0 and "Kosachev spoke" in out  # cold: fetched, stored, alerted
    assert loaded == []
    seen = len(server.seen)
    args = ("--config", str(config), "--log-format", "json", "ingest")
    code, loaded, out = imports_of(*args, heavy=ASYNC_HTTP)
    assert code == 0 and out == ""
    assert loaded == []
    assert all(s.headers.get("if-none-match") for s in server.seen[seen:])  # conditional


def _kosachev_feed(server, items: int) -> str:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    for n in range(1, items + 1):
        body += f"<item><guid>{n}</guid><title>Kosachev spoke {n}</title></item>".encode()
    body += b"</channel></rss>"
    return feedserver.set_route(server, "/steady.xml", feedserver.feed(body))


@pytest.mark.slow(seconds=4)
def test_after_a_steady_pass_a_new_entry_is_stored_and_alerted(tmp_path: Path, server) -> None:
    """The outbox left unloaded on a pass of 304s is there for the next body: its new
    entry is stored and its alert delivered (issue 11)."""
    url = _kosachev_feed(server, 1)
    config = tmp_path / "newswatch.yaml"
    config.write_text(
        f"database: sqlite:///{tmp_path}/nw.db\nsources:\n  feeds:\n    - url: {url}\n" + WATCHES
    )
    settled(config)
    cold = run_cli("--config", str(config), "ingest")
    assert cold.returncode == 0, cold.stderr
    assert "Kosachev spoke 1" in cold.stdout
    steady = run_cli("--config", str(config), "--log-format", "json", "ingest")
    assert steady.returncode == 0, steady.stderr
    assert steady.stdout == ""  # nothing new, nothing sent again
    assert '"status": "not_modified"' in steady.stderr
    _kosachev_feed(server, 2)  # a new entry: a new body and ETag
    later = run_cli("--config", str(config), "ingest")
    assert later.returncode == 0, later.stderr
    assert "Kosachev spoke 2" in later.stdout and "Kosachev spoke 1" not in later.stdout


@pytest.mark.slow(seconds=4)
def test_a_steady_pass_delivers_the_alerts_an_earlier_pass_could_not(
    tmp_path: Path, server
) -> None:
    """A pass of 304s raises nothing but still delivers what waits from before (here the
    alert a pass writing to a full disk could not print)."""
    url = _kosachev_feed(server, 1)
    config = tmp_path / "newswatch.yaml"
    config.write_text(
        f"database: sqlite:///{tmp_path}/nw.db\nsources:\n  feeds:\n    - url: {url}\n" + WATCHES
    )
    settled(config)
    with open("/dev/full", "w") as full:
        cold = subprocess.run(
            [sys.executable, "-m", "newswatch", "--config", str(config), "ingest"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            timeout=60,
        )
    assert cold.returncode == 1
    assert "1 alert(s) not delivered to log" in cold.stderr
    steady = run_cli("--config", str(config), "--log-format", "json", "ingest")
    assert steady.returncode == 0, steady.stderr
    assert '"status": "not_modified"' in steady.stderr
    assert "Kosachev spoke 1" in steady.stdout
    again = run_cli("--config", str(config), "ingest")
    assert again.returncode == 0 and again.stdout == ""  # delivered once
