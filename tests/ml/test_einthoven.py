"""Leads I, II and III that break Einthoven's law (`ml.einthoven`): one limb lead written upside
down gives no QRS axis and says why, where it read a false "Right axis deviation"; electrode
swaps, a derived lead II and noise keep the law and the axis."""

import numpy as np

from ml.analysis import analyze, machine_notes
from ml.einthoven import LIMB_LEADS_DISAGREE
from ml.lead_reversal import ARMS_SWAPPED
from ml.recording import Recording
from ml.research.synthetic import BeatTruth, synthetic_recording
from tests.ml.test_lead_reversal import TWELVE, _arms_swapped


def _with_signal(recording: Recording, signal_mv: np.ndarray) -> Recording:
    return Recording(
        fs_hz=recording.fs_hz, lead_names=TWELVE, signal_mv=signal_mv, source_format="t"
    )


def _inverted(recording: Recording, lead: str) -> Recording:
    """One lead's polarity reversed (a device's or an export's), the others as recorded."""
    signal = recording.signal_mv.copy()
    signal[:, TWELVE.index(lead)] *= -1
    return _with_signal(recording, signal)


def test_lead_i_upside_down_gives_no_axis_and_says_why():
    """The upload audit's ECG: a true +60 degrees read "Right axis deviation, QRS axis +120"
    with lead I inverted, the notes silent about the leads."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=70, r_mv=0.9), duration_s=10.0, seed=1)
    assert abs(analyze(recording).intervals.qrs_axis_deg - 60) < 5
    analysis = analyze(_inverted(recording, "I"))
    assert analysis.intervals.qrs_axis_deg is None
    assert analysis.intervals.not_measurable["axis"] == LIMB_LEADS_DISAGREE
    assert f"QRS axis not measurable: {LIMB_LEADS_DISAGREE}." in machine_notes(analysis)
    assert "RIGHT_AXIS" not in [f.code for f in analysis.findings]
    (normal,) = analysis.findings  # no plain "normal" beside it
    assert normal.code == "NORMAL" and "do not add up" in normal.detail
    assert analysis.intervals.qrs_ms is not None  # the intervals do not depend on polarity


def test_lead_ii_or_iii_upside_down_at_other_axes():
    for axis_deg, lead in ((20, "II"), (100, "III"), (-20, "I")):
        recording, _ = synthetic_recording(BeatTruth(hr_bpm=75, axis_deg=axis_deg), duration_s=10.0)
        intervals = analyze(_inverted(recording, lead)).intervals
        assert intervals.not_measurable.get("axis") == LIMB_LEADS_DISAGREE, (axis_deg, lead)


def test_electrode_swaps_a_derived_lead_ii_and_noise_keep_the_axis():
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=72, axis_deg=50), duration_s=10.0)
    # Arm electrodes swapped keep the law (-I + II = III'): still said as swapped arms.
    swapped = analyze(_arms_swapped(recording)).intervals
    assert swapped.not_measurable["axis"] == ARMS_SWAPPED
    derived = recording.signal_mv.copy()
    derived[:, 1] = derived[:, 0] + derived[:, 2]  # lead II computed by the device
    noisy = recording.signal_mv + np.random.default_rng(3).normal(0, 0.1, derived.shape)
    for signal in (derived, noisy):
        intervals = analyze(_with_signal(recording, signal)).intervals
        assert "axis" not in intervals.not_measurable
        assert abs(intervals.qrs_axis_deg - 50) < 10


def _swapped(recording: Recording, lead_a: str, lead_b: str) -> Recording:
    """Two channels labelled as each other (a device's or an export's)."""
    signal = recording.signal_mv.copy()
    a, b = TWELVE.index(lead_a), TWELVE.index(lead_b)
    signal[:, [a, b]] = signal[:, [b, a]]
    return _with_signal(recording, signal)


def test_an_augmented_lead_upside_down_or_mislabelled_gives_no_axis_and_names_it():
    """A 12-lead audit: a true +57 degrees read "Left axis deviation, QRS axis -57°" with aVF
    inverted, though I + III = II held; aVR and aVF swapped read +60 as -58."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=70, axis_deg=57), duration_s=10.0)
    analysis = analyze(_inverted(recording, "aVF"))
    assert analysis.intervals.qrs_axis_deg is None
    reason = analysis.intervals.not_measurable["axis"]
    assert reason.startswith("lead aVF does not match leads I, II and III"), reason
    assert f"QRS axis not measurable: {reason}." in machine_notes(analysis)
    assert "LEFT_AXIS" not in [f.code for f in analysis.findings]
    (normal,) = analysis.findings
    assert "aVF does not match" in normal.detail  # said beside "No significant arrhythmia"
    for axis_deg, lead_a, lead_b in ((60, "aVR", "aVF"), (60, "aVL", "aVF"), (-45, "aVF", "aVF")):
        recording, _ = synthetic_recording(BeatTruth(hr_bpm=70, axis_deg=axis_deg), duration_s=10.0)
        wrong = (
            _inverted(recording, lead_a)
            if lead_a == lead_b
            else _swapped(recording, lead_a, lead_b)
        )
        intervals = analyze(wrong).intervals
        assert intervals.qrs_axis_deg is None, (axis_deg, lead_a, lead_b)
        assert "aVF" in intervals.not_measurable["axis"]


def test_augmented_leads_right_keep_the_axis():
    for axis_deg in (-45, 57, 100):
        recording, _ = synthetic_recording(BeatTruth(hr_bpm=70, axis_deg=axis_deg), duration_s=10.0)
        intervals = analyze(recording).intervals
        assert "axis" not in intervals.not_measurable
        assert abs(intervals.qrs_axis_deg - axis_deg) < 5
