"""Who a shared surname means when the document names none of its watched owners.

"Trump" alone, with Donald Trump and Melania Trump both watched and neither
named in full in the document: news text that names one of them in full far
more often than the others means that one by the bare surname too (a
headline "Trump Says Colombia Will Accept Deportees"). The prior is the count,
per watched person, of recent stored documents that name them by a term of
their own (a full name, an alias nobody else has); the orchestrator keeps it
(store/salience.py) and passes it in: matching stays a pure function of the
text, the watch list and these counts.

A sharer is *salient* when at least `MIN_DOCUMENTS` documents name them and
they hold at least `SHARE` of the documents naming any of the sharers. Below
that (too few documents, or two sharers both often named) the mention stays
ambiguous. A document that names another, unwatched person of the surname
("Eric Trump") decides against the prior: its bare surname stays ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from newswatch.model import Match

Salience = Mapping[str, int]  # watch name -> recent documents naming the person in full
NO_SALIENCE: Salience = MappingProxyType({})
SHARE = 0.8
MIN_DOCUMENTS = 3


@dataclass(frozen=True, slots=True)
class Salient:
    """The sharer a bare shared alias goes to, and the counts that say so."""

    position: int  # in the sharers' names given to `salient`
    named: int  # recent documents naming them in full
    total: int  # recent documents naming any of the sharers in full

    def why(self, name: str) -> str:
        return (
            f"{name} is named in full in {self.named} of the {self.total} recent documents "
            "naming one of them (ambiguous: salient)"
        )


def salient(names: Sequence[str], salience: Salience) -> Salient | None:
    """The dominant one of the people sharing an alias (their watch names), if one is."""
    if not salience:
        return None
    counts = [salience.get(name, 0) for name in names]
    total = sum(counts)
    top = max(counts)
    if top < MIN_DOCUMENTS or top < SHARE * total:
        return None
    return Salient(counts.index(top), top, total)


def changed_groups(
    groups: Iterable[Sequence[str]], before: Salience, after: Salience
) -> list[Sequence[str]]:
    """The groups of people sharing an alias whose salient one differs between two priors."""
    return [group for group in groups if _winner(group, before) != _winner(group, after)]


def _winner(names: Sequence[str], salience: Salience) -> int:
    found = salient(names, salience)
    return -1 if found is None else found.position


def may_change(groups: Sequence[Sequence[str]], matches: Iterable[Match]) -> bool:
    """Whether matching a document again with another prior may change its matches:
    only where a group whose salient one changed has none of its people named in full
    (a full name decides the shared alias whatever the counts)."""
    named = {match.watch for match in matches if match.named}
    return any(not any(name in named for name in group) for group in groups)
