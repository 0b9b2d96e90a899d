"""Config: typed and frozen when valid; every problem with file:line when not."""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from helpers import REPO
from newswatch.config import (
    ConfigError,
    EmailAlert,
    check_config,
    find_config_path,
    load_config,
    parse_duration,
)
from newswatch.match.watchlist import compile_config


def write(tmp_path: Path, text: str, name: str = "newswatch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    return caught.value.problems


def test_the_example_config_loads() -> None:
    config = load_config(REPO / "config" / "newswatch.yaml")
    people = [p.name for p in config.watch.people]
    assert people == ["Donald Trump", "Konstantin Kosachev", "Joe Biden", "Vladimir Putin"]
    assert {t.name for t in config.watch.topics} >= {"NATO", "China", "Iran"}
    assert config.sources.seeds[0].path == Path("seeds")


def test_config_objects_are_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "database: sqlite:///x.db\n"))
    with pytest.raises(ValidationError):
        config.database = "sqlite:///other.db"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1.5h", 5400), (30, 30)],
)
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["3000000d", "99999999999d", ".inf", "1.0e+300"])
def test_a_duration_over_100_years_is_refused_where_it_is_written(
    tmp_path: Path, text: str
) -> None:
    """Before, `interval: 3000000d` passed the check and `ingest` stopped with an
    OverflowError once the feed was fetched (its next poll was past year 9999); a
    longer one stopped `check` itself with a traceback."""
    feeds = "sources:\n  feeds:\n    - url: https://a.example/rss\n"
    found = problems(tmp_path, f"{feeds}      interval: {text}\n")
    assert len(found) == 1 and found[0].startswith(f"{tmp_path}/newswatch.yaml:4: ")
    assert "is longer than 36500 days; write a shorter one" in found[0]
    assert parse_duration("36500d") == timedelta(days=36500)


def test_unknown_key_says_where_and_what_was_meant(tmp_path: Path) -> None:
    found = problems(tmp_path, "schedule:\n  intervall: 5m\n")
    assert found == [
        f"{tmp_path}/newswatch.yaml:2: unknown key 'intervall' in `schedule` "
        "(did you mean 'interval'?)"
    ]


def test_every_error_is_reported_together_in_file_order(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        databse: sqlite:///x.db
        sources:
          seeds:
            - path: seeds/
              intervall: 5m
          feeds:
            - url: ftp://example.org/feed
        schedule: {interval: 5 parsecs}
        watch:
          people:
            - aliases: [Nobody]
          topics:
            - name: Empty
        alerts:
          - type: sms
        """,
    )
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines) and len(found) == 7
    text = "\n".join(found)
    assert ":1: unknown key 'databse'" in text and "did you mean 'database'" in text
    assert ":5: unknown key 'intervall'" in text
    assert ":7: sources.feeds.0.url: 'ftp://example.org/feed' is not an http" in text
    assert ":8: schedule.interval: '5 parsecs' is not a duration" in text
    assert ":11: missing required key 'name'" in text
    assert ":13: " in text and "needs `any`, `all` or `query`" in text
    assert ":15: alerts.0: `type` must be one of: log, email" in text


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[news.example/feed", "Invalid IPv6 URL"),
        ("https://news.example:99999/feed", "Port out of range"),
        ("https://news.example:rss/feed", "Port could not be cast"),
    ],
)
def test_a_url_whose_host_or_port_cannot_be_read_says_where(
    tmp_path: Path, url: str, reason: str
) -> None:
    """Before, such a feed URL passed the check and `ingest` stopped with a traceback
    (the bracket) or the feed failed on every poll (the port): now `check` says so,
    for a feed, a webhook, and an outline of an OPML list."""
    found = problems(
        tmp_path,
        f"""\
        sources:
          feeds:
            - url: "{url}"
        alerts:
          - type: webhook
            url: "{url}"
        """,
    )
    assert len(found) == 2, found
    assert all(reason in p and "write it as http(s)://host[:port]/path" in p for p in found)
    assert found[0].startswith(f"{tmp_path}/newswatch.yaml:3: sources.feeds.0.url: '{url}'")
    assert f":6: alerts.0.url: the webhook url: '{url}' is not a usable URL" in found[1]
    opml = tmp_path / "subs.opml"
    outline = '<outline text="Wire" xmlUrl="{}"/><outline text="ok" xmlUrl="https://a.example/f"/>'
    opml.write_text(f"<opml version='2.0'><body>{outline.format(url)}</body></opml>")
    [found_in_list] = problems(tmp_path, f"sources:\n  opml: [{opml}]\n")
    assert found_in_list.startswith(f"{opml}: the outline 'Wire': '{url}' is not a usable URL")
    assert reason in found_in_list


def test_a_password_in_the_file_is_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        alerts:
          - type: email
            to: [a@example.org]
            from: nw@example.org
            smtp: {host: mail, password: hunter2}
        """,
    )
    assert len(found) == 1
    assert ":5: `password` must not be written in the file; use password_env" in found[0]


def test_secrets_come_from_the_environment_or_a_file(tmp_path: Path, monkeypatch) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    config = load_config(
        write(
            tmp_path,
            f"""\
            alerts:
              - type: email
                to: [a@example.org]
                from: nw@example.org
                smtp: {{host: mail, username: nw, password_env: NW_PW}}
              - type: email
                to: [b@example.org]
                from: nw@example.org
                smtp: {{host: mail, username: nw, password_file: {secret}}}
            """,
        )
    )
    monkeypatch.setenv("NW_PW", "from-env")
    first, second = config.alerts
    assert first.smtp.password() == "from-env"  # type: ignore[union-attr]
    assert second.smtp.password() == "from-file"  # type: ignore[union-attr]


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "watch:\n  people:\n    - name: [unclosed\n")
    assert len(found) == 1 and "newswatch.yaml:" in found[0] and "invalid YAML" in found[0]


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "absent.yaml")


def test_the_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert "must be a mapping" in problems(tmp_path, "- just\n- a list\n")[0]


def test_duplicate_watch_names_are_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        watch:
          people:
            - name: Joe Biden
            - name: Joe Biden
        """,
    )
    assert found == [
        f"{tmp_path}/newswatch.yaml:4: people name 'Joe Biden' is used twice; names must be unique"
    ]


def test_includes_load_yaml_and_csv_watch_lists(tmp_path: Path) -> None:
    write(
        tmp_path,
        "people:\n  - name: Ben Chan\n    aliases: [Chan]\ntopics:\n"
        "  - name: Trade\n    any: [tariff]\n",
        name="more.yaml",
    )
    (tmp_path / "people.csv").write_text("name,aliases\nGary Chan,Chan;G. Chan\nAnn Lee,\n")
    config = load_config(
        write(tmp_path, "watch:\n  include: [more.yaml, people.csv]\n  people:\n    - name: X\n")
    )
    assert [p.name for p in config.watch.people] == ["X", "Ben Chan", "Gary Chan", "Ann Lee"]
    assert config.watch.people[2].aliases == ("Chan", "G. Chan")
    assert [t.name for t in config.watch.topics] == ["Trade"]


def test_errors_in_an_included_file_name_that_file(tmp_path: Path) -> None:
    write(tmp_path, "people:\n  - name: A\n    alias: [typo]\n", name="more.yaml")
    found = problems(tmp_path, "watch:\n  include: [more.yaml]\n")
    assert found == [
        f"{tmp_path}/more.yaml:3: unknown key 'alias' in `people.0` (did you mean 'aliases'?)"
    ]


def test_a_csv_watch_lists_terms_are_checked_and_each_problem_names_its_row(
    tmp_path: Path,
) -> None:
    """Before, a CSV list skipped the term checks a YAML list has: a row's alias "!!"
    or a name "---" passed `check` and never matched."""
    rows = "name,aliases\n# a comment\nAda Lovelace,!!\nGary Chan,Chan\n---,\n"
    (tmp_path / "people.csv").write_text(rows)
    found = problems(tmp_path, "watch:\n  include: [people.csv]\n")
    assert found == [
        f"{tmp_path}/people.csv:3: 'Ada Lovelace': term '!!' has no letter or digit",
        f"{tmp_path}/people.csv:5: person name '---' has no letter or digit; write the name",
    ]


def test_config_lookup_order(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSWATCH_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="no configuration found"):
        find_config_path(None)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "newswatch.yaml").write_text("{}\n")
    assert find_config_path(None) == Path("config/newswatch.yaml")
    monkeypatch.setenv("NEWSWATCH_CONFIG", "/elsewhere.yaml")
    assert find_config_path(None) == Path("/elsewhere.yaml")
    assert find_config_path("given.yaml") == Path("given.yaml")


def test_a_query_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        watch:
          topics:
            - name: Talks
              query: '(ceasefire OR truce AND Ukraine'
        """,
    )
    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path}/newswatch.yaml:4: query of topic 'Talks': ")
    assert "at column" in found[0]


def test_a_query_that_only_excludes_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, "watch:\n  topics:\n    - name: Quiet\n      query: NOT war\n")
    assert found == [
        f"{tmp_path}/newswatch.yaml:4: query of topic 'Quiet' only excludes terms, so it can "
        "never match; add a term that must appear"
    ]


def test_a_term_without_letters_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, "watch:\n  people:\n    - name: X\n      aliases: ['!!!']\n")
    assert found == [f"{tmp_path}/newswatch.yaml:4: 'X': term '!!!' has no letter or digit"]


def test_a_person_named_without_letters_is_refused(tmp_path: Path) -> None:
    """The name is searched for as an alias is: before, `name: "   "` passed the check
    and was a watch that never matched anything."""
    found = problems(tmp_path, "watch:\n  people:\n    - name: '   '\n    - name: Ada\n")
    assert found == [
        f"{tmp_path}/newswatch.yaml:3: person name '   ' has no letter or digit; write the name"
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("mode: digest", "give either `every: 1h` or `at:"),
        ("{mode: digest, every: 1h, at: '07:00'}", "give either `every: 1h` or `at:"),
        ("{mode: immediate, every: 1h}", "`every` and `at` need `mode: digest`"),
        ("{smtp: {password_env: PW}}", "no `username` to log in with"),
        ("{smtp: {ssl: true, starttls: true}}", "not both"),
        ("{smtp: {host: 'mail example'}}", "'mail example' is not a host name"),
        ('{smtp: {host: "mail\\nexample"}}', "'mail\\nexample' is not a host name"),
        ("{smtp: {host: ''}}", "'' is not a host name; write one such as mail.example.org"),
    ],
)
def test_email_settings_that_cannot_work_are_refused(
    tmp_path: Path, entry: str, expected: str
) -> None:
    extra = entry if not entry.startswith("{") else ""
    inline = entry[1:-1] + ", " if entry.startswith("{") else ""
    text = f"alerts:\n  - {{type: email, {inline}to: [a@example.org], from: nw@example.org}}\n"
    if extra:
        text = text.replace("}\n", f", {extra}}}\n")
    found = problems(tmp_path, text)
    assert len(found) == 1 and expected in found[0] and ":2: " in found[0], found


def test_a_bad_http_listen_address_is_a_config_error(tmp_path: Path) -> None:
    found = problems(tmp_path, "http:\n  listen: localhost\n")
    assert len(found) == 1 and ":2: http.listen: " in found[0] and "no port" in found[0]


def test_ambiguous_policy_of_the_list_of_an_include_and_of_a_person(tmp_path: Path) -> None:
    (tmp_path / "chans.yaml").write_text(
        "ambiguous: all\npeople:\n"
        "  - {name: Ben Chan, aliases: [Chan]}\n  - {name: Gary Chan, aliases: [Chan]}\n"
    )
    main = tmp_path / "newswatch.yaml"
    main.write_text(
        "watch:\n  include: [chans.yaml]\n  people:\n"
        "    - {name: Joan Ho, aliases: [Ho]}\n"
        "    - {name: Denise Ho, aliases: [Ho], ambiguous: all}\n"
    )
    matcher = compile_config(load_config(main))
    assert [m.watch for m in matcher.match("", "Chan said")] == ["Ben Chan", "Gary Chan"]
    assert [m.watch for m in matcher.match("", "Ho said")] == ["Denise Ho"]


def test_case_and_ambiguous_refuse_unknown_values(tmp_path: Path) -> None:
    main = tmp_path / "newswatch.yaml"
    main.write_text("watch:\n  ambiguous: some\n  people:\n    - {name: A B, case: loose}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(main)
    text = "\n".join(caught.value.problems)
    assert "ambiguous" in text and "case" in text


def test_every_kind_of_error_comes_out_in_one_run_in_file_order(tmp_path: Path) -> None:
    """Schema errors used to hide query, wildcard and folder errors until they were mended."""
    found = problems(
        tmp_path,
        """\
        sources:
          seeds:
            - path: /no/such/parent/seeds
        schedule:
          intervall: 5m
        watch:
          topics:
            - name: Short
              any: [ab*, sanction*]
            - name: Broken
              query: 'a AND ('
        alerts:
          - type: email
            to: [not-an-email]
            from: x
        http:
          listen: 999.1.1.1:9464
        """,
    )
    file = f"{tmp_path}/newswatch.yaml"
    assert [p.split(": ", 1)[0] for p in found] == [
        f"{file}:{line}" for line in (3, 5, 9, 11, 14, 15, 17)
    ]
    assert "seed folder /no/such/parent/seeds does not exist, nor does" in found[0]
    assert "unknown key 'intervall'" in found[1]
    assert "wildcard 'ab*' needs at least 3 letters or digits" in found[2]
    assert "query of topic 'Broken'" in found[3] and "at column 8" in found[3]
    assert "'not-an-email' is not an email address" in found[4]
    assert "'x' is not an email address" in found[5]
    assert "'999.1.1.1' is not an IPv4 address" in found[6]


@pytest.mark.parametrize(
    "address",
    [
        "x",
        "not-an-email",
        "a@",
        "@b.example",
        "a b@c.example",
        "a@b.example\nBcc: e@evil.example",
        "a@b.example, c@d.example",
        "Name <a@b.example",
        "list: a@b.example;",
    ],
)
def test_addresses_that_are_not_one_mailbox_are_refused(tmp_path: Path, address: str) -> None:
    text = f"alerts:\n  - type: email\n    to: [ok@example.org]\n    from: {json.dumps(address)}\n"
    found = problems(tmp_path, text)
    assert len(found) == 1 and ":4: alerts.0.from: " in found[0], found


def test_a_named_address_is_accepted(tmp_path: Path) -> None:
    text = (
        "alerts:\n  - type: email\n    to: ['Desk <desk@news.example>', root@localhost]\n"
        "    from: '\"Newswatch, bot\" <nw@news.example>'\n"
    )
    email = load_config(write(tmp_path, text)).alerts[0]
    assert isinstance(email, EmailAlert)
    assert email.to == ("Desk <desk@news.example>", "root@localhost")


def test_a_short_wildcard_in_a_term_list_is_refused_and_a_long_one_kept(tmp_path: Path) -> None:
    found = problems(
        tmp_path, "watch:\n  topics:\n    - name: T\n      any: [x]\n      none:\n        - ab*\n"
    )
    assert found == [
        f"{tmp_path}/newswatch.yaml:6: 'T': wildcard 'ab*' needs at least 3 letters or digits "
        "before *; write more of the word or list the words in full"
    ]
    config = load_config(write(tmp_path, "watch:\n  topics:\n    - {name: T, any: [abc*]}\n"))
    assert config.watch.topics[0].any == ("abc*",)


def test_a_bad_query_in_an_included_file_names_that_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path, "topics:\n  - name: A\n    any: [x]\n  - name: B\n    query: 'a OR'\n", "t.yaml"
    )
    found = problems(tmp_path, "watch:\n  include: [t.yaml]\n  topics:\n    - {name: C}\n")
    assert len(found) == 2, found
    assert found[0].startswith(f"{tmp_path}/newswatch.yaml:4: ")
    assert found[1].startswith(f"{tmp_path}/t.yaml:5: query of topic 'B': ")


def test_an_unclosed_bracket_names_the_line_that_opened_it(tmp_path: Path) -> None:
    text = "watch:\n  people:\n    - name: X\n      aliases: [a, b\n    - name: Y\n"
    found = problems(tmp_path, text)
    assert len(found) == 1 and found[0].startswith(f"{tmp_path}/newswatch.yaml:5: invalid YAML")
    assert "flow sequence opened on line 4" in found[0]


@pytest.mark.parametrize(
    "url", ["sqlite:///", "sqlite://", "sqlite:///:memory:", "sqlite+pysqlite:///"]
)
def test_a_database_in_memory_is_a_warning(tmp_path: Path, url: str) -> None:
    """`sqlite:///` with its path left out is SQLAlchemy's in-memory database: a daemon
    on it would alert on everything again after each restart."""
    path = write(tmp_path, f"database: '{url}'\n")
    assert check_config(path)[1] == [
        f"{path}:1: warning: {url} is a database in memory: nothing is kept when the "
        "command ends; write sqlite:///path/to/file.db to keep it"
    ]
    assert check_config(write(tmp_path, f"database: sqlite:///{tmp_path}/nw.db\n"))[1] == []


def test_a_missing_seed_folder_is_a_warning_when_its_parent_exists(tmp_path: Path) -> None:
    path = write(tmp_path, f"sources:\n  seeds:\n    - path: {tmp_path}/later\n")
    config, warnings = check_config(path)
    assert config.sources.seeds[0].path == tmp_path / "later"
    assert warnings == [
        f"{path}:3: warning: seed folder {tmp_path}/later does not exist yet; "
        "newswatch reads it once it is created"
    ]
    (tmp_path / "later").mkdir()
    assert check_config(path)[1] == []


def test_a_seed_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    found = problems(tmp_path, f"sources:\n  seeds:\n    - path: {tmp_path}/file.txt\n")
    assert len(found) == 1 and ":3: seed folder " in found[0] and "is not a folder" in found[0]


def test_health_alerts_must_name_a_sink_and_default_to_the_log_sinks(tmp_path: Path) -> None:
    sinks = textwrap.dedent(
        """\
        alerts:
          - type: log
          - {type: email, name: desk, to: [a@example.org], from: nw@example.org}
          - {type: email, to: [b@example.org], from: nw@example.org}
        """
    )
    found = problems(tmp_path, sinks + "health: {alerts: [desk, ops]}\n")
    assert len(found) == 1 and "health.alerts names no sink ['ops']" in found[0]
    assert "the sinks are: log, desk, email" in found[0]
    config = load_config(write(tmp_path, sinks))
    assert config.health_sinks() == ["log"]
    assert config.health.failing_after == timedelta(hours=24)
    named = load_config(write(tmp_path, sinks + "health: {alerts: [desk], failing_after: 6h}\n"))
    assert named.health_sinks() == ["desk"] and named.health.failing_after == timedelta(hours=6)
