"""The `apprise` sink: one chat or push notification per document, through Apprise.

Apprise (imported only when a notification is sent or its URLs are checked:
it is slow to import) reaches 100+ services from one URL each: Slack, Teams,
Telegram, Matrix, Discord, ntfy... Those URLs hold tokens, so they come from
an environment variable or a file named in the config, are read when used,
and never appear in a message: a service is named by its scheme and where its
URL was written (`tgram:// (line 2 of /etc/newswatch/apprise.urls)`), and
what Apprise says about a failure has every part of the URL masked.

The alerts of one document in a batch (one per watch that matched it) make
one notification: the title on one line, the watches, the snippets, the link
and the story's other outlets, in markdown (Apprise converts it for services
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
from typing import Any

from newswatch.alerts.safetext import http_link, markdown_text, one_line
from newswatch.alerts.sink import Outcome, SinkError
from newswatch.config.schema import AppriseAlert
from newswatch.config.secrets import SecretUnavailable, read_secret
from newswatch.log import get_logger
from newswatch.model import Alert
from newswatch.ops.feedhealth import Notice

TEMPORARY_IN_A_ROW = 2
SNIPPETS_SHOWN = 3
_SPLIT_ENV = re.compile(r"\s+|,\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")
_URL_PARTS = re.compile(r"[/:@?&=#,;+\s]+")
_MARK = re.compile(r"«([^«»]+)»")

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
    by_document: dict[int, list[Alert]] = {}
    for alert in batch:
        by_document.setdefault(alert.document_id, []).append(alert)
    return [compose(alerts) for alerts in by_document.values()]


def compose(alerts: Sequence[Alert]) -> Note:
    """The notification of one document's alerts (pure; every piece of feed text escaped)."""
    first = alerts[0]
    watches = " · ".join(
        f"{markdown_text(a.watch)} ({a.kind}: {markdown_text(', '.join(a.matched))})"
        for a in alerts
    )
    lines = [f"**Watches:** {watches}", f"**Source:** {_source_line(first)}", ""]
    snippets = [s for s in dict.fromkeys(a.snippet for a in alerts) if _adds(s, first.title)]
    lines += [f"> {_snippet(s)}\n" for s in snippets[:SNIPPETS_SHOWN]]
    link = http_link(first.url)
    lines.append(f"[Read the article]({link})" if link else "(no web link)")
    others = first.story.others if first.story else ()
    if others:
        outlets = ", ".join(_outlet(o.source, o.url) for o in others)
        lines.append(f"**Also reported by:** {outlets}")
    ids = tuple(a.id for a in alerts if a.id is not None)
    return Note(ids, one_line(first.title) or "(no title)", "\n".join(lines))


def _adds(snippet: str, title: str) -> bool:
    """Whether a snippet says more than the title (one cut from the title does not)."""
    plain = one_line(_MARK.sub(r"\1", snippet)).strip(" .…")
    return bool(plain) and plain not in one_line(title)


def _snippet(snippet: str) -> str:
    """The snippet escaped, its matched terms (marked «term» by the matcher) in bold."""
    return _MARK.sub(r"**\1**", markdown_text(snippet))


def _source_line(alert: Alert) -> str:
    when = alert.published.strftime("%Y-%m-%d %H:%M UTC") if alert.published else "unknown time"
    return f"{markdown_text(alert.source, 200)} · {when}"


def _outlet(source: str, url: str | None) -> str:
    link = http_link(url)
    name = markdown_text(source, 200) or "link"
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
        body = f"{markdown_text(notice.detail)}\n\n{http_link(notice.url) or ''}"
        note = Note((), one_line(notice.subject), body)
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
    return redact(one_line(" ".join(said), 300), [u.url for u in urls])


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
