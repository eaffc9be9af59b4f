""" "Give portal login" clicked twice at once: the second click is told the login exists, in
words, not a 500 (on MariaDB the username was taken meanwhile and the second answer, the page
the browser shows, was a bare 500: the temporary password on the first was lost; a
concurrency audit)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from portal.models import Account, Patient
from portal.services import patients
from portal.services.validation import InvalidInput
from tests.conftest import People
from tests.support.races import second_while_first_is_open


def test_the_second_of_two_logins_given_at_once_is_told_it_exists(
    app: Flask, people: People, sql: Session
) -> None:
    engine = sql.get_bind()
    patient_id = people.other_patient.id
    first = Session(engine)
    patients.create_portal_account(
        first, first.get(Patient, patient_id), actor=first.get(Account, people.staff.id)
    )  # flushed, not committed: the first click is mid-way

    def second_click(second: Session) -> str:
        try:
            patients.create_portal_account(
                second, second.get(Patient, patient_id),
                actor=second.get(Account, people.staff.id),
            )  # fmt: skip
            second.commit()
            return "given"
        except InvalidInput as refused:
            return refused.errors["account"]
        except Exception as error:  # noqa: BLE001 - what the old code raised
            return type(error).__name__

    said, _ = second_while_first_is_open(engine, first, second_click)
    assert said.startswith("This patient already has a portal login (given a moment")
