"""A 2:1 AV block held from the start, from upload to the patient's summary: the read names
the block (not "sinus bradycardia"), the review page prefills a form that signs as it is, and
both PDFs say it (`ml.two_to_one`)."""

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
def test_a_two_to_one_block_is_read_prefilled_and_signed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    signal_mv, _, _ = second_degree_block_mv(
        120.0, fs_hz=250.0, atrial_bpm=80.0, conducted=1, pr_ms=(180.0,), seed=4
    )
    recording = Recording(250.0, ("II", "V1"), np.column_stack([signal_mv, -0.5 * signal_mv]))
    report = _read_by_the_portal(app, people, sql, tmp_path / "two_to_one.csv", recording)
    machine = report.versions[0]
    # From the first blocked interval to the last (the last beat's R-R is not read).
    assert machine.rhythm_label == (
        f"Sinus rhythm with {rhythm.TWO_TO_ONE[0].lower()}{rhythm.TWO_TO_ONE[1:]} (1.9 min)"
    )
    assert report.main_finding == "AV_BLOCK_2"
    assert not {"BRADY", "AF", "OTHER_RHYTHM"} & set(machine.findings or [])

    page, chosen, clinician, summary = signed_as_prefilled(
        app, people, sql, report, tmp_path, "Second-degree AV block, 2:1 conduction."
    )
    assert "every other one not conducted (2:1 AV block)" in page
    assert "SINUS" in chosen and "AV_BLOCK_2" in chosen and "BRADY" not in chosen, chosen
    assert "Second-degree AV block" in clinician
    assert "did not get through the heart" in summary
