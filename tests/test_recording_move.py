"""A recording uploaded to the wrong patient moves, with its unsigned read, to the right one
(`portal.services.recording_move`). A working-day audit found no way out: the upload sat on a
doctor's worklist as the wrong patient's AF and, once signed, reached that patient's portal."""

from __future__ import annotations

import html
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AuditEvent, EcgRecording, EcgReport
from portal.services import reports
from tests.conftest import PASSWORD, People, client_for, error_messages, post_form
from tests.support.ecg_files import synthetic
from tests.test_sinus_rate_statement import _read_by_the_portal


def _move(app: Flask, people: People, report: EcgReport, **form: str):  # type: ignore[no-untyped-def]
    staff = client_for(app, people.staff)
    page = f"/jobs/{report.job_id}"
    return post_form(staff, f"{page}/move", form, token_page=page)


def test_staff_move_an_unsigned_recording_to_the_right_patient(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    assert report.patient_id == people.patient.id
    staff_page = client_for(app, people.staff).get(f"/jobs/{report.job_id}").get_data(True)
    assert "Uploaded to the wrong patient?" in staff_page
    moved = _move(app, people, report, mrn=people.other_patient.mrn.lower(),
                  reason="uploaded to the wrong patient")  # fmt: skip
    assert moved.status_code == 302
    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    recording = sql.get(EcgRecording, report.recording_id)
    assert recording.patient_id == report.patient_id == people.other_patient.id
    assert report.assigned_doctor_id == people.other_doctor.doctor_profile.id
    assert all(s.report_id == report.id for s in report.risk_scores)
    # On the right doctor's worklist now, and no longer the first doctor's to open.
    assert client_for(app, people.doctor).get(f"/reports/{report.id}").status_code == 404
    other = client_for(app, people.other_doctor).get("/worklist").get_data(as_text=True)
    assert f"/reports/{report.id}" in other
    rows = {e.action: e for e in sql.scalars(select(AuditEvent))}
    assert rows["recording.move_out"].patient_id == people.patient.id
    assert rows["recording.move_in"].patient_id == people.other_patient.id
    assert rows["recording.move_in"].details["reason"] == "uploaded to the wrong patient"


def test_a_move_is_refused_in_words_and_a_signed_read_does_not_move(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    for form, said in (
        ({"mrn": "CP00000000", "reason": "wrong patient"}, "No patient has the MRN 'CP00000000'."),
        ({"mrn": people.patient.mrn, "reason": "wrong"}, "This recording is this patient's"),
        ({"mrn": people.other_patient.mrn, "reason": ""}, "This field is required."),
    ):
        refused = _move(app, people, report, **form)
        assert refused.status_code == 400
        messages = error_messages(html.unescape(refused.get_data(True)))
        assert any(said in m for m in messages), messages
    read = reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Read.")
    sql.expire_all()
    found = sql.get(EcgReport, report.id)
    reports.sign(sql, found, actor=people.doctor, password=PASSWORD,
                 expected_row_version=found.row_version, read=read)  # fmt: skip
    sql.commit()
    assert "Uploaded to the wrong patient?" not in client_for(app, people.staff).get(
        f"/jobs/{report.job_id}").get_data(True)  # fmt: skip
    refused = _move(app, people, report, mrn=people.other_patient.mrn, reason="wrong patient")
    assert refused.status_code == 400
    messages = error_messages(html.unescape(refused.get_data(True)))
    assert any("a signed report does not move" in m for m in messages), messages
    sql.expire_all()
    assert sql.get(EcgReport, report.id).patient_id == people.patient.id
    # A doctor may not move one.
    doctor = client_for(app, people.doctor)
    page = f"/jobs/{report.job_id}"
    form = {"mrn": people.other_patient.mrn, "reason": "x"}
    assert post_form(doctor, f"{page}/move", form, token_page=page).status_code == 403
