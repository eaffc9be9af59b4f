"""Forms posted twice at once (a double click, two tabs): the second waits for the first, or
meets what it wrote, and is told so in words; never a 500, never a second thing made that
nobody sees (a bad-input audit, 2026-12-07). Each race is made deterministic: the first
request has written and not committed when the second is posted (`races`)."""

from __future__ import annotations

import html

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Account, ApiToken, AuditEvent, Patient, Role
from portal.passwords import verify_password
from portal.services import accounts, api_tokens, patients
from tests.conftest import People, client_for, csrf_token, error_messages
from tests.support.races import second_while_first_is_open

NEW_STAFF = {
    "role": "staff",
    "username": "racer1",
    "full_name": "Rae Racer",
    "password": "temporary passphrase 1",
}


def test_create_account_posted_twice_at_once_says_the_username_was_taken_a_moment_ago(
    app: Flask, people: People, sql: Session
) -> None:
    """The second insert had met the username's unique key: a 500 (IntegrityError), on
    SQLite and MariaDB."""
    admin = client_for(app, people.admin)
    token = csrf_token(admin, "/admin/accounts/new")
    first = Session(sql.get_bind())
    with app.test_request_context():
        accounts.create_account(
            first,
            role=Role.STAFF,
            username="racer1",
            password=NEW_STAFF["password"],
            full_name="Rae Racer",
            actor=first.get(Account, people.admin.id),
        )  # fmt: skip  (flushed, not committed: the first click is mid-way)

    def second_click(_: Session) -> str:
        answer = admin.post("/admin/accounts/new", data={**NEW_STAFF, "csrf_token": token})
        return f"{answer.status_code} " + " ".join(error_messages(answer.get_data(True)))

    said, _ = second_while_first_is_open(sql.get_bind(), first, second_click)
    assert said == (
        "200 The username 'racer1' is already taken (created a moment ago, if you clicked twice)."
    )
    made = select(func.count()).select_from(Account).where(Account.username == "racer1")
    assert sql.scalar(made) == 1


def test_a_new_temporary_password_sent_twice_issues_one_and_the_second_says_so(
    app: Flask, people: People, sql: Session
) -> None:
    """Sent twice 0-100 ms apart (a double click), both had issued a password and shown it,
    and only the last committed worked: the one the browser showed could be refused."""
    page = f"/patients/{people.patient.id}"
    staff = client_for(app, people.staff)
    token = csrf_token(staff, page)
    first = Session(sql.get_bind())
    with app.test_request_context():
        handed = patients.new_portal_password(
            first, first.get(Patient, people.patient.id), actor=first.get(Account, people.staff.id)
        )  # written, not committed: the first click is mid-way
        first.flush()

    def second_click(_: Session) -> str:
        answer = staff.post(f"{page}/portal-password", data={"csrf_token": token})
        return f"{answer.status_code} {answer.location}"

    said, _ = second_while_first_is_open(sql.get_bind(), first, second_click)
    assert said == f"302 {page}"
    shown = html.unescape(staff.get(page).get_data(True))
    assert (
        "A temporary password was issued a moment ago (if you clicked twice): use the one shown "
        "in the other window, or issue a new one again after 10 seconds." in shown
    )
    sql.expire_all()
    account = sql.get(Account, people.patient_account.id)
    assert verify_password(handed.temporary_password, account.password_hash)
    issued = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "patient.portal_password_reset"
    )  # fmt: skip
    assert sql.scalar(issued) == 1


def test_issue_token_posted_twice_at_once_issues_one_and_the_second_says_so(
    app: Flask, people: People, sql: Session
) -> None:
    """Both had issued a live token with the same client name, the browser showing one
    secret: a live API token nobody saw."""
    admin = client_for(app, people.admin)
    token = csrf_token(admin, "/admin/tokens")
    form = {"client_name": "Lab system", "username": people.staff.username,
            "scopes": ["patients:read"], "days": "30"}  # fmt: skip
    first = Session(sql.get_bind())
    with app.test_request_context():
        api_tokens.issue_unless_just_issued(
            first,
            first.get(Account, people.staff.id),
            client_name="Lab system",
            scopes=["patients:read"],
            days=30,
            actor=first.get(Account, people.admin.id),
        )  # fmt: skip  (flushed, not committed: the first click is mid-way)

    def second_click(_: Session) -> str:
        answer = admin.post("/admin/tokens", data={**form, "csrf_token": token})
        shown = answer.get_data(True)
        return f"{answer.status_code} {'cp_' in shown} " + " ".join(error_messages(shown))

    said, _ = second_while_first_is_open(sql.get_bind(), first, second_click)
    assert said == (
        "200 False A token for Lab system acting as staff1 was issued a moment ago (if you "
        "clicked twice): copy its secret from the other window; if no window shows it, revoke "
        "it below and issue a new one."
    )
    live = select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))
    assert sql.scalar(live) == 1
