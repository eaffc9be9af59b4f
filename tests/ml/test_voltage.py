"""Left ventricular hypertrophy by voltage (`ml.voltage`): S in V1 plus R in V5 or V6 of 3.5 mV
or more on a 12-lead ECG is a low-risk finding that gives the sum and its caveat; normal
voltages, a wide QRS or a recording without V1 and V5/V6 say nothing."""

import pytest

from ml.analysis import analyze
from ml.research.synthetic import BeatTruth, synthetic_recording


def _read(r_mv: float, qrs_ms: float = 90.0, leads: tuple[str, ...] | None = None):
    truth = BeatTruth(hr_bpm=70, r_mv=r_mv, qrs_ms=qrs_ms, qt_ms=400.0, t_duration_ms=170.0)
    kwargs = {"leads": leads} if leads else {}
    recording, _ = synthetic_recording(truth, duration_s=10.0, **kwargs)
    return analyze(recording)


def _lvh(analysis):
    return [f for f in analysis.findings if f.code == "LVH"]


def test_high_qrs_voltage_is_left_ventricular_hypertrophy_by_voltage_criteria():
    analysis = _read(2.6)
    (finding,) = _lvh(analysis)
    assert finding.risk == "low"
    assert finding.detail.startswith("QRS voltage: S in V1 plus R in V5 or V6 4.1 mV")
    assert "young and thin" in finding.detail
    assert analysis.intervals.sokolow_lyon_mv == pytest.approx(4.1, abs=0.1)


def test_normal_voltage_a_wide_qrs_or_no_v1_and_v5_say_nothing():
    assert not _lvh(_read(1.2))
    assert not _lvh(_read(2.6, qrs_ms=150.0))
    two_leads = _read(2.6, leads=("II", "V1"))
    assert not _lvh(two_leads) and two_leads.intervals.sokolow_lyon_mv is None
