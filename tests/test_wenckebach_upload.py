"""A Wenckebach block from upload to the patient's summary: the read names the block (not
"sinus rhythm" with atrial premature beats, nor AF), the review page prefills a form that
signs as it is, and both PDFs say it (`ml.wenckebach`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ml import rhythm
from ml.recording import Recording
from ml.research.synthetic import second_degree_block_mv
from tests.conftest import People
from tests.test_sinus_rate_statement import _read_by_the_portal, signed_as_prefilled


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_a_wenckebach_block_is_read_prefilled_and_signed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    signal_mv, _, _ = second_degree_block_mv(120.0, fs_hz=250.0, atrial_bpm=75.0, seed=4)
    recording = Recording(250.0, ("II", "V1"), np.column_stack([signal_mv, -0.5 * signal_mv]))
    report = _read_by_the_portal(app, people, sql, tmp_path / "wenckebach.csv", recording)
    machine = report.versions[0]
    assert (
        machine.rhythm_label
        == f"Sinus rhythm with {rhythm.MOBITZ_I[0].lower()}" + (rhythm.MOBITZ_I[1:])
    )
    assert report.main_finding == "AV_BLOCK_2" and machine.pr_ms is None
    assert not {"AF", "PAC", "AV_BLOCK_1"} & set(machine.findings or [])

    page, chosen, clinician, summary = signed_as_prefilled(
        app, people, sql, report, tmp_path, "Mobitz I second-degree AV block."
    )
    assert "each after the PR lengthened beat by beat (Mobitz I, Wenckebach)" in page
    assert "the PR changes from beat to beat" in page
    assert "SINUS" in chosen and "AV_BLOCK_2" in chosen and "AV_BLOCK_1" not in chosen, chosen
    assert "Second-degree AV block" in clinician
    assert "did not get through the heart" in summary
