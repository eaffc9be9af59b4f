"""Beats called ventricular inside a burst of fast noise: muscle tremor or a rubbing electrode
fills the QRS band between the beats, and a beat's shape, which a ventricular call reads,
is lost in it.

The baseline-swing rule (`ml.baseline_swings`) catches slow motion artefact; bursts of fast
noise lasting a second or two pass it, and signal quality's 10-s segments often call them
good. The measure: the peak-to-peak of the QRS band (8-25 Hz, as the swing rule's QRS size)
within 0.6 s of the beat, leaving out every detected beat's own QRS (100 ms before its R peak
to 150 ms after), over the recording's median QRS peak-to-peak. On clean signal the P and T
waves leave 0.1-0.3 there; a V call above MAX_NOISE_OVER_QRS becomes Q (unclassifiable) and
the read's notes say where.

Chosen after the cycle-splitter and swing rules, on MIT-BIH DS1, svdb and the cinc2017 normal
strips, with beat-cnn 2.1. The measure reads the signal, not the classifier, so every
reference ventricular beat of DS1 and svdb measures its cost (of 7,196; a window 1 s wide and
a 95th-percentile measure separated no better). Limit: true V beats turned Q / V calls on the
893 normal strips removed (of 650): 0.5: 23 / 139; 0.6: 13 / 111; 0.7 (shipped): 6 / 91;
0.8: 3 / 64; 1.0: 3 / 34.
"""

from __future__ import annotations

import numpy as np

from ml.baseline_swings import QRS_BAND_HZ
from ml.filters import bandpass_mv
from ml.gaps import left_unclassified_note

NOISE_HALF_WINDOW_S = 0.6
BEAT_LEFT_OUT_S = (0.10, 0.15)  # before and after each R peak: the beat's own QRS
MIN_NOISE_WINDOW_S = 0.2  # less left between the beats than this: not judged
MAX_NOISE_OVER_QRS = 0.7
NOTE_PHRASE = "a burst of noise"


def noise_mv(
    lead_mv: np.ndarray, fs_hz: float, peaks: np.ndarray, judged: np.ndarray | None = None
) -> np.ndarray:
    """Per beat at `peaks` (samples of `lead_mv`): the peak-to-peak of the QRS band within
    NOISE_HALF_WINDOW_S of it, outside every beat's own QRS, in mV; NaN where too little is
    left (beats close together) to judge, and for beats not `judged` (default: all)."""
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
            out[i] = float(np.ptp(left))
    return out


def in_noise_burst(noise: np.ndarray, qrs_mv: np.ndarray) -> np.ndarray:
    """True for each beat whose noise (`noise_mv`) exceeds MAX_NOISE_OVER_QRS x the median QRS
    peak-to-peak of all beats (`ml.baseline_swings.swing_and_qrs_mv`); the V calls among them
    become Q (`ml.analysis.unclassified_where_doubtful`)."""
    if not np.isfinite(qrs_mv).any():
        return np.zeros(len(noise), dtype=bool)
    limit_mv = MAX_NOISE_OVER_QRS * float(np.nanmedian(qrs_mv))
    return np.nan_to_num(noise, nan=0.0) > limit_mv


def bursts_note(beat_s: np.ndarray) -> str:
    """What the read says of the V calls it left unclassified (`beat_s`: their times)."""
    return left_unclassified_note(
        beat_s,
        "ventricular",
        f"{{each}} sits in {NOTE_PHRASE} (muscle tremor or electrode artefact) whose size "
        "between the beats is more than "
        f"{MAX_NOISE_OVER_QRS:g} times that of the QRS complexes, which hides a beat's shape",
    )
