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
(they still count as ventricular ectopic beats), and the read says where they are. A run whose
beats taken every other one look alike is two shapes in turn, not artefact, and stays VT
(`alternates_two_shapes`, since 2026-12-07).
"""

from __future__ import annotations

import numpy as np

from ml import rhythm
from ml.quality import Segment, beat_residuals

MAX_RUN_MISMATCH = 1.5  # true DS1 VT runs: median 0.58, 90th percentile 1.14
# A ventricular tachycardia whose QRS alternates between two shapes (bimorphic, or alternating
# bundle-branch conduction) is unlike its own median beat, and signal quality flags the same
# alternation ("beats differ"): MIT-BIH 223's 59-beat VT at 600-660 s was set aside as motion
# artefact and the strip read atrial fibrillation. Taken every other one, each of its two
# shapes scores 0.10-0.19; artefact runs set aside (DS1, svdb, nstdb, cinc2017) score 0.35-2.8,
# the lowest in runs of 6-7 beats, whose 3 beats a shape fit their own median closely. So a
# shape needs 4 beats at least and to be as alike as the median true DS1 VT run's beats.
MIN_BEATS_PER_SHAPE = 4
MAX_SHAPE_MISMATCH = 0.58
# ... by a shape's beats one by one (their 80th percentile), not its median beat: a baseline
# swing turning a quarter each beat gives each half two opposite shapes, and where one holds
# most of its beats the median scored 0.44-0.53, keeping 10-18 beats of artefact as VT (a review
# of the rule). 223's shapes score 0.15-0.26 so; that artefact 1.66-2.17.
SHAPE_PERCENTILE = 80
NOTE_PHRASE = "not called ventricular tachycardia"  # in the note the read gives such runs


def run_mismatch(band_mv: np.ndarray, fs_hz: float, run_peaks: np.ndarray) -> float | None:
    """How unlike one another the beats at `run_peaks` are (see the module docstring); None
    with fewer than 3 whole beats. `band_mv`: the lead band-passed 0.5-40 Hz."""
    residual = beat_residuals(band_mv, fs_hz, run_peaks)
    return None if residual is None else float(np.median(residual))


def alternates_two_shapes(band_mv: np.ndarray, fs_hz: float, run_peaks: np.ndarray) -> bool:
    """True when the run's beats taken every other one (odd and even beats apart) each look
    alike (`SHAPE_PERCENTILE` of their residuals <= MAX_SHAPE_MISMATCH, MIN_BEATS_PER_SHAPE
    beats each at least): two shapes in turn, as a bimorphic ventricular tachycardia makes,
    not artefact."""
    shapes = [run_peaks[k::2] for k in (0, 1)]
    if min(shape.size for shape in shapes) < MIN_BEATS_PER_SHAPE:
        return False
    residuals = [beat_residuals(band_mv, fs_hz, shape) for shape in shapes]
    return all(
        r is not None and float(np.percentile(r, SHAPE_PERCENTILE)) <= MAX_SHAPE_MISMATCH
        for r in residuals
    )


def artefact_runs(
    band_mv: np.ndarray,
    fs_hz: float,
    peaks: np.ndarray,
    classes: np.ndarray,
    quality: list[Segment],
    offset: int = 0,
) -> list[tuple[int, int]]:
    """(first, last + 1) index into `peaks` (samples of the recording) of each ventricular
    run (`ml.rhythm.run_bounds`) whose beats do not look alike, not even as two shapes in turn
    (`alternates_two_shapes`), and which overlap a segment that is not good. `band_mv` holds
    the lead from sample `offset` of the recording and must cover the runs' beats."""
    beat_s = peaks / fs_hz
    found = []
    for first, stop in rhythm.run_bounds(beat_s, classes, "V"):
        start_s, end_s = float(beat_s[first]), float(beat_s[stop - 1])
        noisy = any(s.level != "good" and s.start_s < end_s and s.end_s > start_s for s in quality)
        if not noisy:
            continue
        run_peaks = peaks[first:stop] - offset
        mismatch = run_mismatch(band_mv, fs_hz, run_peaks)
        if (
            mismatch is not None
            and mismatch > MAX_RUN_MISMATCH
            and not alternates_two_shapes(band_mv, fs_hz, run_peaks)
        ):
            found.append((first, stop))
    return found
