"""The store on real SQLite and PostgreSQL: dedup by unique index, only new rows come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from newswatch.model import Alert, Document
from newswatch.store import alerts as alert_store
from newswatch.store import deliveries as delivery_store
from newswatch.store import documents as document_store
from newswatch.store.db import DatabaseError, open_database, schema_revision

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def doc(key: str, body: str, url: str | None = None, source: str = "seeds") -> Document:
    return Document(
        source=source,
        key=key,
        title=f"Title {key}",
        body=body,
        url=url,
        published=datetime(2024, 11, 14, tzinfo=UTC),
        content_hash=f"hash-of-{body}",
        authors=("A. Writer",),
    )


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def save(engine: Engine, *batch: Document) -> document_store.SaveResult:
    with engine.begin() as connection:
        return document_store.save_documents(connection, batch, NOW)


def test_migrations_create_the_schema_and_are_idempotent(database_url: str) -> None:
    first = open_database(database_url)
    assert schema_revision(first) == "0005"
    first.dispose()
    again = open_database(database_url)
    assert schema_revision(again) == "0005"
    again.dispose()


def test_new_documents_come_back_with_ids_and_a_second_save_adds_nothing(engine: Engine) -> None:
    result = save(engine, doc("a.txt", "alpha", "https://x.org/a"), doc("b.txt", "beta"))
    assert [d.key for d in result.new] == ["a.txt", "b.txt"]
    assert all(isinstance(d.id, int) for d in result.new)
    again = save(engine, doc("a.txt", "alpha", "https://x.org/a"), doc("b.txt", "beta"))
    assert again.new == [] and again.updated == []
    assert again.unchanged == 2
    with engine.connect() as connection:
        assert document_store.count_documents(connection) == 2


def test_same_text_under_another_name_is_a_duplicate(engine: Engine) -> None:
    save(engine, doc("a.txt", "same words"))
    result = save(engine, doc("copy-of-a.txt", "same words"))
    assert result.new == [] and result.duplicates == 1


def test_same_canonical_url_from_another_source_is_a_duplicate(engine: Engine) -> None:
    save(engine, doc("a", "first telling", "https://x.org/story"))
    result = save(engine, doc("b", "second telling", "https://x.org/story", source="feed"))
    assert result.new == [] and result.duplicates == 1


def test_duplicates_inside_one_batch_store_once(engine: Engine) -> None:
    result = save(engine, doc("a", "twin"), doc("b", "twin"), doc("c", "other"))
    assert [d.key for d in result.new] == ["a", "c"]
    assert result.duplicates == 1


def test_an_edited_item_updates_its_document(engine: Engine) -> None:
    (original,) = save(engine, doc("a.txt", "first draft")).new
    result = save(engine, doc("a.txt", "second draft"))
    assert result.new == [] and [d.id for d in result.updated] == [original.id]
    with engine.connect() as connection:
        (batch,) = list(document_store.iter_documents_since(connection, NOW - timedelta(days=3650)))
    assert [d.body for d in batch] == ["second draft"]


def test_an_edit_that_copies_another_document_is_a_duplicate(engine: Engine) -> None:
    save(engine, doc("a.txt", "one"), doc("b.txt", "two"))
    result = save(engine, doc("b.txt", "one"))
    assert result.updated == [] and result.duplicates == 1


def test_dates_come_back_timezone_aware_utc(engine: Engine) -> None:
    save(engine, doc("a", "dated"))
    with engine.connect() as connection:
        (batch,) = list(
            document_store.iter_documents_since(connection, datetime(2024, 1, 1, tzinfo=UTC))
        )
    assert batch[0].published == datetime(2024, 11, 14, tzinfo=UTC)
    assert batch[0].published.tzinfo is not None
    assert batch[0].authors == ("A. Writer",)


def alert_for(document: Document, watch: str) -> Alert:
    assert document.id is not None
    return Alert(
        document_id=document.id,
        watch=watch,
        kind="person",
        title=document.title,
        url=document.url,
        source=document.source,
        published=document.published,
        matched=(watch,),
        snippet="…",
    )


def test_a_document_watch_pair_alerts_once_ever(engine: Engine) -> None:
    (stored,) = save(engine, doc("a", "text")).new
    with engine.begin() as connection:
        first = alert_store.save_alerts(connection, [alert_for(stored, "Trump")], ["log"], NOW)
        again = alert_store.save_alerts(
            connection, [alert_for(stored, "Trump"), alert_for(stored, "Biden")], ["log"], NOW
        )
    assert [a.watch for a in first] == ["Trump"]
    assert [a.watch for a in again] == ["Biden"]


def test_outbox_delivers_pending_alerts_once_and_retries_failures(engine: Engine) -> None:
    (stored,) = save(engine, doc("a", "text")).new
    with engine.begin() as connection:
        new = alert_store.save_alerts(
            connection, [alert_for(stored, "Trump")], ["log", "email:x"], NOW
        )
        ids = [a.id for a in new if a.id is not None]
        pending = delivery_store.pending_deliveries(connection, "log", NOW)
        assert [a.watch for a in pending] == ["Trump"]
        assert pending[0].title == "Title a"
        delivery_store.mark_delivered(connection, ids, "log", NOW)
        delivery_store.mark_failed(
            connection, ids, "email:x", "refused", NOW + timedelta(minutes=1)
        )
        assert delivery_store.pending_deliveries(connection, "log", NOW) == []
        assert delivery_store.pending_deliveries(connection, "email:x", NOW) == []
        later = delivery_store.pending_deliveries(connection, "email:x", NOW + timedelta(minutes=2))
        assert [a.watch for a in later] == ["Trump"]


def test_alerts_list_newest_first(engine: Engine) -> None:
    (stored,) = save(engine, doc("a", "text")).new
    with engine.begin() as connection:
        alert_store.save_alerts(connection, [alert_for(stored, "Old")], [], NOW)
        alert_store.save_alerts(
            connection, [alert_for(stored, "New")], [], NOW + timedelta(hours=1)
        )
        listed = alert_store.list_alerts(connection, None, None)
        recent = alert_store.list_alerts(connection, NOW + timedelta(minutes=30), None)
    assert [a.watch for a in listed] == ["New", "Old"]
    assert [a.watch for a in recent] == ["New"]


def test_a_database_folder_that_cannot_be_created_is_one_clear_error(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DatabaseError, match="cannot create the database folder"):
        open_database(f"sqlite:///{blocker}/sub/newswatch.db")


def test_an_unreachable_postgresql_server_is_one_clear_error() -> None:
    with pytest.raises(DatabaseError, match="check the `database:` URL"):
        open_database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_failed_deliveries_back_off_and_count_their_attempts(engine: Engine) -> None:
    from newswatch.alerts.outbox import retry_delay

    (stored,) = save(engine, doc("a", "text")).new
    with engine.begin() as connection:
        (alert,) = alert_store.save_alerts(connection, [alert_for(stored, "X")], ["email:x"], NOW)
        assert alert.id is not None
        assert delivery_store.failed_attempts(connection, [alert.id], "email:x") == 0
        for _ in range(3):
            delivery_store.mark_failed(connection, [alert.id], "email:x", "refused", NOW)
        assert delivery_store.failed_attempts(connection, [alert.id], "email:x") == 3
    delays = [retry_delay(n).total_seconds() for n in range(8)]
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600]
