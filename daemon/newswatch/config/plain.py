"""A validated config as plain frozen records: what `ingest` runs on (issue 11).

The pydantic models of config/schema.py validate; once a config is valid, the
commands only read its values. `plain_config` copies a validated `Config` into
the classes below (same class names, same attribute names and values, the
same methods), which pickle and unpickle without pydantic, the schema or YAML:
config/cache.py keeps them beside the compiled watch list, so a later `ingest`
of an unchanged config starts without validating it again. `ingest` runs on this
copy whether it was read from the cache or made after a full validation, so both
behave the same; tests hold the classes field for field to the schema's.

The watch list is left out: `ingest` gets it compiled (the cached matcher), and
a copy of 100,000 people would cost more to unpickle than it saves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, cast

from newswatch.config.secrets import smtp_password

if TYPE_CHECKING:
    from newswatch.config import schema


class _Plain:
    """A frozen record whose fields are its class's annotations (defaults: the class's
    values). Not a dataclass: making one execs its methods, which cost more start-up
    than this whole module otherwise (~1 ms a class)."""

    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        cls._fields = tuple(cls.__annotations__)  # its own: every record declares fields

    def __init__(self, **values: Any) -> None:
        unknown = values.keys() - set(self._fields)
        missing = [f for f in self._fields if f not in values and not hasattr(type(self), f)]
        if unknown or missing:
            raise TypeError(f"{type(self).__name__}: unknown {unknown}, missing {missing}")
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Plain)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({shown})"


class SeedSource(_Plain):
    path: Path
    name: str | None = None
    interval: timedelta | None = None
    node: str | None = None

    @property
    def source_name(self) -> str:
        return self.name or str(self.path).rstrip("/") or "seeds"


class FeedSource(_Plain):
    url: str
    name: str | None = None
    interval: timedelta | None = None
    silent_after: timedelta | None = None


class Sources(_Plain):
    seeds: tuple[SeedSource, ...] = ()
    feeds: tuple[FeedSource, ...] = ()
    opml: tuple[Path, ...] = ()
    include: tuple[Path, ...] = ()


class Schedule(_Plain):
    interval: timedelta
    seed_scan: timedelta


class LogAlert(_Plain):
    type: Literal["log"]
    name: str | None = None
    watches: tuple[str, ...] | None = None


class Smtp(_Plain):
    host: str
    port: int
    starttls: bool
    ssl: bool
    username: str | None
    password_env: str | None
    password_file: Path | None
    timeout: timedelta

    def password(self) -> str | None:
        """The secret, read now from the environment or the file named in the config."""
        return smtp_password(self.password_env, self.password_file)


class EmailAlert(_Plain):
    type: Literal["email"]
    name: str | None
    watches: tuple[str, ...] | None
    to: tuple[str, ...]
    sender: str
    smtp: Smtp
    mode: Literal["immediate", "digest"]
    every: timedelta | None
    at: str | None
    subject_prefix: str
    max_per_hour: int | None
    timezone: str | None


class WebhookAlert(_Plain):
    type: Literal["webhook"]
    name: str | None
    watches: tuple[str, ...] | None
    url: str
    secret_env: str | None
    secret_file: Path | None
    timeout: timedelta


class AppriseAlert(_Plain):
    type: Literal["apprise"]
    name: str | None
    watches: tuple[str, ...] | None
    urls_env: str | None
    urls_file: Path | None


class HttpServer(_Plain):
    listen: str
    sink_failing_after: timedelta


class Fetch(_Plain):
    connect_timeout: timedelta
    timeout: timedelta
    max_bytes: int
    concurrency: int
    per_host: int
    max_backoff: timedelta
    max_redirects: int


class Health(_Plain):
    failing_after: timedelta
    alerts: tuple[str, ...] | None


class Dedup(_Plain):
    threshold: float
    window: timedelta


class Retention(_Plain):
    documents: timedelta | None


class Node(_Plain):
    id: str | None
    lease: timedelta


AlertSink = LogAlert | EmailAlert | WebhookAlert | AppriseAlert


class Config(_Plain):
    """schema.Config without `watch` (see the module's docstring)."""

    database: str
    sources: Sources
    schedule: Schedule
    alerts: tuple[AlertSink, ...]
    health: Health
    retention: Retention
    http: HttpServer | None
    fetch: Fetch
    dedup: Dedup
    node: Node
    path: Path | None

    def health_sinks(self) -> list[str]:
        """The names of the sinks feed-health notices go to."""
        names = sink_names(self.alerts)
        if self.health.alerts is not None:
            return list(self.health.alerts)
        return [n for n, entry in zip(names, self.alerts, strict=True) if entry.type == "log"]


class _Named(Protocol):
    @property
    def name(self) -> str | None: ...

    @property
    def type(self) -> str: ...


def sink_names(alerts: Iterable[_Named]) -> list[str]:
    """Each sink's name in order: `name:`, else its type, numbered from the second (`email-2`).

    As schema.sink_names (which the schema's own checks use), without importing pydantic.
    """
    names: list[str] = []
    for entry in alerts:
        base, ordinal = entry.name or entry.type, 1
        while (name := base if ordinal == 1 else f"{base}-{ordinal}") in names:
            ordinal += 1
        names.append(name)
    return names


CLASSES: dict[str, type[_Plain]] = {
    cls.__name__: cls
    for cls in (
        SeedSource,
        FeedSource,
        Sources,
        Schedule,
        LogAlert,
        Smtp,
        EmailAlert,
        WebhookAlert,
        AppriseAlert,
        HttpServer,
        Fetch,
        Health,
        Dedup,
        Retention,
        Node,
        Config,
    )
}


def plain_config(config: schema.Config) -> schema.Config:
    """The plain copy of a validated config.

    Typed as what it mirrors: every command reads a config through the attributes
    and methods both have (tests hold them equal), so the code that reads it needs
    no second set of annotations.
    """
    return cast("schema.Config", _plain(config))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    cls = CLASSES.get(type(value).__name__) if hasattr(value, "model_fields_set") else None
    if cls is None:
        return value  # str, int, float, bool, None, Path, timedelta
    return cls(**{name: _plain(getattr(value, name)) for name in cls._fields})
