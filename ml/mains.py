"""Mains interference (50 or 60 Hz hum) found in each lead and notched out before any analysis.

A lead picking up the mains (an electrode with poor contact, a cable near a power supply)
carries a sine at 50 or 60 Hz on top of the ECG. The diagnostic band-pass (0.5-40 Hz,
`ml.filters`) keeps 29 % of it at 50 Hz, so a hum of 0.5 mV left a 0.15-mV ripple, as tall as
a P wave, and signal quality called the strip "too noisy; repeat the recording" though the
ECG under the hum was clean. ECG machines remove it with a notch filter; so does this module,
only where a lead shows the hum (a spectral line well above the spectrum beside it), so a
recording without hum is read exactly as before. The read says so in a note.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ml.dsp import sosfiltfilt
from ml.io.sources import RecordingSource
from ml.recording import Recording

MAINS_HZ = (50.0, 60.0)
WINDOW_S = 4.0  # spectrum windows: 0.25-Hz resolution
MAX_WINDOWS = 30  # spread over the recording: 2 minutes of signal, however long it is
# A smaller hum (peak, mV) is left alone: MIT-BIH's 60-Hz lines reach 0.016 mV, and reads that
# fine hum leaves as they were stay so. A larger one can matter beside a small ECG: 0.03 mV
# on a 0.3-mV QRS made signal quality call every segment unusable (its test of noise above
# 40 Hz is relative to the QRS).
MIN_HUM_MV = 0.02
# The line stands this many times above the median spectrum 2-6 Hz either side: a narrow
# line, not the broad spectrum of QRS complexes or muscle noise.
MIN_LINE_RATIO = 10.0
NOTCH_Q = 30.0  # bandwidth f / Q: 1.7 Hz at 50 Hz, so the QRS loses nothing visible


@dataclass(frozen=True)
class Hum:
    """The mains hum found on one lead: its frequency and peak amplitude."""

    lead: int
    hz: float
    mv: float


def window_starts(n_samples: int, fs_hz: float) -> list[int]:
    """First samples of up to MAX_WINDOWS windows of WINDOW_S spread evenly over the
    recording (none if it is shorter than one window)."""
    width = int(WINDOW_S * fs_hz)
    if n_samples < width:
        return []
    count = min(MAX_WINDOWS, n_samples // width)
    return np.linspace(0, n_samples - width, count).astype(int).tolist()


def hum_of(read: Callable[[int, int], np.ndarray], n_samples: int, fs_hz: float) -> list[Hum]:
    """The hum on each lead of a recording whose samples [samples, leads] `read(start, stop)`
    gives (NaN where missing). A lead's line must stand out in the spectrum averaged over the
    windows, so a hum present only in a few windows of a long recording is not notched."""
    width = int(WINDOW_S * fs_hz)
    windows = [read(start, start + width) for start in window_starts(n_samples, fs_hz)]
    if not windows:
        return []
    taper = np.hanning(width)
    frequencies = np.fft.rfftfreq(width, 1.0 / fs_hz)
    spectra = []
    for window in windows:
        x = np.nan_to_num(window, nan=0.0)
        x = x - x.mean(axis=0)
        spectra.append(np.abs(np.fft.rfft(x * taper[:, None], axis=0)))
    amplitude_mv = np.mean(spectra, axis=0) * 2.0 / taper.sum()  # a sine's peak, per line
    found: dict[int, Hum] = {}
    for hz in MAINS_HZ:
        if hz + 6.0 >= fs_hz / 2:
            continue
        distance = np.abs(frequencies - hz)
        peak_mv = amplitude_mv[distance <= 0.5].max(axis=0)
        floor_mv = np.median(amplitude_mv[(distance >= 2.0) & (distance <= 6.0)], axis=0)
        humming = (peak_mv >= MIN_HUM_MV) & (peak_mv >= MIN_LINE_RATIO * floor_mv)
        for lead in map(int, np.flatnonzero(humming)):
            if lead not in found or peak_mv[lead] > found[lead].mv:
                found[lead] = Hum(lead, hz, float(peak_mv[lead]))
    return [found[lead] for lead in sorted(found)]


@lru_cache(maxsize=16)
def notch_sos(hz: float, fs_hz: float) -> np.ndarray:
    """Second-order notches at `hz` and its harmonics below 0.45 x the sampling rate (the
    harmonics are hum too, and signal quality counts everything above 40 Hz as noise)."""
    sections = []
    harmonic = hz
    while harmonic < 0.45 * fs_hz:
        w0 = 2 * np.pi * harmonic / fs_hz
        alpha = np.sin(w0) / (2 * NOTCH_Q)
        b = np.array([1.0, -2 * np.cos(w0), 1.0])
        a = np.array([1 + alpha, -2 * np.cos(w0), 1 - alpha])
        sections.append(np.concatenate([b / a[0], a / a[0]]))
        harmonic += hz
    return np.array(sections)


def without_hum(signal_mv: np.ndarray, fs_hz: float, hums: list[Hum]) -> np.ndarray:
    """A copy of `signal_mv` [samples, leads, no gaps] with each hum notched out of its lead
    (zero phase, so no wave moves)."""
    out = np.array(signal_mv, dtype=float, copy=True)
    for hum in hums:
        out[:, hum.lead] = sosfiltfilt(notch_sos(hum.hz, fs_hz), out[:, hum.lead])
    return out


def hum_note(hums: list[Hum], lead_names: tuple[str, ...]) -> str:
    """The sentence the read gives: which leads, which frequency, how large."""
    parts = [f"{lead_names[h.lead]} ({h.hz:.0f} Hz, {h.mv:.2f} mV)" for h in hums]
    return (
        "Mains interference was filtered out of lead(s) "
        + ", ".join(parts)
        + ": check the electrodes' contact and the cables if it recurs."
    )


def dehummed(recording: Recording) -> tuple[Recording, dict[int, float]]:
    """`recording` with the hum of each lead notched out and a note saying so (itself when no
    lead hums), and the hum's frequency by lead index. Its gaps must be filled
    (`ml.gaps.fill_gaps`)."""
    signal = recording.signal_mv
    hums = hum_of(lambda start, stop: signal[start:stop], recording.n_samples, recording.fs_hz)
    if not hums:
        return recording, {}
    notched = dataclasses.replace(
        recording,
        signal_mv=without_hum(signal, recording.fs_hz, hums),
        notes=(*recording.notes, hum_note(hums, recording.lead_names)),
    )
    return notched, hum_by_lead(hums)


def hum_by_lead(hums: list[Hum]) -> dict[int, float]:
    return {hum.lead: hum.hz for hum in hums}


class DehummedSource:
    """A `RecordingSource` whose reads come with the hums notched out (`without_hum`): the
    chunked read of a long recording reads its chunks through it. Each chunk's filter edges
    fall in the chunk's overlap (`ml.chunked.OVERLAP_S`), the notches settle within 0.5 s."""

    def __init__(self, source: RecordingSource, hums: list[Hum]) -> None:
        self._source, self._hums = source, hums
        self.hum_hz_by_lead = hum_by_lead(hums)
        self.fs_hz = source.fs_hz
        self.lead_names = source.lead_names
        self.n_samples = source.n_samples
        self.source_format = source.source_format
        self.source_name = source.source_name
        self.start_time = source.start_time
        self.notes = (*source.notes, hum_note(hums, source.lead_names))

    @property
    def duration_s(self) -> float:
        return self._source.duration_s

    def read(self, start: int, stop: int) -> np.ndarray:
        return without_hum(self._source.read(start, stop), self.fs_hz, self._hums)

    def scan(self, chunk_samples: int) -> Iterator[tuple[int, np.ndarray]]:
        for start, samples in self._source.scan(chunk_samples):
            yield start, without_hum(samples, self.fs_hz, self._hums)

    def whole(self) -> Recording:
        return dehummed(self._source.whole())[0]

    def close(self) -> None:
        self._source.close()


def dehummed_source(source: RecordingSource) -> RecordingSource:
    """`source` read through `DehummedSource` when a lead hums, else itself."""
    hums = hum_of(source.read, source.n_samples, source.fs_hz)
    return DehummedSource(source, hums) if hums else source
