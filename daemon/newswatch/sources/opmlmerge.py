"""`import-opml --merge`: add an OPML file's feeds to a feeds file, never twice."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from newswatch.sources.opml import OpmlFeed

HEADER = (
    "# Feeds for newswatch, kept by `newswatch import-opml --merge`.\n"
    "# List this file in the main config under `sources: include:`.\n"
)


class MergeError(Exception):
    """The feeds file cannot be read or written; the message says how to mend it."""


def merge_feeds_file(path: Path, feeds: Sequence[OpmlFeed]) -> int:
    """Add feeds whose URL is not yet listed; return how many were added."""
    entries = _read_entries(path)
    known = {str(entry.get("url")) for entry in entries}
    added = 0
    for feed in feeds:
        if feed.url in known:
            continue
        entries.append({"url": feed.url, **({"name": feed.title} if feed.title else {})})
        known.add(feed.url)
        added += 1
    if added:
        _write_atomically(
            path,
            HEADER
            + yaml.safe_dump({"feeds": entries}, sort_keys=False, allow_unicode=True, width=1000),
        )
    return added


def _read_entries(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MergeError(f"{path}: cannot read the feeds file: {exc}") from None
    feeds = data.get("feeds") if isinstance(data, dict) else None
    if not isinstance(data, dict) or set(data) - {"feeds"} or not isinstance(feeds, list | None):
        raise MergeError(f"{path}: a feeds file holds only a `feeds:` list; merge into a new file")
    return [entry for entry in feeds or [] if isinstance(entry, dict)]


def _write_atomically(path: Path, text: str) -> None:
    folder = path.resolve().parent
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        raise MergeError(f"{path}: cannot write the feeds file: {exc.strerror}") from None
