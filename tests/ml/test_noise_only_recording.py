"""A recording longer than a strip with good signal over less than a tenth of it is too noisy
to read as a whole (`ml.analysis.READABLE_GOOD_SHARE`): the noise recordings of the Noise
Stress Test Database, which hold no ECG at all, read "Atrial fibrillation/flutter" and
"ventricular tachycardia" at high risk. A noisy recording with its ECG still reads, and so
does one noisy throughout only from fast noise its beats stand clear of
(`ml.strip_rhythm.clear_of_fast_noise_s`)."""

from __future__ import annotations

import numpy as np
import pytest

from ml.analysis import READABLE_GOOD_SHARE, analyze
from ml.chunked import analyze_chunked
from ml.io import read_recording
from ml.io.sources import ArraySource
from ml.quality import FAST_NOISE_REASON
from ml.recording import Recording, validated
from ml.research.databases import data_root
from ml.research.synthetic import BeatTruth, synthetic_recording
from ml.strip_rhythm import clear_of_fast_noise_s


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


def _under_white_noise(noise_mv: float) -> Recording:
    """Two minutes of a regular rhythm, one lead at 360 Hz, QRS about 0.5 mV, under white
    noise (broadband, most of it above 40 Hz)."""
    truth = BeatTruth(hr_bpm=62.0, r_mv=0.6, axis_deg=10.0)
    recording, _ = synthetic_recording(
        truth, duration_s=120.0, fs_hz=360.0, leads=("II",), noise_mv=noise_mv, seed=7
    )
    return validated(recording)


def test_a_rhythm_under_fast_noise_its_beats_stand_clear_of_still_reads() -> None:
    """Before: every segment "muscle or mains noise", good over 0 %: "Unclassifiable: too
    noisy", rate not measurable, though every QRS stands five times above the noise."""
    recording = _under_white_noise(0.03)
    whole = analyze(recording)
    chunked = analyze_chunked(ArraySource(recording), chunk_s=60, overlap_s=10)
    for analysis in (whole, chunked):
        assert all(FAST_NOISE_REASON in s.reason for s in analysis.quality)
        assert analysis.good_quality_fraction < READABLE_GOOD_SHARE
        assert analysis.rhythm_summary == "Sinus rhythm"
        assert "NOISY_STRIP" not in {f.code for f in analysis.findings}
        assert analysis.heart_rate.mean_bpm == pytest.approx(62.0, abs=1.0)


@pytest.mark.parametrize("name", ["bw", "ma"])
def test_no_segment_of_the_noise_recordings_stands_clear(name: str) -> None:
    """Their segments noisy from fast noise (27 and 60 of 181) hold detections, not beats
    standing out of it."""
    recording = read_recording([data_root() / "nstdb" / f"{name}.hea"], uncalibrated_ok=True)
    analysis = analyze(recording)
    lead = recording.lead_names.index(analysis.analysis_lead)
    fast = [s for s in analysis.quality if FAST_NOISE_REASON in s.reason]
    assert len(fast) >= 20
    peaks = np.asarray(analysis.beats.samples)
    assert clear_of_fast_noise_s(recording.signal_mv[:, lead], recording.fs_hz, peaks, fast) == []
