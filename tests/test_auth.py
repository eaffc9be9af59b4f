"""Logging in and out, passwords (length limits, bcrypt's 72 bytes), sessions, CSRF."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Account, AuditEvent, Patient, Role, utcnow
from portal.passwords import hash_password, password_problems, verify_password
from portal.services import accounts, patients
from portal.services.validation import InvalidInput
from tests.conftest import (
    PASSWORD,
    People,
    client_for,
    csrf_token,
    error_messages,
    login,
    post_form,
)


def _actions(sql: Session) -> list[str]:
    sql.expire_all()
    return list(sql.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_login_success_lands_on_the_role_home_and_is_audited(
    app: Flask, people: People, sql: Session
) -> None:
    homes = {
        Role.ADMIN: "/admin/accounts",
        Role.STAFF: "/patients/",
        Role.DOCTOR: "/worklist",  # doctors land on their worklist
        Role.PATIENT: "/my/reports",
    }
    for role, home in homes.items():
        client = app.test_client()
        response = login(client, people.by_role(role).username)
        assert response.status_code == 302
        assert client.get("/").location == home
        assert client.get(home).status_code == 200
    assert _actions(sql).count("login.success") == 4
    # Input purposes named (WCAG 1.3.5), so password managers fill them.
    page = app.test_client().get("/login").get_data(as_text=True)
    assert 'autocomplete="username"' in page and 'autocomplete="current-password"' in page


def test_wrong_password_and_unknown_user_get_the_same_answer(
    app: Flask, people: People, sql: Session
) -> None:
    client = app.test_client()
    wrong = login(client, "staff1", "not the password at all")
    unknown = login(client, "nobody-here", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Unknown username or wrong password." in response.get_data(as_text=True)
    assert client.get("/patients/").status_code == 302
    failures = sql.scalars(select(AuditEvent).where(AuditEvent.action == "login.failure")).all()
    assert [f.actor_username for f in failures] == ["staff1", None]  # no account: no text kept
    assert [f.details["reason"] for f in failures] == ["bad credentials", "unknown username"]
    assert all(f.ip_address for f in failures)


def test_a_password_typed_as_the_username_is_not_kept_in_the_audit_trail(
    app: Flask, people: People, sql: Session
) -> None:
    """The trail is append-only: a password typed into the username box had been kept there
    for good as `actor_username` and shown on /admin/audit (an access audit, ASVS V7.1.1)."""
    typed = "MyS3cret-Passw0rd!"
    assert "Unknown username" in login(app.test_client(), typed, "anything").get_data(as_text=True)
    sql.expire_all()
    rows = sql.scalars(select(AuditEvent).where(AuditEvent.action == "login.failure")).all()
    assert [(r.actor_username, r.details) for r in rows] == [(None, {"reason": "unknown username"})]
    page = client_for(app, people.admin).get("/admin/audit").get_data(as_text=True)
    assert "login.failure" in page and typed.lower() not in page.lower()


def test_login_renews_the_session_and_logout_ends_it(
    app: Flask, people: People, sql: Session
) -> None:
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker before login"
    login(client, "staff1")
    with client.session_transaction() as session:
        assert "planted" not in session
    response = post_form(client, "/logout", {})
    assert response.status_code == 302 and response.location == "/login"
    assert client.get("/patients/").status_code == 302
    assert "logout" in _actions(sql)


def test_next_parameter_only_redirects_within_the_portal(app: Flask, people: People) -> None:
    for target, landing in [
        ("https://evil.example/phish", "/"),
        ("//evil.example", "/"),
        ("/patients/?q=ada", "/patients/?q=ada"),
    ]:
        client = app.test_client()
        token = csrf_token(client)
        response = client.post(
            "/login",
            data={"username": "staff1", "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert response.location == landing, target


def test_forms_without_csrf_token_are_refused(app: Flask, people: People) -> None:
    client = client_for(app, people.staff)
    response = client.post(
        "/patients/new",
        data={"full_name": "No Token", "date_of_birth": "1970-01-01", "sex": "male"},
    )
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_password_policy() -> None:
    assert password_problems("short") == ["Use at least 12 characters (this one has 5)."]
    assert password_problems("            ") == ["The password cannot be only spaces."]
    assert password_problems("alice-is-my-password", username="alice")
    assert password_problems("x" * 600)[0].startswith("Use at most 512 characters")
    assert password_problems("a long enough passphrase") == []


def test_passwords_beyond_bcrypts_72_bytes_work() -> None:
    emoji = "\N{HEAVY BLACK HEART}\N{VARIATION SELECTOR-16}" * 50  # 100 characters, 300 bytes
    assert len(emoji.encode()) > 72
    stored = hash_password(emoji)
    assert verify_password(emoji, stored)
    assert not verify_password(emoji[:-1], stored)
    # bcrypt alone would treat these as equal: they differ only after byte 72.
    long_a, long_b = "a" * 80 + "1", "a" * 80 + "2"
    assert not verify_password(long_b, hash_password(long_a))


def test_unicode_passwords_match_however_they_were_typed() -> None:
    composed, decomposed = "Caf\u00e9 au lait 2024!", "Cafe\u0301 au lait 2024!"
    assert verify_password(decomposed, hash_password(composed))


def test_emoji_password_through_the_web(app: Flask, people: People, sql: Session) -> None:
    # 100 emoji (400 bytes, beyond bcrypt's 72), varied: one repeated 100 times is refused
    # as guessable by the password policy.
    emoji = "".join(chr(0x1F600 + (7 * i) % 80) for i in range(100))
    client = client_for(app, people.staff)
    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": emoji, "confirm_password": emoji},
    )
    assert response.status_code == 302
    assert login(app.test_client(), "staff1", emoji).status_code == 302
    assert login(app.test_client(), "staff1", PASSWORD).status_code == 200


def test_change_password_errors_are_shown_beside_the_field(app: Flask, people: People) -> None:
    client = client_for(app, people.staff)
    response = post_form(
        client,
        "/account/password",
        {"current_password": "wrong", "password": "short", "confirm_password": "short"},
    )
    assert response.status_code == 200
    assert error_messages(response.get_data(as_text=True)) == [
        "The current password is not correct."
    ]
    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": "short", "confirm_password": "short"},
    )
    assert "Use at least 12 characters (this one has 5)." in error_messages(
        response.get_data(as_text=True)
    )
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": PASSWORD,
            "password": "a good new passphrase",
            "confirm_password": "a different passphrase",
        },
    )
    assert error_messages(response.get_data(as_text=True)) == [
        "The two passwords are not the same."
    ]


def test_temporary_password_must_be_changed_before_anything_else(
    app: Flask, people: People, sql: Session
) -> None:
    accounts.reset_password(
        sql,
        people.doctor,
        new="temporary-pass-123",
        confirmation="temporary-pass-123",
        actor=people.admin,
    )
    sql.commit()
    client = app.test_client()
    assert login(client, "doctor1", "temporary-pass-123").status_code == 302
    assert client.get("/patients/").location == "/account/password"
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": "temporary-pass-123",
            "password": "my own passphrase now",
            "confirm_password": "my own passphrase now",
        },
    )
    assert response.status_code == 302
    assert client.get("/patients/").status_code == 200


def test_reset_or_deactivation_ends_existing_sessions(
    app: Flask, people: People, sql: Session
) -> None:
    client = client_for(app, people.doctor)
    assert client.get("/patients/").status_code == 200
    accounts.set_active(sql, people.doctor, False, actor=people.admin)
    sql.commit()
    assert client.get("/patients/").status_code == 302  # back to login
    assert login(app.test_client(), "doctor1").status_code == 200  # refused
    accounts.set_active(sql, people.doctor, True, actor=people.admin)
    sql.commit()
    client = client_for(app, people.doctor)
    accounts.reset_password(
        sql,
        people.doctor,
        new="another-temp-pass",
        confirmation="another-temp-pass",
        actor=people.admin,
    )
    sql.commit()
    assert client.get("/patients/").status_code == 302


def test_create_account_refuses_bad_usernames_and_duplicates(sql: Session, people: People) -> None:
    for username, message in [
        ("ab", "Use 3-64"),
        ("Bad Name!", "Use 3-64"),
        ("staff1", "already taken"),
        ("STAFF1", "already taken"),
    ]:
        try:
            accounts.create_account(
                sql,
                role=Role.STAFF,
                username=username,
                password=PASSWORD,
                full_name="X",
                actor=people.admin,
            )
        except InvalidInput as problem:
            assert message in problem.errors["username"]
        else:
            raise AssertionError(f"{username!r} was accepted")
    assert sql.scalar(select(Account).where(Account.username == "ab")) is None


def test_a_form_sent_after_the_session_ended_says_nothing_was_saved(
    app: Flask, people: People, sql: Session
) -> None:
    """Logged out in another tab (or idle too long), a registration form sent went to the
    login page without a word, and a signature sent came back after login as "405 This action
    is not available here" from the form's address (an audit)."""
    client = client_for(app, people.staff)
    token = csrf_token(client, "/patients/new")
    other_tab = client_for(app, people.staff)
    assert post_form(other_tab, "/logout", {}).status_code == 302
    with client.session_transaction() as session:
        session.clear()  # this tab's session has ended too (one cookie in a browser)
    before = len(sql.scalars(select(Patient)).all())
    form = {"full_name": "Late Sender", "date_of_birth": "1950-01-01", "sex": "female",
            "csrf_token": token}  # fmt: skip
    sent = client.post(
        "/patients/new", data=form, headers={"Referer": "http://localhost/patients/new"}
    )
    assert sent.status_code == 302
    assert sent.location == "/login?next=/patients/new"  # the page, which answers a GET
    page = client.get(sent.location).get_data(as_text=True)
    assert "so what you sent was not saved" in page
    assert len(sql.scalars(select(Patient)).all()) == before
    # Logging out of a session that had ended already loses nothing: no such message.
    out = client.post(
        "/logout", data={"csrf_token": token}, headers={"Referer": "http://localhost/patients/"}
    )
    assert out.location == "/login"
    assert "not saved" not in client.get("/login").get_data(as_text=True)
    # A Referer from elsewhere is not followed.
    elsewhere = client.post(
        "/patients/new", data=form, headers={"Referer": "https://evil.example/x"}
    )
    assert elsewhere.location == "/login"


def test_a_patient_who_forgot_the_password_is_told_whom_to_call_and_staff_give_a_new_one(
    app: Flask, people: People, sql: Session
) -> None:
    """An audit: the login page offered a patient who forgot the password nothing, a locked
    patient was told to ask an administrator they cannot reach, and staff could not help
    ("This patient already has a portal login"). Staff now give a new temporary password,
    in unmistakable characters, which unlocks the login; the patient chooses their own."""
    import re

    contact = app.config["SETTINGS"].clinic_contact
    login_page = app.test_client().get("/login").get_data(as_text=True)
    assert f"Forgot your password, or locked out? Patients: call {contact}" in login_page

    username = people.patient_account.username
    for _ in range(5):
        login(app.test_client(), username, "not the password at all")
    staff = client_for(app, people.staff)
    page = f"/patients/{people.patient.id}"
    assert "New temporary password" in staff.get(page).get_data(as_text=True)
    issued = post_form(staff, f"{page}/portal-password", {}, token_page=page)
    assert issued.status_code == 200
    temporary = re.search(r'id="temporary-password">([^<]+)<', issued.get_data(as_text=True))
    assert temporary and re.fullmatch(r"([a-hjkmnp-z2-9]{4}-){4}[a-hjkmnp-z2-9]{4}", temporary[1])
    patient = app.test_client()
    assert login(patient, username, temporary[1]).status_code == 302  # unlocked
    assert patient.get("/my/reports").location == "/account/password"  # their own, first
    assert login(app.test_client(), username).status_code == 200  # the old one is gone
    sql.expire_all()
    actions = sql.scalars(select(AuditEvent.action).where(
        AuditEvent.patient_id == people.patient.id))  # fmt: skip
    assert "patient.portal_password_reset" in list(actions)
    # A doctor or the patient cannot.
    doctor = client_for(app, people.doctor)
    assert post_form(doctor, f"{page}/portal-password", {}, token_page=page).status_code in (
        403,
        404,
    )


def test_a_patient_who_lost_the_phone_of_their_two_step_login_is_helped_by_staff(
    app: Flask, people: People, sql: Session
) -> None:
    """A security audit: a patient with the optional two-step login who lost their phone was
    sent to an administrator ("An administrator can reset your two-step login"), whom
    patients cannot reach. The new temporary password staff hand over in person removes it."""
    import re

    from tests.support import two_step

    account = sql.get(Account, people.patient_account.id)
    account.totp_secret, account.mfa_enabled_at = two_step.SECRET, utcnow()
    sql.commit()
    assert _password_only(app, account.username, PASSWORD).location == "/login/verify"
    staff = client_for(app, people.staff)
    page = f"/patients/{people.patient.id}"
    issued = post_form(staff, f"{page}/portal-password", {}, token_page=page)
    temporary = re.search(r'id="temporary-password">([^<]+)<', issued.get_data(as_text=True))
    assert temporary is not None
    answer = _password_only(app, account.username, temporary[1])
    assert answer.status_code == 302 and answer.location != "/login/verify"
    sql.expire_all()
    assert sql.get(Account, account.id).totp_secret is None
    row = sql.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.portal_password_reset")
    ).one()
    assert row.patient_id == people.patient.id
    assert row.details == {"two_step_login_removed": True, "api_tokens_revoked": 0}


def test_a_new_temporary_password_cuts_off_the_apps_acting_as_the_patient(
    app: Flask, people: People, sql: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a compromised login staff expect the patient's apps cut off too: the new
    temporary password ended the web sessions, while an API token acting as the patient kept
    reading their record (an access audit, 2026-12-07). It is revoked, as at deactivation,
    and staff are told so, before and after."""
    import datetime as dt

    from portal import access_words
    from portal.services import api_tokens

    app_token = api_tokens.issue(sql, people.patient_account, client_name="Phone app",
                                 scopes=["reports:read"], days=30, actor=people.admin)  # fmt: skip
    old = api_tokens.issue(sql, people.patient_account, client_name="Old tablet",
                           scopes=["reports:read"], days=30, actor=people.admin)  # fmt: skip
    old.token.expires_at = utcnow() - dt.timedelta(days=1)
    sql.commit()
    bearer = {"Authorization": f"Bearer {app_token.secret}"}
    assert app.test_client().get("/api/v1/reports", headers=bearer).status_code == 200
    staff = client_for(app, people.staff)
    page = f"/patients/{people.patient.id}"
    before = staff.get(page).get_data(as_text=True)
    assert (
        "(1 app acting as them through API tokens: Phone app; a new temporary password cuts "
        "it off)" in before
    )
    issued = post_form(staff, f"{page}/portal-password", {}, token_page=page)
    text = issued.get_data(as_text=True)
    assert issued.status_code == 200 and 'id="temporary-password"' in text
    assert (
        "The patient&#39;s sessions on this portal have ended, and the app acting as them "
        "through an API token (Phone app) is cut off." in text
    )
    assert "Old tablet" not in text  # expired: it no longer worked
    assert app.test_client().get("/api/v1/reports", headers=bearer).status_code == 401
    sql.expire_all()
    assert app_token.token.revoked_at is not None and old.token.revoked_at is not None
    reset = sql.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.portal_password_reset")
    ).one()
    assert reset.details == {"two_step_login_removed": False, "api_tokens_revoked": 1}
    revoked = sql.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.revoke")).all()
    assert {(e.object_id, e.patient_id, e.actor_id) for e in revoked} == {
        (app_token.token.id, people.patient.id, people.staff.id),
        (old.token.id, people.patient.id, people.staff.id),
    }
    assert access_words.what(revoked[0]) == (
        "cut off an app's access to your record (it had acted as you)"
    )
    # Nothing acts as them now: the page no longer says so, and a reset says none was.
    assert "acting as them" not in staff.get(page).get_data(as_text=True)
    monkeypatch.setattr(patients, "PASSWORD_AGAIN_WINDOW", dt.timedelta(0))  # not a double click
    again = post_form(staff, f"{page}/portal-password", {}, token_page=page)
    assert "no app was acting as them" in again.get_data(as_text=True)


def _password_only(app: Flask, username: str, password: str):  # type: ignore[no-untyped-def]
    """The login form's first step alone (no code sent for a second)."""
    client = app.test_client()
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def test_a_patients_password_may_not_be_their_address_or_date_of_birth(
    people: People, sql: Session
) -> None:
    """ "10 Demo Street Springfield" and "14 March 1958 Springfield" were accepted (an audit)."""
    patient = people.patient
    patient.address = "10 Demo Street, Springfield"
    sql.commit()
    personal = accounts._personal(people.patient_account)
    born = patient.date_of_birth
    for weak in ("Springfield Demo Street", "10 Demo Street Springfield",
                 f"{born:%-d %B %Y} Springfield", f"{born:%d/%m/%Y} {born:%d/%m/%Y}"):  # fmt: skip
        assert password_problems(weak, username="cpx", personal=personal), weak
    assert password_problems("violet piano orbit canal", personal=personal) == []
