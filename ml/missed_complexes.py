"""Ventricular complexes the beat detector missed, found where a dropped beat would be read.

A dropped beat is a P wave not conducted: no QRS complex stands inside its interval of two
cycles. A wide premature ventricular beat the detector took for the T wave of the beat before
leaves the same interval, its compensatory pause (QT Database sel44 at 603.4 s, 0.44 s after
the beat before: "Dropped beat (possible second-degree AV block)").

Inside each interval between two beats longer than `rhythm.DROPPED_MIN_S`, clear of
the beat before's T wave (`AFTER_BEAT_S`) and of the next beat's QRS onset (`BEFORE_BEAT_S`),
each lead read is searched in the QRS band (5-25 Hz) for its largest swing (peak to peak
within `SWING_S`), against the median swing of its beats called N: `MIN_SHARE` of it or more
is a complex. A blocked P wave, in the T wave of a blocked atrial premature beat or on its own
in a Mobitz block, is slow and small in this band; a wide ventricular complex is not (sel44's:
0.36 and 0.32 of the beats' swing in its two leads, the blocked beats of MIT-BIH 201 and 215
under 0.1).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ml.rhythm import DROPPED_MIN_S

QRS_BAND_HZ = (5.0, 25.0)
SWING_S = 0.12  # a QRS complex's swing fits in this
AFTER_BEAT_S, BEFORE_BEAT_S = 0.35, 0.15
MIN_SHARE = 0.25
MIN_BEATS = 3


def missed_complexes_s(
    qrs_band_mv: np.ndarray,
    fs_hz: float,
    beat_s: np.ndarray,
    classes: np.ndarray,
    band_start_s: float = 0.0,
) -> np.ndarray:
    """Times (s of the recording) of the complexes found inside intervals between two beats
    over `DROPPED_MIN_S` (module docstring), one at most per interval. `qrs_band_mv`: the leads
    read (samples x leads), band-passed to `QRS_BAND_HZ`, whose first sample is the recording's
    `band_start_s` x fs (a chunk's)."""
    band = np.asarray(qrs_band_mv, dtype=float)
    band = band[:, None] if band.ndim == 1 else band
    peaks = np.round((np.asarray(beat_s, dtype=float) - band_start_s) * fs_hz).astype(int)
    classes = np.asarray(classes)
    normal = np.flatnonzero(classes == "N")
    width = max(2, round(SWING_S * fs_hz))
    inside = normal[(peaks[normal] - width >= 0) & (peaks[normal] + width <= len(band))]
    if inside.size < MIN_BEATS:
        return np.zeros(0)
    beat_swings = np.array([_swings(band[p - width : p + width], width) for p in peaks[inside]])
    usual = np.median(beat_swings.max(axis=1), axis=0)  # per lead
    long = np.diff(peaks) > DROPPED_MIN_S * fs_hz
    found = []
    for i in np.flatnonzero(long):
        first = max(0, peaks[i] + round(AFTER_BEAT_S * fs_hz))
        last = min(len(band), peaks[i + 1] - round(BEFORE_BEAT_S * fs_hz))
        if last - first < width:
            continue
        swings = _swings(band[first:last], width) / np.maximum(usual, 1e-6)
        at, lead = np.unravel_index(np.argmax(swings), swings.shape)
        if swings[at, lead] >= MIN_SHARE:
            found.append((first + at + width / 2) / fs_hz + band_start_s)
    return np.array(found)


def _swings(x: np.ndarray, width: int) -> np.ndarray:
    """Peak to peak of each window of `width` samples (windows x leads)."""
    windows = sliding_window_view(x, width, axis=0)
    return np.asarray(windows.max(axis=-1) - windows.min(axis=-1))
