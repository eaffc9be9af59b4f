"""Intervals round 5's second criterion: normal strips choose among the QT Database's best
settings the one reading the fewest long QTcs, without winning by measuring less."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from ml.intervals import IntervalSettings, MeasureInputs
from ml.research import handheld_qt
from ml.research.handheld_qt import StripCounts, choose, strip_counts
from ml.research.synthetic import BeatTruth, synthetic_recording


def _strip(truth: BeatTruth) -> MeasureInputs:
    recording, onsets = synthetic_recording(truth, leads=("I",), fs_hz=300.0, duration_s=30)
    width = int(truth.qrs_ms / 1000 * 300)
    trace = recording.signal_mv[:, 0]
    peaks = np.array([o + int(np.argmax(np.abs(trace[o : o + width]))) for o in onsets])
    return recording.signal_mv, 300.0, peaks, ("I",), None


def test_strip_counts_count_long_qtcs_among_measured_strips() -> None:
    strips = [_strip(BeatTruth()), _strip(BeatTruth(qt_ms=540))]  # QTc 400 and 540 at 60 bpm
    counts = strip_counts(IntervalSettings(), strips)
    assert counts == StripCounts(measured=2, long_qtc=1)
    assert json.loads(json.dumps(dataclasses.asdict(counts))) == {"measured": 2, "long_qtc": 1}


def test_choose_takes_the_fewest_long_qtcs_within_the_shortlist() -> None:
    counts = {0: StripCounts(400, 9), 1: StripCounts(399, 4), 2: StripCounts(400, 4)}
    counts |= {i: StripCounts(400, 7) for i in range(3, handheld_qt.SHORTLIST)}
    counts |= {i: StripCounts(400, 0) for i in range(handheld_qt.SHORTLIST, 20)}
    # Beyond the shortlist nothing is considered; a tie goes to the better-ranked (1 before 2).
    assert choose(list(range(20)), counts.__getitem__) == 1
    # Within it, the fewest long QTcs win whatever their rank.
    assert choose([0, 12, *range(1, 12), *range(13, 20)], counts.__getitem__) == 12


def test_a_setting_measuring_fewer_strips_cannot_win_by_it() -> None:
    counts = {0: StripCounts(400, 6), 1: StripCounts(300, 0), 2: StripCounts(395, 5)}
    assert choose([0, 1, 2], counts.__getitem__) == 2
