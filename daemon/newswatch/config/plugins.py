"""pydantic's plugin loader, without importing importlib.metadata while plugins are off.

pydantic asks `pydantic.plugin._loader.get_plugins()` for plugins as it builds each
model's validator. That module imports importlib.metadata at its top (with the email
package, zipfile and csv: ~6% of `check`'s instructions) even when
PYDANTIC_DISABLE_PLUGINS turns every plugin off and no entry point is ever read.

`stand_in()` puts a module in its place that answers "no plugins" exactly when
pydantic's own would (the variable says all are off, read at each call, as pydantic
does) and otherwise loads the real loader, which then replaces it, and hands over.
Any other name is read from the real loader too, so a pydantic release that adds to
or changes the loader gets its own module, not a broken one: at worst the saving is
lost. tests/test_config_plugins.py holds the stand-in to that.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from importlib.machinery import PathFinder
from importlib.util import module_from_spec
from types import ModuleType

LOADER = "pydantic.plugin._loader"
_ALL_OFF = ("__all__", "1", "true")  # pydantic's own test, in _loader.get_plugins


def stand_in() -> None:
    """Stand in for pydantic's plugin loader, unless it is loaded already."""
    if LOADER in sys.modules:
        return
    module = ModuleType(LOADER, __doc__)
    module.get_plugins = _get_plugins  # type: ignore[attr-defined]
    module.__getattr__ = _real_attribute  # type: ignore[method-assign]
    module.newswatch_stand_in = True  # type: ignore[attr-defined]
    sys.modules[LOADER] = module


def _get_plugins() -> Iterable[object]:
    if os.getenv("PYDANTIC_DISABLE_PLUGINS") in _ALL_OFF:
        return ()
    plugins: Iterable[object] = real_loader().get_plugins()
    return plugins


def _real_attribute(name: str) -> object:
    if name.startswith("__"):  # the import system probes `__path__` and such: not ours
        raise AttributeError(name)
    return getattr(real_loader(), name)


def real_loader() -> ModuleType:
    """pydantic's own loader module, loaded now in place of the stand-in if need be."""
    current = sys.modules.get(LOADER)
    if current is not None and not getattr(current, "newswatch_stand_in", False):
        return current
    import pydantic.plugin

    spec = PathFinder.find_spec(LOADER, pydantic.plugin.__path__)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {LOADER!r}", name=LOADER)
    module = module_from_spec(spec)
    sys.modules[LOADER] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(LOADER, None)
        raise
    pydantic.plugin._loader = module  # type: ignore[attr-defined]  # as an import would
    return module
