"""OWASP ASVS 4.0.3 Level 2, authentication (V2), sessions (V3) and HTTP headers (V14.4):
one test or more per requirement, named by its number (docs/security.md maps them)."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from portal import create_app
from portal.models import Account, AnalysisJob, AuditEvent
from portal.passwords import password_problems
from tests.conftest import PASSWORD, People, client_for, csrf_token, login, make_settings, post_form
from tests.support import two_step
from tests.test_pdf_reports import _signed as signed_report

ROOT = Path(__file__).resolve().parents[1]


def _wrong(app: Flask, username: str, times: int) -> str:
    page = ""
    for _ in range(times):
        page = login(app.test_client(), username, "not the password at all").get_data(as_text=True)
    return page


def test_v2_2_1_five_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(
    app: Flask, people: People, sql: Session
) -> None:
    assert "Unknown username or wrong password." in _wrong(app, "staff1", 4)
    page = _wrong(app, "staff1", 1)
    assert "This account is locked for 15 more minutes after 5 failed attempts" in page
    locked = login(app.test_client(), "staff1")  # the right password, while locked
    assert locked.status_code == 200 and "locked" in locked.get_data(as_text=True)
    reasons = [e.details["reason"] for e in sql.scalars(select(AuditEvent).where(
        AuditEvent.action == "login.failure"))]  # fmt: skip
    assert reasons == ["bad credentials"] * 5 + ["locked"]
    assert "or ask an administrator to unlock it." in page


def test_a_locked_patient_is_sent_to_the_clinic_not_an_administrator(
    app: Flask, people: People
) -> None:
    """A patient reaches no administrator; the login page below says to call the clinic (the
    lock message had said "ask an administrator to unlock it"; an audit of the patient's side)."""
    page = _wrong(app, people.patient_account.username, 5)
    assert (
        "This account is locked for 15 more minutes after 5 failed attempts. Try again "
        "later, or call the clinic."
    ) in page
    assert "administrator to unlock" not in page

    admin = client_for(app, people.admin)
    accounts_page = admin.get("/admin/accounts").get_data(as_text=True)
    assert "<strong>locked</strong>" in accounts_page
    unlocked = post_form(admin, f"/admin/accounts/{people.staff.id}/unlock", {},
                         token_page="/admin/accounts")  # fmt: skip
    assert unlocked.status_code == 302
    assert login(app.test_client(), "staff1").status_code == 302


def test_the_lock_message_says_minute_or_minutes(people: People) -> None:
    """ "locked for 15 more minute(s)" (an audit of the patient's side): one minute is a
    minute, more are minutes."""
    import datetime as dt

    from portal.services.accounts import locked_message

    now = dt.datetime(2026, 12, 7, 15, 30)
    said = {}
    for seconds in (30, 60, 61, 900):
        people.staff.locked_until = now + dt.timedelta(seconds=seconds)
        said[seconds] = locked_message(people.staff, now).split(" after ")[0]
    assert said == {
        30: "This account is locked for 1 more minute",
        60: "This account is locked for 1 more minute",
        61: "This account is locked for 2 more minutes",
        900: "This account is locked for 15 more minutes",
    }


def test_v2_2_1_the_lock_also_counts_wrong_second_factor_codes(app: Flask, people: People) -> None:
    client = app.test_client()
    token = csrf_token(client)
    client.post("/login", data={"username": "doctor1", "password": PASSWORD, "csrf_token": token})
    for _ in range(5):
        page = post_form(client, "/login/verify", {"code": "000000"}, token_page="/login/verify")
    assert "That code is not right" in page.get_data(as_text=True)
    assert "locked" in login(app.test_client(), "doctor1").get_data(as_text=True)


def test_v2_2_1_a_right_password_between_wrong_codes_does_not_start_the_count_again(
    app: Flask, people: People, sql: Session
) -> None:
    """The password step had reset the count: four wrong codes, the password again, four
    more, and so on, guessed codes without end (a security audit)."""

    def password_step() -> object:
        client = app.test_client()
        token = csrf_token(client)
        client.post("/login", data={"username": "doctor1", "password": PASSWORD,
                                    "csrf_token": token})  # fmt: skip
        return client

    client = password_step()
    for _ in range(4):
        post_form(client, "/login/verify", {"code": "000000"}, token_page="/login/verify")
    client = password_step()
    post_form(client, "/login/verify", {"code": "000000"}, token_page="/login/verify")
    assert "locked" in login(app.test_client(), "doctor1").get_data(as_text=True)
    # A whole login starts the count again: four wrong codes, a login, four more: not locked.
    account = sql.get(Account, people.doctor.id)
    assert account is not None
    account.locked_until, account.failed_logins = None, 0
    sql.commit()
    for _ in range(2):
        client = password_step()
        for _ in range(4):
            post_form(client, "/login/verify", {"code": "000000"}, token_page="/login/verify")
        code = two_step.next_code(app, "doctor1")
        assert post_form(client, "/login/verify", {"code": code},
                         token_page="/login/verify").status_code == 302  # fmt: skip


def test_others_wrong_logins_and_one_typo_do_not_log_a_doctor_out(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An outsider's four wrong passwords at the login page and one typo of the on-call
    doctor's signing password had made five "in a row": logged out mid-read, locked out for
    15 minutes (an audit). The session's own count warns before the one that locks."""
    report = signed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    for _ in range(4):
        assert "Unknown username or wrong password" in login(
            app.test_client(), "doctor1", "not the password"
        ).get_data(as_text=True)

    def amend(password: str) -> TestResponse:
        return post_form(doctor, f"/reports/{report.id}/amend",
                         {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "reason": "x",
                          "conclusion": "c", "password": password,
                          "row_version": str(report.row_version)},
                         token_page=f"/reports/{report.id}")  # fmt: skip

    assert "That is not your password" in amend("typo").get_data(as_text=True)
    assert doctor.get("/worklist").status_code == 200  # still logged in
    for _ in range(2):
        assert "One more wrong password" not in amend("typo").get_data(as_text=True)
    fourth = amend("typo").get_data(as_text=True)
    assert "One more wrong password locks this account for 15 minutes" in fourth
    assert doctor.get("/worklist").status_code == 200
    sql.expire_all()
    account = sql.get(Account, people.doctor.id)
    assert account is not None and account.locked_until is None


def test_v2_2_1_wrong_passwords_in_a_session_count_are_audited_and_the_fifth_logs_out(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Signing, changing the password or making recovery codes asked for the password with
    no limit and left no trace: someone at a logged-in workstation guessed it at two tries a
    second (a security audit). Each wrong one now counts toward the lock, audited; the one
    that locks the account ends the session."""
    report = signed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    amended = post_form(doctor, f"/reports/{report.id}/amend",
                        {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "reason": "x",
                         "conclusion": "c", "password": "guess 1",
                         "row_version": str(report.row_version)},
                        token_page=f"/reports/{report.id}")  # fmt: skip
    assert "That is not your password; the report was not signed." in amended.get_data(as_text=True)
    for n in range(2, 4):
        page = post_form(doctor, "/account/password", {"current_password": f"guess {n}",
                         "password": "A new one, long enough 42", "confirm_password":
                         "A new one, long enough 42"}, token_page="/account/password")  # fmt: skip
        assert "The current password is not correct." in page.get_data(as_text=True)
    # Recovery codes need the code from the phone as well as the password.
    no_code = post_form(doctor, "/account/security", {"action": "recovery",
                        "confirm-password": PASSWORD, "confirm-code": "000000"},
                        token_page="/account/security")  # fmt: skip
    assert "That code is not right" in no_code.get_data(as_text=True)
    assert "Your recovery codes" not in no_code.get_data(as_text=True)
    fifth = post_form(doctor, "/account/security", {"action": "recovery",
                      "confirm-password": "guess 5", "confirm-code": "000000"},
                      token_page="/account/security")  # fmt: skip
    assert fifth.status_code == 302 and fifth.location.endswith("/login")
    assert doctor.get("/worklist").status_code == 302  # logged out
    assert "locked for 15 minutes, and you are logged out" in doctor.get("/login").get_data(
        as_text=True
    )
    sql.expire_all()
    purposes = [e.details["purpose"] for e in sql.scalars(select(AuditEvent).where(
        AuditEvent.action == "password.failure").order_by(AuditEvent.id))]  # fmt: skip
    assert purposes == ["sign", "change password", "change password",
                        "two-step login: recovery", "two-step login: recovery"]  # fmt: skip
    assert "locked" in login(app.test_client(), "doctor1").get_data(as_text=True)


def test_v2_8_new_recovery_codes_need_both_factors(app: Flask, people: People) -> None:
    admin = client_for(app, people.admin)
    asked = {"action": "recovery", "confirm-password": PASSWORD}
    password_only = post_form(admin, "/account/security", asked, token_page="/account/security")
    assert "Your recovery codes" not in password_only.get_data(as_text=True)
    made = post_form(admin, "/account/security", {"action": "recovery",
                     "confirm-password": PASSWORD,
                     "confirm-code": two_step.next_code(app, "admin1")},
                     token_page="/account/security")  # fmt: skip
    assert "Your recovery codes" in made.get_data(as_text=True)


def test_only_the_trusted_host_names_are_answered(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FHIR's absolute links are built from the Host header: a security audit had them point
    at "evil.example" (a client following them sends its token there). TRUSTED_HOSTS
    answers any other host 400."""
    from portal.config import load_settings

    monkeypatch.setenv("TRUSTED_HOSTS", " Portal.Example , portal.example:8443 ")
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert load_settings().trusted_hosts == ("portal.example", "portal.example:8443")
    settings = dataclasses.replace(
        make_settings(database_url, tmp_path), trusted_hosts=("portal.example",)
    )
    application = create_app(settings, TESTING=True)
    try:
        client = application.test_client()
        assert client.get("/login", headers={"Host": "portal.example"}).status_code == 200
        assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400
        # The container's health check asks 127.0.0.1:8000 (an ops audit: refused, the app
        # was "unhealthy" and the worker never started).
        for loopback in ("127.0.0.1:8000", "localhost"):
            assert client.get("/health", headers={"Host": loopback}).status_code == 200
        token = "Bearer cp_not_a_token"
        refused = client.get("/fhir/r4/Patient", headers={"Host": "evil.example",
                                                          "Authorization": token})  # fmt: skip
        assert refused.status_code == 400 and b"evil.example" not in refused.data
    finally:
        application.extensions["db_engine"].dispose()


@pytest.fixture
def throttled_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    settings = dataclasses.replace(
        make_settings(database_url, tmp_path), login_rate_limit="3 per minute"
    )
    application = create_app(settings, TESTING=True)
    yield application
    application.extensions["db_engine"].dispose()


def test_v2_2_1_login_attempts_are_throttled_per_client_address(
    throttled_app: Flask, people: People
) -> None:
    answers = [
        login(throttled_app.test_client(), name, "wrong password here").status_code
        for name in ("a-user", "b-user", "c-user", "d-user")
    ]
    assert answers == [200, 200, 200, 429]  # different accounts, one address
    refused = login(throttled_app.test_client(), "staff1")
    assert refused.status_code == 429
    assert "Too many attempts from this network" in refused.get_data(as_text=True)


@pytest.mark.parametrize("hops", [0, 1])
def test_behind_a_trusted_proxy_each_client_is_throttled_and_audited_apart(
    database_url: str, tmp_path: Path, people: People, hops: int
) -> None:
    """Behind the reverse proxy production needs, every user was the proxy: one login throttle
    for the whole hospital, and every audit row the proxy's address (an ops audit). With
    TRUSTED_PROXIES=1 the proxy's X-Forwarded-For names the client; with 0 (no proxy) a
    client cannot dodge the throttle by sending the header itself."""
    settings = dataclasses.replace(
        make_settings(database_url, tmp_path), login_rate_limit="3 per minute", trusted_proxies=hops
    )
    application = create_app(settings, TESTING=True)
    try:
        answers = []
        for k in range(5):
            client = application.test_client()
            client.environ_base["HTTP_X_FORWARDED_FOR"] = f"10.0.0.{k + 1}"
            answers.append(login(client, f"user-{k}", "wrong password here").status_code)
        assert answers == ([200] * 5 if hops else [200, 200, 200, 429, 429])
        with application.extensions["db_sessionmaker"]() as sql:
            addresses = set(
                sql.scalars(
                    select(AuditEvent.ip_address).where(AuditEvent.action == "login.failure")
                )
            )
        assert addresses == ({f"10.0.0.{k}" for k in range(1, 6)} if hops else {"127.0.0.1"})
    finally:
        application.extensions["db_engine"].dispose()


@pytest.mark.parametrize("weak", ["password1234", "aaaaaaaaaaaa", "123456789012", "qwertyuiop123"])
def test_v2_1_7_common_and_patterned_passwords_are_refused(weak: str) -> None:
    assert password_problems(weak), weak


def test_v2_1_7_passwords_built_from_the_users_own_data_are_refused() -> None:
    problems = password_problems("Lovelace1960!", username="ada", personal=("Ada Lovelace",))
    assert problems and "passphrase" in problems[-1]
    assert password_problems("violet piano orbit canal", username="ada") == []


def test_v2_8_admins_and_doctors_must_enrol_two_step_login(
    app: Flask, people: People, sql: Session
) -> None:
    people.doctor.totp_secret = None  # a doctor who has not enrolled yet
    sql.commit()
    client = app.test_client()
    assert login(client, "doctor1").location == "/"
    forced = client.get("/worklist")
    assert forced.status_code == 302 and forced.location == "/account/security"
    page = client.get("/account/security").get_data(as_text=True)
    assert "<svg" in page and "Your role requires two-step login" in page
    with client.session_transaction() as session:
        secret = session["mfa_enrol_secret"]
    wrong = post_form(client, "/account/security", {"code": "123456", "action": "enrol"},
                      token_page="/account/security")  # fmt: skip
    assert "That code does not match" in wrong.get_data(as_text=True)
    enrolled = post_form(client, "/account/security",
                         {"code": pyotp.TOTP(secret).now(), "action": "enrol"},
                         token_page="/account/security")  # fmt: skip
    page = enrolled.get_data(as_text=True)
    assert "Your recovery codes" in page and page.count("<li>") >= 10
    assert client.get("/worklist").status_code == 200  # the session goes on
    sql.expire_all()
    assert sql.get(Account, people.doctor.id).totp_secret == secret


def test_v2_8_4_a_code_works_once_and_a_recovery_code_once(
    app: Flask, people: People, sql: Session
) -> None:
    def password_step() -> object:
        client = app.test_client()
        token = csrf_token(client)
        client.post(
            "/login", data={"username": "admin1", "password": PASSWORD, "csrf_token": token}
        )
        return client

    assert password_step().get("/admin/accounts").status_code == 302  # no code, no entry
    code = two_step.next_code(app, "admin1")
    first, second = password_step(), password_step()
    assert (
        post_form(first, "/login/verify", {"code": code}, token_page="/login/verify").status_code
        == 302
    )
    replay = post_form(second, "/login/verify", {"code": code}, token_page="/login/verify")
    assert replay.status_code == 200 and "already used" in replay.get_data(as_text=True)

    recovery = accounts_recovery_codes(sql, people.admin)
    third = password_step()
    used = post_form(third, "/login/verify", {"code": recovery[0]}, token_page="/login/verify")
    assert used.status_code == 302
    again = post_form(password_step(), "/login/verify", {"code": recovery[0]},
                      token_page="/login/verify")  # fmt: skip
    assert again.status_code == 200


def accounts_recovery_codes(sql: Session, account: Account) -> list[str]:
    from portal.services import mfa

    codes = mfa.regenerate_recovery_codes(sql, account)
    sql.commit()
    return codes


def test_v3_3_1_logout_kills_the_cookie_even_if_someone_kept_a_copy(
    app: Flask, people: People
) -> None:
    client = client_for(app, people.staff)
    stolen = client.get_cookie("session")
    assert stolen is not None
    post_form(client, "/logout", {})
    replay = app.test_client()
    replay.set_cookie("session", stolen.value)
    response = replay.get(f"/patients/{people.patient.id}")
    assert response.status_code == 302 and "/login" in response.location


def test_v3_3_2_a_session_ends_after_its_absolute_lifetime_however_active(
    app: Flask, people: People
) -> None:
    client = client_for(app, people.staff)
    assert client.get("/patients/").status_code == 200
    with client.session_transaction() as session:
        session["authenticated_at"] = time.time() - 12 * 3600 - 5
    expired = client.get("/patients/")
    assert expired.status_code == 302 and "/login" in expired.location
    assert client.get("/patients/").status_code == 302  # and it stays ended


def _session_cookies(response: TestResponse) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]


def test_v3_3_a_background_poll_does_not_resend_the_session_cookie(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A poll answering after a form's redirect must not replace the newer cookie that holds the
    form's message (the lost "Amendment signed." of the browser walkthrough), nor keep an
    unattended screen logged in. A page is activity (the idle timeout slides); a real change
    to the session on a poll (its end) is still sent."""
    report = signed_report(app, people, sql, tmp_path)
    job = sql.scalar(select(AnalysisJob))
    doctor = client_for(app, people.doctor)
    assert _session_cookies(doctor.get(f"/reports/{report.id}"))
    for poll in (f"/reports/{report.id}/documents.json", f"/jobs/{job.id}/status.json"):
        answer = doctor.get(poll)
        assert answer.status_code == 200 and answer.is_json, poll
        assert _session_cookies(answer) == [], poll
    with doctor.session_transaction() as session:
        session["authenticated_at"] = time.time() - 12 * 3600 - 5
    ended = doctor.get(f"/reports/{report.id}/documents.json")
    assert ended.status_code == 302 and "/login" in ended.location
    assert _session_cookies(ended)  # the session's end reaches the browser
    assert doctor.get(f"/reports/{report.id}").status_code == 302


def test_v3_3_a_static_file_does_not_resend_the_session_cookie(app: Flask, people: People) -> None:
    """A page's stylesheet or favicon can answer after the user logged out in that tab (or
    after a form's redirect stored its message): its older cookie then brought the session
    back. A browser test that cleared the cookies saw the form it sent saved anyway (CI)."""
    staff = client_for(app, people.staff)
    assert _session_cookies(staff.get("/patients/"))
    for url in ("/static/css/portal.css", "/static/favicon.svg"):
        answer = staff.get(url)
        assert answer.status_code == 200, url
        assert _session_cookies(answer) == [], url


def test_v3_2_1_next_with_control_characters_is_ignored_not_a_500(
    app: Flask, people: People
) -> None:
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"username": "staff1", "password": PASSWORD,
                                           "csrf_token": token,
                                           "next": "/patients/\r\nSet-Cookie: x=1"})  # fmt: skip
    assert response.status_code == 302 and response.location == "/"


def test_v14_4_headers_on_pages_json_and_pdfs(app: Flask, people: People) -> None:
    client = client_for(app, people.staff)
    for url in ("/login", "/patients/", f"/patients/{people.patient.id}", "/health"):
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "'unsafe-eval'" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store", url
        assert "Strict-Transport-Security" not in headers  # development: plain http works
    static = client.get("/static/css/portal.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_v14_4_no_inline_script_in_any_template() -> None:
    """The CSP forbids inline script: only src= scripts and JSON data blocks are allowed."""
    import re

    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (path.name, tag)
        assert not re.search(r"\son[a-z]+=", text), path.name  # no onclick= handlers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_v14_3_3_gunicorn_as_shipped_sends_no_server_banner(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "CARDIO_ENV": "development", "INSTANCE_DIR": str(tmp_path),
           "JOB_WORKER": "none", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}  # fmt: skip
    subprocess.run([str(Path(sys.executable).parent / "cardio"), "init-db"], env=env, check=True,
                   capture_output=True, cwd=ROOT)  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "docker/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "portal.wsgi:app"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        assert "gunicorn" not in (response.headers.get("Server") or "").lower()
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        server.terminate()
        server.wait(10)


def test_v5_1_3_a_code_in_other_digits_is_refused_not_a_500(app: Flask, people: People) -> None:
    """Arabic-Indic digits pass str.isdigit but are no TOTP code (found by tests/test_fuzz.py)."""
    client = app.test_client()
    token = csrf_token(client)
    client.post("/login", data={"username": "doctor1", "password": PASSWORD, "csrf_token": token})
    for code in ("١٢٣٤٥٦", "\x80\x81", "12345６"):
        answer = post_form(client, "/login/verify", {"code": code}, token_page="/login/verify")
        assert answer.status_code == 200 and "That code is not right" in answer.get_data(
            as_text=True
        )


def test_v2_1_7_a_password_that_is_mostly_the_name_or_the_portals_is_refused() -> None:
    """zxcvbn took the spaces between the words for strength: "Dana Doctor 2026" was accepted
    for Dana Doctor, "CardioPortal2026!" for anyone (an audit of the accounts page)."""
    assert password_problems("Dana Doctor 2026", username="dana.d", personal=("Dana Doctor",))
    assert password_problems("Bob Weakfour 1", username="bobw", personal=("Bob Weakfour",))
    assert password_problems("CardioPortal2026!", username="someone")
    # A passphrase that merely includes the name stays fine.
    assert password_problems("Ada loves violet piano orbit", username="ada2",
                             personal=("Ada Lovelace",)) == []  # fmt: skip
