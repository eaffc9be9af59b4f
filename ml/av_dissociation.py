"""Complete (third-degree) AV block: P waves march at their own steady rate, faster than the
QRS complexes, and bear no fixed relation to them.

Found by what defines it: with each beat's QRS-T complex taken away (the median complex of
the beats, subtracted at every beat), what is left of the lead in the P band is the atrial
activity. Its peaks must fall on a steady grid (one atrial cycle apart, 60-150 /min, hidden
only where a QRS complex covers them), at a rate clearly faster than the ventricles', and the
QRS complexes must fall anywhere in the atrial cycle (their phases spread round it), not at a
fixed PR as in sinus rhythm, 2:1 conduction or a Wenckebach group. Atrial fibrillation has no
grid; flutter waves leave no quiet baseline between them (their grid is under 60 /min apart
at most every other wave, and the residual between them is as large as they are).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from ml.dsp import butter_sos, find_peaks, median, sosfiltfilt
from ml.strip_rhythm import StripCall, another_rhythm, holds_the_strip

T = TypeVar("T")

HIGH_PASS_HZ = 1.5  # baseline wander out: a subtracted complex must not leave a step
TEMPLATE_S = (-0.12, 0.62)  # the QRS-T complex subtracted at each beat, from its R peak
QRS_MASK_S = (-0.10, 0.10)  # where a P wave cannot be seen: inside the QRS
ATRIAL_CYCLE_S = (0.40, 1.00)  # 60-150 /min
P_MIN_MV = 0.04  # a P wave smaller than this is not told from noise
P_SHARE = 0.5  # a P wave's height against the tallest peaks' (their 90th percentile)
P_MIN_GAP_S = 0.25  # two P waves are at least this far apart
CYCLE_STEP_S = 0.002
GRID_TOLERANCE = 0.12  # of the atrial cycle: a P wave this close to the grid is on it
GRID_HIT_SHARE = 0.8  # of the grid's visible places, at least this share hold a P wave
OFF_GRID_SHARE = 0.15  # of the P waves found, at most this share off the grid
FASTER_THAN_VENTRICLES = 1.25  # atrial rate at least this times the ventricular rate
PHASE_SPREAD = 0.5  # the R peaks' phases in the atrial cycle: resultant length under this
MIN_P_WAVES = 8
P_WAVE_HALF_S = 0.06  # a P wave, either side of its peak
P_CLEAR_OF_NOISE = 4.0  # the mean P wave's energy against the P waves' scatter around it
MIN_BEATS = 4  # a 10-s strip at 30 /min
MAX_UNREADABLE_SHARE = 0.25  # of the beats (a strip's first and last are unreadable)
WINDOW_S = 30.0  # a long recording is judged in windows of this length


PR_REASON = "the P waves bear no fixed relation to the QRS complexes (AV dissociation)"


@dataclass(frozen=True)
class Dissociation:
    """A stretch where the P waves march apart from the QRS complexes."""

    start_s: float
    end_s: float
    atrial_bpm: float
    ventricular_bpm: float


def av_dissociation(
    p_band_mv: np.ndarray,
    fs_hz: float,
    beat_s: np.ndarray,
    classes: np.ndarray,
    offset_s: float = 0.0,
    recording_s: float | None = None,
) -> list[Dissociation]:
    """The stretches where P waves march apart from the QRS complexes, judged in windows of
    `WINDOW_S` from the recording's start (the last one taking in a remainder shorter than
    half a window; a shorter recording is one window). `p_band_mv`: the analysis lead
    band-passed to the P band (`ml.atrial.P_BAND_HZ`), starting `offset_s` into a recording
    `recording_s` long (a chunk of it; `beat_s` from the chunk's start); times returned are
    the recording's."""
    return [
        Dissociation(start_s, end_s, *one)
        for start_s, end_s, one in windows_found(
            _window, p_band_mv, fs_hz, beat_s, classes, offset_s, recording_s
        )
    ]


def windows_found(
    read_window: Callable[[np.ndarray, float, np.ndarray, np.ndarray], T | None],
    p_band_mv: np.ndarray,
    fs_hz: float,
    beat_s: np.ndarray,
    classes: np.ndarray,
    offset_s: float = 0.0,
    recording_s: float | None = None,
) -> list[tuple[float, float, T]]:
    """(start, end in the recording's time, what `read_window` found) for each window
    `windows_read` gives of a signal read from `offset_s` (`beat_s` from its start) where it
    found something; it reads (the window's signal, fs, its beats from the window's start,
    their classes)."""
    classes = np.asarray(classes)
    found = []
    for start_s, end_s in windows_read(offset_s, p_band_mv.size / fs_hz, recording_s):
        inside = (beat_s >= start_s - offset_s) & (beat_s < end_s - offset_s)
        lo, hi = (int(round((t - offset_s) * fs_hz)) for t in (start_s, end_s))
        local_s = beat_s[inside] - (start_s - offset_s)
        one = read_window(p_band_mv[lo:hi], fs_hz, local_s, classes[inside])
        if one is not None:
            found.append((start_s, end_s, one))
    return found


def windows_read(
    offset_s: float, duration_s: float, recording_s: float | None
) -> list[tuple[float, float]]:
    """The windows (recording times) that lie within the `duration_s` read from `offset_s`."""
    end_s = offset_s + duration_s
    recording_s = end_s if recording_s is None else recording_s
    first = int(np.ceil(offset_s / WINDOW_S - 1e-9))
    windows = []
    start_s = first * WINDOW_S
    while start_s + WINDOW_S <= end_s + 1e-9:
        windows.append((start_s, start_s + WINDOW_S))
        start_s += WINDOW_S
    if end_s >= recording_s - 1e-9:  # the recording's last stretch is read here
        left_s = recording_s - (windows[-1][1] if windows else first * WINDOW_S)
        if windows and 0 < left_s < WINDOW_S / 2:
            windows[-1] = (windows[-1][0], recording_s)
        elif left_s > 0:
            windows.append((recording_s - left_s, recording_s))
    return windows


def _window(
    x: np.ndarray, fs_hz: float, beat_s: np.ndarray, classes: np.ndarray
) -> tuple[float, float] | None:
    """(atrial, ventricular rate in /min) where this stretch shows dissociation, else None."""
    readable = classes != "Q"
    if readable.sum() < MIN_BEATS or np.mean(~readable) > MAX_UNREADABLE_SHARE:
        return None
    r = np.round(beat_s * fs_hz).astype(np.int64)
    residual, hidden = _without_complexes(x, fs_hz, r, classes)
    if residual is None:
        return None
    p_s = _p_peaks(residual, hidden, fs_hz)
    if p_s.size < MIN_P_WAVES:
        return None
    grid = _grid(p_s, hidden, fs_hz, x.size / fs_hz)
    if grid is None:
        return None
    first_s, cycle_s = grid
    if not _clear_of_noise(residual, p_s, first_s, cycle_s, fs_hz):
        return None
    ventricular_cycle_s = median(np.diff(beat_s))
    if ventricular_cycle_s < FASTER_THAN_VENTRICLES * cycle_s:
        return None
    phases = ((beat_s - first_s) / cycle_s) % 1.0
    if abs(np.mean(np.exp(2j * np.pi * phases))) >= PHASE_SPREAD:
        return None
    return 60.0 / cycle_s, 60.0 / ventricular_cycle_s


def _without_complexes(
    x: np.ndarray, fs_hz: float, r: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray]:
    """The lead with each beat's QRS-T complex subtracted (the median complex of its class:
    ventricular or not), and where the QRS hides the atria (True)."""
    before, after = (round(s * fs_hz) for s in TEMPLATE_S)
    inside = (r + before >= 0) & (r + after < x.size)
    if x.size > 3 * (after - before):
        x = sosfiltfilt(butter_sos(2, HIGH_PASS_HZ, "highpass", fs_hz), x)
    residual = x.copy()
    hidden = np.zeros(x.size, dtype=bool)
    offsets = np.arange(before, after)
    ventricular = classes == "V"
    for group in (ventricular, ~ventricular):
        peaks = r[inside & group]
        if peaks.size == 0:
            continue
        if peaks.size < 3:
            return None, hidden
        template = np.median(x[peaks[:, None] + offsets], axis=0)
        template -= np.linspace(template[0], template[-1], template.size)  # no step at its ends
        for peak in peaks:
            residual[peak + offsets] -= template
    mask_lo, mask_hi = (round(s * fs_hz) for s in QRS_MASK_S)
    for peak in r:
        hidden[max(0, peak + mask_lo) : max(0, peak + mask_hi)] = True
    edge = max(-before, after)
    hidden[:edge], hidden[-edge:] = True, True
    return residual, hidden


def _p_peaks(residual: np.ndarray, hidden: np.ndarray, fs_hz: float) -> np.ndarray:
    """Times (s) of the P waves in the residual: peaks of the sign that stands out most,
    `P_MIN_GAP_S` apart, over `P_MIN_MV` and `P_SHARE` of the tallest peaks' height."""
    seen = residual[~hidden]
    if seen.size == 0:
        return np.zeros(0)
    centre = median(seen)
    sign = 1.0 if seen.max() - centre >= centre - seen.min() else -1.0
    y = np.where(hidden, 0.0, sign * (residual - centre))
    peaks = find_peaks(y, distance=round(P_MIN_GAP_S * fs_hz))
    peaks = peaks[y[peaks] > 0]
    if peaks.size == 0:
        return np.zeros(0)
    floor = max(P_MIN_MV, P_SHARE * float(np.percentile(y[peaks], 90)))
    return peaks[y[peaks] >= floor] / fs_hz


def _grid(
    p_s: np.ndarray, hidden: np.ndarray, fs_hz: float, duration_s: float
) -> tuple[float, float] | None:
    """(first P wave, atrial cycle) in s when the P waves fall on a steady grid: the cycle in
    `ATRIAL_CYCLE_S` on which they line up best (the largest resultant of their phases, which
    P waves hidden in a QRS do not disturb), refined by least squares on the P waves near
    their grid places; None unless `GRID_HIT_SHARE` of the grid's visible places
    hold a P wave and at most `OFF_GRID_SHARE` of the P waves lie off it."""
    cycles = np.arange(ATRIAL_CYCLE_S[0], ATRIAL_CYCLE_S[1], CYCLE_STEP_S)
    resultant = np.exp(2j * np.pi * p_s[None, :] / cycles[:, None]).mean(axis=1)
    best = int(np.argmax(np.abs(resultant)))
    cycle = float(cycles[best])
    first = float(np.angle(resultant[best]) / (2 * np.pi) % 1.0 * cycle)
    for _ in range(2):
        k = np.round((p_s - first) / cycle)
        near = np.abs(p_s - first - k * cycle) <= GRID_TOLERANCE * cycle
        if near.sum() < 3:
            return None
        cycle, first = np.polyfit(k[near], p_s[near], 1)
    if not ATRIAL_CYCLE_S[0] <= cycle <= ATRIAL_CYCLE_S[1]:
        return None
    k = np.round((p_s - first) / cycle)
    on_grid = np.abs(p_s - first - k * cycle) <= GRID_TOLERANCE * cycle
    steps = np.arange(np.ceil(-first / cycle), np.floor((duration_s - first) / cycle) + 1)
    places = first + cycle * steps
    samples = np.round(places * fs_hz).astype(np.int64)
    visible = places[(samples >= 0) & (samples < hidden.size)]
    visible = visible[~hidden[np.round(visible * fs_hz).astype(np.int64)]]
    if visible.size == 0:
        return None
    hit = np.min(np.abs(visible[:, None] - p_s[on_grid][None, :]), axis=1) <= GRID_TOLERANCE * cycle
    if hit.mean() < GRID_HIT_SHARE or on_grid.mean() < 1 - OFF_GRID_SHARE:
        return None
    return float(first), float(cycle)


def _clear_of_noise(
    residual: np.ndarray, p_s: np.ndarray, first_s: float, cycle_s: float, fs_hz: float
) -> bool:
    """Whether the P waves on the grid stand clear of the noise: the energy of their mean wave
    is at least `P_CLEAR_OF_NOISE` times that of each one's departure from it. One atrium's
    waves are alike; peaks of electrode-motion noise can fall on a steady grid by chance,
    and are not: 10 s of nstdb 118e12 and 118e06 (MIT-BIH 118, sinus rhythm at a fixed PR,
    under 12 and 6 dB of noise) read "complete AV block" from "P waves" at 113-115 /min
    (1.8-2.6 here), synthetic complete blocks under noise are 7 or more."""
    k = np.round((p_s - first_s) / cycle_s)
    on_grid = np.abs(p_s - first_s - k * cycle_s) <= GRID_TOLERANCE * cycle_s
    half = round(P_WAVE_HALF_S * fs_hz)
    peaks = np.round(p_s[on_grid] * fs_hz).astype(np.int64)
    peaks = peaks[(peaks >= half) & (peaks + half < residual.size)]
    if peaks.size < 3:
        return False
    waves = residual[peaks[:, None] + np.arange(-half, half + 1)]
    waves = waves - waves.mean(axis=1, keepdims=True)
    mean_wave = waves.mean(axis=0)
    scatter = float(np.mean(np.sum((waves - mean_wave) ** 2, axis=1)))
    return float(np.sum(mean_wave**2)) >= P_CLEAR_OF_NOISE * scatter


class AtrialStretch(Protocol):
    """A stretch with the P waves' rate: AV dissociation, or a 2:1 block (`ml.two_to_one`)."""

    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...
    @property
    def atrial_bpm(self) -> float: ...


def atrial_rate_bpm(found: Sequence[AtrialStretch]) -> float | None:
    """The atrial rate over the stretches found (their mean, by duration); None without."""
    if not found:
        return None
    weights = [d.end_s - d.start_s for d in found]
    return float(np.average([d.atrial_bpm for d in found], weights=weights))


def strip_call_with_dissociation(
    call: StripCall, found: list[Dissociation], duration_s: float
) -> StripCall:
    """A strip whose P waves march apart from its QRS complexes over at least half of it is
    another rhythm, said as the dissociation: synthetic complete AV blocks had read "atrial
    fibrillation" (the QRS complexes fall anywhere after the P waves, so no P wave looks
    consistent) or "sinus rhythm". Unreadable and fibrillation calls stay."""
    if not holds_the_strip(call, [(d.start_s, d.end_s) for d in found], duration_s):
        return call
    atrial = atrial_rate_bpm(found)
    ventricular = float(np.average([d.ventricular_bpm for d in found]))
    return another_rhythm(
        call,
        f"P waves at {atrial:.0f} /min march through QRS complexes at {ventricular:.0f} /min "
        "with no fixed PR: AV dissociation (complete AV block)",
    )
