"""YAML configuration -> frozen, typed objects, validated once at load."""

from newswatch.config.load import CONFIG_ENV, check_config, find_config_path, load_config
from newswatch.config.messages import ConfigError
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
