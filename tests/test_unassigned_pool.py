"""A patient assigned to no doctor is in the department's pool: every doctor sees their
reports, marked so, until one is assigned. An on-call audit: a VF recording of a patient
registered with "Not assigned" reached no doctor's worklist, and nothing said so. The worklist
also says who signed each signed report and when, and filters by the day of the signature
(a hand-over: what was signed overnight)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from portal.models import EcgReport
from tests.conftest import PASSWORD, People, client_for, post_form
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
