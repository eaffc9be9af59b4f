"""A minute or more of flat line in every lead: the electrodes off, or the recorder's signal
lost. Read as missing signal (`ml.gaps`), never as asystole.

Why: MIT-BIH 119 with 30 minutes of flat line in its middle read a pause of 1800 s ("sinus
arrest or sinoatrial block", high risk), a mean heart rate of 44 bpm with a minimum of 0, and
the patient read that their heart "paused for a few seconds" (a Holter audit). Nobody lives
through 30 minutes of asystole and goes on in sinus rhythm. A silence under a minute is still
read as a pause (`ml.standstill`, `ml.rhythm`). "Flat" is relative to the lead's own beats
(`SILENT_SHARE` of its typical second's range): P waves alone are that faint too, but no
ventricular standstill lasts a minute in a recording that goes on.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ml.gaps import Span, clock
from ml.quality import FLAT_STD_MV
from ml.recording import Recording
from ml.standstill import FAINT_SHARE

LEAD_OFF_MIN_S = 60.0  # a flat line this long in every lead is lead-off, not asystole
WINDOW_S = 1.0  # judged a second at a time
# A lead's typical second: the 75th centile of its seconds' ranges (each holds a beat in any
# rhythm over 60 bpm), robust to up to three quarters of the recording off or to a quarter
# of artefact.
TYPICAL_CENTILE = 75.0
# A second's range under this share of the lead's typical one holds no QRS: flat. Relative,
# not absolute: a lead-off line carries 10-20 uV of noise (an audit: 90 s of 0.02 mV noise in
# every lead read as a 92-s "sinus arrest", high risk, against the 0.01 mV flat-line limit).
SILENT_SHARE = FAINT_SHARE
BLOCK_SECONDS = 600  # seconds judged at once (a 24-h recording's copy in memory is large)


def second_ranges_mv(signal_mv: np.ndarray, fs_hz: float) -> np.ndarray:
    """Per whole second of `signal_mv` [samples, leads], each lead's range (max - min) after
    the second's straight-line trend is taken out (a lead-off line drifts); NaN where the
    second holds missing samples (`ml.gaps` reads those)."""
    window = max(1, round(WINDOW_S * fs_hz))
    count = signal_mv.shape[0] // window
    leads = signal_mv.shape[1] if signal_mv.ndim > 1 else 1
    out = np.full((count, leads), np.nan)
    t = np.arange(window) - (window - 1) / 2
    t_norm = float(np.sum(t * t)) or 1.0
    for first in range(0, count, BLOCK_SECONDS):
        last = min(count, first + BLOCK_SECONDS)
        block = np.asarray(signal_mv[first * window : last * window], dtype=np.float64)
        seconds = block.reshape(last - first, window, leads)
        slope = np.einsum("j,ijk->ik", t, seconds) / t_norm
        residual = seconds - seconds.mean(axis=1, keepdims=True) - slope[:, None, :] * t[:, None]
        out[first:last] = residual.max(axis=1) - residual.min(axis=1)  # NaN with a gap
    return out


def flat_seconds(signal_mv: np.ndarray, fs_hz: float) -> np.ndarray:
    """Per whole second of `signal_mv` [samples, leads]: whether every lead is flat in it."""
    return silent_in_every_lead(second_ranges_mv(signal_mv, fs_hz))


def silent_in_every_lead(ranges_mv: np.ndarray) -> np.ndarray:
    """Per second of `ranges_mv` [seconds, leads] (`second_ranges_mv`): whether every lead is
    flat in it, judged against each lead's own typical second (`SILENT_SHARE`), and always
    when its trace moves less than the quality module's flat line."""
    if ranges_mv.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    with np.errstate(invalid="ignore"):
        finite = np.where(np.isfinite(ranges_mv), ranges_mv, np.nan)
        typical = np.zeros(ranges_mv.shape[1])
        if np.isfinite(finite).any():
            typical = np.nan_to_num(np.nanpercentile(finite, TYPICAL_CENTILE, axis=0))
        limit = np.maximum(SILENT_SHARE * typical, 4 * FLAT_STD_MV)  # 4 SD: a flat line's range
        return np.asarray(np.all(ranges_mv < limit, axis=1))


def lead_off_spans_s(signal_mv: np.ndarray, fs_hz: float) -> list[Span]:
    """Stretches of `LEAD_OFF_MIN_S` or more where every lead is flat (`flat_seconds`)."""
    flat = flat_seconds(signal_mv, fs_hz)
    edges = np.diff(np.concatenate(([0], flat.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    window = max(1, round(WINDOW_S * fs_hz)) / fs_hz
    return [
        (float(start * window), float(stop * window))
        for start, stop in zip(starts, stops, strict=True)
        if (stop - start) * window >= LEAD_OFF_MIN_S
    ]


def lead_off_as_missing(recording: Recording) -> Recording:
    """The recording with each lead-off stretch set to missing samples (NaN), and a note
    saying why; unchanged without one."""
    spans = lead_off_spans_s(recording.signal_mv, recording.fs_hz)
    if not spans:
        return recording
    signal_mv = np.array(recording.signal_mv, dtype=np.float64)
    for start_s, end_s in spans:
        signal_mv[round(start_s * recording.fs_hz) : round(end_s * recording.fs_hz)] = np.nan
    notes = tuple(lead_off_note(start_s, end_s) for start_s, end_s in spans)
    return dataclasses.replace(recording, signal_mv=signal_mv, notes=recording.notes + notes)


def lead_off_note(start_s: float, end_s: float) -> str:
    minutes = (end_s - start_s) / 60
    return (
        f"Every lead is a flat line from {clock(start_s, True)} for {minutes:.1f} min: the "
        "electrodes were off or the recorder lost the signal, so that stretch is read as "
        "missing, not as a pause (no asystole that long ends in a normal heartbeat); check "
        "the strip."
    )


class FlatRunWatch:
    """Whether a recording read piece by piece (`ml.chunked`'s scan) holds a lead-off
    stretch: `add` each piece [samples, leads] in order; True once one is seen. Each second's
    ranges are kept (a few floats a second) and judged again against every lead's typical
    second so far, so a lead-off at the very start is found once beats have been seen."""

    def __init__(self, fs_hz: float) -> None:
        self.fs_hz = fs_hz
        self.window = max(1, round(WINDOW_S * fs_hz))
        self.carry: np.ndarray | None = None
        self.ranges: list[np.ndarray] = []

    def add(self, samples: np.ndarray) -> bool:
        if self.carry is not None:
            samples = np.concatenate([self.carry, samples])
        whole = samples.shape[0] // self.window * self.window
        self.carry = samples[whole:]
        self.ranges.append(second_ranges_mv(samples[:whole], self.fs_hz))
        flat = silent_in_every_lead(np.concatenate(self.ranges))
        return _longest_run(flat) * WINDOW_S >= LEAD_OFF_MIN_S


def _longest_run(flags: np.ndarray) -> int:
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((stops - starts).max()) if starts.size else 0
