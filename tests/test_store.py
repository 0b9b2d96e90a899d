"""The store on real SQLite and PostgreSQL: dedup by unique index, only new rows come back."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from helpers import alert_of
from newswatch import normalize
from newswatch.dedup import sha256_hex
from newswatch.model import Document
from newswatch.store import alerts as alert_store
from newswatch.store import deliveries as delivery_store
from newswatch.store import documents as document_store
from newswatch.store.db import (
    DatabaseError,
    head_revision,
    open_database,
    schema_revision,
    upgrade_schema,
)
from newswatch.store.documents import SaveResult

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


STORY = "Officials met on Thursday to discuss the treaty and its many open questions."


def doc(
    key: str,
    body: str,
    url: str | None = None,
    source: str = "seeds",
    title: str | None = None,
) -> Document:
    title = f"Title {key}" if title is None else title
    return Document(
        source=source,
        key=key,
        title=title,
        body=body,
        url=url,
        published=datetime(2024, 11, 14, tzinfo=UTC),
        content_hash=normalize.content_hash(title, body),
        authors=("A. Writer",),
    )


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def save(engine: Engine, *batch: Document, origin: str = "seed:/srv/seeds") -> SaveResult:
    with engine.begin() as connection:
        return document_store.save_documents(connection, batch, NOW, origin)


def stored_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return document_store.count_documents(connection)


def test_migrations_create_the_schema_and_are_idempotent(empty_database_url: str) -> None:
    first = open_database(empty_database_url)
    assert schema_revision(first) == head_revision()
    first.dispose()
    again = open_database(empty_database_url)
    assert schema_revision(again) == head_revision()
    again.dispose()


def test_a_database_at_the_head_opens_without_loading_alembic(database_url: str) -> None:
    """Start-up of every command: the head is read off the migration files (issue 11),
    and it is the head Alembic itself finds."""
    open_database(database_url).dispose()  # migrated here
    probe = (
        "import sys; from newswatch.store.db import open_database, schema_revision\n"
        f"engine = open_database({database_url!r})\n"
        "print(schema_revision(engine), 'alembic' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out.split() == [head_revision(), "False"]


def test_new_documents_come_back_with_ids_and_a_second_save_adds_nothing(engine: Engine) -> None:
    result = save(engine, doc("a.txt", "alpha", "https://x.org/a"), doc("b.txt", "beta"))
    assert [d.key for d in result.new] == ["a.txt", "b.txt"]
    assert all(isinstance(d.id, int) for d in result.new)
    again = save(engine, doc("a.txt", "alpha", "https://x.org/a"), doc("b.txt", "beta"))
    assert again.new == [] and again.updated == []
    assert again.unchanged == 2
    assert stored_count(engine) == 2


def test_same_article_text_under_another_name_is_a_duplicate_of_it(engine: Engine) -> None:
    (first,) = save(engine, doc("a.txt", STORY, title="Treaty talks")).new
    result = save(engine, doc("copy-of-a.txt", STORY, title="Treaty talks"))
    assert result.new == [] and result.duplicates == 1
    assert result.duplicate_of == [first.id]


def test_same_short_text_from_two_feeds_is_two_documents(engine: Engine) -> None:
    """Two "Comments" entries, or two empty-bodied "Daily briefing"s, are not one article."""
    save(
        engine, doc("1", "Comments", "https://a.example/1", title="Daily briefing"), origin="feed:a"
    )
    result = save(
        engine, doc("1", "Comments", "https://b.example/9", title="Daily briefing"), origin="feed:b"
    )
    assert len(result.new) == 1 and result.duplicates == 0
    assert stored_count(engine) == 2


def test_same_link_and_title_from_another_origin_is_a_duplicate(engine: Engine) -> None:
    (first,) = save(engine, doc("a", "first telling", "https://x.org/s", title="Talks")).new
    result = save(
        engine, doc("b", "second telling", "https://x.org/s", title="Talks"), origin="feed:x"
    )
    assert result.new == [] and result.duplicate_of == [first.id]


def test_same_link_with_another_title_is_another_document(engine: Engine) -> None:
    save(engine, doc("a", "first telling", "https://x.org/s", title="Talks"))
    result = save(engine, doc("b", "other", "https://x.org/s", title="Other talks"), origin="f:x")
    assert len(result.new) == 1


def test_episodes_of_one_feed_linking_to_the_home_page_are_all_kept(engine: Engine) -> None:
    episodes = [
        doc(f"guid-{n}", f"Show notes {n}", "https://pod.example/", title="Weekly show")
        for n in range(131)
    ]
    result = save(engine, *episodes, origin="feed:https://pod.example/rss")
    assert len(result.new) == 131 and result.duplicates == 0


def test_entries_linking_to_anchors_of_one_page_are_all_kept(engine: Engine) -> None:
    entries = [
        doc(f"g{n}", f"Note {n}", f"https://x.org/changelog#v1.{n}", title=f"Release 1.{n}")
        for n in range(43)
    ]
    assert len(save(engine, *entries, origin="feed:x").new) == 43


def test_two_feeds_with_the_same_name_never_overwrite_each_other(engine: Engine) -> None:
    """Both titled "News", both numbering their GUIDs from 1."""
    first = [doc(str(n), f"A story {n}", source="News", title=f"A {n}") for n in range(3)]
    second = [doc(str(n), f"B story {n}", source="News", title=f"B {n}") for n in range(3)]
    assert len(save(engine, *first, origin="feed:https://a.example/rss").new) == 3
    result = save(engine, *second, origin="feed:https://b.example/rss")
    assert len(result.new) == 3 and result.updated == []
    assert stored_count(engine) == 6


def test_entries_with_neither_title_nor_text_are_counted_as_empty(engine: Engine) -> None:
    result = save(engine, doc("1", "", "https://x.org/1", title=""), doc("2", "text"))
    assert len(result.new) == 1 and result.empty == 1


def test_duplicates_inside_one_batch_store_once_and_name_the_kept_one(engine: Engine) -> None:
    result = save(
        engine,
        doc("a", STORY, title="Twin"),
        doc("b", STORY, title="Twin"),
        doc("a", "the same GUID again"),
        doc("c", "other"),
    )
    assert [d.key for d in result.new] == ["a", "c"]
    assert result.duplicates == 2 and result.duplicate_of == [result.new[0].id]


def test_an_edited_item_updates_its_document(engine: Engine) -> None:
    (original,) = save(engine, doc("a.txt", "first draft")).new
    result = save(engine, doc("a.txt", "second draft"))
    assert result.new == [] and [d.id for d in result.updated] == [original.id]
    with engine.connect() as connection:
        (batch,) = list(document_store.iter_documents_since(connection, NOW - timedelta(days=3650)))
    assert [d.body for d in batch] == ["second draft"]


def test_an_edit_that_copies_another_article_is_a_duplicate(engine: Engine) -> None:
    save(engine, doc("a.txt", STORY, title="T"), doc("b.txt", "two"))
    result = save(engine, doc("b.txt", STORY, title="T"))
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


def test_a_document_watch_pair_alerts_once_ever(engine: Engine) -> None:
    (stored,) = save(engine, doc("a", "text")).new
    with engine.begin() as connection:
        first = alert_store.save_alerts(connection, [alert_of(stored, "Trump")], ["log"], NOW)
        again = alert_store.save_alerts(
            connection, [alert_of(stored, "Trump"), alert_of(stored, "Biden")], ["log"], NOW
        )
    assert [a.watch for a in first] == ["Trump"]
    assert [a.watch for a in again] == ["Biden"]


def test_outbox_delivers_pending_alerts_once_and_retries_failures(engine: Engine) -> None:
    (stored,) = save(engine, doc("a", "text")).new
    with engine.begin() as connection:
        new = alert_store.save_alerts(
            connection, [alert_of(stored, "Trump")], ["log", "email:x"], NOW
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


def test_a_digest_marks_each_of_its_alerts_delivered_to_its_sink_only(engine: Engine) -> None:
    """One message carrying several alerts (a digest) marks them all at once, with the
    time and attempt counted as a single alert's; another sink's rows wait."""
    (stored,) = save(engine, doc("a", "text")).new
    watches = ["Trump", "Biden", "Harris"]
    with engine.begin() as connection:
        new = alert_store.save_alerts(
            connection, [alert_of(stored, w) for w in watches], ["log", "email:x"], NOW
        )
        ids = [a.id for a in new if a.id is not None]
        delivery_store.mark_delivered(connection, ids[:2], "email:x", NOW)
        delivery_store.mark_delivered(connection, ids[2:], "email:x", NOW + timedelta(hours=1))
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT alert_id, sink, delivered_at, attempts, last_error FROM deliveries")
        ).all()
        pending = delivery_store.pending_deliveries(connection, "log", NOW)
    delivered = {(r.alert_id, r.sink): r for r in rows if r.delivered_at is not None}
    assert sorted(delivered) == sorted((i, "email:x") for i in ids)
    assert all(r.attempts == 1 and r.last_error is None for r in delivered.values())
    later = delivered[(ids[2], "email:x")].delivered_at
    if isinstance(later, str):  # SQLite keeps naive UTC text, as Core writes it
        assert later == "2026-11-24 13:00:00.000000"
    else:
        assert later == NOW + timedelta(hours=1)
    assert sorted(a.watch for a in pending) == sorted(watches)


def test_alerts_list_newest_first(engine: Engine) -> None:
    (stored,) = save(engine, doc("a", "text")).new
    with engine.begin() as connection:
        alert_store.save_alerts(connection, [alert_of(stored, "Old")], [], NOW)
        alert_store.save_alerts(connection, [alert_of(stored, "New")], [], NOW + timedelta(hours=1))
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
        (alert,) = alert_store.save_alerts(connection, [alert_of(stored, "X")], ["email:x"], NOW)
        assert alert.id is not None
        assert delivery_store.failed_attempts(connection, [alert.id], "email:x") == 0
        for _ in range(3):
            delivery_store.mark_failed(connection, [alert.id], "email:x", "refused", NOW)
        assert delivery_store.failed_attempts(connection, [alert.id], "email:x") == 3
    delays = [retry_delay(n).total_seconds() for n in range(8)]
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_upgrading_keeps_old_rows_and_the_feed_that_stored_them_adopts_them(
    empty_database_url: str,
) -> None:
    """Rows stored before 0004 (identity = display name + key) are neither lost,
    stored again, nor alerted again; another feed of the same name stays apart."""
    old = open_database(empty_database_url, upgrade=False)
    upgrade_schema(old, "0003")
    with old.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO documents (source, item_key, identity_hash, url, url_hash,"
                " content_hash, title, body, authors, categories, created_at, updated_at)"
                " VALUES ('News', 'g1', :identity, 'https://a.example/1', 'u',"
                " :content, 'Talks', :body, '[]', '[]', :now, :now)"
            ),
            {
                "identity": sha256_hex("News\0g1"),
                "content": normalize.content_hash("Talks", STORY),
                "body": STORY,
                "now": NOW.replace(tzinfo=None),
            },
        )
    old.dispose()
    engine = open_database(empty_database_url)
    try:
        entry = doc("g1", STORY, "https://a.example/1", source="News", title="Talks")
        first = save(engine, entry, origin="feed:https://a.example/rss")
        assert first.unchanged == 1 and first.new == []
        again = save(engine, entry, origin="feed:https://a.example/rss")
        assert again.unchanged == 1
        namesake = doc("g1", "Another story altogether.", source="News", title="Other")
        other = save(engine, namesake, origin="feed:https://b.example/rss")
        assert len(other.new) == 1 and other.updated == []
        copy = doc("x", "Retold.", "https://a.example/1", source="Mirror", title="Talks")
        assert save(engine, copy, origin="feed:mirror").duplicates == 1
        with engine.connect() as connection:
            origins = connection.execute(text("SELECT origin FROM documents ORDER BY id")).all()
        assert [row.origin for row in origins] == [
            "feed:https://a.example/rss",
            "feed:https://b.example/rss",
        ]
    finally:
        engine.dispose()


def test_the_sqlite_database_and_its_wal_are_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o002)
    try:
        engine = open_database(f"sqlite:///{tmp_path}/state/nw.db")
        save(engine, doc("a", "alpha"))
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "state").iterdir()}
        engine.dispose()
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    assert modes["nw.db"] == 0o600 and modes["nw.db-wal"] == 0o600


def test_a_world_readable_database_from_an_older_version_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    open_database(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
