"""A patient assigned to no doctor is in the department's pool: every doctor sees their
reports, marked so, until one is assigned. An on-call audit: a VF recording of a patient
registered with "Not assigned" reached no doctor's worklist, and nothing said so. The worklist
also says who signed each signed report and when, and filters by the day of the signature
(a hand-over: what was signed overnight)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from portal.models import Account, EcgReport, Patient, ReportStatus, Role
from portal.services import patients
from tests.conftest import PASSWORD, People, client_for, csrf_token, make_account, post_form
from tests.test_upload_and_review import _analysed_report


def _unassigned_report(app: Flask, people: People, sql: Session, tmp_path: Path) -> EcgReport:
    report = _analysed_report(app, people, sql, tmp_path)
    people.patient.assigned_doctor_id = None
    sql.commit()
    return report


def test_every_doctor_sees_an_unassigned_patients_report_marked_so(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _unassigned_report(app, people, sql, tmp_path)
    for account in (people.doctor, people.other_doctor):
        doctor = client_for(app, account)
        worklist = doctor.get("/worklist").get_data(as_text=True)
        assert f"/reports/{report.id}" in worklist and "no assigned doctor" in worklist
        assert doctor.get(f"/reports/{report.id}").status_code == 200
        page = doctor.get(f"/patients/{people.patient.id}").get_data(as_text=True)
        assert "every doctor sees this patient" in page
    staff_list = client_for(app, people.staff).get("/worklist").get_data(as_text=True)
    assert "no assigned doctor" in staff_list
    # Once assigned, the other doctor no longer sees it; the other patient stays private.
    people.patient.assigned_doctor_id = people.doctor.doctor_profile.id
    sql.commit()
    other = client_for(app, people.other_doctor)
    assert other.get(f"/reports/{report.id}").status_code == 404
    assert f"/reports/{report.id}" not in other.get("/worklist").get_data(as_text=True)
    assert client_for(app, people.doctor).get(
        f"/patients/{people.other_patient.id}"
    ).status_code in (403, 404)


def test_the_worklist_says_who_signed_and_filters_by_the_signature_day(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    signed = post_form(doctor, f"/reports/{report.id}/sign",
                       {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
                        "conclusion": "Normal.", "next_steps": ["ROUTINE"], "password": PASSWORD,
                        "row_version": str(report.row_version)},
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302, signed.get_data(as_text=True)[:300]
    today = dt.date.today()
    shown = doctor.get(f"/worklist?status=all&dates=signed&from={today - dt.timedelta(days=1)}")
    text = shown.get_data(as_text=True)
    assert f"/reports/{report.id}" in text
    assert f"by {people.doctor.display_name}" in text and "signed " in text
    later = doctor.get(f"/worklist?status=all&dates=signed&from={today + dt.timedelta(days=2)}")
    assert f"/reports/{report.id}" not in later.get_data(as_text=True)


def _assign(sql: Session, people: People, patient: Patient, doctor: Account) -> None:
    """Staff assign the patient to `doctor`, as the edit page does (audited)."""
    now = {f.name: getattr(patient, f.name) for f in dataclasses.fields(patients.PatientDetails)}
    details = patients.PatientDetails(**now | {"assigned_doctor_id": doctor.doctor_profile.id})
    patients.update_patient(sql, patient, details, actor=people.staff, today=dt.date.today())
    sql.commit()


def test_a_read_typed_while_staff_assigned_the_patient_elsewhere_is_given_back(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A doctor reviewing a pooled patient's report pressed Sign after staff had assigned the
    patient to another doctor: a bare 404, and the typed read was gone (a review audit,
    2026-12-07). Now a page says why and gives their typing back, and nothing of the report;
    a doctor who never had it open still gets the plain 404."""
    report = _unassigned_report(app, people, sql, tmp_path)
    machine_conclusion = report.versions[0].conclusion
    doctor2 = client_for(app, people.other_doctor)
    page = f"/reports/{report.id}"
    token = csrf_token(doctor2, page)  # doctor2 opens it from the pool, and types
    _assign(sql, people, people.patient, people.doctor)
    typed = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
             "conclusion": "Sinus rhythm, <narrow> QRS; my own words.",
             "patient_comment": "Your heart rhythm is normal.", "password": PASSWORD,
             "row_version": str(report.row_version), "csrf_token": token}  # fmt: skip
    for action, more in (("sign", {}), ("amend", {"reason": "My typed reason."})):
        answer = doctor2.post(f"/reports/{report.id}/{action}", data=typed | more)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 409, text[:800]
        assert "Not signed: Ada Lovelace was assigned to Doctor1 at " in text
        assert "while you were reviewing" in text and "Ask Doctor1 to sign it" in text
        assert "Sinus rhythm, &lt;narrow&gt; QRS; my own words." in text
        assert "Your heart rhythm is normal." in text
        assert ("My typed reason." in text) is (action == "amend")
        assert machine_conclusion and machine_conclusion not in text
        assert people.patient.mrn not in text and "ecg.json" not in text
    sql.expire_all()
    assert report.status is ReportStatus.PRELIMINARY and len(report.versions) == 1
    assert doctor2.get(page).status_code == 404  # the access rules are unchanged

    third = make_account(sql, Role.DOCTOR, "doctor3")
    sql.commit()
    doctor3 = client_for(app, third)
    never = post_form(doctor3, f"/reports/{report.id}/sign", typed, token_page="/worklist")
    assert never.status_code == 404
    assert "Ada Lovelace" not in never.get_data(as_text=True)
