"""Alembic environment: target portal.models; URL from the caller or DATABASE_URL."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy.engine import Connection

from portal.config import load_settings
from portal.db import make_engine
from portal.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or load_settings().database_url


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as connection, _one_at_a_time(connection):
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


# Two `cardio init-db` at once (the app container's start and a `docker compose run ... cardio
# create-user` beside it) both created the first table, and one died with "Table 'account'
# already exists" (an ops audit). On MySQL/MariaDB a named lock makes the second wait, then
# find the schema up to date. On SQLite an exclusive lock on a file beside the database does:
# SQLite locks its file for each write only, and two `init-db` at once had both found it empty
# (one died, exit 2: "table account already exists"; an operations audit).
MIGRATION_LOCK, MIGRATION_LOCK_WAIT_S = "cardioportal_migrations", 600
SQLITE_LOCK_SUFFIX = ".migrate.lock"


@contextmanager
def _one_at_a_time(connection: Connection) -> Iterator[None]:
    if connection.dialect.name == "sqlite":
        with _sqlite_file_lock(connection.engine.url.database):
            yield
        return
    if connection.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    got = connection.exec_driver_sql(
        f"SELECT GET_LOCK('{MIGRATION_LOCK}', {MIGRATION_LOCK_WAIT_S})"
    ).scalar()
    connection.commit()  # the lock is the session's: Alembic's transaction begins after it
    if got != 1:
        raise RuntimeError(
            f"Another migration held the lock for {MIGRATION_LOCK_WAIT_S} s: is one stuck?"
        )
    try:
        yield
    finally:
        connection.commit()  # the last version row written before the next one reads it
        connection.exec_driver_sql(f"SELECT RELEASE_LOCK('{MIGRATION_LOCK}')")
        connection.commit()


@contextmanager
def _sqlite_file_lock(database: str | None) -> Iterator[None]:
    """`<database>.migrate.lock`, held exclusively while migrating (a second waits for it);
    none for an in-memory database, which no other process can open."""
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    descriptor = os.open(database + SQLITE_LOCK_SUFFIX, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
