"""A larger feed set made from the corpus: each feed served as several outlets (issue 11).

Copy 1 of a feed is the feed as it is. Copy k > 1 gets its entries' identities
made its own, so that each copy's entries are new documents: in the XML, the
text of `<link>`, `<guid>` and `<id>` and every `href="..."` (an absolute URL
gets the host `ck.` + its host, anything else the prefix `ck-`), and each
`<title>` gets " (k)" at its end; in a JSON feed, each item's `id`, `url` and
`title`, the same way. Nothing else changes (namespaces, dates, bodies), so
the fast parse path takes as many copies as it takes originals, and every
story of the corpus has `copies` outlets: the near-duplicate index and the
stories' merges are part of the cost.

    .venv/bin/python bench/feed_set.py OUT [--copies 3] [--corpus DIR]
    .venv/bin/python bench/bench_vs_newsboat.py --corpus OUT --no-startup
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from corpus import CORPUS

_NOT_FEEDS = (".tsv", ".md")
# what makes an entry itself, and what stands before it: an element's text (not an
# empty element's, `<link href="..."/>`, nor its blanks), an href's value
_IDENTITY = re.compile(
    rb"(?P<before><(?:link|guid|id)(?:\s[^>]*)?(?<!/)>\s*(?:<!\[CDATA\[)?)"
    rb"(?P<value>[^<\]\s][^<\]]*)"
)
_HREF = re.compile(rb"""(?P<before>\shref=["'])(?P<value>[^"']*)""")
_TITLE_END = re.compile(rb"(\]\]>)?(\s*</title>)")


def copied_identity(value: str, copy: int) -> str:
    """The identity (URL, guid, id) of copy number `copy` of an entry."""
    if copy == 1:
        return value
    scheme, found, rest = value.partition("://")
    return f"{scheme}://c{copy}.{rest}" if found else f"c{copy}-{value}"


def copied_xml(body: bytes, copy: int) -> bytes:
    """Copy number `copy` of an XML feed (RSS, Atom, RDF)."""
    if copy == 1:
        return body

    def identity(match: re.Match[bytes]) -> bytes:
        value = copied_identity(match["value"].decode("utf-8", "surrogateescape"), copy)
        return match["before"] + value.encode("utf-8", "surrogateescape")

    def title(match: re.Match[bytes]) -> bytes:
        """The title with " (k)" at its end, inside its CDATA section if it has one."""
        return b" (%d)" % copy + (match.group(1) or b"") + match.group(2)

    body = _IDENTITY.sub(identity, body)
    body = _HREF.sub(identity, body)
    return _TITLE_END.sub(title, body)


def copied_json(body: bytes, copy: int) -> bytes:
    """Copy number `copy` of a JSON Feed."""
    if copy == 1:
        return body
    feed = json.loads(body)
    for item in feed.get("items") or []:
        for key in ("id", "url"):
            if isinstance(item.get(key), str):
                item[key] = copied_identity(item[key], copy)
        if isinstance(item.get("title"), str):
            item["title"] = f"{item['title']} ({copy})"
    return json.dumps(feed, ensure_ascii=False).encode("utf-8")


def make_feed_set(corpus: Path, out: Path, copies: int) -> int:
    """Write `copies` copies of every feed of `corpus` into `out`; return how many."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written = 0
    for path in sorted(corpus.iterdir()):
        if path.name.endswith(_NOT_FEEDS) or not path.is_file():
            continue
        body = path.read_bytes()
        is_json = body.lstrip()[:1] == b"{"
        for copy in range(1, copies + 1):
            made = copied_json(body, copy) if is_json else copied_xml(body, copy)
            (out / f"{path.name}-{copy}").write_bytes(made)
            written += 1
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    count = make_feed_set(args.corpus, args.out, args.copies)
    size = sum(p.stat().st_size for p in args.out.iterdir()) / 1e6
    print(f"{count} feeds, {size:.0f} MB -> {args.out}")


if __name__ == "__main__":
    main()
