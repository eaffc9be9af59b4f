"""Left and right axis deviation (`ml.findings.axis_findings`): a 12-lead ECG with a QRS axis
of -44 or +119 degrees read "No significant arrhythmia", and "Normal ECG" was signed beside
it; the patient read "Your heart test looked normal" (an audit of the 12-lead path)."""

from __future__ import annotations

import pytest

from ml import vocabulary
from ml.analysis import analyze
from ml.research.synthetic import BeatTruth, synthetic_recording


@pytest.mark.parametrize(
    ("axis_deg", "code"), [(-60, "LEFT_AXIS"), (-45, "LEFT_AXIS"), (120, "RIGHT_AXIS"),
                           (105, "RIGHT_AXIS"), (60, "NORMAL"), (0, "NORMAL")],
)  # fmt: skip
def test_the_axis_beyond_its_normal_range_is_a_finding(axis_deg: int, code: str) -> None:
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=72, axis_deg=axis_deg), duration_s=10.0, seed=3
    )
    analysis = analyze(recording)
    measured = analysis.intervals.qrs_axis_deg
    assert measured is not None and abs(measured - axis_deg) < 10
    codes = [f.code for f in analysis.findings]
    assert codes == [code], codes
    if code != "NORMAL":
        assert analysis.findings[0].detail == f"QRS axis {round(measured):+d}°"


def test_axis_statements_must_agree_with_the_axis_signed() -> None:
    def refused(codes: list[str], axis_deg: float) -> str:
        signed = {"heart_rate_bpm": 72.0, "qrs_axis_deg": axis_deg}
        return " ".join(vocabulary.measurement_contradictions(codes, signed, strip=True))

    assert "needs a QRS axis of -30° to +90°" in refused(["NORMAL", "SINUS"], -44)
    assert "needs a QRS axis" in refused(["NORMAL", "SINUS"], 119)
    assert refused(["NORMAL", "SINUS"], 85) == ""
    assert '"Left axis deviation" is an axis from -30° to -90°' in refused(
        ["LEFT_AXIS", "SINUS"], 20
    )
    assert "from -30° to -90°" in refused(["LEFT_AXIS", "SINUS"], -120)  # northwest: right
    both = vocabulary.contradictions(["SINUS", "LEFT_AXIS", "RIGHT_AXIS"], "Sinus rhythm")
    assert any("exclude each other" in p for p in both)
    assert refused(["LEFT_AXIS", "SINUS"], -44) == ""
    assert '"Right axis deviation"' in refused(["RIGHT_AXIS", "SINUS"], 60)
    assert refused(["RIGHT_AXIS", "SINUS"], -120) == ""  # the northwest axis
    assert vocabulary.STATEMENTS["LEFT_AXIS"].risk == "low"


@pytest.mark.parametrize(("r_mv", "low"), [(0.3, True), (1.2, False)])
def test_low_qrs_voltage_in_every_limb_lead_is_a_finding(r_mv: float, low: bool) -> None:
    """A 12-lead ECG of 0.3-0.4 mV in every lead read "No significant arrhythmia" with
    "Normal ECG" preselected (an audit of the 12-lead path)."""
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=72, axis_deg=60, r_mv=r_mv), duration_s=10.0, seed=3
    )
    analysis = analyze(recording)
    codes = [f.code for f in analysis.findings]
    limb_mv = analysis.intervals.limb_qrs_mv
    assert limb_mv is not None and (limb_mv < 0.5) == low
    assert ("LOW_VOLTAGE" in codes) == low and ("NORMAL" in codes) != low, codes


@pytest.mark.parametrize("limb_leads", [("I", "II"), ("II", "III"), ("I", "III")])
def test_low_voltage_is_read_from_two_limb_leads_when_the_others_are_not_recorded(
    limb_leads: tuple[str, str],
) -> None:
    """A cardiograph's 8-lead export (I, II, V1-V6) at 0.45 mV read "Normal ECG", and the
    patient was told it was normal: the other four limb leads follow from any two."""
    leads = (*limb_leads, "V1", "V2", "V3", "V4", "V5", "V6")
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=72, axis_deg=60, r_mv=0.3), duration_s=10.0, seed=3, leads=leads
    )
    twelve, _ = synthetic_recording(
        BeatTruth(hr_bpm=72, axis_deg=60, r_mv=0.3), duration_s=10.0, seed=3
    )
    analysis = analyze(recording)
    limb_mv = analysis.intervals.limb_qrs_mv
    assert limb_mv == pytest.approx(analyze(twelve).intervals.limb_qrs_mv, abs=0.05)
    codes = [f.code for f in analysis.findings]
    assert "LOW_VOLTAGE" in codes and "NORMAL" not in codes, codes
