"""Loading a configuration: the file, the files it includes, and every check.

Every problem in the file (and in the lists it includes) is collected and
reported together, each with `file:line`, so a user mends them in one go.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from newswatch.config.checks import (
    database_warnings,
    duplicate_names,
    routing_problems,
    seed_folder_problems,
    valid_watch_items,
    watch_items,
    watch_problems,
)
from newswatch.config.errors import ConfigError
from newswatch.config.messages import describe, forbidden_secrets, in_file_order
from newswatch.config.schema import Config, FeedList, FeedSource, Person, Sources, Watch
from newswatch.yamlsource import LocatedYaml, Location, PathKey, YamlError, load_located, paused_gc


def load_config(path: Path) -> Config:
    """Load, include and validate; raise ConfigError listing every problem."""
    return check_config(path)[0]


def check_config(path: Path) -> tuple[Config, list[str]]:
    """The config and its warnings (`file:line: warning: ...`), or ConfigError listing
    every problem of every kind, each with `file:line`, in file order."""
    located = _read(path)
    data = located.data if located.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError([f"{located.where(())}: the file must be a mapping of keys"])
    problems = list(forbidden_secrets(located))
    included = _load_includes(data, path, problems)
    try:
        with paused_gc():
            config = Config.model_validate({**data, "path": path})
    except ValidationError as exc:
        problems.extend(describe(exc, located))
        problems.extend(_valid_parts_problems(data, path, located))
        raise ConfigError(in_file_order(problems)) from None
    problems.extend(watch_problems(watch_items(config.watch), located.where, ("watch",)))
    errors, warnings = seed_folder_problems(config.sources.seeds, located.where)
    warnings += database_warnings(config.database, located.where)
    problems.extend(errors)
    config = _merge_watches(config, included)
    config = _add_listed_feeds(config, path, problems)
    problems.extend(duplicate_names(config, located.where))
    problems.extend(routing_problems(config, located.where))
    if problems:
        raise ConfigError(in_file_order(problems))
    return config, in_file_order(warnings)


def _valid_parts_problems(data: dict[str, Any], path: Path, located: LocatedYaml) -> list[str]:
    """What the checks after the schema find in the parts of an invalid file that are
    valid on their own, so that a user sees every problem in one run."""
    items = valid_watch_items(data.get("watch"))
    problems = list(watch_problems(items, located.where, ("watch",)))
    try:
        sources = Sources.model_validate(data.get("sources") or {})
    except ValidationError:
        return problems  # described by the schema errors
    problems += seed_folder_problems(sources.seeds, located.where)[0]
    _add_listed_feeds(Config(sources=sources), path, problems)
    return problems


def _read(path: Path) -> LocatedYaml:
    try:
        return load_located(path)
    except YamlError as exc:
        raise ConfigError([str(exc)]) from None


def _load_includes(data: dict[str, Any], path: Path, problems: list[str]) -> list[Watch]:
    """Watch lists from `watch.include` files, relative to the including file."""
    watch = data.get("watch")
    includes = watch.get("include") if isinstance(watch, dict) else None
    if not isinstance(includes, list):
        return []
    found = []
    for name in includes:
        target = Path(str(name))
        if not target.is_absolute():
            target = path.parent / target
        try:
            found.append(_load_include(target))
        except ConfigError as exc:
            problems.extend(exc.problems)
    return found


def _load_include(path: Path) -> Watch:
    """A YAML file with `people:` and `topics:` lists, or a CSV of name and aliases."""
    if path.suffix.lower() == ".csv":
        return _csv_watch(path)
    located = _read(path)
    data = located.data if located.data is not None else {}
    if not isinstance(data, dict) or "include" in data:
        raise ConfigError([f"{located.where(())}: expected a mapping with `people:` and `topics:`"])
    try:
        watch = Watch.model_validate(data)
    except ValidationError as exc:
        problems = describe(exc, located, Watch)
        problems += watch_problems(valid_watch_items(data), located.where, ())
        raise ConfigError(problems) from None
    problems = list(watch_problems(watch_items(watch), located.where, ()))
    if problems:
        raise ConfigError(problems)
    return watch


def _csv_watch(path: Path) -> Watch:
    """The people of a CSV watch list, their terms checked as a YAML list's are, each
    problem at its row."""
    rows = list(_read_people_csv(path))
    watch = Watch(people=tuple(person for _, person in rows))

    def where(key: PathKey) -> Location:
        return Location(str(path), rows[int(key[1])][0])

    problems = list(watch_problems(watch_items(watch), where, ()))
    if problems:
        raise ConfigError(problems)
    return watch


def _read_people_csv(path: Path) -> Iterable[tuple[int, Person]]:
    """(row number, person) of rows of `name, alias, alias...`; aliases may also be
    joined with `;` or `|`."""
    import csv  # only for such a list

    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}:1: cannot read the watch list: {exc}"]) from None
    problems = []
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row if c.strip()]
        if not cells or cells[0].startswith("#") or (number == 1 and cells[0].lower() == "name"):
            continue
        aliases = [a.strip() for cell in cells[1:] for a in re.split(r"[;|]", cell) if a.strip()]
        try:
            yield number, Person(name=cells[0], aliases=tuple(aliases))
        except ValidationError as exc:
            problems.append(f"{path}:{number}: {exc.errors()[0]['msg']}")
    if problems:
        raise ConfigError(problems)


def _add_listed_feeds(config: Config, path: Path, problems: list[str]) -> Config:
    """Feeds from `sources.include` files and `sources.opml` lists, after the inline ones."""
    listed: list[FeedSource] = []
    for name in config.sources.include:
        target = name if name.is_absolute() else path.parent / name
        try:
            listed += _load_feed_list(target)
        except ConfigError as exc:
            problems.extend(exc.problems)
    listed += _opml_feeds(config.sources.opml, problems)
    if not listed:
        return config
    by_url = {feed.url: feed for feed in listed}
    for feed in config.sources.feeds:  # an inline entry wins over a listed one
        by_url.pop(feed.url, None)
    sources = config.sources.model_copy(
        update={"feeds": config.sources.feeds + tuple(by_url.values())}
    )
    return config.model_copy(update={"sources": sources})


def _opml_feeds(files: tuple[Path, ...], problems: list[str]) -> list[FeedSource]:
    if not files:
        return []
    from newswatch.sources.opml import OpmlError, parse_opml  # XML: only for OPML lists

    listed: list[FeedSource] = []
    for opml_path in files:
        try:
            feeds = parse_opml(opml_path.read_bytes(), str(opml_path))
        except OSError as exc:
            problems.append(f"{opml_path}:1: cannot read the OPML file: {exc.strerror}")
            continue
        except OpmlError as exc:
            problems.append(str(exc))
            continue
        for feed in feeds:
            try:
                listed.append(FeedSource(url=feed.url, name=feed.title))
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
                problems.append(f"{opml_path}: the outline {feed.title or feed.url!r}: {reason}")
    return listed


def _load_feed_list(path: Path) -> list[FeedSource]:
    located = _read(path)
    try:
        return list(FeedList.model_validate(located.data or {}).feeds)
    except ValidationError as exc:
        raise ConfigError(describe(exc, located, FeedList)) from None


def _merge_watches(config: Config, included: list[Watch]) -> Config:
    if not included:
        return config
    people = config.watch.people + tuple(p for w in included for p in w.own_people())
    topics = config.watch.topics + tuple(t for w in included for t in w.topics)
    watch = config.watch.model_copy(update={"people": people, "topics": topics})
    return config.model_copy(update={"watch": watch})
