"""pydantic's plugin loader stands in (config/plugins.py) only while plugins are off:
a plugin a user installs and turns on is still loaded and called."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from helpers import REPO

PROBE = """
import json, sys
from newswatch.config.plugins import LOADER, stand_in

stand_in()
from newswatch.config.schema import Person

person = Person.model_validate({"name": "Ada Lovelace", "aliases": ["Lovelace"]})
loader = sys.modules[LOADER]
report = {
    "person": person.name,
    "metadata": "importlib.metadata" in sys.modules,
    "stand_in": getattr(loader, "newswatch_stand_in", False),
    "group": loader.PYDANTIC_ENTRY_POINT_GROUP,
}
print(json.dumps(report))
"""

PLUGIN = """
import sys

class Plugin:
    def new_schema_validator(self, schema, schema_type, *args, **kwargs):
        print(f"plugin saw {schema_type.__name__}", file=sys.stderr)
        return None, None, None

plugin = Plugin()
"""


def probe(tmp_path: Path, disabled: str | None) -> tuple[dict[str, object], str]:
    """Validate a model in a fresh interpreter with a pydantic plugin installed (a
    distribution on the path with a `pydantic` entry point)."""
    (tmp_path / "watchplugin.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "watchplugin-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: watchplugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pydantic]\nwatch = watchplugin:plugin\n")
    env = {"PYTHONPATH": f"{tmp_path}:{REPO / 'daemon'}", "PATH": "/usr/bin:/bin"}
    if disabled is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = disabled
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROBE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_plugins_off_no_entry_points_read(tmp_path: Path) -> None:
    report, stderr = probe(tmp_path, "__all__")
    assert report == {
        "person": "Ada Lovelace",
        "metadata": False,
        "stand_in": True,
        "group": "pydantic",  # any other name is the real loader's
    }
    assert "plugin saw" not in stderr


def test_a_plugin_turned_on_is_loaded_and_called(tmp_path: Path) -> None:
    report, stderr = probe(tmp_path, None)
    assert report["person"] == "Ada Lovelace" and report["metadata"] is True
    assert report["stand_in"] is False  # the real loader took its place
    assert "plugin saw Person" in stderr


def test_a_plugin_turned_off_by_name_is_not_called(tmp_path: Path) -> None:
    report, stderr = probe(tmp_path, "watch")
    assert report["person"] == "Ada Lovelace"
    assert "plugin saw" not in stderr
