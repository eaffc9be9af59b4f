"""Atrial evidence: RR pattern irregularity and P-wave consistency, and AF detection using both
(synthetic signals whose truth is known: sinus with and without irregular RR, and AF)."""

from __future__ import annotations

import numpy as np

from ml import rhythm
from ml.analysis import analyze
from ml.atrial import (
    P_MIN_PRE_RR_S,
    P_REGION_S,
    lone_p_waves,
    moved_p_region_guard_s,
    p_wave_consistency,
    pattern_irregularity,
    strip_pattern_irregularity,
)
from ml.recording import Recording
from ml.research.synthetic import sinus_or_af_mv

FS_HZ = 360.0


def _signal(rr_s: np.ndarray, *, af: bool, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    return sinus_or_af_mv(rr_s, af=af, fs_hz=FS_HZ, seed=seed)


def test_p_waves_are_consistent_in_sinus_rhythm_even_when_rr_is_irregular() -> None:
    rng = np.random.default_rng(3)
    irregular_rr_s = rng.uniform(0.7, 1.1, 200)  # irregular, but every beat has its P wave
    for rr_s in (np.full(200, 0.8), irregular_rr_s):
        signal_mv, beat_s = _signal(rr_s, af=False)
        consistency = p_wave_consistency(signal_mv, FS_HZ, beat_s, np.full(beat_s.size, "N"), 32)
        assert np.percentile(consistency, 5) > 0.9


def test_p_waves_are_absent_in_atrial_fibrillation() -> None:
    rr_s = np.random.default_rng(4).uniform(0.4, 1.0, 200)
    signal_mv, beat_s = _signal(rr_s, af=True)
    consistency = p_wave_consistency(signal_mv, FS_HZ, beat_s, np.full(beat_s.size, "N"), 32)
    assert np.median(consistency) < rhythm.AF_P_CONSISTENCY / 2


def test_ventricular_and_close_coupled_beats_do_not_take_part() -> None:
    signal_mv, beat_s = _signal(np.full(60, 0.8), af=False)
    classes = np.full(beat_s.size, "V")
    assert p_wave_consistency(signal_mv, FS_HZ, beat_s, classes, 32).max() == 0.0
    assert p_wave_consistency(signal_mv, FS_HZ, np.array([]), np.array([]), 32).size == 0


def test_pattern_irregularity_short_sequences() -> None:
    assert pattern_irregularity(np.array([0.8, 0.9, 0.7]), 32).tolist() == [0.0, 0.0, 0.0]
    assert pattern_irregularity(np.full(10, 0.8), 32).tolist() == [0.0] * 10


def test_a_strip_judged_whole_scores_as_its_one_window() -> None:
    rng = np.random.default_rng(3)
    for n in (4, 5, 6, 9, 40, 41):
        for rr_s in (rng.uniform(0.4, 1.2, n), np.tile([0.6, 1.0], n)[:n], np.full(n, 0.8)):
            expected = float(np.median(pattern_irregularity(rr_s, rr_s.size - 3)))
            assert strip_pattern_irregularity(rr_s) == expected


def test_af_needs_irregular_rr_and_absent_p_waves() -> None:
    rr_s = np.random.default_rng(5).uniform(0.45, 1.1, 150)
    beat_s = np.concatenate([[1.0], 1.0 + np.cumsum(rr_s)])
    classes = np.full(beat_s.size, "N")
    duration_s = float(beat_s[-1]) + 1
    labels = {
        e.label for e in rhythm.detect_rhythms(beat_s, classes, duration_s, np.full(151, 0.05))
    }
    assert rhythm.AF in labels
    # The same intervals with consistent P waves (e.g. frequent atrial ectopy) are not AF.
    labels = {
        e.label for e in rhythm.detect_rhythms(beat_s, classes, duration_s, np.full(151, 0.9))
    }
    assert rhythm.AF not in labels


def test_analysis_finds_af_only_where_p_waves_are_gone() -> None:
    rng = np.random.default_rng(6)
    for af in (True, False):
        rr_s = rng.uniform(0.45, 1.0, 120) if af else rng.uniform(0.75, 1.15, 90)
        signal_mv, _ = _signal(rr_s, af=af, seed=7)
        recording = Recording(
            fs_hz=FS_HZ, lead_names=("II",), signal_mv=signal_mv[:, None], source_format="test"
        )
        result = analyze(recording)
        af_s = sum(e.duration_s for e in result.episodes if e.label == rhythm.AF)
        if af:
            assert af_s > 0.8 * rr_s.sum()
        else:
            assert af_s == 0.0


def test_flutter_waves_before_the_p_region_are_seen_at_fast_rates() -> None:
    """Waves locked to the QRS in the stretch before the P region (flutter at 2:1, 133 bpm)
    keep `lone_p_waves` at 0 however short the intervals: the guard that keeps the previous T
    wave out of a P region moved early (a long PR) is no guard for the default stretch, and
    once lengthening it there read AF episodes differently (nstdb's electrode-motion noise)."""
    fs_hz = 250.0
    t_s = np.arange(0, 30.0, 1 / fs_hz)
    flutter_mv = 0.1 * np.sin(2 * np.pi * t_s / 0.225)  # two waves to every beat
    beat_s = np.arange(1.0, 29.0, 0.45)
    assert moved_p_region_guard_s(P_REGION_S) == P_MIN_PRE_RR_S
    assert np.all(lone_p_waves(flutter_mv, fs_hz, beat_s, None) == 0.0)
    assert np.median(p_wave_consistency(flutter_mv, fs_hz, beat_s, None, prefiltered=True)) > 0.9
