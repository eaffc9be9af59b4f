"""S calls right after a beat left unclassified become Q: their prematurity is measured from a
detection the read does not trust."""

from __future__ import annotations

import numpy as np
import pytest

from ml.after_unclassified import (
    NOTE_PHRASE,
    after_unclassified_note,
    supraventricular_after_unclassified,
)
from ml.analysis import analyze, unclassified_where_doubtful
from ml.io import read_recording
from ml.research.databases import data_root


def test_an_s_call_after_a_q_is_flagged_once_and_nothing_else() -> None:
    classes = np.array(list("SNQSSNQNVQV"))
    assert np.flatnonzero(supraventricular_after_unclassified(classes)).tolist() == [3]
    assert not supraventricular_after_unclassified(np.array([], dtype=str)).any()


def test_the_rules_run_in_order_a_t_wave_called_v_then_the_beat_after_it() -> None:
    """A T wave detected 0.3 s after a beat and called V splits one cycle (Q); the real beat
    after it, 0.5 s later, was called S for its short interval: it becomes Q too."""
    beat_s = np.array([0.5, 1.3, 2.1, 2.9, 3.2, 3.7, 4.5, 5.3])
    classes = np.array(list("NNNNVSNN"))
    read, notes = unclassified_where_doubtful(beat_s, classes, None)
    assert "".join(read) == "NNNNQQNN"
    assert notes[0].startswith("1 beat called ventricular (at 3.2 s) was left unclassified")
    assert notes[1].startswith("1 beat called supraventricular (at 3.7 s) was left unclassified")
    # Beats riding a baseline swing: only the V calls among them.
    swing = np.array([False] * 6 + [True, True])
    read, _ = unclassified_where_doubtful(beat_s, np.array(list("NNNNNNVN")), swing)
    assert "".join(read) == "NNNNNNQN"


def test_the_note_says_how_many_where_and_why() -> None:
    many = after_unclassified_note(np.array([1.0, 2.5]))
    assert many.startswith("2 beats called supraventricular (at 1.0 s, 2.5 s) were left")
    assert "the interval before each runs from a beat left unclassified" in many
    assert NOTE_PHRASE in after_unclassified_note(np.array([4.0]))


CINC = data_root() / "cinc2017"


@pytest.mark.skipif(not (CINC / "A00856.hea").is_file(), reason="cinc2017 not found")
def test_a_normal_strip_with_a_spike_between_beats_reads_normal() -> None:
    """A00856 (reference: normal rhythm): a downward spike at 12.0 s, between two beats 0.7 s
    apart, was called V, and the real beat after it S; the main finding was "Ventricular
    ectopic beats". Both are left unclassified, each rule says where, and the strip reads
    normal."""
    analysis = analyze(read_recording(CINC / "A00856.hea", uncalibrated_ok=True))
    assert analysis.beat_counts["V"] == analysis.beat_counts["S"] == 0
    assert analysis.main_finding.code == "NORMAL"
    ventricular = next(n for n in analysis.notes if "called ventricular (at 12.0 s)" in n)
    supraventricular = next(n for n in analysis.notes if "supraventricular (at 12.3 s)" in n)
    assert analysis.notes.index(ventricular) < analysis.notes.index(supraventricular)
