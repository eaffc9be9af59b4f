"""What a read says where it says atrial fibrillation: no PR interval (so no first-degree AV
block), and the rate as the AF's ventricular rate, not as sinus brady- or tachycardia."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.findings import (
    AF_PR_REASON,
    NO_P_WAVE_PR_REASON,
    findings_of_read,
    without_pr_in_af,
    without_pr_without_p_waves,
)
from ml.hrv import HeartRateSummary
from ml.intervals import NO_P_WAVE_REASON, Intervals
from ml.io import read_recording
from ml.recording import Recording
from ml.research.databases import data_root
from ml.research.synthetic import synthetic_rhythm_mv
from ml.strip_rhythm import rules_out_sinus

CINC = data_root() / "cinc2017"


def _intervals(pr_ms: float | None = 180.0) -> Intervals:
    return Intervals(
        rr_ms=800.0,
        pr_ms=pr_ms,
        qrs_ms=90.0,
        qt_ms=380.0,
        qtc_bazett_ms=425.0,
        qtc_fridericia_ms=410.0,
        qrs_axis_deg=45.0,
        n_beats=40,
        p_onset_ms=-220.0 if pr_ms else None,
        confidence={"pr": "high", "qrs": "high", "qt": "high"} if pr_ms else {},
    )


BEATS_S = np.arange(40) * 0.8  # 40 beats over 32 s


def test_pr_is_withdrawn_when_most_measured_beats_are_in_af() -> None:
    read = without_pr_in_af(_intervals(), BEATS_S >= 8.0)  # AF holds three quarters
    assert read.pr_ms is None and read.p_onset_ms is None
    assert read.not_measurable == {"pr": AF_PR_REASON}
    assert "pr" not in read.confidence
    # The rest of the measurement stands.
    assert (read.qrs_ms, read.qt_ms, read.confidence["qt"]) == (90.0, 380.0, "high")


def test_pr_stays_when_sinus_beats_make_a_good_part_of_the_median_beat() -> None:
    for af_from_s in (24.0, 16.0):  # AF holds a quarter, then half, of the beats
        assert without_pr_in_af(_intervals(), af_from_s <= BEATS_S).pr_ms == 180.0
    # Nothing to withdraw, and no measured beat: unchanged.
    all_af = np.ones(len(BEATS_S), dtype=bool)
    assert without_pr_in_af(_intervals(None), all_af).not_measurable == {}
    assert without_pr_in_af(_intervals(), np.zeros(0, dtype=bool)).pr_ms == 180.0


@pytest.mark.skipif(not (CINC / "A00867.hea").is_file(), reason="cinc2017 not found")
def test_an_af_strip_whose_median_beat_shows_a_p_like_wave_gets_no_pr_and_no_av_block() -> None:
    # Labelled AF by the challenge; before this rule the read said AF *and* first-degree AV
    # block (PR 287 ms, high confidence): 11 of the 1,500 strips said both.
    # Its intervals are measured with the strip's S calls as conducted beats (since
    # 2026-12-06, `analysis._with_conducted_beats_in_af`): the median beat then shows no
    # P-like wave at all, and the PR says so.
    analysis = analyze(read_recording(CINC / "A00867.hea", uncalibrated_ok=True))
    assert analysis.main_finding.code == "AF"
    assert analysis.intervals.pr_ms is None
    assert analysis.intervals.not_measurable["pr"] == NO_P_WAVE_REASON
    assert "AV_BLOCK_1" not in {f.code for f in analysis.findings}
    reason = analysis.intervals.not_measurable["pr"]
    assert any(n == f"PR not measurable: {reason}." for n in analysis.notes)


@pytest.mark.skipif(not (CINC / "A00107.hea").is_file(), reason="cinc2017 not found")
def test_a_fast_af_strip_says_its_ventricular_rate_not_sinus_tachycardia() -> None:
    analysis = analyze(read_recording(CINC / "A00107.hea", uncalibrated_ok=True))
    codes = {f.code for f in analysis.findings}
    assert "AF" in codes and "TACHY" not in codes, codes
    (af,) = [f for f in analysis.findings if f.code == "AF"]
    rate = analysis.heart_rate.mean_bpm
    assert rate is not None and rate > 120
    assert af.detail.endswith(f"; mean ventricular rate {rate:.0f} bpm (fast)")


def test_af_at_or_over_the_rate_control_target_is_fast_not_controlled() -> None:
    """A clinician audit: cinc2017 A00456 read "mean ventricular rate 117 bpm (controlled)";
    rate control in AF aims at a resting rate under 110 bpm."""
    af = [rhythm.Episode(rhythm.AF, 0.0, 30.0, 40)]
    classes, probabilities = np.array(["N"] * 40), np.full((40, 5), 0.2)
    counts = {"N": 40, "S": 0, "V": 0, "F": 0, "Q": 0}
    said = {}
    for mean_bpm in (109.4, 109.6, 117.0, 80.0, 45.0):
        rate = HeartRateSummary(mean_bpm, 90.0, 140.0, None, None, None, 40)
        (finding,) = findings_of_read(af, _intervals(), rate, counts, classes, probabilities, 1.0)
        said[mean_bpm] = finding.detail.rsplit("(", 1)[1]
    assert said == {109.4: "controlled)", 109.6: "fast)", 117.0: "fast)", 80.0: "controlled)",
                    45.0: "slow)"}  # fmt: skip


def test_rate_findings_stand_outside_af() -> None:
    rate = HeartRateSummary(135.0, 110.0, 160.0, None, None, None, 40)
    af = [rhythm.Episode(rhythm.AF, 0.0, 30.0, 40)]
    classes, probabilities = np.array(["N"] * 40), np.full((40, 5), 0.2)
    counts = {"N": 40, "S": 0, "V": 0, "F": 0, "Q": 0}
    in_af = findings_of_read(af, _intervals(), rate, counts, classes, probabilities, 1.0)
    assert [f.code for f in in_af] == ["AF"] and "(fast)" in in_af[0].detail
    sinus = findings_of_read([], _intervals(), rate, counts, classes, probabilities, 0.0)
    assert [(f.code, f.label) for f in sinus] == [("TACHY", "Marked tachycardia")]


def test_no_pr_under_a_strip_call_that_found_no_p_wave() -> None:
    """A synthetic 10-s strip of atrial fibrillation (fibrillatory waves, RR at random) whose
    call is another rhythm, "... no consistent P wave": its median beat still showed a wave
    before the QRS and read "PR 286 ms" beside that call. The PR is not measurable now, with
    the call as the reason; and with no PR, no first-degree AV block."""
    rng = np.random.default_rng(22)
    rr_s = np.abs(rng.normal(0.75, 0.18, 20)) + 0.33
    onsets_s = 0.4 + np.concatenate([[0.0], np.cumsum(rr_s)])
    signal_mv = synthetic_rhythm_mv(
        onsets_s[onsets_s < 9.2],
        duration_s=10,
        fs_hz=500.0,
        p_waves=False,
        fibrillation_mv=0.06,
        seed=22,
    )
    analysis = analyze(Recording(500.0, ("II",), signal_mv[:, None]))
    assert analysis.strip is not None and rules_out_sinus(analysis.strip)  # the premise
    assert analysis.intervals.pr_ms is None
    assert analysis.intervals.not_measurable["pr"] == NO_P_WAVE_PR_REASON
    assert "AV_BLOCK_1" not in {f.code for f in analysis.findings}
    # A PR already not measurable keeps its own reason.
    unmeasured = without_pr_without_p_waves(_intervals(None))
    assert unmeasured.pr_ms is None and unmeasured.not_measurable == {}
