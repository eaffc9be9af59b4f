"""A machine read of "No significant arrhythmia" says what it could not exclude, and the form
then does not preselect a normal ECG (`ml.findings._withheld_doubt`,
`portal.review.routes._normal_in_doubt`): a QRS that would be wide measured with low
confidence (`without_doubtful_wide_qrs`), and leads not read. A 12-lead audit: a left bundle
branch block of 150 ms read "QRS 166 ms (low confidence)" beside "No significant arrhythmia",
a routine "Normal ECG" on the worklist; a flat V3 read "No significant arrhythmia" with
"Normal ECG" preselected."""

from __future__ import annotations

import dataclasses

from ml.analysis import analyze
from ml.findings import WIDE_QRS_MS, _withheld_doubt, without_doubtful_wide_qrs
from ml.intervals import NO_P_WAVE_REASON
from ml.recording import Recording, validated
from ml.research.synthetic import BeatTruth, synthetic_recording

TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def _twelve_lead(flat: str | None = None) -> Recording:
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=70.0), duration_s=10.0, fs_hz=500.0, leads=TWELVE, seed=5
    )
    signal = recording.signal_mv.copy()
    if flat is not None:
        signal[:, TWELVE.index(flat)] = 0.0
    return validated(dataclasses.replace(recording, signal_mv=signal))


def test_a_doubtful_wide_qrs_is_withheld_with_its_figure_and_said_beside_a_normal_read() -> None:
    measured = analyze(_twelve_lead()).intervals
    assert measured.qrs_ms is not None and measured.qrs_ms < WIDE_QRS_MS
    wide = dataclasses.replace(measured, qrs_ms=166.0)
    low = dataclasses.replace(wide, confidence={**wide.confidence, "qrs": "low"})
    high = dataclasses.replace(wide, confidence={**wide.confidence, "qrs": "high"})
    narrow_low = dataclasses.replace(measured, confidence={**measured.confidence, "qrs": "low"})
    withheld = without_doubtful_wide_qrs(low)
    assert withheld.qrs_ms is None and "qrs" not in withheld.confidence
    reason = withheld.not_measurable["qrs"]
    assert reason.startswith("the QRS found (166 ms) would be wide (120 ms or more")
    assert withheld.qrs_onset_ms == low.qrs_onset_ms  # still marked, to be checked
    assert f"QRS not measurable: {reason}" in _withheld_doubt(withheld)
    assert without_doubtful_wide_qrs(high) == high  # a sure wide QRS makes its finding
    assert without_doubtful_wide_qrs(narrow_low) == narrow_low


def test_a_lead_not_read_is_named_beside_no_significant_arrhythmia() -> None:
    clean = analyze(_twelve_lead())
    assert [(f.code, f.detail) for f in clean.findings] == [("NORMAL", "")]
    flat_v3 = analyze(_twelve_lead(flat="V3"))
    (finding,) = flat_v3.findings
    assert finding.code == "NORMAL"
    assert finding.detail == (
        "lead(s) V3 not read (see the notes): what shows only there is not excluded"
    )
    assert any(n.startswith("Lead(s) V3 not read") for n in flat_v3.notes)


def test_a_lead_ii_unreadable_throughout_leaves_the_rhythm_to_lead_i() -> None:
    """A 12-lead audit: lead II under heavy noise (its P waves crisp in the other leads) read
    "Other rhythm: no consistent P wave", PR not measurable, and the signed PDF's rhythm strip
    was that noise; the beats already came from the companion lead."""
    import numpy as np

    recording = _twelve_lead()
    rng = np.random.default_rng(7)
    signal = recording.signal_mv.copy()
    t_s = np.arange(len(signal)) / recording.fs_hz
    ii = TWELVE.index("II")
    signal[:, ii] += rng.normal(0, 0.25, len(signal)) + 0.6 * np.sin(2 * np.pi * 0.3 * t_s)
    signal[:, ii] += np.where(rng.random(len(signal)) < 0.01, rng.normal(0, 2.0, len(signal)), 0)
    noisy = analyze(validated(dataclasses.replace(recording, signal_mv=signal)))
    clean = analyze(recording)
    assert clean.analysis_lead == "II"
    assert noisy.analysis_lead == "I", noisy.notes[:2]
    assert "Analysed on lead I: lead II, the usual one, is unreadable throughout." in noisy.notes
    assert [f.code for f in noisy.findings] == [f.code for f in clean.findings] == ["NORMAL"]
    assert noisy.intervals.pr_ms is not None


def test_a_withheld_wide_qrs_draws_no_voltage_finding() -> None:
    """A review of the withheld wide QRS: a 12-lead bundle-branch-like QRS of 150 ms with tall
    R waves (Sokolow-Lyon 3.8 mV), its QRS withheld as doubtful, read "Left ventricular
    hypertrophy" by voltage: a QRS not measured is no sure narrow one."""
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=45.0, qrs_ms=150.0, r_mv=2.4), duration_s=10.0, fs_hz=500.0,
        leads=TWELVE, seed=5,
    )  # fmt: skip
    analysis = analyze(validated(recording))
    assert analysis.intervals.qrs_ms is None and "qrs" in analysis.intervals.not_measurable
    assert (analysis.intervals.sokolow_lyon_mv or 0) >= 3.5
    codes = {f.code for f in analysis.findings}
    assert not codes & {"LVH", "LOW_VOLTAGE", "ST_ELEVATION", "ST_DEPRESSION"}, codes


def test_no_p_wave_in_any_lead_is_said_beside_a_normal_read() -> None:
    """A clinician-eye audit: cinc2017 A08195 (reference AF) read "Sinus rhythm" and "No
    significant arrhythmia" beside "PR not measurable (no consistent P wave before the QRS in
    any lead)", was signed as prefilled "Normal ECG", and the patient read "Your heart test
    looked normal."; a normal ECG has a P wave before every QRS."""
    measured = analyze(_twelve_lead()).intervals
    assert _withheld_doubt(measured) == ""  # its P waves were found
    reasons = {**measured.not_measurable, "pr": NO_P_WAVE_REASON}
    without = dataclasses.replace(measured, pr_ms=None, not_measurable=reasons)
    assert _withheld_doubt(without) == (
        "PR not measurable: no consistent P wave before the QRS in any lead; check the strip "
        "for a P wave before every QRS before calling the ECG normal"
    )


def test_a_sinus_strip_without_a_p_wave_says_so_in_its_call() -> None:
    """A review: cinc2017 A02807 (reference AF) read "Sinus rhythm" with atrial ectopic beats
    and no word that no P wave was found, the doubt said beside "No significant arrhythmia"
    only. The call stands (most such strips are normal), and says it."""
    from ml.sinus_strip import NO_P_WAVE_FOUND, sinus_without_a_p_wave_said
    from ml.strip_rhythm import AF, SINUS, StripCall

    measured = analyze(_twelve_lead()).intervals
    without_p = dataclasses.replace(
        measured, not_measurable={**measured.not_measurable, "pr": NO_P_WAVE_REASON}
    )
    sinus = StripCall(SINUS, "Sinus rhythm", "regular, median rate 66 bpm", None, {})
    said = sinus_without_a_p_wave_said(sinus, without_p)
    assert said.label == SINUS and said.reason == f"regular, median rate 66 bpm; {NO_P_WAVE_FOUND}"
    assert sinus_without_a_p_wave_said(sinus, measured) == sinus  # a P wave was found
    af = dataclasses.replace(sinus, label=AF, text="Atrial fibrillation/flutter")
    assert sinus_without_a_p_wave_said(af, without_p) == af
