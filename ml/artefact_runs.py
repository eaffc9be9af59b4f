"""Ventricular "runs" made of artefact: beats that do not look alike, in a noisy stretch.

On handheld strips, motion swings the baseline by 1-4 mV. Real QRS complexes riding the swing,
and a few false detections on it, are called V, and their intervals are short, so the run rule
(`ml.rhythm`: >= 3 V beats above 100 bpm) finds ventricular tachycardia: with beat-cnn 2.1,
44 of the 893 normal cinc2017 strips had a VT main finding. A true run's beats look alike
(one focus, one shape, or a slowly turning one); artefact changes every beat differently.
The measure: each run beat's RMS difference from the run's median beat, over that median
beat's RMS, the median over the run's beats (`run_mismatch`). A run is set aside, not called
VT, when it is above `MAX_RUN_MISMATCH` and the run overlaps a segment signal quality does not
call good. Chosen on MIT-BIH DS1 and cinc2017 as the rule that loses none of DS1's 26 true VT
runs and drops the most false runs on normal strips (25 of 48); its beats keep their classes
(they still count as ventricular ectopic beats), and the read says where they are.
"""

from __future__ import annotations

import numpy as np

from ml import rhythm
from ml.quality import Segment, beat_residuals

MAX_RUN_MISMATCH = 1.5  # true DS1 VT runs: median 0.58, 90th percentile 1.14
NOTE_PHRASE = "not called ventricular tachycardia"  # in the note the read gives such runs


def run_mismatch(band_mv: np.ndarray, fs_hz: float, run_peaks: np.ndarray) -> float | None:
    """How unlike one another the beats at `run_peaks` are (see the module docstring); None
    with fewer than 3 whole beats. `band_mv`: the lead band-passed 0.5-40 Hz."""
    residual = beat_residuals(band_mv, fs_hz, run_peaks)
    return None if residual is None else float(np.median(residual))


def artefact_runs(
    band_mv: np.ndarray,
    fs_hz: float,
    peaks: np.ndarray,
    classes: np.ndarray,
    quality: list[Segment],
    offset: int = 0,
) -> list[tuple[int, int]]:
    """(first, last + 1) index into `peaks` (samples of the recording) of each ventricular
    run (`ml.rhythm.run_bounds`) whose beats do not look alike and which overlap a segment
    that is not good. `band_mv` holds the lead from sample `offset` of the recording and must
    cover the runs' beats."""
    beat_s = peaks / fs_hz
    found = []
    for first, stop in rhythm.run_bounds(beat_s, classes, "V"):
        start_s, end_s = float(beat_s[first]), float(beat_s[stop - 1])
        noisy = any(s.level != "good" and s.start_s < end_s and s.end_s > start_s for s in quality)
        if not noisy:
            continue
        mismatch = run_mismatch(band_mv, fs_hz, peaks[first:stop] - offset)
        if mismatch is not None and mismatch > MAX_RUN_MISMATCH:
            found.append((first, stop))
    return found
