"""Wiring: from a loaded config to an engine, a compiled matcher, sinks and a pipeline."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from newswatch.config import Config
from newswatch.match import Matcher, compile_watches
from newswatch.pipeline import FeedSettings, Pipeline
from newswatch.sinks import build_sinks
from newswatch.store.db import open_database


def compile_config(config: Config) -> Matcher:
    return compile_watches(config.watch.people, config.watch.topics)


def feed_settings(config: Config) -> FeedSettings:
    return FeedSettings(fetch=config.fetch, interval=config.schedule.interval)


@dataclass
class App:
    config: Config
    engine: Engine
    pipeline: Pipeline

    def close(self) -> None:
        self.pipeline.close()
        self.engine.dispose()


def open_app(config: Config) -> App:
    """Open the database (migrating it) and build the pipeline; raises DatabaseError."""
    engine = open_database(config.database)
    pipeline = Pipeline(
        engine,
        compile_config(config),
        build_sinks(config),
        feed_settings=feed_settings(config),
        dedup=config.dedup,
    )
    return App(config=config, engine=engine, pipeline=pipeline)
