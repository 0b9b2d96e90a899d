"""Charset settling cost: `decode_body` on the corpus and on legacy-charset feeds.

Rows: the 200 corpus bodies (all UTF-8 but one, which declares ISO-8859-1),
then ~60-80 KB feeds in Greek, Arabic, Japanese and Chinese, once with their
charset declared (the fast path) and once undeclared (charset-normalizer).
CPU time, best of --repeat.

    .venv/bin/python bench/bench_charset.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from corpus import CORPUS
from newswatch.sources.charset import decode_body

SENTENCES = {
    "cp1253": "Η κυβέρνηση ανακοίνωσε σήμερα νέα μέτρα για τη στήριξη των νοικοκυριών.",
    "cp1256": "أعلنت الحكومة اليوم عن خطة جديدة لدعم الأسر ذات الدخل المحدود.",
    "shift_jis": "政府は本日、家計を支援するための新たな対策を発表しました。",
    "gb2312": "政府今天宣布了支持低收入家庭的新计划。",
}


def feed(codec: str, declared: bool) -> bytes:
    text = SENTENCES[codec]
    items = "".join(
        f"<item><guid>{n}</guid><title>{text[:20]}</title><description>{text} {text}"
        "</description></item>"
        for n in range(300)
    )
    head = f'<?xml version="1.0" encoding="{codec}"?>' if declared else ""
    return f'{head}<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode(
        codec
    )


def best(run: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    bodies = [p.read_bytes() for p in sorted(args.corpus.iterdir()) if p.suffix != ".tsv"]
    decode_body(feed("cp1253", False), "")  # import charset-normalizer outside the timing
    print("| bodies | KB | CPU ms |\n|---|--:|--:|")
    corpus_s = best(lambda: [decode_body(b, "") for b in bodies] and None, args.repeat)
    size = sum(map(len, bodies)) // 1024
    print(f"| corpus, {len(bodies)} feeds | {size:,} | {corpus_s * 1e3:.1f} |")
    for codec in SENTENCES:
        for declared in (True, False):
            body = feed(codec, declared)
            took = best(lambda body=body: decode_body(body, "") and None, args.repeat)
            label = "declared" if declared else "undeclared"
            print(f"| {codec}, {label} | {len(body) // 1024} | {took * 1e3:.2f} |")


if __name__ == "__main__":
    main()
