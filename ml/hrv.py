"""Heart rate and time-domain heart-rate variability from normal-to-normal (NN) intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_RR_S, MAX_RR_S = 0.25, 2.5  # outside this an interval is a detection error, not a rhythm
RATE_WINDOW_BEATS = 8  # min / max heart rate over a moving average of this many intervals


@dataclass(frozen=True)
class HeartRateSummary:
    mean_bpm: float | None
    min_bpm: float | None
    max_bpm: float | None
    sdnn_ms: float | None
    rmssd_ms: float | None
    pnn50: float | None  # fraction 0..1 of successive NN differences above 50 ms
    n_nn: int


def heart_rate_summary(
    r_peaks: np.ndarray, fs_hz: float, normal: np.ndarray | None = None
) -> HeartRateSummary:
    """Rates from all beats; HRV from intervals between two normal beats only."""
    rr_s = np.diff(r_peaks) / fs_hz
    plausible = (rr_s >= MIN_RR_S) & (rr_s <= MAX_RR_S)
    if not plausible.any():
        return HeartRateSummary(None, None, None, None, None, None, 0)
    rates_bpm = 60.0 / rr_s[plausible]
    if len(rates_bpm) >= RATE_WINDOW_BEATS:
        kernel = np.ones(RATE_WINDOW_BEATS) / RATE_WINDOW_BEATS
        smoothed = 60.0 / np.convolve(rr_s[plausible], kernel, mode="valid")
    else:
        smoothed = rates_bpm
    nn = plausible.copy()
    if normal is not None:
        nn &= normal[:-1] & normal[1:]
    nn_s = rr_s[nn]
    sdnn = rmssd = pnn50 = None
    if len(nn_s) >= 2:
        sdnn = float(np.std(nn_s, ddof=1) * 1000)
        # Successive differences only between adjacent NN intervals (no gap between them).
        adjacent = nn[:-1] & nn[1:]
        differences_s = np.diff(rr_s)[adjacent]
        if len(differences_s):
            rmssd = float(np.sqrt(np.mean(differences_s**2)) * 1000)
            pnn50 = float(np.mean(np.abs(differences_s) > 0.050))
    return HeartRateSummary(
        mean_bpm=float(60.0 / np.mean(rr_s[plausible])),
        min_bpm=float(np.min(smoothed)),
        max_bpm=float(np.max(smoothed)),
        sdnn_ms=sdnn,
        rmssd_ms=rmssd,
        pnn50=pnn50,
        n_nn=int(len(nn_s)),
    )
