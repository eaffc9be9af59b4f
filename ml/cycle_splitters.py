"""Beats called ventricular (or supraventricular) that sit inside one heart cycle: a T wave or
a spike detected as a beat, not an ectopic beat.

A premature ventricular beat comes early and is followed by a pause: its two intervals
together (before + after) are about two cycles, or, when it is interpolated, a little more
than one. A detection whose two intervals together are shorter than the recording's median
cycle splits one cycle in two: on handheld strips these are mostly T waves and noise spikes
between real beats, which the classifier calls V because they are early and look unlike the
patient's beats. Such beats become Q (unclassifiable): they still count as detections, but
make no ventricular finding, and the read's notes say where they are.

A beat inside a run of V calls is left to the run rules (`ml.rhythm`, `ml.artefact_runs`):
in ventricular tachycardia every interval is short, and the rule would break true runs
(MIT-BIH 203, svdb 811). Chosen on data the classifier was fitted on (its reference beats,
not its calls: the rule reads only times): MIT-BIH DS1, svdb and the cinc2017 normal strips.
With beat-cnn 2.1, beats next to another V call exempt: a T wave inside a steady rhythm
splits exactly one cycle, so the limit sits a little above it. A sum below 1.0 median
interval turns 2 of the 6,763 true ventricular beats of DS1 and svdb called V into Q and
108 of the 1,201 V calls on the 893 normal cinc2017 strips; 1.02 (shipped) 5 and 151 (13 %);
1.04 14 and 204, most of them interpolated PVCs of svdb 805. Without the exemption, 1.0 took
26 true beats, 24 of them in ventricular runs.
"""

from __future__ import annotations

import numpy as np

from ml.gaps import left_unclassified_note

MAX_SPAN_CYCLES = 1.02  # before + after interval, over the recording's median interval
# A premature atrial beat resets the sinus node: the cycle after it is about one cycle, so
# its two intervals add up to well over one (1st percentile of DS1 and svdb: 1.30), and
# atrial beats are not interpolated. Limit: the largest of 1.0-1.2 that turns at most 0.1 %
# of the true S calls of DS1 and svdb into Q (see README, "S calls inside one cycle").
MAX_SPAN_CYCLES_SUPRAVENTRICULAR = 1.1
NOTE_PHRASE = "inside one heart cycle"


def splits_a_cycle(
    beat_s: np.ndarray,
    classes: np.ndarray,
    beat_class: str = "V",
    max_span_cycles: float = MAX_SPAN_CYCLES,
) -> np.ndarray:
    """True for each beat called `beat_class`, between two beats not called so, whose
    intervals before and after together are shorter than `max_span_cycles` x the median
    interval."""
    found = np.zeros(len(classes), dtype=bool)
    if len(beat_s) < 3:
        return found
    rr_s = np.diff(beat_s)
    span_s = rr_s[:-1] + rr_s[1:]  # of beats 1 .. n-2
    called = np.asarray(classes) == beat_class
    alone = called[1:-1] & ~called[:-2] & ~called[2:]  # in a run, short intervals are the rhythm
    found[1:-1] = alone & (span_s < max_span_cycles * np.median(rr_s))
    return found


def supraventricular_splits_a_cycle(beat_s: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """`splits_a_cycle` for S calls, at MAX_SPAN_CYCLES_SUPRAVENTRICULAR."""
    return splits_a_cycle(beat_s, classes, "S", MAX_SPAN_CYCLES_SUPRAVENTRICULAR)


def supraventricular_splitters_note(beat_s: np.ndarray) -> str:
    """What the read says of the S calls it left unclassified (`beat_s`: their times)."""
    return left_unclassified_note(
        beat_s,
        "supraventricular",
        f"{{each}} sits {NOTE_PHRASE} (its intervals before and after together are less than "
        f"{MAX_SPAN_CYCLES_SUPRAVENTRICULAR:g} times the usual interval between beats), as T "
        "waves and noise detected as beats do, not a premature beat with the cycle after it",
    )


def cycle_splitters_note(beat_s: np.ndarray) -> str:
    """What the read says of the V calls it left unclassified (`beat_s`: their times)."""
    return left_unclassified_note(
        beat_s,
        "ventricular",
        f"{{each}} sits {NOTE_PHRASE} (its intervals before and after together are shorter "
        "than the usual interval between beats), as T waves and noise detected as beats do, "
        "not a premature beat with its pause",
    )
