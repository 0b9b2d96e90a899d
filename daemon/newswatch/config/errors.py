"""The configuration's exception, in a module that imports nothing heavy (`match`
reads a cached watch list without pydantic, config/cache.py)."""

from __future__ import annotations


class ConfigError(Exception):
    """Every problem found in a configuration, each with its `file:line`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
