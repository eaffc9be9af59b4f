"""An error nobody planned for still gets the portal's own page, in words, and loses nothing:
the handler rolls back first, since the page loads the account through the session a failed
flush leaves unusable (an IntegrityError from two requests at once had ended in Werkzeug's
bare "Internal Server Error" page; a concurrency audit)."""

from __future__ import annotations

import datetime as dt
import logging
import traceback

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.access import roles
from portal.db import db_session
from portal.errors import MESSAGES
from portal.models import Account, Patient, Role, Sex
from tests.conftest import People, client_for


def test_a_failed_flush_answers_with_the_portals_page_and_keeps_the_session_usable(
    app: Flask, people: People
) -> None:
    def duplicate_username() -> str:
        session = db_session()
        session.add(Account(username=people.staff.username, password_hash="x", role=Role.STAFF))
        session.flush()  # IntegrityError: the username is taken
        return "not reached"

    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered as in production
    app.add_url_rule("/test-duplicate", view_func=roles(Role.STAFF)(duplicate_username))
    staff = client_for(app, people.staff)
    answer = staff.get("/test-duplicate")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 500
    assert MESSAGES[500] in page and "Internal Server Error" not in page
    assert "Log out" in page  # drawn with the account: the session works again
    assert staff.get("/").status_code in (200, 302)
    with app.app_context():
        count = db_session().scalar(
            select(func.count()).where(Account.username == people.staff.username)
        )
    assert count == 1


def test_a_database_error_on_a_patient_logs_no_patient_identity(
    app: Flask, people: People, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed INSERT of a patient (the MRN is taken) logs the statement without its values:
    every engine hides SQL parameters. The server log and the worker's tracebacks
    (`traceback.format_exc()` in portal/services/jobs.py) had carried the patient's name, date
    of birth, address, email and phone (an operations audit)."""
    identity = ("Zelda Quintanilla-Voss", "1937-04-29", "17 Rue des Lilas", "zq@example.org")
    tracebacks: list[str] = []

    def duplicate_mrn() -> str:
        session = db_session()
        session.add(
            Patient(
                mrn=people.patient.mrn, full_name=identity[0],
                date_of_birth=dt.date(1937, 4, 29), sex=Sex.FEMALE, address=identity[2],
                email=identity[3], phone="+33 6 12 34 56 78", created_by_id=people.staff.id,
            )
        )  # fmt: skip
        try:
            session.flush()  # IntegrityError: the MRN is taken
        except IntegrityError:
            tracebacks.append(traceback.format_exc())  # as the job worker logs a crash
            raise
        return "not reached"

    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered as in production
    app.add_url_rule("/test-duplicate-mrn", view_func=roles(Role.STAFF)(duplicate_mrn))
    with caplog.at_level(logging.INFO):
        answer = client_for(app, people.staff).get("/test-duplicate-mrn")
    assert answer.status_code == 500
    logged = caplog.text + "".join(tracebacks)
    assert "IntegrityError" in logged and "INSERT INTO patient" in logged
    for value in (*identity, "1937", "+33 6"):
        assert value not in logged


@pytest.mark.parametrize(
    ("driver_error", "logged"),
    [
        ((1054, "Unknown column 'patient.nickname' in 'field list'"),
         "Database schema behind this version of the portal on GET /test-database-error"),
        ((2003, "Can't connect to MySQL server on 'db'"),
         "Database not reachable on GET /test-database-error"),
    ],
    ids=["unknown-column", "down"],
)  # fmt: skip
def test_a_schema_behind_is_logged_as_such_not_as_an_unreachable_database(
    app: Flask,
    people: People,
    caplog: pytest.LogCaptureFixture,
    driver_error: tuple[int, str],
    logged: str,
) -> None:
    """MariaDB's 1054 "Unknown column" arrives as an OperationalError, like an outage: the
    user was already told the schema is behind, but the log said "Database not reachable"
    (an operations audit)."""

    def failing_query() -> str:
        raise OperationalError("SELECT patient.nickname FROM patient", {}, Exception(*driver_error))

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.add_url_rule("/test-database-error", view_func=roles(Role.STAFF)(failing_query))
    staff = client_for(app, people.staff)
    with caplog.at_level(logging.ERROR):
        answer = staff.get("/test-database-error")
    assert answer.status_code == 503
    assert logged in caplog.text
    assert ("not reachable" in caplog.text) is (driver_error[0] != 1054)
