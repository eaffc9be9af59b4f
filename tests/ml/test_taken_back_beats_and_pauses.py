"""A doubtful call taken back (Q) that came on time is a beat of the rhythm: it ends a pause
(`ml.analysis.taken_back_on_time`, `ml.rhythm.detect_rhythms(bound_pauses=...)`)."""

from __future__ import annotations

import numpy as np

from ml import rhythm
from ml.analysis import taken_back_on_time


def _strip(last_before_pause: str) -> tuple[np.ndarray, np.ndarray]:
    """A 30-s sinus strip at 64 bpm with a 3.7-s pause after the beat at 12.72 s."""
    before = np.arange(0.5, 13.0, 0.94)  # 14 beats, the last at 12.72 s
    after = before[-1] + 3.7 + np.arange(0.0, 12.0, 0.94)
    beat_s = np.concatenate([before, after])
    classes = np.full(beat_s.size, "N")
    classes[before.size - 1] = last_before_pause
    return beat_s, classes


def _pause_spans(beat_s: np.ndarray, classes: np.ndarray, bound: np.ndarray | None) -> list:
    episodes = rhythm.detect_rhythms(beat_s, classes, 30.0, bound_pauses=bound)
    return [(round(e.start_s, 2), round(e.end_s, 2)) for e in episodes if e.label == rhythm.PAUSE]


def test_an_on_time_call_taken_back_ends_a_pause() -> None:
    beat_s, called = _strip("V")
    reported = np.where(called == "V", "Q", called)  # taken back: it rode a baseline swing
    on_time = taken_back_on_time(beat_s, reported, called)
    assert on_time.tolist() == (called == "V").tolist()
    assert _pause_spans(beat_s, reported, on_time) == [(12.72, 16.42)]
    # Without the rule the pause is bounded by a Q beat and goes unread.
    assert _pause_spans(beat_s, reported, None) == []


def test_a_premature_call_taken_back_or_a_beat_in_unusable_signal_does_not() -> None:
    beat_s, called = _strip("V")
    beat_s = beat_s.copy()
    last = int(np.flatnonzero(called == "V")[0])
    beat_s[last] -= 0.35  # 0.59 s after the beat before: premature, then a 4-s interval
    reported = np.where(called == "V", "Q", called)
    on_time = taken_back_on_time(beat_s, reported, called)
    assert not on_time.any()
    assert _pause_spans(beat_s, reported, on_time) == []
    # A beat that was Q as called (unusable signal) was never taken back.
    assert not taken_back_on_time(beat_s, reported, reported).any()
