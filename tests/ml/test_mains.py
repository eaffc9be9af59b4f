"""Mains hum is notched out of the leads that carry it, and only those (`ml.mains`).

Before, 0.5 mV of 50 or 60 Hz hum on a clean synthetic sinus rhythm read "Unclassifiable:
too noisy; repeat the recording" at every sampling rate from 250 to 1000 Hz.
"""

from __future__ import annotations

import numpy as np
import pytest

from ml.analysis import analyze
from ml.chunked import analyze_chunked
from ml.io import read_recording
from ml.io.sources import ArraySource
from ml.mains import MIN_HUM_MV, dehummed, hum_of
from ml.recording import Recording
from ml.research.databases import default_data_dir
from ml.research.synthetic import BeatTruth, synthetic_recording

TRUTH = BeatTruth(hr_bpm=72, pr_ms=160, qrs_ms=90, qt_ms=390)


def _hum_of(recording: Recording) -> list[object]:
    signal = recording.signal_mv
    return list(hum_of(lambda a, b: signal[a:b], recording.n_samples, recording.fs_hz))


def _with_hum(recording: Recording, lead: int, hz: float, mv: float) -> Recording:
    t_s = np.arange(recording.n_samples) / recording.fs_hz
    signal = recording.signal_mv.copy()
    signal[:, lead] += mv * np.sin(2 * np.pi * hz * t_s + 0.3)
    return Recording(recording.fs_hz, recording.lead_names, signal)


@pytest.mark.parametrize(("fs_hz", "hz"), [(250.0, 50.0), (360.0, 60.0), (500.0, 50.0)])
def test_a_humming_lead_reads_as_the_clean_recording_and_is_flagged(
    fs_hz: float, hz: float
) -> None:
    clean, _ = synthetic_recording(TRUTH, duration_s=30, fs_hz=fs_hz, leads=("II", "V1"))
    humming = _with_hum(clean, 0, hz, 0.5)
    before, after = analyze(clean), analyze(humming)
    assert after.rhythm_summary == before.rhythm_summary == "Sinus rhythm"
    assert [f.code for f in after.findings] == [f.code for f in before.findings] == ["NORMAL"]
    assert after.heart_rate.mean_bpm == pytest.approx(72, abs=0.5)
    assert len(after.beats.samples) == len(before.beats.samples)
    assert np.abs(after.beats.samples - before.beats.samples).max() <= 1
    for name in ("pr_ms", "qrs_ms", "qt_ms"):
        assert getattr(after.intervals, name) == pytest.approx(
            getattr(before.intervals, name), abs=4
        )
    # The doctor is told, and the strip is flagged noisy (the electrode may move too).
    assert {s.level for s in after.quality} == {"noisy"}
    assert all(f"mains interference ({hz:.0f} Hz, filtered out)" in s.reason for s in after.quality)
    [note] = [n for n in after.notes if n.startswith("Mains interference")]
    assert f"II ({hz:.0f} Hz, 0.5" in note and "V1" not in note


def test_only_the_humming_lead_is_notched_and_a_clean_one_is_left_as_it_is() -> None:
    clean, _ = synthetic_recording(TRUTH, duration_s=20, fs_hz=500, leads=("I", "II", "V1"))
    humming = _with_hum(clean, 2, 60.0, 0.3)
    notched, hums = dehummed(humming)
    assert hums == {2: 60.0}
    assert np.array_equal(notched.signal_mv[:, :2], humming.signal_mv[:, :2])
    residual_mv = notched.signal_mv[:, 2] - clean.signal_mv[:, 2]
    middle = slice(1000, -1000)  # away from the filter's ends
    assert np.sqrt(np.mean(residual_mv[middle] ** 2)) < 0.02  # of 0.21 mV RMS hum
    assert dehummed(clean) == (clean, {})


def test_a_small_hum_or_the_ecg_itself_is_not_taken_for_mains() -> None:
    """Below MIN_HUM_MV the band-pass leaves under 0.015 mV; a QRS's broad spectrum at
    50-60 Hz and a tachycardia's harmonics are no narrow line."""
    for hr_bpm in (60.0, 75.0, 150.0):  # 75 bpm: the 40th harmonic of 1.25 Hz is 50 Hz
        clean, _ = synthetic_recording(BeatTruth(hr_bpm=hr_bpm), duration_s=60, fs_hz=500)
        assert _hum_of(clean) == []
    assert _hum_of(_with_hum(clean, 1, 50.0, MIN_HUM_MV / 2)) == []


@pytest.mark.skipif(
    not (default_data_dir() / "100.hea").exists(), reason="MIT-BIH not available locally"
)
def test_no_mit_bih_record_is_taken_for_humming() -> None:
    """Their 60 Hz lines (under 0.02 mV) stay below MIN_HUM_MV: the reads are unchanged."""
    for name in ("100", "109", "114", "202", "221"):  # the strongest 60 Hz lines of the 48
        recording = read_recording(default_data_dir() / f"{name}.hea")
        assert dehummed(recording)[1] == {}


def test_a_long_humming_recording_streamed_in_chunks_reads_as_the_whole() -> None:
    clean, _ = synthetic_recording(TRUTH, duration_s=240, fs_hz=250, leads=("II", "V1"))
    humming = _with_hum(clean, 0, 50.0, 0.4)
    whole = analyze(humming)
    chunked = analyze_chunked(ArraySource(humming), chunk_s=60, overlap_s=20)
    assert chunked.notes == whole.notes
    assert [s.level for s in chunked.quality] == [s.level for s in whole.quality]
    assert np.array_equal(chunked.beats.classes, whole.beats.classes)
    assert np.abs(chunked.beats.samples - whole.beats.samples).max() <= 1
    assert chunked.rhythm_summary == whole.rhythm_summary == "Sinus rhythm"
    assert chunked.heart_rate.mean_bpm == pytest.approx(whole.heart_rate.mean_bpm, abs=0.01)


def test_a_slow_strip_under_hum_is_slow_not_noisy() -> None:
    """Six beats at 41 bpm on a clean 10-s 12-lead ECG under 0.04 mV of 50 Hz hum: its
    segments, flagged noisy for the hum notched out, count as good for the few-beats call
    (`quality.good_once_filtered`); it read "Unclassifiable: too noisy; repeat the recording"."""
    clean, _ = synthetic_recording(BeatTruth(hr_bpm=41, qt_ms=480), duration_s=10, fs_hz=500)
    humming = clean
    for lead in range(clean.n_leads):
        humming = _with_hum(humming, lead, 50.0, 0.04)
    analysis = analyze(humming)
    assert {s.level for s in analysis.quality} == {"noisy"}
    assert analysis.strip is not None
    assert analysis.strip.reason.startswith("slow (median rate 41 bpm), 6 beats")
    assert analysis.heart_rate.mean_bpm == pytest.approx(41, abs=0.5)
