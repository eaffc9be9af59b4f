"""Respiratory sinus arrhythmia is sinus rhythm, not atrial fibrillation.

Its intervals swing with each breath; after the short ones the P wave rides the previous T
wave, differently from beat to beat, so the P-wave consistency of all beats falls, and a
fuzzer's sinus rhythms at 85-110 bpm swinging 15-30 % read AF at high risk (10 of 30), some
with "no consistent P wave" beside plain P waves. After the longer intervals the same P wave
stands clear (`ml.atrial.p_waves_where_seen`), alone: in atrial flutter the flutter waves
before it are locked to the QRS too (`ml.atrial.lone_p_waves`)."""

import numpy as np

from ml.analysis import analyze
from ml.atrial import p_wave_consistency, p_waves_where_seen
from ml.recording import Recording
from ml.research.synthetic import atrial_flutter_mv, sinus_arrhythmia_mv, sinus_or_af_mv
from ml.strip_rhythm import Bands


def _read(duration_s: float, leads: tuple[str, ...], fs_hz: float, **rhythm: float):
    signal, onsets_s = sinus_arrhythmia_mv(duration_s, fs_hz=fs_hz, leads=leads, **rhythm)
    recording = Recording(fs_hz=fs_hz, lead_names=leads, signal_mv=signal, source_format="test")
    return analyze(recording), onsets_s


def _no_af(analysis) -> None:
    assert "AF" not in [f.code for f in analysis.findings]
    assert not any("fibrillation" in e.label for e in analysis.episodes)
    assert "fibrillation" not in analysis.rhythm_summary.lower()


def test_a_strip_of_marked_sinus_arrhythmia_is_not_af():
    analysis, onsets_s = _read(30.0, ("II", "V1"), 500.0, bpm=89, swing=0.29, breath_s=3.7)
    assert np.ptp(np.diff(onsets_s)) > 0.35  # the intervals swing by 0.4 s
    _no_af(analysis)
    assert analysis.strip is not None and analysis.strip.label != "af"
    assert "no consistent P wave" not in analysis.strip.reason


def test_two_minutes_of_sinus_arrhythmia_at_98_bpm_are_not_af():
    analysis, _ = _read(120.0, ("II",), 360.0, bpm=98, swing=0.24, breath_s=4.0, seed=5)
    _no_af(analysis)
    assert analysis.heart_rate.mean_bpm is not None and 90 <= analysis.heart_rate.mean_bpm <= 105


def test_p_waves_after_the_longer_intervals_are_consistent_in_sinus_arrhythmia_not_in_af():
    fs_hz = 360.0
    signal, onsets_s = sinus_arrhythmia_mv(60.0, fs_hz=fs_hz, bpm=100, swing=0.25, seed=1)
    p_band = Bands.of(signal[:, 0], fs_hz).p_waves_mv
    r_s = onsets_s + 0.045
    every = p_wave_consistency(p_band, fs_hz, r_s, None, prefiltered=True)
    seen = p_waves_where_seen(p_band, fs_hz, r_s, None)
    assert np.median(seen) >= 0.8 > np.median(every)
    rng = np.random.default_rng(2)
    af_mv, af_r_s = sinus_or_af_mv(rng.uniform(0.45, 0.9, 100), af=True, fs_hz=fs_hz)
    af_band = Bands.of(af_mv, fs_hz).p_waves_mv
    assert np.median(p_waves_where_seen(af_band, fs_hz, af_r_s, None)) < 0.3


def test_atrial_flutter_with_variable_conduction_stays_atrial_fibrillation_flutter():
    """Its flutter waves are locked to the QRS after the longer intervals too, and before the
    P region as well: no lone P wave, so the rule-out does not apply (it would have read the
    strip "other rhythm" had it looked at the P region alone)."""
    fs_hz = 360.0
    conduction = (4, 2, 3, 2, 4, 2, 2, 4)
    signal, _ = atrial_flutter_mv(30.0, fs_hz=fs_hz, flutter_per_min=260.0, conduction=conduction)
    recording = Recording(fs_hz=fs_hz, lead_names=("II",), signal_mv=signal, source_format="test")
    analysis = analyze(recording)
    assert analysis.strip is not None and analysis.strip.label == "af"
    assert "AF" in [f.code for f in analysis.findings]
