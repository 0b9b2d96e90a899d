"""What alert e-mails say, received by a real SMTP server (aiosmtpd on 127.0.0.1).

One message per document naming every watch, highlighted terms, snippets that
do not repeat the title, seed sources shown as the publisher's host, threads
per story, digests in a time zone, and hostile feed text rendered harmless.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from helpers import alert_records, migrated_sqlite, seed_text
from newswatch.alerts.digest import DigestSchedule
from newswatch.alerts.mailtext import article_plain
from newswatch.alerts.outbox import deliver_pending
from newswatch.alerts.render import (
    Article,
    highlight,
    snippet_for,
    source_label,
    watch_names,
)
from newswatch.alerts.sink import Sink
from newswatch.cli import main
from newswatch.config import Config, load_config
from newswatch.config.zones import system_zone
from newswatch.match.watchlist import compile_config
from newswatch.model import Hit, Outlet, Story
from newswatch.pipeline import Pipeline
from newswatch.sinks import build_sinks
from newswatch.store.db import open_database
from newswatch.store.deliveries import whole_documents
from smtpserver import HOST, SmtpServer
from storypairs import COUNCIL, with_footer
from test_email import alert, email_sink, send

WATCHES = """\
watch:
  people:
    - name: Konstantin Kosachev
      aliases: [Kosachev]
    - name: Elena Varga
      aliases: [Varga]
  topics:
    - name: NATO
      any: [NATO]
    - name: Ukraine ceasefire
      all: [Ukraine]
      any: [ceasefire, peace deal]
    - name: China
      any: [China]
    - name: Harbour strike
      all: [strike]
      any: [harbour, port]
"""


def newsroom(
    tmp_path: Path, port: int, sink: str = "", named: bool = True, database: str = ""
) -> Path:
    """A config with a seed folder (unnamed: `named=False`) and one e-mail sink."""
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    name = "      name: wire\n" if named else ""
    path = tmp_path / "newswatch.yaml"
    path.write_text(
        f"database: {database or migrated_sqlite(tmp_path / 'nw.db')}\n"
        f"sources:\n  seeds:\n    - path: {seeds}\n{name}"
        f"{WATCHES}alerts:\n  - type: log\n  - type: email\n    name: Desk\n"
        "    to: [desk@example.org]\n    from: newswatch@example.org\n"
        f"    smtp: {{host: {HOST}, port: {port}, timeout: 30s}}\n    timezone: UTC\n{sink}",
        encoding="utf-8",
    )
    return path


def seed(
    tmp_path: Path, name: str, title: str, body: str, url: str, day: str = "2024-11-14"
) -> None:
    (tmp_path / "seeds" / f"{name}.txt").write_text(seed_text(title, body, url, day))


def ingest(config: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code = main(["--config", str(config), "--log-format", "json", "ingest"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return alert_records(out)


KOSACHEV_BODY = (
    "Senators met in Moscow on Monday. Konstantin Kosachev said NATO expansion and a "
    "Ukraine peace deal were linked, and that talks would go on."
)


def test_one_document_matching_three_watches_is_one_message_naming_all_three(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = newsroom(tmp_path, smtp.port)
    seed(tmp_path, "a", "Kosachev on the alliance", KOSACHEV_BODY, "https://www.wire.example/a")
    records = ingest(config, capsys)
    assert {r["watch"] for r in records} == {"Konstantin Kosachev", "NATO", "Ukraine ceasefire"}
    [mail] = smtp.received
    names = "Konstantin Kosachev, NATO, Ukraine ceasefire"
    assert mail.subject == f"[newswatch] {names}: Kosachev on the alliance"
    assert mail.message["List-Id"] == "<desk.newswatch.example.org>"
    text, rich = mail.text(), mail.html()
    for heading in ["Konstantin Kosachev (person)", "NATO (topic)", "Ukraine ceasefire (topic)"]:
        assert f"Watch:     {heading}" in text and f"<h3>{heading}</h3>" in rich
    assert "*Konstantin Kosachev* said" in text and "<mark>Konstantin Kosachev</mark>" in rich
    assert "said *NATO* expansion" in text and "said <mark>NATO</mark> expansion" in rich
    assert "a *Ukraine* *peace deal* were" in text
    assert "<mark>Ukraine</mark> <mark>peace deal</mark>" in rich
    assert "Source:    wire.example" in text, "a seed's source: the publisher's host"
    assert "«" not in text + rich


def test_a_long_list_of_watches_is_shortened_in_the_subject() -> None:
    assert watch_names(["Konstantin Kosachev", "NATO"]) == "Konstantin Kosachev, NATO"
    five = ["Konstantin Kosachev", "NATO", "Ukraine ceasefire", "China", "Iran"]
    assert watch_names(five) == "Konstantin Kosachev, NATO, Ukraine ceasefire +2 more"
    assert watch_names(["A" * 80, "B"]) == "A" * 80 + " +1 more"


def test_the_snippet_never_merely_repeats_the_title(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = newsroom(tmp_path, smtp.port)
    opening = "Trade ministers met in Geneva on Tuesday to discuss tariffs on steel."
    seed(tmp_path, "a", "China and the tariffs", opening, "https://wire.example/a")
    body = f"{opening} Later, Kosachev spoke to reporters about NATO."
    seed(tmp_path, "b", "Kosachev speaks", body, "https://wire.example/b")
    records = ingest(config, capsys)
    china = next(r for r in records if r["watch"] == "China")
    assert china["snippet"] == opening, "only the title names it: the body's opening"
    kosachev = next(r for r in records if r["watch"] == "Konstantin Kosachev")
    assert "Later, «Kosachev» spoke" in kosachev["snippet"], "around the mention in the body"
    mails = {m.subject: m for m in smtp.received}
    china_mail = mails["[newswatch] China: China and the tariffs"]
    assert china_mail.text().count("China and the tariffs") == 1
    assert opening in china_mail.text()
    assert (
        "*Kosachev* spoke" in mails["[newswatch] Konstantin Kosachev, NATO: Kosachev speaks"].text()
    )


def test_an_old_snippet_that_repeats_the_title_is_left_out() -> None:
    old = alert(1, title="NATO meets in Brussels", snippet="«NATO» meets in Brussels")
    text = article_plain(Article((old,)))
    assert text.count("NATO meets in Brussels") == 1


def test_the_source_of_a_seed_file_is_its_publisher_never_a_path(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = newsroom(tmp_path, smtp.port, named=False)
    seed(tmp_path, "a", "NATO meets", "NATO met in Brussels.", "https://www.gazette.example/n/1")
    [record] = ingest(config, capsys)
    assert record["source"] == str(tmp_path / "seeds"), "the stored source is the folder's path"
    [mail] = smtp.received
    assert "Source:    gazette.example" in mail.text()
    assert str(tmp_path) not in mail.text() + mail.html()


def test_source_labels() -> None:
    seed_origin = "seed:/srv/newswatch/seeds"
    assert (
        source_label("/srv/newswatch/seeds", seed_origin, "https://www.a.example/x") == "a.example"
    )
    assert source_label("/srv/newswatch/seeds", seed_origin, None) == "seeds"
    assert source_label("archive", seed_origin, "javascript:alert(1)") == "archive"
    assert source_label("Herald", "https://herald.example/rss", "https://x.example/") == "Herald"
    # rows stored before documents had an origin: a path still never shows
    assert source_label("/srv/seeds", None, "https://b.example/") == "b.example"
    assert source_label("Herald\r\nBcc: x", "https://herald.example/rss", None) == "Herald Bcc: x"


def test_a_later_message_on_the_same_story_threads_under_the_first(
    tmp_path: Path, database_url: str, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = newsroom(tmp_path, smtp.port, database=database_url)
    seed(
        tmp_path, "herald", "Council approves rail yard plan", COUNCIL, "https://herald.example/c1"
    )
    [first_alert] = ingest(config, capsys)
    assert first_alert["watch"] == "Elena Varga"
    copy = with_footer(COUNCIL) + "\n\nDock workers warned of a harbour strike over the yard."
    seed(tmp_path, "gazette", "Varga wins rail yard vote", copy, "https://gazette.example/g1")
    [second_alert] = ingest(config, capsys)
    assert second_alert["watch"] == "Harbour strike", "Varga already alerted on this story"
    assert second_alert["story"]["id"] == first_alert["document_id"]

    first, second = smtp.received
    root = first.message["Message-ID"]
    assert first.message["In-Reply-To"] is None
    assert second.message["In-Reply-To"] == root and second.message["References"] == root
    assert second.message["Message-ID"] != root
    assert "Also in:   herald.example <https://herald.example/c1>" in second.text()
    assert '<a href="https://herald.example/c1">herald.example</a>' in second.html()


def test_a_digest_at_seven_in_new_york_goes_out_at_noon_utc_in_winter(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = newsroom(tmp_path, smtp.port, '    mode: digest\n    at: "07:00"\n')
    path.write_text(path.read_text().replace("timezone: UTC", "timezone: America/New_York"))
    seed(tmp_path, "a", "NATO summit", "NATO allies met.", "https://x.example/a")
    config = load_config(path)
    engine = open_database(config.database)
    created = datetime(2024, 11, 14, 11, 30, tzinfo=UTC)  # 06:30 in New York
    pipeline = Pipeline(engine, compile_config(config), build_sinks(config), clock=lambda: created)
    pipeline.refresh_seeds(config.sources.seeds[0])

    def deliver(now: datetime) -> int:
        return deliver_pending(engine, build_sinks(load_config(path)), now).sent

    assert deliver(datetime(2024, 11, 14, 7, 0, 1, tzinfo=UTC)) == 0, "07:00 UTC is not 07:00 NY"
    assert deliver(datetime(2024, 11, 14, 11, 59, 59, tzinfo=UTC)) == 0
    assert smtp.received == []
    assert deliver(datetime(2024, 11, 14, 12, 0, 1, tzinfo=UTC)) == 1
    assert deliver(datetime(2024, 11, 15, 12, 0, 1, tzinfo=UTC)) == 0, "nothing: nothing sent"
    engine.dispose()
    [mail] = smtp.received
    assert "Published: 2024-11-13 19:00 EST" in mail.text(), "times in the sink's zone"


def test_digest_boundaries_follow_the_wall_clock_across_daylight_saving() -> None:
    new_york = ZoneInfo("America/New_York")
    at_seven = DigestSchedule.from_config(None, "07:00", new_york)
    utc = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    assert at_seven.last_boundary(utc(2024, 7, 1, 12)) == utc(2024, 7, 1, 11)  # EDT
    assert at_seven.last_boundary(utc(2024, 12, 1, 12)) == utc(2024, 12, 1, 12)  # EST
    # spring forward (2024-03-10) and fall back (2024-11-03): one boundary each day
    assert at_seven.last_boundary(utc(2024, 3, 10, 11, 30)) == utc(2024, 3, 10, 11)
    assert at_seven.last_boundary(utc(2024, 3, 10, 10, 59)) == utc(2024, 3, 9, 12)
    assert at_seven.last_boundary(utc(2024, 11, 3, 11, 59)) == utc(2024, 11, 2, 11)
    assert at_seven.last_boundary(utc(2024, 11, 3, 12)) == utc(2024, 11, 3, 12)
    skipped = DigestSchedule.from_config(None, "02:30", new_york)  # no 02:30 on 2024-03-10
    assert skipped.last_boundary(utc(2024, 3, 10, 8)) == utc(2024, 3, 10, 7, 30)  # 03:30 EDT
    twice = DigestSchedule.from_config(None, "01:30", new_york)  # twice on 2024-11-03
    assert twice.last_boundary(utc(2024, 11, 3, 6, 45)) == utc(2024, 11, 3, 5, 30)  # the first
    # an hourly ready check over the two change days sends once per day
    for day in (datetime(2024, 3, 9, tzinfo=UTC), datetime(2024, 11, 2, tzinfo=UTC)):
        hours = [day + timedelta(hours=h) for h in range(72)]
        sent, oldest = 0, day
        for now in hours:
            if at_seven.ready(oldest, now):
                sent, oldest = sent + 1, now
        assert sent == 3


def test_a_timezone_must_be_an_iana_name() -> None:
    entry = {"type": "email", "to": ["a@example.org"], "from": "n@example.org"}
    Config.model_validate({"alerts": [{**entry, "timezone": "Asia/Kolkata"}]})
    with pytest.raises(ValidationError) as caught:
        Config.model_validate({"alerts": [{**entry, "timezone": "Europe/Berln"}]})
    assert "'Europe/Berln' is not a known time zone" in str(caught.value)
    assert "IANA name such as Europe/Berlin" in str(caught.value)


def test_the_default_zone_is_the_systems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    moment = datetime(2024, 11, 14, tzinfo=UTC)
    assert moment.astimezone(system_zone()).hour == 9
    monkeypatch.setenv("TZ", "Not/AZone")
    assert system_zone().utcoffset(moment) is not None


def digest_sink(port: int) -> Sink:
    entry = {
        "type": "email",
        "to": ["desk@example.org"],
        "from": "newswatch@example.org",
        "smtp": {"host": HOST, "port": port, "timeout": "30s"},
        "mode": "digest",
        "every": "1h",
        "timezone": "UTC",
    }
    [sink] = build_sinks(Config.model_validate({"alerts": [entry]}))
    return sink


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2024, 11, day, hour, tzinfo=UTC)


def test_a_digest_groups_by_watch_folds_a_storys_copies_and_puts_the_newest_first(
    smtp: SmtpServer,
) -> None:
    herald = Outlet("Herald", "https://herald.example/1", "Rail yard plan approved")
    gazette = Outlet("Gazette", "https://gazette.example/2", "Varga wins vote")
    story = Story(11, (herald, gazette))
    batch = [
        alert(11, published=at(12), story=replace(story, others=(gazette,)), source="Herald"),
        alert(12, published=at(13), story=replace(story, others=(herald,)), source="Gazette"),
        alert(13, published=at(14), title="Summit opens", source="Wire"),
        alert(14, published=at(10), title="Old news", source="Wire"),
        alert(15, watch="China", published=at(13), story=replace(story, others=(herald,))),
    ]
    outcomes = send(digest_sink(smtp.port), batch)
    assert [o.alert_ids for o in outcomes] == [(11, 12, 13, 14, 15)]
    [mail] = smtp.received
    assert mail.subject == "[newswatch] digest: 3 articles for 2 watches: China, NATO"
    text = mail.text()
    china, nato = text.index("== China (topic): 1 alert"), text.index("== NATO (topic): 4 alerts")
    assert china < nato
    section = text[nato:]
    assert section.count("* Story 12") == 1 and "* Story 11" not in section, "one entry per story"
    order = [section.index(f"* {t}") for t in ("Summit opens", "Story 12", "Old news")]
    assert order == sorted(order), "newest first"
    entry = section[section.index("* Story 12") : section.index("* Old news")]
    assert "Also in: Herald <https://herald.example/1>" in entry
    assert '<a href="https://herald.example/1">Herald</a>' in mail.html()


def test_hostile_feed_text_is_rendered_harmless(smtp: SmtpServer) -> None:
    hostile = alert(
        1,
        title="Breaking\r\nBcc: victim@example.org\x00 <script>alert(1)</script>",
        url="javascript:alert(document.cookie)",
        source='Evil "feed" <img src=https://evil.example/pixel.png>',
        snippet='… <img src="https://evil.example/x.png"> <style>body{}</style> «NATO» …',
        story=Story(1, (Outlet("Other", "data:text/html,<b>x</b>"),)),
    )
    send(digest_sink(smtp.port), [hostile])
    send(email_sink(smtp.port), [hostile])
    assert len(smtp.received) == 2
    for mail in smtp.received:
        assert mail.message["Bcc"] is None and len(mail.recipients) == 1
        assert "\n" not in mail.subject and "\x00" not in mail.subject
        rich = mail.html()
        for forbidden in ("<script", "<img", "<style", 'href="javascript', 'href="data', 'src="'):
            assert forbidden not in rich
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rich
        assert "javascript:alert(document.cookie)" in rich, "shown as text, not linked"
        assert "<mark>NATO</mark>" in rich
    immediate = smtp.received[1]
    assert immediate.subject == (
        "[newswatch] NATO: Breaking Bcc: victim@example.org <script>alert(1)</script>"
    )


def test_highlighting_keeps_case_and_quotes_that_are_not_terms() -> None:
    assert highlight("the US said «hello» to us", ["US"]) == [
        ("the ", False),
        ("US", True),
        (" said «hello» to us", False),
    ]
    assert highlight("…met «Konstantin\nKosachev» today", ["Konstantin Kosachev"]) == [
        ("…met ", False),
        ("Konstantin\nKosachev", True),
        (" today", False),
    ]


def test_snippet_choice() -> None:
    title, body = "NATO meets", "Ministers met in Brussels. NATO said more later."
    body_hit = Hit("body", body.index("NATO"), body.index("NATO") + 4, "NATO")
    assert snippet_for(title, body, [Hit("title", 0, 4, "NATO"), body_hit]).startswith(
        "Ministers met in Brussels. «NATO» said"
    )
    assert snippet_for(title, body, [Hit("title", 0, 4, "NATO")]) == body
    assert snippet_for(title, "", [Hit("title", 0, 4, "NATO")]) == "«NATO» meets"


def test_a_full_batch_leaves_its_last_document_for_the_next() -> None:
    batch = [alert(1), replace(alert(2), document_id=1), alert(3), replace(alert(4), document_id=3)]
    assert [a.id for a in whole_documents(batch, 4)] == [1, 2]
    assert [a.id for a in whole_documents(batch, 5)] == [1, 2, 3, 4], "not full: all of it"
    one = [alert(1), replace(alert(2), document_id=1)]
    assert [a.id for a in whole_documents(one, 2)] == [1, 2], "a single document always goes"
