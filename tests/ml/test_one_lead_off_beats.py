"""Beats where one lead the classifier reads is off while another goes on are classified
from the live lead (`ml.analysis.beats_missing_a_lead`); only where every lead is missing are
they left unclassified (`spans_every_lead_misses`). An audit of the lead-off notes: MIT-BIH
119 with V1 off for 90 s while MLII beat on read 101 beats "unclassifiable", lost 15 PVCs and
3 bigeminy runs, and listed a 90-s "Paced or unclassifiable rhythm" under a note saying the
other leads were read there."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import wfdb

from ml import rhythm
from ml.analysis import analyze, beats_missing_a_lead, spans_every_lead_misses
from ml.recording import Recording
from ml.research.databases import default_data_dir
from ml.research.synthetic import BeatTruth, synthetic_recording

MITDB = default_data_dir()


def test_the_beats_of_a_missing_lead_are_grouped_by_the_leads_still_there() -> None:
    beat_s = np.array([10.0, 70.0, 100.0, 130.0, 200.0])
    gaps = (((120.0, 140.0),), ((60.0, 140.0),), ())
    groups = {
        tuple(live): where.tolist() for live, where in beats_missing_a_lead(beat_s, [0, 1], gaps)
    }
    assert groups == {(0,): [False, True, True, False, False]}  # 130 s: both off
    assert spans_every_lead_misses(gaps, [0, 1]) == [(120.0, 140.0)]
    assert spans_every_lead_misses(gaps, [0, 1, 2]) == []
    assert beats_missing_a_lead(beat_s, [0], gaps) == []


@pytest.mark.skipif(not (MITDB / "119.hea").is_file(), reason="MIT-BIH not found")
def test_v1_off_for_90_s_leaves_the_beats_of_mlii_read() -> None:
    record = wfdb.rdrecord(str(MITDB / "119"), sampto=300 * 360)
    clean = analyze(Recording(360.0, tuple(record.sig_name), record.p_signal))
    signal = record.p_signal.copy()
    signal[60 * 360 : 150 * 360, 1] = np.random.default_rng(0).normal(0, 0.01, 90 * 360)
    off = analyze(Recording(360.0, tuple(record.sig_name), signal))
    assert any("Lead V1 is a flat line" in n for n in off.notes)
    assert off.beat_counts["Q"] <= clean.beat_counts["Q"] + 2, off.beat_counts
    assert abs(off.beat_counts["V"] - clean.beat_counts["V"]) <= 2, (
        off.beat_counts,
        clean.beat_counts,
    )
    assert not [e for e in off.episodes if e.label == rhythm.PACED]


def test_a_third_lead_off_while_two_beat_on_leaves_the_beats_read() -> None:
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=72), duration_s=180, fs_hz=250, leads=("II", "III", "V5"), seed=7
    )
    signal = recording.signal_mv.copy()
    signal[250 * 60 : 250 * 130, 0] = np.random.default_rng(1).normal(0, 0.01, 250 * 70)
    off = analyze(dataclasses.replace(recording, signal_mv=signal))
    assert any("Lead II is a flat line" in n for n in off.notes)
    assert off.beat_counts["Q"] <= 4, off.beat_counts
