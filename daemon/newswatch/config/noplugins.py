"""pydantic without its plugin scan's import when plugins are disabled (issue 11).

pydantic asks `pydantic.plugin._loader.get_plugins()` for plugins each time it builds
a validator; that module imports importlib.metadata (and with it the email package,
zipfile, csv...) at its top, a tenth of `newswatch check`'s start-up, even though
with `PYDANTIC_DISABLE_PLUGINS=__all__` (the CLI's default) it then answers "none".
When plugins are disabled, this answers "none" in its place without that import.
Set the variable to anything else to get pydantic's own loader and your plugins.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

_LOADER = "pydantic.plugin._loader"
_DISABLED = ("__all__", "1", "true")  # pydantic's own meanings of "no plugins at all"


def _no_plugins() -> tuple[()]:
    return ()


def skip_plugin_scan() -> None:
    """Before pydantic builds a validator: if plugins are disabled, stand in for its loader."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in _DISABLED or _LOADER in sys.modules:
        return
    stand_in = ModuleType(_LOADER, "No pydantic plugins (newswatch.config.noplugins).")
    stand_in.get_plugins = _no_plugins  # type: ignore[attr-defined]
    sys.modules[_LOADER] = stand_in
