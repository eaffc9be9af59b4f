"""OWASP ASVS 4.0.3 Level 2: the requirements of V3 (sessions), V4 (access control), V5
(validation), V7 (logging), V8 (data protection), V12 (files) and V14 (configuration) that
tests/test_security_auth.py does not cover, one test or more each, named by the requirement
number (docs/security.md maps every requirement to its test)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import io
import logging
import os
import secrets
import stat
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import create_app
from portal.config import ConfigError, load_settings
from portal.db import make_engine
from portal.models import (
    Account,
    AnalysisJob,
    AuditEvent,
    ClinicalInput,
    EcgRecording,
    Patient,
    Role,
    utcnow,
)  # fmt: skip
from portal.services import patients
from portal.worker import Worker
from tests.conftest import (
    PASSWORD,
    People,
    client_for,
    csrf_token,
    error_messages,
    login,
    make_settings,
    post_form,
)
from tests.support import two_step
from tests.support.ecg_files import synthetic, write_wfdb
from tests.support.gunicorn_server import gunicorn_serving
from tests.test_api import Api, issue_on_admin_page
from tests.test_pdf_reports import _signed as signed_report
from tests.test_upload_and_review import _csv_bytes, _stored_files, _upload

ROOT = Path(__file__).resolve().parents[1]


def _events(sql: Session, action: str) -> list[AuditEvent]:
    sql.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(sql.scalars(query))


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def _replay(app: Flask, cookie: str, url: str) -> int:
    """The status a copy of `cookie` gets on `url` from another browser."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get(url).status_code


# --- V3 sessions and V14.4.5 HSTS: a production app over HTTPS --------------------------------


@pytest.fixture
def production_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The portal as CARDIO_ENV=production builds it (a real random key: portal/config.py
    refuses a guessable one)."""
    settings = dataclasses.replace(
        make_settings(database_url, tmp_path),
        environment="production",
        secret_key=secrets.token_hex(32),
    )
    application = create_app(settings, TESTING=True)
    yield application
    application.extensions["db_engine"].dispose()


def _https_client(app: Flask) -> FlaskClient:
    """A browser on https:// (Flask-WTF checks the Referer of HTTPS form posts)."""
    client = app.test_client()
    client.environ_base.update(
        {"wsgi.url_scheme": "https", "HTTP_REFERER": "https://localhost/login"}
    )
    return client


def _session_set_cookie(response) -> str:  # type: ignore[no-untyped-def]
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return str(header)


def test_v3_4_1_to_3_4_3_production_session_cookie_is_httponly_samesite_lax_and_secure(
    production_app: Flask, people: People
) -> None:
    client = _https_client(production_app)
    response = login(client, people.doctor.username)
    assert response.status_code == 302 and response.location == "/"
    attributes = [part.strip() for part in _session_set_cookie(response).split(";")]
    assert "HttpOnly" in attributes  # 3.4.2: no script reads it
    assert "SameSite=Lax" in attributes  # 3.4.3: not sent on cross-site posts
    assert "Secure" in attributes  # 3.4.1: never over plain http
    assert "Path=/" in attributes and not any(a.startswith("Domain=") for a in attributes)
    assert client.get("/worklist").status_code == 200  # and the HTTPS browser is logged in


def test_v3_4_1_development_cookie_is_not_secure_so_plain_http_works(
    app: Flask, people: People
) -> None:
    attributes = _session_set_cookie(login(app.test_client(), people.staff.username))
    assert "HttpOnly" in attributes and "SameSite=Lax" in attributes
    assert "Secure" not in attributes


def test_v14_4_5_production_answers_carry_hsts(production_app: Flask, people: People) -> None:
    client = _https_client(production_app)
    login(client, people.staff.username)
    for url in ("/login", "/health", "/patients/", f"/patients/{people.patient.id}"):
        hsts = client.get(url).headers.get("Strict-Transport-Security", "")
        max_age = int(hsts.split(";")[0].removeprefix("max-age="))
        assert max_age >= 365 * 24 * 3600 and "includeSubDomains" in hsts, (url, hsts)


def test_v3_2_1_the_session_is_renewed_at_the_second_factor(app: Flask, people: People) -> None:
    """Nothing of the half-logged-in session survives: not a value an attacker planted (no
    fixation), not the pending step; the cookie is a new one."""
    client = app.test_client()
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
    token = csrf_token(client)
    step_one = client.post(
        "/login", data={"username": "doctor1", "password": PASSWORD, "csrf_token": token}
    )
    assert step_one.location.endswith("/login/verify")
    pending = _session_cookie(client)
    assert client.get("/worklist").status_code == 302  # a password alone opens nothing
    code = two_step.next_code(app, "doctor1")
    verified = post_form(client, "/login/verify", {"code": code}, token_page="/login/verify")
    assert verified.status_code == 302
    assert _session_cookie(client) != pending
    with client.session_transaction() as session:
        assert "planted" not in session and "mfa_pending" not in session
        assert session["_user_id"] == people.doctor.get_id()
    assert client.get("/worklist").status_code == 200
    assert _replay(app, pending, "/worklist") == 302  # the pending cookie never logs in


def test_v3_2_1_the_session_is_renewed_at_two_step_enrolment(
    app: Flask, people: People, sql: Session
) -> None:
    """Enrolling raises the account's privilege: a new session id (the epoch in it moves), and
    a copy of the cookie from before enrolment no longer works."""
    people.doctor.totp_secret = None
    people.doctor.mfa_enabled_at = None
    sql.commit()
    client = app.test_client()
    assert login(client, "doctor1").location == "/"
    before = _session_cookie(client)
    assert _replay(app, before, "/account/security") == 200
    client.get("/account/security")
    with client.session_transaction() as session:
        secret = session["mfa_enrol_secret"]
        user_id_before = session["_user_id"]
    enrolled = post_form(client, "/account/security",
                         {"code": pyotp.TOTP(secret).now(), "action": "enrol"},
                         token_page="/account/security")  # fmt: skip
    assert "Your recovery codes" in enrolled.get_data(as_text=True)
    after = _session_cookie(client)
    assert after != before
    with client.session_transaction() as session:
        assert session["_user_id"] != user_id_before
    assert client.get("/worklist").status_code == 200  # this browser goes on
    assert _replay(app, before, "/account/security") == 302  # the old cookie is dead


def test_no_administrator_resets_a_password_while_a_two_step_reset_is_pending(
    app: Flask, people: People, sql: Session
) -> None:
    """A security audit: an administrator removed a doctor's two-step login, set their
    temporary password, logged in as the doctor, enrolled their own phone, and could read and
    sign as them. A browser audit: a second administrator setting the password could do the
    same. Neither reset is made while the other is pending, by anyone; the owner sets theirs
    first (or the IT team resets both on the server, `cardio reset-login`)."""
    from tests.conftest import make_account

    second_admin = make_account(sql, Role.ADMIN, "admin2")
    sql.commit()
    admin, other_admin = client_for(app, people.admin), client_for(app, second_admin)
    typed = {"password": "temporary pass 77", "confirm_password": "temporary pass 77"}
    doctor_url = f"/admin/accounts/{people.doctor.id}"
    assert (
        post_form(admin, f"{doctor_url}/reset-mfa", {}, token_page="/admin/accounts").status_code
        == 302
    )
    for who, by in ((admin, "you"), (other_admin, "admin1")):
        # Said as the page opens, before the passwords are typed (a browser audit).
        opened = html.unescape(who.get(f"{doctor_url}/reset-password").get_data(as_text=True))
        assert f"The two-step login of doctor1 was reset by {by} on " in opened
        refused = post_form(who, f"{doctor_url}/reset-password", typed)
        assert refused.status_code == 200
        said = " ".join(html.unescape(refused.get_data(as_text=True)).split())
        assert (
            f"The two-step login of doctor1 was reset by {by} on " in said
            and "and they have not set it again yet: its password is not reset meanwhile, so "
            "that no administrator can log in as them. They set their two-step login first; if "
            "they have lost both, the IT team resets both on the server, in person (`cardio "
            "reset-login doctor1`)."
            in said
        ), said
    # Nor a reset of nothing, or of one's own (a review: the posts did what the page hides).
    for url, said in ((f"{doctor_url}/reset-mfa", "doctor1 has no two-step login to reset."),
                      (f"/admin/accounts/{people.admin.id}/reset-mfa",
                       "Your own two-step login is changed on your security page.")):  # fmt: skip
        post_form(admin, url, {}, token_page="/admin/accounts")
        assert said in html.unescape(admin.get("/admin/accounts").get_data(as_text=True))
    # The reverse: a temporary password pending, no two-step reset.
    other_url = f"/admin/accounts/{people.other_doctor.id}"
    assert post_form(admin, f"{other_url}/reset-password", typed).status_code == 302
    for who in (admin, other_admin):
        post_form(who, f"{other_url}/reset-mfa", {}, token_page="/admin/accounts")
        said = " ".join(html.unescape(who.get("/admin/accounts").get_data(as_text=True)).split())
        assert "The password of doctor2 was reset by " in said
    sql.expire_all()
    assert sql.get(Account, people.other_doctor.id).totp_secret is not None  # type: ignore[union-attr]
    assert login(app.test_client(), "doctor1", "temporary pass 77").status_code == 200  # not set
    resets = [(e.actor_id, e.object_id, e.action) for e in _events(sql, "account.password_reset")]
    resets += [(e.actor_id, e.object_id, e.action) for e in _events(sql, "account.mfa_remove")]
    assert sorted(resets) == sorted([
        (people.admin.id, people.doctor.id, "account.mfa_remove"),
        (people.admin.id, people.other_doctor.id, "account.password_reset"),
    ])  # fmt: skip


def test_a_staff_members_password_may_be_reset_once_they_logged_in_after_a_two_step_reset(
    app: Flask, people: People, sql: Session
) -> None:
    """An access audit: staff5 turned two-step login on, an admin removed it ("they enrol
    again at login"), staff5 logged in and was never asked (it is optional for staff), and
    their password could never be reset again by any administrator. The reset stays refused
    until they log in, with their own password, and the flash says where they set it again."""
    staff = sql.get(Account, people.staff.id)
    assert staff is not None
    staff.totp_secret, staff.mfa_enabled_at = two_step.SECRET, utcnow()
    sql.commit()
    admin = client_for(app, people.admin)
    staff_url = f"/admin/accounts/{people.staff.id}"
    post_form(admin, f"{staff_url}/reset-mfa", {}, token_page="/admin/accounts")
    said = html.unescape(admin.get("/admin/accounts").get_data(as_text=True))
    assert (
        "Two-step login of staff1 removed; they may set it again from their account page "
        "(“Two-step login” in the menu)." in said
    )
    typed = {"password": "temporary pass 77", "confirm_password": "temporary pass 77"}
    refused = post_form(admin, f"{staff_url}/reset-password", typed)  # not logged in since
    said = " ".join(html.unescape(refused.get_data(as_text=True)).split())
    assert refused.status_code == 200 and "They log in once first, or set their two-step" in said
    assert login(app.test_client(), "staff1").status_code == 302  # their own password, no code
    assert post_form(admin, f"{staff_url}/reset-password", typed).status_code == 302
    resets = _events(sql, "account.password_reset")
    assert [(e.actor_id, e.object_id) for e in resets] == [(people.admin.id, people.staff.id)]


# --- V2.8.6 a lost authenticator: the admin resets two-step login --------------------------


def test_v2_8_6_an_admin_resets_a_doctors_two_step_login_and_the_doctor_enrols_again(
    app: Flask, people: People, sql: Session
) -> None:
    doctor = client_for(app, people.doctor)  # the doctor's browser, logged in before the reset
    admin = client_for(app, people.admin)
    page = admin.get("/admin/accounts").get_data(as_text=True)
    assert f"/admin/accounts/{people.doctor.id}/reset-mfa" in page
    reset = post_form(admin, f"/admin/accounts/{people.doctor.id}/reset-mfa", {},
                      token_page="/admin/accounts")  # fmt: skip
    assert reset.status_code == 302
    assert "Two-step login of doctor1 removed" in admin.get("/admin/accounts").get_data(
        as_text=True
    )

    sql.expire_all()
    stored = sql.get(Account, people.doctor.id)
    assert stored is not None
    assert stored.totp_secret is None and stored.mfa_enabled_at is None
    assert stored.mfa_recovery_hashes is None
    [event] = _events(sql, "account.mfa_remove")
    assert (event.actor_id, event.actor_role) == (people.admin.id, "admin")
    assert (event.object_type, event.object_id) == ("account", people.doctor.id)

    assert doctor.get("/worklist").status_code == 302  # the session from before has ended
    again = app.test_client()
    assert login(again, "doctor1").location == "/"  # the password alone: no code asked
    forced = again.get("/worklist")
    assert forced.status_code == 302 and forced.location == "/account/security"
    assert "Your role requires two-step login" in again.get("/account/security").get_data(
        as_text=True
    )


# --- V4 access control ---------------------------------------------------------------------


def _second_patient_login(sql: Session, people: People) -> Account:
    """people.other_patient gets a portal login of their own."""
    account = patients.create_portal_account(sql, people.other_patient, actor=people.staff).account
    account.password_hash = people.patient_account.password_hash  # PASSWORD
    account.must_change_password = False
    sql.commit()
    return account


def test_v4_2_1_a_patient_cannot_read_another_patients_report_pdf_by_its_id(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = signed_report(app, people, sql, tmp_path)
    owner = client_for(app, people.patient_account)
    url = f"/my/reports/{report.id}/summary.pdf"
    assert owner.get(url).status_code == 200

    intruder_account = _second_patient_login(sql, people)
    intruder = client_for(app, intruder_account)
    refused = intruder.get(url)
    assert refused.status_code == 404 and refused.mimetype == "text/html"
    assert b"%PDF" not in refused.get_data()
    assert "Ada Lovelace" not in intruder.get("/my/reports").get_data(as_text=True)

    [event] = [e for e in _events(sql, "access.refused") if e.actor_id == intruder_account.id]
    assert (event.object_type, event.object_id) == ("ecg_report", report.id)
    assert event.details is not None and event.details["path"] == url
    # Named for a search by patient; nothing was read: not in the owner's "who saw my record".
    assert event.patient_id == people.patient.id
    from portal.services.myhealth import access_events

    assert event.id not in {e.id for e in access_events(sql, people.patient_account)}


def test_v4_2_1_an_api_token_of_another_doctor_gets_404_on_a_report_and_its_pdf(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = signed_report(app, people, sql, tmp_path)
    admin = client_for(app, people.admin)
    mine = Api(app, issue_on_admin_page(admin, "doctor1", ["reports:read"]))
    theirs = Api(app, issue_on_admin_page(admin, "doctor2", ["reports:read"]))
    for path in (f"/reports/{report.id}", f"/reports/{report.id}/report.pdf"):
        assert mine.get(path).status_code == 200, path
        assert theirs.get(path).status_code == 404, path
    refused = [e for e in _events(sql, "access.refused") if e.actor_id == people.other_doctor.id]
    assert [(e.object_type, e.object_id) for e in refused] == [("ecg_report", report.id)] * 2


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("staff", "/admin/accounts"),
        ("staff", "/admin/audit"),
        ("doctor", "/admin/tokens"),
        ("patient_account", "/worklist"),
        ("patient_account", "/patients/"),
        ("admin", "/worklist"),
    ],
)
def test_v4_1_3_least_privilege_each_role_is_refused_outside_its_work_and_it_is_audited(
    app: Flask, people: People, sql: Session, role: str, url: str
) -> None:
    """A compact check per role; tests/test_access.py walks every endpoint for every role and
    tests/test_record_access_matrix.py every record for every role."""
    account = getattr(people, role)
    assert client_for(app, account).get(url).status_code == 403
    [event] = _events(sql, "access.refused")
    assert event.actor_id == account.id and event.details is not None
    assert (event.details["status"], event.details["path"]) == (403, url)


def test_v4_3_1_an_admin_must_enrol_two_step_login_before_any_admin_page(
    app: Flask, people: People, sql: Session
) -> None:
    people.admin.totp_secret = None
    people.admin.mfa_enabled_at = None
    sql.commit()
    client = app.test_client()
    assert login(client, "admin1").location == "/"
    for url in ("/admin/accounts", "/admin/audit", "/admin/tokens"):
        forced = client.get(url)
        assert forced.status_code == 302 and forced.location == "/account/security", url


# --- V5.3.4 SQL injection -----------------------------------------------------------------

INJECTIONS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    '" OR ""="',
    "'; DROP TABLE patient; --",
    "Lovelace' UNION SELECT mrn FROM patient --",
    "Pascal' OR full_name LIKE '%",
    "\\' OR 1=1 #",
    "1) OR (1=1",
]


def test_v5_3_4_patient_search_with_sql_metacharacters_finds_nothing_and_breaks_nothing(
    app: Flask, people: People, sql: Session
) -> None:
    """Bound parameters on both databases: a hostile search term is text to look for (no
    patient's name holds it), never SQL; a doctor never sees the other doctor's patient."""
    for account in (people.staff, people.doctor):
        client = client_for(app, account)
        for text in INJECTIONS:
            page = client.get("/patients/", query_string={"q": text})
            assert page.status_code == 200, text
            body = page.get_data(as_text=True)
            assert "Blaise Pascal" not in body and "Ada Lovelace" not in body, text
    searches = _events(sql, "patient.search")
    assert len(searches) == 2 * len(INJECTIONS)
    assert all(e.details is not None and e.details["patient_ids"] == [] for e in searches)
    assert sql.scalar(select(func.count()).select_from(Patient)) == 2  # nothing was dropped

    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, "doctor1", ["patients:read"]))
    for text in INJECTIONS:
        answer = api.get("/patients", query_string={"name": text})
        assert answer.status_code == 200 and answer.get_json()["items"] == [], text
    own = api.get("/patients", query_string={"name": "Lovelace"}).get_json()["items"]
    assert [p["id"] for p in own] == [people.patient.id]  # the search itself still works


# --- Pre-1900 clinical input rows already stored (issue 15, finding 6) ---------------------


@pytest.mark.parametrize("year", [1, 1899])
def test_v5_1_4_an_old_clinical_input_row_already_stored_shows_everywhere_and_is_superseded(
    app: Flask, people: People, sql: Session, year: int
) -> None:
    """Clinical inputs are never edited or deleted (one dated row per entry, README); a wrong
    old row is corrected by entering a newer one. Every page and the API read such a row
    without a 500, and the new row is saved beside it."""
    sql.add(ClinicalInput(patient_id=people.patient.id, entered_by_id=people.staff.id,
                          recorded_at=dt.datetime(year, 1, 1), systolic_bp_mmhg=120))  # fmt: skip
    sql.commit()
    client = client_for(app, people.staff)
    assert client.get(f"/patients/{people.patient.id}").status_code == 200
    assert client.get(f"/patients/{people.patient.id}/inputs/new").status_code == 200
    added = post_form(client, f"/patients/{people.patient.id}/inputs/new",
                      {"recorded_at": "2024-05-01T09:30", "systolic_bp_mmhg": "135"})  # fmt: skip
    assert added.status_code == 302
    assert client.get(f"/patients/{people.patient.id}/risk/").status_code == 200

    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, "staff1", ["patients:read"]))
    listed = api.get(f"/patients/{people.patient.id}/clinical-inputs")
    assert listed.status_code == 200, listed.get_data(as_text=True)[:500]
    assert [i["systolic_bp_mmhg"] for i in listed.get_json()["items"]] == [135, 120]


# --- V7 logging -----------------------------------------------------------------------------


def _audit_text(sql: Session) -> str:
    """Every audit column as text, but the chain's hashes and the time (which cannot hold a
    secret, and whose hex digits or microseconds could match a six-digit code by chance)."""
    sql.expire_all()
    rows = sql.scalars(select(AuditEvent)).all()
    skipped = {"prev_hash", "row_hash", "occurred_at"}
    return "\n".join(
        repr(getattr(row, column.key))
        for row in rows
        for column in AuditEvent.__table__.columns
        if column.key not in skipped
    )


def test_v7_1_1_no_password_code_or_token_reaches_the_audit_trail_or_the_log(
    app: Flask, people: People, sql: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_password = "wrong-Violet-piano-83"
    wrong_code = "918273"
    login(app.test_client(), "staff1", wrong_password)  # a failed login
    client = app.test_client()
    token = csrf_token(client)
    client.post("/login", data={"username": "doctor1", "password": PASSWORD, "csrf_token": token})
    post_form(client, "/login/verify", {"code": wrong_code}, token_page="/login/verify")
    right_code = two_step.next_code(app, "doctor1")
    verified = post_form(client, "/login/verify", {"code": right_code}, token_page="/login/verify")
    assert verified.status_code == 302  # a login with both factors

    admin = client_for(app, people.admin)
    secret = issue_on_admin_page(admin, "staff1", ["patients:read"])
    assert Api(app, secret).get("/patients").status_code == 200  # a token used
    forged = secret[:-4] + "AAAA"
    assert Api(app, forged).get("/patients").status_code == 401  # a wrong token tried

    actions = {e.action for e in sql.scalars(select(AuditEvent))}
    assert {"login.failure", "login.success", "api_token.issue", "patient.list"} <= actions
    audit_text = _audit_text(sql)
    log_text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for secret_value in (wrong_password, PASSWORD, wrong_code, right_code, secret, forged,
                         two_step.SECRET):  # fmt: skip
        assert secret_value not in audit_text, secret_value
        assert secret_value not in log_text, secret_value
    assert "doctor1" in audit_text  # the rows say who, not what they typed


def test_v7_2_2_a_refused_access_is_logged_with_who_what_and_when(
    app: Flask, people: People, sql: Session
) -> None:
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    other_doctor = client_for(app, people.other_doctor)
    assert other_doctor.get(f"/patients/{people.patient.id}/risk/").status_code == 404
    admin = client_for(app, people.admin)
    patient_token = Api(
        app, issue_on_admin_page(admin, people.patient_account.username, ["patients:read"])
    )
    assert patient_token.get("/patients").status_code == 403
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=1)

    by_doctor, by_token = _events(sql, "access.refused")
    assert (by_doctor.actor_id, by_doctor.actor_username, by_doctor.actor_role) == (
        people.other_doctor.id, "doctor2", "doctor",
    )  # fmt: skip
    assert (by_doctor.object_type, by_doctor.object_id) == ("patient", people.patient.id)
    assert by_doctor.details is not None
    assert by_doctor.details["path"] == f"/patients/{people.patient.id}/risk/"
    assert by_doctor.details["method"] == "GET" and by_doctor.details["status"] == 404
    assert by_doctor.ip_address == "127.0.0.1"
    assert (by_token.actor_id, by_token.actor_role) == (people.patient_account.id, "patient")
    assert by_token.details is not None and by_token.details["path"] == "/api/v1/patients"
    for event in (by_doctor, by_token):
        assert before <= event.occurred_at <= after


# --- V8 data protection ---------------------------------------------------------------------


def test_v8_1_1_no_store_on_pdfs_waveform_json_and_api_answers(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Pages are checked in test_security_auth.py::test_v14_4_headers_on_pages_json_and_pdfs;
    here what a browser or proxy might keep for longest: the files and data behind a page."""
    report = signed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    patient = client_for(app, people.patient_account)
    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, "doctor1", ["reports:read", "patients:read"]))
    answers = {
        "clinician PDF": doctor.get(f"/reports/{report.id}/report.pdf"),
        "patient PDF": patient.get(f"/my/reports/{report.id}/summary.pdf"),
        "waveform overview": doctor.get(f"/reports/{report.id}/ecg.json?overview=1"),
        "waveform window": doctor.get(f"/reports/{report.id}/ecg.json?start_s=0&end_s=5"),
        "documents": doctor.get(f"/reports/{report.id}/documents.json"),
        "API report": api.get(f"/reports/{report.id}"),
        "API patient": api.get(f"/patients/{people.patient.id}"),
        "API PDF": api.get(f"/reports/{report.id}/report.pdf"),
    }
    for what, answer in answers.items():
        assert answer.status_code == 200, what
        assert answer.headers["Cache-Control"] == "no-store", what
        assert answer.headers["Pragma"] == "no-cache", what
    assert answers["clinician PDF"].mimetype == "application/pdf"
    assert answers["waveform overview"].mimetype == "application/json"


def _served_portal_env(tmp_path: Path) -> dict[str, str]:
    """A development portal with its own SQLite database, schema made."""
    env = {**os.environ, "CARDIO_ENV": "development", "INSTANCE_DIR": str(tmp_path),
           "JOB_WORKER": "none", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}  # fmt: skip
    subprocess.run([str(Path(sys.executable).parent / "cardio"), "init-db"], env=env, check=True,
                   capture_output=True, cwd=ROOT)  # fmt: skip
    return env


def _status_of(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    try:
        return int(urllib.request.build_opener(NoRedirect).open(url, timeout=10).status)
    except urllib.error.HTTPError as answer:
        return answer.code


def test_v8_3_1_searched_names_in_urls_stay_out_of_the_servers_access_log(
    tmp_path: Path,
) -> None:
    """The web search (GET /patients/?q=) and FHIR searches (?name=) carry a name in the URL,
    as bookmarkable searches and FHIR require; the page is no-store and Referrer-Policy
    same-origin keeps it from other sites; the server as shipped logs the path only."""
    log_path = tmp_path / "gunicorn.log"
    with gunicorn_serving(_served_portal_env(tmp_path), log_path, n_workers=1) as server:
        assert _status_of(f"{server.url}/patients/?q=Lovelace") == 302
        assert _status_of(f"{server.url}/fhir/r4/Patient?name=Lovelace") == 401
    log = log_path.read_text()
    assert '"GET /patients/ HTTP/1.1" 302' in log and "/fhir/r4/Patient" in log, log[-2000:]
    assert "Lovelace" not in log


def test_a_file_sent_carries_one_date_header(app: Flask) -> None:
    """RFC 9110 5.3: Date is no list, so it comes once. An access audit found two on every PDF,
    export file and static file from `cardio demo`: Werkzeug's `send_file` adds one, and the
    development server its own (gunicorn as shipped sends one; `tests/support/gunicorn_server`)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for path in ("/static/css/portal.css", "/login"):
            url = f"http://127.0.0.1:{server.server_port}{path}"
            with urllib.request.urlopen(url, timeout=10) as answer:
                assert len(answer.headers.get_all("Date")) == 1, path
    finally:
        server.shutdown()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("environment", ["development", "production"])
def test_v8_3_4_an_existing_instance_folder_and_database_file_are_made_private(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environment: str
) -> None:
    """The image (and `cardio init-db` before) made the folder with `mkdir -p`: 0755; the
    portal tightens it, and the SQLite file, when it starts."""
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    database = instance / "cardio.db"
    database.touch()
    database.chmod(0o644)
    monkeypatch.setenv("CARDIO_ENV", environment)
    monkeypatch.setenv("INSTANCE_DIR", str(instance))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("STORAGE_DIR", raising=False)
    if environment == "production":  # production must name its database, even SQLite
        monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    else:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = load_settings()
    assert _mode(instance) == 0o700
    make_engine(settings.database_url).dispose()
    assert _mode(database) == 0o600
    if environment == "development":
        assert _mode(instance / "secret_key") == 0o600


def test_v8_3_4_cardio_init_db_makes_a_new_instance_folder_private(tmp_path: Path) -> None:
    instance = tmp_path / "new-instance"
    env = {**os.environ, "CARDIO_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
           "INSTANCE_DIR": str(instance), "JOB_WORKER": "none",
           "DATABASE_URL": f"sqlite:///{instance / 'cardio.db'}"}  # fmt: skip
    subprocess.run([str(Path(sys.executable).parent / "cardio"), "init-db"], env=env, check=True,
                   capture_output=True, cwd=ROOT)  # fmt: skip
    assert _mode(instance) == 0o700 and _mode(instance / "cardio.db") == 0o600


def test_v8_3_4_the_database_file_storage_folders_and_stored_files_are_private(
    app: Flask, people: People, tmp_path: Path, database_url: str
) -> None:
    storage = app.config["SETTINGS"].storage_dir
    storage.mkdir(mode=0o755)
    storage.chmod(0o755)  # as an older version (or `mkdir -p`) left it
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, [(_csv_bytes(tmp_path), "ecg.csv")]).status_code == 302
    assert _mode(storage) == 0o700
    folders = [p for p in storage.rglob("*") if p.is_dir()]
    files = _stored_files(app)
    assert folders and files
    assert {_mode(p) for p in folders} == {0o700}
    assert {_mode(p) for p in files} == {0o600}
    if database_url.startswith("sqlite"):
        assert _mode(Path(database_url.removeprefix("sqlite:///"))) == 0o600


# --- V12 files and resources ----------------------------------------------------------------


def test_v12_1_1_an_upload_or_form_over_the_limit_is_a_413_in_words_never_a_500(
    app: Flask, people: People, sql: Session
) -> None:
    app.config["SETTINGS"].max_upload_mb = 1
    staff = client_for(app, people.staff)
    upload = _upload(staff, people.patient.id, [(b"0" * (2 * 1024 * 1024), "big.csv")])
    form = post_form(staff, "/patients/new", {"full_name": "x" * (2 * 1024 * 1024)})
    for answer, said in (
        # the limit, the size sent and what to do (a Holter audit: a 126-MB EDF was told
        # only that it was too large)
        (upload, "The file is larger than the portal accepts: at most 1 MB per upload; this "
                 "one is 2 MB. Zip the recording's files and upload the .zip"),
        (form, "The file or form is larger than the portal accepts."),
    ):  # fmt: skip
        assert answer.status_code == 413
        page = " ".join(html.unescape(answer.get_data(as_text=True)).split())
        assert said in page
        assert "Traceback" not in page and "RequestEntityTooLarge" not in page
    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, "staff1", ["recordings:write"]))
    too_big = api.upload(people.patient.id, [(b"0" * (2 * 1024 * 1024), "big.csv")])
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "too_large"
    assert sql.scalar(select(func.count()).select_from(EcgRecording)) == 0
    assert _stored_files(app) == []


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_v12_3_1_file_names_with_a_path_are_stored_under_a_safe_name_inside_storage(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    hea, dat = write_wfdb(source, synthetic(20, 360), "x")
    staff = client_for(app, people.staff)
    pair = [(hea.read_bytes(), "../../x.hea"), (dat.read_bytes(), "..\\..\\x.dat")]
    assert _upload(staff, people.patient.id, pair).status_code == 302
    unsafe = _zip({"../../x.hea": hea.read_bytes(), "/etc/x.dat": dat.read_bytes()})
    refused = _upload(staff, people.other_patient.id, [(unsafe, "rec.zip")])
    assert refused.status_code == 422
    assert error_messages(refused.get_data(as_text=True)) == [
        "The .zip contains an unsafe path: ../../x.hea"
    ]
    safe = _zip({"x.hea": hea.read_bytes(), "x.dat": dat.read_bytes()})
    assert _upload(staff, people.other_patient.id, [(safe, "../../../rec.zip")]).status_code == 302

    storage = app.config["SETTINGS"].storage_dir
    stored = _stored_files(app)
    assert sorted(p.name for p in stored) == ["rec.zip", "x.dat", "x.hea"]
    assert all(p.resolve().is_relative_to(storage / "recordings") for p in stored)
    escaped = [p for p in tmp_path.rglob("x.*") if not p.is_relative_to(source)]
    assert all(p.is_relative_to(storage) for p in escaped), escaped
    assert Worker(app).run_pending() == 2  # both read as the record "x"
    jobs = sql.scalars(select(AnalysisJob)).all()
    assert [j.state.value for j in jobs] == ["succeeded", "succeeded"], [
        j.error_message for j in jobs
    ]


def test_v12_4_1_stored_recordings_are_not_served_by_any_url(
    app: Flask, people: People, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, [(_csv_bytes(tmp_path), "ecg.csv")]).status_code == 302
    [stored] = _stored_files(app)
    storage = app.config["SETTINGS"].storage_dir
    inside = stored.relative_to(storage).as_posix()
    beside_instance = stored.relative_to(storage.parent).as_posix()
    for url in (f"/{inside}", f"/static/{inside}", f"/storage/{inside}",
                f"/{beside_instance}", f"/static/../{beside_instance}",
                f"/instance/{beside_instance}", f"/static/{stored.as_posix()}"):  # fmt: skip
        answer = staff.get(url, follow_redirects=True)
        assert answer.status_code == 404, url
        assert stored.read_bytes()[:40] not in answer.get_data(), url


# --- V14 configuration ----------------------------------------------------------------------


def test_v14_3_2_production_refuses_to_start_in_flask_debug_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Flask turns debug mode on from FLASK_DEBUG whatever the portal's settings say."""
    monkeypatch.setenv("CARDIO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cardio.db'}")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError, match="Refusing to start in production with FLASK_DEBUG"):
        load_settings()
    monkeypatch.setenv("FLASK_DEBUG", "0")
    application = create_app(load_settings())
    assert application.debug is False
    application.extensions["db_engine"].dispose()
    monkeypatch.setenv("CARDIO_ENV", "development")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert load_settings().environment == "development"  # a developer may debug
