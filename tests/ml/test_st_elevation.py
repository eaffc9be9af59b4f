"""ST elevation and depression on a 12-lead ECG (`ml.st_segment`): an injury pattern in two
contiguous leads is a high-risk finding that names the leads, the wall and the reciprocal
depression; less than the thresholds, a normal ECG, or no contiguous pair of leads says
nothing; with a wide QRS it is said with the caveat. Horizontal ST depression alone is a
medium-risk finding."""

import numpy as np
import pytest

from ml.analysis import analyze
from ml.findings import main_finding
from ml.recording import Recording
from ml.research.synthetic import BeatTruth, st_shifted_mv, synthetic_recording
from ml.st_segment import st_levels_mv

TRUTH = BeatTruth(hr_bpm=72, qt_ms=380.0, t_duration_ms=170.0)
INFERIOR = {"II": 0.25, "III": 0.3, "aVF": 0.28, "I": -0.1, "aVL": -0.15}


def injured(
    st_mv: dict[str, float], truth: BeatTruth = TRUTH, leads: tuple[str, ...] | None = None
):
    fs_hz = 500.0
    kwargs = {"leads": leads} if leads else {}
    recording, onsets = synthetic_recording(truth, duration_s=10.0, fs_hz=fs_hz, **kwargs)
    signal = st_shifted_mv(
        recording.signal_mv, fs_hz, onsets / fs_hz, truth, recording.lead_names, st_mv
    )
    return analyze(Recording(fs_hz, recording.lead_names, signal, source_format="synthetic"))


def _st(analysis):
    return [f for f in analysis.findings if f.code == "ST_ELEVATION"]


def test_an_inferior_injury_pattern_is_the_main_finding_at_high_risk():
    analysis = injured(INFERIOR)
    (finding,) = _st(analysis)
    assert finding.risk == "high" and main_finding(analysis.findings) == finding
    assert finding.detail.startswith("ST elevation in II 0.2")
    assert (
        "III" in finding.detail and "aVF" in finding.detail and "inferior leads" in finding.detail
    )
    assert "V2 0." not in finding.detail  # the chest leads are not raised
    assert "reciprocal ST depression in I -0.1" in finding.detail and "aVL -0.1" in finding.detail
    assert "ST_DEPRESSION" not in [f.code for f in analysis.findings]  # said as reciprocal


def test_an_anterior_injury_pattern_is_found_and_normal_or_small_changes_are_not():
    assert "V2 0.3" in _st(injured({"V2": 0.3, "V3": 0.35, "V4": 0.25}))[0].detail
    assert not _st(injured({"V2": 0.15, "V3": 0.15}))  # under 0.2 mV in V2-V3
    assert not _st(injured({lead: 0.05 for lead in ("I", "II", "III", "aVF", "V4", "V5")}))
    normal = injured({})
    assert not _st(normal)
    assert max(abs(v) for v in normal.intervals.st_mv.values()) < 0.03


def test_with_a_wide_qrs_it_is_said_with_the_caveat_at_medium_risk():
    wide = BeatTruth(hr_bpm=72, qrs_ms=150.0, qt_ms=440.0, t_duration_ms=170.0)
    (finding,) = _st(injured({"V1": 0.3, "V2": 0.35, "V3": 0.3}, wide))
    assert finding.risk == "medium" and "bundle-branch block" in finding.detail


@pytest.mark.parametrize("leads", [("II", "V1"), ("II", "V5")])
def test_no_contiguous_pair_of_leads_no_st_claim(leads: tuple[str, ...]):
    analysis = injured({"II": 0.3, "V1": 0.3, "V5": 0.3}, leads=leads)
    # Both leads' ST is measured and raised; no two of them are contiguous, so no claim.
    assert set(analysis.intervals.st_mv) == set(leads)
    assert min(analysis.intervals.st_mv.values()) >= 0.2
    assert not _st(analysis)


def test_horizontal_st_depression_alone_is_a_medium_risk_finding():
    truth = BeatTruth(hr_bpm=66, qrs_ms=80.0, qt_ms=390.0, t_duration_ms=170.0)
    analysis = injured({"V4": -0.15, "V5": -0.18, "V6": -0.15, "I": -0.12, "aVL": -0.1}, truth)
    (finding,) = [f for f in analysis.findings if f.code == "ST_DEPRESSION"]
    assert finding.risk == "medium" and finding.detail.startswith("ST depression in I -0.1")
    assert "V5 -0.1" in finding.detail and "horizontal or downsloping" in finding.detail
    assert not _st(analysis)


def test_st_levels_come_in_the_standard_lead_order() -> None:
    """Whatever the file's order (a clinician-eye audit read "V6 ... I" on the review page)."""
    leads = ("V6", "V5", "V4", "V3", "V2", "V1", "aVF", "aVL", "aVR", "III", "II", "I")
    centred = np.tile(np.arange(len(leads), dtype=float), (400, 1))
    levels = st_levels_mv(centred, leads, qrs_offset=100, fs_hz=500.0)
    assert list(levels) == [
        "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"
    ]  # fmt: skip
    assert levels["I"] == 11.0 and levels["V6"] == 0.0 and levels["aVR"] == 8.0
