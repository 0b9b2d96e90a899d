"""Watches compiled to rules over term ids, and the term table they share.

Every distinct term of every watch gets one id in one `TermIndex`. A rule only
refers to ids; `watchers[id]` lists the watches a term can make match (its
positive uses), which is how stage one picks the few watches to evaluate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from newswatch.match.nodes import Node, Term, walk_terms
from newswatch.match.query import QuerySyntaxError, parse_query
from newswatch.match.scan import TermIndex, TermSpec, compile_term

if TYPE_CHECKING:  # config.py imports match.query: no import cycle at run time
    from newswatch.config import Person, Topic

NO_TERM = -1  # a term without a letter or digit: it never occurs


@dataclass(frozen=True, slots=True)
class WatchScope:
    """Where a watch looks: which fields, and which sources (None: all)."""

    fields: frozenset[str]
    sources: frozenset[str] | None

    def applies_to(self, source: str | None) -> bool:
        if self.sources is None:
            return True
        return source is not None and source.strip().casefold() in self.sources


@dataclass(frozen=True, slots=True)
class PersonRule:
    index: int
    name: str
    terms: tuple[tuple[int, str], ...]  # (term id, label such as 'alias "Trump"')
    exclude: tuple[int, ...]
    min_mentions: int
    scope: WatchScope


@dataclass(frozen=True, slots=True)
class TopicRule:
    index: int
    name: str
    any: tuple[tuple[int, str], ...]
    all: tuple[tuple[int, str], ...]
    none: tuple[tuple[int, str], ...]
    query: Node | None
    query_text: str | None
    min_mentions: int
    scope: WatchScope


@dataclass(frozen=True, slots=True)
class Rules:
    people: tuple[PersonRule, ...]
    topics: tuple[TopicRule, ...]
    index: TermIndex
    term_ids: Mapping[tuple[str, bool], int]  # (text, wildcard) -> id
    watchers: tuple[tuple[int, ...], ...]  # term id -> indices of rules it can make match
    owners: tuple[tuple[int, ...], ...]  # term id -> people who have it as name or alias


class _TermTable:
    """Assigns ids to distinct terms and records who uses them."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, bool], int] = {}
        self.by_spec: dict[TermSpec, int] = {}
        self.specs: list[TermSpec] = []
        self.watchers: list[list[int]] = []
        self.owners: list[list[int]] = []

    def add(self, text: str, wildcard: bool = False) -> int:
        known = self.ids.get((text, wildcard))
        if known is not None:
            return known
        spec = compile_term(text, wildcard)
        term_id = NO_TERM if spec is None else self.by_spec.get(spec)
        if term_id is None and spec is not None:
            term_id = self.by_spec[spec] = len(self.specs)
            self.specs.append(spec)
            self.watchers.append([])
            self.owners.append([])
        self.ids[(text, wildcard)] = term_id if term_id is not None else NO_TERM
        return self.ids[(text, wildcard)]

    def use(self, term_id: int, watch: int, owner: bool = False) -> None:
        if term_id == NO_TERM:
            return
        if not self.watchers[term_id] or self.watchers[term_id][-1] != watch:
            self.watchers[term_id].append(watch)
        if owner and (not self.owners[term_id] or self.owners[term_id][-1] != watch):
            self.owners[term_id].append(watch)


def compile_rules(people: Sequence[Person], topics: Sequence[Topic]) -> Rules:
    table = _TermTable()
    person_rules = tuple(_person(table, index, p) for index, p in enumerate(people))
    topic_rules = tuple(_topic(table, len(people) + i, t) for i, t in enumerate(topics))
    return Rules(
        people=person_rules,
        topics=topic_rules,
        index=TermIndex(table.specs),
        term_ids=MappingProxyType(table.ids),
        watchers=tuple(tuple(w) for w in table.watchers),
        owners=tuple(tuple(o) for o in table.owners),
    )


def _scope(watch: Person | Topic) -> WatchScope:
    sources = None
    if watch.sources is not None:
        sources = frozenset(s.strip().casefold() for s in watch.sources)
    return WatchScope(frozenset(watch.fields), sources)


def _person(table: _TermTable, index: int, person: Person) -> PersonRule:
    written = [("name", person.name)] + [("alias", a) for a in person.aliases]
    terms: list[tuple[int, str]] = []
    for kind, text in written:
        term_id = table.add(text)
        if term_id not in (t for t, _ in terms):
            terms.append((term_id, f'{kind} "{text}"'))
        table.use(term_id, index, owner=True)
    exclude = tuple(table.add(text) for text in person.exclude)
    return PersonRule(
        index, person.name, tuple(terms), exclude, person.min_mentions, _scope(person)
    )


def _topic(table: _TermTable, index: int, topic: Topic) -> TopicRule:
    def terms(texts: Iterable[str], positive: bool) -> tuple[tuple[int, str], ...]:
        found = []
        for text in texts:
            wildcard = text.endswith("*") and sum(c.isalnum() for c in text) >= 3
            term_id = table.add(text[:-1] if wildcard else text, wildcard)
            found.append((term_id, text))
            if positive:
                table.use(term_id, index)
        return tuple(found)

    query = _parse(topic)
    if query is not None:
        for term, negated in walk_terms(query):
            term_id = table.add(term.text, term.wildcard)
            if not negated:
                table.use(term_id, index)
    return TopicRule(
        index=index,
        name=topic.name,
        any=terms(topic.any, positive=True),
        all=terms(topic.all, positive=True),
        none=terms(topic.none, positive=False),
        query=query,
        query_text=topic.query,
        min_mentions=topic.min_mentions,
        scope=_scope(topic),
    )


def _parse(topic: Topic) -> Node | None:
    """The query's tree (config.py has already reported a query that does not parse)."""
    if topic.query is None:
        return None
    try:
        return parse_query(topic.query)
    except QuerySyntaxError as exc:
        message = f"query of topic {topic.name!r}: {exc.message}"
        raise QuerySyntaxError(message, exc.column) from None


def lookup(rules: Rules, term: Term) -> int:
    return rules.term_ids.get((term.text, term.wildcard), NO_TERM)
