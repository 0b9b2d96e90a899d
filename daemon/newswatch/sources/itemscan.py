"""Items in a feed body that the parser could not read: counted, and the cause named.

feedparser says nothing when it skips an item it cannot place: 35
`<rss:item>` elements with an undeclared `rss` prefix make a feed of zero
entries, which looked like a quiet feed (`[ok] 0 documents`). A scan of the
body for item-like start tags (`item` or `entry`, with any prefix) tells an
empty feed from an unreadable one, and names why; in a feed that did give
entries, prefixed items that were skipped are counted too. Pure.
"""

from __future__ import annotations

import re
from collections import Counter

_ITEM_TAG = re.compile(rb"<(?:([A-Za-z_][\w.-]{0,40}):)?(item|entry)[\s/>]")
# Items that feedparser skips while reading others are prefixed ones (an RSS
# feed with some `<rss:item>`): their end tags are a cheap sign, where a full
# scan of every body would cost ~3% of the parse time on the corpus.
_PREFIXED_END = re.compile(rb":(?:item|entry)>")
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.DOTALL)


def lost_items(data: bytes, entries: int, problem: str | None) -> str | None:
    """Why item-like elements in `data` gave only `entries` entries; None if none were lost."""
    if entries and not _PREFIXED_END.search(data):
        return None  # the usual case, settled in one quick pass
    tags = _item_tags(data)
    total = sum(tags.values())
    if total <= entries:
        return None
    cause = _cause(data, tags, problem)
    if entries == 0:
        return f"{total} {_names(tags)} elements, none readable: {cause}"
    return f"{total - entries} of {total} {_names(tags)} elements could not be read: {cause}"


def _item_tags(data: bytes) -> Counter[str]:
    if b"<![CDATA[" in data:  # HTML quoted in CDATA may hold anything
        data = _CDATA.sub(b"", data)
    found = _ITEM_TAG.findall(data)
    return Counter(
        (prefix + b":" + name if prefix else name).decode("ascii") for prefix, name in found
    )


def _names(tags: Counter[str]) -> str:
    return "/".join(f"<{tag}>" for tag, _ in tags.most_common())


def _cause(data: bytes, tags: Counter[str], problem: str | None) -> str:
    prefixes = [tag.partition(":")[0] for tag, _ in tags.most_common() if ":" in tag]
    if prefixes:
        uri = _namespace(data, prefixes[0])
        if uri is None:
            return f"undeclared namespace prefix '{prefixes[0]}'"
        return f"prefix '{prefixes[0]}' names {uri!r}, not an RSS, RDF or Atom namespace"
    if problem:
        return problem
    return "they are not in an RSS, RDF or Atom namespace the parser reads"


def _namespace(data: bytes, prefix: str) -> str | None:
    """The URI an `xmlns:prefix` declaration anywhere in the body gives, if any."""
    pattern = rb"xmlns:" + re.escape(prefix.encode()) + rb"\s*=\s*[\"']([^\"']*)"
    declared = re.search(pattern, data)
    return declared.group(1).decode("utf-8", "replace") if declared else None
