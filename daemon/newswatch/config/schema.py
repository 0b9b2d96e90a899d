"""The configuration schema: frozen, typed pydantic models and their value types.

Durations are written 90s, 15m, 2h, 1d (at most 100 years); sizes 10MiB, 512KB.
Unknown keys are refused (`extra="forbid"`) so a typo never passes silently.

No `from __future__ import annotations` here: pydantic would evaluate every field's
annotation from its text at class creation (~1% of `check`), where Python has just
made the objects itself; a method returning its own class names it in quotes.
"""

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from newswatch.config.mailbox import mailbox
from newswatch.config.secrets import smtp_password
from newswatch.config.zones import zone_named
from newswatch.listen import StatusServerError, parse_listen
from newswatch.sources.plainurls import feed_url_problem

MAX_DURATION = timedelta(days=36500)  # 100 years
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
    """'90s', '15m', '2h', '1d' (or a number of seconds) -> timedelta, at most
    MAX_DURATION."""
    if isinstance(value, timedelta):
        return _bounded(value, value)
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90s, 15m, 2h or 1d")
    if isinstance(value, int | float):
        return _bounded(value, float(value))
    match = _DURATION.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a duration; write it like 90s, 15m, 2h or 1d")
    number, unit = match.groups()
    return _bounded(value, float(number) * _UNIT_SECONDS[unit or "s"])


def _bounded(value: Any, length: timedelta | float) -> timedelta:
    """The duration, if at most MAX_DURATION: a longer one is a typo, and added to
    today's date it can leave the calendar (`interval: 3000000d` stopped `ingest`
    with an OverflowError once the feed was fetched)."""
    seconds = length.total_seconds() if isinstance(length, timedelta) else length
    if seconds != seconds:  # NaN (YAML's .nan)
        raise ValueError(f"{value!r} is not a duration; write it like 90s, 15m, 2h or 1d")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{value!r} is longer than {MAX_DURATION.days} days; write a shorter one")
    return length if isinstance(length, timedelta) else timedelta(seconds=seconds)


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
Mailbox = Annotated[str, AfterValidator(mailbox)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class SeedSource(_Model):
    path: Path
    name: str | None = None
    interval: PositiveDuration | None = None
    node: str | None = None  # several nodes: only the node with this `node.id` imports it

    @property
    def source_name(self) -> str:
        return self.name or str(self.path).rstrip("/") or "seeds"


class FeedSource(_Model):
    url: NonEmpty
    name: str | None = None
    interval: PositiveDuration | None = None
    silent_after: PositiveDuration | None = None  # no new entry for this long: a health notice

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        problem = feed_url_problem(url.strip())
        if problem:
            raise ValueError(problem)
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
CaseMode = Literal["smart", "insensitive"]
AmbiguousPolicy = Literal["salient", "all", "none"]


class _WatchBase(_Model):
    name: NonEmpty
    min_mentions: Annotated[int, Field(ge=1)] = 1
    fields: tuple[WatchField, ...] = ("title", "body")
    sources: tuple[str, ...] | None = None
    case: CaseMode = "smart"  # smart: a term with capitals needs them; insensitive: 0.1's rule


class Person(_WatchBase):
    aliases: tuple[NonEmpty, ...] = ()
    exclude: tuple[NonEmpty, ...] = ()
    ambiguous: AmbiguousPolicy | None = None  # this person's own `watch.ambiguous`


class Topic(_WatchBase):
    any: tuple[NonEmpty, ...] = ()
    all: tuple[NonEmpty, ...] = ()
    none: tuple[NonEmpty, ...] = ()
    query: str | None = None

    @model_validator(mode="after")
    def _has_terms(self) -> "Topic":
        if not (self.any or self.all or self.query):
            raise ValueError(f"topic {self.name!r} needs `any`, `all` or `query`")
        return self


class Watch(_Model):
    include: tuple[Path, ...] = ()
    people: tuple[Person, ...] = ()
    topics: tuple[Topic, ...] = ()
    ambiguous: AmbiguousPolicy | None = None  # an alias shared by people none of whom is named

    def own_people(self) -> tuple[Person, ...]:
        """The people of this list, each with the list's `ambiguous` policy unless their own."""
        if self.ambiguous is None:
            return self.people
        policy = self.ambiguous
        return tuple(
            p if p.ambiguous else p.model_copy(update={"ambiguous": policy}) for p in self.people
        )


def _one_or_many(value: Any) -> Any:
    """`watches: NATO` is read as `watches: [NATO]`."""
    return (value,) if isinstance(value, str) else value


class SinkBase(_Model):
    """What every alert sink has, whatever its `type` (a new sink type inherits it)."""

    name: str | None = None  # how /metrics and the logs call it (default: log, email-2, ...)
    # routing: the watches (names or shell-style globs, any case) this sink hears of; None: all
    watches: Annotated[tuple[NonEmpty, ...], BeforeValidator(_one_or_many)] | None = None

    @field_validator("watches")
    @classmethod
    def _some_watches(cls, watches: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if watches is not None and not watches:
            raise ValueError(
                "an empty list sends this sink nothing; list watches, or remove `watches:` "
                "for every watch"
            )
        return watches


class LogAlert(SinkBase):
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

    @field_validator("host")
    @classmethod
    def _host_name(cls, host: str) -> str:
        """A name or an address: a space or a line break in it would fail every delivery
        (to an unknown host) instead of the check."""
        name = host.strip()
        if not name or any(c.isspace() or not c.isprintable() for c in name):
            raise ValueError(
                f"{host!r} is not a host name; write one such as mail.example.org or 127.0.0.1"
            )
        return name

    @model_validator(mode="after")
    def _login(self) -> "Smtp":
        if (self.password_env or self.password_file) and not self.username:
            raise ValueError("a password is configured but no `username` to log in with")
        if self.ssl and self.starttls:
            raise ValueError("choose `ssl: true` (implicit TLS) or `starttls: true`, not both")
        return self

    def password(self) -> str | None:
        """The secret, read now from the environment or the file named in the config."""
        return smtp_password(self.password_env, self.password_file)


class EmailAlert(SinkBase):
    type: Literal["email"]
    to: tuple[Mailbox, ...] = Field(min_length=1)
    sender: Mailbox = Field(alias="from")
    smtp: Smtp = Field(default_factory=Smtp)
    mode: Literal["immediate", "digest"] = "immediate"
    every: PositiveDuration | None = None
    at: str | None = None
    subject_prefix: str = "[newswatch]"
    # immediate mode: messages beyond this in a clock hour wait for one digest at the next hour
    max_per_hour: Annotated[int, Field(ge=1)] | None = None
    # IANA name of the zone `at` and the printed times are in (default: the system's)
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone_name(cls, value: str | None) -> str | None:
        if value is not None:
            zone_named(value)
        return value

    @field_validator("at")
    @classmethod
    def _clock_time(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^([01]?\d|2[0-3]):[0-5]\d$", value):
            raise ValueError(f"{value!r} is not a time of day; write it like 07:00")
        return value

    @model_validator(mode="after")
    def _digest_schedule(self) -> "EmailAlert":
        to = ", ".join(self.to)
        if self.mode == "digest" and (self.every is None) == (self.at is None):
            raise ValueError(
                f'email digest to {to}: give either `every: 1h` or `at: "07:00"` '
                "(in `timezone:`, default the system's)"
            )
        if self.mode == "immediate" and (self.every is not None or self.at is not None):
            raise ValueError(f"email to {to}: `every` and `at` need `mode: digest`")
        if self.mode == "digest" and self.max_per_hour is not None:
            raise ValueError(f"email digest to {to}: `max_per_hour` is for `mode: immediate`")
        return self


class WebhookAlert(SinkBase):
    """POST each alert's JSON record to `url`, signed when a secret is given."""

    type: Literal["webhook"]
    name: str | None = None  # also its outbox key: `webhook:<name>` (default: the URL's host)
    url: NonEmpty
    secret_env: str | None = None  # HMAC-SHA256 key for X-Newswatch-Signature
    secret_file: Path | None = None
    timeout: PositiveDuration = timedelta(seconds=10)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^/\s?#]+", url.strip(), re.IGNORECASE):
            raise ValueError("the webhook url must be an http:// or https:// URL")
        problem = feed_url_problem(url.strip())
        if problem:
            raise ValueError(f"the webhook url: {problem}")
        return url.strip()

    @model_validator(mode="after")
    def _one_secret(self) -> "WebhookAlert":
        if self.secret_env and self.secret_file:
            raise ValueError("give `secret_env` or `secret_file`, not both")
        return self


class AppriseAlert(SinkBase):
    """Chat and push notifications through Apprise; its URLs hold tokens, so they are
    read from an environment variable or a file, never written in this file."""

    type: Literal["apprise"]
    urls_env: NonEmpty | None = None  # a variable holding URLs, separated by spaces
    urls_file: Path | None = None  # a file with one URL a line (`#` starts a comment)

    @model_validator(mode="after")
    def _one_source(self) -> "AppriseAlert":
        if (self.urls_env is None) == (self.urls_file is None):
            raise ValueError(
                "an apprise sink needs exactly one of `urls_env: VARIABLE` or `urls_file: PATH` "
                "(the service URLs hold tokens, so they are not written in this file)"
            )
        return self


AlertSink = Annotated[
    LogAlert | EmailAlert | WebhookAlert | AppriseAlert, Field(discriminator="type")
]


class HttpServer(_Model):
    listen: str = "127.0.0.1:9464"
    # /healthz says `degraded` once an alert sink has been failing for this long
    sink_failing_after: PositiveDuration = timedelta(minutes=15)

    @field_validator("listen")
    @classmethod
    def _address(cls, listen: str) -> str:
        try:
            parse_listen(listen)
        except StatusServerError as exc:  # its message starts with `http.listen 'value':`
            raise ValueError(str(exc).removeprefix("http.listen ")) from None
        return listen


class Fetch(_Model):
    """How feeds are fetched; the defaults suit a polite, patient client."""

    connect_timeout: PositiveDuration = timedelta(seconds=10)
    timeout: PositiveDuration = timedelta(seconds=30)
    max_bytes: Size = 10 * 2**20
    concurrency: Annotated[int, Field(ge=1, le=1024)] = 16
    per_host: Annotated[int, Field(ge=1, le=64)] = 2
    max_backoff: PositiveDuration = timedelta(hours=6)
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5


class Health(_Model):
    """Feed-health notices: a feed failing this long, or silent past its `silent_after`."""

    failing_after: PositiveDuration = timedelta(hours=24)
    alerts: tuple[NonEmpty, ...] | None = None  # sink names; default: every log sink


def sink_names(alerts: tuple[AlertSink, ...]) -> list[str]:
    """Each sink's name in order: `name:`, else its type, numbered from the second (`email-2`)."""
    names: list[str] = []
    for entry in alerts:
        base, ordinal = entry.name or entry.type, 1
        while (name := base if ordinal == 1 else f"{base}-{ordinal}") in names:
            ordinal += 1
        names.append(name)
    return names


class Dedup(_Model):
    """Near-duplicates: copies at least `threshold` similar (estimated Jaccard of
    3-word shingles), published and stored within `window` of each other, are one
    story (the band index keeps only the window's days: store.stories)."""

    threshold: Annotated[float, Field(gt=0, le=1)] = 0.4
    window: PositiveDuration = timedelta(days=7)


class Retention(_Model):
    """How long documents are kept (none: for ever). Documents that alerted, and a
    story's first document, are kept whatever their age."""

    documents: PositiveDuration | None = None


class Node(_Model):
    """This process as one of several nodes on one PostgreSQL database."""

    id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    # a dead node's feeds and sinks are taken over this long after its last heartbeat
    lease: Annotated[timedelta, BeforeValidator(lambda v: _at_least(parse_duration(v), 3))] = (
        timedelta(seconds=30)
    )


def _at_least(delta: timedelta, seconds: float) -> timedelta:
    if delta.total_seconds() < seconds:
        raise ValueError(f"must be at least {seconds:g}s")
    return delta


class Config(_Model):
    database: NonEmpty = "sqlite:///newswatch.db"
    sources: Sources = Field(default_factory=Sources)
    schedule: Schedule = Field(default_factory=Schedule)
    watch: Watch = Field(default_factory=Watch)
    alerts: tuple[AlertSink, ...] = Field(default_factory=lambda: (LogAlert(type="log"),))
    health: Health = Field(default_factory=Health)
    retention: Retention = Field(default_factory=Retention)
    http: HttpServer | None = None
    fetch: Fetch = Field(default_factory=Fetch)
    dedup: Dedup = Field(default_factory=Dedup)
    node: Node = Field(default_factory=Node)
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _health_sinks(self) -> "Config":
        unknown = sorted(set(self.health.alerts or ()) - set(sink_names(self.alerts)))
        if unknown:
            known = ", ".join(sink_names(self.alerts))
            raise ValueError(f"health.alerts names no sink {unknown}; the sinks are: {known}")
        return self

    def health_sinks(self) -> list[str]:
        """The names of the sinks feed-health notices go to."""
        names = sink_names(self.alerts)
        if self.health.alerts is not None:
            return list(self.health.alerts)
        return [n for n, entry in zip(names, self.alerts, strict=True) if entry.type == "log"]

    @field_validator("database")
    @classmethod
    def _database_url(cls, url: str) -> str:
        if "://" not in url:
            raise ValueError(  # the value is not echoed: it may hold a password
                "this is not a database URL; write sqlite:///path/to/file.db "
                "or postgresql+psycopg://user@host/dbname"
            )
        return url
