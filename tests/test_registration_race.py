"""A registration sent twice at once (a double click, a client retrying after a time-out) makes
one patient: on MariaDB both requests had found no twin and both registered, each with an MRN
(a concurrency audit: 4 of 4 REST pairs, 3 of 3 double clicks)."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import func, select
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
