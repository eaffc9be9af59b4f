"""A 12-lead ECG with an inferior injury pattern, end to end: the sign form comes prefilled
with ST elevation, and both PDFs say it (`ml.st_segment`)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from ml.recording import Recording
from ml.research.synthetic import st_shifted_mv, synthetic_recording
from ml.vocabulary import STATEMENTS
from tests.conftest import People
from tests.ml.test_st_elevation import INFERIOR, TRUTH
from tests.test_sinus_rate_statement import _read_by_the_portal, signed_as_prefilled


def test_st_elevation_is_prefilled_signed_and_said_in_both_pdfs(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    fs_hz = 500.0
    recording, onsets = synthetic_recording(TRUTH, duration_s=10.0, fs_hz=fs_hz)
    signal = st_shifted_mv(
        recording.signal_mv, fs_hz, onsets / fs_hz, TRUTH, recording.lead_names, INFERIOR
    )
    injured = Recording(fs_hz, recording.lead_names, signal, source_format="synthetic")
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", injured)
    page, chosen, clinician, summary = signed_as_prefilled(
        app, people, sql, report, tmp_path, "Inferior injury pattern."
    )
    assert "ST_ELEVATION" in chosen
    # The levels of every lead are on the review page, to check the finding on the chart.
    assert "20 ms after the QRS end (mV): I -0.1" in page and "II +0.2" in page
    assert "ST elevation in II 0.2" in " ".join(clinician.split())
    assert STATEMENTS["ST_ELEVATION"].plain in " ".join(summary.split())
