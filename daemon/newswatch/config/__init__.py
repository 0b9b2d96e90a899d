"""YAML configuration -> frozen, typed objects, validated once at load.

The names load on first use: finding the file and the cache of a compiled watch
list (config/cache.py) must not import pydantic and the schema (issue 11).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from newswatch.config.errors import ConfigError
from newswatch.config.paths import CONFIG_ENV, find_config_path

if TYPE_CHECKING:
    from newswatch.config.load import check_config, load_config
    from newswatch.config.schema import (
        Config,
        Dedup,
        Duration,
        EmailAlert,
        FeedSource,
        Fetch,
        LogAlert,
        Person,
        SeedSource,
        Smtp,
        Topic,
        Watch,
        parse_duration,
        parse_size,
    )

_LAZY = {"check_config": "load", "load_config": "load"}

__all__ = [
    "CONFIG_ENV",
    "Config",
    "ConfigError",
    "Dedup",
    "Duration",
    "EmailAlert",
    "FeedSource",
    "Fetch",
    "LogAlert",
    "Person",
    "SeedSource",
    "Smtp",
    "Topic",
    "Watch",
    "check_config",
    "find_config_path",
    "load_config",
    "parse_duration",
    "parse_size",
]


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"newswatch.config.{_LAZY.get(name, 'schema')}"), name)
    globals()[name] = value
    return value
