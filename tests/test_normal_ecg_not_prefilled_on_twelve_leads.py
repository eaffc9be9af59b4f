"""On a recording with the chest leads, "Normal ECG" is the doctor's to choose: the machine
reads no T-wave or Q-wave morphology (`portal.review.routes.morphology_unread`). A 12-lead
audit: Wellens-like T waves of -0.9 mV in V1-V4 read "No significant arrhythmia", the sign form
came with "Normal ECG" and "Sinus rhythm" selected, and signed so the patient read "Your heart
test looked normal." One- and two-lead recordings, rhythm strips, keep their preselection."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from flask import Flask
from sqlalchemy.orm import Session

from ml.recording import Recording
from ml.research.synthetic import BeatTruth, lead_gain, synthetic_recording
from tests.conftest import People, client_for
from tests.test_sinus_rate_statement import _preselected, _read_by_the_portal

MORPHOLOGY_UNREAD_HELP = (
    "The machine does not read T waves or Q waves: choose Normal ECG yourself if the tracing "
    "is normal."
)
TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
INVERTED_T_MV = -0.9
ANTERIOR = ("V1", "V2", "V3", "V4")


def _anterior_t_inversion() -> Recording:
    """A normal 12-lead at 70 bpm but for symmetric-looking deep T waves of -0.9 mV in V1-V4."""
    truth = BeatTruth(hr_bpm=70.0)
    recording, _ = synthetic_recording(truth, duration_s=10.0, fs_hz=500.0, leads=TWELVE, seed=5)
    signal = recording.signal_mv.copy()
    for lead in ANTERIOR:
        gain = lead_gain(lead, truth.axis_deg)
        # beats_in_leads_mv scales P and T by max(|gain|, 0.3) with the gain's sign
        t_mv = INVERTED_T_MV / (max(abs(gain), 0.3) * np.sign(gain))
        inverted, _ = synthetic_recording(
            BeatTruth(hr_bpm=70.0, t_mv=t_mv), duration_s=10.0, fs_hz=500.0, leads=(lead,), seed=5
        )
        signal[:, TWELVE.index(lead)] = inverted.signal_mv[:, 0]
    return Recording(500.0, TWELVE, signal, source_format="synthetic")


def test_a_twelve_lead_read_no_significant_arrhythmia_is_not_prefilled_normal(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _read_by_the_portal(app, people, sql, tmp_path / "t.csv", _anterior_t_inversion())
    assert report.versions[0].findings == ["NORMAL"]
    page = html.unescape(
        client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(as_text=True)
    )
    assert "No significant arrhythmia" in page
    assert _preselected(page) == ["SINUS"]
    assert MORPHOLOGY_UNREAD_HELP in page


def test_a_three_limb_lead_strip_keeps_normal_ecg_preselected(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=70.0), duration_s=10.0, fs_hz=500.0, leads=("I", "II", "III"), seed=5
    )
    report = _read_by_the_portal(app, people, sql, tmp_path / "r.csv", recording)
    page = client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(as_text=True)
    assert sorted(_preselected(page)) == ["NORMAL", "SINUS"]
    assert MORPHOLOGY_UNREAD_HELP not in html.unescape(page)
