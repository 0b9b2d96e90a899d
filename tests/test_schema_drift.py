"""A new database gets its schema from the metadata (store/fresh.py), an older one from the
migrations: both must be the same schema, on SQLite and on PostgreSQL, and must evolve
the same under a later migration."""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, inspect

from newswatch.store.db import (
    MIGRATIONS,
    head_revision,
    open_database,
    schema_revision,
    upgrade_schema,
)


def migrated(url: str) -> None:
    """The schema as an upgrade from nothing makes it: every migration, through Alembic
    (an explicit revision never takes the shortcut)."""
    engine = open_database(url, upgrade=False)
    upgrade_schema(engine, head_revision())
    engine.dispose()


def created(url: str) -> None:
    """The schema as a new database gets it: from the metadata, in one go."""
    open_database(url).dispose()


def snapshot(url: str) -> dict[str, Any]:
    """Everything the database says about its schema: SQLAlchemy's reflection, then the
    backend's own catalog."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            shot = {"reflected": reflected(connection)}
            if connection.dialect.name == "sqlite":
                shot |= sqlite_catalog(connection)
            else:
                shot |= postgres_catalog(connection)
            shot["revision"] = connection.exec_driver_sql(
                "SELECT version_num FROM alembic_version"
            ).all()
            return shot
    finally:
        engine.dispose()


def reflected(connection: Connection) -> dict[str, Any]:
    found = inspect(connection)
    tables = {}
    for name in sorted(found.get_table_names()):
        columns = [
            {**column, "type": str(column["type"])} for column in found.get_columns(name)
        ]  # in their order
        tables[name] = {
            "columns": columns,
            "primary key": found.get_pk_constraint(name),
            "foreign keys": sorted_by_name(found.get_foreign_keys(name)),
            "indexes": sorted_by_name(found.get_indexes(name)),
            "unique constraints": sorted_by_name(found.get_unique_constraints(name)),
            "check constraints": sorted_by_name(found.get_check_constraints(name)),
            "options": found.get_table_options(name),
        }
    return plain({"tables": tables, "views": sorted(found.get_view_names())})


def plain(value: Any) -> Any:
    """Reflected values comparable by ==: SQL elements (a partial index's WHERE) as text."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(plain(item) for item in value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def sorted_by_name(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda item: (str(item.get("name")), repr(item)))


def sqlite_catalog(connection: Connection) -> dict[str, Any]:
    """sqlite_master (table text compared clause by clause: ALTER TABLE ADD COLUMN appends
    to the text, so a migrated table lists its later columns after its constraints) and
    the PRAGMAs of every table and index."""
    run = connection.exec_driver_sql
    master = run("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").all()
    catalog: dict[str, Any] = {"objects": [(kind, name, table) for kind, name, table, _ in master]}
    for kind, name, _, sql in master:
        if kind == "table":
            catalog[f"table {name}"] = {
                "definition": sorted(clauses(sql)),
                "after": spaced(sql[sql.rindex(")") + 1 :]),  # WITHOUT ROWID, STRICT
                "table_list": run(f"PRAGMA table_list('{name}')").all(),
                "table_xinfo": run(f"PRAGMA table_xinfo('{name}')").all(),
                "index_list": sorted(row[1:] for row in run(f"PRAGMA index_list('{name}')")),
                "foreign_key_list": sorted(  # without the id SQLite numbers them by
                    row[1:] for row in run(f"PRAGMA foreign_key_list('{name}')")
                ),
            }
        else:  # index (with its WHERE), trigger or view
            catalog[f"{kind} {name}"] = {
                "sql": spaced(sql) if sql else None,
                "index_xinfo": run(f"PRAGMA index_xinfo('{name}')").all()
                if kind == "index"
                else None,
            }
    return catalog


def clauses(sql: str) -> list[str]:
    """The column definitions and table constraints of a CREATE TABLE, each normalised."""
    body = sql[sql.index("(") + 1 : sql.rindex(")")]
    parts, depth, start = [], 0, 0
    for at, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(body[start:at])
            start = at + 1
    parts.append(body[start:])
    return [spaced(part) for part in parts]


def spaced(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql.replace('"', "")).strip()
    return re.sub(r"\( | \)", lambda m: m.group(0).strip(), sql)


POSTGRES_CATALOG = {
    "relations": """
        SELECT c.relname, c.relkind, c.relpersistence, c.reloptions, c.relhasrules,
               c.relhastriggers, c.relrowsecurity, c.relispartition
        FROM pg_class c WHERE c.relnamespace = to_regnamespace(current_schema())
        ORDER BY c.relname""",
    "columns": """
        SELECT table_name, column_name, data_type, udt_name, character_maximum_length,
               numeric_precision, numeric_scale, datetime_precision, is_nullable,
               column_default, is_identity, identity_generation, is_generated,
               collation_name
        FROM information_schema.columns WHERE table_schema = current_schema()
        ORDER BY table_name, ordinal_position""",
    "constraints": """
        SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid),
               c.condeferrable, c.condeferred, c.convalidated
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        WHERE t.relnamespace = to_regnamespace(current_schema())
        ORDER BY t.relname, c.conname""",
    "indexes": """
        SELECT tablename, indexname, replace(indexdef, current_schema() || '.', '')
        FROM pg_indexes WHERE schemaname = current_schema() ORDER BY tablename, indexname""",
    "sequences": """
        SELECT sequence_name, data_type, start_value, minimum_value, maximum_value,
               increment, cycle_option
        FROM information_schema.sequences WHERE sequence_schema = current_schema()
        ORDER BY sequence_name""",
    "sequence owners": """
        SELECT s.relname, t.relname, a.attname, d.deptype
        FROM pg_depend d
        JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE s.relnamespace = to_regnamespace(current_schema())
        ORDER BY s.relname""",
    "triggers": """
        SELECT event_object_table, trigger_name, event_manipulation, action_timing,
               action_statement
        FROM information_schema.triggers WHERE trigger_schema = current_schema()
        ORDER BY 1, 2, 3""",
    "views": """
        SELECT table_name, view_definition FROM information_schema.views
        WHERE table_schema = current_schema() ORDER BY table_name""",
}


def postgres_catalog(connection: Connection) -> dict[str, Any]:
    return {
        name: connection.exec_driver_sql(textwrap.dedent(query)).all()
        for name, query in POSTGRES_CATALOG.items()
    }


def assert_same(by_migrations: dict[str, Any], by_metadata: dict[str, Any]) -> None:
    assert list(differences(by_migrations, by_metadata)) == []


def differences(theirs: Any, ours: Any, where: str = "") -> Iterator[str]:
    """Where two snapshots differ, each place named by its path (table, aspect, item)."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        for key in sorted(theirs.keys() | ours.keys(), key=str):
            yield from differences(theirs.get(key), ours.get(key), f"{where}/{key}")
    elif isinstance(theirs, list) and isinstance(ours, list) and len(theirs) == len(ours):
        for at, (mine, other) in enumerate(zip(theirs, ours, strict=True)):
            yield from differences(mine, other, f"{where}[{at}]")
    elif theirs != ours:
        yield f"{where}: migrations {theirs!r}, metadata {ours!r}"


@pytest.fixture
def both(empty_database_url: str, another_database_url: str) -> tuple[str, str]:
    """One database migrated from nothing, one created from the metadata."""
    migrated(empty_database_url)
    created(another_database_url)
    return empty_database_url, another_database_url


def test_a_created_database_has_the_schema_the_migrations_make(both: tuple[str, str]) -> None:
    by_migrations, by_metadata = both
    shot = snapshot(by_metadata)
    assert shot["revision"] == [(head_revision(),)]
    assert "documents" in shot["reflected"]["tables"]
    assert_same(snapshot(by_migrations), shot)


def test_the_partial_index_is_partial_on_both_backends(both: tuple[str, str]) -> None:
    """Counting undelivered alerts reads only the pending ones, however the database began."""
    for url in both:
        indexes = inspect(create_engine(url)).get_indexes("deliveries")
        (undelivered,) = [i for i in indexes if i["name"] == "ix_deliveries_undelivered"]
        where = {k: str(v) for k, v in undelivered.get("dialect_options", {}).items()}
        assert any("delivered_at IS NULL" in clause for clause in where.values()), where


LATER = '''\
"""A later migration, as a future version of newswatch would bring one.

Revision ID: later
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "later"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("language", sa.String(16)))
    op.create_index("ix_documents_language", "documents", ["language"])
    with op.batch_alter_table("seed_files", recreate="always") as batch:
        batch.drop_constraint("fk_seed_files_document_id_documents", type_="foreignkey")
        batch.create_foreign_key(
            "fk_seed_files_document_id_documents",
            "documents",
            ["document_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("sink_state") as batch:
        batch.alter_column("failures", existing_type=sa.Integer(), server_default="1")
'''


@pytest.fixture
def later_migrations(tmp_path: Path) -> Iterator[Any]:
    """An Alembic config whose scripts are this version's migrations plus `LATER`."""
    from alembic.config import Config

    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_later.py").write_text(LATER.format(head=head_revision()))
    config = Config()
    config.set_main_option("script_location", str(scripts))
    yield config


def test_a_created_database_takes_later_migrations_as_a_migrated_one_does(
    both: tuple[str, str], later_migrations: Any
) -> None:
    """Alembic reads the created database's revision as the head, and a later migration
    (naming constraints, recreating a SQLite table) leaves both databases alike."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    for url in both:
        engine = open_database(url)
        with engine.begin() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == (
                head_revision()
            )
            later_migrations.attributes["connection"] = connection
            command.upgrade(later_migrations, "head")
        assert schema_revision(engine) == "later"
        engine.dispose()
    by_migrations, by_metadata = both
    shot = snapshot(by_metadata)
    foreign_keys = shot["reflected"]["tables"]["seed_files"]["foreign keys"]
    assert [fk["options"].get("ondelete") for fk in foreign_keys] == ["CASCADE"]
    assert_same(snapshot(by_migrations), shot)
