""" "Give portal login" clicked twice at once: the second click is told the login exists, in
words, not a 500 (on MariaDB the username was taken meanwhile and the second answer, the page
the browser shows, was a bare 500: the temporary password on the first was lost; a
concurrency audit)."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from portal.models import Account, Patient
from portal.services import patients
from portal.services.validation import InvalidInput
from tests.conftest import People


def test_the_second_of_two_logins_given_at_once_is_told_it_exists(
    app: Flask, people: People, sql: Session, database_url: str
) -> None:
    if not database_url.startswith("mysql"):
        pytest.skip("SQLite runs one writer at a time: the race is MariaDB's")
    engine = sql.get_bind()
    patient_id = people.other_patient.id
    first = Session(engine)
    patients.create_portal_account(
        first, first.get(Patient, patient_id), actor=first.get(Account, people.staff.id)
    )  # flushed, not committed: the first click is mid-way
    outcome: dict[str, str] = {}

    def second_click() -> None:
        with Session(engine) as second:
            try:
                patients.create_portal_account(
                    second, second.get(Patient, patient_id),
                    actor=second.get(Account, people.staff.id),
                )  # fmt: skip
                second.commit()
                outcome["result"] = "given"
            except InvalidInput as refused:
                outcome["result"] = refused.errors["account"]
            except Exception as error:  # noqa: BLE001 - what the old code raised
                outcome["result"] = type(error).__name__

    thread = threading.Thread(target=second_click)
    thread.start()
    thread.join(timeout=1.0)
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert outcome["result"].startswith("This patient already has a portal login (given a moment")
