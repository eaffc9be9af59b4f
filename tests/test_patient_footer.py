"""The portal's footer in the reader's words: a patient (and the login page, which patients
open) reads the patient summary's, staff the clinicians'."""

from __future__ import annotations

from flask import Flask

from tests.conftest import People, client_for

STAFF_FOOTER = "for clinical decision support; every machine read is reviewed by a doctor."
PATIENT_FOOTER = "is checked and signed by your doctor."


def _footer(page: str) -> str:
    return page[page.index("<footer>") : page.index("</footer>")]


def test_patients_pages_end_in_their_own_words(app: Flask, people: People) -> None:
    """An audit of the patient's side: the login page, /my/reports, /my/access and
    /account/security ended with the staff footer "CardioPortal · for clinical decision
    support; every machine read is reviewed by a doctor."."""
    login = _footer(app.test_client().get("/login").get_data(as_text=True))
    assert PATIENT_FOOTER in login and STAFF_FOOTER not in login
    patient = client_for(app, people.patient_account)
    for path in ("/my/reports", "/my/access", "/account/security"):
        response = patient.get(path)
        assert response.status_code == 200, path
        footer = _footer(response.get_data(as_text=True))
        assert PATIENT_FOOTER in footer and STAFF_FOOTER not in footer, (path, footer)
    doctor = _footer(client_for(app, people.doctor).get("/worklist").get_data(as_text=True))
    assert STAFF_FOOTER in doctor
