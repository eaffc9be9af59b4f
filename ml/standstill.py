"""Stretches with no QRS complex: asystole (a sinus arrest, or ventricular standstill in AV
block, P waves going on alone), or the electrodes off.

The R-peak detector's thresholds relearn in a silence, so after a few seconds it detects
the noise, or the P waves, as beats: a recording ending in 41 s of flat line read "Sinus
rhythm" with its rate unchanged, and one ending in 49 s of P waves alone read them as
sinus beats (synthetic standstill scenarios, `tests/ml/test_standstill.py`). A detection
whose QRS is faint, under `FAINT_SHARE` of the recording's median QRS size in every lead
read, is no QRS complex when a run of such detections (or none) lasts over a pause's span
(`ml.rhythm.PAUSE_S`) between QRS complexes of full size in readable signal, or between
one and the recording's start or end, and the signal there stays under that share too
(`quiet`: the detector, still learning at a recording's start, misses full beats there, as
on 3 normal cinc2017 strips): those detections are not beats, and the stretch is a silence,
read as a pause. A faint detection between full beats closer together stays a beat (an
ectopic beat small in these leads).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ml.baseline_swings import peak_to_peak
from ml.filters import bandpass_mv
from ml.gaps import clock, clocks
from ml.rhythm import PAUSE_S

FAINT_SHARE = 0.25  # of a lead's median QRS size (`ml.analysis.FAINT_QRS_SHARE`'s figure)
SIZE_BAND_HZ = (1.0, 30.0)
SIZE_HALF_WINDOW_S = 0.08
# Where a silence's signal is not read for its quietness: the T wave of the beat before it and
# the P wave of the beat after (a faint detection is measured at its own peak only).
AFTER_BEAT_S, BEFORE_BEAT_S = 0.45, 0.25
FILTER_MARGIN_S = 1.0  # read either side of a span so the filters settle outside it
# A silence open at the recording's start or end is claimed from this long (a high-risk
# pause): its true length is unknown, and a recording cut 2.1 s after the last beat of a
# 45-bpm rhythm (a test's synthetic junctional rhythm) shows no asystole.
OPEN_SILENCE_MIN_S = 3.0


@dataclass(frozen=True)
class Silence:
    """No QRS complex from `start_s` to `end_s`: from the beat before (or the recording's
    start, `open_start`) to the beat after (or its end, `open_end`)."""

    start_s: float
    end_s: float
    open_start: bool = False
    open_end: bool = False

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def open(self) -> bool:
        return self.open_start or self.open_end

    def described(self, p_waves: int | None = None) -> str:
        """What a pause finding says of a silence open at one end (its length is a least),
        with the P waves found in it (`ml.pause_p_waves`): P waves going on show the
        electrodes were on."""
        if self.open_end:
            where = f"from {clock(self.start_s)} to the end of the recording"
        else:
            where = f"from the start of the recording to {clock(self.end_s)}"
        lasting = f"no QRS complex {where} ({self.duration_s:.1f} s or more)"
        if p_waves:
            return f"{lasting} while P waves go on: ventricular standstill (AV block); check it"
        return f"{lasting}: asystole, or the electrodes came off; check the strip"


def silences_note(found: Sequence[Silence], not_beats: int) -> str:
    """The note on the detections inside silences that were not taken as beats."""
    detections, were = (
        ("1 detection", "was") if not_beats == 1 else (f"{not_beats} detections", "were")
    )
    stretches = "a stretch" if len(found) == 1 else f"{len(found)} stretches"
    return (
        f"{detections} under a quarter of the usual QRS size in every lead read, inside "
        f"{stretches} with no QRS complex (from {clocks(q.start_s for q in found)}), {were} "
        "not taken as beats (noise or P waves the detector picked up in the silence); check "
        "the strip there."
    )


def qrs_sizes_in_leads_mv(
    leads_mv: Sequence[np.ndarray], fs_hz: float, peaks: np.ndarray
) -> np.ndarray:
    """Per detection at `peaks` and lead of `leads_mv` (views of a recording's leads, whose
    band the analysis filters once, `ml.filters.each_band_once`): the peak-to-peak
    within `SIZE_HALF_WINDOW_S` in `SIZE_BAND_HZ`, NaN where the window leaves the signal.
    A broad band: a wide ventricular beat has little above 8 Hz (MIT-BIH 124's PVCs measured
    under a quarter of the usual QRS in 8-25 Hz), nor have flutter waves (207)."""
    half = round(SIZE_HALF_WINDOW_S * fs_hz)
    return np.column_stack(
        [peak_to_peak(bandpass_mv(lead, fs_hz, SIZE_BAND_HZ), peaks, half) for lead in leads_mv]
    )


def typical_sizes_mv(sizes_mv: np.ndarray, readable: np.ndarray) -> np.ndarray:
    """Per lead, the median size (`qrs_sizes_in_leads_mv`, [detections, leads]) of the
    detections in readable signal; NaN for a lead that has none."""
    typical = np.full(sizes_mv.shape[1], np.nan)
    for lead, sizes in enumerate(np.asarray(sizes_mv).T):
        measured = sizes[readable & np.isfinite(sizes)]
        if measured.size:
            typical[lead] = np.median(measured)
    return typical


def relative_qrs_sizes(sizes_mv: np.ndarray, typical_mv: np.ndarray) -> np.ndarray:
    """Per detection: the largest over the leads of its size over the lead's `typical_mv` (a
    beat flat in the analysis lead and plain in the other is a beat); NaN where no lead
    measures it (at the signal's very ends)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(typical_mv > 0, sizes_mv / typical_mv, np.nan)
    return np.asarray(np.fmax.reduce(relative, axis=1, initial=np.nan))


def quiet(span_mv: np.ndarray, fs_hz: float, typical_mv: np.ndarray, inner: slice) -> bool:
    """Whether the `inner` part of a span of signal [samples, leads] (read with some signal
    either side, where the filter settles) holds nothing of `FAINT_SHARE` of a lead's
    typical QRS size in any lead: no range within 2 x `SIZE_HALF_WINDOW_S` reaches it
    (windows every `SIZE_HALF_WINDOW_S`)."""
    half = max(1, round(SIZE_HALF_WINDOW_S * fs_hz))
    for lead, typical in zip(span_mv.T, typical_mv, strict=True):
        if not typical > 0:
            continue
        band = bandpass_mv(lead, fs_hz, SIZE_BAND_HZ)[inner]
        blocks = band[: band.size // half * half].reshape(-1, half)
        if blocks.shape[0] < 2:
            continue
        high, low = blocks.max(axis=1), blocks.min(axis=1)
        ranges = np.maximum(high[1:], high[:-1]) - np.minimum(low[1:], low[:-1])
        if ranges.max() >= FAINT_SHARE * typical:
            return False
    return True


def silences(
    beat_s: np.ndarray,
    relative_size: np.ndarray,
    readable: np.ndarray,
    duration_s: float,
    unread_s: Sequence[tuple[float, float]] = (),
    is_quiet: Callable[[float, float], bool] = lambda start_s, end_s: True,
) -> tuple[list[Silence], np.ndarray]:
    """The silences of a recording from its detections (times, `relative_qrs_sizes`, and
    whether each lies in readable signal), and which detections are no beats (inside one).
    A silence needs a faint detection inside it or an open end: between two full beats with
    nothing detected, the interval itself is the pause (`ml.rhythm`). Nothing is claimed
    across `unread_s` (missing signal, or ventricular fibrillation, whose waves are no beats
    and no silence), nor where `is_quiet(start_s, end_s)` finds the signal between its beats'
    own waves (`AFTER_BEAT_S`, `BEFORE_BEAT_S`) is not quiet."""
    not_beats = np.zeros(beat_s.size, dtype=bool)
    found: list[Silence] = []
    # Detections no lead measures (within 80 ms of the signal's ends) anchor nothing.
    anchors = np.flatnonzero(np.nan_to_num(relative_size) >= FAINT_SHARE)
    if anchors.size == 0:
        return found, not_beats  # no beat to measure a silence from
    readable = np.asarray(readable, dtype=bool)
    # Each stretch between consecutive detections not faint, and the two open ends.
    bounds: list[tuple[int | None, int | None]] = [(None, int(anchors[0]))]
    bounds += [(int(a), int(b)) for a, b in zip(anchors[:-1], anchors[1:], strict=True)]
    bounds += [(int(anchors[-1]), None)]
    for before, after in bounds:
        start_s = 0.0 if before is None else float(beat_s[before])
        end_s = duration_s if after is None else float(beat_s[after])
        first = 0 if before is None else before + 1
        stop = beat_s.size if after is None else after
        shortest_s = OPEN_SILENCE_MIN_S if before is None or after is None else PAUSE_S
        if end_s - start_s <= shortest_s:
            continue
        if before is not None and after is not None and stop == first:
            continue  # a plain interval: `ml.rhythm` reads it
        if not all(readable[i] for i in (before, after) if i is not None):
            continue  # bounded by what may be artefact
        if any(a < end_s and start_s < b for a, b in unread_s):
            continue
        inner_start_s = start_s if before is None else start_s + AFTER_BEAT_S
        inner_end_s = end_s if after is None else end_s - BEFORE_BEAT_S
        if not is_quiet(inner_start_s, inner_end_s):
            continue
        found.append(Silence(start_s, end_s, before is None, after is None))
        not_beats[first:stop] = True
    return found, not_beats


def silences_of(
    signal_mv: np.ndarray,
    leads: Sequence[int],
    fs_hz: float,
    peaks: np.ndarray,
    readable: np.ndarray,
    unread_s: Sequence[tuple[float, float]] = (),
) -> tuple[list[Silence], np.ndarray]:
    """`silences` of a whole recording `signal_mv` [samples, leads], read in `leads`."""
    sizes = qrs_sizes_in_leads_mv([signal_mv[:, i] for i in leads], fs_hz, peaks)
    n_samples = signal_mv.shape[0]
    return silences_of_sizes(
        sizes,
        peaks,
        readable,
        (fs_hz, n_samples),
        lambda lo, hi: signal_mv[lo:hi, list(leads)],
        unread_s,
    )


def silences_of_sizes(
    sizes_mv: np.ndarray,
    peaks: np.ndarray,
    readable: np.ndarray,
    rate_and_length: tuple[float, int],
    read: Callable[[int, int], np.ndarray],
    unread_s: Sequence[tuple[float, float]] = (),
) -> tuple[list[Silence], np.ndarray]:
    """`silences` from every detection's size in the leads read (`qrs_sizes_in_leads_mv`),
    reading the candidates' spans with `read(first, stop)` (samples x leads read) for the
    quiet check: the whole recording in memory, or a long one's file again (`ml.chunked`)."""
    fs_hz, n_samples = rate_and_length
    typical = typical_sizes_mv(sizes_mv, readable)
    margin = round(FILTER_MARGIN_S * fs_hz)

    def is_quiet(start_s: float, end_s: float) -> bool:
        first, last = round(start_s * fs_hz), round(end_s * fs_hz)
        lo, hi = max(0, first - margin), min(n_samples, last + margin)
        return quiet(read(lo, hi), fs_hz, typical, slice(first - lo, last - lo))

    relative = relative_qrs_sizes(sizes_mv, typical)
    duration_s = n_samples / fs_hz
    return silences(peaks / fs_hz, relative, readable, duration_s, unread_s, is_quiet)
