"""Whether P waves go on through a pause: a sinus arrest has none, an AV block's pause has
P waves without a QRS after them (non-conducted P waves), and the two are treated apart.

The recording's own P wave is the template: the median, in the P-wave band, of the beats
called N around the peak of their median P wave. Inside a pause, away from the beat before's
T wave (`AFTER_BEAT_S`) and the next beat's own P wave (`BEFORE_BEAT_S`, or further where the
beats' P wave lies further ahead: a long PR), a stretch that
matches it (correlation `MATCH` or more, a size within `SIZE_RANGE` of it) is a P wave. A
pause says "P waves go on" when at least two, and half of the atrial cycles that fit in the
searched stretch, hold one, at about the beats' cycle and mostly evenly (`_atrial_rhythm`:
matches in noise come at any spacing), "no P wave" when none does and the stretch holds
`CYCLES_FOR_NONE` cycles or more; otherwise nothing is said. Nothing is said either where
the beats' P wave is too small or too unlike from beat to beat to serve as a template.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ml.dsp import find_peaks
from ml.rhythm import PAUSE_S

P_SEARCH_S = (0.30, 0.10)  # before the R peak: where a beat's P wave peaks, clear of the QRS
P_HALF_S = 0.04  # the template: this either side of the P wave's peak
AFTER_BEAT_S, BEFORE_BEAT_S = 0.45, 0.35
NEXT_P_MARGIN_S = 0.05
MATCH = 0.8
SIZE_RANGE = (0.5, 2.0)
MIN_P_MV = 0.03  # a smaller median P wave is no template
TEMPLATE_AGREEMENT = 0.7  # median correlation of the beats' P waves with their median
CYCLES_FOR_NONE = 2.0  # MIT-BIH 201's 2.0-2.1-s pauses searched 1.3 s: too short to say
CYCLE_TOLERANCE = 0.25  # P waves in a pause come at about the beats' cycle ...
EVEN_SHARE = 0.6  # ... most of them evenly
MIN_BEATS = 5


def pause_p_waves(
    p_band_mv: np.ndarray,
    fs_hz: float,
    beat_s: np.ndarray,
    classes: np.ndarray,
    open_spans_s: Sequence[tuple[float, float]] = (),
    band_start_s: float = 0.0,
) -> dict[tuple[float, float], int | None]:
    """`p_waves_in_pauses` of every interval over `PAUSE_S` between consecutive beats and of
    `open_spans_s` (silences running to a recording's start or end), keyed by the pause's
    (start, end): times in s of the recording, whose sample `band_start_s` x fs is the first
    of `p_band_mv` (a chunk's)."""
    beat_s = np.asarray(beat_s, dtype=float)
    long = np.flatnonzero(np.diff(beat_s) > PAUSE_S)
    spans = [(float(beat_s[i]), float(beat_s[i + 1])) for i in long] + list(open_spans_s)
    local = [(a - band_start_s, b - band_start_s) for a, b in spans]
    counts = p_waves_in_pauses(p_band_mv, fs_hz, beat_s - band_start_s, classes, local)
    return dict(zip(spans, counts, strict=True))


def p_waves_in_pauses(
    p_band_mv: np.ndarray,
    fs_hz: float,
    beat_s: np.ndarray,
    classes: np.ndarray,
    pauses_s: Sequence[tuple[float, float]],
) -> list[int | None]:
    """Per pause (start, end in s, from beat to beat): how many P waves lie inside it, 0 for
    none where none should be missed, None where the read cannot tell."""
    template = _template(p_band_mv, fs_hz, beat_s, classes)
    if template is None or not pauses_s:
        return [None] * len(pauses_s)
    wave, cycle_s, p_peak_s = template
    before_s = max(BEFORE_BEAT_S, p_peak_s + P_HALF_S + NEXT_P_MARGIN_S)
    return [
        _count(p_band_mv, fs_hz, wave, cycle_s, start + AFTER_BEAT_S, end - before_s)
        for start, end in pauses_s
    ]


def _template(
    p_band_mv: np.ndarray, fs_hz: float, beat_s: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, float, float] | None:
    """The median P wave of the N beats (centred on its peak), the median N-N cycle and how
    far before the R peak the P wave peaks (s)."""
    peaks = np.round(np.asarray(beat_s) * fs_hz).astype(int)
    normal = np.flatnonzero(np.asarray(classes) == "N")
    before, after = (round(s * fs_hz) for s in P_SEARCH_S)
    half = round(P_HALF_S * fs_hz)
    normal = normal[(peaks[normal] - before - half >= 0) & (peaks[normal] + half < p_band_mv.size)]
    if normal.size < MIN_BEATS:
        return None
    region = p_band_mv[peaks[normal, None] + np.arange(-before, -after)[None, :]]
    region = region - region.mean(axis=1, keepdims=True)
    median_region = np.median(region, axis=0)
    peak = int(np.argmax(np.abs(median_region))) - before  # samples from the R peak
    windows = p_band_mv[peaks[normal, None] + peak + np.arange(-half, half + 1)[None, :]]
    windows = windows - windows.mean(axis=1, keepdims=True)
    wave = np.median(windows, axis=0)
    if np.ptp(wave) < MIN_P_MV or np.median(_correlations(windows, wave)) < TEMPLATE_AGREEMENT:
        return None
    rr_s = np.diff(np.asarray(beat_s))
    both_normal = (np.asarray(classes)[:-1] == "N") & (np.asarray(classes)[1:] == "N")
    if not both_normal.any():
        return None
    return wave, float(np.median(rr_s[both_normal])), -peak / fs_hz


def _correlations(windows: np.ndarray, wave: np.ndarray) -> np.ndarray:
    centred = windows - windows.mean(axis=-1, keepdims=True)
    norms = np.linalg.norm(centred, axis=-1) * np.linalg.norm(wave - wave.mean())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.nan_to_num(centred @ (wave - wave.mean()) / norms))


def _count(
    p_band_mv: np.ndarray, fs_hz: float, wave: np.ndarray, cycle_s: float, start: float, end: float
) -> int | None:
    """The P waves between `start` and `end` (s), 0 for none, None where it cannot tell."""
    first, last = round(start * fs_hz), round(end * fs_hz)
    searched_s = (last - first) / fs_hz
    if searched_s < 0.5 * cycle_s or last > p_band_mv.size:
        return None
    windows = sliding_window_view(p_band_mv[first:last], wave.size)
    if windows.shape[0] == 0:
        return None
    match = _correlations(windows, wave)
    size = np.ptp(windows, axis=1) / np.ptp(wave)
    fits = (match >= MATCH) & (size >= SIZE_RANGE[0]) & (size <= SIZE_RANGE[1])
    found = find_peaks(np.where(fits, match, 0.0), max(1, round(0.5 * cycle_s * fs_hz)))
    found = np.sort(found[fits[found]])
    cycles = searched_s / cycle_s
    if found.size >= max(2, 0.5 * np.floor(cycles)) and _atrial_rhythm(found / fs_hz, cycle_s):
        return int(found.size)
    if found.size == 0 and cycles >= CYCLES_FOR_NONE:
        return 0
    return None


def _atrial_rhythm(times_s: np.ndarray, cycle_s: float) -> bool:
    """Whether matches come as P waves do, one an atrial cycle (within `CYCLE_TOLERANCE` of
    the beats' cycle), mostly evenly: matches in noise come at any spacing."""
    spacing_s = np.diff(times_s)
    usual_s = float(np.median(spacing_s))
    even = np.abs(spacing_s - usual_s) <= CYCLE_TOLERANCE * usual_s
    near_cycle = abs(usual_s - cycle_s) <= CYCLE_TOLERANCE * cycle_s
    return near_cycle and float(np.mean(even)) >= EVEN_SHARE


def pause_p_wave_phrase(counts: Sequence[int | None]) -> str:
    """What a pause finding adds from the P waves of its pauses (`p_waves_in_pauses`), or ""
    where none could be told: "P waves seen going on through it without a QRS (...)". Worded
    as what was seen, with its causes: the rule is checked on synthetic pauses only (no
    record here outside DS2 has a pause it speaks of)."""
    going_on = sum(1 for n in counts if n)
    none = sum(1 for n in counts if n == 0)
    one = len(counts) == 1
    parts = []
    if going_on:
        which = "it" if one else f"{going_on} of them"
        parts.append(
            f"P waves seen going on through {which} without a QRS (non-conducted P waves: AV "
            "block, or blocked atrial premature beats; check the P waves)"
        )
    if none:
        which = "it" if one else f"{none} of them"
        # A silence with no P wave may also be the signal lost: a Holter's electrode-off
        # stretch under a minute (`ml.lead_off`) read "sinus arrest" alone (a Holter audit).
        parts.append(
            f"no P wave seen in {which} (sinus arrest or sinoatrial block, or the electrodes "
            "came off; check the strip)"
        )
    return "; ".join(parts)
