"""What the noise-burst rule would take among S calls, at each limit.

    python -m ml.research.noise_burst_s_table --data-dir ../shared/data [--json]

Noise-burst round 2 (`ml.noise_bursts.MAX_S_NOISE_OVER_QRS`). Each record of MIT-BIH DS1 and
svdb and each normal or too-noisy cinc2017 strip goes through the portal's own reader and
`analyze()` with the rule measuring S calls but taking none; each S call the read keeps is
then judged by its noise over the recording's median QRS size (`ml.noise_bursts.noise_mv`,
exactly what the rule reads). S calls of DS1 and svdb are true when a cardiologist's S beat
(AAMI: A, a, J, S) lies within 150 ms. Prints, per limit, the S calls above it: true and false
of DS1 + svdb, and on normal and too-noisy strips, with the strips whose supraventricular
tachycardia or every S call would go. DS2 is not read: the limit is chosen here.

Criterion (pre-registered with this command, before its figures): the lowest limit of
`LIMITS` that turns at most 0.1 % of the true S calls of DS1 + svdb into Q; none qualifying,
the rule stays off.
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
from ml import noise_bursts, rhythm
from ml.io import read_recording
from ml.research import call_tables
from ml.research.call_tables import HOLTER, records, reference_symbols

LIMITS = (0.4, 0.5, 0.6, 0.8)
SUPRAVENTRICULAR_SYMBOLS = ("A", "a", "J", "S")
MAX_TRUE_SHARE = 0.001
STRIP_GROUPS = {"N": "normal strips", "~": "too-noisy strips"}
NEVER = 1e9  # a limit no noise reaches: S calls are measured, none is taken


def judged_calls(path: Path) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """(time in s, noise over the median QRS size) of each S call the read keeps, and the
    supraventricular tachycardia runs the read reports (first, last beat time)."""
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    real = analysis_module.shape_doubts

    def capture(classes: np.ndarray, surroundings: Any) -> Any:
        if surroundings is not None:
            _, qrs_mv, noise = surroundings
            median_qrs = float(np.nanmedian(qrs_mv)) if np.isfinite(qrs_mv).any() else np.nan
            seen.append((classes.copy(), np.nan_to_num(noise, nan=0.0) / median_qrs))
        return real(classes, surroundings)

    with (
        mock.patch.object(noise_bursts, "MAX_S_NOISE_OVER_QRS", NEVER),
        mock.patch.object(analysis_module, "shape_doubts", capture),
    ):
        read = analysis_module.analyze(read_recording(path, uncalibrated_ok=True))
    beat_s = read.beats.samples / read.fs_hz
    svt = [(e.start_s, e.end_s) for e in read.episodes if e.label == rhythm.SVT]
    if not seen:
        return np.zeros(0), np.zeros(0), svt
    classes, ratio = seen[0]
    kept = (classes == "S") & (read.beats.classes == "S")
    return beat_s[kept], ratio[kept], svt


def table(data_root: Path, limits: tuple[float, ...] = LIMITS) -> dict[str, Any]:
    """Per limit, the S calls of each kind above it and the strips that would lose their SVT
    or every S call; the totals judged; and the limit the criterion chooses."""
    above: dict[float, Counter[str]] = {limit: Counter() for limit in limits}
    totals: Counter[str] = Counter()
    found = [(g, p) for g, p in records(data_root, STRIP_GROUPS) if p.is_file()]
    for group, path in tqdm(found, desc="records", unit="record", file=sys.stderr):
        times_s, ratio, svt = judged_calls(path)
        kinds = np.full(times_s.size, group, dtype=object)
        if group == HOLTER:
            truth = np.isin(reference_symbols(path, times_s), SUPRAVENTRICULAR_SYMBOLS)
            kinds = np.where(truth, f"true S, {HOLTER}", f"false S, {HOLTER}")
        totals.update(kinds.tolist())
        if group != HOLTER and times_s.size:
            totals[f"{group} with S calls"] += 1
            totals[f"{group} with SVT"] += int(bool(svt))
        for limit in limits:
            taken = ratio > limit
            above[limit].update(kinds[taken].tolist())
            if group != HOLTER and taken.any():
                if taken.all():
                    above[limit][f"{group} with S calls"] += 1  # all of them go
                broken = rhythm.within(times_s[taken], svt).any()  # 3 beats less one: no run
                above[limit][f"{group} with SVT"] += int(bool(svt) and broken)
    true_kind = f"true S, {HOLTER}"
    allowed = MAX_TRUE_SHARE * totals[true_kind]
    chosen = next((limit for limit in limits if above[limit][true_kind] <= allowed), None)
    return {
        "judged": dict(totals),
        "above_limit": {str(k): dict(v) for k, v in above.items()},
        "chosen": chosen,
    }


def main(argv: list[str] | None = None) -> int:
    share = f"{MAX_TRUE_SHARE:.1%}"
    chosen = f"chosen (the lowest limit taking at most {share} of the true S calls)"
    return call_tables.main(argv, __doc__ or "", table, "above_limit", chosen)


if __name__ == "__main__":
    raise SystemExit(main())
