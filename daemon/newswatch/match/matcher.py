"""Compile the watch list once, then match many documents.

Stage one (`scan`) finds the terms of all watches in one automaton pass; only
the watches with a term found there are evaluated in stage two, so the cost of
a document does not grow with the number of watches that do not occur in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING

from newswatch.match.rules import DEFAULT_AMBIGUOUS, Ambiguous, Rules, compile_rules

if TYPE_CHECKING:  # config.py imports match.query: no import cycle at run time
    from newswatch.config import Person, Topic
    from newswatch.match.reasons import Rejection
    from newswatch.match.salience import Salience
    from newswatch.model import Match

    Examine = Callable[
        [Rules, str, str, str | None, bool, Salience | None],
        tuple[list[Match], list[Rejection]],
    ]


Source = tuple[tuple["Person", ...], tuple["Topic", ...], Ambiguous]


class Matcher:
    """A compiled watch list. Immutable: share it between threads freely.

    It pickles as the watch list it was compiled from and compiles again on
    the other side (the automaton's own state does not travel), which is how
    parse workers in other processes get the same matcher.
    """

    __slots__ = ("_rules", "_shared_names", "_source")

    def __init__(
        self,
        rules: Rules,
        source: Source = ((), (), DEFAULT_AMBIGUOUS),
    ) -> None:
        self._rules = rules
        self._source: Source | None = source
        people = rules.people
        groups = {tuple(people[p].name for p in owners) for owners in rules.shared.values()}
        self._shared_names = tuple(sorted(groups))

    @classmethod
    def from_rules(cls, rules: Rules) -> Matcher:
        """A matcher of rules compiled earlier (config/cache.py); it does not pickle, as
        the watch list it came from is not at hand."""
        matcher = cls(rules)
        matcher._source = None
        return matcher

    @property
    def rules(self) -> Rules:
        return self._rules

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        if self._source is None:
            raise TypeError("a matcher made from cached rules does not pickle")
        return (compile_watches, self._source)

    def __len__(self) -> int:
        return len(self._rules.people) + len(self._rules.topics)

    def match(
        self,
        title: str,
        body: str,
        source: str | None = None,
        salience: Salience | None = None,
    ) -> list[Match]:
        """The watches this document matches, people first, each in config order.

        `salience` counts recent documents naming each person in full: it decides a
        shared alias for people whose policy is `ambiguous: salient` (salience.py).
        """
        return self.examine(title, body, source, salience=salience)[0]

    def shared_names(self) -> tuple[tuple[str, ...], ...]:
        """The names of the people sharing each shared alias (their counts matter)."""
        return self._shared_names

    def examine(
        self,
        title: str,
        body: str,
        source: str | None = None,
        explain: bool = False,
        salience: Salience | None = None,
    ) -> tuple[list[Match], list[Rejection]]:
        """The matches, and with `explain` every candidate mention a rule refused."""
        return _evaluate()(self._rules, title, body, source, explain, salience)


def compile_watches(
    people: Sequence[Person], topics: Sequence[Topic], ambiguous: Ambiguous = DEFAULT_AMBIGUOUS
) -> Matcher:
    """Compile once per config; raises QuerySyntaxError for a query that does not parse.

    `ambiguous` is the watch list's policy for people without their own.
    """
    rules = compile_rules(people, topics, ambiguous)
    return Matcher(rules, (tuple(people), tuple(topics), ambiguous))


@cache
def _evaluate() -> Examine:
    """Stage two (evaluate.py), loaded at the first document: compiling alone does not."""
    from newswatch.match.evaluate import examine

    return examine
