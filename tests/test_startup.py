"""Start-up: a command loads only what it uses, so `--help`, `check` and `match`
answer at once instead of after SQLAlchemy, Alembic and the pipeline (issue 11)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO, write_config

HEAVY = (
    "sqlalchemy",
    "alembic",
    "prometheus_client",
    "feedparser",
    "newswatch.pipeline",
    "structlog",  # logging is configured, structlog loaded at the first line logged
    "asyncio",
)

PROBE = """
import json, sys
from newswatch.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
loaded = sorted({name for name in sys.modules if name.startswith(tuple(json.loads(HEAVY)))})
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def imports_of(*args: str) -> tuple[int, list[str], str]:
    """Run `newswatch ARGS` in a fresh interpreter: its exit code, the heavy modules it
    loaded, and its standard output."""
    probe = PROBE.replace("HEAVY", repr(json.dumps(HEAVY)))
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report["code"], report["loaded"], result.stdout


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_load_no_database_nor_pipeline(flag: str) -> None:
    code, loaded, out = imports_of(flag)
    assert code == 0
    assert out.startswith("newswatch ") if flag == "--version" else "COMMAND" in out
    assert loaded == []


def test_check_and_match_load_no_database_nor_pipeline(tmp_path: Path) -> None:
    config = str(write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", tmp_path))
    code, loaded, out = imports_of("--config", config, "check")
    assert code == 0 and "OK" in out
    assert loaded == []
    code, loaded, out = imports_of("--config", config, "match", "Kosachev spoke.")
    assert code == 0 and "Konstantin Kosachev" in out
    assert loaded == []
    assert not (tmp_path / "nw.db").exists()


WORKER_PROBE = """
import sys
from newswatch.cli import main  # what the `newswatch` console script runs first

if __name__ == "__main__":
    import json
    from newswatch.feedwork import FeedParsers
    from newswatch.match import compile_watches

    parsers = FeedParsers(compile_watches([], []), workers=2)
    try:
        pool = parsers._ensure_pool()
        print(json.dumps(pool.submit(eval, "sorted(__import__('sys').modules)").result()))
    finally:
        parsers.close()
"""


def test_a_parse_worker_loads_the_parse_path_only(tmp_path: Path) -> None:
    """A worker started under the console script does not import the store, the config
    schema, logging or the pipeline: it starts faster and stays smaller."""
    script = tmp_path / "newswatch"
    script.write_text(WORKER_PROBE)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "newswatch.sources.feeds" in loaded  # the probe ran in a real worker
    unwanted = ("sqlalchemy", "alembic", "prometheus_client", "pydantic", "structlog")
    unwanted += ("newswatch.config", "newswatch.store", "newswatch.pipeline", "newswatch.app")
    assert [name for name in loaded if name.startswith(unwanted)] == []
