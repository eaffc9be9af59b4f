"""A token acts as its account: the account's owner sees it on their security page and may
revoke it. A security audit: an admin issued a token for a doctor's account, which read
clinical data as that doctor past their second factor, and nothing of the doctor's said so."""

from __future__ import annotations

import re

from flask import Flask

from tests.conftest import People, client_for, post_form
from tests.test_api import Api, issue_on_admin_page


def test_the_owner_sees_and_revokes_a_token_that_acts_as_them(app: Flask, people: People) -> None:
    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.doctor.username, ["patients:read"]))
    assert api.get("/patients").status_code == 200

    doctor = client_for(app, people.doctor)
    page = doctor.get("/account/security").get_data(as_text=True)
    assert "Apps and systems acting as you" in page
    assert people.admin.display_name in page and "patients:read" in page
    revoke = re.search(r'action="(/account/tokens/\d+/revoke)"', page)
    assert revoke
    other = client_for(app, people.other_doctor)
    other_page = other.get("/account/security").get_data(as_text=True)
    assert "None: no app or other system can read or change anything as you." in other_page
    refused = post_form(other, revoke[1], {}, token_page="/account/security")
    assert refused.status_code == 404 and api.get("/patients").status_code == 200

    revoked = post_form(doctor, revoke[1], {}, token_page="/account/security")
    assert revoked.status_code == 302
    assert "no longer acts as you" in doctor.get(revoked.location).get_data(as_text=True)
    assert api.get("/patients").status_code == 401


def test_a_patient_sees_a_token_issued_as_them_and_its_reads_as_the_apps(
    app: Flask, people: People
) -> None:
    """A review: an administrator issued a token for a patient's login and read their
    results with it; the patient's access list said "you opened an ECG report" and nothing
    of the token."""
    import html

    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.patient_account.username, ["reports:read"]))
    assert api.get("/reports").status_code == 200
    patient = client_for(app, people.patient_account)
    page = html.unescape(patient.get("/my/access").get_data(as_text=True))
    assert (
        "<td>Admin1 (administrator)</td><td>gave an app access to your record, acting as you</td>"
    ) in page
    # Its reads are the app's, not "you".
    from portal.access_words import who
    from portal.models import AuditEvent

    read = AuditEvent(actor_role="patient", actor_username=people.patient_account.username,
                      details={"client": "client of cp1", "api_token_id": 7})  # fmt: skip
    assert who(read, {}) == 'an app acting as you ("client of cp1")'
    assert who(AuditEvent(actor_role="patient", details={}), {}) == "you"


def test_a_patient_reads_of_the_apps_acting_as_them_in_their_words(
    app: Flask, people: People
) -> None:
    """A patient-experience audit (2026-12-07): a patient with a read-only token issued by the
    administrator read "These systems hold an API token that reads and writes with your
    account's rights. If you did not agree to one, revoke it and tell the administrator.",
    the codes "fhir:read, patients:read, reports:read" and ISO dates."""
    import html

    from portal.models import ApiToken
    from portal.services import api_tokens

    admin = client_for(app, people.admin)
    scopes = ["fhir:read", "patients:read", "reports:read"]
    issue_on_admin_page(admin, people.patient_account.username, scopes)
    patient = client_for(app, people.patient_account)
    page = " ".join(html.unescape(patient.get("/account/security").get_data(True)).split())
    clinic = app.config["SETTINGS"].clinic_contact
    assert (
        "These apps can read your results with your account's rights. If you did not agree to "
        f"one, revoke it and call the clinic: {clinic}."
    ) in page
    assert (
        "Can read your record through the data exchange; read your details and measurements; "
        "read your ECG reports and their PDFs"
    ) in page
    for staff_words in ("reads and writes", "administrator.", "fhir:read", "reports:read"):
        assert staff_words not in page, staff_words
    assert not re.search(r"\d{4}-\d\d-\d\d", page)
    assert re.search(r"Admin1, \d{1,2} [A-Z][a-z]+ \d{4}", page)
    # A token that may change the record says so.
    writes = ApiToken(scopes=["patients:read", "patients:write"])
    assert api_tokens.any_writes([(writes, "Admin1")])
    assert not api_tokens.any_writes([(ApiToken(scopes=scopes), "Admin1")])
    # Staff keep the trail's words.
    issue_on_admin_page(admin, people.doctor.username, ["patients:read"])
    doctor_page = client_for(app, people.doctor).get("/account/security").get_data(True)
    assert "tell the administrator" in doctor_page and "patients:read" in doctor_page
