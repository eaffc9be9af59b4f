"""A complete AV block from upload to the patient's summary: the read names the block (not
"sinus bradycardia", "no P waves" or AF), the review page prefills a form that signs as it
is, and both PDFs say it (`ml.av_dissociation`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ml import rhythm
from ml.recording import Recording
from ml.research.synthetic import complete_block_mv
from portal.fhir import codes
from tests.conftest import People
from tests.test_sinus_rate_statement import _read_by_the_portal, signed_as_prefilled


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_a_complete_block_is_read_prefilled_and_signed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    leads = ("II", "V1")
    signal_mv, _, _ = complete_block_mv(
        120.0, fs_hz=250.0, leads=leads, atrial_bpm=84.0, ventricular_bpm=37.0, seed=6
    )
    recording = Recording(250.0, leads, signal_mv)
    report = _read_by_the_portal(app, people, sql, tmp_path / "block.csv", recording)
    machine = report.versions[0]
    assert machine.rhythm_label == rhythm.COMPLETE_BLOCK
    assert report.main_finding == "AV_BLOCK_3" and machine.pr_ms is None
    assert not {"AF", "BRADY", "AV_BLOCK_1", "OTHER_RHYTHM"} & set(machine.findings or [])

    # Unsigned, the machine's suspicion is no SNOMED CT diagnosis (FHIR); signed, it is.
    suspected = codes.statement_concept("AV_BLOCK_3", machine_read=True)
    assert suspected["text"] == "Possible complete heart block"
    assert [c["code"] for c in suspected["coding"]] == ["AV_BLOCK_3"]  # type: ignore[index]
    signed = codes.statement_concept("AV_BLOCK_3")["coding"]
    assert [c["code"] for c in signed] == ["27885002", "AV_BLOCK_3"]  # type: ignore[index,union-attr]

    page, chosen, clinician, summary = signed_as_prefilled(
        app, people, sql, report, tmp_path, "Complete heart block with a ventricular escape rhythm."
    )
    assert "P waves at 84 /min march through the QRS complexes (mean 37 bpm)" in page
    assert "the P waves bear no fixed relation to the QRS complexes" in page
    assert "AV_BLOCK_3" in chosen and not {"SINUS", "BRADY", "AF"} & set(chosen), chosen
    assert "Complete heart block" in clinician
    assert "did not get through the heart" in summary
