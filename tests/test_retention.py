"""Retention on SQLite and PostgreSQL: old documents go, the alert history stays, and a
feed that still carries a purged entry does not bring it back as new."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from helpers import run_cli, write_config
from newswatch.config.schema import Person
from newswatch.match import compile_watches
from newswatch.model import Document
from newswatch.normalize import content_hash
from newswatch.pipeline import Pipeline
from newswatch.store.db import open_database
from newswatch.store.tables import alerts, documents

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
KEEP = timedelta(days=90)


def doc(key: str, body: str) -> Document:
    title = f"Item {key}"
    return Document(
        source="Wire", key=key, title=title, body=body, url=f"https://wire.example/{key}",
        published=None, content_hash=content_hash(title, body),
    )  # fmt: skip


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def pipeline_at(engine: Engine, moment: datetime) -> Pipeline:
    kosachev = Person(name="Konstantin Kosachev", aliases=("Kosachev",))
    return Pipeline(engine, compile_watches([kosachev], []), [], clock=lambda: moment)


def store(pipeline: Pipeline, *batch: Document) -> tuple[int, int]:
    with pipeline.engine.begin() as connection:
        counts = pipeline.store_and_match(connection, list(batch), "feed:https://wire.example/rss")
    return counts.new, counts.unchanged


def count(engine: Engine, table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_old_unalerted_documents_go_alerted_and_recent_ones_stay(engine: Engine) -> None:
    old = pipeline_at(engine, NOW - timedelta(days=100))
    entries = [doc("a", "Kosachev spoke to reporters."), doc("b", "Rain."), doc("c", "Sun.")]
    assert store(old, *entries) == (3, 0)
    assert store(pipeline_at(engine, NOW - timedelta(days=10)), doc("d", "Fog.")) == (1, 0)
    today = pipeline_at(engine, NOW)
    assert today.purge(KEEP, dry_run=True).documents == 2
    assert count(engine, documents) == 4  # a dry run removes nothing
    purged = today.purge(KEEP)
    assert purged.documents == 2
    assert count(engine, documents) == 2 and count(engine, alerts) == 1
    assert today.purge(KEEP).documents == 0


def test_a_purged_entry_still_in_its_feed_is_not_stored_again(engine: Engine) -> None:
    entries = [doc("b", "Rain."), doc("c", "Sun.")]
    store(pipeline_at(engine, NOW - timedelta(days=100)), *entries)
    today = pipeline_at(engine, NOW)
    today.purge(KEEP)
    assert store(today, *entries, doc("e", "Snow.")) == (1, 2)
    assert count(engine, documents) == 1


def test_purge_without_a_retention_period_says_how_to_set_one(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", tmp_path)
    result = run_cli("--config", str(config), "purge", "--dry-run")
    assert result.returncode == 2 and "retention: {documents: 90d}" in result.stderr
    with_period = write_config(
        tmp_path, f"sqlite:///{tmp_path}/nw.db", tmp_path, "retention: {documents: 30d}\n"
    )
    result = run_cli("--config", str(with_period), "purge", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "0 document(s) stored more than 30 days ago would be purged" in result.stdout
