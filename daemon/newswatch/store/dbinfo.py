"""What commands say about a database without loading SQLAlchemy: its error type and
its URL fit to print. `check` and `--help` must start in a blink (issue 11)."""

from __future__ import annotations


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
