"""A wide-complex tachycardia is read as ventricular tachycardia until proven otherwise
(`ml.findings.wide_complex_tachycardia`).

The beat classifier reads each beat against the patient's dominant beat, so where every beat
is ventricular none looks ventricular: synthetic monomorphic VT read "Other rhythm: fast", a
wide QRS at medium risk and, on 12 leads, a first-degree AV block (its "P wave" the T wave
before), and no VT.
"""

from __future__ import annotations

import pytest

from ml.analysis import analyze
from ml.findings import (
    ONE_LEAD_WIDE_COMPLEX,
    WIDE_COMPLEX_PR_REASON,
    wide_complex_tachycardia,
    without_pr_in_wide_complex_tachycardia,
)
from ml.hrv import HeartRateSummary
from ml.intervals import Intervals
from ml.research.synthetic import BeatTruth, synthetic_recording


def _vt(hr_bpm: float, qt_ms: float, t_duration_ms: float) -> BeatTruth:
    """Wide complexes without P waves, T opposite the QRS, as monomorphic VT draws them."""
    return BeatTruth(
        hr_bpm=hr_bpm, qrs_ms=150, qt_ms=qt_ms, p_mv=0.0, t_mv=-0.4,
        t_duration_ms=t_duration_ms, axis_deg=-60, r_mv=1.5,
    )  # fmt: skip


@pytest.mark.parametrize(("hr_bpm", "qt_ms", "t_ms"), [(150, 300, 100), (140, 330, 130)])
def test_a_strip_of_wide_complexes_at_a_marked_tachycardia_reads_vt(
    hr_bpm: float, qt_ms: float, t_ms: float
) -> None:
    recording, _ = synthetic_recording(
        _vt(hr_bpm, qt_ms, t_ms), duration_s=30, fs_hz=500, leads=("II", "V1")
    )
    analysis = analyze(recording)
    assert analysis.main_finding.code == "VT" and analysis.main_finding.risk == "high"
    detail = analysis.main_finding.detail
    assert detail.startswith("wide-complex tachycardia: QRS 150 ms at a mean of")
    assert "ventricular tachycardia until proven otherwise" in detail
    codes = [f.code for f in analysis.findings]
    assert "WIDE_QRS" not in codes and "AV_BLOCK_1" not in codes
    assert analysis.intervals.pr_ms is None


def test_no_pr_is_given_in_a_wide_complex_tachycardia() -> None:
    """On 12 leads the wave before the QRS, the T wave before, read a PR of 336 ms at high
    confidence, and a first-degree AV block beside the tachycardia."""
    measured = Intervals(
        rr_ms=364, pr_ms=336, qrs_ms=164, qt_ms=330, qtc_bazett_ms=547,
        qtc_fridericia_ms=464, qrs_axis_deg=-60, n_beats=70, p_onset_ms=-390,
        confidence={"pr": "high", "qrs": "high", "qt": "high"},
    )  # fmt: skip
    rate = HeartRateSummary(165.0, 160.0, 170.0, None, None, None, 0, "", None)
    assert wide_complex_tachycardia(measured, rate, af_beat_share=0.0)
    assert not wide_complex_tachycardia(measured, rate, af_beat_share=0.9)  # AF with a BBB
    without = without_pr_in_wide_complex_tachycardia(measured)
    assert without.pr_ms is None and without.p_onset_ms is None
    assert without.not_measurable == {"pr": WIDE_COMPLEX_PR_REASON}
    assert without.confidence == {"qrs": "high", "qt": "high"}


def test_one_lead_says_what_a_wide_complex_tachycardia_would_mean_without_calling_vt() -> None:
    """One lead's QRS width is not enough (cinc2017 A06992 read 157 ms for an 80-ms complex at
    122 bpm), short of a clearly wide QRS at a clearly fast rate."""
    recording, _ = synthetic_recording(_vt(140, 330, 130), duration_s=30, fs_hz=500, leads=("II",))
    analysis = analyze(recording)
    codes = [f.code for f in analysis.findings]
    assert "VT" not in codes
    [wide] = [f for f in analysis.findings if f.code == "WIDE_QRS"]
    assert wide.detail.endswith(ONE_LEAD_WIDE_COMPLEX)


def test_one_lead_reads_vt_where_the_qrs_is_clearly_wide_at_a_clearly_fast_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sustained monomorphic VT at 165 bpm from one lead came at medium risk as a wide QRS (4
    of 11 synthetic one-lead VTs, the ectopy fuzzer)."""
    import ml.findings as findings_module

    truth = BeatTruth(
        hr_bpm=165, qrs_ms=150, qt_ms=300, p_mv=0.0, t_mv=-0.4, t_duration_ms=100,
        axis_deg=-60, r_mv=1.5,
    )  # fmt: skip
    recording, _ = synthetic_recording(truth, duration_s=30, fs_hz=500, leads=("II",))
    analysis = analyze(recording)
    assert analysis.main_finding.code == "VT" and analysis.main_finding.risk == "high"
    assert analysis.main_finding.detail.endswith("read from one lead only: check the strip")
    assert "WIDE_QRS" not in [f.code for f in analysis.findings]
    assert analysis.intervals.pr_ms is None
    monkeypatch.setattr(findings_module, "ONE_LEAD_VT_BPM", 1000.0)
    before = analyze(recording)
    assert "VT" not in [f.code for f in before.findings]


@pytest.mark.parametrize(
    ("truth", "codes"),
    [
        (BeatTruth(hr_bpm=135, qt_ms=290, t_duration_ms=120), ["OTHER_RHYTHM"]),  # narrow
        (BeatTruth(hr_bpm=80, qrs_ms=150, qt_ms=420), ["WIDE_QRS"]),  # wide, not fast
    ],
)
def test_a_narrow_tachycardia_or_a_slow_wide_qrs_is_no_vt(
    truth: BeatTruth, codes: list[str]
) -> None:
    recording, _ = synthetic_recording(truth, duration_s=30, fs_hz=500, leads=("II", "V1"))
    assert [f.code for f in analyze(recording).findings] == codes
