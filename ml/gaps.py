"""Gaps in an ECG (missing samples): bridged when short, blanked and reported when long.

Recordings arrive with holes: packets a wireless recorder dropped, a lead that came off, a
corrupted value. Refusing them would throw away hours of good signal; reading a hole as
data would invent or hide beats. So a short gap is bridged by a straight line, a long one
is set to 0 (so filters and detectors run on a finite signal) and reported as a span the
analysis must not read, and a lead that is mostly gaps is not analysed at all.

A gap is what `ml.recording.missing_samples` says: NaN, infinite, or beyond MAX_ECG_MV.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ml.recording import (
    MAX_ECG_MV,
    MOSTLY_MISSING_FRACTION,
    Recording,
    has_gaps,
    missing_samples,
)

# A bridge this short cannot hide or invent a beat: it is shorter than any QRS complex
# (60-120 ms) and far shorter than any RR interval (200 ms even at 300 bpm). At worst it
# flattens part of one wave. Dropped packets and single corrupted values are this short.
SHORT_GAP_MAX_S = 0.05
MAX_SPAN_NOTES = 3  # more long gaps than this in a lead are summed up in one note

Span = tuple[float, float]  # (start_s, end_s), end exclusive


@dataclass(frozen=True)
class GapFill:
    """What `fill_gaps` made of a recording.

    `recording`: the same recording without gaps (short ones bridged, long ones and mostly
    missing leads set to 0), its notes kept. `long_gaps_s[i]`: the long gaps of lead i
    (indexed like `recording.lead_names`), which must not be read as signal.
    `mostly_missing`: indices of leads with more than half their samples missing; they are
    0 throughout, so `usable_leads` leaves them out as flat. `notes`: plain-language
    sentences for the report.
    """

    recording: Recording
    long_gaps_s: tuple[tuple[Span, ...], ...]
    mostly_missing: tuple[int, ...]
    notes: tuple[str, ...]

    def spans_s(self, leads: Iterable[int] | None = None) -> list[Span]:
        """Where any of `leads` (indices; all by default) is in a long gap, merged and sorted."""
        chosen = range(len(self.long_gaps_s)) if leads is None else leads
        return _merged([span for i in chosen for span in self.long_gaps_s[i]])


def fill_gaps(recording: Recording) -> GapFill:
    """Bridge gaps up to SHORT_GAP_MAX_S by linear interpolation; set longer ones to 0 and
    report them; set a lead with more than MOSTLY_MISSING_FRACTION missing to 0 entirely.
    A recording without gaps comes back unchanged."""
    n_leads = recording.n_leads
    if not has_gaps(recording.signal_mv):
        return GapFill(recording, ((),) * n_leads, (), ())
    signal_mv = np.array(recording.signal_mv, dtype=np.float64)
    short_max = max(1, int(SHORT_GAP_MAX_S * recording.fs_hz))
    no_runs = np.empty((0, 2), dtype=np.int64)
    long_gaps: list[tuple[Span, ...]] = []
    short_runs: list[np.ndarray] = []
    shares: list[float] = []
    for i in range(n_leads):
        missing = missing_samples(signal_mv[:, i])  # lead by lead: one lead's mask in memory
        shares.append(float(np.mean(missing)))
        if shares[-1] > MOSTLY_MISSING_FRACTION:
            signal_mv[:, i] = 0.0
            long_gaps.append(((0.0, recording.duration_s),))
            short_runs.append(no_runs)
            continue
        runs = _runs(missing)
        is_short = runs[:, 1] - runs[:, 0] <= short_max
        _bridge(signal_mv[:, i], runs[is_short])
        for start, stop in runs[~is_short]:
            signal_mv[start:stop, i] = 0.0
        long_gaps.append(tuple(_seconds(run, recording.fs_hz) for run in runs[~is_short]))
        short_runs.append(runs[is_short])
    mostly = [i for i, share in enumerate(shares) if share > MOSTLY_MISSING_FRACTION]
    notes = _notes(recording, shares, short_runs, long_gaps)
    filled = dataclasses.replace(recording, signal_mv=signal_mv)
    return GapFill(filled, tuple(long_gaps), tuple(mostly), notes)


def impossible_values_as_gaps(recording: Recording) -> Recording:
    """The recording with infinite values and values beyond MAX_ECG_MV set to NaN, never read
    as numbers, and a note per lead saying how many. For readers, after unit conversion."""
    signal = recording.signal_mv
    if not has_gaps(signal):
        return recording
    impossible = missing_samples(signal) & ~np.isnan(signal)
    if not impossible.any():
        return recording
    cleaned = np.where(impossible, np.nan, signal)
    notes = tuple(
        f"Lead {name}: {count} impossible value{'s' if count > 1 else ''} (infinite, or beyond "
        f"±{MAX_ECG_MV:g} mV, which no ECG reaches) treated as missing."
        for name, count in zip(recording.lead_names, impossible.sum(axis=0), strict=True)
        if count
    )
    return dataclasses.replace(recording, signal_mv=cleaned, notes=recording.notes + notes)


def _runs(mask: np.ndarray) -> np.ndarray:
    """[start, stop) sample indices of each run of True in `mask`, shape (n_runs, 2)."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.column_stack((np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _bridge(lead_mv: np.ndarray, runs: np.ndarray) -> None:
    """In place: each run's samples on the straight line between the present samples either
    side of it (runs are maximal, so those are present); at an end of the recording, the one
    neighbour's value."""
    if not len(runs):
        return
    starts, stops = runs[:, 0], runs[:, 1]
    lengths = stops - starts
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    index = np.repeat(starts, lengths) + offsets
    before = np.repeat(np.where(starts > 0, starts - 1, stops), lengths)
    after = np.repeat(np.where(stops < lead_mv.size, stops, starts - 1), lengths)
    fraction = (offsets + 1) / np.repeat(lengths + 1, lengths)
    lead_mv[index] = lead_mv[before] + fraction * (lead_mv[after] - lead_mv[before])


def _seconds(run: np.ndarray, fs_hz: float) -> Span:
    return (float(run[0]) / fs_hz, float(run[1]) / fs_hz)


def _merged(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _notes(
    recording: Recording,
    shares: list[float],
    short_runs: list[np.ndarray],
    long_gaps: list[tuple[Span, ...]],
) -> tuple[str, ...]:
    """One sentence per kind of gap, leads with the same gaps named together."""
    by_text: dict[str, list[int]] = {}
    for i, share in enumerate(shares):
        if share > MOSTLY_MISSING_FRACTION:
            texts = [f"{share:.0%} of {{leads}} missing: not analysed"]
        else:
            texts = _short_text(short_runs[i], recording.fs_hz) + _long_texts(long_gaps[i])
        for text in texts:
            by_text.setdefault(text, []).append(i)
    return tuple(
        _capitalised(text.format(leads=_leads_phrase(recording, leads))) + "."
        for text, leads in by_text.items()
    )


def _short_text(runs: np.ndarray, fs_hz: float) -> list[str]:
    """'3 short gaps in {leads} (4 samples = 13 ms each) bridged by interpolation'"""
    if not len(runs):
        return []
    sizes = runs[:, 1] - runs[:, 0]
    low, high = int(sizes.min()), int(sizes.max())
    high_ms = high / fs_hz * 1000
    count = len(runs)
    if low == high:
        each = " each" if count > 1 else ""
        size = f"{high} sample{'s' if high > 1 else ''} = {high_ms:.0f} ms{each}"
    else:
        size = f"{low}-{high} samples, up to {high_ms:.0f} ms"
    plural = "s" if count > 1 else ""
    return [f"{count} short gap{plural} in {{leads}} ({size}) bridged by interpolation"]


def _long_texts(spans: tuple[Span, ...]) -> list[str]:
    if len(spans) > MAX_SPAN_NOTES:
        total_s = sum(end - start for start, end in spans)
        return [
            f"{total_s:.1f} s of {{leads}} missing in {len(spans)} stretches from "
            f"{clock(spans[0][0])}, not analysed"
        ]
    return [
        f"{end - start:.1f} s of {{leads}} missing from {clock(start)}, not analysed"
        for start, end in spans
    ]


def _leads_phrase(recording: Recording, leads: list[int]) -> str:
    if len(leads) == recording.n_leads > 1:
        return "all leads"
    names = ", ".join(recording.lead_names[i] for i in leads)
    return f"lead{'s' if len(leads) > 1 else ''} {names}"


HMS_FROM_S = 600.0  # the tables of a recording of 10 minutes or more read h:mm:ss throughout
NOTE_HMS_FROM_S = 60.0  # a note's time from a minute into the recording reads h:mm:ss


def clock(t_s: float, as_hms: bool | None = None) -> str:
    """A moment into the recording as every machine note says it: '12.5 s' under a minute,
    else 'h:mm:ss' ('0:06:53'), so that one moment reads the same in every note (a 4-h
    Holter's notes had mixed '413.4 s' and '0:06:53'; a words audit). `as_hms` is for a
    table of one format (the review page's and PDF's episodes, `HMS_FROM_S`)."""
    if not (t_s >= NOTE_HMS_FROM_S if as_hms is None else as_hms):
        return f"{t_s:.1f} s"
    whole = int(t_s)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def seconds_text(seconds: float) -> str:
    """'1.6 s' under 10 s, else '45 s': an episode's length as the tables, strips, findings and
    "Next finding" give it (a finding's "longest 1 s" stood beside a 1.5-s strip; an audit)."""
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def duration_text(seconds: float) -> str:
    """'45 s' under a minute and a half, else '12.4 min'."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def clocks(times_s: Iterable[float], shown: int = 10) -> str:
    """'1.0 s, 2.5 s and 3 more': where a note's first `shown` events are, and how many follow,
    each as `clock` says it in every note ('0:03:27, 0:12:03'; a list had read '207.8 s'
    in one note and '0:03:27' in another beside a later time)."""
    times = [float(t) for t in times_s]
    where = ", ".join(clock(t) for t in times[:shown])
    return where + (f" and {len(times) - shown} more" if len(times) > shown else "")


def left_unclassified_note(beat_s: Iterable[float], called: str, why: str) -> str:
    """The note of a rule that left some calls unclassified: '3 beats called ventricular (at
    ...) were left unclassified: {why}; check the strip there.' `why` says `{each}` where
    the sentence needs 'it' (one beat) or 'each'."""
    times = list(beat_s)
    beats, were, each = (
        ("1 beat", "was", "it") if len(times) == 1 else (f"{len(times)} beats", "were", "each")
    )
    return (
        f"{beats} called {called} (at {clocks(times)}) {were} left unclassified: "
        f"{why.format(each=each)}; check the strip there."
    )


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
