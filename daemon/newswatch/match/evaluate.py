"""Stage two: the watches a document matches, and why (`Matcher.examine`).

Apart from matcher.py so that compiling a watch list (`check`) does not load what only
matching needs: people.py, topics.py, reasons.py, salience.py and the value types.
"""

from __future__ import annotations

from collections.abc import Iterable

from newswatch.match.people import PersonResult, Refusal, match_people
from newswatch.match.reasons import Rejection
from newswatch.match.rules import PersonRule, Rules, TopicRule
from newswatch.match.salience import NO_SALIENCE, Salience
from newswatch.match.scan import Occurrence, Scan
from newswatch.match.topics import TopicResult, match_topic
from newswatch.model import Field, Hit, Match, WatchKind


def examine(
    rules: Rules,
    title: str,
    body: str,
    source: str | None,
    explain: bool,
    salience: Salience | None,
) -> tuple[list[Match], list[Rejection]]:
    """The matches, people first, each in config order; with `explain` every candidate
    mention a rule refused."""
    if salience is None:
        salience = NO_SALIENCE
    texts: dict[Field, str] = {"title": _text(title), "body": _text(body)}
    scan = rules.index.scan(texts.items(), explain)
    if not scan.occurrences and not scan.miscased:
        return [], []  # no term in it: most documents
    candidates = _candidates(rules, scan.occurrences)
    people: list[PersonRule] = []
    topics: list[TopicRule] = []
    for index in candidates:
        if index < len(rules.people):
            people.append(rules.people[index])
        else:
            topics.append(rules.topics[index - len(rules.people)])
    people = [p for p in people if p.scope.applies_to(source)]
    results, refused = match_people(rules, people, scan, salience)
    matches = [_person_match(result, texts) for result in results]
    for topic in topics:
        if topic.scope.applies_to(source):
            found = match_topic(topic, scan, rules.lookup)
            if found is not None:
                matches.append(_topic_match(found, texts))
    if not explain:
        return matches, []
    return matches, _miscased(rules, scan, source) + [_refusal(rules, scan, r) for r in refused]


def _candidates(rules: Rules, found: Iterable[int]) -> list[int]:
    """Indices of the watches a found term can make match, in config order."""
    indices: set[int] = set()
    for term in found:
        watchers = rules.watchers[term]
        if isinstance(watchers, int):
            if watchers >= 0:
                indices.add(watchers)
        else:
            indices.update(watchers)
    return sorted(indices)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _hits(occurrences: list[Occurrence], texts: dict[Field, str]) -> tuple[Hit, ...]:
    return tuple(Hit(o.field, o.start, o.end, texts[o.field][o.start : o.end]) for o in occurrences)


def _miscased(rules: Rules, scan: Scan, source: str | None) -> list[Rejection]:
    """Stage one's hits refused for their case, for each watch that uses the term."""
    refused = []
    for term, occurrences in (scan.miscased or {}).items():
        watchers = rules.watchers[term]
        for index in (watchers,) if isinstance(watchers, int) else watchers:
            if index < 0:
                continue
            person = index < len(rules.people)
            rule = rules.people[index] if person else rules.topics[index - len(rules.people)]
            written = _written(rule, term)
            for o in occurrences:
                if o.field in rule.scope.fields and rule.scope.applies_to(source):
                    hit = Hit(o.field, o.start, o.end, scan.texts[o.field][o.start : o.end])
                    detail = f"{written} has capitals that this text does not"
                    kind: WatchKind = "person" if person else "topic"
                    refused.append(Rejection(rule.name, kind, hit, "case", detail))
    return refused


def _written(rule: PersonRule | TopicRule, term: int) -> str:
    if isinstance(rule, PersonRule):
        return rule.label(rule.terms.index(term)) if term in rule.terms else "the term"
    for found, text in rule.any + rule.all:
        if found == term:
            return f'term "{text}"'
    return "a query term"


def _refusal(rules: Rules, scan: Scan, refusal: Refusal) -> Rejection:
    mention = refusal.mention
    o = mention.occurrence
    rule = rules.people[mention.person]
    hit = Hit(o.field, o.start, o.end, scan.texts[o.field][o.start : o.end])
    detail = f"{rule.label(rule.terms.index(mention.term))} {refusal.detail}"
    return Rejection(rule.name, "person", hit, refusal.reason, detail)


def _person_match(result: PersonResult, texts: dict[Field, str]) -> Match:
    rule = ", ".join(result.labels)
    if result.ambiguous:
        rule += f" (ambiguous: {result.ambiguous}; counted, as `ambiguous: all` says)"
    elif result.salient:
        rule += f" (a shared alias no full name in the document decides; {result.salient})"
    elif result.shared:
        rule += " (an alias shared with another watched person)"
    if result.rule.min_mentions > 1:
        rule += f"; {len(result.occurrences)} mentions, at least {result.rule.min_mentions}"
    hits = _hits(result.occurrences, texts)
    return Match(result.rule.name, "person", hits, rule, named=result.named)


def _topic_match(result: TopicResult, texts: dict[Field, str]) -> Match:
    rule = result.description
    if result.rule.min_mentions > 1:
        rule += f"; {len(result.occurrences)} mentions, at least {result.rule.min_mentions}"
    return Match(result.rule.name, "topic", _hits(result.occurrences, texts), rule)
