"""The compiled watch list of a valid config, kept on disk for `match` and `ingest`.

`match` needs only the compiled rules, `ingest` those and the config's values,
but validating the config costs most of their start-up (pydantic, the schema,
YAML). After a config was validated and compiled (by `check`, `match` or
`ingest`), the rules and the config's plain copy (config/plain.py: it unpickles
without pydantic) are pickled into the user's cache
folder (`$XDG_CACHE_HOME/newswatch`, else `~/.cache/newswatch`) with what they
were made from: the digest of every file the config consists of (the file, its
`watch.include`, `sources.include` and OPML lists), the state of each seed folder
(whose absence can make a config invalid), `TZ`, the Python version and the
newswatch sources themselves. A later `match` or `ingest` uses them only if all
of that is the same now, so it does exactly what it does after a full validation
(`ingest` runs on the plain copy either way); anything else
(a changed file, a missing or unreadable or corrupt cache) is a miss, and the
config is validated as before. `check` always validates in full.

The cache folder is the user's own (mode 0700): reading a pickle from it trusts
nothing more than the config file itself already does.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newswatch.config.schema import Config
    from newswatch.match import Matcher

FORMAT = 2  # 2: the rules pickled as bytes (unpickled when used), then the plain config
_COARSE_TIMES = 2.0  # seconds: the coarsest file times in use (FAT); most are ns
_SOURCES = ("config", "match")  # the packages whose code decides validity and the rules
# the modules outside those packages that validating or compiling runs (test_ingest_cache)
_OWN_FILES = ("model.py", "yamlsource.py", "listen.py", "sources/opml.py", "sources/plainurls.py")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "newswatch"


def cached_matcher(path: Path) -> Matcher | None:
    """The matcher compiled from the config at `path` when nothing it was made from
    changed since; None otherwise."""
    kept = _load(path, with_config=False)
    if kept is None:
        return None
    from newswatch.match import Matcher

    try:
        return Matcher.from_rules(pickle.loads(kept[1]))
    except Exception:  # as in _load
        return None


def cached_config(path: Path) -> tuple[Config, Matcher] | None:
    """The plain copy of the config at `path` (see config/plain.py) and its matcher
    (unpickled at its first use: match/kept.py), when nothing they were made from
    changed since; None otherwise."""
    kept = _load(path, with_config=True)
    if kept is None or kept[0] is None:
        return None
    from newswatch.match.kept import kept_matcher

    return kept[0], kept_matcher(kept[1])


def _load(path: Path, *, with_config: bool) -> tuple[Config | None, bytes] | None:
    """The plain config (when asked for) and the pickled rules, as bytes."""
    try:
        with _entry(path).open("rb") as handle:
            header = pickle.load(handle)
            if header != _header(path, header[-1]):
                return None
            rules = pickle.load(handle)
            config = pickle.load(handle) if with_config else None
    except Exception:  # a cache never fails a command: validate instead
        return None
    if not isinstance(rules, bytes):
        return None
    return config, rules


def kept_parts(config: Config, matcher: Matcher) -> tuple[Config, bytes]:
    """What the cache keeps of a valid config: its plain copy and its pickled rules."""
    from newswatch.config.plain import plain_config

    rules = pickle.dumps(matcher.rules, protocol=pickle.HIGHEST_PROTOCOL)
    return plain_config(config), rules


def save_matcher(config: Config, matcher: Matcher, read_at: float) -> None:
    """Keep the compiled rules of this valid config and its plain copy (save_kept)."""
    save_kept(config, kept_parts(config, matcher), read_at)


def save_kept(config: Config, parts: tuple[Config, bytes], read_at: float) -> None:
    """Keep `parts` (kept_parts) of this valid config, read from `read_at`
    (time.time()) on; silently nothing when the cache folder cannot be written (a
    read-only home, a service user without one).

    The files are hashed now, after they were read: a file written since (or just
    before: file times may be coarse) could hold other text than the rules were made
    from, so such a config is not kept this time.
    """
    plain, rules = parts
    path = config.path
    if path is None:  # not loaded from a file
        return
    files = tuple(_dependencies(config, path))
    if any(_modified(Path(name)) >= read_at - _COARSE_TIMES for name in files):
        return
    seeds = tuple(str(s.path) for s in config.sources.seeds)
    header = _header(path, (files, seeds))
    entry = _entry(path)
    partial = entry.with_suffix(f".{os.getpid()}.tmp")  # complete or absent, never half
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with partial.open("wb") as handle:
            pickle.dump(header, handle, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(rules, handle, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(plain, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, entry)
    except OSError:
        with suppress(OSError):
            partial.unlink(missing_ok=True)


def _entry(path: Path) -> Path:
    """One entry per config file (as found from this working directory)."""
    where = f"{os.path.abspath(path)}\0{os.getcwd()}"
    return cache_dir() / f"{hashlib.sha256(where.encode()).hexdigest()[:32]}.pickle"


def _header(path: Path, made_of: tuple[tuple[str, ...], tuple[str, ...]]) -> tuple[Any, ...]:
    """What the cached rules depend on, as it is now; `made_of` names the files and seed
    folders (as written in the config) recorded when the entry was saved."""
    files, seeds = made_of
    state = (
        FORMAT,
        sys.version,
        _code_fingerprint(),
        os.environ.get("TZ"),
        str(path),
        tuple(_digest(Path(name)) for name in files),
        tuple(_seed_state(Path(name)) for name in seeds),
    )
    return (*state, made_of)


def _dependencies(config: Config, path: Path) -> Iterable[str]:
    """Every file check_config read, resolved as it resolves them."""
    yield str(path)
    for name in (*config.watch.include, *config.sources.include):
        yield str(name if name.is_absolute() else path.parent / name)
    yield from (str(name) for name in config.sources.opml)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0  # a missing file: its digest says so


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.errno}"


def _seed_state(folder: Path) -> str:
    """What config.checks.seed_folder_problems decides from: a folder, a file, missing."""
    if folder.is_dir():
        return "folder"
    if folder.exists():
        return "not a folder"
    return "missing" if folder.absolute().parent.is_dir() else "missing parent"


def _code_fingerprint() -> tuple[tuple[str, int, int], ...]:
    """Size and time of the code that validates and compiles: a new version (or an edited
    source tree) never reads rules pickled by another."""
    root = Path(__file__).parent.parent
    files = [root / name for name in _OWN_FILES]
    for package in _SOURCES:
        files += sorted(f for f in (root / package).iterdir() if f.suffix in (".py", ".txt"))
    found = []
    for file in files:
        stat = file.stat()
        found.append((file.name, stat.st_size, stat.st_mtime_ns))
    return tuple(found)
