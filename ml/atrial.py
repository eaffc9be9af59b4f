"""Evidence about the atria from beat times and the signal: is the rhythm organised, is there
a consistent P wave? Atrial fibrillation is both disorganised (RR intervals follow no pattern)
and P-less (fibrillatory waves bear no fixed relation to the QRS); sinus rhythm with frequent
ectopic beats is irregular but patterned and keeps its P waves. Used by the beat features
(AF context) and by the rhythm analysis (AF episodes).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ml.dsp import median, rank_filter
from ml.filters import bandpass_mv

PATTERN_LAGS = (1, 2, 3)  # sinus repeats at lag 1, bigeminy at 2, trigeminy at 3; AF at none
P_REGION_S = (-0.25, -0.08)  # before the R peak: the P wave, not the QRS
P_BAND_HZ = (0.5, 15.0)
P_MIN_PRE_RR_S = 0.35  # at shorter intervals the previous T wave fills the P region
P_BEAT_CLASSES = ("N", "S")  # ventricular beats have no P wave of their own to compare
P_WINDOW_BEATS = 32  # P-wave consistency is judged over the 32 beats around each beat
# The P waves after the longer intervals count (`p_waves_where_seen`) only where the stretch
# before them holds no wave locked to the QRS: in atrial flutter with variable conduction the
# flutter waves are consistent there too (a sinus P wave is alone).
BEFORE_P_REGION_S = (-0.40, -0.25)
QUIET_BEFORE_P = 0.5


def moved_p_region_guard_s(region_s: tuple[float, float]) -> float:
    """The shortest preceding interval whose beat takes part in a P region (`region_s`): as
    much longer than `P_MIN_PRE_RR_S` as the region was moved early (`p_region_s`), so the
    previous T wave stays out of it."""
    return P_MIN_PRE_RR_S + max(P_REGION_S[0] - region_s[0], 0.0)


def p_region_s(p_onset_s: float | None) -> tuple[float, float]:
    """The stretch before the R peak where this recording's P wave is: `P_REGION_S`, or, where
    the median beat's P wave begins earlier (`p_onset_s`, s from the R peak: a PR over about
    200 ms, a first-degree AV block), as wide but beginning there. Synthetic sinus strips with
    a PR of 300-340 ms, their P waves wholly before `P_REGION_S`, read "no consistent P wave"
    and another rhythm."""
    start_s, end_s = P_REGION_S
    if p_onset_s is None or p_onset_s >= start_s:
        return P_REGION_S
    return p_onset_s, p_onset_s + (end_s - start_s)


def pattern_irregularity(rr_s: np.ndarray, window: int) -> np.ndarray:
    """How unpredictable the RR sequence is over the `window` intervals around each one.

    For each lag in `PATTERN_LAGS`, the median |RR_i - RR_(i-lag)| / median RR over the
    window; the smallest over the lags is kept, so bigeminy and trigeminy (regular at lag 2
    or 3) score low and only patternless irregularity, as in AF, scores high. Medians ignore
    the few intervals an isolated ectopic beat disturbs. Near the ends the nearest full
    window is used; shorter sequences use a window as long as they allow.
    """
    rr_s = np.asarray(rr_s, dtype=np.float64)
    n = rr_s.size
    max_lag = max(PATTERN_LAGS)
    window = min(window, n - max_lag)
    if window < 3:
        return np.zeros(n)
    later = rr_s[max_lag:]
    scale = np.median(sliding_window_view(later, window), axis=1)
    ratios = [
        np.median(
            sliding_window_view(np.abs(later - rr_s[max_lag - lag : n - lag]), window), axis=1
        )
        for lag in PATTERN_LAGS
    ]
    centred = np.min(ratios, axis=0) / np.maximum(scale, 1e-3)
    # Window k covers intervals max_lag + k .. max_lag + k + window - 1.
    first_centre = max_lag + window // 2
    return centred[np.clip(np.arange(n) - first_centre, 0, centred.size - 1)]


def strip_pattern_irregularity(rr_s: np.ndarray) -> float:
    """`pattern_irregularity` of a strip judged as a whole (one window holding all of its
    intervals, as `ml.strip_rhythm` reads it): the same number, without sliding windows."""
    rr_s = np.asarray(rr_s, dtype=np.float64)
    n, max_lag = rr_s.size, max(PATTERN_LAGS)
    if n - max_lag < 3:
        return 0.0
    later = rr_s[max_lag:]
    ratio = min(median(np.abs(later - rr_s[max_lag - lag : n - lag])) for lag in PATTERN_LAGS)
    return ratio / max(median(later), 1e-3)


def p_wave_consistency(
    signal_mv: np.ndarray,
    fs_hz: float,
    beat_s: np.ndarray,
    classes: np.ndarray | None,
    window: int = P_WINDOW_BEATS,
    prefiltered: bool = False,
    after_long_intervals: bool = False,
    region_s: tuple[float, float] = P_REGION_S,
    min_pre_rr_s: float = P_MIN_PRE_RR_S,
) -> np.ndarray:
    """Per beat, 0..1: how alike the P regions of the `window` beats around it are.
    (`prefiltered`: `signal_mv` is already band-passed to `P_BAND_HZ`.)
    `after_long_intervals`: only beats whose preceding interval is at least the median of the
    `window` intervals around it take part (`p_waves_where_seen`); `region_s`: the stretch
    before the R peak compared (s), by default where the P wave is (`p_region_s`);
    `min_pre_rr_s`: the shortest preceding interval taking part (longer for a P region moved
    early, `moved_p_region_guard_s`).

    The energy of their average over the average of their energies: near 1 when every beat
    has the same P wave (sinus, even with frequent atrial ectopy), near 1/window when the
    atrial activity is unrelated to the QRS (fibrillation). Only N and S beats (every beat
    when `classes` is None, as before classification) after an interval long enough to leave
    the P region clear of the previous T wave take part.
    """
    beat_s = np.asarray(beat_s, dtype=np.float64)
    n = beat_s.size
    if n == 0:
        return np.zeros(0)
    x_mv = np.asarray(signal_mv, dtype=np.float64)
    x_mv = bandpass_mv(x_mv, fs_hz, P_BAND_HZ) if x_mv.size > 12 and not prefiltered else x_mv
    offsets = np.arange(round(region_s[0] * fs_hz), round(region_s[1] * fs_hz))
    centres = np.round(beat_s * fs_hz).astype(np.int64)
    inside = (centres + offsets[0] >= 0) & (centres + offsets[-1] < x_mv.size)
    # In whole samples: an interval of exactly P_MIN_PRE_RR_S is then judged the same
    # wherever the beat sits, not by the rounding of its time since the recording began.
    pre_rr = np.diff(centres, prepend=np.iinfo(np.int64).min // 2)
    supraventricular = np.ones(n, bool) if classes is None else np.isin(classes, P_BEAT_CLASSES)
    taking_part = inside & supraventricular & (pre_rr > min_pre_rr_s * fs_hz)
    if after_long_intervals:
        intervals = np.diff(centres)
        intervals = np.concatenate([intervals[:1], intervals]) if n > 1 else np.zeros(n)
        taking_part &= pre_rr >= _local_median(intervals, window)
    regions = np.zeros((n, offsets.size))
    regions[taking_part] = x_mv[centres[taking_part, None] + offsets[None, :]]
    regions -= regions.mean(axis=1, keepdims=True)
    regions[~taking_part] = 0.0

    def window_sums(values: np.ndarray) -> np.ndarray:
        csum = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])
        index = np.arange(n)
        lo = np.clip(index - window // 2, 0, n)
        hi = np.clip(index + window // 2 + 1, 0, n)
        return csum[hi] - csum[lo]

    count = np.maximum(window_sums(taking_part.astype(np.float64)), 1.0)
    mean_region = window_sums(regions) / count[:, None]
    mean_energy = window_sums((regions**2).sum(axis=1)) / count
    return np.clip((mean_region**2).sum(axis=1) / np.maximum(mean_energy, 1e-12), 0.0, 1.0)


def _local_median(values: np.ndarray, window: int) -> np.ndarray:
    """Per element, the median of the `window` elements around it (the ends extended), or of
    them all when there are no more than `window` (a strip read as one window)."""
    if values.size <= window:
        return np.full(values.size, median(values) if values.size else 0.0)
    return rank_filter(values, 2 * (window // 2) + 1)


def p_waves_where_seen(
    p_band_mv: np.ndarray, fs_hz: float, beat_s: np.ndarray, classes: np.ndarray | None
) -> np.ndarray:
    """Per beat, the larger of `p_wave_consistency` over all beats and of `lone_p_waves`, the
    P waves after the longer intervals, where a P wave has room to be seen: in sinus
    arrhythmia the P wave of a beat after a short interval rides the previous T wave,
    differently from beat to beat, and the consistency of all beats falls (2-min synthetic
    sinus rhythms at 90-110 bpm whose intervals swing by 20-30 % with breathing read "no
    consistent P wave" and atrial fibrillation at high risk); after the longer intervals the
    same P wave stands clear. In atrial fibrillation those regions hold fibrillatory waves,
    unrelated to the QRS. (`p_band_mv`: band-passed to `P_BAND_HZ`.)"""
    every = p_wave_consistency(p_band_mv, fs_hz, beat_s, classes, prefiltered=True)
    return np.maximum(every, lone_p_waves(p_band_mv, fs_hz, beat_s, classes))


def lone_p_waves(
    p_band_mv: np.ndarray,
    fs_hz: float,
    beat_s: np.ndarray,
    classes: np.ndarray | None,
    window: int = P_WINDOW_BEATS,
    region_s: tuple[float, float] = P_REGION_S,
) -> np.ndarray:
    """Per beat, `p_wave_consistency` of the beats after an interval at least the local
    median, where the stretch just before their P region (`region_s`; `BEFORE_P_REGION_S`
    before the default one, as far before a moved one) holds no wave
    locked to the QRS (its own consistency under QUIET_BEFORE_P), else 0: a sinus P wave
    stands alone, noise before it, while in atrial flutter with variable conduction the
    previous flutter wave is there, as consistent as the one in the P region (synthetic
    flutter at 4:1 and 2:1 read AF before and would have read "other rhythm")."""

    def consistency(stretch_s: tuple[float, float]) -> np.ndarray:
        return p_wave_consistency(
            p_band_mv,
            fs_hz,
            beat_s,
            classes,
            window,
            prefiltered=True,
            after_long_intervals=True,
            region_s=stretch_s,
            min_pre_rr_s=moved_p_region_guard_s(region_s),
        )

    moved_s = region_s[0] - P_REGION_S[0]
    before_s = (BEFORE_P_REGION_S[0] + moved_s, BEFORE_P_REGION_S[1] + moved_s)
    return np.where(consistency(before_s) < QUIET_BEFORE_P, consistency(region_s), 0.0)
