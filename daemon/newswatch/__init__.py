"""newswatch: news ingestion and monitoring daemon."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newswatch")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

PROJECT_URL = "https://github.com/newswatch/newswatch"
