"""Signal cleaning: zero-phase band-pass (baseline wander and mains/muscle noise out) and
resampling. Zero-phase so that filtering never shifts a wave in time (intervals depend on it).
Within `each_band_once` (a whole-record read), a lead band-passed again in the same band is
not filtered again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from functools import lru_cache

import numpy as np

from ml.dsp import butter_sos, resample_poly, sosfiltfilt

DIAGNOSTIC_BAND_HZ = (0.5, 40.0)


def bandpass_mv(
    signal_mv: np.ndarray, fs_hz: float, band_hz: tuple[float, float] = DIAGNOSTIC_BAND_HZ
) -> np.ndarray:
    """Band-pass every column of `signal_mv` (samples along axis 0), forward and backward
    (inside `each_band_once`, a lead filtered before in that band comes back as it was)."""
    low, high = band_hz
    high = min(high, 0.45 * fs_hz)  # stay below Nyquist at low sampling rates
    reused = _reused.get()
    if reused is None or not reused.holds(signal_mv):
        return sosfiltfilt(bandpass_sos(low, high, fs_hz), signal_mv, axis=0)
    key = (*_memory_of(signal_mv), fs_hz, low, high)
    filtered = reused.results.get(key)
    if filtered is None:
        filtered = sosfiltfilt(bandpass_sos(low, high, fs_hz), signal_mv, axis=0)
        reused.keep(key, filtered)
    return filtered


@lru_cache(maxsize=64)
def bandpass_sos(low_hz: float, high_hz: float, fs_hz: float) -> np.ndarray:
    """A 2nd-order Butterworth band-pass, designed once per band and rate: designing costs
    more than filtering a 30-s window, and the window rhythm model filters thousands."""
    return butter_sos(2, (low_hz, high_hz), "bandpass", fs_hz)


REUSE_BUDGET_BYTES = 64 * 2**20  # a 30-min 2-lead read keeps 30 MB (6 bands); 24 h filter anew


class _ReusedBands:
    """The band-passed leads of one recording's samples (`signal_mv`), up to `budget_bytes`."""

    def __init__(self, signal_mv: np.ndarray, budget_bytes: int) -> None:
        self.owner = _owner(signal_mv)
        self.results: dict[tuple[object, ...], np.ndarray] = {}
        self.room_bytes = budget_bytes

    def holds(self, x: object) -> bool:
        """Whether `x` is the recording's samples or a view of them (a lead)."""
        return isinstance(x, np.ndarray) and _owner(x) is self.owner

    def keep(self, key: tuple[object, ...], filtered: np.ndarray) -> None:
        if filtered.nbytes <= self.room_bytes:
            filtered.flags.writeable = False  # shared by every reader: none may change it
            self.results[key] = filtered
            self.room_bytes -= filtered.nbytes


_reused: ContextVar[_ReusedBands | None] = ContextVar("reused_bands", default=None)


@contextmanager
def each_band_once(signal_mv: np.ndarray, budget_bytes: int = REUSE_BUDGET_BYTES) -> Iterator[None]:
    """Inside, band-passing a lead of `signal_mv` (a view of its samples, the same shape and
    strides) in the same band again returns the first result, read-only: an analysis reads a
    lead's 0.5-40 Hz band in four places (signal quality, beat features, rhythm features,
    intervals) and its P-wave band in two, and each filtering of a 30-min lead costs 10-20 ms.
    The samples must not change inside (an analysis never writes to its recording)."""
    token = _reused.set(_ReusedBands(signal_mv, budget_bytes))
    try:
        yield
    finally:
        _reused.reset(token)


def _memory_of(x: np.ndarray) -> tuple[object, ...]:
    """Which of the samples an array holds: address, shape, strides and type."""
    return (x.__array_interface__["data"][0], x.shape, x.strides, x.dtype.str)


def _owner(x: np.ndarray) -> np.ndarray:
    """The array that owns the memory `x` views (NumPy keeps a view's `base` pointing there)."""
    while isinstance(x.base, np.ndarray):
        x = x.base
    return x


def resample(signal: np.ndarray, fs_from_hz: float, fs_to_hz: float) -> np.ndarray:
    """Polyphase resampling along axis 0 (anti-aliased); exact for rational rate ratios."""
    if fs_from_hz == fs_to_hz:
        return signal
    ratio = Fraction(fs_to_hz / fs_from_hz).limit_denominator(1000)
    return resample_poly(signal, ratio.numerator, ratio.denominator, axis=0)
