"""A compiled watch list read from the cache, unpickled when it is first used.

config/cache.py keeps the rules of a valid config pickled; `ingest` reads them
as bytes and wraps them here. A pass that matches no text (every feed answered
304, no new seed file) then never loads the matcher's code nor its automaton
(issue 11). Parse workers receive the same bytes and unpickle them on their side.
"""

from __future__ import annotations

import pickle
import threading
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from newswatch.match.matcher import Matcher
    from newswatch.match.reasons import Rejection
    from newswatch.match.rules import Rules
    from newswatch.match.salience import Salience
    from newswatch.model import Match


class KeptMatcher:
    """What a Matcher offers, from its pickled rules (tests hold the two alike)."""

    __slots__ = ("_blob", "_lock", "_matcher")

    def __init__(self, blob: bytes) -> None:
        self._blob = blob
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None

    def loaded(self) -> Matcher:
        with self._lock:  # a feed's parse and the main thread may ask at once
            if self._matcher is None:
                from newswatch.match.matcher import Matcher

                self._matcher = Matcher.from_rules(pickle.loads(self._blob))
            return self._matcher

    @property
    def rules(self) -> Rules:
        return self.loaded().rules

    def __len__(self) -> int:
        return len(self.loaded())

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (KeptMatcher, (self._blob,))

    def match(
        self, title: str, body: str, source: str | None = None, salience: Salience | None = None
    ) -> list[Match]:
        return self.loaded().match(title, body, source, salience)

    def shared_names(self) -> tuple[tuple[str, ...], ...]:
        return self.loaded().shared_names()

    def examine(
        self,
        title: str,
        body: str,
        source: str | None = None,
        explain: bool = False,
        salience: Salience | None = None,
    ) -> tuple[list[Match], list[Rejection]]:
        return self.loaded().examine(title, body, source, explain, salience)


def kept_matcher(blob: bytes) -> Matcher:
    """The matcher of these pickled rules, loaded at its first use.

    Typed as what it stands for: the pipeline and the parse workers only call what
    both have.
    """
    return cast("Matcher", KeptMatcher(blob))
