"""A recording uploaded to the wrong patient moves, with its unsigned read, to the right one
(`portal.services.recording_move`). A working-day audit found no way out: the upload sat on a
doctor's worklist as the wrong patient's AF and, once signed, reached that patient's portal."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Account, AuditEvent, EcgRecording, EcgReport
from portal.services import recording_move, reports
from portal.worker import Worker
from tests.conftest import PASSWORD, People, client_for, csrf_token, error_messages, post_form
from tests.support.ecg_files import synthetic, write_edf
from tests.support.races import second_while_first_is_open
from tests.test_sinus_rate_statement import _read_by_the_portal
from tests.test_upload_and_review import _upload


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


def test_a_read_typed_while_staff_moved_the_recording_is_given_back(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A doctor pressing Sign (or Amend) after staff moved the recording to another doctor's
    patient had met a bare 404, their typed read lost (an access/write-path audit,
    2026-12-07): a 409 "Not signed" page saying it was moved to another patient's record,
    naming neither that patient nor their doctor, with the doctor's typing to copy."""
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    doctor = client_for(app, people.doctor)
    page = f"/reports/{report.id}"
    token = csrf_token(doctor, page)  # the doctor opens it, and types
    moved = _move(app, people, report, mrn=people.other_patient.mrn,
                  reason="uploaded to the wrong patient")  # fmt: skip
    assert moved.status_code == 302
    typed = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
             "conclusion": "Sinus rhythm; my own words.", "password": PASSWORD,
             "row_version": str(report.row_version), "csrf_token": token}  # fmt: skip
    for action, more in (("sign", {}), ("amend", {"reason": "My typed reason."})):
        answer = doctor.post(f"{page}/{action}", data=typed | more)
        text = html.unescape(answer.get_data(as_text=True))
        assert answer.status_code == 409, text[:800]
        assert "Not signed: this recording was moved to another patient's record at " in text
        assert "Sinus rhythm; my own words." in text
        assert ("My typed reason." in text) is (action == "amend")
        for secret in (people.other_patient.full_name, people.other_patient.mrn,
                       people.other_doctor.display_name, "wrong patient"):  # fmt: skip
            assert secret not in text
    sql.expire_all()
    assert len(sql.get(EcgReport, report.id).versions) == 1  # type: ignore[union-attr]
    assert doctor.get(page).status_code == 404  # the access rules are unchanged


def test_a_move_sent_twice_at_once_is_told_where_the_first_moved_it_not_a_500(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A double click on "Move the recording" had answered 500 on MariaDB (a StaleDataError on
    `ecg_report`: the second request had loaded the recording before the first's move and read
    its snapshot after the lock) and on SQLite "... has this recording already." (a write-path
    audit, 2026-12-07): the second, after the lock, reads it as committed and says so."""
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    target = people.other_patient
    first = app.extensions["db_sessionmaker"]()
    with app.test_request_context():
        recording_move.move_recording(
            first, first.get(EcgRecording, report.recording_id), target.mrn,
            "uploaded to the wrong patient", actor=first.get(Account, people.staff.id),
        )  # fmt: skip
        first.flush()  # moved, not committed: the second click arrives now

    def second(_own: Session) -> str:
        again = _move(app, people, report, mrn=target.mrn, reason="uploaded to the wrong patient")
        messages = error_messages(html.unescape(again.get_data(as_text=True)))
        return f"{again.status_code} {' '.join(messages)}"

    said, waited = second_while_first_is_open(sql.get_bind(), first, second, wait_s=1.5)
    assert waited and said.startswith("400 "), said
    assert (
        f"This recording was moved to {target.full_name} (MRN {target.mrn}) "
    ) in said and "; nothing more was moved. Check its page before moving it again." in said
    assert "has this recording already" not in said
    sql.expire_all()
    moved = sql.get(EcgReport, report.id)
    assert moved is not None and moved.patient_id == target.id
    assert len(sql.scalars(select(AuditEvent).where(
        AuditEvent.action == "recording.move_in")).all()) == 1  # fmt: skip


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
    assert any("a signed report does not move: the doctor withdraws it as entered in error" in m
               for m in messages), messages  # fmt: skip
    sql.expire_all()
    assert sql.get(EcgReport, report.id).patient_id == people.patient.id
    # A doctor may not move one.
    doctor = client_for(app, people.doctor)
    page = f"/jobs/{report.job_id}"
    form = {"mrn": people.other_patient.mrn, "reason": "x"}
    assert post_form(doctor, f"{page}/move", form, token_page=page).status_code == 403


def test_a_move_waits_for_the_analysis_and_renders_the_pdf_again(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A review of this action: moved while its analysis ran, the recording went to one
    patient and its report, written afterwards, to the other; and a clinician PDF rendered
    before the move was served after it with the first patient's name and MRN."""
    import datetime as dt

    from portal.models import Sex
    from portal.services import patients
    from portal.worker import Worker
    from tests.conftest import pdf_words
    from tests.support.ecg_files import write_csv
    from tests.test_sinus_rate_statement import _upload

    path = write_csv(tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, [(path.read_bytes(), path.name)]).status_code == 302
    job_id = sql.scalar(select(EcgRecording)).jobs[0].id
    page = f"/jobs/{job_id}"
    move_form = {"mrn": people.other_patient.mrn, "reason": "wrong patient"}
    early = post_form(staff, f"{page}/move", move_form, token_page=page)
    assert early.status_code == 400
    assert "still running: move it once it has finished" in html.unescape(early.get_data(True))
    Worker(app).run_pending()
    sql.expire_all()
    report = sql.scalar(select(EcgReport))
    assert report is not None and report.patient_id == people.patient.id

    doctor = client_for(app, people.doctor)
    before = doctor.get(f"/reports/{report.id}/report.pdf")
    assert people.patient.mrn in pdf_words(before.data, tmp_path, "before")
    # The same doctor's second patient, so that the doctor can still open it after the move.
    second = patients.register_patient(
        sql, patients.PatientDetails(full_name="Second Patient", date_of_birth=dt.date(1960, 1, 2),
                                     sex=Sex.MALE,
                                     assigned_doctor_id=people.doctor.doctor_profile.id),
        actor=people.staff, today=dt.date(2026, 12, 6),
    )  # fmt: skip
    sql.commit()
    opened_at = report.row_version
    assert _move(app, people, report, mrn=second.mrn, reason="wrong").status_code == 302
    after = doctor.get(f"/reports/{report.id}/report.pdf")
    said = pdf_words(after.data, tmp_path, "after")
    assert second.mrn in said and people.patient.mrn not in said

    # A doctor signing it from the page opened before the move is told so, not that another
    # doctor signed, and the read stays in the sign form.
    url = f"/reports/{report.id}"
    form = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "conclusion": "Mine.",
            "password": PASSWORD, "row_version": str(opened_at)}  # fmt: skip
    late = post_form(doctor, f"{url}/sign", form, token_page=url)
    assert late.status_code == 409
    text = " ".join(html.unescape(late.get_data(True)).split())
    assert "nobody has signed it: it is now Second Patient's" in text
    assert "Your read is kept in the sign form below." in text
    assert f'action="/reports/{report.id}/sign' in text and "Mine.</textarea>" in text


def _edf_of_1995(
    app: Flask, people: People, sql: Session, tmp_path: Path, born_first: int = 1958
) -> EcgReport:
    """An EDF dated 1995-06-01 10:00, read for a patient born in `born_first` (the other
    patient born in the other of 1958 and 2001)."""
    people.patient.date_of_birth = dt.date(1958, 4, 1)
    people.other_patient.date_of_birth = dt.date(2001, 2, 3)
    if born_first != 1958:
        people.patient.date_of_birth, people.other_patient.date_of_birth = (
            people.other_patient.date_of_birth,
            people.patient.date_of_birth,
        )
    sql.commit()
    edf = write_edf(tmp_path / "r.edf", synthetic(20, 250), start=dt.datetime(1995, 6, 1, 10))
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, [(edf.read_bytes(), "r.edf")]).status_code == 302
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    assert report is not None
    assert (report.recording.acquired_at is None) == (born_first != 1958)
    return report


def test_a_recording_time_before_the_new_patients_birth_is_dropped_by_a_move(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A review of the move: moved to a patient born 2001-02-03, an EDF dated 1995-06-01 kept
    "Recorded 1995-06-01 10:00 UTC" on its page, PDF and FHIR resource."""
    report = _edf_of_1995(app, people, sql, tmp_path)
    moved = _move(app, people, report, mrn=people.other_patient.mrn, reason="wrong patient")
    assert moved.status_code == 302
    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    recording = sql.get(EcgRecording, report.recording_id)
    assert recording.acquired_at is None and report.report_date == recording.created_at
    page = client_for(app, people.other_doctor).get(f"/reports/{report.id}").get_data(True)
    assert " · uploaded " in page and "1995" not in page
    move_in = sql.scalar(select(AuditEvent).where(AuditEvent.action == "recording.move_in"))
    assert move_in.details["recording_time_dropped"].startswith("1995-06-01")


def test_a_date_of_birth_after_the_recording_time_is_said_on_the_review_page(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A date of birth corrected after the upload leaves the recording time (a signed report
    is what was issued) and the review page says the two disagree."""
    report = _edf_of_1995(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    assert 'id="recorded-before-birth"' not in doctor.get(f"/reports/{report.id}").get_data(True)
    people.patient.date_of_birth = dt.date(2001, 2, 3)
    sql.commit()
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(True))
    assert 'id="recorded-before-birth"' in page
    assert "before this patient's date of birth (2001-02-03)" in page


def test_a_recording_time_dropped_for_a_younger_patient_comes_back_on_the_move_to_the_right_one(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A review of the move: an EDF dated 1995-06-01 10:00 uploaded to a patient born 2001
    (undated: no recording time of theirs) and moved to the one born 1958 stayed "uploaded"."""
    report = _edf_of_1995(app, people, sql, tmp_path, born_first=2001)
    moved = _move(app, people, report, mrn=people.other_patient.mrn, reason="wrong patient")
    assert moved.status_code == 302
    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    recording = sql.get(EcgRecording, report.recording_id)
    assert recording.acquired_at == dt.datetime(1995, 6, 1, 10)
    assert report.report_date == recording.acquired_at
    page = client_for(app, people.other_doctor).get(f"/reports/{report.id}").get_data(True)
    assert "1995-06-01" in page and " · uploaded " not in page
    move_in = sql.scalar(select(AuditEvent).where(AuditEvent.action == "recording.move_in"))
    assert move_in.details["recording_time_restored"] == "1995-06-01T10:00:00"


def test_a_recording_time_dropped_by_a_move_comes_back_on_a_move_back(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Moved by mistake to a patient born after it was recorded and back: its time returns."""
    report = _edf_of_1995(app, people, sql, tmp_path)
    kept = report.recording.acquired_at
    assert _move(app, people, report, mrn=people.other_patient.mrn, reason="x").status_code == 302
    assert _move(app, people, report, mrn=people.patient.mrn, reason="back").status_code == 302
    sql.expire_all()
    assert sql.get(EcgRecording, report.recording_id).acquired_at == kept


def test_rows_of_a_report_moved_to_another_patient_stay_off_the_first_patients_access_list(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A patient-experience audit (2026-12-07): uploaded to the wrong patient, opened by the
    doctor, then moved before signing, the first patient's /my/access still listed "Dr. Dana
    Doctor (doctor) opened an ECG report" and "the computer read an ECG" of what is now
    another patient's unsigned report (its rows before the move stay filed under them). The
    upload and the move are theirs to read."""
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    assert client_for(app, people.doctor).get(f"/reports/{report.id}").status_code == 200
    moved = _move(app, people, report, mrn=people.other_patient.mrn,
                  reason="uploaded to the wrong patient")  # fmt: skip
    assert moved.status_code == 302
    patient = client_for(app, people.patient_account)
    access = html.unescape(patient.get("/my/access").get_data(True))
    assert "added a heart tracing (ECG)" in access
    assert "moved a heart tracing (ECG) added to your record by mistake" in access
    assert "opened an ECG report" not in access
    assert "the computer read an ECG" not in access
