"""What the on-time V rule (`ml.on_time_ventricular`) would take at each tolerance.

    python -m ml.research.on_time_v_table --data-dir ../shared/data [--json]

Each record of MIT-BIH DS1 and svdb and each normal or too-noisy cinc2017 strip goes through
the portal's own reader and `analyze()` with the rule off; each lone V call the read keeps is
judged by how far its two intervals depart from the sinus cycle
(`ml.on_time_ventricular.interval_deviation`, on the read's classes: the rule itself runs a
step earlier, before on-time S calls become N, so a few cycles may differ). V calls of DS1 and
svdb are true when a cardiologist's ventricular beat (V, E) lies within 150 ms. Prints, per
tolerance, the calls within it: true and false V of DS1 + svdb, and on normal and too-noisy
strips, with the strips that would lose every V call. DS2 is not read: the tolerance is chosen
here.

Criterion (pre-registered with this command, before its figures): the widest tolerance of
`TOLERANCES` that turns at most 0.1 % of the true V calls of DS1 + svdb into Q; none
qualifying, the rule stays off.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ml import analysis as analysis_module
from ml.io import read_recording
from ml.on_time_ventricular import TOLERANCES, interval_deviation
from ml.research.call_tables import HOLTER, print_table, records, reference_symbols

VENTRICULAR_SYMBOLS = ("V", "E")
MAX_TRUE_SHARE = 0.001
STRIP_GROUPS = {"N": "normal strips", "~": "too-noisy strips"}


def calls(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(time in s, class) of every beat of the read, the rule off (as shipped)."""
    read = analysis_module.analyze(read_recording(path, uncalibrated_ok=True))
    return read.beats.samples / read.fs_hz, read.beats.classes


def table(data_root: Path, tolerances: tuple[float, ...] = TOLERANCES) -> dict[str, Any]:
    """Per tolerance, the V calls of each kind within it and the strips that would lose every
    V call; the totals judged; and the tolerance the criterion chooses."""
    within: dict[float, Counter[str]] = {t: Counter() for t in tolerances}
    totals: Counter[str] = Counter()
    true_calls = 0
    found = [(g, p) for g, p in records(data_root, STRIP_GROUPS) if p.is_file()]
    for group, path in tqdm(found, desc="records", unit="record", file=sys.stderr):
        beat_s, classes = calls(path)
        deviation = interval_deviation(beat_s, classes)
        judged = ~np.isnan(deviation)  # the lone V calls
        times_s, deviation = beat_s[judged], deviation[judged]
        kinds = np.full(times_s.size, group, dtype=object)
        if group == HOLTER:
            truth = np.isin(reference_symbols(path, times_s), VENTRICULAR_SYMBOLS)
            kinds = np.where(truth, f"true V, {HOLTER}", f"false V, {HOLTER}")
            every_v = reference_symbols(path, beat_s[classes == "V"])
            true_calls += int(np.isin(every_v, VENTRICULAR_SYMBOLS).sum())
        totals.update(kinds.tolist())
        if group != HOLTER and times_s.size:
            totals[f"{group} with lone V calls"] += 1
        for tolerance in tolerances:
            taken = deviation <= tolerance
            within[tolerance].update(kinds[taken].tolist())
            if group != HOLTER and taken.any() and taken.all():
                within[tolerance][f"{group} with lone V calls"] += 1  # all of them go
    allowed = MAX_TRUE_SHARE * true_calls
    true_kind = f"true V, {HOLTER}"
    widest_first = sorted(tolerances, reverse=True)
    chosen = next((t for t in widest_first if within[t][true_kind] <= allowed), None)
    return {
        "judged": dict(totals),
        "true_v_calls_ds1_svdb": true_calls,
        "within_tolerance": {str(k): dict(v) for k, v in within.items()},
        "chosen": chosen,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="holds mitdb/, svdb/, ...")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = table(args.data_dir)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"true V calls of {HOLTER}: {result['true_v_calls_ds1_svdb']}")
    print_table(result["judged"], result["within_tolerance"])
    share, chosen = f"{MAX_TRUE_SHARE:.1%}", result["chosen"]
    print(f"chosen (the widest tolerance taking at most {share} of the true V calls): {chosen}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
