"""Watches compiled to rules over term ids, and the term table they share.

Every distinct term of every watch gets one id in one `TermIndex`. A rule only
refers to ids; `watchers[id]` names the watches a term can make match (its
positive uses), which is how stage one picks the few watches to evaluate.
With 100,000 terms every byte per term counts: a term used by one watch
stores that watch's index as a bare int, and strings are the config's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from newswatch.match.context import is_ordinary
from newswatch.match.fold import search_fold
from newswatch.match.nodes import Node, Term, walk_terms
from newswatch.match.query import QuerySyntaxError, parse_query
from newswatch.match.scan import TermIndex, TermSpec, compile_term

if TYPE_CHECKING:  # config.py imports match.query: no import cycle at run time
    from newswatch.config import Person, Topic

NO_TERM = -1  # a term without a letter or digit: it never occurs
NO_WATCHER = -1  # a term used only negatively (exclude, none, NOT)
Watchers = int | tuple[int, ...]
Ambiguous = Literal["salient", "all", "none"]
DEFAULT_AMBIGUOUS: Ambiguous = "salient"


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
    """A person watch over term ids."""

    index: int
    name: str
    terms: tuple[int, ...]  # ids of the name and the aliases, without repeats
    written: tuple[str, ...]  # how each of them is written in the config, the name first
    exclude: tuple[int, ...]
    min_mentions: int
    scope: WatchScope
    single: tuple[int, ...] = ()  # one-word terms: the rules of a name apply (people.py)
    ordinary: tuple[int, ...] = ()  # ...that are ordinary words: capitals may lie
    ambiguous: Ambiguous = DEFAULT_AMBIGUOUS  # a shared alias no full name decides

    def label(self, position: int) -> str:
        return f'{"alias" if position else "name"} "{self.written[position]}"'


@dataclass(frozen=True, slots=True)
class TopicRule:
    """A topic watch over term ids."""

    index: int
    name: str
    any: tuple[tuple[int, str], ...]  # (term id, as written in the config)
    all: tuple[tuple[int, str], ...]
    none: tuple[tuple[int, str], ...]
    query: Node | None
    query_text: str | None
    min_mentions: int
    scope: WatchScope
    smart: bool = True  # case-smart terms (else `case: insensitive`)


@dataclass(frozen=True, slots=True)
class Rules:
    """The compiled watch list: every rule and the term index they share."""

    people: tuple[PersonRule, ...]
    topics: tuple[TopicRule, ...]
    index: TermIndex
    query_terms: Mapping[tuple[Term, bool], int]  # (term, smart case) -> id
    watchers: tuple[Watchers, ...]  # term id -> index of the rule(s) it can make match
    shared: Mapping[int, tuple[int, ...]]  # term id -> people sharing it as name or alias

    def lookup(self, term: Term, smart: bool = True) -> int:
        return self.query_terms.get((term, smart), NO_TERM)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickles with its read-only mappings as plain dicts (a mappingproxy does not
        pickle): `match` keeps compiled rules on disk (config/cache.py)."""
        mappings = (dict(self.query_terms), dict(self.shared))
        return (_unpickle_rules, (self.people, self.topics, self.index, self.watchers, *mappings))


def _unpickle_rules(
    people: tuple[PersonRule, ...],
    topics: tuple[TopicRule, ...],
    index: TermIndex,
    watchers: tuple[Watchers, ...],
    query_terms: dict[tuple[Term, bool], int],
    shared: dict[int, tuple[int, ...]],
) -> Rules:
    return Rules(
        people, topics, index, MappingProxyType(query_terms), watchers, MappingProxyType(shared)
    )


class _Compiler:
    """Assigns ids to distinct terms and records who uses them."""

    def __init__(self) -> None:
        self.ids: tuple[dict[str, int], ...] = ({}, {}, {}, {})  # by wildcard * 2 + smart case
        self.by_spec: dict[TermSpec, int] = {}
        self.specs: list[TermSpec] = []
        self.watcher: list[int] = []  # term id -> its first watcher (most have one)
        self.more_watchers: dict[int, list[int]] = {}
        self.owner: dict[int, int] = {}  # term id -> first person with it as name or alias
        self.shared: dict[int, list[int]] = {}
        self.query_terms: dict[tuple[Term, bool], int] = {}
        self.scopes: dict[tuple[object, ...], WatchScope] = {}

    def term(self, text: str, wildcard: bool = False, smart: bool = True) -> int:
        ids = self.ids[wildcard * 2 + smart]
        known = ids.get(text)
        if known is None:
            known = ids[text] = self._new_term(text, wildcard, smart)
        return known

    def _new_term(self, text: str, wildcard: bool, smart: bool) -> int:
        spec = compile_term(text, wildcard, smart)
        if spec is None:
            return NO_TERM
        known = self.by_spec.get(spec)
        if known is not None:
            return known
        self.by_spec[spec] = term_id = len(self.specs)
        self.specs.append(spec)
        self.watcher.append(NO_WATCHER)
        return term_id

    def use(self, term_id: int, watch: int, owner: bool = False) -> None:
        """Record that `watch` can match through the term (and owns it, for people)."""
        if term_id == NO_TERM:
            return
        _add(self.watcher, self.more_watchers, term_id, watch)
        if owner:
            first = self.owner.setdefault(term_id, watch)
            if first != watch:
                _add_more(self.shared, term_id, first, watch)

    def scope(self, watch: Person | Topic) -> WatchScope:
        """One shared WatchScope per distinct (fields, sources)."""
        known = self.scopes.get((watch.fields, watch.sources))
        if known is None:
            sources = None
            if watch.sources is not None:
                sources = frozenset(s.strip().casefold() for s in watch.sources)
            known = WatchScope(frozenset(watch.fields), sources)
            self.scopes[(watch.fields, watch.sources)] = known
        return known

    def rules(self, people: tuple[PersonRule, ...], topics: tuple[TopicRule, ...]) -> Rules:
        return Rules(
            people=people,
            topics=topics,
            index=TermIndex(self.specs),
            query_terms=MappingProxyType(self.query_terms),
            watchers=tuple(
                w if t not in self.more_watchers else tuple(self.more_watchers[t])
                for t, w in enumerate(self.watcher)
            ),
            shared=MappingProxyType({term: tuple(o) for term, o in self.shared.items()}),
        )


def _add(first: list[int], more: dict[int, list[int]], term_id: int, watch: int) -> None:
    if first[term_id] == NO_WATCHER:
        first[term_id] = watch
    elif first[term_id] != watch:
        _add_more(more, term_id, first[term_id], watch)


def _add_more(more: dict[int, list[int]], term_id: int, first: int, watch: int) -> None:
    """A second and further distinct watch (calls come in watch order: check the last)."""
    watches = more.setdefault(term_id, [first])
    if watches[-1] != watch:
        watches.append(watch)


def compile_rules(
    people: Sequence[Person], topics: Sequence[Topic], ambiguous: Ambiguous = DEFAULT_AMBIGUOUS
) -> Rules:
    compiler = _Compiler()
    person_rules = tuple(_person(compiler, i, p, ambiguous) for i, p in enumerate(people))
    topic_rules = tuple(_topic(compiler, len(people) + i, t) for i, t in enumerate(topics))
    return compiler.rules(person_rules, topic_rules)


def _person(compiler: _Compiler, index: int, person: Person, ambiguous: Ambiguous) -> PersonRule:
    written = (person.name, *person.aliases)
    smart = person.case == "smart"
    terms = tuple([compiler.term(text, smart=smart) for text in written])
    for term_id in terms:
        compiler.use(term_id, index, owner=True)
    if len(set(terms)) < len(terms):  # two spellings of one term: keep the first
        kept: dict[int, str] = {}
        for term_id, text in zip(terms, written, strict=True):
            kept.setdefault(term_id, text)
        terms, written = tuple(kept), tuple(kept.values())
    single: dict[int, str] = {}
    if smart and any(" " not in text.strip() for text in written):  # most have no one-word term
        single = {t: w for t, w in zip(terms, written, strict=True) if _one_word(w)}
    has_full_name = len(single) < len(terms)
    return PersonRule(
        index=index,
        name=person.name,
        terms=terms,
        written=written,
        exclude=tuple(compiler.term(text, smart=smart) for text in person.exclude),
        min_mentions=person.min_mentions,
        scope=compiler.scope(person),
        single=tuple(single),
        ordinary=tuple(t for t, w in single.items() if has_full_name and is_ordinary(w)),
        ambiguous=person.ambiguous or ambiguous,
    )


def _one_word(text: str) -> bool:
    """A single word with a capital, not in capitals: "Law", not "NATO" nor "Nathan Law"."""
    if " " in text.strip():
        return False
    words = search_fold(text).split()
    return len(words) == 1 and not text.isupper() and any(c.isupper() for c in text)


def _topic(compiler: _Compiler, index: int, topic: Topic) -> TopicRule:
    smart = topic.case == "smart"

    def terms(texts: Iterable[str], positive: bool) -> tuple[tuple[int, str], ...]:
        found = []
        for text in texts:
            wildcard = text.endswith("*") and sum(c.isalnum() for c in text) >= 3
            term_id = compiler.term(text[:-1] if wildcard else text, wildcard, smart)
            found.append((term_id, text))
            if positive:
                compiler.use(term_id, index)
        return tuple(found)

    query = _parse(topic)
    for term, negated in walk_terms(query) if query is not None else ():
        term_id = compiler.term(term.text, term.wildcard, smart)
        compiler.query_terms[(term, smart)] = term_id
        if not negated:
            compiler.use(term_id, index)
    return TopicRule(
        index=index,
        name=topic.name,
        any=terms(topic.any, positive=True),
        all=terms(topic.all, positive=True),
        none=terms(topic.none, positive=False),
        query=query,
        query_text=topic.query,
        min_mentions=topic.min_mentions,
        scope=compiler.scope(topic),
        smart=smart,
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
