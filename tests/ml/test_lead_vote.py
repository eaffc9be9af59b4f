"""A beat most leads of a 12-lead ECG see is a beat, even where the analysis lead and its
companion see nothing (`ml.lead_vote`); and a strip whose intervals repeat a pattern is not
atrial fibrillation (`ml.strip_rhythm.rules_out_af`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ml import lead_vote
from ml.analysis import analyze
from ml.recording import Recording
from ml.research.synthetic import BeatTruth, beats_in_leads_mv, lead_gain, synthetic_recording
from ml.strip_rhythm import AF_EXCLUDING_PATTERN_IRREGULARITY, rules_out_af

FS_HZ = 360.0
TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def _bigeminy_isoelectric_in_lead_ii() -> tuple[np.ndarray, int]:
    """60 s of ventricular bigeminy (62 bpm) whose PVCs point at 150 degrees: perpendicular
    to lead II, so their QRS is flat there and plain in the other leads."""
    sinus = BeatTruth(hr_bpm=62, axis_deg=60)
    pvc = BeatTruth(hr_bpm=62, axis_deg=150, qrs_ms=150, r_mv=1.6, p_mv=0.0, t_mv=-0.4)
    assert abs(lead_gain("II", pvc.axis_deg)) < 1e-9
    beats, t_s = [], 0.5
    while t_s < 58.5:
        beats.append((t_s, sinus))
        beats.append((t_s + 0.62, pvc))
        t_s += 0.62 + 1.31
    return beats_in_leads_mv(beats, 60.0, FS_HZ, TWELVE, noise_mv=0.01, seed=5), len(beats)


def test_a_12_lead_bigeminy_whose_pvcs_lead_ii_cannot_see_reads_bigeminy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signal_mv, n_beats = _bigeminy_isoelectric_in_lead_ii()
    analysis = analyze(Recording(FS_HZ, TWELVE, signal_mv))
    # Lead II misses every PVC: the read turns to a lead that sees them (`test_a_lead_...`).
    assert analysis.analysis_lead == "V5"
    assert "lead II found 31 of the 62 beats most leads agree on" in analysis.analysis_lead_reason
    assert abs(analysis.beats.samples.size - n_beats) <= 1
    codes = {f.code for f in analysis.findings}
    assert "BIGEMINY" in codes and "AF" not in codes
    assert analysis.heart_rate.mean_bpm == pytest.approx(62, abs=2)
    assert np.count_nonzero(analysis.beats.classes == "V") >= 0.9 * n_beats / 2
    # Without the vote every PVC was missed: "marked bradycardia, 31 bpm", no PVC.
    monkeypatch.setattr(lead_vote, "MIN_LEADS", 99)
    before = analyze(Recording(FS_HZ, TWELVE, signal_mv))
    assert before.beats.samples.size <= n_beats / 2 + 1
    assert before.heart_rate.mean_bpm is not None and before.heart_rate.mean_bpm < 35


def test_a_vote_needs_most_leads_and_three_leads_or_more() -> None:
    signal_mv, _ = _bigeminy_isoelectric_in_lead_ii()
    assert lead_vote.lead_detections(signal_mv, FS_HZ, [1, 6]) is None  # two leads
    two = lead_vote.beats_most_leads_see(None, FS_HZ, np.array([100]))
    assert two.tolist() == [100]  # two leads: the two-lead detection stands alone
    # One lead's beats alone (lead I) are no majority of five flat leads and lead I.
    lone = np.zeros((signal_mv.shape[0], 6))
    lone[:, 0] = signal_mv[:, 0]
    alone = lead_vote.lead_detections(lone, FS_HZ, list(range(6)))
    assert lead_vote.beats_most_leads_see(alone, FS_HZ, np.array([], int)).size == 0
    everywhere = np.repeat(signal_mv[:, [0]], 6, axis=1)
    detections = lead_vote.lead_detections(everywhere, FS_HZ, list(range(6)))
    assert lead_vote.beats_most_leads_see(detections, FS_HZ, np.array([], int)).size > 50


def _qrs_isoelectric_in_lead_ii(hr_bpm: float, seed: int) -> Recording:
    """10 s of sinus rhythm whose QRS axis (-30 degrees) is perpendicular to lead II and whose
    P and T waves point at 60 degrees: lead II shows tall P and T waves and no QRS."""
    qrs, _ = synthetic_recording(
        BeatTruth(hr_bpm=hr_bpm, axis_deg=-30, p_mv=0.0, t_mv=0.0), duration_s=10.0, seed=seed
    )
    waves, _ = synthetic_recording(
        BeatTruth(hr_bpm=hr_bpm, axis_deg=60, r_mv=0.0), duration_s=10.0, seed=seed, noise_mv=0
    )
    return replace(qrs, signal_mv=qrs.signal_mv + waves.signal_mv)


@pytest.mark.parametrize(("hr_bpm", "seed"), [(60, 1), (75, 1), (75, 2)])
def test_a_lead_that_cannot_find_the_beats_is_not_the_analysis_lead(
    hr_bpm: float, seed: int
) -> None:
    """Lead II counted its P and T waves as beats: sinus rhythm at 75 bpm read "Other rhythm,
    fast (150 bpm)", every interval not measurable (an audit of the 12-lead path)."""
    analysis = analyze(_qrs_isoelectric_in_lead_ii(hr_bpm, seed))
    assert analysis.analysis_lead == "V5"
    assert analysis.analysis_lead_reason.startswith("lead V5: lead II found 0 of the")
    assert analysis.heart_rate.mean_bpm == pytest.approx(hr_bpm, abs=2)
    assert analysis.rhythm_summary == "Sinus rhythm"
    assert {"NORMAL"} == {f.code for f in analysis.findings}
    assert analysis.intervals.qrs_ms is not None and analysis.intervals.pr_ms is not None
    axis = analysis.intervals.qrs_axis_deg
    assert axis is not None and abs(axis + 30) < 10


def test_intervals_that_repeat_a_pattern_rule_atrial_fibrillation_out() -> None:
    features = {
        "log_median_successive_difference_over_rr": np.log(0.6),  # bigeminy: 0.62 / 1.31 s
        "log_rmssd_over_rr": np.log(0.7),
        "p_wave_consistency": 0.5,
        "log_pattern_irregularity": np.log(0.001),  # the pattern repeats exactly at lag 2
    }
    assert rules_out_af(features)
    features["log_pattern_irregularity"] = np.log(AF_EXCLUDING_PATTERN_IRREGULARITY * 1.5)
    assert not rules_out_af(features)
