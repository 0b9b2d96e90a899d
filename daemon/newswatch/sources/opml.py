"""OPML subscription lists -> feed URLs, and back out as YAML for the config.

Any `<outline>` with an `xmlUrl` (at any depth, in any folder) is a feed; the
title comes from `title`, else `text`. Duplicates keep their first place.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass

import yaml


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None = None


class OpmlError(Exception):
    """The file is not OPML we can read; the message says where and how to mend it."""


def parse_opml(data: bytes, where: str) -> list[OpmlFeed]:
    """The feeds listed in an OPML document; `where` names it in error messages."""
    root = _parse_xml(data, where)
    if root.tag.lower() != "opml":
        raise OpmlError(
            f"{where}: the root element is <{root.tag}>, not <opml>; "
            "export the subscriptions from your feed reader as OPML"
        )
    feeds: dict[str, OpmlFeed] = {}
    skipped = []
    for outline in root.iter("outline"):
        url = _feed_url(outline)
        if not url:
            continue
        if not url.lower().startswith(("http://", "https://")):
            skipped.append(url)
            continue
        title = (outline.get("title") or outline.get("text") or "").strip() or None
        feeds.setdefault(url, OpmlFeed(url=url, title=title))
    if not feeds:
        hint = f" (skipped, not http(s): {', '.join(skipped[:3])})" if skipped else ""
        raise OpmlError(f"{where}: no feeds found: no <outline> has an http(s) xmlUrl{hint}")
    return list(feeds.values())


def _feed_url(outline: ElementTree.Element) -> str:
    """`xmlUrl`, whatever its capitalisation (exporters disagree)."""
    for name, value in outline.attrib.items():
        if name.lower() == "xmlurl":
            return value.strip()
    return ""


def _parse_xml(data: bytes, where: str) -> ElementTree.Element:
    """ElementTree over expat: no external entities, and expat caps entity expansion."""
    if b"<!ENTITY" in data[:65536]:
        raise OpmlError(f"{where}: entity declarations are not allowed in OPML; remove the DOCTYPE")
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        line, column = exc.position
        raise OpmlError(
            f"{where}:{line}: not well-formed XML at column {column + 1}: {_reason(exc)}; "
            "fix the file or export it again"
        ) from None


def _reason(exc: ElementTree.ParseError) -> str:
    return str(exc).split(":", 1)[0]


def feeds_yaml(feeds: Sequence[OpmlFeed], indent: int = 4) -> str:
    """YAML list items to paste under `sources: feeds:` (indented as in the example config)."""
    entries = [{"url": f.url, **({"name": f.title} if f.title else {})} for f in feeds]
    text = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=1000)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))
