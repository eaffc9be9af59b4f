"""Every read of patient data and every refused access writes an audit row: the patient edit
form, the patient list and search, ECG waveforms (once per report, account and minute), the
worklist, the job page, and 403 / 404-not-yours answers."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import AnalysisJob, AuditEvent, EcgReport
from portal.worker import Worker
from tests.conftest import People, bearer_token, client_for, post_form
from tests.support.ecg_files import synthetic, write_csv


def _events(sql: Session, action: str) -> list[AuditEvent]:
    sql.expire_all()
    return list(
        sql.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def _analysed_report(app: Flask, people: People, sql: Session, tmp_path: Path) -> EcgReport:
    staff = client_for(app, people.staff)
    csv = write_csv(tmp_path / "ecg.csv", synthetic(30, 250)).read_bytes()
    response = post_form(
        staff,
        f"/patients/{people.patient.id}/recordings/new",
        {"files": [(io.BytesIO(csv), "ecg.csv")]},
        token_page=f"/patients/{people.patient.id}/recordings/new",
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    assert report is not None
    return report


def test_patient_edit_form_list_and_search_are_audited(
    app: Flask, people: People, sql: Session
) -> None:
    staff = client_for(app, people.staff)
    assert staff.get(f"/patients/{people.patient.id}/edit").status_code == 200
    [edit_form] = _events(sql, "patient.edit_form")
    assert edit_form.actor_id == people.staff.id and edit_form.patient_id == people.patient.id

    assert staff.get("/patients/").status_code == 200
    [listed] = _events(sql, "patient.list")
    assert listed.details is not None
    assert set(listed.details["patient_ids"]) == {people.patient.id, people.other_patient.id}

    assert staff.get("/patients/", query_string={"q": "Lovelace"}).status_code == 200
    [search] = _events(sql, "patient.search")
    assert search.details is not None
    assert search.details["q"] == "Lovelace" and search.details["patient_ids"] == [
        people.patient.id
    ]
    assert search.ip_address == "127.0.0.1"


def test_worklist_waveforms_and_job_page_are_audited(
    app: Flask, people: People, sql: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)

    assert doctor.get("/worklist").status_code == 200
    [worklist] = _events(sql, "worklist.view")
    assert worklist.actor_id == people.doctor.id and worklist.details is not None
    assert worklist.details["report_ids"] == [report.id]
    assert worklist.details["patient_ids"] == [people.patient.id]

    # The viewer asks for the overview and many windows: one row per report and minute.
    for query in ({"overview": "1"}, {"start_s": "0"}, {"start_s": "10"}):
        assert doctor.get(f"/reports/{report.id}/ecg.json", query_string=query).status_code == 200
    [waveform] = _events(sql, "report.waveform")
    assert waveform.patient_id == people.patient.id and waveform.object_id == report.id
    import portal.review.routes

    monkeypatch.setattr(portal.review.routes, "WAVEFORM_AUDIT_WINDOW", dt.timedelta(0))
    assert doctor.get(f"/reports/{report.id}/ecg.json").status_code == 200
    assert len(_events(sql, "report.waveform")) == 2  # a minute later: a new row

    job_id = report.job_id
    assert doctor.get(f"/jobs/{job_id}").status_code == 200
    [job_view] = _events(sql, "job.view")
    assert job_view.patient_id == people.patient.id and job_view.object_id == job_id
    assert doctor.get(f"/jobs/{job_id}/status.json").status_code == 200
    assert len(_events(sql, "job.view")) == 1  # the polled status is not audited


def _refused(client: FlaskClient, url: str, status: int) -> None:
    assert client.get(url).status_code == status, url


def test_refused_accesses_are_audited(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    job = sql.scalar(select(AnalysisJob))
    assert job is not None
    other_doctor = client_for(app, people.other_doctor)
    _refused(other_doctor, f"/patients/{people.patient.id}", 404)  # not theirs
    _refused(other_doctor, f"/reports/{report.id}/ecg.json", 404)
    _refused(other_doctor, f"/jobs/{job.id}", 404)
    _refused(other_doctor, f"/jobs/{job.id + 999}", 404)  # no such job
    _refused(other_doctor, "/admin/audit", 403)  # not their role
    _refused(client_for(app, people.patient_account), "/patients/", 403)

    refused = _events(sql, "access.refused")
    # Each names the patient whose record was asked for, so a search by patient finds the
    # attempts (refusals had kept only the record's id; a records audit).
    own = people.patient.id
    assert [(e.actor_id, e.object_type, e.object_id, e.details["status"], e.patient_id)  # type: ignore[index]
            for e in refused] == [
        (people.other_doctor.id, "patient", own, 404, own),
        (people.other_doctor.id, "ecg_report", report.id, 404, own),
        (people.other_doctor.id, "analysis_job", job.id, 404, own),
        (people.other_doctor.id, "analysis_job", job.id + 999, 404, None),  # no such job
        (people.other_doctor.id, None, None, 403, None),
        (people.patient_account.id, None, None, 403, None),
    ]  # fmt: skip
    assert refused[0].details is not None
    assert refused[0].details["path"] == f"/patients/{people.patient.id}"
    assert refused[0].details["method"] == "GET"
    admin = client_for(app, people.admin)
    found = admin.get("/admin/audit", query_string={"mrn": people.patient.mrn,
                                                    "action": "access.refused"})  # fmt: skip
    assert found.get_data(as_text=True).count(f"/patients/{own}") >= 1
    # Nothing was read: the patient's own page of who looked at their record leaves them out.
    mine = client_for(app, people.patient_account).get("/my/access").get_data(as_text=True)
    assert "refused" not in mine
    # Nothing the refused doctor asked for was audited as a read.
    assert not sql.scalar(
        select(func.count()).where(
            AuditEvent.actor_id == people.other_doctor.id,
            AuditEvent.action.in_(["patient.view", "report.waveform", "job.view"]),
        )
    )


def test_anonymous_requests_are_sent_to_log_in_not_audited_as_refused(
    app: Flask, people: People, sql: Session
) -> None:
    assert app.test_client().get(f"/patients/{people.patient.id}").status_code == 302
    assert _events(sql, "access.refused") == []


def test_refused_fhir_pdfs_and_observations_name_their_report_and_patient(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An access audit: another doctor's `Binary/1-v2-clinician` and `Observation/1-ecg`
    (404) were audited with no report and no patient, the path alone, where the same refusal
    on the web or through REST named both."""
    report = _analysed_report(app, people, sql, tmp_path)
    token = bearer_token(sql, people, people.other_doctor, "fhir:read")
    client = app.test_client()
    asked = [f"Binary/{report.id}-v1-clinician", f"Observation/{report.id}-ecg",
             f"Observation/{report.id}-ecg/_history/1", "Binary/999999-v1-clinician",
             "Binary/not-an-id"]  # fmt: skip
    for path in asked:
        answer = client.get(f"/fhir/r4/{path}", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 404, path
    refused = _events(sql, "access.refused")
    own = people.patient.id
    assert [(e.object_type, e.object_id, e.patient_id) for e in refused] == [
        ("ecg_report", report.id, own),
        ("ecg_report", report.id, own),
        ("ecg_report", report.id, own),
        ("ecg_report", 999999, None),  # no such report
        (None, None, None),
    ]


def test_a_head_request_for_a_pdf_is_not_recorded_as_a_download(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An access audit: a doctor's `HEAD /reports/5/report.pdf` answered 200 with no body and
    wrote `report.download`, which the patient's access list reads as "downloaded an ECG
    report". HEAD answers the headers only; GET still writes the row. The patient portal's,
    the REST API's and FHIR's PDFs too."""
    from tests.test_fhir import issue, sign, upload

    report = upload(app, people, sql, tmp_path)
    sign(app, people, sql, report)
    token = issue(sql, people.doctor, "fhir:read", "reports:read", actor=people.admin)
    bearer = {"Authorization": f"Bearer {token}"}
    doctor, patient = client_for(app, people.doctor), client_for(app, people.patient_account)
    heads = [
        doctor.head(f"/reports/{report.id}/report.pdf"),
        patient.head(f"/my/reports/{report.id}/summary.pdf"),
        app.test_client().head(f"/api/v1/reports/{report.id}/report.pdf", headers=bearer),
        app.test_client().head(f"/fhir/r4/Binary/{report.id}-v2-clinician", headers=bearer),
    ]
    for head in heads:
        assert head.status_code == 200 and head.mimetype == "application/pdf", head.request.path
        assert head.data == b"" and int(head.headers["Content-Length"]) > 1000
    assert _events(sql, "report.download") == []
    got = doctor.get(f"/reports/{report.id}/report.pdf")
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    [download] = _events(sql, "report.download")
    assert (download.actor_id, download.patient_id) == (people.doctor.id, people.patient.id)
