"""A sinus tachycardia over 100 bpm with nothing else found is a low-risk finding, not "No
significant arrhythmia": that is signed as "Normal ECG", which the signing rule refuses at
that rate, and the demo's 60-s strip at 118 bpm read "Normal ECG" on the worklist, the API
and FHIR (an on-call audit)."""

from __future__ import annotations

import pytest

from ml.analysis import analyze
from ml.research.synthetic import BeatTruth, synthetic_recording
from ml.vocabulary import measurement_contradictions


@pytest.mark.parametrize("hr_bpm", [108, 118])
def test_a_sinus_tachycardia_strip_is_not_a_normal_ecg(hr_bpm: int) -> None:
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=hr_bpm, qt_ms=300), duration_s=60, fs_hz=250, leads=("I", "II", "III"),
        seed=2,
    )  # fmt: skip
    analysis = analyze(recording)
    assert analysis.rhythm_summary.startswith("Sinus tachycardia")
    codes = [f.code for f in analysis.findings]
    assert codes == ["TACHY"], codes
    finding = analysis.findings[0]
    assert finding.risk == "low" and f"mean {hr_bpm}" in (finding.detail or "")
    rate = {"heart_rate_bpm": analysis.heart_rate.mean_bpm}
    assert measurement_contradictions(codes, rate, strip=True) == []


def test_a_sinus_rhythm_at_88_bpm_stays_a_normal_read() -> None:
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=88, qt_ms=340), duration_s=60, fs_hz=250, seed=2
    )
    assert [f.code for f in analyze(recording).findings] == ["NORMAL"]
