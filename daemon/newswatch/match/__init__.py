"""Matching documents against the watch list: compile once, match many.

matcher = compile_watches(config.watch.people, config.watch.topics)
for match in matcher.match(document.title, document.body, document.source):
    print(match.watch, explain(match), snippet(document.body, match.first_hit))

The names load on first use (issue 11): `check` compiles a watch list (rules.py)
and the config checks parse queries (query.py) without loading what matching
needs; a module of this package imported on its own loads no matcher code; an
`ingest` whose feeds all answer 304 never matches a text. (No submodule is named
like a function exported here: once imported, it would shadow the function.)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newswatch.match.matcher import Matcher, compile_watches
    from newswatch.match.reasons import Rejection, explain, explain_rejection, snippet

_HOME = {"Matcher": "matcher", "compile_watches": "matcher"}

__all__ = ["Matcher", "Rejection", "compile_watches", "explain", "explain_rejection", "snippet"]


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"newswatch.match.{_HOME.get(name, 'reasons')}"), name)
    globals()[name] = value
    return value
