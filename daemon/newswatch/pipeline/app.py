"""Wiring: from a loaded config to an engine, a compiled matcher, sinks and a pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from newswatch.config.plain import sink_names

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from newswatch.config import Config
    from newswatch.match import Matcher
    from newswatch.pipeline import FeedSettings, Pipeline


def feed_settings(config: Config) -> FeedSettings:
    from newswatch.pipeline import FeedSettings

    return FeedSettings(
        fetch=config.fetch,
        interval=config.schedule.interval,
        failing_after=config.health.failing_after,
        sink_names=tuple(sink_names(config.alerts)),
        health_sinks=tuple(config.health_sinks()),
    )


@dataclass
class App:
    config: Config
    engine: Engine
    pipeline: Pipeline

    def close(self) -> None:
        self.pipeline.close()
        self.engine.dispose()


def open_app(
    config: Config, matcher: Matcher | None = None, parse_workers: int | None = None
) -> App:
    """Open the database (migrating it) and build the pipeline; raises DatabaseError.

    `matcher`: the config's watch list compiled before (config/cache.py); without it,
    compiled now. `parse_workers`: see `FeedParsers` (default: the daemon's)."""
    from newswatch.match.watchlist import compile_config
    from newswatch.pipeline import Pipeline
    from newswatch.sinks import build_sinks, sink_routes
    from newswatch.store.db import open_database

    engine = open_database(config.database)
    sinks = build_sinks(config)
    pipeline = Pipeline(
        engine,
        matcher if matcher is not None else compile_config(config),
        sinks,
        feed_settings=feed_settings(config),
        dedup=config.dedup,
        routes=sink_routes(config, sinks),
        parse_workers=parse_workers,
    )
    return App(config=config, engine=engine, pipeline=pipeline)
