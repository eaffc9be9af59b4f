"""The connection is lost after an upload's COMMIT went out and the server committed it
(`portal.db.commit_answer_lost`): the answer says it may or may not have been saved, never
"nothing was saved", and the committed recording keeps its stored file (a MariaDB killed in
the fault test once left a row whose file was removed as uncommitted). The same file again
opens that recording."""

from __future__ import annotations

import html
import io
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pymysql
import pytest
from flask import Flask
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from portal.errors import COMMIT_UNKNOWN_MESSAGE, DATABASE_BUSY_MESSAGE, DATABASE_DOWN_MESSAGE
from portal.models import Account, EcgRecording
from portal.services.sqlite_backup import DATABASE_FILE, back_up
from portal.storage import recording_folder
from tests.conftest import People, bearer_token, client_for, csrf_token
from tests.support.ecg_files import synthetic, write_csv


def test_an_upload_whose_commit_answer_is_lost_says_so_and_keeps_its_file(
    app: Flask, people: People, sql: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialect = app.extensions["db_engine"].dialect
    if dialect.name == "sqlite":
        pytest.skip("SQLite runs in the portal's process: there is no connection to lose")
    committed = dialect.do_commit
    lose_the_answer = True

    def commit_then_lose_the_answer(dbapi_connection: object) -> None:
        committed(dbapi_connection)
        if lose_the_answer:
            raise pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")

    staff = client_for(app, people.staff)
    token = csrf_token(staff, f"/patients/{people.patient.id}/recordings/new")
    content = write_csv(tmp_path / "ecg.csv", synthetic(10, 250)).read_bytes()

    def upload():  # noqa: ANN202
        return staff.post(
            f"/patients/{people.patient.id}/recordings/new",
            data={"files": [(io.BytesIO(content), "ecg.csv")], "csrf_token": token},
            content_type="multipart/form-data",
        )

    monkeypatch.setattr(dialect, "do_commit", commit_then_lose_the_answer)
    answer = upload()
    lose_the_answer = False
    page = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 503
    assert COMMIT_UNKNOWN_MESSAGE in page and DATABASE_DOWN_MESSAGE not in page

    row = sql.scalar(select(EcgRecording).where(EcgRecording.patient_id == people.patient.id))
    assert row is not None and row.jobs  # the server did commit it
    settings = app.config["SETTINGS"]
    assert sorted(p.name for p in recording_folder(settings.storage_dir, row.sha256).iterdir())

    again = upload()  # the same file again opens the first upload
    assert again.status_code == 302 and f"/jobs/{row.jobs[-1].id}" in again.headers["Location"]


def test_a_deadlock_victim_is_told_to_send_again_not_that_the_database_is_down(
    app: Flask, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A working-day audit: a registration chosen as a deadlock's victim on MariaDB was told
    "The database is not reachable just now", and staff reported an outage. The server's own
    answer (1213) is raised here at the request's commit, as it arrives from pymysql."""
    dialect = app.extensions["db_engine"].dialect
    if dialect.name == "sqlite":
        pytest.skip("SQLite waits for its one writer: no deadlock victim")

    def deadlock(dbapi_connection: object) -> None:
        raise pymysql.err.OperationalError(
            1213, "Deadlock found when trying to get lock; try restarting transaction"
        )

    staff = client_for(app, people.staff)
    token = csrf_token(staff, "/patients/new")
    monkeypatch.setattr(dialect, "do_commit", deadlock)
    answer = staff.post(
        "/patients/new",
        data={"full_name": "Victim Patient", "date_of_birth": "1970-01-01", "sex": "female",
              "csrf_token": token},
    )  # fmt: skip
    page = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 503
    assert DATABASE_BUSY_MESSAGE in page and DATABASE_DOWN_MESSAGE not in page


def _short_busy_timeout(app: Flask) -> Engine:
    """The app's SQLite engine, its connections waiting 0.2 s for the write lock (not 5 s)."""
    engine: Engine = app.extensions["db_engine"]
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _wait_briefly(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    return engine


def test_a_read_meeting_a_locked_sqlite_database_is_told_busy_and_to_send_again_soon(
    app: Flask, people: People, sql: Session
) -> None:
    """A load audit on SQLite: 9 of 1,106 reads answered 503 "The database is not reachable
    just now ... Try again in a minute." with Retry-After: 60, while the log said "database
    is locked": every read also writes (its audit row, the token's last use), and another
    request held the write lock. It is told the database was busy, and to send it again in
    2 s. Here another connection holds a real write transaction on the file."""
    if app.extensions["db_engine"].dialect.name != "sqlite":
        pytest.skip("SQLite's file lock")
    secret = bearer_token(sql, people, people.staff, "reports:read")
    sql.close()
    engine = _short_busy_timeout(app)
    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another request's write transaction
    try:
        answer = app.test_client().get(
            "/api/v1/reports", headers={"Authorization": f"Bearer {secret}"}
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status_code == 503
    assert answer.get_json()["error"]["message"] == DATABASE_BUSY_MESSAGE
    assert answer.headers["Retry-After"] == "2"


def test_sqlite_readers_are_not_locked_out_while_another_connection_commits(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The database file is in WAL mode: a reader reads while another connection holds the
    lock a commit takes (in the rollback journal it had, the read waited and then failed
    "database is locked"). `cardio backup` still copies it whole (SQLite's online backup)."""
    if app.extensions["db_engine"].dialect.name != "sqlite":
        pytest.skip("SQLite's journal")
    stored = sql.scalar(select(func.count(Account.id)))
    sql.close()
    engine = _short_busy_timeout(app)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # what a commit holds while it writes the file
    holder.execute("UPDATE account SET username = username")
    try:
        with engine.connect() as connection:
            accounts = connection.execute(select(func.count(Account.id))).scalar()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert accounts == stored
    backup = back_up(str(engine.url), tmp_path / "storage", tmp_path / "backups")
    with closing(sqlite3.connect(backup.folder / DATABASE_FILE)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM account").fetchone() == (accounts,)
