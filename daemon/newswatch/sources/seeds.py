"""Seed documents: a folder of UTF-8 text files, one article per file.

The format (CONTRACT.md): the first non-blank line is `date YYYY-MM-DD URL`,
then the title line, then the body. A file is read only when its size or
mtime changed, and its SHA-256 lets the caller skip a re-import when only the
mtime moved. Errors name the file, the line and what was expected, never the
file's own words: logs must not carry what a file holds.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from newswatch import model

MAX_SEED_BYTES = 16 * 1024 * 1024
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_LINE = "`date YYYY-MM-DD URL` as the first non-blank line"


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What we remember of a file to tell whether it changed."""

    size: int
    mtime_ns: int
    sha256: str | None


@dataclass(frozen=True, slots=True)
class SeedFile:
    """A file found in a seed folder; `key` is its path relative to the folder (posix)."""

    key: str
    path: Path
    size: int
    mtime_ns: int


class SeedFormatError(Exception):
    """A seed file that does not follow the format; `stamp` is set when the file was read,
    so the caller can remember the broken file and not report it again until it changes."""

    def __init__(
        self, path: str, line: int, what: str, expected: str, stamp: FileStamp | None = None
    ) -> None:
        super().__init__(f"{path}:{line}: {what}; expected {expected}")
        self.path = path
        self.line = line
        self.what = what
        self.expected = expected
        self.stamp = stamp

    @property
    def sha256(self) -> str | None:
        """The hash of the broken file's bytes, when it was read."""
        return None if self.stamp is None else self.stamp.sha256


class SeedReadError(OSError):
    """A seed file that could not be read (vanished, permission denied, ...)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


class SeedFolderError(OSError):
    """A seed folder that cannot be listed."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


# --- parsing (pure) ---------------------------------------------------------


def parse_seed(text: str, *, path: str, source: str, key: str) -> model.RawItem:
    """The raw item of a seed file's text; SeedFormatError names the line at fault."""
    lines = [line.rstrip("\r") for line in text.removeprefix("\ufeff").split("\n")]
    date_index = _next_filled(lines, 0)
    if date_index is None:
        raise SeedFormatError(path, 1, "the file is empty", _DATE_LINE)
    published, url = _parse_date_line(lines[date_index], path=path, line=date_index + 1)
    title_index = _next_filled(lines, date_index + 1)
    if title_index is None:
        what = "no title after the date line"
        raise SeedFormatError(path, date_index + 2, what, "the article's title on its own line")
    body = _unwrapped(lines[title_index + 1 :])
    return model.RawItem(
        source=source,
        key=key,
        title=lines[title_index].strip(),
        body=body,
        url=url,
        published=published,
    )


def _unwrapped(lines: list[str]) -> str:
    """The body with its paragraphs (blank-line separated) each on one line: a seed
    file's line breaks inside a paragraph are wrapping, not meaning."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join(" ".join(words) for words in paragraphs if words)


def decode_seed(data: bytes, *, path: str) -> str:
    """UTF-8 text (a BOM tolerated); SeedFormatError names the line of a bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        what = f"byte 0x{data[exc.start]:02x} is not valid UTF-8"
        raise SeedFormatError(path, line, what, "UTF-8 text (re-save the file as UTF-8)") from None


def _next_filled(lines: list[str], start: int) -> int | None:
    return next((i for i in range(start, len(lines)) if lines[i].strip()), None)


def _parse_date_line(text: str, *, path: str, line: int) -> tuple[datetime, str]:
    words = text.split()
    if words[0].lower() != "date":
        what = "the first line does not begin with `date`"
        raise SeedFormatError(path, line, what, _DATE_LINE)
    if len(words) < 2:
        raise SeedFormatError(path, line, "no date after `date`", "a date like 2024-11-14")
    published = _parse_date(words[1], path=path, line=line)
    if len(words) < 3:
        raise SeedFormatError(path, line, "no URL after the date", _URL_EXPECTED)
    if len(words) > 3:
        what = f"{len(words) - 3} unexpected word(s) after the URL"
        raise SeedFormatError(path, line, what, "only `date YYYY-MM-DD URL` on this line")
    return published, _check_url(words[2], path=path, line=line)


_URL_EXPECTED = "an absolute http(s) URL such as https://example.org/article"


def _parse_date(word: str, *, path: str, line: int) -> datetime:
    if not _DATE.fullmatch(word):
        what = "the word after `date` is not a date"
        raise SeedFormatError(path, line, what, "a date written YYYY-MM-DD, like 2024-11-14")
    try:
        day = date.fromisoformat(word)
    except ValueError:
        what = "the date is not a calendar date (month 01-12, a day the month has)"
        raise SeedFormatError(path, line, what, "a real date written YYYY-MM-DD") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _check_url(word: str, *, path: str, line: int) -> str:
    scheme, sep, rest = word.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if not sep or scheme.lower() not in ("http", "https") or not host.strip(":@[]"):
        what = "the word after the date is not a URL"
        raise SeedFormatError(path, line, what, _URL_EXPECTED)
    return word


# --- files (I/O) -------------------------------------------------------------


def changed_files(files: Sequence[SeedFile], known: Mapping[str, FileStamp]) -> list[SeedFile]:
    """Files new or with another size or mtime than remembered."""
    return [f for f in files if _changed(f, known.get(f.key))]


def _changed(file: SeedFile, stamp: FileStamp | None) -> bool:
    """New, another size or mtime, or not read last time (no hash): a file that could
    not be read is tried again, since a chmod changes neither its size nor its mtime."""
    if stamp is None or stamp.sha256 is None:
        return True
    return stamp.size != file.size or stamp.mtime_ns != file.mtime_ns


def read_seed(file: SeedFile, *, source: str) -> tuple[FileStamp, model.RawItem]:
    """Read, hash and parse one file (reading its bytes once)."""
    path = str(file.path)
    stamp, data = _read_stamped(file.path)
    if len(data) > MAX_SEED_BYTES:
        what = f"the file has {stamp.size} bytes, more than the {MAX_SEED_BYTES} allowed"
        raise SeedFormatError(path, 1, what, "one article per file", stamp)
    try:
        text = decode_seed(data, path=path)
        return stamp, parse_seed(text, path=path, source=source, key=file.key)
    except SeedFormatError as exc:
        exc.stamp = stamp
        raise


def _read_stamped(path: Path) -> tuple[FileStamp, bytes]:
    try:
        # The path is the file itself or a link's target checked to be inside the
        # folder; O_NOFOLLOW refuses it if it was swapped for a link since.
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            stat = os.fstat(handle.fileno())
            data = handle.read(MAX_SEED_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        message = f"cannot read seed file {path}: {reason}; check that it exists and is readable"
        raise SeedReadError(str(path), message) from None
    digest = hashlib.sha256(data).hexdigest()
    return FileStamp(stat.st_size, stat.st_mtime_ns, digest), data
