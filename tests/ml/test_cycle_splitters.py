"""Beats called V or S that split one heart cycle (T waves, spikes) become Q; real premature
beats and runs keep their class."""

from __future__ import annotations

import numpy as np
import pytest

from ml.analysis import analyze
from ml.cycle_splitters import (
    NOTE_PHRASE,
    cycle_splitters_note,
    splits_a_cycle,
    supraventricular_splits_a_cycle,
    supraventricular_splitters_note,
)
from ml.io import read_recording
from ml.research.databases import data_root, load_record

CINC = data_root() / "cinc2017"


def _times_s(intervals_s: list[float]) -> np.ndarray:
    return np.concatenate([[0.5], 0.5 + np.cumsum(intervals_s)])


def test_a_detection_inside_one_cycle_is_flagged_a_premature_beat_with_its_pause_is_not() -> None:
    # Sinus at 0.8 s; beat 4 is a T wave 0.3 s after beat 3 (the cycle it splits, 0.81 s, is
    # within the limit of the 0.8-s median); beat 8 a PVC (0.5 s, then a 1.1-s pause).
    beat_s = _times_s([0.8, 0.8, 0.8, 0.3, 0.51, 0.8, 0.8, 0.5, 1.1, 0.8, 0.8])
    classes = np.array(list("NNNNVNNNVNNN"))
    assert np.flatnonzero(splits_a_cycle(beat_s, classes)).tolist() == [4]
    # An N or S call in the same place is not this rule's business.
    assert not splits_a_cycle(beat_s, np.array(list("NNNNSNNNVNNN"))).any()


def test_beats_of_a_ventricular_run_and_the_edges_are_left_to_the_run_rules() -> None:
    beat_s = _times_s([0.8, 0.8, 0.8, 0.35, 0.35, 0.35, 0.35, 1.0, 0.8, 0.8])
    classes = np.array(list("NNNNVVVVNNN"))
    assert not splits_a_cycle(beat_s, classes).any()
    assert not splits_a_cycle(np.array([0.0, 0.3, 0.6]), np.array(list("VVV"))).any()
    assert not splits_a_cycle(np.array([0.0, 0.3]), np.array(list("NV"))).any()
    # The first and last beats have one interval only.
    edge = splits_a_cycle(_times_s([0.2, 0.8, 0.8, 0.8, 0.2]), np.array(list("VNNNNV")))
    assert not edge.any()


def test_the_note_says_how_many_and_where() -> None:
    one = cycle_splitters_note(np.array([75.2]))
    assert one.startswith("1 beat called ventricular (at 0:01:15) was left unclassified: it sits")
    many = cycle_splitters_note(np.arange(12) * 2.0 + 1.0)
    assert many.startswith("12 beats called ventricular (at 1.0 s, 3.0 s")
    assert "and 2 more) were left unclassified: each sits" in many


def test_an_s_call_inside_one_cycle_is_flagged_a_premature_atrial_beat_is_not() -> None:
    # Sinus at 0.8 s; beat 4 a spike 0.35 s after beat 3 (its intervals add up to 0.85 s,
    # under 1.1 cycles); beat 8 a premature atrial beat (0.5 s, then a reset cycle of 0.82 s:
    # 1.32 cycles); beats 11-13 a run of three (left to the SVT rule).
    beat_s = _times_s([0.8, 0.8, 0.8, 0.35, 0.5, 0.8, 0.8, 0.5, 0.82, 0.8, 0.35, 0.35, 0.35, 0.8])
    classes = np.array(list("NNNNSNNNSNNSSSN"))
    assert np.flatnonzero(supraventricular_splits_a_cycle(beat_s, classes)).tolist() == [4]
    assert not splits_a_cycle(beat_s, classes).any()  # the V rule leaves S calls alone
    note = supraventricular_splitters_note(np.array([3.0]))
    assert note.startswith("1 beat called supraventricular (at 3.0 s) was left unclassified")
    assert "less than 1.1 times the usual interval between beats" in note


@pytest.mark.parametrize(("database", "record"), [("mitdb", "209"), ("svdb", "822")])
def test_few_reference_atrial_premature_beats_of_these_records_would_be_flagged(
    database: str, record: str
) -> None:
    """The cardiologists' own S beats: 209's 383 (with runs of SVT), svdb 822's 658 at 128 Hz.
    (Of all 6,452 of DS1 and svdb, 16 would be: 14 in svdb 849, 2 in MIT-BIH 201.)"""
    folder = data_root() / database
    if not (folder / f"{record}.atr").is_file():
        pytest.skip(f"{database} not found")
    reference = load_record(folder, record)
    beat_s, classes = reference.beat_samples / reference.fs_hz, reference.beat_classes
    atrial = int((classes == "S").sum())
    assert atrial > 50
    assert supraventricular_splits_a_cycle(beat_s, classes).sum() <= 0.01 * atrial


@pytest.mark.parametrize(
    ("database", "record"), [("mitdb", "203"), ("mitdb", "119"), ("svdb", "811")]
)
def test_no_reference_ventricular_beat_of_these_records_would_be_flagged(
    database: str, record: str
) -> None:
    """The cardiologists' own beats and classes: 203's runs and multiform PVCs, 119's
    bigeminy, svdb 811's 6-beat run (which the rule broke before runs were exempt)."""
    folder = data_root() / database
    if not (folder / f"{record}.atr").is_file():
        pytest.skip(f"{database} not found")
    reference = load_record(folder, record)
    flagged = splits_a_cycle(reference.beat_samples / reference.fs_hz, reference.beat_classes)
    assert int((reference.beat_classes == "V").sum()) > 20
    assert not flagged.any()


@pytest.mark.skipif(not (CINC / "A01884.hea").is_file(), reason="cinc2017 not found")
def test_a_normal_strip_with_a_spike_called_v_reads_normal_and_says_where() -> None:
    """A01884 (reference: normal rhythm): a spike at 2.8 s, between the beats at 2.5 and
    3.3 s, was called V. (The T wave A01949 had called V at 15.5 s, this test's earlier
    example, is no longer detected at all: tests/ml/test_t_wave_detections.py.)"""
    analysis = analyze(read_recording(CINC / "A01884.hea", uncalibrated_ok=True))
    assert analysis.beat_counts["V"] == 0
    assert analysis.main_finding.code == "NORMAL"
    note = next(n for n in analysis.notes if NOTE_PHRASE in n)
    assert note.startswith("1 beat called ventricular (at 2.8 s)")
    flagged = analysis.beats.samples[analysis.beats.classes == "Q"] / analysis.fs_hz
    assert np.any(np.abs(flagged - 2.8) < 0.2)
