"""A strip of wide-complex tachycardia, from upload to the patient's summary: every beat is
wide and alike, so the classifier calls none ventricular, and the read says ventricular
tachycardia until proven otherwise; the worklist puts it first, and the doctor signs what the
review page prefilled; both PDFs read back (`ml.findings.wide_complex_tachycardia`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml.research.synthetic import BeatTruth, synthetic_recording
from portal.models import EcgReport
from portal.services import reports
from portal.worker import Worker
from tests.conftest import People, client_for, sign_report, signed_pdfs, upload_file
from tests.support.ecg_files import write_csv

# Wide complexes without P waves, T opposite the QRS, at 150 bpm: monomorphic VT's picture.
VT = BeatTruth(
    hr_bpm=150, qrs_ms=150, qt_ms=300, p_mv=0.0, t_mv=-0.4, t_duration_ms=100,
    axis_deg=-60, r_mv=1.5,
)  # fmt: skip


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_a_wide_complex_tachycardia_reads_vt_and_is_signed_as_such(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    recording, _ = synthetic_recording(VT, duration_s=30, fs_hz=250, leads=("II", "V1"))
    content = write_csv(tmp_path / "wct.csv", recording).read_bytes()
    staff = client_for(app, people.staff)
    upload = upload_file(staff, people.patient.id, content, "wct.csv")
    assert upload.status_code == 302
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    machine = report.versions[0]
    assert machine.findings[0] == "VT" and "WIDE_QRS" not in machine.findings
    assert machine.pr_ms is None and machine.qrs_ms is not None and machine.qrs_ms >= 120
    assert report.main_finding == "VT" and report.urgency == reports.URGENT_CODES["VT"]

    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "ventricular tachycardia until proven otherwise" in page
    assert '<option selected value="VT">' in page
    assert '<option selected value="AV_BLOCK_1">' not in page
    worklist = doctor.get("/worklist").get_data(as_text=True)
    assert f"/reports/{report.id}" in worklist and "Emergency" in worklist

    sign_report(
        doctor, report, sql, rhythm_label="Other rhythm: ventricular tachycardia",
        findings=["OTHER_RHYTHM", "VT"], conclusion="Wide-complex tachycardia, VT.",
        next_steps=["SEE_TODAY", "DISCUSSED"],  # not held from the patient (test_patient_hold)
    )  # fmt: skip

    clinician, summary = signed_pdfs(app, people, doctor, report, tmp_path)
    assert "Ventricular tachycardia" in clinician
    assert "lower parts of the heart" in summary
