"""structlog set-up: JSON lines in production, a readable console on a TTY.

Diagnostics go to standard error; standard output is kept for what the user
asked for (alert records, command output), so both can be piped apart.

structlog is imported when something first logs (or asks for a logger), not
when logging is configured: `check` and `match` log nothing as a rule, and
structlog with the asyncio it pulls in is a third of their start-up (issue 11).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Literal, NamedTuple, TextIO, cast

if TYPE_CHECKING:
    import structlog

LogFormat = Literal["json", "console", "auto"]


class _Settings(NamedTuple):
    """The settings structlog is given at the first line logged (a named tuple: a
    dataclass costs ~1% of `check`'s start-up)."""

    use_json: bool
    level: int


_settings: list[_Settings] = []  # the latest configure_logging, until structlog takes it


def configure_logging(fmt: LogFormat = "auto", level: str = "INFO") -> None:
    """Configure logging once for the process; `auto` means console on a TTY, else JSON.

    structlog's events and the standard library's records (APScheduler, alembic,
    urllib3, httpx, Python warnings) go through one handler and one renderer, so every
    line on stderr has the same format and no two lines are ever written into each other.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING or ERROR")
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    _settings[:] = [_Settings(use_json, numeric)]
    _install_handler(_DeferredFormatter(_settings[0]), numeric)
    if "structlog" in sys.modules:  # already in use: apply the settings now
        _configure_structlog()


def _configure_structlog() -> None:
    """Hand the pending settings to structlog (importing it); a no-op once done."""
    if not _settings:
        return
    settings = _settings.pop()
    import structlog

    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(settings.level),
        logger_factory=lambda *_: logging.getLogger(_OWN),
        cache_logger_on_first_use=False,
    )


def _shared() -> list[structlog.typing.Processor]:
    import structlog

    return [
        structlog.contextvars.merge_contextvars,
        _add_node,  # every line, library ones too, names the node that wrote it
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


_OWN = "newswatch"


class _DeferredFormatter(logging.Formatter):
    """structlog's formatter for standard-library records, built at the first record."""

    def __init__(self, settings: _Settings) -> None:
        super().__init__()
        self._settings = settings
        self._real: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        if self._real is None:
            self._real = _formatter(self._settings.use_json)
        return self._real.format(record)


def _formatter(use_json: bool) -> logging.Formatter:
    import structlog

    shared = _shared()
    last: list[structlog.typing.Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if use_json
        else [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *last],
    )


def _install_handler(formatter: logging.Formatter, numeric: int) -> None:
    """One stderr handler on the root logger, replacing ours from an earlier call.
    Libraries stay quiet below WARNING unless asked; our own events follow `level`."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "newswatch", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(cast(TextIO, _CurrentStderr()))
    handler.newswatch = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(max(numeric, logging.WARNING))
    logging.getLogger(_OWN).setLevel(numeric)
    for noisy in ("apscheduler", "alembic", "httpx", "httpcore", "urllib3"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    logging.captureWarnings(True)  # `warnings.warn` from libraries: a log line, not raw text


_node: dict[str, str] = {}


def set_node(node_id: str | None) -> None:
    """Every log line from now on names this node (several nodes share one database)."""
    if node_id is None:
        _node.clear()
    else:
        _node["node"] = node_id


def _add_node(
    _logger: object, _method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    if _node:
        event.setdefault("node", _node["node"])
    return event


class _CurrentStderr:
    """Whatever `sys.stderr` is when a line is written, not when logging was configured
    (a replaced stream, e.g. under a test runner, must not leave loggers on a closed one)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def get_logger(name: str | None = None) -> structlog.typing.FilteringBoundLogger:
    import structlog

    _configure_structlog()
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
