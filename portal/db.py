"""Engine and sessions: one SQLAlchemy session per request (or per CLI command / job).

Services receive the session explicitly; views get it from `db_session()`. Nothing autocommits:
a view commits once, after the whole change is valid, so a failed request leaves nothing behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000  # how long a SQLite statement waits for the write lock


def _parsed_url(database_url: str) -> URL:
    """ArgumentError in words (`cardio`: one sentence, exit 2) for a port that is no number or
    an unescaped '@', never naming the URL's parts: an ops audit's port "33o6" had ended in a
    ValueError traceback with exit 1 (retried by the entrypoint as "the database starts"), and
    "S3c@retPW" in "Can't connect to MySQL server on 'retPW@127.0.0.1'", exit 1 too."""
    try:
        url = make_url(database_url)
    except ValueError:
        raise ArgumentError("its port is not a number: write e.g. db-host:3306") from None
    if url.host and "@" in url.host:
        raise ArgumentError("its password or user name contains '@': write each '@' in them as %40")
    return url


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine with the settings every backend needs (FKs on SQLite, utf8mb4 on MySQL).

    SQL parameters are hidden from every database error's message: an operations audit found
    a failed patient INSERT logging the patient's name, date of birth, address, email and
    phone through the server's error log and the worker's tracebacks."""
    kwargs.setdefault("hide_parameters", True)
    url = _parsed_url(database_url)
    if url.get_backend_name() == "sqlite":
        _private_sqlite_file(url.database)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # Readers never wait for the writer, nor the writer for readers (a rollback
            # journal, the default, had locked out 0.8 % of reads under load, every read also
            # writing its audit row). Kept in the file; `cardio backup` uses SQLite's online
            # backup, which copies a WAL database consistently.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    if url.get_backend_name() in {"mysql", "mariadb"} and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return create_engine(url, pool_pre_ping=True, pool_recycle=3600, **kwargs)


# MariaDB chose the transaction as a deadlock's victim (1213) or it waited too long for a lock
# (1205): the server is up and busy, and the same work again succeeds.
DATABASE_BUSY_CODES = (1205, 1213)
# SQLite's words when another connection held its one write lock past the busy timeout.
SQLITE_BUSY_WORDS = ("database is locked", "database is busy", "database table is locked")
# MariaDB's connection lost mid-statement (2013) or server gone away (2006): a new one works.
CONNECTION_LOST_CODES = (2006, 2013)
# A server restarting: "Server shutdown in progress" (1053), and no new connection until it is
# back, by socket (2002) or TCP (2003). An operations audit killed and restarted MariaDB
# during a job: the next progress write met 2003 on the pool's new connection, and the job
# failed "because of an internal error" after one of its 3 attempts.
SERVER_RESTARTING_CODES = (1053, 2002, 2003)


# MySQL's "Access denied for user" (1045): the server answers and refuses DATABASE_URL's user
# name or password. `/health` and `cardio` had said "unreachable", which sent the administrator
# to the network instead of the credentials (an operations audit); SQLite has no login.
LOGIN_REFUSED_CODE = 1045
LOGIN_REFUSED = "refused the login: check the user name and password in DATABASE_URL"


def login_refused(cause: BaseException) -> bool:
    """The driver's error (`.orig`) says the database refused the user name or password."""
    return getattr(cause, "args", ())[:1] == (LOGIN_REFUSED_CODE,)


def database_busy(cause: BaseException) -> bool:
    """The driver's error (`.orig`) says the database was busy with another transaction just
    then (SQLite locked, a MariaDB lock wait timeout or deadlock), not that it is down."""
    if getattr(cause, "args", ())[:1] in [(code,) for code in DATABASE_BUSY_CODES]:
        return True
    return any(words in str(cause).lower() for words in SQLITE_BUSY_WORDS)


def transient_database_error(error: BaseException) -> bool:
    """Sending the same work again soon is expected to succeed: the database was busy, the
    connection was lost (the pool opens a new one) or the server is restarting."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    cause = getattr(error, "orig", None) or error
    codes = CONNECTION_LOST_CODES + SERVER_RESTARTING_CODES
    lost = getattr(cause, "args", ())[:1] in [(code,) for code in codes]
    return lost or database_busy(cause)


def lock_row(session: Session, table: str, row_id: int, column: str) -> None:
    """Hold row `row_id` of `table` until this transaction ends, so that a second request
    doing the same waits for this one and then reads what it committed: SELECT ... FOR
    UPDATE on MariaDB; on SQLite, which ignores FOR UPDATE, a write of `column` that changes
    nothing takes the database's one write lock. (FOR UPDATE alone had left two registrations
    at once on SQLite free to make two patients; an audit.)"""
    if session.get_bind().dialect.name == "sqlite":
        statement = f"UPDATE {table} SET {column} = {column} WHERE id = :id"  # noqa: S608
    else:
        statement = f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"  # noqa: S608
    session.execute(text(statement), {"id": row_id})


# A COMMIT sent whose answer has not come back (session.info key): where the connection is
# lost then, the server may have committed or not. A MariaDB killed during a fault test's
# uploads committed one whose request had answered "nothing was saved", and its stored file
# was removed as uncommitted: a recording row without its file.
COMMIT_SENT = "commit_sent"


@event.listens_for(Session, "after_begin")
def _session_of_connection(session: Session, _transaction: Any, connection: Any) -> None:
    connection.info["session_info"] = session.info


@event.listens_for(Engine, "commit")
def _commit_sent(connection: Any) -> None:
    session_info = connection.info.get("session_info")
    if session_info is not None:
        session_info[COMMIT_SENT] = True


@event.listens_for(Session, "after_commit")
def _commit_answered(session: Session) -> None:
    session.info.pop(COMMIT_SENT, None)


@event.listens_for(Engine, "handle_error")
def _commit_refused(context: Any) -> None:
    """A COMMIT that failed with an answer (SQLite's "database is locked"), not a lost
    connection, was not saved."""
    connection = context.connection
    if not context.is_disconnect and connection is not None:
        session_info = connection.info.get("session_info")
        if session_info is not None:
            session_info.pop(COMMIT_SENT, None)


def commit_answer_lost(session: Session) -> bool:
    """True when the session's last COMMIT was sent and no answer came back (the connection
    was lost): whether it was saved is unknown until the database answers again."""
    return bool(session.info.get(COMMIT_SENT))


def _private_sqlite_file(database: str | None) -> None:
    """The SQLite file (and so its journal, which takes its mode) readable by this service
    only: 0600 in a 0700 folder when the folder is ours to create."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if path.stat().st_uid == os.getuid():
        path.chmod(0o600)


def init_app(app: Flask, database_url: str) -> None:
    engine = make_engine(database_url)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def db_session() -> Session:
    """The session of the current request or app context, created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back anything not committed
