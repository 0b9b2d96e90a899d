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
    """Configure logging once for the process; `auto` means console on a TTY, else JSON.

    structlog's events and the standard library's records (APScheduler, alembic,
    httpx, Python warnings) go through one handler and one renderer, so every line
    on stderr has the same format and no two lines are ever written into each other.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING or ERROR")
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_node,  # every line, library ones too, names the node that wrote it
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=lambda *_: logging.getLogger(_OWN),
        cache_logger_on_first_use=False,
    )
    _install_handler(_formatter(use_json, shared), numeric)


_OWN = "newswatch"


def _formatter(
    use_json: bool, shared: list[structlog.typing.Processor]
) -> structlog.stdlib.ProcessorFormatter:
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
    for noisy in ("apscheduler", "alembic", "httpx", "httpcore"):
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
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
