"""A registration sent twice at once (a double click, a client retrying after a time-out) makes
one patient: on MariaDB both requests had found no twin and both registered, each with an MRN
(a concurrency audit: 4 of 4 REST pairs, 3 of 3 double clicks)."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.models import Account, Patient, Sex
from portal.services import patients
from tests.conftest import People
from tests.support.races import second_while_first_is_open

DETAILS = patients.PatientDetails(
    full_name="Pair Racer", date_of_birth=dt.date(1961, 3, 4), sex=Sex.FEMALE
)


def _register(session: Session, people: People) -> Patient:
    return patients.register_patient(
        session, DETAILS, actor=session.get(Account, people.staff.id),
        today=dt.date(2026, 12, 6), same_name_checked=False,
    )  # fmt: skip


def test_the_second_of_two_registrations_at_once_finds_the_first(
    app: Flask, people: People, sql: Session
) -> None:
    engine = sql.get_bind()
    first = Session(engine)
    _register(first, people)  # flushed, not committed: the first request is mid-way

    def second_request(second: Session) -> str:
        second.scalar(select(func.count()).select_from(Patient))  # its snapshot: before
        try:
            _register(second, people)
            second.commit()
            return "registered"
        except patients.RegisteredAlready as twin:
            return f"refused: {twin.twin.full_name}"

    said, waited = second_while_first_is_open(engine, first, second_request)
    assert waited  # it waited for the first registration to end
    assert said == "refused: Pair Racer"
    sql.expire_all()
    count = sql.scalar(
        select(func.count()).select_from(Patient).where(Patient.full_name == "Pair Racer")
    )
    assert count == 1


def test_two_accounts_registering_two_patients_at_once_both_register(
    app: Flask, people: People, sql: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A working-day audit on MariaDB: two staff registering two different patients at the
    same moment deadlocked (each twin check share-locked the patients, then both inserted),
    and one was told the database was down. Both twin checks are held here until the other
    has made its own, as they were then; registrations now take turns, so the second waits
    for the first to commit instead."""
    engine = app.extensions["db_engine"]  # the app's isolation (the test session reads committed)
    both_checked = threading.Barrier(2, timeout=3)
    check = patients._registered_already

    def held_check(*args: Any, **kwargs: Any) -> Patient | None:
        found = check(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait()  # the other one checks too (before: both did)
        return found

    monkeypatch.setattr(patients, "_registered_already", held_check)
    outcomes: dict[str, str] = {}

    def register(account_id: int, name: str, born: dt.date) -> None:
        details = patients.PatientDetails(full_name=name, date_of_birth=born, sex=Sex.MALE)
        with Session(engine) as own:
            try:
                patients.register_patient(
                    own, details, actor=own.get(Account, account_id),
                    today=dt.date(2026, 12, 6), same_name_checked=False,
                )  # fmt: skip
                own.commit()
                outcomes[name] = "registered"
            except OperationalError as error:
                outcomes[name] = f"failed: {error.orig}"

    threads = [
        threading.Thread(
            target=register, args=(people.staff.id, "Alpha One", dt.date(1990, 1, 15))
        ),
        threading.Thread(target=register, args=(people.admin.id, "Beta Two", dt.date(1990, 7, 20))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == {"Alpha One": "registered", "Beta Two": "registered"}
