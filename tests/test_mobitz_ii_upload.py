"""A Mobitz II block from upload to the patient's summary: the read names the block at high
risk (not "sinus rhythm" with atrial premature beats), the worklist ranks it high, the review
page prefills a form that signs as it is, and both PDFs say it (`ml.mobitz_ii`)."""

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
from portal.services.reports import HIGH_URGENCY
from tests.conftest import People
from tests.test_sinus_rate_statement import _read_by_the_portal, signed_as_prefilled


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_a_mobitz_ii_block_is_read_ranked_prefilled_and_signed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    signal_mv, _, _ = second_degree_block_mv(
        120.0, fs_hz=250.0, atrial_bpm=75.0, conducted=3, pr_ms=(180.0,) * 3, seed=4
    )
    recording = Recording(250.0, ("II", "V1"), np.column_stack([signal_mv, -0.5 * signal_mv]))
    report = _read_by_the_portal(app, people, sql, tmp_path / "mobitz_ii.csv", recording)
    machine = report.versions[0]
    assert machine.rhythm_label == (
        f"Sinus rhythm with {rhythm.MOBITZ_II[0].lower()}{rhythm.MOBITZ_II[1:]}"
    )
    assert report.main_finding == "AV_BLOCK_2" and report.urgency == HIGH_URGENCY
    assert machine.pr_ms is not None  # steady in Mobitz II: measured
    assert not {"AF", "PAC", "AV_BLOCK_1"} & set(machine.findings or [])

    page, chosen, clinician, summary = signed_as_prefilled(
        app, people, sql, report, tmp_path, "Mobitz II second-degree AV block."
    )
    assert "with the PR unchanged before and after (Mobitz II)" in page
    assert "SINUS" in chosen and "AV_BLOCK_2" in chosen and "PAC" not in chosen, chosen
    assert "Second-degree AV block" in clinician
    assert "did not get through the heart" in summary
