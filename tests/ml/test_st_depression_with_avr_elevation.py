"""ST elevation in aVR beside diffuse ST depression (`ml.st_segment.diffuse_with_avr_elevation`):
a 12-lead audit's subendocardial injury, ST -0.08 to -0.32 mV in 9 leads and +0.18 mV in aVR,
read a medium-risk "ST depression ... myocardial ischaemia, or the strain of left ventricular
hypertrophy, digoxin ..." with no word of aVR, whose level was neither measured nor listed.
ST depression in 8 or more leads with ST elevation in aVR suggests left main or multivessel
ischaemia (Fourth Universal Definition of Myocardial Infarction, 2018; ESC)."""

from ml.research.synthetic import BeatTruth
from tests.ml.test_st_elevation import injured

TRUTH = BeatTruth(hr_bpm=66, qrs_ms=80.0, qt_ms=390.0, t_duration_ms=170.0)
DIFFUSE = {
    "I": -0.17, "II": -0.17, "aVL": -0.1, "aVF": -0.1, "V2": -0.14, "V3": -0.2, "V4": -0.3,
    "V5": -0.32, "V6": -0.28,
}  # fmt: skip


def _depression(st_mv: dict[str, float]):
    analysis = injured(st_mv, TRUTH)
    assert "ST_ELEVATION" not in [f.code for f in analysis.findings]
    (finding,) = [f for f in analysis.findings if f.code == "ST_DEPRESSION"]
    return analysis, finding


def test_avr_is_measured_and_its_elevation_beside_diffuse_depression_is_said_at_high_risk():
    analysis, finding = _depression({**DIFFUSE, "aVR": 0.18})
    assert 0.15 <= analysis.intervals.st_mv["aVR"] <= 0.21
    assert finding.risk == "high"
    assert "with ST elevation in aVR +0.1" in finding.detail
    assert finding.detail.endswith(
        "consider left main or multivessel ischaemia; compare with a previous ECG and act on "
        "the clinical picture"
    )
    assert "aVR" not in finding.detail.split(" with ST elevation")[0]  # not a depressed lead


def test_without_avr_elevation_or_in_fewer_leads_it_stays_medium_risk():
    _, flat_avr = _depression(DIFFUSE)
    assert flat_avr.risk == "medium" and "aVR" not in flat_avr.detail
    lateral = {lead: DIFFUSE[lead] for lead in ("I", "aVL", "V4", "V5", "V6")}
    _, local = _depression({**lateral, "aVR": 0.18})
    assert local.risk == "medium" and "left main" not in local.detail
