"""The plain-text and HTML bodies of alert e-mails (pure).

Everything from a feed is escaped before it goes into HTML; a link is an
`<a href>` only when it is http(s); no image, script, style or remote
resource is ever written. Matched terms are `<mark>`ed in HTML and `*starred*`
in text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo

from newswatch.alerts.render import (
    Article,
    Entry,
    Segment,
    WatchGroup,
    alert_source,
    clean_line,
    highlight,
    moment_text,
    outlet_source,
    safe_link,
    shown_snippet,
)
from newswatch.model import Alert, Outlet

LABEL = 11  # width of "Published: "


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def marked_text(segments: Sequence[Segment]) -> str:
    return "".join(f"*{text}*" if marked else text for text, marked in segments)


def marked_html(segments: Sequence[Segment]) -> str:
    return "".join(
        f"<mark>{escape(text)}</mark>" if marked else escape(text) for text, marked in segments
    )


def link_html(url: str | None, text: str) -> str:
    """`text` linked to `url` if that is an http(s) URL, else `text` alone (escaped)."""
    link = safe_link(url)
    return f'<a href="{escape(link)}">{escape(text)}</a>' if link else escape(text)


def url_text(url: str | None) -> str:
    return clean_line(url) if url else "(none)"


def _outlet_text(outlet: Outlet) -> str:
    return f"{outlet_source(outlet)} <{url_text(outlet.url) if outlet.url else 'no link'}>"


def _outlet_html(outlet: Outlet) -> str:
    label = outlet_source(outlet)
    if safe_link(outlet.url) or not outlet.url:
        return link_html(outlet.url, label)
    return f"{escape(label)} ({escape(url_text(outlet.url))})"  # shown, never linked


def _lines(label: str, values: Sequence[str], indent: str = "") -> list[str]:
    """`Label:    first` then the others aligned under it."""
    head = f"{indent}{label + ':':<{LABEL}}"
    return [(head if n == 0 else " " * len(head)) + value for n, value in enumerate(values)]


def _also_html(others: Sequence[Outlet]) -> str:
    if not others:
        return ""
    items = "".join(f"<li>{_outlet_html(o)}</li>" for o in others)
    return f"<p>Also in:</p><ul>{items}</ul>"


@dataclass(frozen=True, slots=True)
class _Shown:
    """What one alert shows under its watch, worked out once for both bodies."""

    heading: str  # `NATO (topic)`
    matched: str
    snippet: list[Segment]

    @classmethod
    def of(cls, alert: Alert) -> _Shown:
        matched = ", ".join(clean_line(t) for t in alert.matched)
        heading = f"{clean_line(alert.watch)} ({alert.kind})"
        return cls(heading, matched, highlight(shown_snippet(alert), alert.matched))

    def html(self) -> str:
        quote = f"<blockquote>{marked_html(self.snippet)}</blockquote>" if self.snippet else ""
        return f"<p>Matched: {escape(self.matched)}</p>{quote}"


# --- one message per document -----------------------------------------------------


def article_bodies(article: Article, zone: tzinfo = UTC) -> tuple[str, str]:
    """The plain-text and HTML bodies of the message about one document."""
    lead = article.lead
    title, link, url = article.title, article.link, url_text(lead.url)
    source, published = article.source, moment_text(lead.published, zone)
    shown = [_Shown.of(alert) for alert in article.alerts]
    return (
        _article_plain(title, url, source, published, article.others, shown),
        _article_html(
            title,
            link,
            url if lead.url and not link else None,
            source,
            published,
            article.others,
            shown,
        ),
    )


def article_plain(article: Article, zone: tzinfo = UTC) -> str:
    return article_bodies(article, zone)[0]


def _article_plain(
    title: str,
    url: str,
    source: str,
    published: str,
    others: Sequence[Outlet],
    shown: Sequence[_Shown],
) -> str:
    lines = [
        *_lines("Title", [title]),
        *_lines("URL", [url]),
        *_lines("Source", [source]),
        *_lines("Published", [published]),
        *_lines("Also in", [_outlet_text(o) for o in others]),
    ]
    for one in shown:
        lines += ["", *_lines("Watch", [one.heading]), *_lines("Matched", [one.matched])]
        snippet = marked_text(one.snippet)
        lines += [f"  {snippet}"] if snippet else []
    return "\n".join([*lines, ""])


def _article_html(
    title: str,
    link: str | None,
    bad_url: str | None,
    source: str,
    published: str,
    others: Sequence[Outlet],
    shown: Sequence[_Shown],
) -> str:
    rows = [("Source", escape(source)), ("Published", escape(published))]
    if bad_url is not None:
        rows.append(("URL", escape(bad_url)))  # not http(s): shown as text only
    table = "".join(f"<tr><th align=left>{k}</th><td>{v}</td></tr>" for k, v in rows)
    heading = f'<a href="{escape(link)}">{escape(title)}</a>' if link else escape(title)
    parts = [f"<h2>{heading}</h2><table>{table}</table>", _also_html(others)]
    for one in shown:
        parts += [f"<h3>{escape(one.heading)}</h3>", one.html()]
    return "".join(parts)


# --- digests ----------------------------------------------------------------------


def count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("ch") else "s")
    return f"{number} {noun if number == 1 else plural}"


def digest_bodies(
    summary: str, groups: Sequence[WatchGroup], zone: tzinfo = UTC
) -> tuple[str, str]:
    """The plain-text and HTML bodies of a digest."""
    lines = [f"newswatch digest: {summary}", ""]
    parts = [f"<p>newswatch digest: {escape(summary)}</p>"]
    for group in groups:
        heading = f"{clean_line(group.watch)} ({group.kind}): {count(group.alerts, 'alert')}"
        lines += [f"== {heading}", ""]
        parts.append(f"<h2>{escape(heading)}</h2>")
        for entry in group.entries:
            plain, rich = _entry(entry, zone)
            lines += [*plain, ""]
            parts.append(rich)
    return "\n".join(lines), "".join(parts)


def _entry(entry: Entry, zone: tzinfo) -> tuple[list[str], str]:
    alert, shown = entry.alert, _Shown.of(entry.alert)
    title = clean_line(alert.title) or "(no title)"
    source, published = alert_source(alert), moment_text(alert.published, zone)
    lines = [
        f"* {title}",
        f"  URL: {url_text(alert.url)}",
        f"  Source: {source}",
        f"  Published: {published}",
        f"  Matched: {shown.matched}",
        *(f"  Also in: {_outlet_text(o)}" for o in entry.others),
    ]
    snippet = marked_text(shown.snippet)
    lines += [f"  {snippet}"] if snippet else []
    facts = f"{source} · {published}"
    if alert.url and not safe_link(alert.url):
        facts += f" · {url_text(alert.url)}"
    rich = (
        f"<h3>{link_html(alert.url, title)}</h3><p>{escape(facts)}</p>"
        f"{shown.html()}{_also_html(entry.others)}"
    )
    return lines, rich
