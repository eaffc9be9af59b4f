"""A minute or more of flat line in every lead: the electrodes off, or the recorder's signal
lost. Read as missing signal (`ml.gaps`), never as asystole.

Why: MIT-BIH 119 with 30 minutes of flat line in its middle read a pause of 1800 s ("sinus
arrest or sinoatrial block", high risk), a mean heart rate of 44 bpm with a minimum of 0, and
the patient read that their heart "paused for a few seconds" (a Holter audit). Nobody lives
through 30 minutes of asystole and goes on in sinus rhythm. A silence under a minute is still
read as a pause (`ml.standstill`, `ml.rhythm`), and one where P waves go on (ventricular
standstill) is no flat line: a P wave moves a second's signal well above `FLAT_STD_MV`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ml.gaps import Span, clock
from ml.quality import FLAT_STD_MV  # a second moving less than this in every lead is flat
from ml.recording import Recording

LEAD_OFF_MIN_S = 60.0  # a flat line this long in every lead is lead-off, not asystole
WINDOW_S = 1.0  # judged a second at a time


def flat_seconds(signal_mv: np.ndarray, fs_hz: float) -> np.ndarray:
    """Per whole second of `signal_mv` [samples, leads]: whether every lead is flat in it (a
    second holding missing samples is not: `ml.gaps` reads those)."""
    window = max(1, round(WINDOW_S * fs_hz))
    count = signal_mv.shape[0] // window
    if count == 0:
        return np.zeros(0, dtype=bool)
    seconds = signal_mv[: count * window].reshape(count, window, -1)
    with np.errstate(invalid="ignore"):
        spread = np.std(seconds, axis=1)  # [seconds, leads]; NaN where samples are missing
    return np.asarray(np.all(spread < FLAT_STD_MV, axis=1))


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
    stretch: `add` each piece [samples, leads] in order; True once one is seen."""

    def __init__(self, fs_hz: float) -> None:
        self.fs_hz = fs_hz
        self.window = max(1, round(WINDOW_S * fs_hz))
        self.carry: np.ndarray | None = None
        self.run_s = 0.0

    def add(self, samples: np.ndarray) -> bool:
        if self.carry is not None:
            samples = np.concatenate([self.carry, samples])
        whole = samples.shape[0] // self.window * self.window
        self.carry = samples[whole:]
        for flat in flat_seconds(samples[:whole], self.fs_hz):
            self.run_s = self.run_s + WINDOW_S if flat else 0.0
            if self.run_s >= LEAD_OFF_MIN_S:
                return True
        return False
