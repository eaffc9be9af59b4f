"""A reference record (an MIT-BIH record attached to a patient for teaching or QA) is marked
"Reference record (teaching/QA) — not this patient's ECG" wherever its report appears: the
worklist row, the review page's header, the patient page, the clinician PDF (a banner on
page 1 and the running header of every page), the REST API and the FHIR DiagnosticReport; a
report of the patient's own ECG shows none of it. And a measurement the doctor signed as not
measurable reads "not measurable" in the clinician PDF, with the reason, as on the review
page."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml.research.synthetic import BeatTruth, synthetic_recording
from portal.api.recordings import RecordingSchema
from portal.fhir import codes
from portal.models import EcgRecording, EcgReport
from portal.services import api_tokens
from portal.services.reference import REFERENCE_MARKER
from portal.worker import Worker
from tests.conftest import PASSWORD, People, client_for, post_form
from tests.support.ecg_files import synthetic, write_csv

MARKER = "Reference record (teaching/QA) — not this patient's ECG"
NAME = "MIT-BIH record 100"
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler")


def _analysed(app: Flask, people: People, sql: Session, csv: Path) -> EcgReport:
    """A CSV uploaded by staff through the web form and analysed: a preliminary report."""
    staff = client_for(app, people.staff)
    url = f"/patients/{people.patient.id}/recordings/new"
    data: dict[str, object] = {"files": [(io.BytesIO(csv.read_bytes()), csv.name)]}
    response = post_form(staff, url, data, token_page=url, content_type="multipart/form-data")
    assert response.status_code == 302, response.data[:500]
    assert Worker(app).run_pending() == 1
    sql.expire_all()
    report = sql.scalars(select(EcgReport).order_by(EcgReport.id.desc())).first()
    assert report is not None
    return report


def _normal_and_reference(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> tuple[EcgReport, EcgReport]:
    """Two reports of one patient: their own ECG, and MIT-BIH record 100 attached to them
    (the library's column, as the library upload sets it)."""
    own = _analysed(app, people, sql, write_csv(tmp_path / "own.csv", synthetic(30, 250, seed=3)))
    teaching = _analysed(
        app, people, sql, write_csv(tmp_path / "teaching.csv", synthetic(30, 250, seed=4))
    )
    recording = sql.get(EcgRecording, teaching.recording_id)
    assert recording is not None
    recording.reference_record = "100"
    sql.commit()
    return own, teaching


def _row_of(page: str, report_id: int) -> str:
    """The table row that links to the report, as text (entities read back)."""
    rows = re.findall(r"<tr[^>]*>.*?</tr>", page, flags=re.DOTALL)
    found = [row for row in rows if f'href="/reports/{report_id}"' in row]
    assert len(found) == 1, (report_id, rows)
    return html.unescape(found[0])


def _pdf_text(pdf: bytes, tmp_path: Path, name: str, *pages: str) -> str:
    """The PDF's text in reading order, white space made single (pdftotext, as users copy)."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", *pages, str(path), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    return " ".join(text.split())


def _page_count(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(next(ln.split()[-1] for ln in info.stdout.splitlines() if ln.startswith("Pages")))


def test_the_marker_is_one_sentence_in_one_place() -> None:
    assert REFERENCE_MARKER == MARKER
    assert codes.REFERENCE_RECORD.display == MARKER


def test_the_worklist_review_and_patient_pages_mark_a_reference_record_only(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    own, teaching = _normal_and_reference(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)

    worklist = doctor.get("/worklist").get_data(as_text=True)
    assert f"{MARKER} ({NAME})" in _row_of(worklist, teaching.id)
    assert "Reference record" not in _row_of(worklist, own.id)

    review = html.unescape(doctor.get(f"/reports/{teaching.id}").get_data(as_text=True))
    header = review[: review.index('class="card ecg-card"')]  # above the chart
    assert 'id="reference-record"' in header and f"{MARKER} ({NAME})" in header
    normal_review = doctor.get(f"/reports/{own.id}").get_data(as_text=True)
    assert "reference-record" not in normal_review and "Reference record" not in normal_review

    patient_page = doctor.get(f"/patients/{people.patient.id}").get_data(as_text=True)
    assert f"{MARKER} ({NAME})" in _row_of(patient_page, teaching.id)
    assert "Reference record" not in _row_of(patient_page, own.id)


def test_the_api_says_reference_record_with_its_name(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    own, teaching = _normal_and_reference(app, people, sql, tmp_path)
    secret = api_tokens.issue(sql, people.doctor, client_name="test", scopes=["reports:read"],
                              days=30, actor=people.admin).secret  # fmt: skip
    sql.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}

    def read(path: str) -> dict:  # type: ignore[type-arg]
        response = api.get(f"/api/v1{path}", headers=headers)
        assert response.status_code == 200, response.data[:500]
        return response.get_json()  # type: ignore[no-any-return]

    body = read(f"/reports/{teaching.id}")
    assert (body["reference_record"], body["reference_record_name"]) == (True, NAME)
    body = read(f"/reports/{own.id}")
    assert (body["reference_record"], body["reference_record_name"]) == (False, None)
    listed = {item["id"]: item for item in read("/reports")["items"]}
    assert listed[teaching.id]["reference_record"] is True
    assert listed[own.id]["reference_record"] is False
    # The documented schema names both fields.
    spec = api.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert {"reference_record", "reference_record_name"} <= set(spec["ReportSummary"]["required"])
    assert {"reference_record", "reference_record_name"} <= set(spec["Recording"]["properties"])

    # A recording's JSON, as the upload answers it, says the same.
    recording = RecordingSchema().dump(sql.get(EcgRecording, teaching.recording_id))
    assert (recording["reference_record"], recording["reference_record_name"]) == (True, NAME)
    recording = RecordingSchema().dump(sql.get(EcgRecording, own.recording_id))
    assert (recording["reference_record"], recording["reference_record_name"]) == (False, None)


def test_the_fhir_diagnostic_report_is_tagged_and_says_so_in_its_conclusion(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    own, teaching = _normal_and_reference(app, people, sql, tmp_path)
    secret = api_tokens.issue(sql, people.doctor, client_name="ehr", scopes=["fhir:read"],
                              days=30, actor=people.admin).secret  # fmt: skip
    sql.commit()
    client = app.test_client()

    def diagnostic_report(report_id: int) -> dict:  # type: ignore[type-arg]
        response = client.get(f"/fhir/r4/DiagnosticReport/{report_id}",
                              headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
        assert response.status_code == 200, response.data[:500]
        resource = response.get_json()
        get_fhir_model_class("DiagnosticReport").parse_obj(resource)  # valid FHIR (R4B)
        return resource  # type: ignore[no-any-return]

    tagged = diagnostic_report(teaching.id)
    assert tagged["meta"]["tag"] == [{
        "system": "https://cardioportal.example/fhir/CodeSystem/record-origin",
        "code": "reference-record", "display": MARKER,
    }]  # fmt: skip
    assert tagged["conclusion"].startswith(f"{MARKER} ({NAME}). Machine read, not yet reviewed")
    plain = diagnostic_report(own.id)
    assert "tag" not in plain["meta"] and "Reference record" not in json.dumps(plain)

    def observation(observation_id: str) -> dict:  # type: ignore[type-arg]
        response = client.get(f"/fhir/r4/Observation/{observation_id}",
                              headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
        assert response.status_code == 200, response.data[:500]
        resource = response.get_json()
        get_fhir_model_class("Observation").parse_obj(resource)
        return resource  # type: ignore[no-any-return]

    assert observation(f"{teaching.id}-ecg")["meta"]["tag"] == tagged["meta"]["tag"]  # waveform
    assert "tag" not in observation(f"{own.id}-ecg").get("meta", {})


@needs_poppler
def test_the_clinician_pdf_has_a_banner_on_page_1_and_the_marker_on_every_page(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    own, teaching = _normal_and_reference(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    pdf = doctor.get(f"/reports/{teaching.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages = _page_count(pdf.data, tmp_path)
    assert pages >= 2
    for page in range(1, pages + 1):  # the running header
        text = _pdf_text(pdf.data, tmp_path, f"page{page}", "-f", str(page), "-l", str(page))
        assert f"{MARKER} ({NAME})" in text, (page, text[:300])
    first = _pdf_text(pdf.data, tmp_path, "first", "-f", "1", "-l", "1")
    assert first.count(f"{MARKER} ({NAME})") == 2  # and the banner under the letterhead
    assert "A record from the reference library, attached for teaching or quality checks." in first

    normal = doctor.get(f"/reports/{own.id}/report.pdf")
    assert normal.status_code == 200
    assert "Reference record" not in _pdf_text(normal.data, tmp_path, "normal")


@needs_poppler
def test_a_measurement_signed_as_not_measurable_says_so_and_why_in_the_pdf(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    # No P wave: the machine cannot measure PR and says why; it measures QT and the axis.
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=72, p_mv=0.0), duration_s=30, fs_hz=250,
                                       leads=("I", "II", "III"), seed=3)  # fmt: skip
    report = _analysed(app, people, sql, write_csv(tmp_path / "no-p.csv", recording))
    machine = report.versions[0]
    assert machine.pr_ms is None and machine.qt_ms is not None
    assert machine.qrs_axis_deg is not None
    why = (machine.analysis or {})["intervals"]["not_measurable"]["pr"]
    assert why == "no consistent P wave before the QRS in any lead"
    doctor = client_for(app, people.doctor)
    review = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert f"not measurable ({why})" in review  # the review page's words

    # Before signing, the machine read: PR not measurable with its reason, QT measured.
    text = _pdf_text(doctor.get(f"/reports/{report.id}/report.pdf").data, tmp_path, "machine")
    assert f"not measurable ({why})" in text and "(doctor)" not in text

    form: dict[str, object] = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
            "conclusion": "QT and axis not measurable on review.", "password": PASSWORD,
            "row_version": str(report.row_version), "heart_rate_bpm": "72", "pr_ms": "",
            "qrs_ms": "96", "qt_ms": "", "qrs_axis_deg": ""}  # fmt: skip
    signed = post_form(doctor, f"/reports/{report.id}/sign", form,
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302
    sql.expire_all()
    version = sql.scalars(select(EcgReport).where(EcgReport.id == report.id)).one().versions[-1]
    assert (version.qt_ms, version.qtc_bazett_ms, version.qrs_axis_deg) == (None, None, None)

    text = _pdf_text(doctor.get(f"/reports/{report.id}/report.pdf").data, tmp_path, "signed")
    table = text[text.index("QRS axis") : text.index("Physician's read")]
    assert table.startswith("QRS axis 72 bpm")
    # PR: still the machine's reason; QT, both QTc and the axis: the doctor cleared them.
    assert table.count(f"not measurable ({why})") == 1
    assert table.count("not measurable (doctor)") == 4
    assert "—" not in table and "96 ms" in table


def test_a_machine_reason_naming_a_rhythm_the_doctor_did_not_sign_is_not_printed() -> None:
    """A clinician audit: MIT-BIH 208's trigeminy, read as AF by the machine and signed as
    "Sinus rhythm with ventricular trigeminy ... Not atrial fibrillation", printed "PR not
    measurable (no P waves in atrial fibrillation/flutter to measure it from)" in its signed
    PDF. Signed with AF the reason stands."""
    from ml.findings import AF_PR_REASON
    from portal.models import ReportVersion, VersionKind
    from portal.services.documents import _not_measurable

    machine = ReportVersion(kind=VersionKind.MACHINE, findings=["AF"], qt_ms=400.0)
    reasons = {"pr": AF_PR_REASON}
    for findings, said in ((["SINUS", "TRIGEMINY"], ""), (["AF"], AF_PR_REASON)):
        signed = ReportVersion(kind=VersionKind.PHYSICIAN, findings=findings, qt_ms=400.0)
        assert _not_measurable(machine, signed, reasons)["pr_ms"] == said
