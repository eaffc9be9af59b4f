"""Beats the classifier doubted that look like the patient's own ventricular beats are read V.

On recorders, leads and patients it never learned, the beat classifier misses ventricular
beats whose shape it half recognises. Out of fold, svdb 868's ventricular beats called N or
S got a V probability of 0.13-0.44 (its normal beats about 0.001), and their QRS correlates
0.98 with the median of the recording's V calls against 0.79-0.87 with the median of its N
calls. A patient's ventricular beats come from one focus or a few, so they look alike
(`ml.unmatched_ventricular` reads the same from the other side): the recording's own V calls
are a template for the beats the classifier doubted.

The rule: an N or S call whose V probability is at least `min_v_probability`, whose QRS
(`WAVE_S` around the R peak of the classifier's own window of the analysis lead, 0.5-40 Hz)
correlates at least `min_match` with the median of the recording's V calls, and by at least
`margin` more than with the median of its N calls, is read V. A recording needs
`MIN_V_CALLS` V calls for a template. It runs on the classifier's calls before any rule that
takes calls back (`ml.analysis.unclassified_where_doubtful`), so a beat it reads V is judged
by them like any other V call, and the read's notes say how many beats it read V and where.

Chosen by `python -m ml.research.lookalike_v_table` (V round 2, pre-registered in commit
72e0cf6, before any figure of its settings): end to end out of fold (the networks of the fold
that held each patient out, CV seeds 0 and 1) on MIT-BIH DS1 and svdb, the setting with the
highest training objective (`ml.training.selection.objective`) averaged over the two seeds,
of p 0.1 / 0.2 / 0.3 x match 0.9 / 0.95 x margin 0 / 0.05 and off. Off: -0.208; chosen, p 0.2,
match 0.95, margin 0: -0.176 (the next: -0.182, p 0.3 with the same match and margin). With
it, seed 0 / seed 1: svdb V Se 78.6 -> 84.7 / 71.7 -> 77.3 %, V +P 83.7 -> 82.3 / 79.8 ->
76.9 %; DS1 V Se 88.1 -> 88.8 / 89.3 -> 90.4 %, V +P 84.1 -> 83.6 / 80.1 -> 78.4 %; svdb S +P
65.4 -> 66.8 / 64.3 -> 65.8 % (S Se -0.7 / -1.6). It reads a beat V on none of the 893
cinc2017 strips labelled normal (the guard: at most 1 %) at any setting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.features import MODEL_FS_HZ, WINDOW_BEFORE_S, WINDOW_DECIMATION
from ml.gaps import clocks

WAVE_S = (0.15, 0.25)  # before and after the R peak: the QRS and the start of the T wave
MIN_V_CALLS = 5
TEMPLATE_BEATS = 2000  # a median over this many calls is already stable (evenly spaced)
NOTE_PHRASE = "Read as ventricular:"


@dataclass(frozen=True)
class LookalikeSettings:
    """How doubtful a call must be, and how closely it must match, to be read V."""

    min_v_probability: float = 0.2
    min_match: float = 0.95
    margin: float = 0.0
    # V round 2b: when the median V call correlates with the median N call above this, the
    # recording's V calls look like its normal beats and make no template (None: never).
    max_template_match: float | None = None


DEFAULT_SETTINGS = LookalikeSettings()
OFF = None  # `lookalikes(..., settings=OFF)` reads nothing V (the table's baseline)


def _qrs_columns(n_columns: int) -> slice:
    """The columns of a `BeatWaveforms.windows` row that lie within `WAVE_S` of the R peak."""
    step_s = WINDOW_DECIMATION / MODEL_FS_HZ
    first = round((WINDOW_BEFORE_S - WAVE_S[0]) / step_s)
    return slice(first, min(n_columns, first + round(sum(WAVE_S) / step_s)))


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    """Each row centred and scaled to unit norm, so that a dot product is a correlation."""
    centred = rows - rows.mean(axis=-1, keepdims=True)
    norms = np.linalg.norm(centred, axis=-1, keepdims=True)
    return centred / np.maximum(norms, 1e-12)


def _template(qrs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The unit-norm median of `qrs` (unit rows) at `rows`, at most `TEMPLATE_BEATS` of them."""
    step = max(1, -(-rows.size // TEMPLATE_BEATS))
    return _unit_rows(np.median(_unit_rows(qrs[rows[::step]]), axis=0))


def lookalikes(
    windows: np.ndarray,
    classes: np.ndarray,
    v_probability: np.ndarray,
    settings: LookalikeSettings | None = DEFAULT_SETTINGS,
) -> np.ndarray:
    """True for the N and S calls to read V (module docstring). `windows` are the analysis
    lead's `BeatWaveforms.windows`, one row per beat in `classes`."""
    out = np.zeros(len(classes), dtype=bool)
    ventricular = np.flatnonzero(classes == "V")
    normal = np.flatnonzero(classes == "N")
    if settings is None or ventricular.size < MIN_V_CALLS or normal.size == 0:
        return out
    doubted = np.flatnonzero(
        np.isin(classes, ("N", "S")) & (v_probability >= settings.min_v_probability)
    )
    if doubted.size == 0:
        return out
    qrs = windows[:, _qrs_columns(windows.shape[1])]
    v_template, n_template = _template(qrs, ventricular), _template(qrs, normal)
    limit = settings.max_template_match
    if limit is not None and float(v_template @ n_template) > limit:
        return out
    v_match = _unit_rows(qrs[doubted]) @ v_template
    n_match = _unit_rows(qrs[doubted]) @ n_template
    out[doubted] = (v_match >= settings.min_match) & (v_match - n_match >= settings.margin)
    return out


def lookalikes_note(beat_s: np.ndarray) -> str:
    """What the read says of the beats it read V (`beat_s`: their times)."""
    times = list(beat_s)
    beats, match = ("1 beat", "matches") if len(times) == 1 else (f"{len(times)} beats", "match")
    return (
        f"Read as ventricular: {beats} (at {clocks(times)}) that the classifier was unsure of "
        f"and that {match} this patient's beats called ventricular more closely than the normal "
        "ones; check the strip there."
    )
