"""Sinks from the config: the one place that knows which class serves which `type`."""

from __future__ import annotations

from newswatch.alerts.log import LogSink
from newswatch.alerts.sink import Sink
from newswatch.config import Config, LogAlert


def build_sinks(config: Config) -> list[Sink]:
    sinks: list[Sink] = []
    for entry in config.alerts:
        if isinstance(entry, LogAlert):
            sinks.append(LogSink())
    return sinks
