"""The models and the schema the migrations build say the same."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from builders import sqlite_row

from newsletter.extensions import db


def test_the_migrated_schema_is_the_models(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps an older layout of deliveries' indexes (migration 0015)")
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


@pytest.mark.slow
def test_migrating_a_sqlite_database_keeps_every_row(make_app, tmp_path):
    """Walked up one revision at a time, a row in every table at each step, then down
    again: no row is lost, no value changes, but for the tables and columns a step drops.
    Batch mode rebuilds a SQLite table by dropping the old one, which with foreign keys
    enforced deleted every row pointing at it (a list's issues, subscriptions and posts at
    0004, 0011 and 0012) or blanked the pointer (bounces' delivery at 0016)."""
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade

    other = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with other.app_context():
        scripts = ScriptDirectory(other.extensions["migrate"].directory)
        revisions = [r.revision for r in reversed(list(scripts.walk_revisions()))]
        kept: dict[str, list[dict]] = {}
        for revision in revisions:
            upgrade(revision=revision)
            kept = _kept(revision, kept, fill=True)
        assert all(kept.values()), [table for table, rows in kept.items() if not rows]
        for revision in reversed(revisions[:-1]):
            downgrade(revision=revision)
            kept = _kept(revision, kept, fill=False)
        db.engine.dispose()


def _kept(revision: str, kept: dict[str, list[dict]], fill: bool) -> dict[str, list[dict]]:
    """Asserts that the tables' rows are as they were, where a table and a column are still
    there; gives a row to each new table when `fill`; returns the rows now."""
    with db.engine.connect() as connection:
        tables = _tables(connection)
        for table in set(kept) & set(tables):
            now = _rows(connection, table)
            assert len(now) == len(kept[table]), (revision, table)
            for before, after in zip(kept[table], now, strict=True):
                names = set(before) & set(after)
                assert {n: after[n] for n in names} == {n: before[n] for n in names}, (
                    revision,
                    table,
                )
        if fill:
            _fill(connection, [table for table in tables if table not in kept])
            connection.commit()
        return {table: _rows(connection, table) for table in tables}


def _tables(connection) -> list[str]:
    return [
        name
        for (name,) in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'alembic%' ORDER BY name"
        )
    ]


def _rows(connection, table: str) -> list[dict]:
    result = connection.exec_driver_sql(f'SELECT * FROM "{table}" ORDER BY 1')
    return [dict(row._mapping) for row in result]


def _fill(connection, tables: list[str]) -> None:
    """A row in each table, each after the tables it points at."""
    waiting = list(tables)
    while waiting:
        ready = [table for table in waiting if not (_points_at(connection, table) & set(waiting))]
        assert ready, f"tables that point at each other: {waiting}"
        for table in ready:
            sqlite_row(connection, table)
            waiting.remove(table)


def _points_at(connection, table: str) -> set[str]:
    keys = connection.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")')
    return {row[2] for row in keys} - {table}
