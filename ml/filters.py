"""Signal cleaning: zero-phase band-pass (baseline wander and mains/muscle noise out) and
resampling. Zero-phase so that filtering never shifts a wave in time (intervals depend on it)."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from ml.dsp import butter_sos, resample_poly, sosfiltfilt

DIAGNOSTIC_BAND_HZ = (0.5, 40.0)


def bandpass_mv(
    signal_mv: np.ndarray, fs_hz: float, band_hz: tuple[float, float] = DIAGNOSTIC_BAND_HZ
) -> np.ndarray:
    """Band-pass every column of `signal_mv` (samples along axis 0), forward and backward."""
    low, high = band_hz
    high = min(high, 0.45 * fs_hz)  # stay below Nyquist at low sampling rates
    return sosfiltfilt(bandpass_sos(low, high, fs_hz), signal_mv, axis=0)


@lru_cache(maxsize=64)
def bandpass_sos(low_hz: float, high_hz: float, fs_hz: float) -> np.ndarray:
    """A 2nd-order Butterworth band-pass, designed once per band and rate: designing costs
    more than filtering a 30-s window, and the window rhythm model filters thousands."""
    return butter_sos(2, (low_hz, high_hz), "bandpass", fs_hz)


def resample(signal: np.ndarray, fs_from_hz: float, fs_to_hz: float) -> np.ndarray:
    """Polyphase resampling along axis 0 (anti-aliased); exact for rational rate ratios."""
    if fs_from_hz == fs_to_hz:
        return signal
    ratio = Fraction(fs_to_hz / fs_from_hz).limit_denominator(1000)
    return resample_poly(signal, ratio.numerator, ratio.denominator, axis=0)
