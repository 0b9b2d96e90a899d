"""Matching documents against the watch list: compile once, match many.

matcher = compile_watches(config.watch.people, config.watch.topics)
for match in matcher.match(document.title, document.body, document.source):
    print(match.watch, explain(match), snippet(document.body, match.first_hit))
"""

from newswatch.match.explain import Rejection, explain, explain_rejection, snippet
from newswatch.match.matcher import Matcher, compile_watches

__all__ = ["Matcher", "Rejection", "compile_watches", "explain", "explain_rejection", "snippet"]
