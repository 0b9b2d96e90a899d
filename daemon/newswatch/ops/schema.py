"""The daemon's schema migrations, run in a child process (issue 11).

Alembic, with Mako and Pygments, is ~11 MB of modules a process keeps once it has
imported them: a daemon started after an upgrade of newswatch would hold them
for life for a few seconds of work. A child process migrates instead, and the
daemon's own `open_database` then finds the schema at its head without
importing Alembic. A new database needs no child: `open_database` creates its
schema without Alembic (store/fresh.py).
"""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy.engine import make_url

from newswatch.store.db import needs_migrations, open_database

# The URL comes on stdin, so a password never shows in the process list.
_UPGRADE = "from newswatch.store.db import open_database; open_database(input()).dispose()"


def upgrade_aside(url: str) -> bool:
    """Bring the schema of `url` to the newest migration in a child process, if it has
    migrations to run; True if a child migrated it.

    Best effort: if the child fails, the caller's `open_database` migrates in
    process and reports what is wrong, as it always has. An in-memory SQLite
    database is a child's own, so it is left to the caller. Nothing is logged
    here: the daemon's log lines carry its node id, set once the database is open.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return False
    engine = open_database(url, upgrade=False)
    try:
        if not needs_migrations(engine):
            return False
    finally:
        engine.dispose()
    child = subprocess.run(
        [sys.executable, "-c", _UPGRADE], input=url, text=True, capture_output=True, check=False
    )
    return child.returncode == 0
