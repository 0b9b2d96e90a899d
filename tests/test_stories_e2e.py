"""One alert per story (issue 9): two outlets publish the same story, through `ingest`.

Real HTTP on 127.0.0.1, the real CLI, SQLite and PostgreSQL. The second outlet
re-headlines the story and appends its newsletter footer; the same footer
also sits under an unrelated story and under another story about the same
person, which must each alert on their own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

import feedserver
from helpers import alert_records, feeds_config, seed_text, wait_until
from storypairs import COUNCIL, FOOTER, HARBOUR, VARGA_TRIAL, changed_words, with_footer
from test_daemon import Daemon
from test_feeds_e2e import refreshed, run

WATCHES = """\
watch:
  people:
    - name: Elena Varga
      aliases: [Varga]
  topics:
    - name: Harbour strike
      all: [strike]
      any: [harbour, port]
"""


def rss(title: str, items: list[tuple[str, str, str]], hosts: list[str] | None = None) -> bytes:
    """RSS with (guid, title, text) items; paragraphs become <p>, as outlets send them.
    Links are on the feed's own host, or on `hosts` (an item's each: an aggregator)."""
    links = hosts or [f"{title.lower()}.example"] * len(items)
    entries = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{escape(head)}</title>"
        f"<link>https://{host}/{guid}</link>"
        f"<description>{escape(_html(text))}</description></item>"
        for (guid, head, text), host in zip(items, links, strict=True)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://{title.lower()}.example/</link>{entries}"
        "</channel></rss>"
    ).encode()


def _html(text: str) -> str:
    return "".join(f"<p>{paragraph}</p>" for paragraph in text.split("\n\n"))


def configure(tmp_path: Path, database_url: str, urls: list[str]) -> Path:
    fetch = "fetch: {timeout: 3s, connect_timeout: 2s}\n"
    return feeds_config(tmp_path, database_url, urls, fetch, WATCHES)


def ingest_feed(
    tmp_path: Path, database_url: str, server, capsys, title: str, items: list[tuple[str, str, str]]
) -> str:
    """`ingest` of one feed of these (guid, title, text) items: the command's stdout."""
    route = f"/{title.lower()}.xml"
    url = feedserver.set_route(server, route, feedserver.feed(rss(title, items)))
    code, out, err = run(configure(tmp_path, database_url, [url]), capsys, "ingest")
    assert code == 0, err
    return out


def ingest_seeds(
    tmp_path: Path, database_url: str, capsys, seeds: list[tuple[str, str, str, str]]
) -> tuple[Path, str]:
    """`ingest` of one seed folder holding these (file name, title, body, URL): the
    config and the command's stdout."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name, title, body, url in seeds:
        (folder / name).write_text(seed_text(title, body, url), encoding="utf-8")
    config = tmp_path / "newswatch.yaml"
    config.write_text(
        f"database: {database_url}\nsources:\n  seeds:\n    - path: {folder}\n" + WATCHES
    )
    code, out, err = run(config, capsys, "ingest")
    assert code == 0, err
    return config, out


HERALD = [("c1", "Council approves rail yard plan", COUNCIL)]
GAZETTE = [
    ("g1", "Varga wins rail yard vote after four-hour debate", with_footer(COUNCIL)),
    ("g2", "Port at standstill as dock workers strike", with_footer(HARBOUR)),
    ("g3", "Mayor testifies in contracts fraud trial", with_footer(VARGA_TRIAL)),
]


def test_a_story_published_by_two_outlets_alerts_once_and_names_the_other(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    urls = [
        feedserver.set_route(server, "/herald.xml", feedserver.feed(rss("Herald", HERALD))),
        feedserver.set_route(server, "/gazette.xml", feedserver.feed(rss("Gazette", GAZETTE))),
    ]
    config = configure(tmp_path, database_url, urls)
    code, out, err = run(config, capsys, "ingest")
    assert code == 0, err
    assert [refreshed(err)[u]["new"] for u in urls] == [1, 3]
    alerts = alert_records(out)
    council = [a for a in alerts if "rail yard" in str(a["title"]).lower()]
    assert len(council) == 1, alerts
    assert sorted(str(a["title"]) for a in alerts if a not in council) == [
        "Mayor testifies in contracts fraud trial",
        "Port at standstill as dock workers strike",
    ]
    story = council[0]["story"]
    assert isinstance(story, dict)
    other = "Gazette" if council[0]["source"] == "Herald" else "Herald"
    assert [o["source"] for o in story["also_reported_by"]] == [other]
    assert all(a["story"]["also_reported_by"] == [] for a in alerts if a not in council)

    code, out, _ = run(config, capsys, "stories", "--json")
    assert code == 0
    listed = [json.loads(line) for line in out.splitlines()]
    assert len(listed) == 1
    assert sorted(o["source"] for o in listed[0]["outlets"]) == ["Gazette", "Herald"]

    code, out, _ = run(config, capsys, "stories")
    assert code == 0
    head, *lines = out.splitlines()
    headline = head.split("  —  ", 1)[1]
    herald, gazette = HERALD[0][1], GAZETTE[0][1]
    assert headline in (herald, gazette)
    # each outlet under its own headline where it differs from the story's, and its link
    assert sorted(lines) == sorted(
        f"    {name}{'' if title == headline else '  —  ' + title}  <https://{host}.example/{guid}>"
        for name, host, guid, title in (
            ("Herald", "herald", "c1", herald),
            ("Gazette", "gazette", "g1", gazette),
        )
    )


def test_a_story_listed_as_text_names_an_outlet_without_a_link_by_its_name_alone(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    linked = feedserver.feed(rss("Herald", HERALD))
    copy = [("g1", "Council approves rail yard plan", with_footer(COUNCIL))]
    link = b"<link>https://gazette.example/g1</link>"
    unlinked = feedserver.feed(rss("Gazette", copy).replace(link, b""))
    urls = [
        feedserver.set_route(server, "/herald.xml", linked),
        feedserver.set_route(server, "/gazette.xml", unlinked),
    ]
    config = configure(tmp_path, database_url, urls)
    code, _, err = run(config, capsys, "ingest")
    assert code == 0, err
    code, out, _ = run(config, capsys, "stories")
    assert code == 0
    assert sorted(out.splitlines()[1:]) == [
        "    Gazette",
        "    Herald  <https://herald.example/c1>",
    ]


def test_an_edited_copy_stays_in_its_story_and_does_not_alert_again(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    herald = feedserver.set_route(server, "/h.xml", feedserver.feed(rss("Herald", HERALD)))
    gazette = feedserver.set_route(server, "/g.xml", feedserver.feed(rss("Gazette", GAZETTE)))
    config = configure(tmp_path, database_url, [herald, gazette])
    code, out, err = run(config, capsys, "ingest")
    assert code == 0, err
    assert len(alert_records(out)) == 3
    edited = [("g1", GAZETTE[0][1], with_footer(changed_words(COUNCIL, 0.03))), *GAZETTE[1:]]
    feedserver.set_route(server, "/g.xml", feedserver.feed(rss("Gazette", edited)))
    code, out, err = run(config, capsys, "ingest")
    assert code == 0, err
    assert refreshed(err)[gazette]["updated"] == 1
    assert alert_records(out) == []
    code, out, _ = run(config, capsys, "stories", "--json")
    [story] = [json.loads(line) for line in out.splitlines()]
    assert len(story["outlets"]) == 2


def test_a_seed_folder_with_an_article_and_its_copy_alerts_once_per_story(
    tmp_path: Path, database_url: str, capsys
) -> None:
    files = {
        "herald-council.txt": ("Council approves rail yard plan", COUNCIL),
        "gazette-council.txt": ("Varga wins rail yard vote", with_footer(COUNCIL)),
        "gazette-harbour.txt": ("Port at standstill", with_footer(HARBOUR)),
        "gazette-trial.txt": ("Mayor testifies in fraud trial", with_footer(VARGA_TRIAL)),
    }
    seeds = [
        (name, title, body, f"https://{name.split('-')[0]}.example/{name}")
        for name, (title, body) in files.items()
    ]
    config, out = ingest_seeds(tmp_path, database_url, capsys, seeds)
    titles = sorted(str(a["title"]) for a in alert_records(out))
    council = [
        t for t in titles if t in (files["herald-council.txt"][0], files["gazette-council.txt"][0])
    ]
    assert len(council) == 1, titles
    assert sorted(set(titles) - set(council)) == [
        "Mayor testifies in fraud trial",
        "Port at standstill",
    ]
    code, out, _ = run(config, capsys, "stories", "--json")
    assert code == 0
    [story] = [json.loads(line) for line in out.splitlines()]
    assert sorted(o["url"].split("/")[-1] for o in story["outlets"]) == [
        "gazette-council.txt",
        "herald-council.txt",
    ]


# One sentence of wire copy: too short for a MinHash signature (MIN_WORDS), long enough
# to be news (MIN_CONTENT_WORDS).
WIRE_SHORT = "Mayor Elena Varga resigned on Monday after the council voted to end her mandate."


@pytest.mark.parametrize(
    "dressed", ["{}", "ZAGREB (Reuters) - {}", "{} (AP)"], ids=["as sent", "dateline", "credit"]
)
def test_a_one_sentence_wire_item_re_headlined_by_another_outlet_alerts_once(
    tmp_path: Path, database_url: str, capsys, dressed: str
) -> None:
    """The second outlet keeps the wire's dateline or credit, or not."""
    seeds = [
        ("herald.txt", "Varga resigns", WIRE_SHORT, "https://herald.example/wire-1"),
        (
            "gazette.txt",
            "Mayor quits after the vote",
            dressed.format(WIRE_SHORT),
            "https://gazette.example/wire-1",
        ),
    ]
    _, out = ingest_seeds(tmp_path, database_url, capsys, seeds)
    [alert] = alert_records(out)
    other = "gazette" if "herald" in str(alert["url"]) else "herald"
    assert [o["url"] for o in alert["story"]["also_reported_by"]] == [
        f"https://{other}.example/wire-1"
    ]


def test_one_outlets_description_under_all_its_entries_never_joins_them_into_a_story(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    tagline = "News, analysis and opinion from the Herald newsroom, updated every hour of the day."
    long_tagline = f"{tagline} {tagline} Subscribe for the morning briefing."
    items = [
        ("t1", "Varga opens the new tram line", tagline),
        ("t2", "Varga names a new deputy mayor", tagline),
        ("t3", "Varga vetoes the parking levy", long_tagline),
        ("t4", "Varga meets striking dock workers", long_tagline),
        ("t5", "Varga visits the flooded quarter", tagline),
        ("t6", "Varga opens the book fair", long_tagline),
    ]
    out = ingest_feed(tmp_path, database_url, server, capsys, "Herald", items)
    assert sorted(str(a["title"]) for a in alert_records(out)) == sorted(t for _, t, _ in items)


def test_a_footer_run_into_the_text_neither_splits_a_story_nor_joins_two(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    """Short items whose outlet glues its footer onto the text's one paragraph: the
    footer, twice the text's length, would decide their similarity."""
    strike, trial = HARBOUR.split("\n\n")[0], VARGA_TRIAL.split("\n\n")[0]
    herald = [("h1", "Dock workers walk out", strike)]
    gazette = [
        ("g1", "Harbour at a standstill", f"{strike} {FOOTER}"),
        ("g2", "Mayor called as a witness", f"{trial} {FOOTER}"),
    ]
    urls = [
        feedserver.set_route(server, "/herald.xml", feedserver.feed(rss("Herald", herald))),
        feedserver.set_route(server, "/gazette.xml", feedserver.feed(rss("Gazette", gazette))),
    ]
    code, out, err = run(configure(tmp_path, database_url, urls), capsys, "ingest")
    assert code == 0, err
    alerts = alert_records(out)
    assert sorted(str(a["watch"]) for a in alerts) == ["Elena Varga", "Harbour strike"], alerts
    [varga] = [a for a in alerts if a["watch"] == "Elena Varga"]
    assert varga["story"]["also_reported_by"] == []


# Short items, as a hand-made check would write them: each story a few sentences, the
# footer longer than some of them (once on its own, once run on from the text).
# Outlets: herald, gazette (byline and footer), courier.
SHORT_STRIKE = (
    "Dock workers at the northern harbour began a strike at dawn on Wednesday over pay, "
    "leaving forty container ships waiting at anchor and halting freight at the port."
)
SHORT_LIBRARY = (
    "Mayor Elena Varga opened the rebuilt central library on Wednesday, three years "
    "after a fire destroyed its reading rooms and most of its local history archive."
)
SHORT_WIRE = (
    "Mayor Elena Varga will seek a second term, her office said on Wednesday, ending "
    "months of speculation about her plans before the spring election."
)
SHORT_BUDGET = (
    "Mayor Elena Varga presented a budget on Wednesday that cuts bus fares by a fifth "
    "and pays for it with a new levy on city centre parking spaces."
)
SHORT_TRIAL = (
    "Mayor Elena Varga told a fraud trial on Wednesday that she ordered an audit of "
    "road contracts weeks after taking office, when the costs looked far too high."
)
STORIES = {  # outlet: [(guid, headline, text)]
    "herald": [
        ("h1", "Dock strike strands forty ships", SHORT_STRIKE),
        ("h2", "Varga to run again", SHORT_WIRE),
        ("h3", "Varga cuts bus fares by a fifth", SHORT_BUDGET),
    ],
    "gazette": [  # its byline over each item, its footer under it
        ("g1", "Port at a standstill", f"By Gazette staff.\n\n{SHORT_STRIKE}\n\n{FOOTER}"),
        ("g2", "Library reopens after fire", f"By Gazette staff.\n\n{SHORT_LIBRARY} {FOOTER}"),
    ],
    "courier": [
        ("c1", "Second term for the mayor?", SHORT_WIRE),
        ("c2", "Mayor testifies in contracts trial", SHORT_TRIAL),
    ],
}
EXPECTED = {  # one alert per story: (watch, headline of either copy)
    ("Harbour strike", ("Dock strike strands forty ships", "Port at a standstill")),
    ("Elena Varga", ("Library reopens after fire",)),
    ("Elena Varga", ("Varga to run again", "Second term for the mayor?")),
    ("Elena Varga", ("Varga cuts bus fares by a fifth",)),
    ("Elena Varga", ("Mayor testifies in contracts trial",)),
}


def _one_alert_per_story(out: str) -> None:
    alerts = alert_records(out)
    found = sorted((str(a["watch"]), str(a["title"])) for a in alerts)
    assert len(found) == len(EXPECTED), found
    for watch, headlines in EXPECTED:
        assert sum(1 for w, t in found if w == watch and t in headlines) == 1, (watch, found)


def story_seeds() -> list[tuple[str, str, str, str]]:
    """STORIES as seed files: (file name, title, body, URL)."""
    return [
        (f"{guid}.txt", headline, text, f"https://{outlet}.example/{guid}")
        for outlet, items in STORIES.items()
        for guid, headline, text in items
    ]


def test_copies_footers_wire_items_and_one_persons_stories_from_feeds(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    urls = [
        feedserver.set_route(server, f"/{name}.xml", feedserver.feed(rss(name.title(), items)))
        for name, items in STORIES.items()
    ]
    code, out, err = run(configure(tmp_path, database_url, urls), capsys, "ingest")
    assert code == 0, err
    _one_alert_per_story(out)


def test_copies_footers_wire_items_and_one_persons_stories_from_one_seed_folder(
    tmp_path: Path, database_url: str, capsys
) -> None:
    seeds = story_seeds()
    _, out = ingest_seeds(tmp_path, database_url, capsys, seeds)
    _one_alert_per_story(out)


@pytest.mark.parametrize("body", [WIRE_SHORT, COUNCIL], ids=["one sentence", "article"])
def test_seeds_of_one_story_under_two_headlines_are_one_story_whatever_their_urls_host(
    tmp_path: Path, database_url: str, capsys, body: str
) -> None:
    """A seed folder holds documents from any outlet, often all linked on one host
    (example.com): the same text under two headlines there is a copy, not a site's
    stock description (which only a feed's entries have)."""
    titles = ("Council backs Varga's plan", "Varga wins the vote")
    seeds = [
        (f"{n}.txt", title, body, f"https://example.com/news/{n}")
        for n, title in enumerate(titles, 1)
    ]
    _, out = ingest_seeds(tmp_path, database_url, capsys, seeds)
    [alert] = alert_records(out)
    assert len(alert["story"]["also_reported_by"]) == 1


def test_a_copy_arriving_in_a_later_pass_joins_the_story_the_earlier_one_alerted(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    herald = feedserver.set_route(server, "/herald.xml", feedserver.feed(rss("Herald", HERALD)))
    code, out, err = run(configure(tmp_path, database_url, [herald]), capsys, "ingest")
    assert code == 0, err
    [first] = alert_records(out)
    gazette = feedserver.set_route(server, "/gazette.xml", feedserver.feed(rss("Gazette", GAZETTE)))
    code, out, err = run(configure(tmp_path, database_url, [herald, gazette]), capsys, "ingest")
    assert code == 0, err
    later = alert_records(out)
    assert sorted(str(a["title"]) for a in later) == [
        "Mayor testifies in contracts fraud trial",
        "Port at standstill as dock workers strike",
    ]
    code, out, _ = run(configure(tmp_path, database_url, [herald, gazette]), capsys, "alerts")
    assert code == 0 and out.count("rail yard") == 1, out
    assert first["story"]["also_reported_by"] == []


def test_one_feed_carrying_a_story_and_its_re_headlined_copy_alerts_once(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    """A hand-made feed of one host: the same wire text under two headlines is one story
    (a site's stock description sits under three entries or more)."""
    items = [
        ("w1", "Varga to run again", SHORT_WIRE),
        ("w2", "Second term for the mayor?", SHORT_WIRE),
        ("w3", "Varga resigns", WIRE_SHORT),
        ("w4", "Mayor quits after the vote", WIRE_SHORT),
    ]
    out = ingest_feed(tmp_path, database_url, server, capsys, "Wire", items)
    assert len(alert_records(out)) == 2, alert_records(out)


def test_one_outlets_two_items_under_two_titles_alert_apart_however_alike(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    """A feed's items under two titles are two items (a podcast's episodes over one
    blurb, a catalogue's pages): the second is no copy of the first, and a watch that
    alerted on one alerts on the other too. The same pair from two outlets is one story."""
    items = [
        ("e97", "Lecture 97: the rail yard", COUNCIL),
        ("e99", "Lecture 99: the vote", changed_words(COUNCIL, 0.10)),
    ]
    out = ingest_feed(tmp_path, database_url, server, capsys, "Lectures", items)
    alerts = alert_records(out)
    assert sorted(str(a["title"]) for a in alerts) == [
        "Lecture 97: the rail yard",
        "Lecture 99: the vote",
    ]
    assert all(a["story"]["also_reported_by"] == [] for a in alerts)


def test_an_aggregators_items_from_two_outlets_are_one_story(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    """One feed carrying two outlets' items (links on two hosts): a re-headlined copy
    with a footer joins the story as it would from a feed of its own."""
    items = [
        ("a1", "Council approves rail yard plan", COUNCIL),
        ("a2", "Varga wins rail yard vote", with_footer(COUNCIL)),
    ]
    feed = rss("Digest", items, hosts=["herald.example", "gazette.example"])
    url = feedserver.set_route(server, "/digest.xml", feedserver.feed(feed))
    code, out, err = run(configure(tmp_path, database_url, [url]), capsys, "ingest")
    assert code == 0, err
    [alert] = alert_records(out)
    assert len(alert["story"]["also_reported_by"]) == 1


def _alerts_of_passes(passes: list[tuple[int, str]]) -> str:
    """Every pass's alert lines, as one output (each (exit code, stdout) checked)."""
    assert all(code == 0 for code, _ in passes)
    return "".join(out for _, out in passes)


def test_a_footer_under_one_entry_a_pass_is_known_from_the_outlets_earlier_entries(
    tmp_path: Path, database_url: str, server, capsys
) -> None:
    """An outlet whose feed shows its latest item only: its footer is never seen twice
    in one batch, but its earlier entries carry it too. Unremoved, the footer made the
    re-headlined copy of a short story unlike its original (0.38) and like the
    outlet's unrelated item (0.45)."""
    feeds = {name: rss(name.title(), items) for name, items in STORIES.items()}
    [strike_copy, library] = STORIES["gazette"]
    feeds["gazette"] = rss("Gazette", [library])
    urls = [
        feedserver.set_route(server, f"/{name}.xml", feedserver.feed(body))
        for name, body in feeds.items()
    ]
    config = configure(tmp_path, database_url, urls)
    first = run(config, capsys, "ingest")
    feedserver.set_route(server, "/gazette.xml", feedserver.feed(rss("Gazette", [strike_copy])))
    second = run(config, capsys, "ingest")
    _one_alert_per_story(_alerts_of_passes([first[:2], second[:2]]))


def test_a_seed_copy_alone_in_its_pass_loses_the_footer_its_folder_knows(
    tmp_path: Path, database_url: str, capsys
) -> None:
    seeds = story_seeds()
    later = [seed for seed in seeds if seed[0] == "g1.txt"]
    config, first = ingest_seeds(
        tmp_path, database_url, capsys, [s for s in seeds if s not in later]
    )
    for name, title, body, url in later:
        (tmp_path / "seeds" / name).write_text(seed_text(title, body, url), encoding="utf-8")
    code, second, err = run(config, capsys, "ingest")
    assert code == 0, err
    _one_alert_per_story(first + second)


@pytest.mark.slow(seconds=5)
def test_the_daemon_alerts_once_per_story_when_the_copy_arrives_alone(
    tmp_path: Path, database_url: str
) -> None:
    """`newswatch run` as a service runs it: the judged shape's files dropped into its
    folder while it runs, the strike's re-headlined copy later and alone."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    config = tmp_path / "newswatch.yaml"
    config.write_text(
        f"database: {database_url}\nsources:\n  seeds:\n    - path: {folder}\n"
        "schedule:\n  seed_scan: 1s\n" + WATCHES
    )
    seeds = story_seeds()
    last = [seed for seed in seeds if seed[0] == "g1.txt"]
    daemon = Daemon(config)
    try:
        daemon.wait_for(daemon.err, '"daemon_started"')
        for group in ([s for s in seeds if s not in last], last):
            before = _refreshes(daemon)
            for name, title, body, url in group:
                (folder / f"{name}.part").write_text(seed_text(title, body, url), "utf-8")
                os.replace(folder / f"{name}.part", folder / name)
            wait_until(lambda n=before: _refreshes(daemon) > n)
        # a refresh is logged before the outbox's job delivers its alerts: on a busy
        # machine the stop came in between, and the alerts waited for the next start
        wait_until(lambda: len(alert_records("".join(daemon.out))) >= len(EXPECTED))
    finally:
        code, _ = daemon.stop()
    assert code == 0, "".join(daemon.err)
    _one_alert_per_story("".join(daemon.out))


def _refreshes(daemon: Daemon) -> int:
    return sum('"source_refreshed"' in line for line in daemon.err)
