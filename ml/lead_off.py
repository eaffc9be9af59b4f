"""A minute or more of flat line in every lead: the electrodes off, or the recorder's signal
lost. Read as missing signal (`ml.gaps`), never as asystole. A lead flat that long while
another goes on is missing in that lead only, and the read follows the others.

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
# And under this absolutely: a lead-off line's 10-20 uV of noise spans about 0.1 mV in a
# second. Relative alone, clean stretches of nstdb 118e_6 (-6 dB: half the record buried in
# noise of 12 mV a second, its 75th centile) and MIT-BIH 212's smaller V1 complexes (0.4 mV
# beside its usual 2 mV) read as lead-off.
LEAD_OFF_MAX_RANGE_MV = 0.2
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


def silent_seconds(ranges_mv: np.ndarray) -> np.ndarray:
    """Per second and lead of `ranges_mv` [seconds, leads] (`second_ranges_mv`): whether the
    lead is flat in it, judged against its own typical second (`SILENT_SHARE`), and always
    when its trace moves less than the quality module's flat line."""
    if ranges_mv.shape[0] == 0:
        return np.zeros(ranges_mv.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        finite = np.where(np.isfinite(ranges_mv), ranges_mv, np.nan)
        typical = np.zeros(ranges_mv.shape[1])
        if np.isfinite(finite).any():
            typical = np.nan_to_num(np.nanpercentile(finite, TYPICAL_CENTILE, axis=0))
        relative = np.minimum(SILENT_SHARE * typical, LEAD_OFF_MAX_RANGE_MV)
        limit = np.maximum(relative, 4 * FLAT_STD_MV)  # 4 SD: a flat line's range
        return np.asarray(ranges_mv < limit)


def silent_in_every_lead(ranges_mv: np.ndarray) -> np.ndarray:
    """Per second of `ranges_mv`: whether every lead is flat in it (`silent_seconds`)."""
    return np.asarray(np.all(silent_seconds(ranges_mv), axis=1))


def _long_runs_s(flags: np.ndarray, window_s: float) -> list[Span]:
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [
        (float(start * window_s), float(stop * window_s))
        for start, stop in zip(starts, stops, strict=True)
        if (stop - start) * window_s >= LEAD_OFF_MIN_S
    ]


def lead_off_spans_s(signal_mv: np.ndarray, fs_hz: float) -> list[Span]:
    """Stretches of `LEAD_OFF_MIN_S` or more where every lead is flat (`flat_seconds`)."""
    window_s = max(1, round(WINDOW_S * fs_hz)) / fs_hz
    return _long_runs_s(flat_seconds(signal_mv, fs_hz), window_s)


def lead_off_as_missing(recording: Recording) -> Recording:
    """The recording with each lead-off stretch set to missing samples (NaN), and a note
    saying why; unchanged without one. A lead flat for a minute or more while another goes
    on is missing in that lead only, and the read follows the others there (`ml.gaps`): two
    of three leads off for 90 s while V5 beat on had read a 90-s high-risk pause, the flat
    leads out-voting the live one (an audit)."""
    fs_hz = recording.fs_hz
    window_s = max(1, round(WINDOW_S * fs_hz)) / fs_hz
    silent = silent_seconds(second_ranges_mv(recording.signal_mv, fs_hz))
    every = _long_runs_s(np.all(silent, axis=1), window_s) if silent.size else []
    per_lead = [_long_runs_s(silent[:, lead], window_s) for lead in range(silent.shape[1])]
    if not any(per_lead):
        return recording
    signal_mv = np.array(recording.signal_mv, dtype=np.float64)
    notes = [lead_off_note(start_s, end_s) for start_s, end_s in every]
    for lead, spans in enumerate(per_lead):
        for start_s, end_s in spans:
            signal_mv[round(start_s * fs_hz) : round(end_s * fs_hz), lead] = np.nan
        alone = [s for s in spans if not any(a <= s[0] and s[1] <= b for a, b in every)]
        if alone and len(per_lead) > 1:
            notes.append(one_lead_off_note(recording.lead_names[lead], alone))
    return dataclasses.replace(recording, signal_mv=signal_mv, notes=recording.notes + tuple(notes))


def lead_off_note(start_s: float, end_s: float) -> str:
    minutes = (end_s - start_s) / 60
    return (
        f"Every lead is a flat line from {clock(start_s)} for {minutes:.1f} min: the "
        "electrodes were off or the recorder lost the signal, so that stretch is read as "
        "missing, not as a pause (no asystole that long ends in a normal heartbeat); check "
        "the strip."
    )


def one_lead_off_note(lead: str, spans: list[Span]) -> str:
    """A flat lead may be an electrode off or a channel dead: the note says both, as the
    readers do; "its electrode was off" had stated a guess as fact (a bad-input audit)."""
    where = ", ".join(f"from {clock(a)} for {(b - a) / 60:.1f} min" for a, b in spans[:3])
    more = f" and {len(spans) - 3} more times" if len(spans) > 3 else ""
    return (
        f"Lead {lead} is a flat line {where}{more} while other leads go on (electrode off or "
        "channel dead), so that stretch of it is read as missing and the other leads are read "
        "there."
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
