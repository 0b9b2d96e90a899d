"""Matching documents against the watch list: compile once, match many.

matcher = compile_watches(config.watch.people, config.watch.topics)
for match in matcher.match(document.title, document.body, document.source):
    print(match.watch, explain(match), snippet(document.body, match.first_hit))

The matcher loads on first use: a module of this package (salience, explain)
imported on its own does not load the matcher's code, and an `ingest` whose feeds all
answer 304 never matches a text (issue 11).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

# eager: the submodule `explain` would otherwise shadow the function of that name
from newswatch.match.explain import Rejection, explain, explain_rejection, snippet

if TYPE_CHECKING:
    from newswatch.match.matcher import Matcher, compile_watches

_HOME = {"Matcher": "matcher", "compile_watches": "matcher"}

__all__ = ["Matcher", "Rejection", "compile_watches", "explain", "explain_rejection", "snippet"]


def __getattr__(name: str) -> object:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"newswatch.match.{_HOME[name]}"), name)
    globals()[name] = value
    return value
