"""What the unmatched-V rule (`ml.unmatched_ventricular`) would take at each limit.

    python -m ml.research.unmatched_v_table --data-dir ../shared/data [--json]

Each record of MIT-BIH DS1 and svdb (V calls matched to the cardiologists' beats within
150 ms) and of cinc2017 (by the strip's reference label) goes through the portal's own
reader and `analyze()` with the rule off; every V call the other rules leave, in signal noisy
in every lead, is then judged by its best match with the other V calls exactly as the rule
judges it. Prints, per limit, the true and false V calls of DS1 + svdb and the V calls on
normal and too-noisy strips that would become Q. DS2 is not read: the limit is chosen here.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from tqdm import tqdm

from ml import analysis as analysis_module
from ml.io import read_recording
from ml.research import call_tables
from ml.research.call_tables import HOLTER, records, reference_symbols

LIMITS = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97)
VENTRICULAR_SYMBOLS = ("V", "E")
STRIP_GROUPS = {"N": "normal strips", "~": "too-noisy strips"}


def judged_calls(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(time in s, best match) of each V call the rule judges that the other rules leave V:
    the rule's own figures (`ml.analysis.ventricular_matches`), captured with the rule off."""
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    rule = analysis_module.ventricular_matches

    def capture(classes: np.ndarray, beat_s: np.ndarray, *rest: Any) -> None:
        matches = rule(classes, beat_s, *rest)
        if matches is not None:
            judged = ~np.isnan(matches)
            seen.append((beat_s[judged], matches[judged]))
        return None  # no matches: the rule takes nothing back

    with mock.patch.object(analysis_module, "ventricular_matches", capture):
        read = analysis_module.analyze(read_recording(path, uncalibrated_ok=True))
    if not seen:
        return np.zeros(0), np.zeros(0)
    times_s, matches = seen[0]
    beat_s = read.beats.samples / read.fs_hz
    still_v = np.isin(times_s, beat_s[read.beats.classes == "V"])
    return times_s[still_v], matches[still_v]


def table(data_root: Path, limits: tuple[float, ...] = LIMITS) -> dict[str, Any]:
    """Per limit, how many judged V calls of each kind fall under it."""
    counts: dict[float, Counter[str]] = {limit: Counter() for limit in limits}
    totals: Counter[str] = Counter()
    found = [(g, p) for g, p in records(data_root, STRIP_GROUPS) if p.is_file()]
    for group, path in tqdm(found, desc="records", unit="record", file=sys.stderr):
        times_s, matches = judged_calls(path)
        kinds = np.full(times_s.size, group, dtype=object)
        if group == HOLTER:
            truth = np.isin(reference_symbols(path, times_s), VENTRICULAR_SYMBOLS)
            kinds = np.where(truth, "true V, DS1 + svdb", "false V, DS1 + svdb")
        for kind in kinds:
            totals[kind] += 1
        for limit in limits:
            for kind in kinds[matches < limit]:
                counts[limit][kind] += 1
    return {"judged": dict(totals), "under_limit": {str(k): dict(v) for k, v in counts.items()}}


def main(argv: list[str] | None = None) -> int:
    return call_tables.main(argv, __doc__ or "", table, "under_limit")


if __name__ == "__main__":
    raise SystemExit(main())
