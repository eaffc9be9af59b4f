"""A recording longer than a strip with good signal over less than a tenth of it is too noisy
to read as a whole (`ml.analysis.READABLE_GOOD_SHARE`): the noise recordings of the Noise
Stress Test Database, which hold no ECG at all, read "Atrial fibrillation/flutter" and
"ventricular tachycardia" at high risk. A noisy recording with its ECG still reads."""

from __future__ import annotations

import pytest

from ml.analysis import READABLE_GOOD_SHARE, analyze
from ml.io import read_recording
from ml.research.databases import data_root


@pytest.mark.parametrize("name", ["bw", "em", "ma"])
def test_half_an_hour_of_noise_reads_too_noisy_to_read(name: str) -> None:
    analysis = analyze(
        read_recording([data_root() / "nstdb" / f"{name}.hea"], uncalibrated_ok=True)
    )
    assert analysis.good_quality_fraction < READABLE_GOOD_SHARE
    assert analysis.rhythm_summary == "Unclassifiable: too noisy"
    assert [f.code for f in analysis.findings] == ["NOISY_STRIP"]
    assert "too little to read the rhythm; repeat the recording" in analysis.findings[0].detail
    assert analysis.episodes == []
    assert analysis.heart_rate.mean_bpm is None
    assert "good signal over only" in (analysis.heart_rate.rate_reason or "")


def test_the_noisiest_stress_test_record_still_reads_its_ecg() -> None:
    """118 with electrode-motion noise at -6 dB: good over about half of it, so read."""
    analysis = analyze(read_recording([data_root() / "nstdb" / "118e_6.hea"]))
    assert analysis.good_quality_fraction >= READABLE_GOOD_SHARE
    assert analysis.rhythm_summary.startswith("Sinus")
    assert "NOISY_STRIP" not in {f.code for f in analysis.findings}
    assert analysis.heart_rate.mean_bpm is not None
