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


class Matcher:
    """A compiled watch list. Immutable: share it between threads freely.

    It pickles as its compiled rules, automaton included (as config/cache.py
    keeps them), which is how parse workers in other processes get the same
    matcher. Not as the watch list it was compiled from: unpickling that imports
    pydantic and the config schema for its Person and Topic models, and compiles
    it all again (~10 MB and ~0.1 s in each parse worker, issue 11).
    """

    __slots__ = ("_rules", "_shared_names")

    def __init__(self, rules: Rules) -> None:
        self._rules = rules
        people = rules.people
        groups = {tuple(people[p].name for p in owners) for owners in rules.shared.values()}
        self._shared_names = tuple(sorted(groups))

    @classmethod
    def from_rules(cls, rules: Rules) -> Matcher:
        """A matcher of rules compiled earlier (config/cache.py)."""
        return cls(rules)

    @property
    def rules(self) -> Rules:
        return self._rules

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Matcher, (self._rules,))

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
    return Matcher(compile_rules(people, topics, ambiguous))


@cache
def _evaluate() -> Examine:
    """Stage two (evaluate.py), loaded at the first document: compiling alone does not."""
    from newswatch.match.evaluate import examine

    return examine
