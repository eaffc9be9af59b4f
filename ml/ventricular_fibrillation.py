"""Ventricular flutter and fibrillation, found in the signal itself rather than in beats.

In VF/VFL there are no QRS complexes to detect: the trace is a continuous, large, nearly
sinusoidal oscillation at 150-480 per minute. A beat detector finds "beats" in it and a beat
classifier labels them, both meaninglessly, so this looks at 4-s windows of the signal:
- its dominant frequency is 2.5-8 Hz (150-480 /min),
- most of the power sits within 1 Hz of that frequency (a sinusoid, not QRS harmonics),
- the trace is busy: many samples are large (no isoelectric line between complexes),
- it is not a flat or noise-floor signal,
in at least three consecutive windows a second apart (about 3 s of flutter or more). The
windows start at each second and its quarters, and the rule holds on any of the four 1-s
grids they make: with one grid, a 5-s run of 210-bpm VT in MIT-BIH 205 was found or missed by
where the recording began. Thresholds chosen on MIT-BIH DS1 and the paced records (ventricular
flutter only in record 207); the only confusion there is fast ventricular tachycardia (205),
itself an emergency.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ml.filters import bandpass_mv

WINDOW_S = 4.0
STEP_S = 1.0  # the grid; a long recording's chunks begin on it
BAND_HZ = (1.0, 30.0)
DOMINANT_HZ = (2.5, 8.0)
CONCENTRATION_HALF_WIDTH_HZ = 1.0
MIN_CONCENTRATION = 0.6  # power within +-1 Hz of the dominant frequency / power in BAND_HZ
BUSY_LEVEL = 0.2  # a sample is "large" above this fraction of the window's largest
MIN_BUSY_FRACTION = 0.4  # normal ECG: only the QRS complexes are large (about 0.1-0.2)
MIN_AMPLITUDE_MV = 0.1
MIN_WINDOWS = 3  # in a row, a second apart
PHASES = 4  # grids a quarter of STEP_S apart: windows start every 0.25 s
WINDOWS_PER_BATCH = 512


def fibrillation_spans_s(signal_mv: np.ndarray, fs_hz: float) -> list[tuple[float, float]]:
    """(start_s, end_s) of each stretch of ventricular flutter / fibrillation in one lead."""
    starts, flagged = fibrillation_windows(signal_mv, fs_hz)
    return spans_of_windows(starts / fs_hz, flagged)


def fibrillation_windows(signal_mv: np.ndarray, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """(first sample, flagged) of each 4-s window, PHASES every STEP_S, of one lead (a long
    recording takes them chunk by chunk: each window reads only its own 4 s)."""
    x_mv = np.asarray(signal_mv, dtype=np.float64)
    if not np.isfinite(x_mv).all():
        x_mv = np.nan_to_num(x_mv)  # else the lead itself, whose band is filtered once
    n = int(round(WINDOW_S * fs_hz))
    if x_mv.size < n:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    high_hz = min(BAND_HZ[1], 0.45 * fs_hz)
    x_mv = bandpass_mv(x_mv, fs_hz, BAND_HZ)
    starts = window_starts(x_mv.size - n + 1, fs_hz)
    # Windows overlap 16:1, so they are examined a batch at a time: memory stays bounded on
    # 24-hour recordings.
    flagged = np.concatenate(
        [
            _flag_windows(sliding_window_view(x_mv, n)[batch], fs_hz, high_hz)
            for batch in np.array_split(starts, max(1, starts.size // WINDOWS_PER_BATCH))
        ]
    )
    return starts, flagged


def window_step(fs_hz: float) -> int:
    return max(1, int(round(STEP_S * fs_hz)))


def window_starts(n_starts: int, fs_hz: float) -> np.ndarray:
    """The windows' first samples below `n_starts`: each grid step and its PHASES quarters,
    rounded to samples, in order. Quarters of the step, not steps of a quarter second, so that
    a chunk begun on the grid has the whole recording's windows (0.25 s is 62.5 samples at
    250 Hz: a 62-sample step had moved a Holter's chunk boundaries, and a complete block's
    chunked read came apart from its whole read)."""
    step = window_step(fs_hz)
    quarters = np.round(np.arange(PHASES) * step / PHASES).astype(np.int64)
    starts = (np.arange(0, max(n_starts, 0), step)[:, None] + quarters).ravel()
    return starts[starts < n_starts]


def _flag_windows(windows: np.ndarray, fs_hz: float, high_hz: float) -> np.ndarray:
    """Which windows meet every criterion in the module docstring."""
    n = windows.shape[1]
    windows = windows - windows.mean(axis=1, keepdims=True)
    power = np.abs(np.fft.rfft(windows * np.hanning(n), axis=1)) ** 2
    freq_hz = np.fft.rfftfreq(n, 1.0 / fs_hz)
    in_band = (freq_hz >= BAND_HZ[0]) & (freq_hz <= high_hz)
    searched = (freq_hz >= BAND_HZ[0]) & (freq_hz <= 10.0)
    dominant_hz = freq_hz[searched][np.argmax(power[:, searched], axis=1)]
    near = np.abs(freq_hz[None, :] - dominant_hz[:, None]) <= CONCENTRATION_HALF_WIDTH_HZ
    concentration = (power * near).sum(axis=1) / np.maximum(power[:, in_band].sum(axis=1), 1e-12)
    largest_mv = np.abs(windows).max(axis=1)
    busy = (np.abs(windows) > BUSY_LEVEL * largest_mv[:, None]).mean(axis=1)
    return np.asarray(
        (dominant_hz >= DOMINANT_HZ[0])
        & (dominant_hz <= DOMINANT_HZ[1])
        & (concentration > MIN_CONCENTRATION)
        & (busy > MIN_BUSY_FRACTION)
        & (largest_mv > MIN_AMPLITUDE_MV)
    )


def spans_of_windows(start_s: np.ndarray, flagged: np.ndarray) -> list[tuple[float, float]]:
    """Runs of at least MIN_WINDOWS flagged windows a second apart, on any of the PHASES
    1-s grids, spans that overlap merged, each from its first window's centre (the
    recording's start for a run flagged within its first second, `_onset_s`) to its last
    window's end. A window is flagged
    once flutter fills about half of it: from its start, MIT-BIH 207's onsets had read 1.5-2 s
    early, over the sinus beats before them. Flutter ends slowing and shrinking, and the last
    window's end falls within about a second of 207's ends (its centre 1.3-3 s early)."""
    spans = [
        span
        for phase in range(PHASES)
        for span in _runs_of_windows(start_s[phase::PHASES], flagged[phase::PHASES])
    ]
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    first_s = float(start_s[0]) if start_s.size else 0.0
    return [(_onset_s(start, first_s), end) for start, end in merged]


def _onset_s(first_window_s: float, recording_start_s: float) -> float:
    """The onset of a run whose first flagged window starts there: that window's centre, but
    the recording's start for a run flagged within its first second, on any grid. The
    band-pass's settling at the start can leave the very first windows unflagged over
    flutter: a cut of MIT-BIH 207 in flutter throughout (1545-1555 s) read VF from 2.5 s, its
    first 2.5 s of flutter waves counted as beats, "Sinus tachycardia 185 bpm"."""
    if first_window_s < recording_start_s + STEP_S:
        return recording_start_s
    return first_window_s + WINDOW_S / 2


def _runs_of_windows(start_s: np.ndarray, flagged: np.ndarray) -> list[tuple[float, float]]:
    """(first window's start, last window's end) of each run of MIN_WINDOWS or more flagged
    windows on one 1-s grid."""
    padded = np.concatenate([[0], flagged.astype(np.int8), [0]])
    firsts = np.flatnonzero(np.diff(padded) == 1)
    lasts = np.flatnonzero(np.diff(padded) == -1) - 1
    return [
        (float(start_s[a]), float(start_s[b] + WINDOW_S))
        for a, b in zip(firsts, lasts, strict=True)
        if b - a + 1 >= MIN_WINDOWS
    ]
