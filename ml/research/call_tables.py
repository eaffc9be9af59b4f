"""What the tables of a call-taking rule share (`unmatched_v_table`, `noise_burst_s_table`):
the records they read, the cardiologists' symbol at each call, and the printed table.

A rule that turns doubtful calls into Q is chosen by how many true calls of MIT-BIH DS1 and
svdb it costs against how many calls it takes from the cinc2017 strips whose reference says
there is nothing to call (normal rhythm, too noisy). DS2 is never read here.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import wfdb

from ml.io import read_recording
from ml.research.databases import DS1
from ml.research.strips_eval import reference_labels

HOLTER = "DS1 + svdb"
MATCH_S = 0.15  # a call and a reference beat this close are the same beat


def records(data_root: Path, strip_groups: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """(group, header) of every record a table reads: HOLTER for MIT-BIH DS1 and svdb, then
    each cinc2017 strip whose reference label is in `strip_groups` (label -> group)."""
    for name in DS1:
        yield HOLTER, data_root / "mitdb" / f"{name}.hea"
    yield from ((HOLTER, p) for p in sorted((data_root / "svdb").glob("*.hea")))
    cinc = data_root / "cinc2017"
    labels = reference_labels(cinc / "REFERENCE.csv") if (cinc / "REFERENCE.csv").is_file() else {}
    for name, label in sorted(labels.items()):
        if label in strip_groups:
            yield strip_groups[label], cinc / f"{name}.hea"


def reference_symbols(path: Path, times_s: np.ndarray) -> np.ndarray:
    """The reference beat symbol at each time (`MATCH_S`), "-" where there is none."""
    annotation = wfdb.rdann(str(path.with_suffix("")), "atr")
    fs_hz = annotation.fs or read_recording(path, uncalibrated_ok=True).fs_hz
    ref_s = np.asarray(annotation.sample) / fs_hz
    symbols = np.asarray(annotation.symbol)
    if times_s.size == 0 or ref_s.size == 0:
        return np.full(times_s.size, "-")
    nearest = np.clip(np.searchsorted(ref_s, times_s), 1, ref_s.size - 1)
    earlier = np.abs(ref_s[nearest - 1] - times_s) < np.abs(ref_s[nearest] - times_s)
    nearest = np.where(earlier, nearest - 1, nearest)
    close = np.abs(ref_s[nearest] - times_s) < MATCH_S
    return np.where(close, symbols[nearest], "-")


def print_table(judged: dict[str, int], by_limit: dict[str, dict[str, int]]) -> None:
    """One column per kind of call (with how many were judged), one row per limit."""
    kinds = sorted(judged)
    print("limit  " + "  ".join(f"{k} (of {judged[k]})" for k in kinds))
    for limit, row in by_limit.items():
        print(f"{limit:<6} " + "  ".join(f"{row.get(k, 0):>{len(k) + 8}}" for k in kinds))


def main(
    argv: list[str] | None,
    doc: str,
    table: Callable[[Path], dict[str, Any]],
    counts_key: str,
    chosen_text: str | None = None,
) -> int:
    """A table command: `--data-dir` (and `--json`), then `table`'s counts per limit
    (`counts_key`) printed, and the criterion's choice after `chosen_text` when given."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="holds mitdb/, svdb/, ...")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = table(args.data_dir)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print_table(result["judged"], result[counts_key])
    if chosen_text is not None:
        print(f"{chosen_text}: {result['chosen']}")
    return 0
