"""A seed folder on disk: what may be read in it, and a rescan that costs little when idle.

Refused, never read: a name that is not valid UTF-8 (it could not be stored nor
shown), a link whose target is outside the folder (a link to /etc/shadow must
not become a document) and a link to a folder (links could loop or lead out).

Rescans: a directory is listed again only when its mtime moved, which happens
whenever a file in it is created, removed or renamed into place (how editors
and `cp`/`rsync` save). A write into an existing file leaves the directory
alone, so every scan also re-stats a share of the known files: each file is
looked at again within RESTAT_SCANS scans (a minute at the default 5 s).
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from newswatch.sources.seeds import SeedFile, SeedFolderError

_TEMP_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".part", ".crdownload", ".partial")
RESTAT_SCANS = 12
# A directory changed this recently may change again within the same mtime tick
# (coarse file systems): it is listed again at the next scan whatever its mtime says.
_RACY_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class Refused:
    """A folder entry that is never read, with why (names shown with \\xNN escapes)."""

    path: str
    reason: str


@dataclass
class Scan:
    """What one scan found: keys new or changed since the scan before, keys gone,
    and refusals not reported before."""

    changed: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)
    refused: list[Refused] = field(default_factory=list)


@dataclass(slots=True)
class _Dir:
    mtime_ns: int
    files: list[str]
    subdirs: list[str]
    refused: list[Refused]


class SeedFolder:
    """The files of one seed folder, kept up to date by `scan()`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, SeedFile] = {}
        self._dirs: dict[str, _Dir] = {}
        self._reported: set[Refused] = set()
        self._rotation: list[str] = []

    def scan(self) -> Scan:
        """Bring `files` up to date; SeedFolderError when the folder cannot be listed."""
        root = str(self.root)
        _check_root(self.root)
        real_root = os.path.realpath(root)
        result = Scan()
        visited: set[str] = set()
        now_ns = time.time_ns()
        pending = [root]
        while pending:
            path = pending.pop()
            visited.add(path)
            pending += self._visit(path, real_root, now_ns, result)
        for path in set(self._dirs) - visited:
            self._drop_dir(path, result)
        self._restat_share(result)
        refused = {r for d in self._dirs.values() for r in d.refused}
        result.refused = sorted(refused - self._reported, key=lambda r: r.path)
        self._reported = refused
        return result

    def sorted_files(self) -> list[SeedFile]:
        return sorted(self.files.values(), key=lambda f: f.key)

    def _visit(self, path: str, real_root: str, now_ns: int, result: Scan) -> list[str]:
        """Refresh one directory; returns its subdirectories to visit."""
        cached = self._dirs.get(path)
        try:
            mtime_ns = os.stat(path).st_mtime_ns
        except OSError:
            mtime_ns = -1
        if cached is not None and cached.mtime_ns == mtime_ns and mtime_ns >= 0:
            return cached.subdirs
        listed = self._list(path, real_root, result)
        if mtime_ns > now_ns - _RACY_NS:
            mtime_ns = -1
        listed.mtime_ns = mtime_ns
        if cached is not None:
            for key in set(cached.files) - set(listed.files):
                self.files.pop(key, None)
                result.gone.add(key)
        self._dirs[path] = listed
        return listed.subdirs

    def _list(self, path: str, real_root: str, result: Scan) -> _Dir:
        listed = _Dir(-1, [], [], [])
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    self._add_entry(entry, real_root, listed, result)
        except OSError as exc:
            if path == str(self.root):
                what = f"cannot be read: {exc.strerror}"
                raise _folder_error(self.root, what, "check it") from None
            reason = f"the subfolder cannot be read ({exc.strerror}); it is skipped"
            listed.refused.append(Refused(printable(path), reason))
        return listed

    def _add_entry(
        self, entry: os.DirEntry[str], real_root: str, listed: _Dir, result: Scan
    ) -> None:
        if entry.name.startswith((".", "#")) or entry.name.endswith(_TEMP_SUFFIXES):
            return
        if not _valid_utf8(entry.name):
            reason = "the name is not valid UTF-8; rename the file (e.g. with `convmv`)"
            listed.refused.append(Refused(printable(entry.path), reason))
            return
        try:
            if entry.is_dir(follow_symlinks=False):
                listed.subdirs.append(entry.path)
                return
            target = _target(entry, real_root)
            if isinstance(target, Refused):
                listed.refused.append(target)
                return
            if target is None:
                return
            found = os.stat(target, follow_symlinks=False)
        except OSError:
            return  # vanished between listing and stat
        if not stat.S_ISREG(found.st_mode):
            return
        key = os.path.relpath(entry.path, self.root).replace(os.sep, "/")
        self._record(SeedFile(key, Path(target), found.st_size, found.st_mtime_ns), result)
        listed.files.append(key)

    def _record(self, file: SeedFile, result: Scan) -> None:
        old = self.files.get(file.key)
        if old is None or (old.size, old.mtime_ns, old.path) != (
            file.size,
            file.mtime_ns,
            file.path,
        ):
            self.files[file.key] = file
            result.changed.add(file.key)

    def _drop_dir(self, path: str, result: Scan) -> None:
        gone = self._dirs.pop(path)
        for key in gone.files:
            self.files.pop(key, None)
            result.gone.add(key)

    def _restat_share(self, result: Scan) -> None:
        """Re-stat the next share of known files: catches writes that left the dir alone."""
        if not self._rotation:
            self._rotation = list(self.files)
        share = max(1, -(-len(self.files) // RESTAT_SCANS))
        batch, self._rotation = self._rotation[:share], self._rotation[share:]
        for key in batch:
            file = self.files.get(key)
            if file is None or key in result.changed:
                continue
            try:
                found = os.stat(file.path, follow_symlinks=False)
            except OSError:
                continue  # its directory's next listing says whether it is gone
            if (found.st_size, found.st_mtime_ns) != (file.size, file.mtime_ns):
                self._record(SeedFile(key, file.path, found.st_size, found.st_mtime_ns), result)


def _target(entry: os.DirEntry[str], real_root: str) -> str | Refused | None:
    """The path to read for an entry: itself, or a link's target if inside the folder."""
    if not entry.is_symlink():
        return entry.path if entry.is_file(follow_symlinks=False) else None
    real = os.path.realpath(entry.path)
    if os.path.commonpath([real, real_root]) != real_root:
        reason = "a link to outside the seed folder is not followed; copy the file in instead"
        return Refused(printable(entry.path), reason)
    if os.path.isdir(real):
        return Refused(printable(entry.path), "a link to a folder is not followed")
    return real


def _check_root(root: Path) -> None:
    try:
        found = os.stat(root)
    except FileNotFoundError:
        raise _folder_error(root, "does not exist", "create it or fix the path") from None
    except OSError as exc:
        raise _folder_error(root, f"cannot be read: {exc.strerror}", "check it") from None
    if not stat.S_ISDIR(found.st_mode):
        raise _folder_error(root, "is not a folder", "point the path at a folder")
    if not os.access(root, os.R_OK | os.X_OK):
        mend = "give the daemon's user read and execute permission (chmod u+rx)"
        raise _folder_error(root, "cannot be read: permission denied", mend)


def _folder_error(folder: Path, what: str, mend: str) -> SeedFolderError:
    message = f"seed folder {folder} {what}; {mend} (sources.seeds[].path in the config)"
    return SeedFolderError(str(folder), message)


def _valid_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(path: str) -> str:
    """A path as text whatever its bytes: undecodable ones shown as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def list_seed_files(folder: Path) -> list[SeedFile]:
    """Every seed file under `folder` (one full listing), sorted by key."""
    seed_folder = SeedFolder(folder)
    seed_folder.scan()
    return seed_folder.sorted_files()
