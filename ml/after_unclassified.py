"""Beats called supraventricular right after a beat left unclassified: their prematurity is
measured from a detection the read does not trust.

An S call rests mostly on timing: the beat comes early. "Early" is the interval from the
detection before it. When that detection is a beat left unclassified (Q: in unusable signal,
in a strip's first second, or a V call left unclassified as a T wave, a spike or a beat on a
baseline swing, `ml.cycle_splitters` and `ml.baseline_swings`), the interval may run from a
false detection, and the beat after it looks premature without being so. Such S calls become
Q as well, and the read's notes say where.

Chosen on MIT-BIH DS1, svdb and the cinc2017 normal strips, after the two V-call rules, with
beat-cnn 2.1: of the S calls that follow a Q, none of DS1's 5 and 18 of svdb's 35 are true
S beats (18 of the 5,891 true S beats called S in both, 0.3 %), while on the 893 normal
strips 205 of the 839 S calls follow a Q (24 %).
"""

from __future__ import annotations

import numpy as np

from ml.gaps import left_unclassified_note

NOTE_PHRASE = "its prematurity cannot be judged"


def supraventricular_after_unclassified(classes: np.ndarray) -> np.ndarray:
    """True for each beat called S whose previous beat is Q (one pass: an S call after one
    of these keeps its class)."""
    classes = np.asarray(classes)
    found = np.zeros(len(classes), dtype=bool)
    found[1:] = (classes[1:] == "S") & (classes[:-1] == "Q")
    return found


def after_unclassified_note(beat_s: np.ndarray) -> str:
    """What the read says of the S calls it left unclassified (`beat_s`: their times)."""
    return left_unclassified_note(
        beat_s,
        "supraventricular",
        "the interval before {each} runs from a beat left unclassified (noise, the strip's "
        f"edge or a detection inside a cycle), so {NOTE_PHRASE}",
    )
