"""A registration sent twice at once (a double click, a client retrying after a time-out) makes
one patient: on MariaDB both requests had found no twin and both registered, each with an MRN
(a concurrency audit: 4 of 4 REST pairs, 3 of 3 double clicks)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Account, Patient, Sex
from portal.services import patients
from tests.conftest import People

DETAILS = patients.PatientDetails(
    full_name="Pair Racer", date_of_birth=dt.date(1961, 3, 4), sex=Sex.FEMALE
)


def _register(session: Session, people: People) -> Patient:
    return patients.register_patient(
        session, DETAILS, actor=session.get(Account, people.staff.id),
        today=dt.date(2026, 12, 6), same_name_checked=False,
    )  # fmt: skip


def test_the_second_of_two_registrations_at_once_finds_the_first(
    app: Flask, people: People, sql: Session, database_url: str
) -> None:
    if not database_url.startswith("mysql"):
        pytest.skip("SQLite runs one writer at a time: the race is MariaDB's")
    engine = sql.get_bind()
    first = Session(engine)
    _register(first, people)  # flushed, not committed: the first request is mid-way
    outcome: dict[str, object] = {}

    def second_request() -> None:
        with Session(engine) as second:
            second.scalar(select(func.count()).select_from(Patient))  # its snapshot: before
            try:
                _register(second, people)
                second.commit()
                outcome["result"] = "registered"
            except patients.RegisteredAlready as twin:
                outcome["result"] = f"refused: {twin.twin.full_name}"

    thread = threading.Thread(target=second_request)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive()  # waits for the first registration to end
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert outcome == {"result": "refused: Pair Racer"}
    sql.expire_all()
    count = sql.scalar(
        select(func.count()).select_from(Patient).where(Patient.full_name == "Pair Racer")
    )
    assert count == 1
