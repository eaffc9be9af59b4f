"""The audit trail is tamper-evident: rows are hash-chained, `cardio audit-verify` names the first
edited, inserted or deleted row, MySQL/MariaDB refuse UPDATE and DELETE with triggers, and
concurrent writers keep one valid chain."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from portal import migrate
from portal.db import make_engine
from portal.models import AuditChainHead, AuditEvent
from portal.services import audit
from tests.conftest import People, client_for

AUDIT = AuditEvent.__table__


def _is_mysql(sql: Session) -> bool:
    return sql.get_bind().dialect.name in {"mysql", "mariadb"}


def _write_events(sql: Session, count: int, *, people: People | None = None) -> list[int]:
    """`count` audit rows, committed one transaction each; their ids."""
    for n in range(count):
        audit.record(
            sql, "test.event", actor=people.staff if people else None, actor_username="tester",
            patient_id=people.patient.id if people else None, object_type="test", object_id=n,
            details={"n": n, "text": "naïve ✓", "nested": {"b": [1, 2.5, None], "a": True}},
        )  # fmt: skip
        sql.commit()
    return list(sql.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def _verify_cli(
    database_url: str, tmp_path: Path, command: tuple[str, ...] = ("audit-verify",)
) -> Result:
    from portal.cli import main

    return CliRunner().invoke(
        main,
        list(command),
        env={"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path / "cli-instance")},
    )


def test_rows_are_chained_and_verify_says_intact(
    app: Flask, people: People, sql: Session, database_url: str, tmp_path: Path
) -> None:
    client = client_for(app, people.staff)
    client.get(f"/patients/{people.patient.id}")
    ids = _write_events(sql, 5, people=people)
    rows = sql.execute(select(AUDIT).order_by(AUDIT.c.id)).all()
    assert rows[0].prev_hash == audit.GENESIS
    for before, row in zip(rows, rows[1:], strict=False):
        assert row.prev_hash == before.row_hash  # each row holds the previous row's hash
        assert row.row_hash == audit.content_hash(row._mapping, row.prev_hash)
    head = sql.get(AuditChainHead, audit.HEAD_ID)
    assert head is not None and head.last_event_id == ids[-1] == rows[-1].id
    assert head.last_hash == rows[-1].row_hash

    check = audit.verify_chain(sql, batch_size=3)  # several batches
    assert check.ok and check.rows == len(rows) and check.last_id == ids[-1]
    assert check.last_hash == rows[-1].row_hash  # said, to be kept outside the database
    assert check.notes == ()  # on MariaDB: the triggers are there
    for command in (("audit-verify",), ("audit", "verify")):
        result = _verify_cli(database_url, tmp_path, command)
        assert result.exit_code == 0, result.output
        assert f"Audit chain intact: {len(rows)} row(s)" in result.output
        assert f"its hash {rows[-1].row_hash}." in result.output


def test_a_rolled_back_change_leaves_no_audit_row_and_a_direct_add_is_chained(
    people: People, sql: Session
) -> None:
    before = sql.scalar(select(func.count()).select_from(AuditEvent))
    audit.record(sql, "test.rolled_back", actor=people.staff)
    sql.flush()  # held back from flushes: written only at commit
    sql.rollback()
    sql.add(AuditEvent(action="test.direct", actor_username="script"))  # not through record()
    sql.commit()
    assert sql.scalar(select(func.count()).select_from(AuditEvent)) == before + 1
    assert sql.scalar(select(func.count()).where(AuditEvent.action == "test.rolled_back")) == 0
    assert audit.verify_chain(sql).ok


def test_raw_edits_are_found_on_sqlite_and_refused_on_mariadb(
    app: Flask, people: People, sql: Session, database_url: str, tmp_path: Path
) -> None:
    ids = _write_events(sql, 6, people=people)
    target = ids[3]
    tamper_update = AUDIT.update().where(AUDIT.c.id == target).values(action="patient.nothing")
    tamper_delete = AUDIT.delete().where(AUDIT.c.id == target)
    if _is_mysql(sql):
        for statement in (tamper_update, tamper_delete):
            with pytest.raises(DBAPIError, match="append-only"):
                sql.execute(statement)
            sql.rollback()
        assert audit.verify_chain(sql).ok
        return

    sql.execute(tamper_update)
    sql.commit()
    check = audit.verify_chain(sql)
    assert check.broken is not None and check.broken.kind == "edited"
    assert check.broken.event_id == target and check.rows == ids.index(target)
    result = _verify_cli(database_url, tmp_path)
    assert result.exit_code == 1
    assert f"row {target} was edited" in result.output


def test_a_deleted_row_is_found(people: People, sql: Session, database_url: str) -> None:
    if _is_mysql(sql):
        pytest.skip("the trigger refuses DELETE on MySQL/MariaDB (see the test above)")
    ids = _write_events(sql, 6, people=people)
    sql.execute(AUDIT.delete().where(AUDIT.c.id == ids[2]))
    sql.commit()
    check = audit.verify_chain(sql)
    assert check.broken is not None and check.broken.kind == "deleted"
    assert check.broken.event_id == ids[3]  # the first row after the gap
    assert f"between row {ids[1]} and row {ids[3]}" in check.broken.message


def test_a_deleted_tail_is_found_from_the_chain_head(people: People, sql: Session) -> None:
    if _is_mysql(sql):
        pytest.skip("the trigger refuses DELETE on MySQL/MariaDB")
    ids = _write_events(sql, 4, people=people)
    sql.execute(AUDIT.delete().where(AUDIT.c.id >= ids[-2]))
    sql.commit()
    check = audit.verify_chain(sql)
    assert check.broken is not None and check.broken.kind == "deleted"
    assert check.broken.event_id == ids[-1]
    assert f"after row {ids[-3]} up to row {ids[-1]}" in check.broken.message


def _forged(sql: Session, row_id: int, prev_hash: str) -> dict[str, Any]:
    """A row as a forger would insert it, with a self-consistent hash."""
    values: dict[str, Any] = {
        "id": row_id, "occurred_at": dt.datetime(2026, 1, 1, 12, 0, 0, 1), "actor_id": None,
        "actor_username": f"user-{row_id}", "actor_role": None, "action": "patient.view",
        "patient_id": None, "object_type": None, "object_id": None, "ip_address": None,
        "user_agent": None, "details": None, "prev_hash": prev_hash,
    }  # fmt: skip
    values["row_hash"] = audit.content_hash(values, prev_hash)
    return values


def test_inserted_rows_are_found_on_both_databases(people: People, sql: Session) -> None:
    ids = _write_events(sql, 4, people=people)
    rows = sql.execute(select(AUDIT).order_by(AUDIT.c.id)).all()
    # Appended after the newest row and linked to it: only the chain head knows better.
    forged = _forged(sql, ids[-1] + 10, rows[-1].row_hash)
    sql.execute(insert(AUDIT).values(**forged))
    sql.commit()
    check = audit.verify_chain(sql)
    assert check.broken is not None and check.broken.kind == "inserted"
    assert check.broken.event_id == forged["id"]


@pytest.mark.parametrize("linked", [True, False], ids=["linked", "unlinked"])
def test_a_row_slipped_into_the_middle_is_named(sql: Session, linked: bool) -> None:
    """A hand-made chain with ids 10, 20, 30 (the database starts empty), then a forged row 15:
    linked to row 10, the database refuses it (the chain cannot fork: prev_hash is unique);
    linked to nothing, verify names it (row 20 follows straight from row 10)."""
    prev = audit.GENESIS
    for row_id in (10, 20, 30):
        values = _forged(sql, row_id, prev)
        sql.execute(insert(AUDIT).values(**values))
        prev = values["row_hash"]
    sql.execute(
        insert(AuditChainHead.__table__).values(
            id=audit.HEAD_ID, last_event_id=30, last_hash=prev, updated_at=dt.datetime(2026, 1, 2)
        )
    )
    sql.commit()
    assert audit.verify_chain(sql).ok
    first = sql.execute(select(AUDIT).where(AUDIT.c.id == 10)).one()
    if linked:
        with pytest.raises(IntegrityError):
            sql.execute(insert(AUDIT).values(**_forged(sql, 15, first.row_hash)))
        sql.rollback()
        assert audit.verify_chain(sql).ok
        return
    sql.execute(insert(AUDIT).values(**_forged(sql, 15, "f" * 64)))
    sql.commit()
    check = audit.verify_chain(sql)
    assert check.broken is not None and check.broken.kind == "inserted"
    assert check.broken.event_id == 15, check.broken


@pytest.mark.parametrize("row_id", [0, -7])
@pytest.mark.parametrize("self_consistent", [False, True], ids=["made-up", "self-consistent"])
def test_a_row_inserted_below_the_first_id_is_named(
    people: People,
    sql: Session,
    database_url: str,
    tmp_path: Path,
    row_id: int,
    self_consistent: bool,
) -> None:
    """An audit: a forged `report.view` with id 0 or -7 (made-up hashes) was shown on the audit
    page and the patient's access page while `audit verify` said "intact" (the walk began
    above id 0)."""
    _write_events(sql, 3, people=people)
    forged = _forged(sql, row_id, "f" * 64) | {
        "action": "report.view", "patient_id": people.patient.id,
    }  # fmt: skip
    forged["row_hash"] = audit.content_hash(forged, "f" * 64) if self_consistent else "e" * 64
    sql.execute(insert(AUDIT).values(**forged))
    sql.commit()
    # MariaDB takes an explicit id 0 as "the next id" (unless NO_AUTO_VALUE_ON_ZERO).
    stored = sql.scalar(select(AUDIT.c.id).where(AUDIT.c.actor_username == f"user-{row_id}"))
    check = audit.verify_chain(sql)
    assert check.broken is not None and check.broken.event_id == stored, check
    assert f"row {stored} " in check.broken.message
    if stored == row_id:  # below the chain: not linked to it, or its own hash false
        assert check.broken.kind == ("inserted" if self_consistent else "edited"), check
    result = _verify_cli(database_url, tmp_path)
    assert result.exit_code == 1, result.output
    assert f"row {stored} " in result.output and "Audit chain intact" not in result.output


def test_concurrent_writers_keep_one_valid_chain(
    app: Flask, people: People, sql: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads write audit rows at once; the head lock is held for 5 ms after reading it,
    so without the lock they would chain onto the same row (and the unique prev_hash or the
    verification would fail)."""
    real_lock_head = audit._lock_head

    def slow_lock_head(session: Session, dialect: str) -> tuple[int, str]:
        found = real_lock_head(session, dialect)
        threading.Event().wait(0.005)  # widen the window between reading and writing
        return found

    monkeypatch.setattr(audit, "_lock_head", slow_lock_head)
    before = sql.scalar(select(func.count()).select_from(AuditEvent)) or 0
    per_thread, errors = 25, []
    committed = {f"writer-{i}": 0 for i in range(2)}
    start = threading.Barrier(2)
    sessions = app.extensions["db_sessionmaker"]

    def writer(name: str) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with sessions() as session:
                    audit.record(
                        session, "test.concurrent", actor=None, actor_username=name,
                        details={"n": n},
                    )  # fmt: skip
                    session.commit()
                committed[name] += 1
        except Exception as problem:  # reported below
            errors.append(problem)

    threads = [threading.Thread(target=writer, args=(name,)) for name in committed]
    for thread in threads:
        thread.start()
    # A slow disk under a loaded CI machine makes each SQLite commit slow: wait for the writers
    # (a wedged one still ends the test, and says so) rather than count rows mid-write.
    for thread in threads:
        thread.join(300)
    assert not any(thread.is_alive() for thread in threads), f"still writing: {committed}"
    assert errors == []
    assert committed == {name: per_thread for name in committed}
    sql.expire_all()
    assert sql.scalar(select(func.count()).select_from(AuditEvent)) == before + 2 * per_thread
    check = audit.verify_chain(sql)
    assert check.ok, check.broken
    assert check.rows == before + 2 * per_thread


def test_the_migration_chains_existing_rows_and_creates_the_triggers(
    empty_database_url: str,
) -> None:
    """Rows written before revision 0006 are chained by it, so verify checks them too."""
    migrate.upgrade(empty_database_url, "0005")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            for n in range(5):
                connection.execute(
                    text(
                        "INSERT INTO audit_event (occurred_at, actor_username, action, "
                        "object_type, object_id, details) VALUES (:at, :who, :action, 'x', :n, "
                        ":details)"
                    ),
                    {
                        "at": dt.datetime(2026, 11, 30, 8, n, 0, 123456),
                        "who": "before-0006",
                        "action": "patient.view",
                        "n": n,
                        "details": '{"z": 1, "a": [1, 2.5, "é"]}' if n % 2 else None,
                    },
                )
        migrate.upgrade(empty_database_url)
        with Session(engine) as session:
            check = audit.verify_chain(session)
            assert check.ok and check.rows == 5 and check.notes == ()
            audit.record(session, "after.upgrade", actor=None, actor_username="new")
            session.commit()
            check = audit.verify_chain(session)
            assert check.ok and check.rows == 6
            if engine.dialect.name != "sqlite":
                triggers = set(
                    session.scalars(
                        text(
                            "SELECT trigger_name FROM information_schema.triggers "
                            "WHERE event_object_schema = DATABASE()"
                        )
                    )
                )
                assert set(audit.MYSQL_TRIGGERS) <= triggers
    finally:
        engine.dispose()


def test_verify_warns_when_the_mysql_triggers_are_missing(
    people: People, sql: Session, database_url: str, tmp_path: Path
) -> None:
    """A database account without the right to create triggers gets the chain without them
    (the migration warns); verify keeps saying so."""
    if not _is_mysql(sql):
        pytest.skip("triggers are created on MySQL/MariaDB only")
    sql.execute(text("DROP TRIGGER audit_event_no_delete"))
    try:
        check = audit.verify_chain(sql)
        assert check.ok and len(check.notes) == 1 and "audit_event_no_delete" in check.notes[0]
        result = _verify_cli(database_url, tmp_path)
        assert result.exit_code == 0 and "Warning: the triggers" in result.output
    finally:
        sql.execute(
            text(
                "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event FOR EACH ROW "
                "SIGNAL SQLSTATE '45000' "
                "SET MESSAGE_TEXT = 'audit_event rows are append-only: DELETE refused'"
            )
        )
    assert audit.verify_chain(sql).notes == ()
