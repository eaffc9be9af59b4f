"""Administrators manage accounts through the web; every mistake is answered on the form."""

from __future__ import annotations

import html
import re

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.forms import PHONE_MESSAGE
from portal.models import Account, AuditEvent, Patient, Role
from portal.services import accounts
from portal.services.validation import InvalidInput
from tests.conftest import People, client_for, error_messages, login, post_form

NEW_DOCTOR = {
    "role": "doctor",
    "username": "dr.house",
    "full_name": "Gregory House",
    "specialty": "Diagnostics",
    "registration_number": "GMC-1234567",
    "email": "house@example.org",
    "phone": "+1 555 0142",
    "password": "temporary passphrase 1",
}


def _accounts(sql: Session) -> int:
    return sql.scalar(select(func.count()).select_from(Account)) or 0


def test_admin_creates_a_doctor_who_must_change_the_password(
    app: Flask, people: People, sql: Session
) -> None:
    client = client_for(app, people.admin)
    response = post_form(client, "/admin/accounts/new", NEW_DOCTOR)
    assert response.status_code == 302
    doctor = sql.scalar(select(Account).where(Account.username == "dr.house"))
    assert doctor.role == Role.DOCTOR and doctor.must_change_password
    assert doctor.doctor_profile.full_name == "Gregory House"
    assert doctor.doctor_profile.registration_number == "GMC-1234567"
    assert doctor.created_by_id == people.admin.id
    assert "dr.house" in client.get("/admin/accounts").get_data(as_text=True)
    new_client = app.test_client()
    login(new_client, "dr.house", "temporary passphrase 1")
    assert new_client.get("/patients/").location == "/account/password"
    # The first login goes through: the password page, then two-step enrolment (each page
    # had sent the new doctor to the other, for ever).
    assert new_client.get("/account/password").status_code == 200
    changed = post_form(
        new_client,
        "/account/password",
        {
            "current_password": "temporary passphrase 1",
            "password": "violet piano orbit canal",
            "confirm_password": "violet piano orbit canal",
        },
        token_page="/account/password",
    )
    assert changed.status_code == 302, error_messages(changed.get_data(as_text=True))
    assert new_client.get("/worklist").location == "/account/security"
    assert new_client.get("/account/security").status_code == 200
    with new_client.session_transaction() as session:
        secret = session["mfa_enrol_secret"]
    enrolled = post_form(
        new_client,
        "/account/security",
        {"code": pyotp.TOTP(secret).now(), "action": "enrol"},
        token_page="/account/security",
    )
    assert "Your recovery codes" in enrolled.get_data(as_text=True)
    assert new_client.get("/worklist").status_code == 200


def test_bad_account_forms_save_nothing(app: Flask, people: People, sql: Session) -> None:
    client = client_for(app, people.admin)
    before = _accounts(sql)
    for change, message in [
        ({"username": "staff1"}, "The username 'staff1' is already taken."),
        ({"username": "x"}, "Use 3-64 lower-case letters"),
        ({"password": "short"}, "Use at least 12 characters (this one has 5)."),
        ({"password": "dr.house is my password"}, "must not contain the username"),
        ({"email": "house at example"}, "Invalid email address."),
        ({"role": "patient"}, "Not a valid choice."),
        ({"full_name": ""}, "This field is required."),
        # Invisible and control characters, a name without a letter, a phone of words (an
        # audit created each).
        ({"full_name": "\u200b\u200b"}, "Remove the invisible character (zero width space)."),
        ({"full_name": "Dr. \u202eyeknod\u202c"}, "(right-to-left override)"),
        ({"full_name": "Dr\x00 Null"}, "Remove the invisible character (U+0000)."),
        ({"full_name": "0"}, "A name needs letters."),
        ({"full_name": "\u3164"}, "A name needs letters."),  # a Hangul filler: shown blank
        ({"specialty": "Cardio\x1blogy"}, "Remove the invisible character"),
        ({"phone": "<script>alert(1)</script>"}, PHONE_MESSAGE),
    ]:
        response = post_form(client, "/admin/accounts/new", {**NEW_DOCTOR, **change})
        assert response.status_code == 200
        messages = error_messages(response.get_data(as_text=True))
        assert any(message in m for m in messages), (change, messages)
    assert _accounts(sql) == before


def test_admin_deactivates_and_reactivates_but_not_themselves(
    app: Flask, people: People, sql: Session
) -> None:
    client = client_for(app, people.admin)
    post_form(client, f"/admin/accounts/{people.staff.id}/deactivate", {})
    sql.expire_all()
    assert not sql.get(Account, people.staff.id).is_active
    assert login(app.test_client(), "staff1").status_code == 200  # refused
    post_form(client, f"/admin/accounts/{people.staff.id}/activate", {})
    sql.expire_all()
    assert sql.get(Account, people.staff.id).is_active
    response = post_form(client, f"/admin/accounts/{people.admin.id}/deactivate", {})
    assert "You cannot deactivate your own account." in client.get(response.location).get_data(
        as_text=True
    )
    sql.expire_all()
    assert sql.get(Account, people.admin.id).is_active
    actions = set(sql.scalars(select(AuditEvent.action)))
    assert {"account.deactivate", "account.activate"} <= actions


def test_a_deactivated_doctors_patients_stay_assigned_until_someone_reassigns_them(
    app: Flask, people: People, sql: Session
) -> None:
    """Deactivating a doctor said nothing of their patients, and saving any change to one of
    them (a phone number) silently unassigned the doctor: their ECGs reached no worklist."""
    admin = client_for(app, people.admin)
    response = post_form(admin, f"/admin/accounts/{people.doctor.id}/deactivate", {})
    page = admin.get(response.location).get_data(as_text=True)
    assert "1 patient still assigned to doctor1" in page and "assigns another doctor" in page

    staff = client_for(app, people.staff)
    url = f"/patients/{people.patient.id}/edit"
    form = staff.get(url).get_data(as_text=True)
    doctor_id = people.doctor.doctor_profile.id
    assert re.search(rf'<option selected value="{doctor_id}">Doctor1 \(deactivated', form) or (
        re.search(rf'<option value="{doctor_id}" selected>Doctor1 \(deactivated', form)
    ), form[form.index("assigned_doctor_id") :][:600]
    fields = {
        "full_name": people.patient.full_name, "date_of_birth": "1960-12-10", "sex": "female",
        "phone": "+44 20 7946 0958", "assigned_doctor_id": str(doctor_id),
    }  # fmt: skip
    assert post_form(staff, url, fields).status_code == 302
    sql.expire_all()
    patient = sql.get(Patient, people.patient.id)
    assert patient.phone == "+44 20 7946 0958" and patient.assigned_doctor_id == doctor_id
    # Choosing the deactivated doctor for another patient is still refused.
    other_url = f"/patients/{people.other_patient.id}/edit"
    other = {**fields, "full_name": people.other_patient.full_name, "date_of_birth": "1955-06-19",
             "sex": "male"}  # fmt: skip
    refused = post_form(staff, other_url, other)
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)


def test_doctors_who_share_a_name_are_told_apart_and_a_registration_number_is_one_doctors(
    app: Flask, people: People, sql: Session
) -> None:
    """An admin created a second "Dr. Dana Doctor" with the same number GMC123, and the
    "Assigned doctor" list showed "Dr. Dana Doctor" twice: staff could assign the wrong one,
    who then got the patient's reports (a bad-input audit)."""
    admin = client_for(app, people.admin)
    dana = {**NEW_DOCTOR, "full_name": "Dr. Dana Doctor", "registration_number": "GMC123"}
    assert post_form(admin, "/admin/accounts/new", {**dana, "username": "dana"}).status_code == 302
    twin = {**dana, "username": "dana2", "registration_number": " gmc123"}
    refused = post_form(admin, "/admin/accounts/new", twin)
    assert error_messages(refused.get_data(as_text=True)) == [
        "The registration number GMC123 is already Dr. Dana Doctor's (login dana): one doctor, "
        "one account. Check the number, or deactivate the other account first."
    ]
    assert 'id="registration_number-error"' in refused.get_data(as_text=True)
    for username, number in [("dana2", "GMC456"), ("dana3", "")]:
        other = {**dana, "username": username, "registration_number": number}
        assert post_form(admin, "/admin/accounts/new", other).status_code == 302
    staff = client_for(app, people.staff)
    for page in ("/patients/new", f"/patients/{people.patient.id}/edit"):
        text = staff.get(page).get_data(as_text=True)
        shown = re.findall(r"<option[^>]*>([^<]*)</option>", text[text.index("assigned_doctor") :])
        doctors = [html.unescape(label) for label in shown if "Doctor" in label]
        assert sorted(doctors) == [
            "Doctor1", "Doctor2", "Dr. Dana Doctor (GMC123)", "Dr. Dana Doctor (GMC456)",
            "Dr. Dana Doctor (login dana3)",
        ], (page, doctors)  # fmt: skip
    # The patient list and the patient's page name the assigned one the same way.
    twin_id = sql.scalar(select(Account.id).where(Account.username == "dana3"))
    twin = sql.scalar(select(Account).where(Account.id == twin_id))
    assert twin is not None and twin.doctor_profile is not None
    people.patient.assigned_doctor_id = twin.doctor_profile.id
    sql.commit()
    for page in ("/patients/", f"/patients/{people.patient.id}"):
        text = html.unescape(staff.get(page).get_data(as_text=True))
        assert "Dr. Dana Doctor (login dana3)" in text, page
    # The number is free again once its doctor's account is deactivated (a new account for
    # the same doctor).
    dana_id = sql.scalar(select(Account.id).where(Account.username == "dana"))
    post_form(admin, f"/admin/accounts/{dana_id}/deactivate", {})
    again = {**dana, "username": "dana4"}
    assert post_form(admin, "/admin/accounts/new", again).status_code == 302
    # Reactivating the old account would make two active doctors of GMC123 again.
    reactivated = post_form(admin, f"/admin/accounts/{dana_id}/activate", {})
    sql.expire_all()
    assert sql.scalar(select(Account.is_active).where(Account.id == dana_id)) is False
    said = reactivated.get_data(as_text=True) + admin.get("/admin/accounts").get_data(as_text=True)
    assert "dana's registration number GMC123 is now Dr. Dana Doctor's (login dana4)" in (
        html.unescape(said)
    )


def test_admin_resets_a_password(app: Flask, people: People, sql: Session) -> None:
    client = client_for(app, people.admin)
    url = f"/admin/accounts/{people.doctor.id}/reset-password"
    bad = post_form(client, url, {"password": "new temporary 1", "confirm_password": "other"})
    assert error_messages(bad.get_data(as_text=True)) == ["The two passwords are not the same."]
    good = post_form(
        client, url, {"password": "new temporary 1", "confirm_password": "new temporary 1"}
    )
    assert good.status_code == 302
    assert login(app.test_client(), "doctor1", "new temporary 1").status_code == 302
    assert client.get("/admin/accounts/999999/reset-password").status_code == 404


def test_an_admin_does_not_set_a_patients_password_nor_take_their_login_name(
    app: Flask, people: People, sql: Session
) -> None:
    """A security audit: an administrator reset a patient's portal password, logged in as
    them and read their results, the reads under the patient's own name; and a staff
    account named after a patient's MRN left that patient unable to get a login."""
    client = client_for(app, people.admin)
    patient_login = people.patient_account
    # The accounts page offers no reset for a patient's login (a browser audit: its links led
    # to the refusal below), and says who does it.
    listed = client.get("/admin/accounts").get_data(as_text=True)
    assert f"/admin/accounts/{patient_login.id}/reset-password" not in listed
    assert f"/admin/accounts/{people.doctor.id}/reset-password" in listed
    assert "password and two-step login: staff, in person" in listed
    for url in (f"/admin/accounts/{patient_login.id}/reset-password",):
        asked = post_form(client, url, {"password": "new temporary 1",
                                        "confirm_password": "new temporary 1"})  # fmt: skip
        assert asked.status_code == 302
        said = html.unescape(client.get("/admin/accounts").get_data(as_text=True))
        assert "is a patient's login: staff give the patient a new temporary password" in said
    assert login(app.test_client(), patient_login.username, "new temporary 1").status_code == 200
    assert login(app.test_client(), patient_login.username).status_code == 302  # unchanged
    mfa_reset = post_form(client, f"/admin/accounts/{patient_login.id}/reset-mfa", {},
                          token_page="/admin/accounts")  # fmt: skip
    assert mfa_reset.status_code == 302
    sql.expire_all()
    actions = set(sql.scalars(select(AuditEvent.action)))
    assert not actions & {"account.password_reset", "account.mfa_remove"}
    with pytest.raises(InvalidInput, match="has the form of a patient's login"):
        accounts.create_account(
            sql, role=Role.STAFF, username="CP27565837", password="a long password 1",
            full_name="John Smith", actor=None,
        )  # fmt: skip


def test_oversized_form_is_refused_with_a_message(app: Flask, people: People) -> None:
    client = client_for(app, people.staff)
    response = post_form(client, "/patients/new", {"full_name": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "larger than the portal accepts" in response.get_data(as_text=True)
