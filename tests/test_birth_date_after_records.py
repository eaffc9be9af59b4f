"""A date of birth changed to after some of the patient's clinical inputs or ECGs: saved (a
clinical record is not corrected, nor an EHR's update refused for good), and said (a
bad-input audit, 2026-12-07: a 2001 blood pressure stayed on a patient born 2010, unsaid)."""

from __future__ import annotations

import datetime as dt
import html

from flask import Flask
from sqlalchemy.orm import Session

from portal.models import AnalysisJob, EcgRecording, Patient, RecordingFormat, utcnow
from portal.services import risk_scores
from portal.services.clinical_inputs import ClinicalInputForm, record_clinical_input
from tests.conftest import People, bearer_token, client_for, post_form
from tests.test_api import Api

SAID = (
    "2 clinical inputs (from 2001-05-05) and 1 ECG (recorded 2009-03-01) are dated before "
    "the new date of birth 2010-01-01: the date of birth or those records are wrong; check them"
)


def _records_of_2001_and_2009(sql: Session, people: People, patient: Patient) -> None:
    for day in (dt.datetime(2001, 5, 5, 10), dt.datetime(2002, 6, 1, 10)):
        form = ClinicalInputForm(recorded_at=day, systolic_bp_mmhg=140.0, total_cholesterol=220.0)
        record_clinical_input(sql, patient, form, actor=people.staff, now=utcnow())
    today = ClinicalInputForm(recorded_at=utcnow(), systolic_bp_mmhg=130.0)
    record_clinical_input(sql, patient, today, actor=people.staff, now=utcnow())
    recording = EcgRecording(
        patient_id=patient.id, uploaded_by_id=people.staff.id, sha256="0" * 64,
        original_filename="ecg.csv", file_format=RecordingFormat.CSV, size_bytes=10,
        sampling_rate_hz=500, lead_names=["II"], n_samples=5000, duration_s=10,
        acquired_at=dt.datetime(2009, 3, 1, 12),
    )  # fmt: skip
    sql.add(AnalysisJob(recording=recording, requested_by_id=people.staff.id))
    sql.commit()


def test_the_edit_form_saves_a_later_birth_date_and_says_what_it_leaves_before_it(
    app: Flask, people: People, sql: Session
) -> None:
    _records_of_2001_and_2009(sql, people, people.patient)
    client = client_for(app, people.staff)
    url = f"/patients/{people.patient.id}/edit"
    form = {"full_name": "Ada Lovelace", "date_of_birth": "2010-01-01", "sex": "female",
            "assigned_doctor_id": str(people.doctor.doctor_profile.id)}  # fmt: skip
    saved = post_form(client, url, form, token_page=url)
    assert saved.status_code == 302
    shown = client.get(saved.location)
    page = html.unescape(shown.get_data(as_text=True))
    assert shown.status_code == 200 and "Saved." in page and SAID + "." in page
    sql.expire_all()
    assert sql.get(Patient, people.patient.id).date_of_birth == dt.date(2010, 1, 1)
    # Back to the right date: nothing to say.
    again = post_form(client, url, {**form, "date_of_birth": "1960-12-10"}, token_page=url)
    assert "dated before" not in client.get(again.location).get_data(as_text=True)


def test_the_rest_patch_saves_it_and_says_it_in_warnings(
    app: Flask, people: People, sql: Session
) -> None:
    staff = Api(app, bearer_token(sql, people, people.staff, "patients:read", "patients:write"))
    _records_of_2001_and_2009(sql, people, people.patient)
    url = f"/patients/{people.patient.id}"
    changed = staff.patch(url, json={"date_of_birth": "2010-01-01"})
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["date_of_birth"] == "2010-01-01" and body["warnings"] == [SAID]
    assert staff.patch(url, json={"phone": "+44 20 7946 0958"}).get_json()["warnings"] == []
    back = staff.patch(url, json={"date_of_birth": "1960-12-10"}).get_json()
    assert back["warnings"] == [] and back["date_of_birth"] == "1960-12-10"


def test_risk_scores_leave_out_inputs_measured_before_birth_and_the_patient_page_marks_them(
    app: Flask, people: People, sql: Session
) -> None:
    _records_of_2001_and_2009(sql, people, people.patient)
    people.patient.date_of_birth = dt.date(2010, 1, 1)  # as corrected by the edit form
    sql.commit()
    doctor = client_for(app, people.doctor)
    risk = html.unescape(doctor.get(f"/patients/{people.patient.id}/risk/").get_data(as_text=True))
    assert (
        "Total cholesterol missing (last recorded 2002-06-01, measured before the date of birth "
        "2010-01-01)" in risk
    )
    page = html.unescape(doctor.get(f"/patients/{people.patient.id}").get_data(as_text=True))
    assert page.count("before the date of birth (2010-01-01)") == 2  # not today's entry


def test_a_recent_input_before_a_birth_date_of_last_month_is_not_used(
    app: Flask, people: People, sql: Session
) -> None:
    now = utcnow()
    form = ClinicalInputForm(
        recorded_at=now - dt.timedelta(days=60), total_cholesterol=213.0, hdl=50.0,
        systolic_bp_mmhg=140.0, booleans=dict(smoker=True, diabetic=False, bp_treated=False),
    )  # fmt: skip
    record_clinical_input(sql, people.patient, form, actor=people.staff, now=now)
    people.patient.date_of_birth = (now - dt.timedelta(days=30)).date()
    sql.commit()
    with app.app_context():
        measured = risk_scores.measured_values(sql, people.patient.id, now)
        framingham = risk_scores.compute_scores(people.patient, measured, as_of=now)[0]
    assert framingham.result is None and framingham.sources == {}
    measured_on = f"{now - dt.timedelta(days=60):%Y-%m-%d}"
    born = f"{people.patient.date_of_birth:%Y-%m-%d}"
    said = f"Total cholesterol missing (last recorded {measured_on}, measured before the date "
    assert said + f"of birth {born})" in framingham.not_computed_reason
