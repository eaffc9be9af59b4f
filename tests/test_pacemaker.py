"""The staff's pacemaker flag, from upload to the patient's summary, on both databases: the
upload form's checkbox (pre-ticked from the patient's last recording) and the API's field
store it; the worker's read is then a paced read (`ml.paced`), which the review page, the
worklist, the job page, the PDFs, the API and FHIR say in their readers' words."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ml.paced import INTERVAL_REASON, NOTE, PACED_RHYTHM
from portal.fhir import codes
from portal.models import AnalysisJob, EcgRecording, EcgReport
from portal.services import reports
from portal.services.recordings import PACEMAKER_LABEL, PACEMAKER_MESSAGE
from portal.worker import Worker
from reports.plain_language import PACEMAKER
from tests.conftest import People, bearer_token, client_for, post_form, sign_report, signed_pdfs
from tests.support.ecg_files import synthetic, write_csv

CSV: dict[int, bytes] = {}
CHECKBOX = re.compile(r'<input[^>]*id="pacemaker"[^>]*>')


def _csv(tmp_path: Path, seed: int = 3) -> bytes:
    if seed not in CSV:
        path = write_csv(tmp_path / f"ecg-{seed}.csv", synthetic(30, 250, seed=seed))
        CSV[seed] = path.read_bytes()
    return CSV[seed]


def _upload_page(client: FlaskClient, patient_id: int) -> str:
    page = client.get(f"/patients/{patient_id}/recordings/new")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _upload(client: FlaskClient, patient_id: int, content: bytes, **fields: str):  # type: ignore[no-untyped-def]
    return post_form(
        client, f"/patients/{patient_id}/recordings/new",
        {"files": [(io.BytesIO(content), "ecg.csv")], **fields},
        token_page=f"/patients/{patient_id}/recordings/new", content_type="multipart/form-data",
    )  # fmt: skip


def _ticked(page: str) -> bool:
    box = CHECKBOX.search(page)
    assert box is not None, "no pacemaker checkbox on the upload form"
    return "checked" in box.group(0)


def _count(sql: Session, model: type) -> int:
    sql.expire_all()
    return sql.scalar(select(func.count()).select_from(model)) or 0


def test_the_upload_form_stores_the_flag_and_the_read_is_paced(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    first = _upload_page(staff, people.patient.id)
    assert PACEMAKER_LABEL in first and not _ticked(first)  # no earlier recording: unticked

    response = _upload(staff, people.patient.id, _csv(tmp_path), pacemaker="y")
    assert response.status_code == 302
    recording = sql.scalar(select(EcgRecording))
    assert recording is not None and recording.pacemaker is True
    job = sql.scalar(select(AnalysisJob))
    assert "pacemaker noted" in staff.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert Worker(app).run_pending() == 1

    report = sql.scalar(select(EcgReport))
    machine = report.versions[0]
    assert report.main_finding == "PACED" and report.urgency == reports.MEDIUM_URGENCY
    assert machine.rhythm_label == PACED_RHYTHM and machine.findings == ["PACED"]
    assert machine.pr_ms is machine.qrs_ms is machine.qt_ms is machine.qtc_bazett_ms is None
    assert machine.heart_rate_bpm == pytest.approx(72, abs=2)  # the rate is kept
    assert machine.analysis["pacemaker"] is True and machine.analysis["notes"][0] == NOTE
    assert set(machine.beat_counts) == set("NSVFQ") and machine.beat_counts["N"] == 0

    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'id="pacemaker-noted"' in page and "Pacemaker noted by staff at upload" in page
    assert f"not measurable ({INTERVAL_REASON})" in page
    assert "HRV not assessed (paced rhythm)" in page
    worklist = doctor.get("/worklist").get_data(as_text=True)
    assert 'class="badge pacemaker"' in worklist and "Paced rhythm" in worklist
    assert "pacemaker noted" in staff.get(f"/patients/{people.patient.id}").get_data(as_text=True)

    # The next upload for this patient starts ticked; unticked, the next read is not paced.
    assert _ticked(_upload_page(staff, people.patient.id))
    assert _upload(staff, people.patient.id, _csv(tmp_path, seed=4)).status_code == 302
    newest = sql.scalars(select(EcgRecording).order_by(EcgRecording.id.desc())).first()
    assert newest is not None and newest.pacemaker is False
    assert not _ticked(_upload_page(staff, people.patient.id))
    assert Worker(app).run_pending() == 1
    plain = sql.scalars(select(EcgReport).where(EcgReport.recording_id == newest.id)).one()
    assert plain.main_finding != "PACED" and plain.versions[0].analysis["pacemaker"] is False
    # Another patient's upload form knows nothing of this patient's pacemaker.
    assert not _ticked(_upload_page(staff, people.other_patient.id))


def test_the_same_file_again_keeps_its_first_analysis_and_says_so(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, _csv(tmp_path)).status_code == 302
    again = _upload(staff, people.patient.id, _csv(tmp_path), pacemaker="y")
    assert again.status_code == 302
    page = staff.get(again.location).get_data(as_text=True)
    assert "analysed without the pacemaker noted" in page
    assert _count(sql, EcgRecording) == 1 and sql.scalar(select(EcgRecording.pacemaker)) is False


def test_only_staff_upload_with_or_without_the_flag(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    for account in (people.doctor, people.admin, people.patient_account):
        client = client_for(app, account)
        refused = client.post(
            f"/patients/{people.patient.id}/recordings/new",
            data={"files": [(io.BytesIO(_csv(tmp_path)), "ecg.csv")], "pacemaker": "y"},
            content_type="multipart/form-data",
        )
        assert refused.status_code in (403, 404), (account.username, refused.status_code)
    assert _count(sql, EcgRecording) == 0


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_the_signed_paced_report_says_so_in_both_pdfs(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, _csv(tmp_path), pacemaker="y").status_code == 302
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    doctor = client_for(app, people.doctor)
    # The machine's read, as prefilled, can be signed as it is (one rhythm statement: paced).
    sign_report(
        doctor, report, sql, rhythm_label=PACED_RHYTHM, findings=["PACED"],
        conclusion="Paced rhythm; no pacing failure seen on the strip.",
        patient_comment="Your pacemaker works well.",
    )  # fmt: skip

    clinician, summary = signed_pdfs(app, people, doctor, report, tmp_path)
    assert "Pacemaker noted by staff at upload (paced rhythm possible)" in clinician
    assert PACED_RHYTHM in clinician and INTERVAL_REASON in clinician
    assert PACEMAKER in summary
    assert "Your pacemaker was setting the pace of your heart." in summary


# --- the API -------------------------------------------------------------------------------


def _api_upload(app: Flask, secret: str, patient_id: int, content: bytes, **fields: object):  # type: ignore[no-untyped-def]
    return app.test_client().post(
        f"/api/v1/patients/{patient_id}/recordings",
        data={"files": [(io.BytesIO(content), "ecg.csv")], **fields},
        headers={"Authorization": f"Bearer {secret}"}, content_type="multipart/form-data",
    )  # fmt: skip


def test_the_api_field_stores_the_flag_refuses_other_values_and_fhir_says_paced(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = bearer_token(sql, people, people.staff, "recordings:write", "reports:read", "fhir:read")
    for value in ("maybe", "2", "", "yes please", "null"):
        refused = _api_upload(app, staff, people.patient.id, _csv(tmp_path), pacemaker=value)
        assert refused.status_code == 422, (value, refused.status_code)
        assert refused.get_json()["error"] == {
            "code": "invalid", "field": "pacemaker", "message": PACEMAKER_MESSAGE,
        }  # fmt: skip
    assert _count(sql, EcgRecording) == 0 and _count(sql, AnalysisJob) == 0
    storage = app.config["SETTINGS"].storage_dir
    assert not storage.exists() or not [p for p in storage.rglob("*") if p.is_file()]

    for role_account in (people.doctor, people.patient_account):  # uploading is staff's
        other = bearer_token(sql, people, role_account, "recordings:write")
        denied = _api_upload(app, other, people.patient.id, _csv(tmp_path), pacemaker="true")
        assert denied.status_code == 403
    assert _count(sql, EcgRecording) == 0

    created = _api_upload(app, staff, people.patient.id, _csv(tmp_path), pacemaker="true")
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["recording"]["pacemaker"] is True
    unflagged = _api_upload(app, staff, people.patient.id, _csv(tmp_path, seed=4))
    assert unflagged.status_code == 201 and unflagged.get_json()["recording"]["pacemaker"] is False
    assert Worker(app).run_pending() == 2

    paced_id = created.get_json()["recording"]["id"]
    report = sql.scalars(select(EcgReport).where(EcgReport.recording_id == paced_id)).one()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {staff}"}
    body = client.get(f"/api/v1/reports/{report.id}", headers=auth).get_json()
    assert body["pacemaker"] is True and body["main_finding"] == "PACED"
    read = body["machine_read"]
    assert read["pacemaker"] is True and read["rhythm_summary"] == PACED_RHYTHM
    assert read["intervals"]["not_measurable"]["qrs"] == INTERVAL_REASON
    assert read["heart_rate"]["mean_bpm"] == pytest.approx(72, abs=2)
    assert read["heart_rate"]["sdnn_ms"] is None

    # FHIR: the unsigned machine read carries the paced rhythm (SNOMED CT 10370003).
    fhir = client.get(f"/fhir/r4/DiagnosticReport/{report.id}", headers=auth).get_json()
    assert fhir["status"] == "preliminary" and PACED_RHYTHM in fhir["conclusion"]
    coded = [[(c["system"], c["code"]) for c in concept["coding"]]
             for concept in fhir["conclusionCode"]]  # fmt: skip
    assert coded == [[(codes.SNOMED, "10370003"), (codes.STATEMENT_SYSTEM, "PACED")]]
