"""A regular narrow-complex tachycardia without P waves is named so, with what it may be
(`ml.narrow_tachycardia`, `rhythm.NARROW_TACHYCARDIA`): two minutes of synthetic AV nodal
re-entry at 153-172 bpm read "Sinus tachycardia" (7 of 12, seed 3101), and a strip of it
"Other rhythm: fast (median rate 199 bpm)" with nothing of its causes."""

from __future__ import annotations

import numpy as np

from ml import rhythm
from ml.analysis import analyze
from ml.narrow_tachycardia import CAUSES
from ml.research.synthetic import BeatTruth, synthetic_recording

# AV nodal re-entry: no P wave, a narrow QRS, a short QT at the fast rate.
REENTRY = BeatTruth(hr_bpm=160, p_mv=0.0, qrs_ms=85, qt_ms=280, t_duration_ms=140)


def test_two_minutes_of_it_are_not_named_sinus_tachycardia() -> None:
    recording, _ = synthetic_recording(REENTRY, duration_s=120, fs_hz=500, leads=("II", "V1"))
    analysis = analyze(recording)
    assert analysis.rhythm_summary == rhythm.NARROW_TACHYCARDIA
    codes = [f.code for f in analysis.findings]
    assert "TACHY" not in codes and analysis.main_finding.code == "OTHER_RHYTHM"
    detail = analysis.main_finding.detail
    assert analysis.main_finding.risk == "medium"
    assert "a narrow QRS and no consistent P wave before it over 2.0 min, at a mean of 16" in detail
    assert CAUSES in detail and "marked tachycardia" in detail


def test_a_strip_of_it_says_what_it_may_be() -> None:
    truth = BeatTruth(**{**REENTRY.__dict__, "hr_bpm": 185.0, "qt_ms": 260.0})
    recording, _ = synthetic_recording(truth, duration_s=10, fs_hz=500, leads=("II",))
    analysis = analyze(recording)
    assert analysis.strip is not None and analysis.strip.label == "other"
    assert "a narrow QRS and no P wave seen in any lead" in analysis.strip.reason
    assert CAUSES in analysis.main_finding.detail
    # No stretch of it is listed as sinus: MIT-BIH 202's flutter listed "Sinus tachycardia
    # 1.1-28.7 s" below this call (a clinician audit).
    assert not {e.label for e in analysis.episodes} & set(rhythm.SINUS_RATES), analysis.episodes


def test_sinus_tachycardia_with_its_p_waves_keeps_its_name() -> None:
    """P waves clear of the T waves at 135 bpm: a strip and two minutes read sinus tachycardia
    (a P wave starting where the T wave ends is not found: a QT of 270 ms and a PR of 150 ms
    read "Other rhythm" on a strip before and after this rule, with its reason now)."""
    truth = BeatTruth(hr_bpm=135, pr_ms=150, qt_ms=250, t_duration_ms=130, p_mv=0.15)
    for duration_s in (10, 120):
        recording, _ = synthetic_recording(truth, duration_s=duration_s, fs_hz=500)
        analysis = analyze(recording)
        assert analysis.rhythm_summary == rhythm.TACHY, duration_s
        assert CAUSES not in " ".join(f.detail for f in analysis.findings)


def test_a_wide_complex_tachycardia_is_not_called_narrow() -> None:
    truth = BeatTruth(**{**REENTRY.__dict__, "qrs_ms": 150.0, "t_mv": -0.3, "qt_ms": 320.0})
    for duration_s in (10, 120):
        recording, _ = synthetic_recording(truth, duration_s=duration_s, fs_hz=500)
        analysis = analyze(recording)
        assert analysis.rhythm_summary != rhythm.NARROW_TACHYCARDIA
        said = " ".join([analysis.strip.reason if analysis.strip else ""])
        assert "narrow QRS" not in said and CAUSES not in said
        assert not np.isnan(analysis.heart_rate.mean_bpm)
