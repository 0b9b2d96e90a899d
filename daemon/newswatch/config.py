"""YAML configuration -> frozen, typed objects, validated once at load.

Every problem in the file (and in the watch lists it includes) is collected
and reported together, each with `file:line`, so a user mends them in one go.
"""

from __future__ import annotations

import csv
import difflib
import os
import re
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from newswatch.match.query import QuerySyntaxError, parse_query
from newswatch.sources.opml import OpmlError, parse_opml
from newswatch.yamlsource import LocatedYaml, Location, PathKey, YamlError, load_located

CONFIG_ENV = "NEWSWATCH_CONFIG"
DEFAULT_CONFIG_PATHS = (Path("config/newswatch.yaml"), Path("/etc/newswatch/newswatch.yaml"))

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$", re.IGNORECASE)
_SIZE_FACTOR = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 10**6,
    "mib": 2**20,
    "gb": 10**9,
    "gib": 2**30,
}


def parse_duration(value: Any) -> timedelta:
    """'90s', '15m', '2h', '1d' (or a number of seconds) -> timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90s, 15m, 2h or 1d")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a duration; write it like 90s, 15m, 2h or 1d")
    number, unit = match.groups()
    return timedelta(seconds=float(number) * _UNIT_SECONDS[unit or "s"])


def parse_size(value: Any) -> int:
    """'10MiB', '512KB' or a number of bytes -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a size; write it like 10MiB, 512KB or 1048576")
    number, unit = match.groups()
    return int(number) * _SIZE_FACTOR[(unit or "b").lower()]


def _positive(delta: timedelta) -> timedelta:
    if delta.total_seconds() <= 0:
        raise ValueError("must be longer than zero")
    return delta


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[timedelta, BeforeValidator(lambda v: _positive(parse_duration(v)))]
Size = Annotated[int, BeforeValidator(parse_size), Field(gt=0)]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SeedSource(_Model):
    path: Path
    name: str | None = None
    interval: PositiveDuration | None = None

    @property
    def source_name(self) -> str:
        return self.name or str(self.path).rstrip("/") or "seeds"


class FeedSource(_Model):
    url: NonEmpty
    name: str | None = None
    interval: PositiveDuration | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return url.strip()


class Sources(_Model):
    seeds: tuple[SeedSource, ...] = ()
    feeds: tuple[FeedSource, ...] = ()
    opml: tuple[Path, ...] = ()
    include: tuple[Path, ...] = ()


class FeedList(_Model):
    """A feeds file named in `sources.include` (what `import-opml --merge` writes)."""

    feeds: tuple[FeedSource, ...] = ()


class Schedule(_Model):
    interval: PositiveDuration = timedelta(minutes=15)
    seed_scan: PositiveDuration = timedelta(seconds=5)


WatchField = Literal["title", "body"]


class _WatchBase(_Model):
    name: NonEmpty
    min_mentions: Annotated[int, Field(ge=1)] = 1
    fields: tuple[WatchField, ...] = ("title", "body")
    sources: tuple[str, ...] | None = None


class Person(_WatchBase):
    aliases: tuple[NonEmpty, ...] = ()
    exclude: tuple[NonEmpty, ...] = ()


class Topic(_WatchBase):
    any: tuple[NonEmpty, ...] = ()
    all: tuple[NonEmpty, ...] = ()
    none: tuple[NonEmpty, ...] = ()
    query: str | None = None

    @model_validator(mode="after")
    def _has_terms(self) -> Topic:
        if not (self.any or self.all or self.query):
            raise ValueError(f"topic {self.name!r} needs `any`, `all` or `query`")
        return self


class Watch(_Model):
    include: tuple[Path, ...] = ()
    people: tuple[Person, ...] = ()
    topics: tuple[Topic, ...] = ()


class LogAlert(_Model):
    type: Literal["log"]


class Smtp(_Model):
    host: str = "localhost"
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    timeout: PositiveDuration = timedelta(seconds=30)

    def password(self) -> str | None:
        """The secret, read now from the environment or the file named in the config."""
        if self.password_env:
            return os.environ.get(self.password_env)
        if self.password_file:
            return self.password_file.read_text(encoding="utf-8").strip()
        return None


class EmailAlert(_Model):
    type: Literal["email"]
    to: tuple[NonEmpty, ...] = Field(min_length=1)
    sender: NonEmpty = Field(alias="from")
    smtp: Smtp = Smtp()
    mode: Literal["immediate", "digest"] = "immediate"
    every: PositiveDuration | None = None
    at: str | None = None
    subject_prefix: str = "[newswatch]"

    @field_validator("at")
    @classmethod
    def _clock_time(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^([01]?\d|2[0-3]):[0-5]\d$", value):
            raise ValueError(f"{value!r} is not a time of day; write it like 07:00")
        return value


AlertSink = Annotated[LogAlert | EmailAlert, Field(discriminator="type")]


class HttpServer(_Model):
    listen: str = "127.0.0.1:9464"


class Fetch(_Model):
    """How feeds are fetched; the defaults suit a polite, patient client."""

    connect_timeout: PositiveDuration = timedelta(seconds=10)
    timeout: PositiveDuration = timedelta(seconds=30)
    max_bytes: Size = 10 * 2**20
    concurrency: Annotated[int, Field(ge=1, le=1024)] = 16
    per_host: Annotated[int, Field(ge=1, le=64)] = 2
    max_backoff: PositiveDuration = timedelta(hours=6)
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5


class Config(_Model):
    database: NonEmpty = "sqlite:///newswatch.db"
    sources: Sources = Sources()
    schedule: Schedule = Schedule()
    watch: Watch = Watch()
    alerts: tuple[AlertSink, ...] = (LogAlert(type="log"),)
    http: HttpServer | None = None
    fetch: Fetch = Fetch()
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("database")
    @classmethod
    def _database_url(cls, url: str) -> str:
        if "://" not in url:
            raise ValueError(
                f"{url!r} is not a database URL; write sqlite:///path/to/file.db "
                "or postgresql+psycopg://user@host/dbname"
            )
        return url


class ConfigError(Exception):
    """Every problem found in a configuration, each with its `file:line`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def find_config_path(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    for candidate in DEFAULT_CONFIG_PATHS:
        if candidate.exists():
            return candidate
    raise ConfigError(
        [
            "no configuration found: pass --config PATH, set $NEWSWATCH_CONFIG, or create "
            + " or ".join(str(p) for p in DEFAULT_CONFIG_PATHS)
        ]
    )


def load_config(path: Path) -> Config:
    """Load, include and validate; raise ConfigError listing every problem."""
    try:
        located = load_located(path)
    except YamlError as exc:
        raise ConfigError([str(exc)]) from None
    data = located.data if located.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError([f"{located.where(())}: the file must be a mapping of keys"])
    problems = list(_forbidden_secrets(located))
    included = _load_includes(data, path, problems)
    try:
        config = Config.model_validate({**data, "path": path})
    except ValidationError as exc:
        problems.extend(_describe(exc, located))
        raise ConfigError(_in_file_order(problems)) from None
    config = _merge_watches(config, included)
    config = _add_listed_feeds(config, path, problems)
    problems.extend(_check_watches(config, located))
    if problems:
        raise ConfigError(_in_file_order(problems))
    return config


def _in_file_order(problems: list[str]) -> list[str]:
    """Sorted by file and line; a secret written in the file is reported once."""

    def position(problem: str) -> tuple[str, int]:
        file, _, rest = problem.partition(":")
        line = rest.split(":", 1)[0]
        return (file, int(line) if line.isdigit() else 0)

    unique = [p for p in problems if "is not a key here" not in p]
    return sorted(dict.fromkeys(unique), key=position)


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
        return Watch(people=tuple(_read_people_csv(path)))
    try:
        located = load_located(path)
    except YamlError as exc:
        raise ConfigError([str(exc)]) from None
    data = located.data if located.data is not None else {}
    if not isinstance(data, dict) or "include" in data:
        raise ConfigError([f"{located.where(())}: expected a mapping with `people:` and `topics:`"])
    try:
        return Watch.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{located.where(_yaml_path(e['loc']))}: {_message(e, _yaml_path(e['loc']), Watch)}"
            for e in exc.errors()
        ]
        raise ConfigError(problems) from None


def _read_people_csv(path: Path) -> Iterable[Person]:
    """Rows of `name, alias, alias...`; aliases may also be joined with `;` or `|`."""
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
            yield Person(name=cells[0], aliases=tuple(aliases))
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
    for opml_path in config.sources.opml:
        try:
            feeds = parse_opml(opml_path.read_bytes(), str(opml_path))
        except OSError as exc:
            problems.append(f"{opml_path}:1: cannot read the OPML file: {exc.strerror}")
            continue
        except OpmlError as exc:
            problems.append(str(exc))
            continue
        listed += [FeedSource(url=f.url, name=f.title) for f in feeds]
    if not listed:
        return config
    by_url = {feed.url: feed for feed in listed}
    for feed in config.sources.feeds:  # an inline entry wins over a listed one
        by_url.pop(feed.url, None)
    sources = config.sources.model_copy(
        update={"feeds": config.sources.feeds + tuple(by_url.values())}
    )
    return config.model_copy(update={"sources": sources})


def _load_feed_list(path: Path) -> list[FeedSource]:
    try:
        located = load_located(path)
    except YamlError as exc:
        raise ConfigError([str(exc)]) from None
    try:
        return list(FeedList.model_validate(located.data or {}).feeds)
    except ValidationError as exc:
        raise ConfigError(
            [
                f"{located.where(_yaml_path(e['loc']))}: "
                f"{_message(e, _yaml_path(e['loc']), FeedList)}"
                for e in exc.errors()
            ]
        ) from None


def _merge_watches(config: Config, included: list[Watch]) -> Config:
    if not included:
        return config
    people = config.watch.people + tuple(p for w in included for p in w.people)
    topics = config.watch.topics + tuple(t for w in included for t in w.topics)
    watch = config.watch.model_copy(update={"people": people, "topics": topics})
    return config.model_copy(update={"watch": watch})


def _check_watches(config: Config, located: LocatedYaml) -> Iterable[str]:
    for kind, watches in (("people", config.watch.people), ("topics", config.watch.topics)):
        seen: set[str] = set()
        for index, watch in enumerate(watches):
            where = located.where(("watch", kind, index, "name"))
            if watch.name in seen:
                yield f"{where}: {kind} name {watch.name!r} is used twice; names must be unique"
            seen.add(watch.name)
    for index, topic in enumerate(config.watch.topics):
        if topic.query is None:
            continue
        try:
            parse_query(topic.query)
        except QuerySyntaxError as exc:
            where = located.where(("watch", "topics", index, "query"))
            yield (
                f"{where}: query of topic {topic.name!r}: {exc.message} "
                f"at column {exc.column + 1}: {topic.query}"
            )


_SECRET_KEYS = {"password", "secret", "token", "api_key"}


def _forbidden_secrets(located: LocatedYaml) -> Iterable[str]:
    for path_key, location in located.locations.items():
        if path_key and path_key[-1] in _SECRET_KEYS:
            name = path_key[-1]
            yield (
                f"{location}: `{name}` must not be written in the file; "
                f"use {name}_env: VARIABLE or {name}_file: PATH"
            )


def _describe(exc: ValidationError, located: LocatedYaml) -> Iterable[str]:
    for error in exc.errors():
        loc = _yaml_path(error["loc"])
        yield f"{located.where(loc)}: {_message(error, loc)}"


def _yaml_path(loc: tuple[int | str, ...]) -> PathKey:
    """Pydantic's error path, without the names of union members it inserts."""
    aliases = {"sender": "from"}
    return tuple(
        aliases.get(part, part) if isinstance(part, str) else part
        for part in loc
        if not (isinstance(part, str) and part in {"log", "email", "function-after[_has_terms()]"})
    )


def _message(error: Any, loc: PathKey, root: type[BaseModel] | None = None) -> str:
    dotted = ".".join(str(part) for part in loc) or "the file"
    kind = error["type"]
    if kind == "extra_forbidden" and loc[-1] in _SECRET_KEYS:
        return f"`{loc[-1]}` is not a key here"
    if kind == "extra_forbidden":
        return f"unknown key {loc[-1]!r} in {_parent(loc)}{_did_you_mean(loc, root or Config)}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r} in {_parent(loc)}"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return f"{dotted}: `type` must be one of: log, email"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{dotted}: {message}"


def _parent(loc: PathKey) -> str:
    parent = ".".join(str(part) for part in loc[:-1])
    return f"`{parent}`" if parent else "the top level"


def _did_you_mean(loc: PathKey, root: type[BaseModel]) -> str:
    candidates = _keys_at(root, loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), candidates, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; known keys: {', '.join(sorted(candidates))}" if candidates else ""


def _keys_at(root: type[BaseModel], parent: PathKey) -> list[str]:
    """The keys allowed at a path, for "did you mean" (unions contribute all members)."""
    models: list[type[BaseModel]] = [root]
    for part in parent:
        if isinstance(part, int):
            continue
        fields = [m.model_fields[part] for m in models if part in m.model_fields]
        models = [model for f in fields for model in _models_in(f.annotation)]
    keys = {f.alias or n for m in models for n, f in m.model_fields.items() if n != "path"}
    return sorted(keys)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in getattr(annotation, "__args__", ()) for model in _models_in(arg)]


__all__ = [
    "Config",
    "ConfigError",
    "Duration",
    "EmailAlert",
    "FeedSource",
    "Location",
    "LogAlert",
    "Person",
    "SeedSource",
    "Topic",
    "find_config_path",
    "load_config",
    "parse_duration",
]
