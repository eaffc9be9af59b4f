"""API tokens: an admin issues one to a named client (shown once, only its hash stored),
with scopes and an expiry; revoked, expired or an inactive account's tokens do not work."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.app import create_app
from portal.models import ApiToken, AuditEvent, utcnow
from portal.services import api_tokens
from tests.conftest import People, client_for, make_settings, post_form


def test_an_admin_issues_a_token_shown_once_and_revokes_it(
    app: Flask, people: People, sql: Session
) -> None:
    admin = client_for(app, people.admin)
    form = {"client_name": "EHR production", "username": "doctor1",
            "scopes": ["reports:read", "fhir:read"], "days": "30"}  # fmt: skip
    page = post_form(admin, "/admin/tokens", form, token_page="/admin/tokens")
    text = page.get_data(as_text=True)
    secret = re.search(r'<p class="mono">(cp_[A-Za-z0-9_-]+)</p>', text)
    assert page.status_code == 200 and secret, text[:2000]
    stored = sql.scalar(select(ApiToken))
    assert (
        stored is not None
        and stored.token_sha256 == hashlib.sha256(secret.group(1).encode()).hexdigest()
    )
    assert secret.group(1) not in admin.get("/admin/tokens").get_data(as_text=True)  # once
    assert stored.scopes == ["fhir:read", "reports:read"] and stored.account_id == people.doctor.id
    assert api_tokens.authenticate(sql, secret.group(1)) is not None

    revoked = post_form(admin, f"/admin/tokens/{stored.id}/revoke", {}, token_page="/admin/tokens")
    assert revoked.status_code == 302
    sql.expire_all()
    assert api_tokens.authenticate(sql, secret.group(1)) is None
    actions = sql.scalars(select(AuditEvent.action).where(AuditEvent.action.like("api_token.%")))
    assert list(actions) == ["api_token.issue", "api_token.revoke"]


def test_bad_requests_for_tokens_are_refused_in_words(app: Flask, people: People) -> None:
    admin = client_for(app, people.admin)
    page = post_form(admin, "/admin/tokens", {"client_name": "X", "username": "nobody",
                                               "scopes": ["reports:read"], "days": "30"},
                     token_page="/admin/tokens")  # fmt: skip
    assert "No account &#39;nobody&#39;." in page.get_data(as_text=True)
    too_long = post_form(admin, "/admin/tokens", {"client_name": "X", "username": "doctor1",
                                                   "scopes": ["reports:read"], "days": "5000"},
                         token_page="/admin/tokens")  # fmt: skip
    assert "between 1 and 366" in too_long.get_data(as_text=True).lower()


def test_a_client_name_with_invisible_or_control_characters_is_refused(
    app: Flask, people: People, sql: Session
) -> None:
    """Since an input audit: "EHR\u202etcudorp" was issued and shown reversed ("EHR
    production") on the doctor's page of tokens acting as them; a bell character went
    through too. The form now says which character to remove, and issues nothing."""
    admin = client_for(app, people.admin)
    for name, said in (
        ("EHR\u202etcudorp", "Remove the invisible character (right-to-left override)."),
        ("x\x07bell", "Remove the invisible character (U+0007)."),
    ):
        form = {"client_name": name, "username": "doctor1", "scopes": ["reports:read"],
                "days": "30"}  # fmt: skip
        page = post_form(admin, "/admin/tokens", form, token_page="/admin/tokens")
        assert said in page.get_data(as_text=True), name
    assert sql.scalar(select(ApiToken)) is None


def test_expired_tokens_and_tokens_of_deactivated_accounts_do_not_work(
    sql: Session, people: People
) -> None:
    issued = api_tokens.issue(sql, people.doctor, client_name="EHR", scopes=["reports:read"],
                              days=1, actor=people.admin)  # fmt: skip
    sql.commit()
    assert api_tokens.authenticate(sql, issued.secret) is not None
    assert api_tokens.authenticate(sql, issued.secret + "x") is None
    assert api_tokens.authenticate(sql, "not-a-token") is None
    issued.token.expires_at = utcnow() - dt.timedelta(seconds=1)
    assert api_tokens.authenticate(sql, issued.secret) is None
    issued.token.expires_at = utcnow() + dt.timedelta(days=1)
    people.doctor.is_active = False
    assert api_tokens.authenticate(sql, issued.secret) is None


def test_machines_need_a_bearer_token_not_the_browsers_cookie(app: Flask, people: People) -> None:
    """Under /api/ and /fhir/ a session cookie is no credential (a page cannot make the
    browser call the API for its user); the answer is the API's JSON, never a login page."""
    browser = client_for(app, people.staff)
    for path in ("/api/v1/patients", "/fhir/r4/Patient"):
        answer = browser.get(path)
        assert answer.status_code == 401, path
        assert "text/html" not in answer.content_type


def test_deactivating_an_account_revokes_its_tokens_for_good(
    app: Flask, people: People, sql: Session
) -> None:
    """Reactivating a doctor who had left brought their old EHR token back to life, and while
    they were away the tokens page listed it as "active" (a records audit). A patient's login
    deactivated with their record came back with a click on the accounts page, the record
    still closed. Now deactivation revokes the tokens, and a closed patient's login waits."""
    doctor_token = api_tokens.issue(sql, people.doctor, client_name="EHR", days=30,
                                    scopes=["reports:read"], actor=people.admin)  # fmt: skip
    patient_token = api_tokens.issue(
        sql, people.patient_account, client_name="Phone app", days=30, scopes=["reports:read"],
        actor=people.admin,
    )  # fmt: skip
    sql.commit()
    admin = client_for(app, people.admin)
    deactivate = f"/admin/accounts/{people.doctor.id}/deactivate"
    assert post_form(admin, deactivate, {}, token_page="/admin/accounts").status_code == 302
    assert post_form(admin, f"/admin/accounts/{people.doctor.id}/activate", {},
                     token_page="/admin/accounts").status_code == 302  # fmt: skip
    sql.expire_all()
    assert people.doctor.is_active
    assert api_tokens.authenticate(sql, doctor_token.secret) is None
    assert doctor_token.token.revoked_at is not None

    staff = client_for(app, people.staff)
    assert post_form(staff, f"/patients/{people.patient.id}/deactivate", {}).status_code == 302
    sql.expire_all()
    assert patient_token.token.revoked_at is not None
    activate = post_form(admin, f"/admin/accounts/{people.patient_account.id}/activate", {},
                         token_page="/admin/accounts")  # fmt: skip
    page = admin.get(activate.location).get_data(as_text=True)
    assert "portal login of a deactivated patient: staff must reactivate the patient" in page
    sql.expire_all()
    assert not people.patient_account.is_active
    assert api_tokens.authenticate(sql, patient_token.secret) is None
    revocations = sql.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.revoke"))
    assert {e.object_id for e in revocations} == {doctor_token.token.id, patient_token.token.id}


def test_a_refused_token_is_told_why_as_rfc_6750_says(
    app: Flask, people: People, sql: Session
) -> None:
    """Expired and revoked tokens were answered as a mistyped one, "A valid API token is
    required", with no error code: an operator could not tell expiry from a typo (an
    integrator's audit)."""
    issued = api_tokens.issue(sql, people.doctor, client_name="EHR", scopes=["reports:read"],
                              days=1, actor=people.admin)  # fmt: skip
    issued.token.expires_at = utcnow() - dt.timedelta(days=1)
    sql.commit()
    client = app.test_client()

    def refused(secret: str | None) -> tuple[str, str]:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        answer = client.get("/api/v1/reports", headers=headers)
        assert answer.status_code == 401
        return answer.get_json()["error"]["message"], answer.headers["WWW-Authenticate"]

    message, challenge = refused(issued.secret)
    assert message.startswith("The API token expired on ") and 'error="invalid_token"' in challenge
    assert "expired" in challenge
    issued.token.expires_at = utcnow() + dt.timedelta(days=1)
    issued.token.revoked_at = utcnow()
    sql.commit()
    assert refused(issued.secret)[0].startswith("The API token was revoked")
    assert "not known" in refused("cp_" + "x" * 40)[0]
    message, challenge = refused(None)  # no credentials: no error code (RFC 6750 3.1)
    assert message == "A valid API token is required (Bearer)." and "error=" not in challenge
    fhir = client.get("/fhir/r4/Patient", headers={"Authorization": f"Bearer {issued.secret}"})
    assert "revoked" in fhir.get_json()["issue"][0]["diagnostics"]


@pytest.fixture
def auckland_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    settings = make_settings(database_url, tmp_path)
    application = create_app(
        dataclasses.replace(settings, time_zone="Pacific/Auckland"), TESTING=True
    )
    yield application
    application.extensions["db_engine"].dispose()


def test_an_expired_tokens_refusal_gives_the_expiry_as_the_admin_page_does(
    auckland_app: Flask, people: People, sql: Session
) -> None:
    """A time-zone audit (Auckland): a token that expired at 20:00 UTC was refused as "expired
    on" UTC's date, the day before /admin/tokens' "09:00 NZDT ... expired". The header's
    error_description stays within RFC 6750's characters."""
    issued = api_tokens.issue(sql, people.doctor, client_name="EHR", scopes=["reports:read"],
                              days=1, actor=people.admin)  # fmt: skip
    issued.token.expires_at = dt.datetime(2026, 12, 1, 20, 0)
    sql.commit()
    answer = auckland_app.test_client().get(
        "/api/v1/reports", headers={"Authorization": f"Bearer {issued.secret}"}
    )
    expiry = "2026-12-02 09:00 NZDT"  # +13:00 in the southern summer
    assert answer.get_json()["error"]["message"] == (
        f"The API token expired on {expiry}: ask an administrator for a new one."
    )
    description = re.search(r'error_description="([^"]*)"', answer.headers["WWW-Authenticate"])
    assert description and expiry in description.group(1)
    assert re.fullmatch(r"[\x20\x21\x23-\x5B\x5D-\x7E]*", description.group(1))
    page = client_for(auckland_app, people.admin).get("/admin/tokens").get_data(as_text=True)
    assert f"<td>{expiry}</td>" in page
