"""HTML to text and the glued-sentence splitter, old against new, on every corpus entry.

Every entry of the 200-feed corpus (feedparser with the sanitizer off, the
longest content or else the summary, as `sources.feeds` takes it) goes through
the regex converter and splitter of commit OLD (read with `git show`) and
through the current ones. Reported:

- words kept per entry class (an entry is in every class whose markup it holds),
  and the entries where one converter keeps fewer words than the other;
- time per fragment, best of --repeat passes;
- the splitter's insertions (a space put after `.` `!` `?` inside a run of
  non-space characters), and those inside dotted identifiers, domains,
  abbreviations and numbers (`System.Xml`, `sun.misc.Unsafe`, `3.5`).

    .venv/bin/python bench/bench_htmltext.py [--repeat 3] [--show CLASS] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import subprocess
import sys
import time
import types
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
from selectolax.lexbor import LexborHTMLParser

from corpus import CORPUS
from newswatch import htmltext, normalize

ROOT = Path(__file__).resolve().parent.parent
OLD = "4e6dcdc"  # main before the lexbor converter and the stricter splitter

CLASSES = {
    "self-closing script/svg/iframe/style": r"<(?:script|svg|iframe|style|title|textarea)\b[^>]*/>",
    "literal head/select/noscript": r"<(?:head|select|noscript)\b",
    "object": r"<object\b",
    "attribute > 2,000 chars": r"=\s*(?:\"[^\"]{2000}|'[^']{2000})",
    "unbalanced quote": htmltext._UNCLOSED_QUOTE_RE.pattern,
    "br": r"<br\b",
    "ordered list": r"<ol\b",
}
# A dotted identifier, domain, abbreviation or number: a run of word pieces joined
# by dots with more than one dot, or a piece that is not a plain word.
_DOTTED = re.compile(r"^[\w@#+-]+(?:\.[\w@#+<>(){}-]+)+\.?[);,]*$")


def old_module(path: str, name: str) -> types.ModuleType:
    """A module as it was at commit OLD."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{OLD}:{path}"], capture_output=True, text=True
    ).stdout
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, f"{OLD}:{path}", "exec"), module.__dict__)
    return module


def entries(corpus: Path) -> Iterator[tuple[str, str, str]]:
    """(feed, title, HTML) for every entry of the corpus."""
    for path in sorted(corpus.iterdir()):
        if path.name == "MANIFEST.tsv":
            continue
        parsed = feedparser.parse(
            io.BytesIO(path.read_bytes()), sanitize_html=False, resolve_relative_uris=False
        )
        for entry in parsed.entries:
            contents = [c.get("value") or "" for c in entry.get("content") or ()]
            body = max(contents, key=len) if any(contents) else entry.get("summary") or ""
            yield path.name, entry.get("title") or "", body


def words(text: str) -> int:
    return len(text.split())


def per_fragment(convert: Callable[[str], str], markup: list[str], repeat: int) -> list[float]:
    """Seconds for each fragment, the best of `repeat` passes over the corpus."""
    best = [float("inf")] * len(markup)
    for _ in range(repeat):
        for i, fragment in enumerate(markup):
            started = time.perf_counter()
            convert(fragment)
            best[i] = min(best[i], time.perf_counter() - started)
    return best


def parse_only(fragment: str) -> str:
    """The floor: lexbor's parse and its own text(), no marks, no repairs."""
    body = LexborHTMLParser(fragment).body
    return "" if body is None else body.text(deep=True, separator="")


def insertions(split: Callable[[str], str], text: str) -> list[str]:
    """The runs of non-space characters the splitter put a space into (it only adds spaces)."""
    out, found, i = split(text), [], 0
    for char in out:
        if i < len(text) and char == text[i]:
            i += 1
            continue
        start = max(text.rfind(" ", 0, i), text.rfind("\n", 0, i)) + 1
        end = min((e for e in (text.find(" ", i), text.find("\n", i)) if e >= 0), default=len(text))
        found.append(text[start:end])
    return found


def kind_of(run: str) -> str:
    """ "identifier" for a run no sentence has (more than one dot, digits, `_`, brackets,
    a capital inside a word: `System.Xml`, `sun.misc.Unsafe`, `3.5`, `fmt.Println(`);
    "pair" for two plain words joined by a full stop (`said.What`, `bytes.Buffer`: only
    a reader can tell); "other" for a stop that is not a lone full stop (`wait...Then`)."""
    run = run.strip("“”\"'‘’«»()[],;:")
    if not _DOTTED.match(run):
        return "other"
    pieces = run.rstrip(".").split(".")
    plain = len(pieces) == 2 and all(p.isalpha() for p in pieces) and pieces[0].islower()
    return "pair" if plain and pieces[1][1:] in (pieces[1][1:].lower(), "") else "identifier"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--show", help="print old/new text of the entries of this class")
    args = parser.parse_args()
    old_text = old_module("daemon/newswatch/htmltext.py", "old_htmltext")
    old_norm = old_module("daemon/newswatch/normalize.py", "old_normalize")
    corpus = list(entries(args.corpus))
    kept: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    for feed, title, markup in corpus:
        old, new = old_text.html_to_text(markup), htmltext.html_to_text(markup)
        classes = [n for n, p in CLASSES.items() if re.search(p, markup, re.I)] or ["other"]
        for name in [*classes, "all"]:
            kept[name, "entries"] += 1
            kept[name, "old"] += words(old)
            kept[name, "new"] += words(new)
            kept[name, "empty old"] += not old.strip()
            kept[name, "empty new"] += not new.strip()
            lost[name] += words(new) < words(old)
        if args.show in classes and words(old) != words(new):
            print(f"--- {feed} {title[:60]!r}\nOLD {old[:600]!r}\nNEW {new[:600]!r}\n")
    print(
        "| entry class | entries | words, regex | words, lexbor | recovered | empty before/after "
        "| entries with fewer words |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name in [*CLASSES, "other", "all"]:
        old_words, new_words = kept[name, "old"], kept[name, "new"]
        print(
            f"| {name} | {kept[name, 'entries']:,} | {old_words:,} | {new_words:,} "
            f"| {new_words - old_words:+,} | {kept[name, 'empty old']}/{kept[name, 'empty new']} "
            f"| {lost[name]} |"
        )
    markup = [m for _, _, m in corpus]
    size = sum(map(len, markup)) / len(markup)
    print(f"\nper fragment (mean {size / 1000:.1f} KB), best of {args.repeat}:")
    converters = (
        ("regex (old)", old_text.html_to_text),
        ("lexbor (new)", htmltext.html_to_text),
        ("lexbor parse + text() only", parse_only),
    )
    for name, convert in converters:
        seconds = per_fragment(convert, markup, args.repeat)
        mean, median = statistics.fmean(seconds), statistics.median(seconds)
        typical = [s for s, m in zip(seconds, markup, strict=True) if 5000 <= len(m) <= 8000]
        print(
            f"  {name}: mean {mean * 1e6:.0f} µs, median {median * 1e6:.0f} µs, "
            f"5-8 KB fragments {statistics.fmean(typical) * 1e6:.0f} µs, "
            f"{sum(map(len, markup)) / sum(seconds) / 1e6:.1f} MB/s"
        )
    report_splitter(corpus, old_norm)


def report_splitter(corpus: list[tuple[str, str, str]], old_norm: types.ModuleType) -> None:
    texts = {
        "titles": [t for _, t, _ in corpus],
        "bodies": [htmltext.html_to_text(m) for _, _, m in corpus],
    }
    for kind, items in texts.items():
        for name, split in (("old", old_norm._split_glued), ("new", normalize._split_glued)):
            runs = [r for text in items for r in insertions(split, " ".join(text.split()))]
            kinds = Counter(kind_of(r) for r in runs)
            print(
                f"splitter {name}, {kind}: {len(runs):,} insertions; {kinds['identifier']:,} "
                f"inside identifiers/numbers, {kinds['pair']:,} in word.Word pairs, "
                f"{kinds['other']:,} other (after ... ! ? quotes, or code with quotes)"
            )
            examples = sorted({r for r in runs if kind_of(r) == "identifier"})[:6]
            pairs = sorted({r for r in runs if kind_of(r) == "pair"})
            print(f"  identifiers e.g. {examples}\n  pairs: {pairs[:40]}")


if __name__ == "__main__":
    main()
