"""Checks beyond the schema: watch terms and queries, and the seed folders on disk.

They run on every part of a file that is valid on its own, whether or not the rest
of the file is, so that one `check` reports every problem instead of one kind per
round (the schema's first, then the queries').
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from newswatch.config.schema import Config, Person, SeedSource, Topic, Watch
from newswatch.match.nodes import walk_terms
from newswatch.match.query import QuerySyntaxError, parse_query
from newswatch.yamlsource import Location, PathKey

Where = Callable[[PathKey], Location]
WatchItem = tuple[str, int, Person | Topic]
MIN_WILDCARD_STEM = 3  # as in queries: `ab*` would match half the dictionary

_LETTER_OR_DIGIT = re.compile(r"[^\W_]")  # what str.isalnum() accepts, searched in C


def watch_items(watch: Watch) -> Iterator[WatchItem]:
    """(`people` or `topics`, index in its list, the watch) of a validated watch list."""
    yield from (("people", index, person) for index, person in enumerate(watch.people))
    yield from (("topics", index, topic) for index, topic in enumerate(watch.topics))


def valid_watch_items(raw: Any) -> Iterator[WatchItem]:
    """The people and topics of a watch list that did not validate as a whole which
    are valid on their own (the invalid ones are described by the schema errors)."""
    if not isinstance(raw, dict):
        return
    for kind, model in (("people", Person), ("topics", Topic)):
        items = raw.get(kind)
        for index, item in enumerate(items if isinstance(items, list) else []):
            try:
                yield kind, index, model.model_validate(item)
            except ValidationError:
                continue


def watch_problems(items: Iterable[WatchItem], where: Where, prefix: PathKey) -> Iterator[str]:
    """Terms that could never match, too short wildcards, and queries that do not parse."""
    for kind, index, watch in items:
        path = (*prefix, kind, index)
        yield from _term_problems(watch, where, path)
        if isinstance(watch, Topic) and watch.query is not None:
            yield from _query_problems(watch, str(where((*path, "query"))))


def duplicate_names(config: Config, where: Where) -> Iterator[str]:
    for kind, watches in (("people", config.watch.people), ("topics", config.watch.topics)):
        seen: set[str] = set()
        for index, watch in enumerate(watches):
            location = where(("watch", kind, index, "name"))
            if watch.name in seen:
                yield f"{location}: {kind} name {watch.name!r} is used twice; names must be unique"
            seen.add(watch.name)


def routing_problems(config: Config, where: Where) -> Iterator[str]:
    """A sink's `watches:` entry that matches no watch: a typo would silently route nothing."""
    routed = [(index, entry.watches) for index, entry in enumerate(config.alerts) if entry.watches]
    if not routed:
        return
    from newswatch.alerts.routing import unmatched  # only for sinks with `watches:`

    names = [w.name for w in (*config.watch.people, *config.watch.topics)]
    for index, patterns in routed:
        for pattern in unmatched(patterns, names):
            location = where(("alerts", index, "watches", patterns.index(pattern)))
            yield (
                f"{location}: alerts[{index}].watches: {pattern!r} matches no watch; "
                f"the watches are: {_listed(names)}"
            )


def _listed(names: list[str], shown: int = 20) -> str:
    """The first names (a watch list from a CSV may hold thousands) and how many more."""
    more = f", … ({len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more if names else "(none)"


def _term_problems(watch: Person | Topic, where: Where, path: PathKey) -> Iterator[str]:
    if isinstance(watch, Person) and not _LETTER_OR_DIGIT.search(watch.name):
        # a person's name is searched for too (match/rules.py): "   " would never match
        location = where((*path, "name"))
        yield f"{location}: person name {watch.name!r} has no letter or digit; write the name"
    keys = ("aliases", "exclude") if isinstance(watch, Person) else ("any", "all", "none")
    for key in keys:
        for j, term in enumerate(getattr(watch, key)):
            location = where((*path, key, j))
            if not _LETTER_OR_DIGIT.search(term):
                yield f"{location}: {watch.name!r}: term {term!r} has no letter or digit"
            elif isinstance(watch, Topic) and _short_wildcard(term):
                yield (
                    f"{location}: {watch.name!r}: wildcard {term!r} needs at least "
                    f"{MIN_WILDCARD_STEM} letters or digits before *; write more of the word "
                    "or list the words in full"
                )


def _short_wildcard(term: str) -> bool:
    return term.endswith("*") and sum(c.isalnum() for c in term[:-1]) < MIN_WILDCARD_STEM


def _query_problems(topic: Topic, where: str) -> Iterator[str]:
    assert topic.query is not None
    try:
        tree = parse_query(topic.query)
    except QuerySyntaxError as exc:
        yield (
            f"{where}: query of topic {topic.name!r}: {exc.message} "
            f"at column {exc.column + 1}: {topic.query}"
        )
        return
    if not (topic.any or topic.all) and all(negated for _, negated in walk_terms(tree)):
        yield (
            f"{where}: query of topic {topic.name!r} only excludes terms, so it can never "
            "match; add a term that must appear"
        )


def seed_folder_problems(seeds: Iterable[SeedSource], where: Where) -> tuple[list[str], list[str]]:
    """(errors, warnings) for the seed folders as they are on disk now.

    A missing folder whose parent exists is a warning: the daemon starts reading it
    once it is created (a deploy step or another program may make it later). A missing
    parent too is an error: nothing in the usual run of things creates it, so it is a
    typo or a volume that is not there, and the daemon would watch nothing forever.
    """
    errors, warnings = [], []
    for index, seed in enumerate(seeds):
        location = where(("sources", "seeds", index, "path"))
        folder = seed.path
        if folder.is_dir():
            continue
        if folder.exists():
            errors.append(f"{location}: seed folder {folder} is not a folder; point it at one")
        elif not _parent(folder).is_dir():
            errors.append(
                f"{location}: seed folder {folder} does not exist, nor does "
                f"{_parent(folder)}; fix the path or create the folder"
            )
        else:
            warnings.append(
                f"{location}: warning: seed folder {folder} does not exist yet; "
                "newswatch reads it once it is created"
            )
    return errors, warnings


# `sqlite://`, `sqlite:///`, `sqlite:///:memory:` (any driver, any query): no file
_IN_MEMORY = re.compile(r"sqlite(?:\+\w+)?://(?:/(?::memory:)?)?(?:\?.*)?", re.IGNORECASE)


def database_warnings(url: str, where: Where) -> list[str]:
    """A warning for an SQLite database held in memory: a daemon on one forgets every
    document and alert at its restart, and alerts on all of them again."""
    if not _IN_MEMORY.fullmatch(url.strip()):
        return []
    return [
        f"{where(('database',))}: warning: {url.strip()} is a database in memory: nothing "
        "is kept when the command ends; write sqlite:///path/to/file.db to keep it"
    ]


def _parent(folder: Path) -> Path:
    return folder.absolute().parent
