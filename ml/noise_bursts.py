"""Beats called ventricular inside a burst of fast noise: muscle tremor or a rubbing electrode
fills the QRS band between the beats, and a beat's shape, which a ventricular call reads,
is lost in it.

The baseline-swing rule (`ml.baseline_swings`) catches slow motion artefact; bursts of fast
noise lasting a second or two pass it, and signal quality's 10-s segments often call them
good. The measure: the size of the QRS band (8-25 Hz, as the swing rule's QRS size) within
0.6 s of the beat, leaving out every detected beat's own QRS (100 ms before its R peak to
150 ms after): twice the 90th percentile of its absolute value, which noise filling the time
reaches and a lone QRS the detector missed does not (a peak-to-peak did: see below). Over the
recording's median QRS peak-to-peak; a V call above MAX_NOISE_OVER_QRS becomes Q
(unclassifiable) and the read's notes say where.

Chosen after the other V-call rules with beat-cnn 2.1, on the portal's own analysis of
MIT-BIH DS1 and svdb (its V calls matched to the reference beats: 6,747 true of 7,331) and of
the cinc2017 strips (650 V calls on the 893 normal strips, 306 on the 49 too-noisy ones), as
the measure removing the most normal-strip calls for at most 7 true V calls (0.1 %). Limit:
true V calls turned Q / false V calls of DS1 + svdb removed / normal-strip calls removed /
too-noisy-strip calls removed: 0.3: more than 12 true; 0.4 (shipped): 5 / 4 / 67 / 144;
0.5: 0 / 3 / 41 / 91; 0.6: 0 / 2 / 27 / 51. The first choice (committed 1f9cd72: the
peak-to-peak at 0.7, chosen on the reference beats, 6 of 7,196 true V beats) cost 27 true V
calls end to end, mostly in MIT-BIH 208, where the detector misses a beat of a couplet and
that beat's QRS counted as noise.
"""

from __future__ import annotations

import numpy as np

from ml.baseline_swings import QRS_BAND_HZ, larger_than_qrs
from ml.filters import bandpass_mv
from ml.gaps import left_unclassified_note

NOISE_HALF_WINDOW_S = 0.6
BEAT_LEFT_OUT_S = (0.10, 0.15)  # before and after each R peak: the beat's own QRS
MIN_NOISE_WINDOW_S = 0.2  # less left between the beats than this: not judged
NOISE_PERCENTILE = 90  # a lone missed QRS in the window is not a burst: its few samples
MAX_NOISE_OVER_QRS = 0.4
# S calls (noise-burst round 2, pre-registered in commit 7a5380f): false detections in a burst
# of noise come early, so the classifier calls them premature (S); the limit for S calls
# (None: not judged), chosen by `python -m ml.research.noise_burst_s_table`: the lowest of
# 0.4-0.8 turning at most 0.1 % of the true S calls of DS1 + svdb into Q (0.4: 2 of 5,800).
MAX_S_NOISE_OVER_QRS: float | None = 0.4
NOTE_PHRASE = "a burst of noise"


def judged_classes() -> tuple[str, ...]:
    """The beat classes this rule judges: V, and S once its limit is set."""
    return ("V",) if MAX_S_NOISE_OVER_QRS is None else ("V", "S")


def noise_mv(
    lead_mv: np.ndarray, fs_hz: float, peaks: np.ndarray, judged: np.ndarray | None = None
) -> np.ndarray:
    """Per beat at `peaks` (samples of `lead_mv`): the size of the QRS band within
    NOISE_HALF_WINDOW_S of it, outside every beat's own QRS (twice its 90th percentile of
    absolute values, in mV: the peak-to-peak of noise that fills the time); NaN where too
    little is left (beats close together) to judge, and for beats not `judged` (default: all)."""
    peaks = np.asarray(peaks, dtype=np.int64)
    out = np.full(peaks.size, np.nan)
    judged = np.ones(peaks.size, dtype=bool) if judged is None else judged
    if not judged.any():
        return out
    band = bandpass_mv(lead_mv, fs_hz, QRS_BAND_HZ)
    before, after = (round(s * fs_hz) for s in BEAT_LEFT_OUT_S)
    edges = np.zeros(band.size + 1, dtype=np.int64)  # +1 where a beat's QRS starts, -1 after
    np.add.at(edges, np.clip(peaks - before, 0, band.size), 1)
    np.add.at(edges, np.clip(peaks + after, 0, band.size), -1)
    between = np.cumsum(edges[:-1]) == 0
    half = round(NOISE_HALF_WINDOW_S * fs_hz)
    for i in np.flatnonzero(judged):
        lo, hi = max(0, peaks[i] - half), min(band.size, peaks[i] + half + 1)
        left = band[lo:hi][between[lo:hi]]
        if left.size >= MIN_NOISE_WINDOW_S * fs_hz:
            out[i] = 2.0 * float(np.percentile(np.abs(left), NOISE_PERCENTILE))
    return out


def in_noise_burst(noise: np.ndarray, qrs_mv: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """True for each V call whose noise (`noise_mv`) exceeds MAX_NOISE_OVER_QRS x the median
    QRS peak-to-peak of all beats (`ml.baseline_swings.swing_and_qrs_mv`), and each S call
    whose noise exceeds MAX_S_NOISE_OVER_QRS x it (when set); they become Q
    (`ml.analysis.unclassified_where_doubtful`)."""
    found = (classes == "V") & larger_than_qrs(noise, qrs_mv, MAX_NOISE_OVER_QRS)
    if MAX_S_NOISE_OVER_QRS is not None:
        found |= (classes == "S") & larger_than_qrs(noise, qrs_mv, MAX_S_NOISE_OVER_QRS)
    return np.asarray(found)


def bursts_note(beat_s: np.ndarray) -> str:
    """What the read says of the V calls it left unclassified (`beat_s`: their times)."""
    return left_unclassified_note(
        beat_s,
        "ventricular",
        f"{{each}} sits in {NOTE_PHRASE} (muscle tremor or electrode artefact) whose size "
        "between the beats is more than "
        f"{MAX_NOISE_OVER_QRS:g} times that of the QRS complexes, which hides a beat's shape",
    )


def supraventricular_bursts_note(beat_s: np.ndarray) -> str:
    """What the read says of the S calls it left unclassified (`beat_s`: their times)."""
    return left_unclassified_note(
        beat_s,
        "supraventricular",
        f"{{each}} sits in {NOTE_PHRASE} (muscle tremor or electrode artefact) whose size "
        f"between the beats is more than {MAX_S_NOISE_OVER_QRS:g} times that of the QRS "
        "complexes, where noise is detected as early beats",
    )
