"""newswatch: news ingestion and monitoring daemon."""

import sys

# The one place the version is written (pyproject.toml reads it from here): asking
# importlib.metadata instead cost most of `--version`'s start-up (issue 11).
__version__ = "0.1.0"

PROJECT_URL = "https://github.com/newswatch/newswatch"

# httpx imports its command line (`httpx._main`: click, pygments, and rich if present)
# whenever click is installed, a quarter of its import; newswatch never runs it. A None
# entry makes that import fail at once, and httpx then goes without its `main` (issue 11).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
