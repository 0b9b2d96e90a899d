"""Stories in the store, on real SQLite and PostgreSQL: band keys, windows, one alert a story."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from helpers import alert_of
from newswatch import normalize
from newswatch.dedup.signature import BANDS, signature_of
from newswatch.model import Document
from newswatch.store import alerts as alert_store
from newswatch.store import documents as document_store
from newswatch.store import retention
from newswatch.store import stories as story_store
from newswatch.store.db import open_database, upgrade_schema
from newswatch.store.tables import story_bands
from storypairs import COUNCIL, HARBOUR, changed_words, with_footer

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NOW_PERIOD = int(NOW.timestamp()) // story_store.PERIOD
WEEK = timedelta(days=7)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def doc(source: str, key: str, body: str, day: int = 24) -> Document:
    title = f"{source} {key}"
    return Document(
        source=source,
        key=key,
        title=title,
        body=body,
        url=f"https://{source.lower()}.example/{key}",
        published=datetime(2026, 11, day, tzinfo=UTC),
        content_hash=normalize.content_hash(title, body),
    )


def store(
    engine: Engine, document: Document, at: datetime = NOW, origin: str | None = None
) -> Document:
    """Save one document from its own outlet (or from `origin`) at `at` and place it in a
    story; return it with its id."""
    with engine.begin() as connection:
        signature = signature_of(document.body)
        signed = {(document.source, document.key): signature}
        batch_origin = origin or document.source
        saved = document_store.save_documents(connection, [document], at, batch_origin, signed)
        [new] = saved.new
        assert new.id is not None
        moment = new.published or at
        listing = story_store.Listing(origin, new.title, new.url)
        placed = story_store.Placed(new.id, signature, moment, listing)
        story_store.assign_stories(connection, [placed], 0.5, WEEK, at)
    return new


def story_of(engine: Engine, document: Document) -> int:
    assert document.id is not None
    with engine.connect() as connection:
        return story_store.story_ids(connection, [document.id])[document.id]


def test_a_copy_from_another_outlet_joins_the_story_an_unrelated_one_does_not(
    engine: Engine,
) -> None:
    first = store(engine, doc("Herald", "1", COUNCIL))
    copy = store(engine, doc("Gazette", "a", with_footer(changed_words(COUNCIL, 0.03))))
    other = store(engine, doc("Gazette", "b", with_footer(HARBOUR)))
    assert story_of(engine, first) == first.id
    assert story_of(engine, copy) == first.id
    assert story_of(engine, other) == other.id


def test_an_outlets_later_item_under_another_title_is_no_copy_of_its_earlier_one(
    engine: Engine,
) -> None:
    """Next week's episode over the same blurb: another item, in another pass. The same
    text from another feed, or under the same title, or from a seed folder (files of any
    outlet) joins as before."""
    feed = "feed:https://lectures.example/rss"
    first = replace(doc("Lectures", "97", COUNCIL), title="Lecture 97")
    episode = store(engine, first, origin=feed)
    later = replace(doc("Lectures", "99", changed_words(COUNCIL, 0.03)), title="Lecture 99")
    edited = changed_words(COUNCIL, 0.03, seed=3)
    again = replace(doc("Lectures", "97b", edited), title="LECTURE 97")
    copy = doc("Gazette", "a", with_footer(COUNCIL))
    assert story_of(engine, store(engine, later, origin=feed)) != episode.id
    assert story_of(engine, store(engine, again, origin=feed)) == episode.id
    assert story_of(engine, store(engine, copy, origin="feed:https://gazette.example/")) == (
        episode.id
    )
    seed = "seed:/srv/seeds"
    filed = store(engine, replace(doc("Files", "1", HARBOUR), title="Strike"), origin=seed)
    refiled = replace(doc("Files", "2", changed_words(HARBOUR, 0.03)), title="Port shut")
    assert story_of(engine, store(engine, refiled, origin=seed)) == filed.id


def test_an_outlets_items_whose_links_no_parser_reads_are_still_placed(engine: Engine) -> None:
    """A stored link with an unclosed IPv6 bracket (the feed parser refuses such links,
    but placing a document does not rely on it) is compared by what stands for its
    host: the two items stay apart, and placing the second raises nothing."""
    feed = "feed:https://lectures.example/rss"
    first = replace(doc("Lectures", "97", COUNCIL), title="Lecture 97", url="http://[x/97")
    episode = store(engine, first, origin=feed)
    text = changed_words(COUNCIL, 0.03)
    later = replace(doc("Lectures", "99", text), title="Lecture 99", url="http://[x/99")
    assert story_of(engine, store(engine, later, origin=feed)) != episode.id


def test_copies_further_apart_than_the_window_are_separate_stories(engine: Engine) -> None:
    first = store(engine, doc("Herald", "1", COUNCIL, day=1))
    late = store(engine, doc("Gazette", "a", COUNCIL + " Updated.", day=20))
    assert story_of(engine, late) == late.id != first.id


def test_only_the_window_is_indexed_copies_stored_later_start_their_own_story(
    engine: Engine,
) -> None:
    """Both copies carry the same date; what separates them is when they were stored."""
    first = store(engine, doc("Herald", "1", COUNCIL))
    soon = store(engine, doc("Gazette", "a", with_footer(COUNCIL)), at=NOW + timedelta(days=6))
    late = store(engine, doc("Post", "x", COUNCIL + " Updated."), at=NOW + timedelta(days=14))
    assert story_of(engine, soon) == first.id
    assert story_of(engine, late) == late.id
    with engine.connect() as connection:
        query = select(story_bands.c.document_id).distinct()
        indexed = set(connection.execute(query).scalars())
    assert indexed == {late.id}  # the earlier copies' periods left the window: pruned


def test_a_watch_alerts_once_per_story_and_the_alert_names_the_other_outlet(
    engine: Engine,
) -> None:
    first = store(engine, doc("Herald", "1", COUNCIL))
    with engine.begin() as connection:
        kept = story_store.first_per_story(connection, [alert_of(first, "Elena Varga")])
        alert_store.save_alerts(connection, kept, ["log"], NOW)
    copy = store(engine, doc("Gazette", "a", with_footer(COUNCIL)))
    with engine.begin() as connection:
        again = story_store.first_per_story(
            connection, [alert_of(copy, "Elena Varga"), alert_of(copy, "Harbours")]
        )
        [listed] = alert_store.list_alerts(connection, None, None)
    assert [a.watch for a in again] == ["Harbours"]
    assert listed.story is not None and listed.story.id == first.id
    assert [(o.source, o.url) for o in listed.story.others] == [("Gazette", copy.url)]


def test_an_edit_keeps_the_story_and_replaces_its_band_keys(engine: Engine) -> None:
    first = store(engine, doc("Herald", "1", COUNCIL))
    copy = store(engine, doc("Gazette", "a", COUNCIL + " Corrected."))
    assert first.id is not None and copy.id is not None
    edited = replace(copy, body=with_footer(HARBOUR), content_hash="edited")
    with engine.begin() as connection:
        signed = {(copy.source, copy.key): signature_of(edited.body)}
        saved = document_store.save_documents(connection, [edited], NOW, copy.source, signed)
        assert [d.id for d in saved.updated] == [copy.id]
        story_store.replace_bands(connection, [(copy.id, signed[(copy.source, copy.key)])], NOW)
        story_store.replace_bands(connection, [(copy.id, signed[(copy.source, copy.key)])], NOW)
        query = select(story_bands.c.band_key).where(story_bands.c.document_id == copy.id)
        bands = set(connection.execute(query).scalars())
    new_keys = story_store.filed_keys(signature_of(edited.body) or b"", NOW_PERIOD)
    assert len(new_keys) == BANDS and bands >= set(new_keys)  # the same edit twice: no conflict
    assert story_of(engine, copy) == first.id
    newcomer = store(engine, doc("Post", "x", HARBOUR))
    assert story_of(engine, newcomer) == first.id


def test_an_upgraded_database_keeps_finding_its_old_stories(empty_database_url: str) -> None:
    """Band keys stored by an older layout are computed again from the stored signatures."""
    old = open_database(empty_database_url, upgrade=False)
    upgrade_schema(old, "0009")
    first = doc("Herald", "1", COUNCIL)
    signature = signature_of(first.body)
    with old.begin() as connection:
        signed = {(first.source, first.key): signature}
        [stored] = document_store.save_documents(connection, [first], NOW, "Herald", signed).new
        old_keys = [{"band_key": n, "document_id": stored.id} for n in range(-32, 0)]
        connection.execute(story_bands.insert(), old_keys)  # what 0009 stored: unknown keys
    old.dispose()
    engine = open_database(empty_database_url)
    try:
        with engine.connect() as connection:
            query = select(story_bands.c.band_key).where(story_bands.c.document_id == stored.id)
            keys = set(connection.execute(query).scalars())
        day = int(NOW.timestamp()) // story_store.PERIOD  # filed when it was stored
        assert signature is not None and keys == set(story_store.filed_keys(signature, day))
        copy = store(engine, doc("Gazette", "a", with_footer(COUNCIL)))
        assert story_of(engine, copy) == stored.id
    finally:
        engine.dispose()


def test_documents_stored_before_the_signature_format_changed_start_new_stories(
    empty_database_url: str,
) -> None:
    """0014: a signature of the earlier format (512 bytes of 32-bit values) loses its
    band rows and is never compared with a new one; a copy stored after the upgrade
    starts its own story, and copies of it join that one."""
    old = open_database(empty_database_url, upgrade=False)
    upgrade_schema(old, "0013")
    first = doc("Herald", "1", COUNCIL)
    older = bytes(range(256)) * 2  # what format 1 stored: 128 32-bit values
    with old.begin() as connection:
        signed = {(first.source, first.key): older}
        [stored] = document_store.save_documents(connection, [first], NOW, "Herald", signed).new
        rows = [{"band_key": NOW_PERIOD << 32 | n, "document_id": stored.id} for n in range(16)]
        connection.execute(story_bands.insert(), rows)
    old.dispose()
    engine = open_database(empty_database_url)
    try:
        with engine.connect() as connection:
            left = connection.execute(select(func.count()).select_from(story_bands)).scalar()
        assert left == 0
        copy = store(engine, doc("Gazette", "a", with_footer(COUNCIL)))
        assert story_of(engine, copy) == copy.id
        again = store(engine, doc("Post", "b", COUNCIL))
        assert story_of(engine, again) == copy.id
    finally:
        engine.dispose()


def test_purging_documents_takes_their_band_rows_and_their_stories_end(engine: Engine) -> None:
    """Band rows have no foreign key (each deleted document read the whole table):
    retention deletes them itself, and a copy of a purged document starts a story."""
    store(engine, doc("Herald", "1", COUNCIL, day=1), at=NOW - timedelta(days=100))
    with engine.begin() as connection:
        purged = retention.purge(connection, NOW - timedelta(days=90), NOW)
        left = connection.execute(select(func.count()).select_from(story_bands)).scalar()
    assert purged.documents == 1 and purged.bands == BANDS and left == 0
    copy = store(engine, doc("Gazette", "a", with_footer(COUNCIL), day=1), at=NOW - WEEK)
    assert story_of(engine, copy) == copy.id


def test_a_copy_stored_in_a_later_period_finds_the_archived_original(engine: Engine) -> None:
    """Rows of earlier periods move to the archive (one probe a key for the whole
    window); a copy stored days later, in another period, still joins the story."""
    first = store(engine, doc("Herald", "1", COUNCIL))
    other = store(engine, doc("Herald", "2", HARBOUR), at=NOW + timedelta(days=2))
    copy = store(engine, doc("Gazette", "a", with_footer(COUNCIL)), at=NOW + timedelta(days=4))
    again = store(engine, doc("Post", "b", with_footer(HARBOUR)), at=NOW + timedelta(days=5))
    assert story_of(engine, copy) == first.id
    assert story_of(engine, again) == other.id


def test_a_prune_within_its_budget_goes_on_where_it_stopped(engine: Engine) -> None:
    """Archived periods leaving the window are swept a slice of keys at a time; a prune
    that ran out of budget leaves the rest to the next one, which ends with none."""
    stored = [store(engine, doc("Herald", str(n), changed_words(COUNCIL, 0.5))) for n in range(4)]
    store(engine, doc("Herald", "later", HARBOUR), at=NOW + timedelta(days=4))  # archives them
    later_period = int((NOW + timedelta(days=4)).timestamp()) // story_store.PERIOD
    ids = {d.id for d in stored}
    with engine.begin() as connection:
        steps = [story_store.prune_bands(connection, later_period, budget=1)]
        while steps[-1] is None:
            steps.append(story_store.prune_bands(connection, later_period, budget=1))
        left = connection.execute(select(story_bands.c.document_id)).scalars().all()
    assert len(steps) > 1 and not ids & set(left) and left


def test_band_rows_stored_before_the_archive_existed_are_still_found(
    empty_database_url: str,
) -> None:
    """0015: rows of earlier periods filed by 0014's layout are archived by the first
    batch stored after the upgrade, and a copy of their document joins its story."""
    old = open_database(empty_database_url, upgrade=False)
    upgrade_schema(old, "0014")
    first = doc("Herald", "1", COUNCIL)
    signature = signature_of(first.body)
    assert signature is not None
    with old.begin() as connection:
        signed = {(first.source, first.key): signature}
        earlier = NOW - timedelta(days=3)
        [stored] = document_store.save_documents(connection, [first], earlier, "Herald", signed).new
        rows = [
            {"band_key": key, "document_id": stored.id}
            for key in story_store.filed_keys(signature, NOW_PERIOD - 1)
        ]
        connection.execute(story_bands.insert(), rows)
    old.dispose()
    engine = open_database(empty_database_url)
    try:
        copy = store(engine, doc("Gazette", "a", with_footer(COUNCIL)))
        assert story_of(engine, copy) == stored.id
        with engine.connect() as connection:
            query = select(story_bands.c.band_key).where(story_bands.c.document_id == stored.id)
            keys = set(connection.execute(query).scalars())
        assert len(keys) == BANDS and min(keys) >= 1 << 62  # archived
    finally:
        engine.dispose()
