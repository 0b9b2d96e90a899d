"""Validating a config in a short-lived child process, for `ingest` (issue 11).

A config not validated before (config/cache.py has no entry for it) costs
`ingest` pydantic, the schema and YAML: ~13 MB that stay resident through the
whole pass, on top of its peak (116 MB against 103 MB on the corpus's cold
pass). The child validates, compiles the watch list, keeps both in the cache as
`ingest` itself did, and sends back the config's plain copy and the pickled
rules (or the problems found) on its standard output; it has exited before the
parent opens the database. When the child cannot do that (it could not start,
or died), the caller validates in its own process as before: the aside is a
saving, never a new way to fail. While the child validates, the caller may do
work of its own (`meanwhile`): `ingest` imports its pipeline then, on the other
core, and its cold pass on a new config starts that much sooner.

    python -m newswatch.config.aside CONFIG_PATH READ_AT
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newswatch.config.errors import ConfigError

if TYPE_CHECKING:
    from newswatch.config.schema import Config
    from newswatch.match import Matcher


def validated_aside(
    path: Path, read_at: float, meanwhile: Callable[[], object] = lambda: None
) -> tuple[Config, Matcher] | None:
    """The plain config at `path` and its matcher, validated by a child process; None
    when the child gave no answer. Raises ConfigError with the problems it found.
    `meanwhile` runs here while the child works."""
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (package_root, env.get("PYTHONPATH"))))
    command = [sys.executable, "-m", "newswatch.config.aside", str(path), repr(read_at)]
    pipe = subprocess.PIPE
    try:
        child = subprocess.Popen(command, stdout=pipe, stderr=pipe, env=env)
    except OSError:
        return None  # the caller validates in its own process, as before
    try:
        meanwhile()
    finally:
        out, err = child.communicate()
    try:
        answer = pickle.loads(out) if child.returncode == 0 else None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(answer, tuple) or len(answer) != 2:
        return None  # what went wrong there happens again here, and is told once
    sys.stderr.write(err.decode(errors="replace"))  # a library's warning, if any
    verdict, payload = answer
    if verdict == "invalid":
        raise ConfigError(list(payload))
    from newswatch.match.kept import kept_matcher

    config, rules = payload
    return config, kept_matcher(rules)


def _validate(path: Path, read_at: float) -> tuple[str, Any]:
    """What the child sends back: ("valid", (plain config, pickled rules)) or
    ("invalid", problems)."""
    from newswatch.config import check_config
    from newswatch.config.cache import kept_parts, save_kept
    from newswatch.config.plugins import stand_in
    from newswatch.match.watchlist import compile_config

    stand_in()
    try:
        config, _warnings = check_config(path)  # `ingest` shows none (`check` does)
    except ConfigError as exc:
        return "invalid", exc.problems
    parts = kept_parts(config, compile_config(config))
    save_kept(config, parts, read_at)
    return "valid", parts


def main(argv: list[str]) -> int:
    path, read_at = Path(argv[0]), float(argv[1])
    answer = _validate(path, read_at)
    sys.stdout.buffer.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
