"""structlog set-up: JSON lines in production, a readable console on a TTY.

Diagnostics go to standard error; standard output is kept for what the user
asked for (alert records, command output), so both can be piped apart.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO, cast

import structlog

LogFormat = Literal["json", "console", "auto"]


def configure_logging(fmt: LogFormat = "auto", level: str = "INFO") -> None:
    """Configure structlog once for the process; `auto` means console on a TTY, else JSON."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING or ERROR")
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _add_node,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=False,
    )
    # libraries that log through the stdlib (APScheduler, alembic) stay quiet unless asked
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr)
    for noisy in ("apscheduler", "alembic", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))


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
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
