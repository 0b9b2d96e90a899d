"""Where the configuration file is: `--config`, `$NEWSWATCH_CONFIG`, or a default place."""

from __future__ import annotations

import os
from pathlib import Path

from newswatch.config.errors import ConfigError

CONFIG_ENV = "NEWSWATCH_CONFIG"
DEFAULT_CONFIG_PATHS = (Path("config/newswatch.yaml"), Path("/etc/newswatch/newswatch.yaml"))


def find_config_path(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    for candidate in DEFAULT_CONFIG_PATHS:
        if candidate.exists():
            return candidate
    raise ConfigError(
        [
            "no configuration found: pass --config PATH, set $NEWSWATCH_CONFIG, or create "
            + " or ".join(str(p) for p in DEFAULT_CONFIG_PATHS)
        ]
    )
