"""A config's watch list, compiled: what `check`, `match`, `ingest` and the daemon match with.

Kept out of the pipeline's wiring (`pipeline.app`): `check` and `match` compile a
config without loading the store (issue 11).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newswatch.config import Config
    from newswatch.match import Matcher


def compile_config(config: Config) -> Matcher:
    from newswatch.match import compile_watches
    from newswatch.yamlsource import paused_gc

    watch = config.watch
    with paused_gc():  # a large watch list is a burst of objects that stay
        if watch.ambiguous is None:
            return compile_watches(watch.people, watch.topics)
        return compile_watches(watch.people, watch.topics, watch.ambiguous)
