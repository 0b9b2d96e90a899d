"""`html_to_text` alone, on exactly the strings `documents_of` hands it over the corpus (issue 11).

- `--capture FILE` runs `documents_of` over every corpus body with `html_to_text`
  wrapped where `sources.feeds` and `sources.jsonfeed` call it, and pickles the
  inputs, in call order, to FILE.
- `--outputs FILE --inputs IN` writes a SHA-256 per input of what this build's
  `html_to_text` returns (compare two builds' files with `cmp`).
- `--inputs IN` alone times `html_to_text` over every input, `--reps` times, in
  CPU seconds (`time.process_time`); the median and the load average are printed.
- `--stages --inputs IN` splits that time by stage (repairs, lexbor's parse, the
  marking walk, assembly, the second parse of `_emptied`) and runs the span
  experiment below.

The span experiment (issue 11, measured and not adopted): 46% of the elements
lexbor builds are syntax-highlighting `<span>`s, which the walk passes over
without a mark. Removing them before the parse is only safe where the markup
tokenizes without surprises: no comment holding `<`, no `<` in an attribute
value, no `&name` or `<` running into a span tag (`&l<span></span>t;` is
`&lt;` once the tag is gone), and none of the elements around which a span
changes the tree or the text: tables (whitespace beside a span stays in the
table, other text is moved before it), `ol` (a span between `ol` and `li`
stops the numbering), `legend` and `svg`/`math` (`</span>` closes them, a
`<span>` breaks out of foreign content), `listing` (the newline after its
start tag is dropped), `form` (`</form>` leaves a span open and text after
it inside the form), the head, `select`, `frameset` and the raw-text
elements. The check below is a tokenizer in a regular expression; it
passes 581 of the 909 inputs holding spans (215,088 of 398,330 span tags),
and their text is unchanged, but Python's `re` reads markup slower than
lexbor parses it.

Run the timing with each build's interpreter, alternating, to compare builds
(this file imports only `newswatch` as that interpreter has it):

    .venv/bin/python bench/bench_html_to_text.py --capture /tmp/inputs.pickle
    .venv/bin/python bench/bench_html_to_text.py --inputs /tmp/inputs.pickle --reps 5
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_documents


def capture(out: Path) -> None:
    from newswatch.sources import feeds, jsonfeed

    seen: list[str] = []
    original = feeds.html_to_text

    def recording(markup: str) -> str:
        seen.append(markup)
        return original(markup)

    feeds.html_to_text = jsonfeed.html_to_text = recording  # type: ignore[attr-defined]
    for name, body in bench_documents.corpus(bench_documents.CORPUS):
        bench_documents.run(name, body)
    with out.open("wb") as f:
        pickle.dump(seen, f)
    print(f"{len(seen):,} inputs, {sum(map(len, seen)) / 1e6:.1f} M characters -> {out}")


def outputs(inputs: list[str], out: Path) -> None:
    from newswatch.htmltext import html_to_text

    with out.open("w") as f:
        for markup in inputs:
            f.write(hashlib.sha256(html_to_text(markup).encode()).hexdigest() + "\n")


def timed(inputs: list[str], reps: int) -> None:
    from newswatch.htmltext import html_to_text

    print(f"load average at start: {os.getloadavg()}")
    for markup in inputs[:50]:
        html_to_text(markup)
    timings = []
    for _ in range(reps):
        started = time.process_time()
        for markup in inputs:
            html_to_text(markup)
        timings.append(time.process_time() - started)
    median = statistics.median(timings)
    print(f"html_to_text over {len(inputs):,} inputs: median {median:.3f} s CPU")
    print("reps: " + " ".join(f"{t:.3f}" for t in timings))
    print(f"load average at end: {os.getloadavg()}")


_WS = r"[\t\n\f\r ]"
_ATTRS = (
    rf"(?:{_WS}++[^\t\n\f\r /<>\"'=]++(?:{_WS}*+={_WS}*+"
    r"(?:\"[^\"<]*+\"|'[^'<]*+'|[^\t\n\f\r >\"'=<`]++))?+)*+" + rf"{_WS}*+/?>"
)
_HAZARDS = (
    "ol|table|legend|listing|select|head|form|frameset|svg|math|plaintext|"
    "script|style|template|iframe|textarea|title|xmp|noscript|noembed|noframes"
)
_SPAN = rf"</?(?i:span)(?={_WS}|/|>)" + _ATTRS
_TAG = rf"</?(?!(?i:{_HAZARDS})(?:{_WS}|/|>))[a-zA-Z][^\t\n\f\r />]*+" + _ATTRS
_COMMENT = r"<!--(?:-?>|(?:[^<-]++|-(?!-!?>))*+--!?>)"
# Text, a harmless `<`, a tag of the strict grammar or a comment, and nothing else.
SAFE_RE = re.compile(
    rf"(?:[^<&]++|&(?![#a-zA-Z0-9]*+{_SPAN})|<(?![a-zA-Z/!?]|{_SPAN})|{_TAG}|{_COMMENT})*+"
)
SPAN_RE = re.compile(_SPAN)


def each(convert: Callable[[str], object], items: list[str]) -> Callable[[], None]:
    """A job converting every item, keeping no result (a kept lexbor tree costs memory)."""

    def job() -> None:
        for item in items:
            convert(item)

    return job


def cpu(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def stages(inputs: list[str], reps: int) -> None:
    from selectolax.lexbor import LexborHTMLParser

    from newswatch import htmltext as h

    print(f"load average at start: {os.getloadavg()}")
    markup = [m for m in inputs if "<" in m]
    repaired = [h._repaired(m) for m in markup]
    texts = [h._marked_text(LexborHTMLParser(m).body)[0] for m in repaired]
    spans = [m for m in repaired if "<span" in m]
    safe = [m for m in spans if SAFE_RE.fullmatch(m)]
    stripped = [SPAN_RE.sub("", m) for m in safe]
    same = sum(h.html_to_text(a) == h.html_to_text(b) for a, b in zip(safe, stripped, strict=True))
    tags = sum(len(SPAN_RE.findall(m)) for m in spans)
    kept = sum(len(SPAN_RE.findall(m)) for m in safe)
    print(f"{len(markup):,} inputs with markup; {len(spans):,} with spans ({tags:,} span tags);")
    print(f"  {len(safe):,} pass the check ({kept:,} span tags), text unchanged for {same:,}")

    def walk(m: str) -> object:
        return h._marked_text(LexborHTMLParser(m).body)

    work: dict[str, Callable[[], object]] = {
        "html_to_text, all inputs": each(h.html_to_text, inputs),
        "repairs": each(h._repaired, markup),
        "lexbor parse": each(LexborHTMLParser, repaired),
        "parse + marking walk + text": each(walk, repaired),
        "assembly": each(lambda t: h._assemble(t.split(h._BLOCK), h._LINE), texts),
        "_body_text (walk, and 2nd parse)": each(h._body_text, repaired),
        "spans: the check": each(SAFE_RE.fullmatch, spans),
        "spans: removal where safe": each(lambda m: SPAN_RE.sub("", m), safe),
        "spans: parse + walk as is": each(walk, safe),
        "spans: parse + walk, removed": each(walk, stripped),
    }
    times: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(reps):
        for name, job in work.items():
            times[name].append(cpu(job))
    for name, seconds in times.items():
        print(f"  {name}: median {statistics.median(seconds):.3f} s CPU")
    print(f"load average at end: {os.getloadavg()}")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--capture", type=Path)
    parser.add_argument("--inputs", type=Path)
    parser.add_argument("--outputs", type=Path)
    parser.add_argument("--stages", action="store_true")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    if args.capture:
        capture(args.capture)
        return 0
    with args.inputs.open("rb") as f:
        inputs = pickle.load(f)
    if args.outputs:
        outputs(inputs, args.outputs)
    elif args.stages:
        stages(inputs, args.reps)
    else:
        timed(inputs, args.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
