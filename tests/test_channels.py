"""The webhook and apprise sinks against a real HTTP receiver on 127.0.0.1.

Webhook: signed POSTs the receiver verifies, 500 then 200 retried once after the
back-off, a 400 dead-lettered and listed by `newswatch outbox`, a receiver that
is down. Apprise (through its `json://` scheme to the same receiver): one
notification per document, a one-line title, tokens never printed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from helpers import alert, migrated_sqlite, run_cli, seed_text, write_config
from hookserver import HANG, HookServer, Post
from newswatch.alerts.chat import notes, read_urls, redact
from newswatch.alerts.mailtext import article_plain
from newswatch.alerts.outbox import deliver_pending
from newswatch.alerts.render import Article
from newswatch.alerts.safetext import clean_line, markdown_link, markdown_text, safe_link
from newswatch.alerts.sink import Announcing
from newswatch.cli import main
from newswatch.config import Config, load_config
from newswatch.config.schema import AppriseAlert
from newswatch.match.watchlist import compile_config
from newswatch.ops.feedhealth import Notice
from newswatch.pipeline import Pipeline
from newswatch.sinks import build_sinks
from newswatch.store.db import open_database

SECRET = "s3cr3t-webhook-key"
TOKEN = "XoXb7777TOKENnever"


pytestmark = pytest.mark.usefixtures("json_logs")


@pytest.fixture
def receiver() -> Iterator[HookServer]:
    server = HookServer().start()
    yield server
    server.stop()


def newsroom(
    tmp_path: Path, alerts: str, stories: dict[str, tuple[str, str]], database: str = ""
) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    for name, (title, body) in stories.items():
        (seeds / f"{name}.txt").write_text(seed_text(title, body, f"https://x.org/{name}"))
    return write_config(tmp_path, database or migrated_sqlite(tmp_path / "nw.db"), seeds, alerts)


def cli(config: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--config", str(config), "--log-format", "json", *args])
    out, err = capsys.readouterr()
    return code, out, err


def webhook_yaml(url: str, secret_file: Path | None = None) -> str:
    secret = f"\n    secret_file: {secret_file}" if secret_file else ""
    return f"""
alerts:
  - type: webhook
    name: desk
    url: {url}/hooks/T0K3N-in-path?key=q-token
    timeout: 5s{secret}
"""


def verified(post: Post, secret: str) -> bool:
    """What a receiver does: HMAC-SHA256 of `<timestamp>.<raw body>`, compared in constant time."""
    timestamp = post.headers["X-Newswatch-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + post.body, hashlib.sha256)
    return hmac.compare_digest(
        post.headers["X-Newswatch-Signature"], "sha256=" + expected.hexdigest()
    )


def test_webhook_posts_each_alert_signed_as_its_log_record(
    tmp_path: Path, receiver: HookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET + "\n")
    stories = {"a": ("NATO summit", "NATO allies met. Kosachev spoke."), "b": ("Calm", "NATO.")}
    config = newsroom(tmp_path, webhook_yaml(receiver.url, secret_file), stories)

    code, _out, err = cli(config, "ingest", capsys=capsys)

    assert code == 0, err
    assert len(receiver.posts) == 3, "one POST per alert (a: NATO and Kosachev; b: NATO)"
    assert len(receiver.connections) == 1, "one reused connection"
    for post in receiver.posts:
        assert post.path == "/hooks/T0K3N-in-path?key=q-token"
        assert verified(post, SECRET)
        assert not verified(post, "another secret")
        record = post.json()
        assert record["event"] == "alert" and record["alert_id"] > 0
        assert post.headers["X-Newswatch-Alert-Id"] == str(record["alert_id"])
        assert set(record) >= {"watch", "kind", "title", "url", "snippet", "story", "timestamp"}
    watches = sorted((p.json()["title"], p.json()["watch"]) for p in receiver.posts)
    assert watches == [
        ("Calm", "NATO"),
        ("NATO summit", "Konstantin Kosachev"),
        ("NATO summit", "NATO"),
    ]
    assert "T0K3N" not in err and "q-token" not in err and SECRET not in err

    code, _out, _err = cli(config, "ingest", capsys=capsys)
    assert code == 0 and len(receiver.posts) == 3, "nothing is posted twice"


def test_webhook_500_then_200_is_retried_once_after_the_back_off(
    tmp_path: Path, receiver: HookServer, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stories = {"a": ("Summit", "NATO allies met.")}
    config = newsroom(tmp_path, webhook_yaml(receiver.url), stories, database_url)
    path = load_config(config)
    receiver.answers.extend([500])
    engine = open_database(path.database)
    start = datetime.now(UTC)
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 1 and "500 Internal Server Error" in err
    assert len(receiver.posts) == 1

    def deliver(now: datetime) -> int:
        return deliver_pending(engine, build_sinks(load_config(config)), now).sent

    assert deliver(start + timedelta(seconds=20)) == 0, "the back-off is not over"
    assert len(receiver.posts) == 1
    assert deliver(start + timedelta(minutes=5)) == 1
    assert deliver(start + timedelta(minutes=60)) == 0
    engine.dispose()
    assert len(receiver.posts) == 2, "posted twice: the 500, then the 200"
    assert receiver.posts[0].json()["alert_id"] == receiver.posts[1].json()["alert_id"]
    code, out, _err = cli(config, "outbox", capsys=capsys)
    assert "webhook:desk: 0 pending (0 retrying), 0 dead-lettered" in out


def test_webhook_400_is_dead_lettered_and_shown_by_outbox(
    tmp_path: Path, receiver: HookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    stories = {"a": ("Refused", "NATO allies met."), "b": ("Taken", "NATO again.")}
    config = newsroom(tmp_path, webhook_yaml(receiver.url), stories)
    receiver.answers.extend([400])
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 1
    assert "1 alert(s) refused for good (dead-lettered)" in err
    assert len(receiver.posts) == 2, "the other alert went through"

    code, out, _err = cli(config, "outbox", capsys=capsys)
    assert "webhook:desk: 0 pending (0 retrying), 1 dead-lettered" in out
    dead = receiver.posts[0].json()["title"]
    assert f"— {dead}: webhook http://127.0.0.1:{receiver.port} answered 400 Bad Request" in out
    assert "go away X-Forged: header" in out, "the receiver's answer on one line"
    assert "T0K3N" not in out and "q-token" not in out

    code, out, _err = cli(config, "deliver", "--dead", capsys=capsys)
    assert code == 0 and len(receiver.posts) == 3
    assert "webhook:desk: 0 pending (0 retrying), 0 dead-lettered" in out


def test_a_receiver_that_is_down_keeps_alerts_pending_until_it_is_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stories = {name: (f"Story {name}", "NATO allies met.") for name in "abc"}
    config = newsroom(tmp_path, webhook_yaml(f"http://127.0.0.1:{port}"), stories)
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 1
    assert f"webhook http://127.0.0.1:{port}: cannot connect" in err
    assert "3 alert(s) not delivered to webhook:desk" in err
    assert "T0K3N" not in err

    receiver = HookServer()
    receiver.start()
    try:
        text = config.read_text().replace(f"127.0.0.1:{port}", f"127.0.0.1:{receiver.port}")
        config.write_text(text)
        code, _out, err = cli(config, "deliver", capsys=capsys)
        assert code == 0, err
        assert sorted(p.json()["title"] for p in receiver.posts) == [
            "Story a",
            "Story b",
            "Story c",
        ]
    finally:
        receiver.stop()


def test_a_receiver_that_never_answers_is_bounded_by_the_timeout(
    tmp_path: Path, receiver: HookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    stories = {name: (f"Story {name}", "NATO allies met.") for name in "abc"}
    config = newsroom(tmp_path, webhook_yaml(receiver.url).replace("5s", "1s"), stories)
    receiver.answers.extend([HANG, HANG])
    code, _out, err = cli(config, "ingest", capsys=capsys)
    receiver.released.set()
    assert code == 1
    assert "no answer in time (ReadTimeout)" in err
    assert "2 alerts in a row refused for now, backing off" in err
    assert len(receiver.posts) == 2, "two tries, then the sink backs off"
    code, out, _err = cli(config, "outbox", capsys=capsys)
    assert "webhook:desk: 3 pending (3 retrying), 0 dead-lettered" in out


# --- apprise -------------------------------------------------------------------------


def apprise_yaml(urls_file: Path) -> str:
    return f"""
alerts:
  - type: log
  - type: apprise
    name: team
    urls_file: {urls_file}
"""


def test_apprise_sends_one_notification_per_document(
    tmp_path: Path, receiver: HookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = tmp_path / "apprise.urls"
    urls.write_text(f"# the team's chat\njson://127.0.0.1:{receiver.port}/{TOKEN}\n")
    stories = {
        "a": ("Talks in Moscow", "Kosachev said NATO *must* <b>stop</b> expanding."),
        "b": ("Quiet day", "Putin stayed home."),
    }
    config = newsroom(tmp_path, apprise_yaml(urls), stories)
    code, out, err = cli(config, "ingest", capsys=capsys)
    assert code == 0, err
    assert len([line for line in out.splitlines() if '"event": "alert"' in line]) == 3

    assert len(receiver.posts) == 2, "one notification per document, not per watch"
    assert {p.path for p in receiver.posts} == {f"/{TOKEN}"}
    notes = {p.json()["title"]: p.json()["message"] for p in receiver.posts}
    message = notes["Talks in Moscow"]
    assert "Konstantin Kosachev (person: Kosachev)" in message and "NATO (topic: NATO)" in message
    assert "[Read the article](https://x.org/a)" in message
    assert "**Source:** x.org · " in message and str(tmp_path) not in message
    assert "\\*must\\*" in message and "\\<b\\>" in message, "feed text cannot format"
    assert "**Kosachev**" in message and "**NATO**" in message, "matched terms in bold"
    assert "Vladimir Putin (person: Putin)" in notes["Quiet day"]
    assert TOKEN not in err and TOKEN not in out

    code, _out, _err = cli(config, "ingest", capsys=capsys)
    assert code == 0 and len(receiver.posts) == 2, "nothing is sent twice"


def test_apprise_titles_are_one_line_and_links_only_http(receiver: HookServer) -> None:
    config = Config.model_validate(
        {"alerts": [{"type": "apprise", "urls_env": "NEWSWATCH_TEST_URLS"}]}
    )
    [sink] = build_sinks(config)
    hostile = alert(
        1,
        title="NATO\r\nBcc: forged\x1b[31m \u202eevil",
        url="javascript:alert(1)",
        source="Evil [outlet](https://evil.example)",
        published=None,
        snippet="# Heading\n- list [link](javascript:x) ![img](http://x/i.png)",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEWSWATCH_TEST_URLS", f"json://127.0.0.1:{receiver.port}/{TOKEN}")
        outcomes = list(sink.deliver([hostile]))
    assert [o.result for o in outcomes] == ["sent"]
    note = receiver.posts[0].json()
    assert note["title"] == "NATO Bcc: forged [31m evil"
    message = note["message"]
    assert "javascript" not in message.split("(no web link)")[0].split("> ")[0]
    assert "](javascript" not in message and "![img]" not in message
    assert "(no web link)" in message
    assert "\\# Heading - list \\[link\\]\\(javascript:x\\)" in message
    assert "Evil \\[outlet\\]\\(https://evil.example\\)" in message


def test_a_notification_shows_what_the_email_about_it_shows() -> None:
    """Same grouping, source, snippets and highlighted terms as the e-mail (render.py)."""
    seed = alert(
        1,
        title="NATO summit opens",
        url="https://www.herald.example/n1",
        source="/srv/newswatch/seeds",
        origin="seed:/srv/newswatch/seeds",
        snippet="… allies said «NATO» must grow; NATO members agreed …",
    )
    repeats_title = replace(
        seed, watch="Summit", matched=("summit",), snippet="NATO «summit» opens", id=2
    )
    other = replace(seed, document_id=6, id=3)
    first, second = notes([seed, other, repeats_title])
    assert first.alert_ids == (1, 2), "one notification per document, every watch in it"
    assert second.alert_ids == (3,)
    assert "NATO (topic: NATO) · Summit (topic: summit)" in first.body
    assert "**Source:** herald.example · 2024-11-14 09:30 UTC" in first.body
    assert "/srv" not in first.body, "a seed shows its publisher's host, never a path"
    assert "> … allies said **NATO** must grow; **NATO** members agreed …" in first.body
    assert "«" not in first.body and "»" not in first.body
    assert first.body.count("> ") == 1, "no snippet that merely repeats the title"
    plain = article_plain(Article((seed, repeats_title)))
    assert "Source:    herald.example" in plain
    assert "*NATO* must grow; *NATO* members" in plain


def test_apprise_failure_waits_and_never_prints_the_token(
    tmp_path: Path, receiver: HookServer, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = tmp_path / "apprise.urls"
    urls.write_text(f"json://127.0.0.1:{receiver.port}/{TOKEN}\n")
    receiver.answers.extend([503])
    config = newsroom(tmp_path, apprise_yaml(urls), {"a": ("Summit", "NATO allies met.")})
    code, _out, err = cli(config, "ingest", capsys=capsys)
    assert code == 1
    assert "json:// (line 1 of" in err and "failed" in err
    assert TOKEN not in err
    code, out, err = cli(config, "outbox", "--json", capsys=capsys)
    [status] = [json.loads(line) for line in out.splitlines() if '"apprise:team"' in line]
    assert status["pending"] == 1
    assert TOKEN not in out

    code, out, err = cli(config, "deliver", capsys=capsys)
    assert code == 0, err
    assert len(receiver.posts) == 2, "the failed one, then the one that went through"


def test_check_refuses_missing_or_unusable_urls_without_printing_them(tmp_path: Path) -> None:
    urls = tmp_path / "apprise.urls"
    urls.write_text(f"json://127.0.0.1:9/{TOKEN}\nnosuchservice://{TOKEN}/x\n")
    config = newsroom(
        tmp_path,
        f"""
alerts:
  - type: apprise
    urls_file: {urls}
  - type: apprise
    urls_env: NEWSWATCH_TEST_UNSET_URLS
  - type: webhook
    url: http://127.0.0.1:9/x
    secret_env: NEWSWATCH_TEST_UNSET_SECRET
""",
        {},
    )
    result = run_cli("--config", str(config), "check")
    assert result.returncode == 2
    assert f"apprise cannot use the URL nosuchservice:// (line 2 of {urls})" in result.stderr
    assert "NEWSWATCH_TEST_UNSET_URLS is not set or empty" in result.stderr
    assert "NEWSWATCH_TEST_UNSET_SECRET is not set or empty" in result.stderr
    assert "3 configuration error(s)" in result.stderr
    assert TOKEN not in result.stderr + result.stdout

    urls.write_text(f"json://127.0.0.1:9/{TOKEN}\n")
    config.write_text(
        config.read_text().replace(
            "urls_env: NEWSWATCH_TEST_UNSET_URLS\n", "urls_file: " + str(urls) + "\n"
        )
    )
    config.write_text(
        config.read_text().replace("    secret_env: NEWSWATCH_TEST_UNSET_SECRET\n", "")
    )
    result = run_cli("--config", str(config), "check")
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_urls_in_the_file_itself_are_refused(tmp_path: Path) -> None:
    config = newsroom(
        tmp_path,
        f"""
alerts:
  - type: apprise
    urls: [tgram://{TOKEN}/123]
""",
        {},
    )
    result = run_cli("--config", str(config), "check")
    assert result.returncode == 2
    assert "`urls` must not be written in the file; use urls_env" in result.stderr


def test_help_and_check_of_other_sinks_do_not_import_apprise() -> None:
    probe = (
        "import sys\n"
        "from newswatch.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('apprise' in sys.modules)\n"
    )
    result = run_cli("--version")
    assert result.returncode == 0
    imported = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert imported.stdout.strip().endswith("False"), imported.stderr


def test_feed_health_notices_go_to_a_webhook_signed(
    receiver: HookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_TEST_SECRET", SECRET)
    config = Config.model_validate(
        {
            "alerts": [
                {"type": "webhook", "url": receiver.url, "secret_env": "NEWSWATCH_TEST_SECRET"}
            ]
        }
    )
    [sink] = build_sinks(config)
    assert isinstance(sink, Announcing)
    since = datetime(2024, 11, 14, tzinfo=UTC)
    sink.announce(Notice("failing", "World", "https://x.org/rss", since, "HTTP 500"))
    [post] = receiver.posts
    assert verified(post, SECRET)
    assert post.json()["event"] == "feed_health" and post.json()["state"] == "failing"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "apprise"}, "exactly one of `urls_env: VARIABLE` or `urls_file: PATH`"),
        (
            {"type": "apprise", "urls_env": "A", "urls_file": "/x"},
            "exactly one of `urls_env: VARIABLE` or `urls_file: PATH`",
        ),
        ({"type": "webhook", "url": "ftp://x.org/"}, "must be an http:// or https:// URL"),
        (
            {"type": "webhook", "url": "https://x.org/", "secret_env": "A", "secret_file": "/x"},
            "give `secret_env` or `secret_file`, not both",
        ),
    ],
)
def test_sink_entries_are_validated(entry: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Config.model_validate({"alerts": [entry]})


def test_a_service_that_failed_is_retried_alone(tmp_path: Path, receiver: HookServer) -> None:
    other = HookServer().start()
    try:
        urls = tmp_path / "apprise.urls"
        urls.write_text(
            f"json://127.0.0.1:{receiver.port}/{TOKEN}\njson://127.0.0.1:{other.port}/{TOKEN}\n"
        )
        other.answers.extend([502])
        config = newsroom(tmp_path, apprise_yaml(urls), {"a": ("Summit", "NATO allies met.")})
        loaded = load_config(config)
        engine = open_database(loaded.database)
        sinks = build_sinks(loaded)  # the daemon keeps its sinks between rounds
        start = datetime.now(UTC)
        pipeline = Pipeline(engine, compile_config(loaded), sinks, clock=lambda: start)
        pipeline.wake_delivery = lambda: None  # delivered below, round by round
        pipeline.refresh_seeds(loaded.sources.seeds[0])
        first = deliver_pending(engine, sinks, start)
        assert (first.sent, first.later) == (1, 1), "the log sink took it, apprise waits"
        assert (len(receiver.posts), len(other.posts)) == (1, 1)
        again = deliver_pending(engine, sinks, start + timedelta(minutes=5))
        engine.dispose()
        assert again.sent == 1
        assert (len(receiver.posts), len(other.posts)) == (1, 2), "the first service got it once"
    finally:
        other.stop()


def test_feed_text_is_made_safe_for_every_channel() -> None:
    assert clean_line("Breaking\r\nBcc: x\u202e\t  now\x00") == "Breaking Bcc: x now"
    assert clean_line("N\u200bA\u200fTO \u2066x\u2069") == "N A TO x", "zero-width and bidi"
    assert clean_line("a" * 300, 250) == "a" * 249 + "…"
    assert safe_link("javascript:alert(1)") is None
    assert safe_link("data:text/html,x") is None
    assert safe_link("https://x.org/\nforged") is None
    assert safe_link("https://x.org/a b") is None, "a URL with a space is shown, never linked"
    assert safe_link("https://x.org/a)(c") == "https://x.org/a)(c", "e-mail keeps the URL as is"
    assert markdown_link("https://x.org/a)(c<d>") == "https://x.org/a%29%28c%3Cd%3E"
    assert markdown_link("javascript:alert(1)") is None
    assert markdown_text("*bold* [a](b) <i> #tag") == r"\*bold\* \[a\]\(b\) \<i\> \#tag"
    assert markdown_text("- not a list") == r"\- not a list"
    assert markdown_text("1. not a list") == r"1\. not a list"


def test_urls_from_a_variable_and_masked_in_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_TEST_URLS", f" tgram://{TOKEN}/42, ntfy://host/topic\n")
    entry = AppriseAlert(type="apprise", urls_env="NEWSWATCH_TEST_URLS")
    urls = read_urls(entry)
    assert [u.url for u in urls] == [f"tgram://{TOKEN}/42", "ntfy://host/topic"]
    assert urls[0].label == "tgram:// (URL 1 in $NEWSWATCH_TEST_URLS)"
    said = redact(f"sending to https://api.telegram.org/bot{TOKEN}/send failed", [urls[0].url])
    assert TOKEN not in said and "failed" in said
