"""What commands say about a database without loading SQLAlchemy: its error type and
its URL fit to print. `check` and `--help` must start in a blink (issue 11)."""

from __future__ import annotations

from pathlib import Path


class DatabaseError(Exception):
    """The database cannot be used; the message says what, where and how to mend."""


def shown_url(url: str) -> str:
    """A database URL fit to print or log: its password, if any, masked as ***."""
    if "@" not in url:  # no user part, so no password: shown as written
        return url
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<a database URL that does not parse>"


def new_sqlite_file(url: str) -> bool:
    """True when `url` names a SQLite database with nothing in it yet (no file, an empty
    file, or in memory): a first run, where every feed will send a whole body.

    A guess made before SQLAlchemy is loaded (`ingest` starts its parse workers on it,
    issue 11), so it reads the URL itself; any URL it is unsure of answers False.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] != "sqlite":
        return False
    path = rest[1:] if rest.startswith("/") else rest  # sqlite:///relative, sqlite:////absolute
    if "?" in path:  # parameters (a `file:` URI, a mode): not guessed at
        return False
    if path in ("", ":memory:"):
        return True
    try:
        return Path(path).expanduser().stat().st_size == 0
    except FileNotFoundError:
        return True
    except OSError:
        return False
