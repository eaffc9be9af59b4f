"""A strip's call and its signal quality say the same thing: a strip quality finds good
throughout is read, not called too noisy (`strip_rhythm.good_over_the_whole_strip`)."""

from __future__ import annotations

import numpy as np
import pytest

from ml.analysis import analyze
from ml.io import read_recording
from ml.research.databases import data_root
from ml.strip_rhythm import AF, UNCLASSIFIABLE, call_strip_from_features, shipped_rule


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
