"""Stage two for people: which mentions count, and for whom.

1. A mention inside one of the person's `exclude` phrases does not count
   ("Trump" in "Trump Tower"); other mentions in the document still do.
2. A mention inside a longer mention of another watched person belongs to
   that person ("Trump" in "Ivanka Trump", when Ivanka Trump is watched).
3. An alias shared by several watched people ("Chan" for Ben Chan and Gary
   Chan) counts for the one of them who is also named in the document by a
   term of their own; when none or several of them are, it counts for all.
4. Mentions nested in another mention of the same person count once; the
   person matches with at least `min_mentions` distinct mentions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from newswatch.match.rules import PersonRule, Rules
from newswatch.match.scan import Occurrence, Scan, distinct


@dataclass(frozen=True, slots=True)
class Mention:
    person: int
    term: int
    occurrence: Occurrence

    @property
    def length(self) -> int:
        return self.occurrence.end - self.occurrence.start


@dataclass(frozen=True, slots=True)
class PersonResult:
    rule: PersonRule
    occurrences: list[Occurrence]
    labels: list[str]
    shared: bool


def match_people(rules: Rules, candidates: Sequence[PersonRule], scan: Scan) -> list[PersonResult]:
    mentions = [m for rule in candidates for m in _own_mentions(rule, scan)]
    mentions = _without_claimed(mentions)
    mentions = _resolve_shared(mentions, rules.shared)
    by_person: dict[int, list[Mention]] = {}
    for mention in mentions:
        by_person.setdefault(mention.person, []).append(mention)
    results = []
    for rule in candidates:
        mine = by_person.get(rule.index, [])
        occurrences = distinct(m.occurrence for m in mine)
        if occurrences and len(occurrences) >= rule.min_mentions:
            counted = set(occurrences)
            used = {m.term for m in mine if m.occurrence in counted}
            labels = [rule.label(i) for i, term in enumerate(rule.terms) if term in used]
            shared = any(term in rules.shared for term in used)
            results.append(PersonResult(rule, occurrences, labels, shared))
    return results


def _own_mentions(rule: PersonRule, scan: Scan) -> list[Mention]:
    found = scan.occurrences
    excluded = [o for term in rule.exclude for o in found.get(term, ())]
    return [
        Mention(rule.index, term, occurrence)
        for term in rule.terms
        for occurrence in found.get(term, ())
        if occurrence.field in rule.scope.fields and not _inside_any(occurrence, excluded)
    ]


def _inside_any(occurrence: Occurrence, spans: list[Occurrence]) -> bool:
    return any(
        s.field == occurrence.field and s.start <= occurrence.start and occurrence.end <= s.end
        for s in spans
    )


def _without_claimed(mentions: list[Mention]) -> list[Mention]:
    """Drop mentions lying inside a longer mention of another person."""
    ordered = sorted(mentions, key=lambda m: (m.occurrence.field, m.occurrence.start, -m.length))
    kept: list[Mention] = []
    active: list[Mention] = []
    for mention in ordered:
        here = mention.occurrence
        active = [a for a in active if _overlaps(a.occurrence, here)]
        if not any(_claims(a, mention) for a in active):
            kept.append(mention)
        active.append(mention)
    return kept


def _overlaps(earlier: Occurrence, later: Occurrence) -> bool:
    return earlier.field == later.field and earlier.end > later.start


def _claims(outer: Mention, inner: Mention) -> bool:
    return (
        outer.person != inner.person
        and outer.length > inner.length
        and inner.occurrence.end <= outer.occurrence.end
    )


def _resolve_shared(
    mentions: list[Mention], shared: Mapping[int, tuple[int, ...]]
) -> list[Mention]:
    """Give a shared alias to the one owner named in the document by a term of their own."""
    named = {m.person for m in mentions if m.term not in shared}
    kept = []
    for mention in mentions:
        sharers = shared.get(mention.term)
        if sharers is not None:
            present = [p for p in sharers if p in named]
            if len(present) == 1 and present[0] != mention.person:
                continue
        kept.append(mention)
    return kept
