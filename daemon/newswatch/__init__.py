"""newswatch: news ingestion and monitoring daemon."""

# The one place the version is written (pyproject.toml reads it from here): asking
# importlib.metadata instead cost most of `--version`'s start-up (issue 11).
__version__ = "0.1.0"

PROJECT_URL = "https://github.com/newswatch/newswatch"
