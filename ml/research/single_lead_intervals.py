"""How far one lead alone reads PR, QRS and QT from cardiologists, against two leads.

    python -m ml.research.single_lead_intervals --data-dir ../shared/data/qtdb

On each 2-lead record of a QT Database style folder, `measure_intervals` gets the inputs
`analyze()` gives it (`intervals_eval.captured_inputs`), once with both leads and once with
each lead alone, against the `q1c` reference. It is why a boundary read in one lead only, a
single-lead recording's included, is of low confidence (`ml.intervals._global`): "high"
confidence is earned by a second lead that agrees, and the two-lead reads that earn it are
far closer to the cardiologists than a lead alone (whose every read was "high" before).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tqdm import tqdm

from ml.intervals import measure_intervals
from ml.research.intervals_eval import (
    captured_inputs,
    differences_command,
    reference_intervals,
)

INTERVALS = ("pr", "qrs", "qt")
BOTH_HIGH = "both leads, high conf."
COLUMNS = {BOTH_HIGH: [0, 1], "both leads, any": [0, 1], "first lead alone": [0]}
COLUMNS["second lead alone"] = [1]


def differences_ms(data_dir: Path, names: list[str]) -> dict[str, dict[str, list[float]]]:
    """Per read and interval: ours minus the reference (ms). The first read keeps the
    high-confidence values only, the others every value (alone, a lead's P onset and T end
    are low confidence by the rule this measures)."""
    found: dict[str, dict[str, list[float]]] = {r: {i: [] for i in INTERVALS} for r in COLUMNS}
    for name in tqdm(names, desc="records", file=sys.stderr):
        inputs = captured_inputs(data_dir, name)
        if inputs is None or inputs[0].shape[1] < 2:
            continue
        signal, fs_hz, peaks, leads, rr_s = inputs
        reference, _ = reference_intervals(data_dir, name)
        for read, kept in COLUMNS.items():
            ours = measure_intervals(
                signal[:, kept], fs_hz, peaks, tuple(leads[k] for k in kept), rr_s
            )
            for interval in INTERVALS:
                value, marked = getattr(ours, f"{interval}_ms"), reference[interval]
                if value is None or marked is None:
                    continue
                if read == BOTH_HIGH and ours.confidence.get(interval) != "high":
                    continue
                found[read][interval].append(value - marked)
    return found


def main(argv: list[str] | None = None) -> int:
    return differences_command(argv, __doc__, differences_ms, "records")


if __name__ == "__main__":
    raise SystemExit(main())
