"""newswatch: news ingestion and monitoring daemon."""

PROJECT_URL = "https://github.com/newswatch/newswatch"


def __getattr__(name: str) -> str:
    """`__version__` on first use: importlib.metadata costs most of `--help`'s start-up."""
    if name != "__version__":
        raise AttributeError(f"module 'newswatch' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("newswatch")
    except PackageNotFoundError:  # running from a source tree that was not installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
