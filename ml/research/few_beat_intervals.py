"""How far intervals measured from a 10-s strip's few beats are from cardiologists, by beat count.

    python -m ml.research.few_beat_intervals --data-dir ../shared/data/qtdb

A standard 12-lead ECG lasts 10 s: 7-9 beats at 50-70 bpm once the first and last second are
left out (`ml.analysis`). On each record of a QT Database style folder, `measure_intervals`
gets the inputs `analyze()` gives it (`intervals_eval.captured_inputs`) cut to six 10-s
windows, the beats of their middle 8 s only, against the record's `q1c` reference; the
windows are grouped by their number of beats. Confidence is the boundaries' own (the
beat-count rule this measures, `ml.intervals.FEW_BEATS`, is set aside), and only "high"
reads count. It is why FEW_BEATS is 7 with two leads or more: windows of 7-9 beats read as
close to the cardiologists as those of 10 or more, windows of 4-6 beats do not.
"""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

import numpy as np
from tqdm import tqdm

from ml import intervals
from ml.research.intervals_eval import (
    captured_inputs,
    differences_command,
    reference_intervals,
)

INTERVALS = ("pr", "qrs", "qt")
WINDOW_S, EDGE_S, WINDOWS = 10.0, 1.0, 6
GROUPS = {"4-6 beats": (4, 6), "7-9 beats": (7, 9), "10 or more": (10, 10**6)}


def differences_ms(data_dir: Path, names: list[str]) -> dict[str, dict[str, list[float]]]:
    """Per beat-count group and interval: ours minus the reference (ms), high confidence."""
    found: dict[str, dict[str, list[float]]] = {g: {i: [] for i in INTERVALS} for g in GROUPS}
    for name in tqdm(names, desc="records", file=sys.stderr):
        inputs = captured_inputs(data_dir, name)
        if inputs is None:
            continue
        signal, fs_hz, peaks, leads, _ = inputs
        reference, _ = reference_intervals(data_dir, name)
        duration_s = len(signal) / fs_hz
        for start_s in np.linspace(5.0, duration_s - 5.0 - WINDOW_S, WINDOWS):
            kept = peaks[
                (peaks >= (start_s + EDGE_S) * fs_hz)
                & (peaks < (start_s + WINDOW_S - EDGE_S) * fs_hz)
            ]
            group = next((g for g, (lo, hi) in GROUPS.items() if lo <= len(kept) <= hi), None)
            if group is None:
                continue
            with mock.patch.object(intervals, "FEW_BEATS", 0):
                ours = intervals.measure_intervals(signal, fs_hz, kept, leads)
            for interval in INTERVALS:
                value, marked = getattr(ours, f"{interval}_ms"), reference[interval]
                if value is None or marked is None or ours.confidence.get(interval) != "high":
                    continue
                found[group][interval].append(value - marked)
    return found


def main(argv: list[str] | None = None) -> int:
    return differences_command(argv, __doc__, differences_ms, "windows")


if __name__ == "__main__":
    raise SystemExit(main())
