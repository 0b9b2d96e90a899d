"""Write daemon/newswatch/match/ordinary.txt: words news text writes mostly in lower case.

A word counts where it stands inside a sentence (not first, not in a line of
capitals): `lower` times written in lower case, `upper` times capitalised.
It is ordinary when `lower` >= 5 and 2 * lower >= upper (a third of its uses at
least): "law" (lower case nearly always) is ordinary; "trump", "putin" are not. The 50 entries of
precision_set.json are left out, so the labelled set does not grade its own list.

    .venv/bin/python bench/make_ordinary.py
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import feedparser

from bench_match import CORPUS, _entry_text

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "daemon" / "newswatch" / "match" / "ordinary.txt"
WORD = re.compile(r"(?<![\w'’.-])([A-Za-z][a-z]+)(?![\w-])")
SENTENCE_END = re.compile(r"[.!?:;\"“”‘’'(\[—–-]\s*$")


def entries() -> list[str]:
    texts = []
    for path in sorted(CORPUS.iterdir()):
        if len(path.name) != 16:
            continue
        parsed = feedparser.parse(
            path.read_bytes(), sanitize_html=False, resolve_relative_uris=False
        )
        texts += [_entry_text(entry) for entry in parsed.entries]
    return texts


def count(texts: list[str], held_out: set[str]) -> tuple[Counter[str], Counter[str]]:
    lower: Counter[str] = Counter()
    upper: Counter[str] = Counter()
    for text in texts:
        if any(snippet in text for snippet in held_out):
            continue
        for match in WORD.finditer(text):
            start = match.start()
            before = text[max(start - 3, 0) : start]
            if start == 0 or SENTENCE_END.search(before):
                continue
            word = match.group(1)
            (lower if word[0].islower() else upper)[word.lower()] += 1
    return lower, upper


def main() -> None:
    labelled = json.loads((ROOT / "bench" / "precision_set.json").read_text(encoding="utf-8"))
    held_out = {doc["body"][:80] for doc in labelled["documents"] if len(doc["body"]) >= 80}
    lower, upper = count(entries(), held_out)
    words = sorted(w for w, n in lower.items() if n >= 5 and 2 * n >= upper[w])
    header = (
        "# Words that news text writes mostly in lower case (bench/make_ordinary.py).\n"
        "# A one-word alias that is one of them is capitalised by its place, not its name,\n"
        "# at the start of a sentence or in a headline: see match/context.py.\n"
    )
    OUT.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} words -> {OUT}")


if __name__ == "__main__":
    main()
