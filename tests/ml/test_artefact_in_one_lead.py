"""Artefact in one lead: the other lead keeps the beats, and no finding comes from the noise."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.research.databases import data_root
from ml.research.synthetic import BeatTruth, synthetic_recording

FS_HZ = 360.0


def test_a_baseline_excursion_in_lead_ii_is_read_through_v1() -> None:
    recording, onsets = synthetic_recording(
        BeatTruth(hr_bpm=70), leads=("II", "V1"), duration_s=120, fs_hz=FS_HZ, seed=4
    )
    signal = recording.signal_mv.copy()
    rng = np.random.default_rng(0)
    start, stop = int(60 * FS_HZ), int(66 * FS_HZ)
    t = np.arange(stop - start) / FS_HZ
    # Electrode pulled: a 6-mV swing with jitter hides lead II's QRS for 6 s; V1 is untouched.
    signal[start:stop, 0] = 6.0 * np.sin(np.pi * t / 6.0) + rng.normal(0, 0.8, t.size)
    analysis = analyze(replace(recording, signal_mv=signal))
    codes = {f.code for f in analysis.findings}
    assert not codes & {"PAUSE", "VT", "DROPPED_BEAT", "VF"}, analysis.findings
    assert not any(e.label in (rhythm.PAUSE, rhythm.VT) for e in analysis.episodes)
    assert abs(len(analysis.beats.samples) - len(onsets)) <= 2
    flagged = [s for s in analysis.quality if s.start_s <= 62 <= s.end_s]
    assert flagged and flagged[0].level != "good"
    assert "lead II" in flagged[0].reason and "V1" in flagged[0].reason


def test_mitbih_208_has_no_pause_from_the_mlii_baseline_excursion() -> None:
    folder = data_root() / "mitdb"
    if not (folder / "208.hea").is_file():
        pytest.skip("MIT-BIH 208 not available")
    from ml.io import read_recording

    analysis = analyze(read_recording([folder / "208.hea", folder / "208.dat"]))
    assert not any(e.label == rhythm.PAUSE for e in analysis.episodes)
    assert analysis.main_finding.code != "PAUSE"
    assert len(analysis.episodes) <= 60  # consolidated: 271 before
    assert not any(
        e.label == rhythm.TACHY and e.duration_s < rhythm.MIN_RATE_EPISODE_S
        for e in analysis.episodes
    )
