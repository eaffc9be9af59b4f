"""Beats called ventricular that came on time, with no pause after them, are left unclassified.

A premature ventricular beat comes early, before the sinus beat was due, and a pause follows
it. A beat the classifier calls V whose intervals before and after both lie within
`ON_TIME_TOLERANCE` of the sinus cycle came when the rhythm's beat was due and kept the rhythm
going: a beat of the rhythm whose shape was misread (a handheld lead unlike the training
leads, noise on the QRS), or a conducted beat of another shape (an intermittent bundle-branch
block), not a premature ventricular beat; the read leaves it unclassified (Q) and says where.
Late beats (escape beats, AAMI V) and V calls beside another V call (couplets, runs,
accelerated idioventricular rhythm) are left alone. The sinus cycle is the on-time S rule's
(`ml.on_time_beats.sinus_cycle_before_s`, or the cycle after it in a recording's first
seconds).

V round 1 (pre-registered before its figures): the tolerance is chosen by
`python -m ml.research.on_time_v_table`: the widest of `TOLERANCES` that turns at most 0.1 %
of the true V calls of DS1 + svdb into Q; none qualifying, the rule stays off (None).
"""

from __future__ import annotations

import numpy as np

from ml.gaps import left_unclassified_note
from ml.on_time_beats import sinus_cycle_after_s, sinus_cycle_before_s

ON_TIME_TOLERANCE: float | None = None
TOLERANCES = (0.05, 0.10, 0.15)  # of the sinus cycle, each side


def interval_deviation(beat_s: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Per V call with no V call beside it: the larger of |RR before / cycle - 1| and
    |RR after / cycle - 1| (cycle: the sinus cycle before the beat, or after it where none
    precedes); NaN for every other beat and where no cycle is known."""
    beat_s = np.asarray(beat_s, dtype=float)
    classes = np.asarray(classes)
    out = np.full(beat_s.size, np.nan)
    if beat_s.size < 3:
        return out
    cycle = sinus_cycle_before_s(beat_s, classes)
    cycle = np.where(np.isnan(cycle), sinus_cycle_after_s(beat_s, classes), cycle)
    ventricular = classes == "V"
    lone = ventricular.copy()
    lone[1:] &= ~ventricular[:-1]
    lone[:-1] &= ~ventricular[1:]
    lone[[0, -1]] = False  # an interval on each side is needed
    rr_s = np.diff(beat_s)
    index = np.flatnonzero(lone)
    before, after = rr_s[index - 1], rr_s[index]
    with np.errstate(invalid="ignore"):
        out[index] = np.maximum(
            np.abs(before / cycle[index] - 1.0), np.abs(after / cycle[index] - 1.0)
        )
    return out


def on_time_ventricular(
    beat_s: np.ndarray, classes: np.ndarray, tolerance: float | None = None
) -> np.ndarray:
    """True for each lone V call whose intervals both lie within `tolerance` (default
    `ON_TIME_TOLERANCE`; None: the rule is off) of the sinus cycle."""
    tolerance = ON_TIME_TOLERANCE if tolerance is None else tolerance
    if tolerance is None:
        return np.zeros(len(classes), dtype=bool)
    deviation = interval_deviation(beat_s, classes)
    with np.errstate(invalid="ignore"):
        return np.asarray(deviation <= tolerance)


def on_time_ventricular_note(beat_s: np.ndarray) -> str:
    """What the read says of the V calls it left unclassified (`beat_s`: their times)."""
    share = round(100 * (ON_TIME_TOLERANCE or 0.0))
    return left_unclassified_note(
        beat_s,
        "ventricular",
        f"{{each}} came on time (both its intervals within {share}% of the sinus cycle, no "
        "pause after it), and a premature ventricular beat comes early",
    )
