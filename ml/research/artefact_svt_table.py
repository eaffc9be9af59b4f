"""What the artefact-run rule would set aside among runs of S calls, at each limit.

    python -m ml.research.artefact_svt_table --data-dir ../shared/data [--json]

SVT round 1 (`ml.artefact_runs.MAX_SVT_RUN_MISMATCH`). Each record of MIT-BIH DS1 and svdb and
each cinc2017 strip goes through the portal's own reader and `analyze()` with the rule off;
every run of S calls the rule judges (>= 3 S calls above 100 bpm overlapping signal that is
not good) is kept with its mismatch (`ml.artefact_runs.run_mismatch`) when the read reports
supraventricular tachycardia over it. A run of DS1 or svdb is true when every one of its beats
is a cardiologist's S beat (AAMI: A, a, J, S) within 150 ms. Prints, per limit, the runs above
it: true and false SVT runs of DS1 + svdb, and the strips' SVT runs by reference label; and
how many true SVT runs the reads of DS1 + svdb report in all (noisy or not), which the
pre-registered criterion counts against. DS2 is not read: the limit is chosen here.

Criterion (pre-registered with this command, before its figures): the lowest limit of `LIMITS`
that sets aside at most 1 % of the true SVT runs the reads of DS1 + svdb report; none
qualifying, the rule stays off.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from tqdm import tqdm

from ml import analysis as analysis_module
from ml import artefact_runs as runs_module
from ml import rhythm
from ml.io import read_recording
from ml.research.databases import DS1
from ml.research.strips_eval import reference_labels
from ml.research.unmatched_v_table import reference_symbols

LIMITS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
SUPRAVENTRICULAR_SYMBOLS = ("A", "a", "J", "S")
MAX_TRUE_SHARE = 0.01
STRIP_GROUPS = {"N": "normal strips", "A": "AF strips", "O": "other-rhythm strips"}
STRIP_GROUPS["~"] = "too-noisy strips"
HOLTER = "DS1 + svdb"


def judged_runs(path: Path) -> tuple[list[tuple[np.ndarray, float | None]], list[np.ndarray]]:
    """The runs of S calls the rule judges that the read reports as SVT, each as (beat times
    in s, mismatch); and the beat times of every SVT run the read reports."""
    seen: list[tuple[np.ndarray, float | None]] = []
    real = analysis_module.artefact_runs

    def capture(band_mv: np.ndarray, fs_hz: float, peaks: np.ndarray, *rest: Any, **kw: Any):  # type: ignore[no-untyped-def]
        if kw.get("beat_class") == "S":
            classes, quality = rest[0], rest[1]
            for first, stop, mismatch in runs_module.noisy_runs(
                band_mv, fs_hz, peaks, classes, quality, beat_class="S"
            ):
                seen.append((peaks[first:stop] / fs_hz, mismatch))
        return real(band_mv, fs_hz, peaks, *rest, **kw)

    with mock.patch.object(analysis_module, "artefact_runs", capture):
        read = analysis_module.analyze(read_recording(path, uncalibrated_ok=True))
    beat_s = read.beats.samples / read.fs_hz
    reported = [
        beat_s[(beat_s >= e.start_s - 1e-6) & (beat_s <= e.end_s + 1e-6)]
        for e in read.episodes
        if e.label == rhythm.SVT
    ]
    judged = [
        (times_s, mismatch)
        for times_s, mismatch in seen
        if any(r.size and r[0] <= times_s[-1] and r[-1] >= times_s[0] for r in reported)
    ]
    return judged, reported


def records(data_root: Path) -> Iterator[tuple[str, Path]]:
    """(group, header) of every record read: HOLTER or a strip's reference label."""
    for name in DS1:
        yield HOLTER, data_root / "mitdb" / f"{name}.hea"
    yield from ((HOLTER, p) for p in sorted((data_root / "svdb").glob("*.hea")))
    cinc = data_root / "cinc2017"
    labels = reference_labels(cinc / "REFERENCE.csv") if (cinc / "REFERENCE.csv").is_file() else {}
    for name, label in sorted(labels.items()):
        if label in STRIP_GROUPS:
            yield STRIP_GROUPS[label], cinc / f"{name}.hea"


def _is_true(path: Path, times_s: np.ndarray) -> bool:
    return bool(np.isin(reference_symbols(path, times_s), SUPRAVENTRICULAR_SYMBOLS).all())


def table(data_root: Path, limits: tuple[float, ...] = LIMITS) -> dict[str, Any]:
    """Per limit, how many judged SVT runs of each kind are above it; the totals judged; the
    true SVT runs DS1 + svdb report in all; and the limit the criterion chooses."""
    above: dict[float, Counter[str]] = {limit: Counter() for limit in limits}
    judged_totals: Counter[str] = Counter()
    true_reported = 0
    found = [(g, p) for g, p in records(data_root) if p.is_file()]
    for group, path in tqdm(found, desc="records", unit="record", file=sys.stderr):
        judged, reported = judged_runs(path)
        if group == HOLTER:
            true_reported += sum(_is_true(path, r) for r in reported if r.size)
        for times_s, mismatch in judged:
            kind = group
            if group == HOLTER:
                kind = f"{'true' if _is_true(path, times_s) else 'false'} SVT runs, {HOLTER}"
            judged_totals[kind] += 1
            for limit in limits:
                if mismatch is not None and mismatch > limit:
                    above[limit][kind] += 1
    true_kind = f"true SVT runs, {HOLTER}"
    allowed = MAX_TRUE_SHARE * true_reported
    chosen = next((limit for limit in limits if above[limit][true_kind] <= allowed), None)
    return {
        "judged": dict(judged_totals),
        "true_svt_runs_reported_ds1_svdb": true_reported,
        "above_limit": {str(k): dict(v) for k, v in above.items()},
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
    kinds = sorted(result["judged"])
    true_reported = result["true_svt_runs_reported_ds1_svdb"]
    print(f"true SVT runs the reads of {HOLTER} report: {true_reported}")
    print("limit  " + "  ".join(f"{k} (of {result['judged'][k]})" for k in kinds))
    for limit, row in result["above_limit"].items():
        print(f"{limit:<6} " + "  ".join(f"{row.get(k, 0):>{len(k) + 8}}" for k in kinds))
    share = f"{MAX_TRUE_SHARE:.0%}"
    print(f"chosen (the lowest limit setting aside at most {share} of them): {result['chosen']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
