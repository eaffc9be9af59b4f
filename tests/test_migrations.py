"""Alembic: upgrade -> downgrade -> upgrade on SQLite and MariaDB; models == migration head."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal import migrate
from portal.db import make_engine
from portal.models import Base

EXPECTED_TABLES = set(Base.metadata.tables) | {"alembic_version"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) == EXPECTED_TABLES
    migrate.downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) <= {"alembic_version"}
    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) == EXPECTED_TABLES


def test_models_and_migration_head_do_not_differ(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    assert _differences(empty_database_url) == []


def test_mysql_tables_are_utf8mb4_innodb(empty_database_url: str) -> None:
    if not empty_database_url.startswith("mysql"):
        return  # a property of the MySQL dialect only; SQLite stores UTF-8 always
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        inspector = inspect(engine)
        for table in Base.metadata.tables:
            options = inspector.get_table_options(table)
            assert options["mysql_engine"] == "InnoDB", table
            assert options["mysql_default charset"] == "utf8mb4", table
    finally:
        engine.dispose()


def test_every_foreign_key_is_indexed_and_constraint_names_fit_mysql() -> None:
    for table in Base.metadata.tables.values():
        indexed_first_columns = {index.columns[0].name for index in table.indexes if index.columns}
        indexed_first_columns |= {
            list(c.columns)[0].name
            for c in table.constraints
            if c.__class__.__name__ in {"UniqueConstraint", "PrimaryKeyConstraint"} and c.columns
        }
        for foreign_key in table.foreign_keys:
            assert foreign_key.parent.name in indexed_first_columns, (
                table.name,
                foreign_key.parent.name,
            )
        for constraint in [*table.constraints, *table.indexes]:
            assert constraint.name is None or len(str(constraint.name)) <= 64, constraint.name
