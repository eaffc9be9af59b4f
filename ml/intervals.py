"""PR, QRS, QT, QTc and the frontal QRS axis, measured on the median beat of every lead.

As clinical ECG systems do: beats are aligned on their R peaks, the sample-wise median over many
beats removes noise and ectopy, and the intervals are global (earliest onset, latest offset
across leads). QRS limits come from the spatial velocity (how fast the signal changes in all
leads together); the T end from the tangent at the T wave's steepest descent; the P onset from
where the P wave leaves the PR-segment baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import savgol_filter

BEFORE_R_S, AFTER_R_S = 0.45, 0.70
MAX_BEATS = 400  # a median over this many beats is already stable; more only costs time
MIN_BEATS = 3
ISOELECTRIC_S = 0.020  # a run this long below the velocity threshold counts as flat
MIN_P_MV, MIN_T_MV = 0.05, 0.08


@dataclass(frozen=True)
class Intervals:
    """Global intervals in ms (None when a wave was not found, e.g. no P wave in AF)."""

    rr_ms: float | None
    pr_ms: float | None
    qrs_ms: float | None
    qt_ms: float | None
    qtc_bazett_ms: float | None
    qtc_fridericia_ms: float | None
    qrs_axis_deg: float | None
    n_beats: int
    # Fiducial points relative to the R peak (ms), for drawing on the median beat.
    p_onset_ms: float | None = None
    qrs_onset_ms: float | None = None
    qrs_offset_ms: float | None = None
    t_end_ms: float | None = None


NO_INTERVALS = Intervals(None, None, None, None, None, None, None, 0)


def median_beats(signal_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray) -> np.ndarray:
    """[window samples, leads]: the sample-wise median of the beats around `r_peaks`."""
    before, after = int(BEFORE_R_S * fs_hz), int(AFTER_R_S * fs_hz)
    usable = r_peaks[(r_peaks >= before) & (r_peaks + after < len(signal_mv))]
    if len(usable) > MAX_BEATS:
        usable = usable[np.linspace(0, len(usable) - 1, MAX_BEATS).astype(int)]
    if len(usable) == 0:
        return np.empty((0, signal_mv.shape[1]))
    index = usable[:, None] + np.arange(-before, after)[None, :]
    return np.median(signal_mv[index], axis=0)


def measure_intervals(
    signal_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray, lead_names: tuple[str, ...]
) -> Intervals:
    """Intervals from a (filtered) signal [samples, leads] and the R peaks of normal beats."""
    if len(r_peaks) < MIN_BEATS:
        return NO_INTERVALS
    beat = median_beats(signal_mv, fs_hz, r_peaks)
    if beat.shape[0] == 0:
        return NO_INTERVALS
    r_index = int(BEFORE_R_S * fs_hz)
    to_ms = 1000.0 / fs_hz
    rr_s = float(np.median(np.diff(r_peaks))) / fs_hz

    qrs_on, qrs_off = _qrs_limits(beat, fs_hz, r_index)
    baseline = (
        np.median(beat[max(0, qrs_on - int(0.02 * fs_hz)) : qrs_on - 1], axis=0)
        if qrs_on > int(0.02 * fs_hz)
        else beat[0]
    )
    centred = beat - baseline
    t_end = _t_end(centred, fs_hz, qrs_off, qrs_on, rr_s)
    rr_samples = int(rr_s * fs_hz)
    # The P wave lies after the previous beat's T wave, and the T wave before the next P wave.
    previous_t_end = t_end - rr_samples if t_end is not None else qrs_off - rr_samples
    p_on = _p_onset(centred, fs_hz, qrs_on, not_before=previous_t_end + int(0.02 * fs_hz))
    if p_on is not None and t_end is not None and t_end > p_on + rr_samples:
        t_end = _t_end(centred, fs_hz, qrs_off, qrs_on, rr_s, stop_at=p_on + rr_samples)

    qt_ms = (t_end - qrs_on) * to_ms if t_end is not None else None
    return Intervals(
        rr_ms=rr_s * 1000,
        pr_ms=(qrs_on - p_on) * to_ms if p_on is not None else None,
        qrs_ms=(qrs_off - qrs_on) * to_ms,
        qt_ms=qt_ms,
        qtc_bazett_ms=qt_ms / np.sqrt(rr_s) if qt_ms is not None else None,
        qtc_fridericia_ms=qt_ms / np.cbrt(rr_s) if qt_ms is not None else None,
        qrs_axis_deg=_frontal_axis(centred[qrs_on : qrs_off + 1], lead_names),
        n_beats=int(len(r_peaks)),
        p_onset_ms=(p_on - r_index) * to_ms if p_on is not None else None,
        qrs_onset_ms=(qrs_on - r_index) * to_ms,
        qrs_offset_ms=(qrs_off - r_index) * to_ms,
        t_end_ms=(t_end - r_index) * to_ms if t_end is not None else None,
    )


def _spatial_velocity(beat: np.ndarray, fs_hz: float) -> np.ndarray:
    """mV/s of all leads together: near zero on isoelectric segments, high inside the QRS."""
    derivative = np.column_stack(
        [_smooth_derivative(beat[:, i], fs_hz, window_s=0.010) for i in range(beat.shape[1])]
    )
    return np.sqrt(np.sum(derivative**2, axis=1))


def _qrs_limits(beat: np.ndarray, fs_hz: float, r_index: int) -> tuple[int, int]:
    velocity = _spatial_velocity(beat, fs_hz)
    near = slice(max(0, r_index - int(0.08 * fs_hz)), r_index + int(0.08 * fs_hz))
    peak = near.start + int(np.argmax(velocity[near]))
    noise = float(np.median(velocity))
    threshold = noise + 0.1 * (float(velocity[peak]) - noise)
    flat = max(2, int(ISOELECTRIC_S * fs_hz))
    onset = _walk_to_flat(velocity, peak, -1, threshold, flat, limit=int(0.15 * fs_hz))
    offset = _walk_to_flat(velocity, peak, +1, threshold, flat, limit=int(0.20 * fs_hz))
    return onset, offset


def _walk_to_flat(
    velocity: np.ndarray, start: int, step: int, threshold: float, flat: int, limit: int
) -> int:
    """From `start`, walk until `flat` samples in a row are below threshold; return the edge."""
    below = 0
    position = start
    for _ in range(limit):
        position += step
        if position <= 0 or position >= len(velocity) - 1:
            break
        below = below + 1 if velocity[position] < threshold else 0
        if below >= flat:
            return position - step * flat  # the last sample still inside the wave
    return position


def _p_onset(centred: np.ndarray, fs_hz: float, qrs_on: int, not_before: int) -> int | None:
    start = max(0, qrs_on - int(0.30 * fs_hz), not_before)
    stop = qrs_on - int(0.03 * fs_hz)
    if stop - start < int(0.05 * fs_hz):
        return None
    window = centred[start:stop]
    amplitude = np.max(np.abs(window), axis=0)
    lead = int(np.argmax(amplitude))
    steps = np.diff(centred[:, lead])
    noise = 1.4826 * float(np.median(np.abs(steps - np.median(steps)))) / np.sqrt(2)
    if amplitude[lead] < max(MIN_P_MV, 5 * noise):
        return None
    trace = window[:, lead] * np.sign(window[np.argmax(np.abs(window[:, lead])), lead])
    peak = int(np.argmax(trace))
    below = np.nonzero(trace[:peak] < 0.1 * trace[peak])[0]
    if len(below) == 0:
        return None
    return start + int(below[-1]) + 1


def _t_end(
    centred: np.ndarray,
    fs_hz: float,
    qrs_off: int,
    qrs_on: int,
    rr_s: float,
    stop_at: int | None = None,
) -> int | None:
    start = qrs_off + int(0.06 * fs_hz)
    stop = min(len(centred) - 1, qrs_on + int(min(0.75 * rr_s, 0.65) * fs_hz))
    if stop_at is not None:
        stop = min(stop, stop_at)
    if stop - start < int(0.1 * fs_hz):
        return None
    ends, amplitudes = [], []
    for lead in range(centred.shape[1]):
        trace = centred[start:stop, lead]
        peak = int(np.argmax(np.abs(trace)))
        amplitude = float(trace[peak])
        if abs(amplitude) < MIN_T_MV:
            continue
        falling = np.sign(amplitude) * trace[peak:]  # positive until the wave is over
        over = np.nonzero(falling <= 0.02 * abs(amplitude))[0]
        last = int(over[0]) + 2 if len(over) else len(falling)
        # mV/s toward the baseline; a Savitzky-Golay derivative keeps noise from faking a slope.
        slope = -_smooth_derivative(falling, fs_hz)[: max(2, last)]
        steepest = int(np.argmax(slope))
        if slope[steepest] <= 0:
            continue
        end = peak + steepest + float(falling[steepest]) / float(slope[steepest]) * fs_hz
        ends.append(start + end)
        amplitudes.append(abs(amplitude))
    if not ends:
        return None
    # The latest end among the leads whose T wave is at least half the largest one.
    clear = [
        end for end, size in zip(ends, amplitudes, strict=True) if size >= 0.5 * max(amplitudes)
    ]
    return int(round(max(clear)))


def _smooth_derivative(trace: np.ndarray, fs_hz: float, window_s: float = 0.016) -> np.ndarray:
    """d/dt in units per second, by a Savitzky-Golay fit over `window_s` (noise-robust)."""
    window = max(5, int(window_s * fs_hz) | 1)
    if len(trace) <= window:
        return np.gradient(trace) * fs_hz
    return savgol_filter(trace, window, polyorder=2, deriv=1) * fs_hz


def _frontal_axis(qrs: np.ndarray, lead_names: tuple[str, ...]) -> float | None:
    """Degrees from the net QRS areas of leads I and aVF (derived from II/III if needed)."""
    area = {name: float(np.sum(qrs[:, i])) for i, name in enumerate(lead_names)}
    lead_i = area.get("I")
    lead_avf = area.get("aVF")
    if lead_i is None and "II" in area and "III" in area:
        lead_i = area["II"] - area["III"]
    if lead_avf is None and "II" in area and lead_i is not None:
        lead_avf = area["II"] - lead_i / 2
    if lead_i is None or lead_avf is None or (lead_i == 0 and lead_avf == 0):
        return None
    # aVF = (II + III) / 2 is sqrt(3)/2 times the projection on the 90 degree axis.
    return float(np.degrees(np.arctan2(lead_avf * 2 / np.sqrt(3), lead_i)))
