"""The `apprise` sink: one chat or push notification per document, through Apprise.

Apprise (imported only when a notification is sent or its URLs are checked:
it is slow to import) reaches 100+ services from one URL each: Slack, Teams,
Telegram, Matrix, Discord, ntfy... Those URLs hold tokens, so they come from
an environment variable or a file named in the config, are read when used,
and never appear in a message: a service is named by its scheme and where its
URL was written (`tgram:// (line 2 of /etc/newswatch/apprise.urls)`), and
what Apprise says about a failure has every part of the URL masked.

The alerts of one document in a batch (one per watch that matched it, grouped
by `render.articles` as e-mail groups them) make one notification: the title
on one line, the watches, the snippets with their matched terms in bold, the
source, the link and the story's other outlets, in markdown (Apprise converts it for services
that take HTML or text). A notification is `sent` once every service took
it; when one failed it waits (`later`), and the retry skips the services that
took it already (remembered while the process runs).
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from newswatch.alerts.render import (
    Article,
    Segment,
    articles,
    highlight,
    moment_text,
    outlet_source,
    shown_snippet,
)
from newswatch.alerts.safetext import (
    clean_line,
    markdown_escape,
    markdown_line,
    markdown_link,
    markdown_text,
)
from newswatch.alerts.sink import Outcome, SinkError
from newswatch.config.secrets import SecretUnavailable, read_secret
from newswatch.log import get_logger
from newswatch.model import Alert, Outlet
from newswatch.ops.feedhealth import Notice

if TYPE_CHECKING:
    from newswatch.config.schema import AppriseAlert

TEMPORARY_IN_A_ROW = 2
SNIPPETS_SHOWN = 3
TITLE_MAX = 250  # characters of a notification's title
_SPLIT_ENV = re.compile(r"\s+|,\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")
_URL_PARTS = re.compile(r"[/:@?&=#,;+\s]+")

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ServiceUrl:
    """One Apprise URL and where it was written (what messages show instead of it)."""

    url: str
    where: str

    @property
    def label(self) -> str:
        scheme = self.url.partition("://")[0] if "://" in self.url else "?"
        return f"{scheme}:// ({self.where})"


@dataclass(frozen=True, slots=True)
class Note:
    """One notification: the alerts it carries, its title and markdown body."""

    alert_ids: tuple[int, ...]
    title: str
    body: str


def read_urls(entry: AppriseAlert) -> list[ServiceUrl]:
    """The service URLs, read now; SecretUnavailable (saying how to mend) when there are none."""
    what = "the apprise URLs" + (f" of sink {entry.name!r}" if entry.name else "")
    text = read_secret(entry.urls_env, entry.urls_file, what) or ""
    if entry.urls_file is not None:
        return _file_urls(text, entry.urls_file)
    urls = [u for u in _SPLIT_ENV.split(text) if u]
    return [ServiceUrl(u, f"URL {n} in ${entry.urls_env}") for n, u in enumerate(urls, 1)]


def _file_urls(text: str, path: Path) -> list[ServiceUrl]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            found.append(ServiceUrl(line, f"line {number} of {path}"))
    if not found:
        raise SecretUnavailable(f"the apprise URLs: {path} holds no URL; write one per line")
    return found


def url_problems(entry: AppriseAlert) -> list[str]:
    """What `check` says of an apprise sink: URLs missing, or ones Apprise cannot use."""
    try:
        urls = read_urls(entry)
    except SecretUnavailable as exc:
        return [str(exc)]
    return [
        f"apprise cannot use the URL {service.label}: check it against the service's "
        "page in the Apprise wiki (https://github.com/caronc/apprise/wiki)"
        for service in urls
        if _notifier(service) is None
    ]


def notes(batch: Sequence[Alert]) -> list[Note]:
    """One note per document, in the order the documents first appear in the batch."""
    return [compose(article) for article in articles(batch)]


def compose(article: Article) -> Note:
    """The notification about one document (pure; every piece of feed text escaped).

    It shows what the e-mail about the document shows: the same source (a seed's
    publisher host, never a local path), snippets (none that repeats the title)
    with the same matched terms highlighted, in bold here."""
    lead = article.lead
    watches = " · ".join(_watch(alert) for alert in article.alerts)
    source = f"{markdown_text(article.source, 200)} · {moment_text(lead.published)}"
    lines = [f"**Watches:** {watches}", f"**Source:** {source}", ""]
    snippets = dict.fromkeys(
        marked_markdown(highlight(shown_snippet(alert), alert.matched)) for alert in article.alerts
    )
    lines += [f"> {shown}\n" for shown in [s for s in snippets if s][:SNIPPETS_SHOWN]]
    link = markdown_link(lead.url)
    lines.append(f"[Read the article]({link})" if link else "(no web link)")
    if article.others:
        outlets = ", ".join(_outlet(outlet) for outlet in article.others)
        lines.append(f"**Also reported by:** {outlets}")
    title = clean_line(lead.title, TITLE_MAX) or "(no title)"
    return Note(article.alert_ids, title, "\n".join(lines))


def _watch(alert: Alert) -> str:
    matched = ", ".join(alert.matched)
    return f"{markdown_text(alert.watch)} ({alert.kind}: {markdown_text(matched)})"


def marked_markdown(segments: Sequence[Segment]) -> str:
    """A snippet's segments as one markdown line: matched terms `**bold**`, all escaped."""
    return markdown_line(
        "".join(
            f"**{markdown_escape(text)}**" if marked else markdown_escape(text)
            for text, marked in segments
        )
    )


def _outlet(outlet: Outlet) -> str:
    link = markdown_link(outlet.url)
    name = markdown_text(outlet_source(outlet), 200) or "link"
    return f"[{name}]({link})" if link else name


class AppriseSink:
    """Sends each document's note to every service URL of the entry."""

    def __init__(self, entry: AppriseAlert, key: str) -> None:
        self.key = key
        self.entry = entry
        # note (its alert ids) -> services that took it, so a retry skips them
        self._done: dict[tuple[int, ...], set[str]] = {}

    def deliver(self, batch: Sequence[Alert]) -> Generator[Outcome, None, None]:
        services = self._services()
        in_a_row = 0
        for note in notes(batch):
            error = self._notify(services, note)
            if error is None:
                in_a_row = 0
                yield Outcome(note.alert_ids)
                continue
            in_a_row += 1
            yield Outcome(note.alert_ids, "later", error)
            if in_a_row >= TEMPORARY_IN_A_ROW:
                raise SinkError(f"{error}; {in_a_row} notifications in a row failed, backing off")

    def announce(self, notice: Notice) -> None:
        """A feed-health notice as a short notification; SinkError unless every service took it."""
        body = f"{markdown_text(notice.detail)}\n\n{markdown_link(notice.url) or ''}"
        note = Note((), clean_line(notice.subject, TITLE_MAX), body)
        error = self._notify(self._services(), note, remember=False)
        if error is not None:
            raise SinkError(error)

    def _services(self) -> list[tuple[ServiceUrl, Any]]:
        try:
            urls = read_urls(self.entry)
        except SecretUnavailable as exc:
            raise SinkError(f"{exc} (the alerts stay pending)") from None
        services = []
        for service in urls:
            notifier = _notifier(service)
            if notifier is None:
                raise SinkError(
                    f"apprise cannot use the URL {service.label}; `newswatch check` "
                    "says more (the alerts stay pending)"
                )
            services.append((service, notifier))
        return services

    def _notify(
        self, services: list[tuple[ServiceUrl, Any]], note: Note, *, remember: bool = True
    ) -> str | None:
        """Send to each service that has not taken the note yet; the error, or None."""
        done = self._done.setdefault(note.alert_ids, set()) if remember else set()
        failures = []
        for service, notifier in services:
            if service.url in done:
                continue
            try:
                result = notifier.notify(body=note.body, title=note.title, body_format="markdown")
            except Exception as exc:  # a plugin's bug must not stop the daemon's delivery
                failures.append(f"{service.label} failed ({type(exc).__name__})")
                continue
            if result:
                done.add(service.url)
                continue
            said = _warnings(result, [url for url, _ in services])
            failures.append(f"{service.label} failed" + (f" ({said})" if said else ""))
        if failures:
            return f"apprise sink {self.key}: " + "; ".join(failures)
        self._done.pop(note.alert_ids, None)
        return None


def _warnings(result: Any, urls: Sequence[ServiceUrl]) -> str:
    """What Apprise logged about a failure (Apprise 2's result logs), tokens masked."""
    entries = getattr(result, "logs", None)
    if entries is None:
        return ""
    said = [e.message for e in entries() if getattr(e, "level", "") in ("WARNING", "ERROR")]
    return redact(clean_line(" ".join(said), 300), [u.url for u in urls])


def redact(text: str, urls: Sequence[str]) -> str:
    """`text` with every part of every URL (but its scheme) of 4 characters or more masked."""
    pieces = {
        piece
        for url in urls
        for piece in _URL_PARTS.split(url.partition("://")[2])
        if len(piece) >= 4
    }
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, "***")
    return text


def _notifier(service: ServiceUrl) -> Any:
    """An Apprise object for this one URL, or None when Apprise cannot use it."""
    notifier = _apprise().Apprise()
    try:
        return notifier if notifier.add(service.url) else None
    except Exception:  # a plugin choking on odd input: its traceback would carry the URL
        return None


_quiet = threading.Lock()


def _apprise() -> ModuleType:
    """The apprise module, its own log kept out of ours (it could name a URL's parts)."""
    with warnings.catch_warnings():  # its own imports' deprecations are not ours to report
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

    with _quiet:
        logger = logging.getLogger("apprise")
        if logger.propagate:
            logger.propagate = False
            logger.addHandler(logging.NullHandler())
            logger.setLevel(logging.WARNING)
            logging.getLogger("urllib3").setLevel(logging.ERROR)  # its retries name URL paths
    return apprise
