"""A P wave that runs into the QRS (a short PR, pre-excitation) is no first-degree AV block:
a PR over 200 ms needs a flat PR segment at the baseline before the QRS
(`ml.intervals._off_the_pr_segment`)."""

from __future__ import annotations

import pytest

from ml.analysis import analyze
from ml.recording import validated
from ml.research.synthetic import BeatTruth, synthetic_recording

TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def _read(pr_ms: float, qrs_ms: float = 90.0, p_duration_ms: float = 100.0):  # noqa: ANN202
    truth = BeatTruth(hr_bpm=61.0, pr_ms=pr_ms, qrs_ms=qrs_ms, p_duration_ms=p_duration_ms)
    recording, _ = synthetic_recording(truth, duration_s=30.0, fs_hz=500.0, leads=TWELVE, seed=1)
    return analyze(validated(recording))


@pytest.mark.parametrize("pr_ms", [87.0, 100.0])
def test_a_p_wave_running_into_the_qrs_is_no_first_degree_block(pr_ms: float) -> None:
    """Before: PR 334-346 ms at high confidence, "First-degree AV block" (the P search took
    the diastole before the P wave for one)."""
    analysis = _read(pr_ms, qrs_ms=118.0)
    assert analysis.intervals.pr_ms is None
    assert analysis.intervals.not_measurable["pr"].startswith("no flat PR segment at the baseline")
    assert "AV_BLOCK_1" not in {f.code for f in analysis.findings}


@pytest.mark.parametrize(("pr_ms", "block"), [(120.0, False), (300.0, True)])
def test_a_pr_ending_in_a_flat_segment_is_measured(pr_ms: float, block: bool) -> None:
    analysis = _read(pr_ms)
    assert analysis.intervals.pr_ms == pytest.approx(pr_ms, abs=15.0)
    assert analysis.intervals.confidence["pr"] == "high"
    assert ("AV_BLOCK_1" in {f.code for f in analysis.findings}) is block
