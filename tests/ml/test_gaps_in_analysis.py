"""Recordings with missing samples are analysed around the gaps, never read as signal."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.errors import UnusableSignalError
from ml.recording import Recording
from ml.research.synthetic import BeatTruth, synthetic_recording

FS_HZ = 360.0


def _sinus(seconds: float = 120.0):  # type: ignore[no-untyped-def]
    return synthetic_recording(
        BeatTruth(hr_bpm=70), leads=("II", "V1"), duration_s=seconds, fs_hz=FS_HZ, seed=5
    )


def test_a_long_gap_in_every_lead_is_not_a_pause() -> None:
    recording, onsets = _sinus()
    signal = recording.signal_mv.copy()
    signal[int(50 * FS_HZ) : int(62 * FS_HZ), :] = np.nan  # 12 s of nothing
    analysis = analyze(replace(recording, signal_mv=signal))
    assert not any(e.label in (rhythm.PAUSE, rhythm.DROPPED) for e in analysis.episodes)
    assert analysis.main_finding.code not in ("PAUSE", "BRADY")
    assert any("12.0 s" in note and "missing" in note for note in analysis.notes)
    missing = [s for s in analysis.quality if s.start_s < 62 and s.end_s > 50]
    assert missing and all(s.level == "unusable" for s in missing)
    outside = analysis.beats.samples[(analysis.beats.samples < 49 * FS_HZ)]
    assert abs(len(outside) - np.sum(onsets < 49 * FS_HZ)) <= 1


def test_a_gap_in_one_lead_is_read_through_the_other() -> None:
    recording, onsets = _sinus()
    signal = recording.signal_mv.copy()
    signal[int(30 * FS_HZ) : int(38 * FS_HZ), 0] = np.nan  # lead II only
    analysis = analyze(replace(recording, signal_mv=signal))
    assert abs(len(analysis.beats.samples) - len(onsets)) <= 1
    assert not any(e.label == rhythm.PAUSE for e in analysis.episodes)
    flagged = [s for s in analysis.quality if s.start_s <= 34 <= s.end_s][0]
    assert "V1" in flagged.reason


def test_one_impossible_sample_is_bridged_and_said() -> None:
    recording, onsets = _sinus(60.0)
    signal = recording.signal_mv.copy()
    signal[5000, 0] = np.nan  # what a reader makes of 1e308 or inf
    analysis = analyze(replace(recording, signal_mv=signal))
    assert abs(len(analysis.beats.samples) - len(onsets)) <= 1
    assert analysis.main_finding.code == "NORMAL"
    assert any("bridged" in note for note in analysis.notes)


def test_a_lead_flat_once_its_gaps_are_set_aside_is_refused_with_the_reason() -> None:
    """A lead of a few microvolts passes the flat-line check on its samples present, but its
    long gap zeroed makes it flat: the analysis said "attempt to get argmax of an empty
    sequence" (found by fuzzing); now it refuses the recording as the reader would."""
    fs_hz = 100.0
    lead_mv = np.random.default_rng(3).normal(0.0, 0.0055, int(61.5 * fs_hz))
    lead_mv[1000:3000] = np.nan  # 20 s missing: a long gap, zeroed before the read
    with pytest.raises(UnusableSignalError, match="lead ECG: the signal is a flat line"):
        analyze(Recording(fs_hz, ("ECG",), lead_mv[:, None]))


def test_a_gap_of_a_second_or_more_is_unusable_for_its_span_only() -> None:
    """A gap of a second or more is unusable for its span and GAP_MARGIN_S either side, the
    rest of its 10-s segment analysed, and no pause or rate is read across it. The whole
    segment had been unusable: 1.95 s missing at the start read every beat to 9.9 s Q and
    "Signal quality is reduced for 10 s (1.9 s of signal missing)" (an audit of gaps)."""
    recording, onsets = _sinus(60.0)
    signal = recording.signal_mv.copy()
    signal[: int(1.95 * FS_HZ), :] = np.nan
    signal[int(30.3 * FS_HZ) : int(31.69 * FS_HZ), :] = np.nan  # 1.39 s mid-record
    analysis = analyze(replace(recording, signal_mv=signal))
    unusable = [(s.start_s, s.end_s) for s in analysis.quality if s.level == "unusable"]
    assert unusable == [
        (0.0, pytest.approx(2.15)),
        (pytest.approx(30.1), pytest.approx(31.89, abs=0.01)),
    ]
    beat_s = analysis.beats.samples / FS_HZ
    classes = np.asarray(analysis.beats.classes)
    near_a_gap = rhythm.within(beat_s, [(0.0, 2.95), (29.3, 32.69), (59.0, 60.0)])
    assert (classes[near_a_gap] == "Q").all()  # within a second of a gap, as at an end
    assert (classes[~near_a_gap] != "Q").all()  # 3-10 s and 20-30 s had been Q
    assert abs(np.sum(beat_s > 3) - np.sum(onsets / FS_HZ > 3)) <= 1
    assert not any(e.label in (rhythm.PAUSE, rhythm.DROPPED) for e in analysis.episodes)
    assert analysis.heart_rate.min_bpm is not None and analysis.heart_rate.min_bpm > 60
    assert (
        "Signal quality is reduced for 4 s (1.4 s of signal missing, 1.9 s of signal missing)"
        in " ".join(analysis.notes)
    )
