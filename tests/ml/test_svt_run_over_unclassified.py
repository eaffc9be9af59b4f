"""Unclassified beats at an SVT run's rate between its S beats do not end the run: svdb 801's
28 S beats at 125 /min (36.86-49.43 s, good signal) read as SVT runs of 4 and 3 beats, "longest
1.5 s", cut by the classifier's own Q calls (S 0.43 beside Q 0.20, a tie after its log-bias)
and the S calls after them taken back (`ml.after_unclassified`); a Holter audit."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.io import read_recording
from ml.research.databases import data_root

SVDB = data_root() / "svdb"


def _beats(classes: str, rr_s: float = 0.45) -> tuple[np.ndarray, np.ndarray]:
    """Sinus beats at 0.8 s, then `classes` every `rr_s`, then sinus beats again."""
    sinus = np.arange(10) * 0.8
    run = sinus[-1] + 0.8 * 0.6 + np.arange(len(classes)) * rr_s
    after = run[-1] + 1.0 + np.arange(5) * 0.8
    beat_s = np.concatenate([sinus, run, after])
    return beat_s, np.array(list("N" * 10 + classes + "N" * 5))


def test_unclassified_beats_at_the_runs_rate_are_inside_it() -> None:
    beat_s, classes = _beats("SSSSQQQQQSS")
    assert rhythm.run_bounds(beat_s, classes, "S") == [(10, 21)]
    runs = [e for e in rhythm.detect_rhythms(beat_s, classes, 20.0) if e.label == rhythm.SVT]
    assert [(e.start_s, e.n_beats) for e in runs] == [(beat_s[10], 11)]


def test_what_the_bridge_leaves_as_it_was() -> None:
    beat_s, classes = _beats("SSSQQQVQQSSS")  # another class between: two runs
    assert rhythm.run_bounds(beat_s, classes, "S") == [(10, 13), (19, 22)]
    beat_s, classes = _beats("SQS")  # an S each side: no run of 3 S beats
    assert rhythm.run_bounds(beat_s, classes, "S") == []
    beat_s, classes = _beats("SSSQSSS")
    beat_s[13] = beat_s[12] + 0.1  # a detection off the run's rate (noise)
    assert rhythm.run_bounds(beat_s, classes, "S") == [(10, 13), (14, 17)]
    beat_s, classes = _beats("VVVQVVV", rr_s=0.4)  # ventricular runs as before
    assert rhythm.run_bounds(beat_s, classes, "V") == [(10, 13), (14, 17)]


def test_the_note_says_how_many_unclassified_beats_a_run_holds() -> None:
    from ml.analysis import unclassified_in_svt_note

    beat_s, classes = _beats("SSSSQQQQQSS")
    called = np.array(list("N" * 10 + "SSSSQQSQSSS" + "N" * 5))
    run = rhythm.Episode(rhythm.SVT, float(beat_s[10]), float(beat_s[20]), 11)
    note = unclassified_in_svt_note([run], beat_s, classes, called)
    assert "(11 beats, 5 Q) counts 5 beats left unclassified" in note
    assert "3 of them the beat classifier could not name" in note


@pytest.mark.skipif(not (SVDB / "801.hea").is_file(), reason="svdb not found")
def test_svdb_801s_28_beat_svt_is_not_cut_at_its_unclassified_beats() -> None:
    read = analyze(read_recording(SVDB / "801.hea"))  # the whole record, as audited
    runs = [e for e in read.episodes if e.label == rhythm.SVT and 36 <= e.start_s <= 50]
    assert max(e.duration_s for e in runs) > 4.0, runs
    assert any("Supraventricular tachycardia at 37.3 s" in n for n in read.notes), read.notes
    holter = read.holter  # the Holter table's S runs count the episode's beats (its Q too)
    assert holter is not None and holter.supraventricular.longest_run == 11, holter
