"""Stage two for topics: `all`, `any`, `none` and the query, over the found terms.

A sub-query that holds yields the mentions that made it hold (an OR those of
its true branches, a NOT none); the topic matches when every part holds and
it has at least `min_mentions` distinct mentions, so a topic needs at least
one term that must appear (`query: NOT sports` alone never matches; with
`any: [Ukraine]` it vetoes). A trailing `*` on an `any`, `all` or `none` term
is a wildcard, as in queries. NEAR counts words in the search fold, where
punctuation also separates words ("Trump's" is two words, like "U.S.").
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from newswatch.match.nodes import And, Near, Node, Not, Or, Scope, Term
from newswatch.match.rules import TopicRule
from newswatch.match.scan import Occurrence, Scan, distinct

Lookup = Callable[[Term, bool], int]


@dataclass(frozen=True, slots=True)
class TopicResult:
    """A topic that matched: the occurrences that counted and how it is described."""

    rule: TopicRule
    occurrences: list[Occurrence]
    description: str


def match_topic(rule: TopicRule, scan: Scan, lookup: Lookup) -> TopicResult | None:
    def found(term: int) -> list[Occurrence]:
        return [o for o in scan.occurrences.get(term, ()) if o.field in rule.scope.fields]

    if any(found(term) for term, _ in rule.none):
        return None
    hits: list[Occurrence] = []
    for term, _ in rule.all:
        occurrences = found(term)
        if not occurrences:
            return None
        hits += occurrences
    fired = [(text, found(term)) for term, text in rule.any]
    fired = [(text, occurrences) for text, occurrences in fired if occurrences]
    if rule.any and not fired:
        return None
    hits += [o for _, occurrences in fired for o in occurrences]
    if rule.query is not None:
        held = _Evaluator(scan, lambda term: lookup(term, rule.smart)).holds(
            rule.query, rule.scope.fields
        )
        if held is None:
            return None
        hits += held
    mentions = distinct(hits)
    if not mentions or len(mentions) < rule.min_mentions:
        return None
    return TopicResult(rule, mentions, _describe(rule, [text for text, _ in fired]))


def _describe(rule: TopicRule, fired_any: list[str]) -> str:
    parts = []
    if fired_any:
        parts.append(f"any [{', '.join(fired_any)}]")
    if rule.all:
        parts.append(f"all [{', '.join(text for _, text in rule.all)}]")
    if rule.none:
        parts.append(f"none [{', '.join(text for _, text in rule.none)}]")
    if rule.query_text is not None:
        parts.append(f"({rule.query_text})" if parts else rule.query_text)
    return " AND ".join(parts)


class _Evaluator:
    """Evaluates a query tree; None means false, a list (maybe empty) means true."""

    def __init__(self, scan: Scan, lookup: Callable[[Term], int]) -> None:
        self.scan = scan
        self.lookup = lookup

    def holds(self, node: Node, fields: frozenset[str]) -> list[Occurrence] | None:
        if isinstance(node, Term):
            found = self.scan.occurrences.get(self.lookup(node), ())
            return [o for o in found if o.field in fields] or None
        if isinstance(node, Scope):
            return self.holds(node.operand, fields & {node.field})
        if isinstance(node, Not):
            return None if self.holds(node.operand, fields) is not None else []
        if isinstance(node, And):
            return self._all(node.operands, fields)
        if isinstance(node, Or):
            held = [self.holds(operand, fields) for operand in node.operands]
            true = [h for h in held if h is not None]
            return [o for h in true for o in h] if true else None
        return self._near(node, fields)

    def _all(self, operands: tuple[Node, ...], fields: frozenset[str]) -> list[Occurrence] | None:
        found: list[Occurrence] = []
        for operand in operands:
            held = self.holds(operand, fields)
            if held is None:
                return None
            found += held
        return found

    def _near(self, node: Near, fields: frozenset[str]) -> list[Occurrence] | None:
        left = self.holds(node.left, fields)
        right = self.holds(node.right, fields)
        if not left or not right:
            return None
        pairs = _close_pairs(self._placed(left), self._placed(right), node.distance)
        return [o for pair in pairs for o in pair] or None

    def _placed(self, found: list[Occurrence]) -> list[tuple[int, int, Occurrence]]:
        return sorted(((*self.scan.words(o), o) for o in found), key=lambda p: (p[0], p[1]))


Placed = tuple[int, int, Occurrence]


def _close_pairs(
    left: list[Placed], right: list[Placed], distance: int
) -> list[tuple[Occurrence, Occurrence]]:
    """Pairs in the same field at most `distance` words apart, in either order."""
    firsts = [first for first, _, _ in right]
    longest = max(last - first for first, last, _ in right)
    pairs = []
    for first, last, a in left:
        low = bisect_left(firsts, first - distance - longest)
        high = bisect_right(firsts, last + distance)
        for b_first, b_last, b in right[low:high]:
            close = b_first - last <= distance and first - b_last <= distance
            if close and a.field == b.field and a != b:
                pairs.append((a, b))
    return pairs
