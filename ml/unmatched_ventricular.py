"""Beats called ventricular in noisy signal that look like no other ventricular call.

A patient's premature ventricular beats come from one focus or a few, so they look alike
(the artefact-run rule, `ml.artefact_runs`, reads the same of runs); artefact the classifier
calls V changes from one call to the next. On the cinc2017 normal strips, 252 of the 583 V
calls left after the other V-call rules sit in stretches signal quality calls noisy, and
there they look like no other V call of the strip (median best match 0.6), where all but 4
of the 465 true V calls of MIT-BIH DS1 and svdb in noisy stretches match another V call of
their recording at 0.9 or more.

The measure: each V call's best Pearson correlation with any other V call of the recording
(`WAVE_S` around the R peak of the analysis lead band-passed 0.5-40 Hz). A V call in a
segment that is noisy in every lead (`ml.quality.noisy_everywhere_mask`: where another lead is
good, the call was read from it too) whose best match is under `MIN_MATCH` becomes Q
(unclassifiable), and the read's notes say where. A lone V call in noisy signal has nothing
to match: it is left unclassified too, since nothing there confirms its shape. A faint
detection in poor signal is left to the pause rule, which reads it as no beat at all
(`ml.analysis.faint_in_poor_signal`; as Q it would end the pause it sits in).

Chosen after the other V-call rules, with beat-cnn 2.1, on the portal's own analysis of
MIT-BIH DS1 and svdb (V calls matched to the reference beats: 6,732 true) and of the cinc2017
strips, as the limit removing the most normal-strip calls for at most 0.1 % of the true V
calls (the noise-burst rule's criterion), by `python -m ml.research.unmatched_v_table`.
Limit: true V calls of DS1 + svdb turned Q / false ones / calls on normal strips (of 583) /
on too-noisy strips (of 162): 0.6: 0 / 1 / 88 / 27; 0.7: 1 / 1 / 116 / 46; 0.8: 2 / 2 / 155 /
75; 0.85: 2 / 3 / 181 / 91; 0.9 (shipped): 4 / 4 / 198 / 104; 0.95: 9 / 8 / 221 / 119; 0.97:
15 / 15 / 233 / 127.
"""

from __future__ import annotations

import numpy as np

from ml.gaps import left_unclassified_note

WAVE_S = (0.15, 0.25)  # before and after the R peak: the QRS and the start of the T wave
MIN_MATCH = 0.9
JUDGED_PER_BATCH = 256  # rows of the correlation matrix at a time: memory stays bounded
NOTE_PHRASE = "looks like no other beat called ventricular"


def ventricular_waves(band_mv: np.ndarray, fs_hz: float, peaks: np.ndarray) -> np.ndarray:
    """[beats, samples]: each beat at `peaks` (samples of `band_mv`, the lead band-passed
    0.5-40 Hz), centred and scaled to unit norm so that a dot product is a correlation; a
    row of zeros where the window runs off the signal (it matches nothing)."""
    before, after = (round(s * fs_hz) for s in WAVE_S)
    peaks = np.asarray(peaks, dtype=np.int64)
    out = np.zeros((peaks.size, before + after))
    whole = (peaks >= before) & (peaks + after <= band_mv.size)
    if whole.any():
        rows = band_mv[peaks[whole, None] + np.arange(-before, after)[None, :]]
        rows = rows - rows.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        out[whole] = rows / np.maximum(norms, 1e-12)
    return out


def best_matches(waves: np.ndarray, judged: np.ndarray) -> np.ndarray:
    """Per row of `waves` (`ventricular_waves` of every V call): for the `judged` ones, the
    best correlation with any other row (-1 where there is none); NaN for the others."""
    out = np.full(len(waves), np.nan)
    rows = np.flatnonzero(judged)
    for start in range(0, rows.size, JUDGED_PER_BATCH):
        batch = rows[start : start + JUDGED_PER_BATCH]
        similarity = waves[batch] @ waves.T
        similarity[np.arange(batch.size), batch] = -np.inf  # not with itself
        out[batch] = np.max(similarity, axis=1, initial=-1.0)
    return out


def unmatched(matches: np.ndarray | None) -> np.ndarray | None:
    """True where a judged V call's best match (`best_matches`, NaN where not judged) is
    under MIN_MATCH; None for None (a recording without V calls)."""
    if matches is None:
        return None
    with np.errstate(invalid="ignore"):
        return np.asarray(matches < MIN_MATCH)


def unmatched_note(beat_s: np.ndarray) -> str:
    """What the read says of the V calls it left unclassified (`beat_s`: their times)."""
    return left_unclassified_note(
        beat_s,
        "ventricular",
        f"{{each}} sits in noisy signal and {NOTE_PHRASE} in the recording (a patient's "
        "ventricular beats look alike; artefact changes from one beat to the next)",
    )
