"""Intervals on the median beat, checked against synthetic beats with known onsets and offsets."""

from __future__ import annotations

import numpy as np
import pytest

from ml.intervals import measure_intervals
from ml.research.synthetic import BeatTruth, synthetic_recording

TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
TOLERANCE_MS = 10.0

CASES = [
    BeatTruth(),
    BeatTruth(hr_bpm=45, pr_ms=240, qrs_ms=140, qt_ms=500, axis_deg=-30),  # AV block, wide, long
    BeatTruth(hr_bpm=110, pr_ms=120, qrs_ms=70, qt_ms=340, axis_deg=100),  # tachycardia
    BeatTruth(hr_bpm=75, pr_ms=180, qrs_ms=100, qt_ms=420, axis_deg=45),
]


def _r_peaks(signal: np.ndarray, onsets: np.ndarray, fs_hz: float, qrs_ms: float) -> np.ndarray:
    lead = int(np.argmax(np.abs(signal).max(axis=0)))
    width = int(qrs_ms / 1000 * fs_hz)
    return np.array([o + int(np.argmax(np.abs(signal[o : o + width, lead]))) for o in onsets])


@pytest.mark.parametrize(
    "truth",
    CASES,
    ids=lambda t: f"hr{t.hr_bpm:g}-pr{t.pr_ms:g}-qrs{t.qrs_ms:g}-qt{t.qt_ms:g}-axis{t.axis_deg:g}",
)
@pytest.mark.parametrize("fs_hz", [250.0, 500.0, 1000.0])
@pytest.mark.parametrize("leads", [TWELVE, ("I", "II")], ids=["12-lead", "2-lead"])
def test_intervals_within_10_ms_of_the_truth(
    truth: BeatTruth, fs_hz: float, leads: tuple[str, ...]
) -> None:
    recording, onsets = synthetic_recording(
        truth, leads=leads, fs_hz=fs_hz, duration_s=30, noise_mv=0.01, seed=7
    )
    peaks = _r_peaks(recording.signal_mv, onsets, fs_hz, truth.qrs_ms)
    result = measure_intervals(recording.signal_mv, fs_hz, peaks, recording.lead_names)
    assert result.pr_ms == pytest.approx(truth.pr_ms, abs=TOLERANCE_MS)
    assert result.qrs_ms == pytest.approx(truth.qrs_ms, abs=TOLERANCE_MS)
    assert result.qt_ms == pytest.approx(truth.qt_ms, abs=TOLERANCE_MS)
    rr_s = 60 / truth.hr_bpm
    assert result.qtc_bazett_ms == pytest.approx(result.qt_ms / np.sqrt(rr_s), rel=0.01)
    assert result.qtc_fridericia_ms == pytest.approx(result.qt_ms / np.cbrt(rr_s), rel=0.01)
    assert result.qrs_axis_deg == pytest.approx(truth.axis_deg, abs=5)


def test_single_lead_has_no_axis_but_has_intervals() -> None:
    truth = BeatTruth()
    recording, onsets = synthetic_recording(truth, leads=("II",), fs_hz=360)
    peaks = _r_peaks(recording.signal_mv, onsets, 360, truth.qrs_ms)
    result = measure_intervals(recording.signal_mv, 360, peaks, recording.lead_names)
    assert result.qrs_axis_deg is None
    assert result.qt_ms == pytest.approx(truth.qt_ms, abs=TOLERANCE_MS)


def test_no_p_wave_gives_no_pr() -> None:
    """As in atrial fibrillation: the P wave is absent, so PR is not measured (not invented)."""
    truth = BeatTruth(p_mv=0.0)
    recording, onsets = synthetic_recording(truth, leads=TWELVE, fs_hz=500, noise_mv=0.02)
    peaks = _r_peaks(recording.signal_mv, onsets, 500, truth.qrs_ms)
    result = measure_intervals(recording.signal_mv, 500, peaks, recording.lead_names)
    assert result.pr_ms is None
    assert result.qrs_ms == pytest.approx(truth.qrs_ms, abs=TOLERANCE_MS)


def test_too_few_beats_measure_nothing() -> None:
    recording, onsets = synthetic_recording(BeatTruth(), leads=("II",), duration_s=12)
    result = measure_intervals(recording.signal_mv, 500, onsets[:2], recording.lead_names)
    assert result.qt_ms is None and result.n_beats == 0
