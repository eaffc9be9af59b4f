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

Runs of S calls (supraventricular tachycardia, >= 3 S beats above 100 bpm) are judged the same
way against `MAX_SVT_RUN_MISMATCH` (SVT round 1, pre-registered; None: not judged): false
detections in motion artefact at a strip's end or around a burst of noise come close together,
read as premature, and made a 1-s "supraventricular tachycardia" on 5 normal cinc2017 strips.
A true SVT's beats are conducted alike, so they look alike. The limit is chosen by
`python -m ml.research.artefact_svt_table` (see there).
"""

from __future__ import annotations

import numpy as np

from ml import rhythm
from ml.quality import Segment, beat_residuals

MAX_RUN_MISMATCH = 1.5  # true DS1 VT runs: median 0.58, 90th percentile 1.14
# SVT round 1 (pre-registered): the limit for runs of S calls; None until the round decides.
MAX_SVT_RUN_MISMATCH: float | None = None
RUN_CLASSES = ("V", "S")  # the beat classes whose runs are judged
NOTE_PHRASE = "not called ventricular tachycardia"  # in the note the read gives such runs
NOTE_PHRASES = {"V": NOTE_PHRASE, "S": "not called supraventricular tachycardia"}


def mismatch_limit(beat_class: str) -> float | None:
    """The limit above which a noisy run of `beat_class` calls is artefact (None: not judged)."""
    return {"V": MAX_RUN_MISMATCH, "S": MAX_SVT_RUN_MISMATCH}[beat_class]


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
    beat_class: str = "V",
) -> list[tuple[int, int]]:
    """(first, last + 1) index into `peaks` (samples of the recording) of each run of
    `beat_class` calls (`ml.rhythm.run_bounds`) whose beats do not look alike and which
    overlap a segment that is not good. `band_mv` holds the lead from sample `offset` of the
    recording and must cover the runs' beats."""
    limit = mismatch_limit(beat_class)
    if limit is None:
        return []
    return [
        (first, stop)
        for first, stop, mismatch in noisy_runs(
            band_mv, fs_hz, peaks, classes, quality, offset, beat_class
        )
        if mismatch is not None and mismatch > limit
    ]


def noisy_runs(
    band_mv: np.ndarray,
    fs_hz: float,
    peaks: np.ndarray,
    classes: np.ndarray,
    quality: list[Segment],
    offset: int = 0,
    beat_class: str = "V",
) -> list[tuple[int, int, float | None]]:
    """(first, last + 1, mismatch) of each run of `beat_class` calls that overlaps a segment
    that is not good: what `artefact_runs` judges (arguments as there)."""
    beat_s = peaks / fs_hz
    found = []
    for first, stop in rhythm.run_bounds(beat_s, classes, beat_class):
        start_s, end_s = float(beat_s[first]), float(beat_s[stop - 1])
        noisy = any(s.level != "good" and s.start_s < end_s and s.end_s > start_s for s in quality)
        if noisy:
            found.append((first, stop, run_mismatch(band_mv, fs_hz, peaks[first:stop] - offset)))
    return found
