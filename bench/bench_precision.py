"""Precision and recall of person watches on a hand-labelled set of news entries.

`precision_set.json` holds 50 entries of the news feeds in the shared corpus
and every mention, marked by hand, of 40 watched people, each watched as a
user would: full name plus surname ("Nathan Law" + "Law"). Several surnames
are ordinary words (Law, Close, May, Young, West, To, Or...) and some are
shared (Trump, Lai, Gates, Chan). Each rule set is scored twice:

- alerts: (document, person) pairs, what a user receives;
- mentions: each hit counts when it overlaps a hand-marked mention of that
  person; each hand-marked mention is found when a hit of that person overlaps it.

    .venv/bin/python bench/bench_precision.py [--errors]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import newswatch.match.people as people_stage
from newswatch.config import Person
from newswatch.match import Matcher, compile_watches
from newswatch.model import Match

HERE = Path(__file__).resolve().parent
SETS = {
    "tuning set (the rules were written looking at it)": HERE / "precision_set.json",
    "held-out set (labelled after the rules were written)": HERE / "precision_heldout.json",
}
Span = tuple[int, str, int, int, str]  # document, field, start, end, person


@dataclass(frozen=True)
class RuleSet:
    label: str
    case: Literal["smart", "insensitive"]
    ambiguous: Literal["salient", "all", "none"]
    hyphen: bool = True
    name: bool = True
    placed: bool = True


RULE_SETS = (
    RuleSet("0.1: case-insensitive, shared alias to all", "insensitive", "all", False, False),
    RuleSet("case-smart terms", "smart", "all", hyphen=False, name=False, placed=False),
    RuleSet("+ hyphenated names", "smart", "all", name=False, placed=False),
    RuleSet("+ someone else's name (Eric Trump, King Charles)", "smart", "all", placed=False),
    RuleSet("+ capitals that prove nothing (place, compounds)", "smart", "all"),
    RuleSet("+ ambiguous: none", "smart", "none"),
    RuleSet("+ ambiguous: salient (the default: all rules)", "smart", "salient"),
    RuleSet("0.1 rules with ambiguous: none", "insensitive", "none", False, False, False),
)


@contextmanager
def toggles(rule_set: RuleSet) -> Iterator[None]:
    """Switch rules off for a row that measures without them."""
    saved = (
        people_stage._place,
        people_stage.after_name_hyphen,
        people_stage.name_before,
        people_stage.name_after,
    )
    if not rule_set.placed:
        people_stage._place = lambda work, occurrence, ordinary: ""
    if not rule_set.hyphen:
        people_stage.after_name_hyphen = lambda text, start, end: None
    if not rule_set.name:
        people_stage.name_before = people_stage.name_after = lambda text, at: None
    try:
        yield
    finally:
        (
            people_stage._place,
            people_stage.after_name_hyphen,
            people_stage.name_before,
            people_stage.name_after,
        ) = saved


def run(data: dict[str, Any], rule_set: RuleSet) -> set[Span]:
    watched = [
        Person(name=p["name"], aliases=tuple(p["aliases"]), case=rule_set.case)
        for p in data["people"]
    ]
    found: set[Span] = set()
    with toggles(rule_set):
        matcher = compile_watches(watched, [], rule_set.ambiguous)
        salience = named_counts(matcher, data) if rule_set.ambiguous == "salient" else {}
        for number, doc in enumerate(data["documents"]):
            matches: list[Match] = matcher.match(doc["title"], doc["body"], salience=salience)
            found |= {(number, h.field, h.start, h.end, m.watch) for m in matches for h in m.hits}
    return found


def named_counts(matcher: Matcher, data: dict[str, Any]) -> dict[str, int]:
    """Documents of the set naming each person in full: the prior `ingest` of the set as one
    batch would use (the orchestrator matches a batch again when its own counts change who
    is salient)."""
    counts: Counter[str] = Counter()
    for doc in data["documents"]:
        counts.update(m.watch for m in matcher.match(doc["title"], doc["body"]) if m.named)
    return dict(counts)


def gold(data: dict[str, Any]) -> set[Span]:
    return {
        (number, m["field"], m["start"], m["end"], m["person"])
        for number, doc in enumerate(data["documents"])
        for m in doc["mentions"]
    }


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] == b[0] and a[1] == b[1] and a[4] == b[4] and a[2] < b[3] and b[2] < a[3]


def scores(found: set[Span], truth: set[Span]) -> dict[str, float]:
    pairs = {(s[0], s[4]) for s in found}
    true_pairs = {(s[0], s[4]) for s in truth}
    right = [s for s in found if any(_overlaps(s, t) for t in truth)]
    seen = [t for t in truth if any(_overlaps(s, t) for s in found)]
    return {
        "alert_p": _ratio(len(pairs & true_pairs), len(pairs)),
        "alert_r": _ratio(len(pairs & true_pairs), len(true_pairs)),
        "alerts": len(pairs),
        "wrong": len(pairs - true_pairs),
        "missed": len(true_pairs - pairs),
        "mention_p": _ratio(len(right), len(found)),
        "mention_r": _ratio(len(seen), len(truth)),
    }


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def errors(data: dict[str, Any], found: set[Span], truth: set[Span]) -> Iterator[str]:
    docs = data["documents"]

    def show(span: Span, kind: str) -> str:
        number, field, start, end, person = span
        text = docs[number][field]
        return f"  {kind} {person!r} doc {number} {field}: …{text[max(start - 40, 0) : end + 30]}…"

    yield from (show(s, "wrong") for s in sorted(found) if not any(_overlaps(s, t) for t in truth))
    yield from (show(t, "missed") for t in sorted(truth) if not any(_overlaps(s, t) for s in found))


Row = Callable[[str, dict[str, float]], str]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list wrong and missed mentions")
    args = parser.parse_args()
    for name, path in SETS.items():
        print(f"\n{name}: ", end="")
        report(json.loads(path.read_text(encoding="utf-8")), args.errors)


def report(data: dict[str, Any], show_errors: bool) -> None:
    truth = gold(data)
    pairs = len({(s[0], s[4]) for s in truth})
    print(f"{len(data['documents'])} documents, {len(data['people'])} people, ", end="")
    print(f"{len(truth)} marked mentions, {pairs} (document, person) pairs")
    print(
        "| rules | alert precision | alert recall | wrong / missed alerts | "
        "mention precision | mention recall |"
    )
    print("|---|--:|--:|--:|--:|--:|")
    for rule_set in RULE_SETS:
        found = run(data, rule_set)
        s = scores(found, truth)
        print(
            f"| {rule_set.label} | {s['alert_p']:.3f} | {s['alert_r']:.3f} | "
            f"{s['wrong']:.0f} / {s['missed']:.0f} | {s['mention_p']:.3f} | {s['mention_r']:.3f} |"
        )
        if show_errors:
            for line in errors(data, found, truth):
                print(line)


if __name__ == "__main__":
    main()
