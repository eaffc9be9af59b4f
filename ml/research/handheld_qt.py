"""Normal handheld strips as the interval settings' second criterion (intervals round 5).

The QT Database's 53 records choose the settings closest to cardiologists, but settings that
tie there can differ on other recorders: on normal-rhythm strips of the CinC 2017 challenge
(single lead I, 300 Hz) a T end taken from the swing after the T wave reads a long QTc that a
population of normal strips should hardly have. So among the settings the QT Database ranks
best (`SHORTLIST`), the one with the fewest normal strips with a long QTc is chosen. The strips
are split in two by name: one half chooses (`CHOOSING`), the other reports (`REPORTING`), so
the reported count is not the one the choice was made on.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ml.findings import LONG_QTC_MS
from ml.intervals import IntervalSettings, MeasureInputs, measure_intervals
from ml.research.strips_eval import reference_labels

SHORTLIST = 10  # the settings with the lowest QT Database loss that the strips choose among
# A setting that leaves more strips' QT unmeasured than this share of the best-ranked one's
# would win by saying less: it is not considered.
MIN_MEASURED_SHARE = 0.98
NORMAL = "N"
CHOOSING, REPORTING = 0, 1  # halves of the strips, alternating in name order


@dataclass(frozen=True)
class StripCounts:
    """On a set of normal strips: how many have a QT, and how many a long QTc."""

    measured: int
    long_qtc: int


def normal_strip_inputs(
    data_dir: Path, capture: Callable[[Path, str], MeasureInputs | None], half: int
) -> list[MeasureInputs]:
    """The captured `measure_intervals` inputs of one half of the normal strips listed in
    `data_dir`/REFERENCE.csv."""
    labels = reference_labels(data_dir / "REFERENCE.csv")
    names = sorted(n for n, label in labels.items() if label == NORMAL)[half::2]
    found = [capture(data_dir, n) for n in tqdm(names, desc="normal strips", file=sys.stderr)]
    return [inputs for inputs in found if inputs is not None]


def strip_counts(settings: IntervalSettings, strips: list[MeasureInputs]) -> StripCounts:
    """What `settings` read on `strips`: QTs measured, and long QTcs. Every long QTc counts:
    since 2026-12-03 (after intervals round 5) a single lead's QT is of low confidence (no
    second lead backs its T end) and draws no finding, but the count still judges where the
    T end is placed. Round 5 counted the high-confidence ones, then nearly all (its card)."""
    measured = long_qtc = 0
    for inputs in strips:
        found = measure_intervals(*inputs, settings=settings)
        if found.qt_ms is None:
            continue
        measured += 1
        qtc_ms = float(found.qtc_bazett_ms or 0.0)
        long_qtc += int(qtc_ms >= LONG_QTC_MS)
    return StripCounts(measured, long_qtc)


def choose(ranked: list[int], counts: Callable[[int], StripCounts]) -> int:
    """Of the `SHORTLIST` best-ranked settings (indices, best first), the one with the fewest
    long QTcs on the strips, among those measuring QT on nearly as many strips as the best;
    ties go to the better-ranked."""
    shortlist = ranked[:SHORTLIST]
    enough = MIN_MEASURED_SHARE * counts(shortlist[0]).measured
    eligible = [i for i in shortlist if counts(i).measured >= enough]
    return min(eligible, key=lambda i: (counts(i).long_qtc, shortlist.index(i)))
