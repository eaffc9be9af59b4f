"""A Holter's summary, the table a cardiologist reads first: beats, ectopy per hour with its
couplets and runs, pauses, and the time in atrial fibrillation.

A 24-h review page and its PDF gave the heart rate and the beat counts, the couplets and runs
only as "Next finding" labels, and the AF time only inside the rhythm line (a Holter audit).
Every figure here is counted from the read itself (its beats and episodes), so it agrees with
the beat counts, the episode table and the chart.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ml import rhythm
from ml.gaps import HMS_FROM_S

HOLTER_FROM_S = HMS_FROM_S  # a recording this long or longer (10 min) gets the summary


@dataclass(frozen=True)
class Ectopy:
    """One class of ectopic beats (V or S): how many, per hour, and how they come."""

    beats: int
    per_hour: float
    singles: int
    couplets: int
    runs: int  # three or more in a row, at any rate (VT and SVT are the episodes' rule)
    longest_run: int  # beats; 0 without runs


@dataclass(frozen=True)
class HolterSummary:
    hours: float
    total_beats: int
    ventricular: Ectopy
    supraventricular: Ectopy
    pauses: int
    longest_pause_s: float | None
    longest_pause_at_s: float | None  # into the recording
    af_minutes: float
    af_percent: float  # of the readable time (`af_percent_of`), as AF burden is judged
    # The hours of readable signal, which the per-hour figures divide by: 30 min of lead-off
    # in a 90-min recording had read 591 V an hour for 885 (a Holter audit). None in a
    # summary stored before it (then `hours`).
    readable_hours: float | None = None

    @property
    def readable_note(self) -> str:
        """ " (10 min of it readable, ...)" beside the length when a minute or more was not
        readable (lead-off, missing signal, artefact); else nothing."""
        readable_h = self.readable_hours
        if readable_h is None or readable_h > self.hours - 1 / 60:
            return ""
        said = f"{readable_h * 60:.0f} min" if readable_h < 2 else f"{readable_h:.1f} h"
        return f" ({said} of it readable, the time the per-hour figures count)"

    @property
    def af_percent_of(self) -> str:
        """What `af_percent` is a share of: the readable time when some was not (lead-off
        had hidden AF burden: 30 min of AF in 90 min, 30 of them off, read 33 % for 50 %;
        an audit), else the recording."""
        return "the readable time" if self.readable_note else "the recording"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HolterSummary:
        """Read back from `dataclasses.asdict` (as the stored machine read holds it)."""
        return cls(
            **{
                **data,
                "ventricular": Ectopy(**data["ventricular"]),
                "supraventricular": Ectopy(**data["supraventricular"]),
            }
        )


def holter_summary(
    classes: np.ndarray,
    beat_s: np.ndarray,
    duration_s: float,
    episodes: list[rhythm.Episode],
    pacemaker: bool = False,
    unreadable_spans_s: Sequence[tuple[float, float]] = (),
) -> HolterSummary | None:
    """The summary of a read's beat classes and times (in time order) and episodes; None under
    HOLTER_FROM_S, where the strip's own figures say it all, and for a paced read, whose beat
    types and rhythm the machine did not assess (its summary had said "0 V, 0 S, 0 min of AF"
    of MIT-BIH 217's 162 PVCs and 4 min of AF; a records audit). Beats are the detections
    outside ventricular fibrillation (its waves are not beats: 207 counted 2,229 for 1,860);
    supraventricular ectopy leaves out the beats inside AF/flutter, conducted AF beats rather
    than premature atrial ones (MIT-BIH 202: 310 S calls, 17 "runs" on its AF, for 55 beats).
    Per-hour figures are over the readable time: the recording less its `unreadable_spans_s`;
    so is the AF time (`_readable_af_s`)."""
    if duration_s < HOLTER_FROM_S or pacemaker:
        return None
    unreadable = rhythm.merged_spans(unreadable_spans_s)
    hours = duration_s / 3600
    readable_hours = max(duration_s - sum(b - a for a, b in unreadable), 60.0) / 3600
    pauses = [e for e in episodes if e.label == rhythm.PAUSE]
    longest = max(pauses, key=lambda e: e.duration_s, default=None)
    af_s = _readable_af_s(episodes, unreadable)

    beats = ~vf_waves(beat_s, episodes)
    in_af = rhythm.within(beat_s, [(e.start_s, e.end_s) for e in episodes if e.label == rhythm.AF])
    is_s = (classes == "S") & beats & ~in_af
    return HolterSummary(  # rounded as shown, so a stored summary reads back the same
        hours=round(hours, 3),
        total_beats=int(beats.sum()),
        ventricular=_ectopy((classes == "V") & beats, readable_hours),
        supraventricular=_ectopy(
            is_s, readable_hours, _s_run_lengths(is_s, beat_s, np.asarray(classes))
        ),
        pauses=len(pauses),
        longest_pause_s=round(longest.duration_s, 2) if longest else None,
        longest_pause_at_s=round(longest.start_s, 1) if longest else None,
        af_minutes=round(af_s / 60, 1),
        af_percent=round(100 * af_s / (readable_hours * 3600), 1),
        readable_hours=round(readable_hours, 3),
    )


def vf_waves(beat_s: np.ndarray, episodes: Sequence[rhythm.Episode]) -> np.ndarray:
    """True for each detection inside a ventricular flutter/fibrillation episode: its waves,
    which are no beats. The one rule of the Holter's beats and the findings' ectopy shares."""
    return rhythm.within(beat_s, [(e.start_s, e.end_s) for e in episodes if e.label == rhythm.VF])


def _readable_af_s(episodes: list[rhythm.Episode], unreadable: list[tuple[float, float]]) -> float:
    """Seconds of AF/flutter outside the (merged) `unreadable` spans: the burden is a share of
    the readable time, so its AF is the readable AF, never more than 100 %. AF counted
    through lead-off beside the readable time had read 90.2 min of AF in 70 min of signal,
    "100.0 %", really 128 % clipped (a Holter audit)."""
    af = rhythm.merged_spans([(e.start_s, e.end_s) for e in episodes if e.label == rhythm.AF])
    return sum(b - a - rhythm.overlap_s(a, b, unreadable) for a, b in af)


def _ectopy(is_class: np.ndarray, hours: float, lengths: list[int] | None = None) -> Ectopy:
    """The figures of one class; its runs are `lengths`, else its calls in a row."""
    if lengths is None:
        lengths = [n for _, n in runs_of(is_class)]
    return Ectopy(
        beats=int(is_class.sum()),
        per_hour=round(float(is_class.sum()) / hours, 1),
        singles=sum(1 for n in lengths if n == 1),
        couplets=sum(1 for n in lengths if n == 2),
        runs=sum(1 for n in lengths if n >= 3),
        longest_run=max((n for n in lengths if n >= 3), default=0),
    )


def _s_run_lengths(is_s: np.ndarray, beat_s: np.ndarray, classes: np.ndarray) -> list[int]:
    """The lengths of the runs of `is_s` beats joined across the unclassified beats at their
    rate between them by the SVT episodes' rule (`rhythm._bridged_over_unclassified`), those
    beats counted among the run's as the episode counts them. Counted as S calls in a row,
    svdb 801's SVT episode of 11 beats (4 Q) read "Longest run 4 beats" (a Holter audit)."""
    runs = list(runs_of(is_s))
    starts = np.array([first for first, _ in runs], dtype=int)
    stops = np.array([first + n for first, n in runs], dtype=int)
    starts, stops = rhythm._bridged_over_unclassified(beat_s, classes, starts, stops)
    return [int(stop - start) for start, stop in zip(starts, stops, strict=True)]


def runs_of(mask: np.ndarray) -> Iterator[tuple[int, int]]:
    """(first index, length) of each run of consecutive True values."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for start, stop in zip(starts, stops, strict=True):
        yield int(start), int(stop - start)
