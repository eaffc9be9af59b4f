"""A strip of ventricular fibrillation, from upload to the patient's summary: the machine reads
VF (not AF), gives no heart rate and says why, the worklist puts it first, and the doctor signs
what the review page prefilled; both PDFs read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml import rhythm
from ml.hrv import FIBRILLATION_RATE_REASON
from ml.recording import Recording
from ml.research.synthetic import ventricular_fibrillation_mv
from portal.models import EcgReport
from portal.services import reports
from portal.worker import Worker
from tests.conftest import People, client_for, sign_report, signed_pdfs, upload_file
from tests.support.ecg_files import write_csv

FS_HZ = 250.0


def _vf_csv(tmp_path: Path) -> bytes:
    lead_mv = ventricular_fibrillation_mv(30.0, fs_hz=FS_HZ, seed=2)
    recording = Recording(FS_HZ, ("I", "II"), np.column_stack([0.6 * lead_mv, lead_mv]))
    return write_csv(tmp_path / "vf.csv", recording).read_bytes()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_a_vf_strip_reads_vf_and_is_signed_as_such(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    upload = upload_file(staff, people.patient.id, _vf_csv(tmp_path), "vf.csv")
    assert upload.status_code == 302
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    machine = report.versions[0]
    assert machine.rhythm_label == rhythm.VF and machine.findings == ["VF"]
    assert machine.heart_rate_bpm is None
    assert report.main_finding == "VF" and report.urgency == reports.URGENT_CODES["VF"]  # first

    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Whole-strip rhythm call:</strong> Ventricular flutter/fibrillation" in page
    assert f"not measurable ({FIBRILLATION_RATE_REASON})" in page
    # The signing form comes prefilled with the machine's statements: VF, not AF.
    assert '<option selected value="VF">' in page and '<option selected value="AF">' not in page
    worklist = doctor.get("/worklist").get_data(as_text=True)
    assert f"/reports/{report.id}" in worklist and "Emergency" in worklist

    sign_report(
        doctor,
        report,
        sql,
        rhythm_label=rhythm.VF,
        findings=["VF"],
        conclusion="Ventricular fibrillation.",
        next_steps=["SEE_TODAY", "DISCUSSED"],
    )  # fmt: skip  (discussed: the patient's summary is not held, tests/test_patient_hold.py)

    clinician, summary = signed_pdfs(app, people, doctor, report, tmp_path)
    assert rhythm.VF in clinician and "Atrial fibrillation" not in clinician
    said = " ".join(summary.split())
    assert "Your heart had a spell of a very fast rhythm that can be dangerous." in said
    assert "call the clinic today" in said and "talk with you now" not in said
