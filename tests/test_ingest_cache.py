"""`ingest` on an unchanged config reads its plain copy and compiled watch list from
the cache instead of validating again (issue 11): the same values, the same run."""

from __future__ import annotations

import inspect
import json
import os
import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import BaseModel

from helpers import REPO, alert_records, migrated_sqlite, run_cli, seed_text, write_config
from newswatch.config import check_config, schema
from newswatch.config.cache import cache_dir, cached_config, save_matcher
from newswatch.config.plain import CLASSES, plain_config, sink_names
from newswatch.match import Matcher
from newswatch.pipeline.app import feed_settings
from newswatch.sinks import build_sinks, sink_routes
from test_startup import imports_of, settled

VALIDATION = ("pydantic", "yaml", "newswatch.config.schema", "newswatch.config.load")
# a config validated by `ingest`: by a child process (config/aside.py), without pydantic here
ASIDE = (*VALIDATION, "newswatch.config.aside")
# the watch list reaches `ingest` compiled: its models have no plain copy
WATCH_MODELS = {"Watch", "Person", "Topic", "FeedList", "_Model", "_WatchBase", "SinkBase"}

EVERY_PART = """\
alerts:
  - type: log
    watches: [NATO]
  - type: email
    to: [analyst@example.org]
    from: newswatch@example.org
    smtp: {host: mail.example.org, port: 2525, username: nw, password_env: NW_SMTP}
    mode: digest
    at: "07:00"
    timezone: Europe/Berlin
  - type: webhook
    url: https://hooks.example.org/alerts?token=1
    secret_env: NW_HOOK
  - type: apprise
    name: chat
    urls_env: NW_APPRISE
  - type: log
health: {failing_after: 2h, alerts: [log-2]}
retention: {documents: 30d}
http: {listen: "127.0.0.1:0"}
fetch: {timeout: 5s, max_bytes: 1MiB, per_host: 3}
dedup: {threshold: 0.5, window: 2d}
node: {id: one, lease: 10s}
"""


def _models() -> set[str]:
    return {
        name
        for name, value in vars(schema).items()
        if inspect.isclass(value) and issubclass(value, BaseModel) and value is not BaseModel
    }


def test_every_config_model_has_a_plain_copy_with_the_same_fields_and_methods() -> None:
    """A field or model added to the schema fails here until config/plain.py has it too."""
    assert _models() - WATCH_MODELS == set(CLASSES)
    for name, plain in CLASSES.items():
        model = getattr(schema, name)
        fields = set(model.model_fields) - ({"watch"} if name == "Config" else set())
        assert set(plain._fields) == fields, name
        own = {a for a in vars(model) if not a.startswith("_") and a not in model.model_fields}
        own -= {"model_config", "model_fields", "model_computed_fields"}
        assert own <= set(vars(plain)), (name, own - set(vars(plain)))


def test_the_plain_copy_holds_the_validated_values(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    config, _ = check_config(write_config(tmp_path, "sqlite:///nw.db", seeds, EVERY_PART))
    copy = plain_config(config)
    assert _values(copy) == _values(config)
    assert copy.health_sinks() == config.health_sinks() == ["log-2"]
    assert sink_names(copy.alerts) == schema.sink_names(config.alerts)
    assert copy.sources.seeds[0].source_name == config.sources.seeds[0].source_name
    os.environ["NW_SMTP"] = "secret"
    try:
        assert copy.alerts[1].smtp.password() == config.alerts[1].smtp.password() == "secret"
    finally:
        del os.environ["NW_SMTP"]
    assert pickle.loads(pickle.dumps(copy)) == copy
    settings, copied_settings = feed_settings(config), feed_settings(copy)
    assert _values(copied_settings.fetch) == _values(settings.fetch)
    assert replace(copied_settings, fetch=settings.fetch) == settings
    sinks, copied_sinks = build_sinks(config), build_sinks(copy)
    assert [s.key for s in copied_sinks] == [s.key for s in sinks]
    assert sink_routes(copy, copied_sinks) == sink_routes(config, sinks)


def _values(value: object) -> object:
    """Every attribute, recursively, whichever kind of object holds them."""
    if isinstance(value, tuple):
        return tuple(_values(item) for item in value)
    fields = getattr(value, "_fields", None) or getattr(type(value), "model_fields", None)
    if fields is None or isinstance(value, str):
        return value
    return {name: _values(getattr(value, name)) for name in fields if name != "watch"}


def test_a_kept_config_equals_a_fresh_validation(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    path = write_config(tmp_path, "sqlite:///nw.db", seeds, EVERY_PART)
    settled(path)
    config, _ = check_config(path)
    from newswatch.match.watchlist import compile_config

    matcher = compile_config(config)
    save_matcher(config, matcher, read_at=path.stat().st_mtime + 60)
    kept = cached_config(path)
    assert kept is not None
    assert kept[0] == plain_config(check_config(path)[0])
    text = "Kosachev and Biden on the NATO peace plan for Ukraine."
    found = [m.watch for m in kept[1].examine("", text, None, False)[0]]
    assert found == [m.watch for m in matcher.examine("", text, None, False)[0]]
    assert {"Konstantin Kosachev", "NATO", "Ukraine ceasefire"} <= set(found)


def _ingest_setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    listed = tmp_path / "more.yaml"
    listed.write_text("people:\n  - name: Ada Lovelace\n", encoding="utf-8")
    config = write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds)
    config.write_text(config.read_text().replace("watch:\n", "watch:\n  include: [more.yaml]\n"))
    settled(config, listed)
    return config, listed, seeds


def _add_seed(seeds: Path, name: str, body: str) -> None:
    url = f"https://example.org/{name}"
    (seeds / f"{name}.txt").write_text(seed_text(name.title(), body, url), encoding="utf-8")


@pytest.mark.slow(seconds=5)
def test_a_second_ingest_starts_from_the_kept_config(tmp_path: Path) -> None:
    """No pydantic, YAML nor schema on the second run; it imports and alerts as the first."""
    config, _, seeds = _ingest_setup(tmp_path)
    _add_seed(seeds, "one", "Kosachev met Ada Lovelace.")
    args = ("--config", str(config), "--log-format", "json", "ingest")
    code, loaded, out = imports_of(*args, heavy=ASIDE)
    assert code == 0 and loaded == ["newswatch.config.aside"]  # validated aside, then kept
    assert {a["watch"] for a in alert_records(out)} == {"Konstantin Kosachev", "Ada Lovelace"}
    _add_seed(seeds, "two", "Ada Lovelace and NATO.")
    code, loaded, out = imports_of(*args, heavy=(*VALIDATION, "newswatch.config.cache"))
    assert code == 0 and loaded == ["newswatch.config.cache"]  # only the cache: kept
    assert {a["watch"] for a in alert_records(out)} == {"NATO", "Ada Lovelace"}


@pytest.mark.slow(seconds=10)
def test_an_ingest_after_a_change_validates_again(tmp_path: Path) -> None:
    """A changed config, a changed watch list it includes, a corrupt cache: each is a
    miss, validated in full (and failing as a full validation fails)."""
    config, listed, seeds = _ingest_setup(tmp_path)
    args = ("--config", str(config), "--log-format", "json", "ingest")
    assert run_cli(*args).returncode == 0  # kept
    listed.write_text("people:\n  - name: Augusta Ada King\n    aliases: [Lovelace]\n")
    settled(listed)  # as if edited long after: only its text tells the change
    _add_seed(seeds, "one", "Lovelace wrote.")
    code, loaded, out = imports_of(*args, heavy=ASIDE)
    assert code == 0 and loaded == ["newswatch.config.aside"]
    assert [a["watch"] for a in alert_records(out)] == ["Augusta Ada King"]
    config.write_text(config.read_text().replace("Joe Biden", "Jill Biden"))
    settled(config)
    _add_seed(seeds, "two", "Biden spoke.")
    code, loaded, out = imports_of(*args, heavy=ASIDE)
    assert code == 0 and loaded == ["newswatch.config.aside"]
    assert [a["watch"] for a in alert_records(out)] == ["Jill Biden"]
    for entry in cache_dir().glob("*.pickle"):
        entry.write_bytes(entry.read_bytes()[:-20])  # cut short: a torn or foreign file
    _add_seed(seeds, "three", "Jill Biden again, Biden.")
    code, loaded, out = imports_of(*args, heavy=ASIDE)
    assert code == 0 and loaded == ["newswatch.config.aside"]
    assert [a["watch"] for a in alert_records(out)] == ["Jill Biden"]
    _, loaded, _ = imports_of(*args, heavy=ASIDE)
    assert loaded == []  # the corrupt entry was replaced
    config.write_text(config.read_text() + "bogus_key: 1\n")
    failed = run_cli(*args)
    assert failed.returncode == 2 and "bogus_key" in failed.stderr


def test_a_kept_watch_list_loads_when_first_used_and_travels_to_parse_workers() -> None:
    """The rules read from the cache stay bytes until a text is matched; a parse worker
    gets the same bytes and matches as a freshly compiled watch list does."""
    from datetime import UTC, datetime

    from newswatch.match import compile_watches
    from newswatch.match.kept import KeptMatcher, kept_matcher
    from newswatch.parsing.feedwork import POOL_THRESHOLD_BYTES, FeedBody, FeedParsers
    from test_feedwork import big_feed

    compiled = compile_watches([schema.Person(name="Joe Biden", aliases=("Biden",))], [])
    kept = kept_matcher(pickle.dumps(compiled.rules))
    assert isinstance(kept, KeptMatcher) and kept._matcher is None
    public = {n for n in dir(Matcher) if not n.startswith("_")} - {"from_rules"} | {"__len__"}
    assert public <= set(dir(KeptMatcher)), public - set(dir(KeptMatcher))
    body = big_feed()
    assert len(body) > POOL_THRESHOLD_BYTES
    parsers = FeedParsers(kept, workers=2)
    try:
        work = FeedBody(body, "http://127.0.0.1/wire", {}, None, datetime.now(UTC))
        parsed = parsers.submit(work).result()
    finally:
        parsers.close()
    assert len(parsed.documents) == 40
    assert all(
        [m.watch for m in parsed.matched[(d.source, d.key)]] == ["Joe Biden"]
        for d in parsed.documents
    )
    assert kept._matcher is None  # matched in the workers only
    assert kept.shared_names() == compiled.shared_names() and len(kept) == len(compiled)
    assert kept.match("", "Biden spoke.") == compiled.match("", "Biden spoke.")


def test_the_callers_work_runs_beside_the_child_whatever_it_finds(tmp_path: Path) -> None:
    """`ingest` imports its pipeline while the child validates a new config: that work
    runs once, the config comes back kept, and a bad config's problems still come back."""
    from newswatch.config import ConfigError
    from newswatch.config.aside import validated_aside

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'nw.db'}", seeds)
    settled(config)
    done: list[Path] = []
    kept = validated_aside(config, os.path.getmtime(config) + 60, lambda: done.append(config))
    assert done == [config] and kept is not None
    config_kept, matcher = kept
    assert config_kept.database == f"sqlite:///{tmp_path / 'nw.db'}"
    assert "Konstantin Kosachev" in {m.watch for m in matcher.match("Kosachev met NATO.", "")}
    assert cached_config(config) is not None  # the child kept it for the next run
    config.write_text(config.read_text() + "bogus_key: 1\n")
    settled(config)
    with pytest.raises(ConfigError) as raised:
        validated_aside(config, os.path.getmtime(config) + 60, lambda: done.append(config))
    assert done == [config, config]
    assert any("bogus_key" in problem for problem in raised.value.problems)


def test_every_module_that_validates_or_compiles_is_in_the_caches_key() -> None:
    """An edit of any code that decides whether a config is valid, or what its rules
    are, must make a kept config a miss: each newswatch module that validating and
    compiling the example config loads (in a fresh interpreter) is in the cache's code
    fingerprint, but for empty package files. (sources/plainurls.py, which reads feed
    URLs for the schema, was missing when it started to.)"""
    probe = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from newswatch.config import check_config\n"
        "from newswatch.match.watchlist import compile_config\n"
        "compile_config(check_config(Path('config/newswatch.yaml'))[0])\n"
        "print(json.dumps(sorted(m.__file__ for n, m in sys.modules.items()"
        " if n.startswith('newswatch') and getattr(m, '__file__', None))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    from newswatch.config.cache import _code_fingerprint

    keyed = {name for name, _size, _time in _code_fingerprint()}
    loaded = [Path(f) for f in json.loads(result.stdout)]
    unkeyed = [f for f in loaded if f.name not in keyed and f.read_text().strip()]
    assert unkeyed == []
