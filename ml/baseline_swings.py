"""Beats called ventricular that ride a baseline swing larger than the QRS complexes: motion
artefact hides a beat's shape, and the shape is what a ventricular call reads.

On handheld strips, a moving hand or cable swings the baseline by 1-4 mV within a second.
Real QRS complexes riding the swing, and detections on the swing itself, are called V (the
swing makes them look unlike the patient's beats). The measure: the peak-to-peak of the lead
low-passed at 1.5 Hz within 0.6 s of the beat (the swing), over the median peak-to-peak of
the QRS complexes (8-25 Hz, within 50 ms of every beat). A V call whose swing is more than
MAX_SWING_OVER_QRS times that becomes Q (unclassifiable) and the read's notes say where.

Chosen on MIT-BIH DS1, svdb and the cinc2017 normal strips, after the cycle-splitter rule
(`ml.cycle_splitters`), with beat-cnn 2.1; the measure reads the signal, not the classifier,
so the reference beats of DS1 and svdb measure its cost. True ventricular beats called V
turned Q (of 6,758) / V calls on the 893 normal strips removed (of 1,050): limit 1.5: 17 /
438; 2.0 (shipped): 5 / 311; 2.5: 2 / 210; 3.0: 1 / 147. S calls are left alone: they are
read from timing more than shape, and the same limit would take 1 true S beat of 5,891 and
only 29 of the 839 S calls on normal strips.
"""

from __future__ import annotations

import numpy as np

from ml.dsp import butter_sos, sosfiltfilt
from ml.filters import bandpass_mv
from ml.gaps import left_unclassified_note

SWING_LOWPASS_HZ = 1.5
SWING_HALF_WINDOW_S = 0.6
SWING_READ_EVERY_S = 0.02
QRS_BAND_HZ = (8.0, 25.0)
QRS_HALF_WINDOW_S = 0.05
MAX_SWING_OVER_QRS = 2.0
NOTE_PHRASE = "a baseline swing"


def swing_and_qrs_mv(
    lead_mv: np.ndarray, fs_hz: float, peaks: np.ndarray, offset: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Per beat at `peaks` (samples of `lead_mv`): the baseline swing and the QRS
    peak-to-peak, in mV; NaN where the window leaves the signal. `lead_mv` starts at sample
    `offset` of the recording (a chunk), so the 20-ms blocks fall where the whole
    recording's do."""
    return baseline_swings_mv(lead_mv, fs_hz, peaks, offset), qrs_sizes_mv(lead_mv, fs_hz, peaks)


def baseline_swings_mv(
    lead_mv: np.ndarray, fs_hz: float, peaks: np.ndarray, offset: int = 0
) -> np.ndarray:
    """Per beat at `peaks`: the baseline swing (`swing_and_qrs_mv`), in mV."""
    if len(peaks) == 0:
        return np.zeros(0)
    # The swing is slow: read it from 20-ms means of the lead (peak-to-peak the same to a few
    # uV, a twentieth of the filtering and of the windows); the QRS needs every sample.
    step = max(1, int(fs_hz * SWING_READ_EVERY_S))
    first = -offset % step
    blocks = (lead_mv.size - first) // step
    means_mv = lead_mv[first : first + blocks * step].reshape(-1, step).mean(axis=1)
    lowpass = butter_sos(2, SWING_LOWPASS_HZ, "lowpass", fs_hz / step)
    return peak_to_peak(
        sosfiltfilt(lowpass, means_mv),
        (np.asarray(peaks) - first) // step,
        round(SWING_HALF_WINDOW_S * fs_hz / step),
    )


def qrs_sizes_mv(lead_mv: np.ndarray, fs_hz: float, peaks: np.ndarray) -> np.ndarray:
    """Per beat at `peaks`: the QRS peak-to-peak (8-25 Hz, within 50 ms), in mV; NaN where
    the window leaves the signal."""
    if len(peaks) == 0:
        return np.zeros(0)
    return peak_to_peak(
        bandpass_mv(lead_mv, fs_hz, QRS_BAND_HZ), peaks, round(QRS_HALF_WINDOW_S * fs_hz)
    )


def rides_a_swing(swing_mv: np.ndarray, qrs_mv: np.ndarray) -> np.ndarray:
    """True for each beat whose swing exceeds MAX_SWING_OVER_QRS x the median QRS
    peak-to-peak of all beats (`ml.analysis.unclassified_where_doubtful` turns the V calls
    among them to Q)."""
    return larger_than_qrs(swing_mv, qrs_mv, MAX_SWING_OVER_QRS)


def larger_than_qrs(size_mv: np.ndarray, qrs_mv: np.ndarray, times: float) -> np.ndarray:
    """True for each beat whose `size_mv` (NaN: not judged) exceeds `times` x the median of
    the beats' QRS peak-to-peak (`swing_and_qrs_mv`); none without a QRS size."""
    if not np.isfinite(qrs_mv).any():
        return np.zeros(len(size_mv), dtype=bool)
    return np.nan_to_num(size_mv, nan=0.0) > times * float(np.nanmedian(qrs_mv))


def swings_note(beat_s: np.ndarray) -> str:
    """What the read says of the V calls it left unclassified (`beat_s`: their times)."""
    return left_unclassified_note(
        beat_s,
        "ventricular",
        f"{{each}} rides {NOTE_PHRASE} more than {MAX_SWING_OVER_QRS:g} times as large as the "
        "QRS complexes (motion artefact), which hides a beat's shape",
    )


def peak_to_peak(x: np.ndarray, peaks: np.ndarray, half: int) -> np.ndarray:
    """Per index of `peaks`: the range of `x` within `half` samples; NaN where the window
    leaves `x`."""
    out = np.full(len(peaks), np.nan)
    inside = np.flatnonzero((peaks >= half) & (peaks < x.size - half))
    if inside.size:
        windows = x[peaks[inside, None] + np.arange(-half, half + 1)[None, :]]
        out[inside] = windows.max(axis=1) - windows.min(axis=1)
    return out
