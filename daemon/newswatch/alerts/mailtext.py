"""The plain-text and HTML bodies of alert e-mails (pure).

Everything from a feed is escaped before it goes into HTML; a link is an
`<a href>` only when it is http(s); no image, script, style or remote
resource is ever written. Matched terms are `<mark>`ed in HTML and `*starred*`
in text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
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


def _snippet(alert: Alert) -> list[Segment]:
    return highlight(shown_snippet(alert), alert.matched)


# --- one message per document -----------------------------------------------------


def article_plain(article: Article, zone: tzinfo = UTC) -> str:
    lead = article.lead
    lines = [
        *_lines("Title", [article.title]),
        *_lines("URL", [url_text(lead.url)]),
        *_lines("Source", [article.source]),
        *_lines("Published", [moment_text(lead.published, zone)]),
        *_lines("Also in", [_outlet_text(o) for o in article.others]),
    ]
    for alert in article.alerts:
        lines += ["", *_lines("Watch", [f"{clean_line(alert.watch)} ({alert.kind})"])]
        lines += _lines("Matched", [", ".join(clean_line(t) for t in alert.matched)])
        snippet = marked_text(_snippet(alert))
        lines += [f"  {snippet}"] if snippet else []
    return "\n".join([*lines, ""])


def article_html(article: Article, zone: tzinfo = UTC) -> str:
    lead = article.lead
    rows = [
        ("Source", escape(article.source)),
        ("Published", escape(moment_text(lead.published, zone))),
    ]
    if lead.url and not article.link:
        rows.append(("URL", escape(url_text(lead.url))))  # not http(s): shown as text only
    table = "".join(f"<tr><th align=left>{k}</th><td>{v}</td></tr>" for k, v in rows)
    parts = [f"<h2>{link_html(lead.url, article.title)}</h2><table>{table}</table>"]
    parts.append(_also_html(article.others))
    for alert in article.alerts:
        parts.append(f"<h3>{escape(clean_line(alert.watch))} ({escape(alert.kind)})</h3>")
        parts.append(_matched_html(alert))
    return "".join(parts)


def _matched_html(alert: Alert) -> str:
    terms = escape(", ".join(clean_line(t) for t in alert.matched))
    snippet = _snippet(alert)
    quote = f"<blockquote>{marked_html(snippet)}</blockquote>" if snippet else ""
    return f"<p>Matched: {terms}</p>{quote}"


# --- digests ----------------------------------------------------------------------


def count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("ch") else "s")
    return f"{number} {noun if number == 1 else plural}"


def digest_plain(summary: str, groups: Sequence[WatchGroup], zone: tzinfo = UTC) -> str:
    lines = [f"newswatch digest: {summary}", ""]
    for group in groups:
        heading = f"{clean_line(group.watch)} ({group.kind})"
        lines += [f"== {heading}: {count(group.alerts, 'alert')}", ""]
        for entry in group.entries:
            lines += [*_entry_plain(entry, zone), ""]
    return "\n".join(lines)


def _entry_plain(entry: Entry, zone: tzinfo) -> list[str]:
    alert = entry.alert
    lines = [f"* {clean_line(alert.title) or '(no title)'}"]
    lines += [
        f"  URL: {url_text(alert.url)}",
        f"  Source: {alert_source(alert)}",
        f"  Published: {moment_text(alert.published, zone)}",
        f"  Matched: {', '.join(clean_line(t) for t in alert.matched)}",
    ]
    lines += [f"  Also in: {_outlet_text(o)}" for o in entry.others]
    snippet = marked_text(_snippet(alert))
    return [*lines, f"  {snippet}"] if snippet else lines


def digest_html(summary: str, groups: Sequence[WatchGroup], zone: tzinfo = UTC) -> str:
    parts = [f"<p>newswatch digest: {escape(summary)}</p>"]
    for group in groups:
        heading = f"{clean_line(group.watch)} ({group.kind})"
        parts.append(f"<h2>{escape(heading)}: {count(group.alerts, 'alert')}</h2>")
        parts += [_entry_html(entry, zone) for entry in group.entries]
    return "".join(parts)


def _entry_html(entry: Entry, zone: tzinfo) -> str:
    alert = entry.alert
    title = clean_line(alert.title) or "(no title)"
    facts = f"{alert_source(alert)} · {moment_text(alert.published, zone)}"
    if alert.url and not safe_link(alert.url):
        facts += f" · {url_text(alert.url)}"
    return (
        f"<h3>{link_html(alert.url, title)}</h3><p>{escape(facts)}</p>"
        f"{_matched_html(alert)}{_also_html(entry.others)}"
    )
