"""A strip's call and its signal quality say the same thing: a strip quality finds good
throughout is read, not called too noisy (`strip_rhythm.good_over_the_whole_strip`), and a
strip noisy in every lead over most of it, its QRS complexes unalike, is not called AF from
the noise's irregularity (`strip_rhythm.af_from_noise`); a strip good in some lead over less
than a tenth of it, its QRS complexes unalike, reads too noisy, as a longer recording does
(`analysis.mostly_noise_strip`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.analysis import analyze
from ml.io import read_recording
from ml.research.databases import data_root
from ml.research.synthetic import sinus_or_af_mv
from ml.strip_rhythm import (
    AF,
    LABEL_TEXT,
    UNCLASSIFIABLE,
    StripCall,
    af_from_noise,
    call_strip_from_features,
    shipped_rule,
)
from tests.support.ecg_files import write_record_piece


def _features(log_beat_residual: float) -> dict[str, float]:
    rule = shipped_rule()
    features = dict(zip(rule.features, rule.mean.tolist(), strict=True))
    features["p_wave_consistency"] = 0.05
    return features | {"log_beat_residual": log_beat_residual}


def test_the_noise_measure_does_not_overrule_quality_good_throughout() -> None:
    noisy = _features(shipped_rule().max_log_beat_residual + 0.3)
    assert call_strip_from_features(noisy, shipped_rule()).label == UNCLASSIFIABLE
    read = call_strip_from_features(noisy, shipped_rule(), good_throughout=True)
    assert read.label != UNCLASSIFIABLE and read.af_probability is not None


@pytest.mark.skipif(
    not (data_root() / "cinc2017" / "A00589.hea").is_file(), reason="cinc2017 not found"
)
@pytest.mark.parametrize("name", ["A00589", "A00781"])
def test_a_clean_af_strip_with_baseline_swings_is_read_not_too_noisy(name: str) -> None:
    """cinc2017 A00589 and A00781 (reference AF): clean irregular narrow QRS complexes without
    P waves, a baseline swing or two of 2-3 mV. They read "Unclassifiable: too noisy ...
    repeat the recording" and "Heart rate not measurable" beside "100 % of the recording is
    of good quality": the rule's noise measure counted the swings between the beats."""
    analysis = analyze(read_recording(data_root() / "cinc2017" / f"{name}.hea"))
    assert analysis.good_quality_fraction == pytest.approx(1.0)
    assert analysis.strip is not None and analysis.strip.label == AF
    assert "NOISY_STRIP" not in {f.code for f in analysis.findings}
    assert analysis.heart_rate.mean_bpm is not None and np.isfinite(analysis.heart_rate.mean_bpm)


def _af_strip(seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rr_s = np.random.default_rng(seed).uniform(0.45, 1.1, 80)
    signal_mv, beat_s = sinus_or_af_mv(rr_s, af=True, fs_hz=300.0, seed=seed)
    signal_mv = signal_mv[: 60 * 300]
    return signal_mv, np.round(beat_s[beat_s < 59.5] * 300).astype(np.int64)


def test_af_with_its_qrs_complexes_alike_stays_af_in_noisy_signal() -> None:
    """True AF strips flagged noisy throughout (cinc2017: fast irregular beats make quality's
    beat windows differ) keep their call: their QRS complexes are alike."""
    signal_mv, beats = _af_strip()
    call = StripCall(AF, LABEL_TEXT[AF], "RR intervals irregular without a pattern", 0.9, {})
    assert af_from_noise(call, signal_mv, 300.0, beats, [(0.0, 60.0)]) is call
    # Detections in noise: half of them no QRS complex, the real ones distorted.
    rng = np.random.default_rng(1)
    noisy_mv = signal_mv + np.convolve(rng.normal(0, 0.25, signal_mv.size), np.ones(9) / 3, "same")
    false = rng.integers(300, 59 * 300, beats.size)
    detections = np.sort(np.concatenate([beats, false]))
    assert af_from_noise(call, noisy_mv, 300.0, detections, [(0.0, 60.0)]).label == UNCLASSIFIABLE
    # ... but not where the noise covers half of the strip or less.
    assert af_from_noise(call, noisy_mv, 300.0, detections, [(0.0, 30.0)]) is call


NSTDB_PIECES = [("118e06", 1320), ("118e00", 360), ("119e00", 600)]


@pytest.mark.skipif(not (data_root() / "nstdb" / "118e06.hea").is_file(), reason="nstdb not found")
@pytest.mark.parametrize(("name", "start_s"), NSTDB_PIECES)
def test_a_60_s_strip_of_electrode_motion_noise_is_not_called_af(
    name: str, start_s: int, tmp_path: Path
) -> None:
    """nstdb 118 and 119 (no AF in their reference) under electrode-motion noise: 60-s pieces,
    0 % good in every lead, read "Atrial fibrillation/flutter" at high risk, where the 30-min
    read of 118e06 finds no AF."""
    piece = write_record_piece(tmp_path, data_root() / "nstdb" / name, start_s, 60)
    analysis = analyze(read_recording(piece))
    assert analysis.good_quality_fraction == 0.0
    assert analysis.strip is not None and analysis.strip.label == UNCLASSIFIABLE
    assert "signal noisy in every lead over 100 % of the strip" in analysis.strip.reason
    assert "AF" not in {f.code for f in analysis.findings}
    assert analysis.main_finding.code == "NOISY_STRIP"


@pytest.mark.skipif(
    not (data_root() / "cinc2017" / "A01363.hea").is_file(), reason="cinc2017 not found"
)
def test_a_true_af_strip_flagged_noisy_throughout_stays_af() -> None:
    """cinc2017 A01363 (reference AF, 175 bpm): every segment "beats differ", 0 % good."""
    analysis = analyze(read_recording(data_root() / "cinc2017" / "A01363.hea"))
    assert analysis.good_quality_fraction == 0.0
    assert analysis.strip is not None and analysis.strip.label == AF


NOISY_EVERYWHERE_PIECES = [("118e_6", 780, 60), ("118e_6", 780, 61), ("119e_6", 300, 30)]


@pytest.mark.skipif(not (data_root() / "nstdb" / "118e_6.hea").is_file(), reason="nstdb not found")
@pytest.mark.parametrize(("name", "start_s", "duration_s"), NOISY_EVERYWHERE_PIECES)
def test_a_strip_noisy_everywhere_reads_too_noisy_as_a_longer_one_does(
    name: str, start_s: int, duration_s: int, tmp_path: Path
) -> None:
    """Before: 60 s of 118e_6 from 780 s read "Other rhythm", ventricular bigeminy and a mean
    rate of 106 bpm (the reference about 72, no ventricular beat) beside "0 % of the recording
    is of good quality"; at 62 s, no longer a strip, it read too noisy."""
    piece = write_record_piece(tmp_path, data_root() / "nstdb" / name, start_s, duration_s)
    analysis = analyze(read_recording(piece))
    assert analysis.good_quality_fraction == 0.0
    assert analysis.strip is not None and analysis.strip.label == UNCLASSIFIABLE
    assert analysis.rhythm_summary == "Unclassifiable: too noisy"
    assert "good signal over only 0% of the recording" in analysis.strip.reason
    assert [f.code for f in analysis.findings] == ["NOISY_STRIP"]
    assert analysis.heart_rate.mean_bpm is None
