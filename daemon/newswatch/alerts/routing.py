"""Routing: which sinks hear of which watches (pure).

A sink's optional `watches:` lists watch names or shell-style globs
(`NATO*`, `*Kosachev`), compared without regard to case. It is applied when
an alert is stored: an alert gets a delivery row only for the sinks that route
its watch, so a sink that does not route it never shows it as pending. A
reload that changes routing therefore affects the alerts raised from then on;
rows already created are delivered as they were routed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import translate


def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(translate(pattern), re.IGNORECASE)


def pattern_matches(pattern: str, watch: str) -> bool:
    """Whether a `watches:` entry (a name or a glob) matches a watch name, in any case."""
    return _compiled(pattern).match(watch) is not None


def unmatched(patterns: Iterable[str], watches: Sequence[str]) -> list[str]:
    """The patterns that match none of these watch names (a typo, or a watch removed)."""
    return [p for p in patterns if not any(pattern_matches(p, name) for name in watches)]


@dataclass(frozen=True, slots=True)
class Route:
    """A sink's key in the outbox and the watches it routes (None: every watch)."""

    sink: str
    watches: tuple[str, ...] | None = None
    _compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", tuple(_compiled(p) for p in self.watches or ()))

    def takes(self, watch: str) -> bool:
        return self.watches is None or any(p.match(watch) for p in self._compiled)


def every_watch(sinks: Iterable[str]) -> list[Route]:
    """Routes for sinks that hear of every watch (no `watches:` configured)."""
    return [Route(sink) for sink in sinks]
