"""Which episodes of the read would not survive a look at the cardiologists' annotations.

    python -m ml.research.episode_audit --data-dir ../shared/data/mitdb --records DS1

Per record of a WFDB folder with `atr` annotations, the read's episodes against the reference
beats and rhythm marks:
- a pause or dropped beat with a reference beat inside it (a missed beat, not a pause);
- a VT or SVT run whose reference beats are mostly not ventricular / supraventricular;
- AF where the reference rhythm is neither AFIB nor AFL (records with rhythm marks only);
- two background rhythms at the same time (more than `OVERLAP_S`).
The audit that led to the rhythm rules of 2026-12-04 (README, "AF inside bigeminy or
trigeminy" and the rhythm row). It chooses nothing; on DS2 it only reports.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import wfdb
from tqdm import tqdm

from ml import rhythm
from ml.research.databases import AAMI_CLASS_OF_SYMBOL
from ml.research.evaluate import evaluate_record, record_names

EDGE_S = 0.15  # a reference beat this close to a pause's ends is one of its two beats
RUN_MARGIN_S = 0.1
OVERLAP_S = 1.0
AF_NOTES = ("(AFIB", "(AFL")
BACKGROUND = (*rhythm.BACKGROUND, rhythm.VF)


@dataclass(frozen=True)
class Reference:
    """The cardiologists' beats (seconds, AAMI class) and rhythm marks (seconds, note)."""

    beat_s: np.ndarray
    classes: np.ndarray
    rhythm_marks: list[tuple[float, str]]
    duration_s: float

    def af_spans_s(self) -> list[tuple[float, float]]:
        ends = [t for t, _ in self.rhythm_marks[1:]] + [self.duration_s]
        return [
            (t, end)
            for (t, note), end in zip(self.rhythm_marks, ends, strict=True)
            if note in AF_NOTES
        ]


def problems(episodes: list[rhythm.Episode], reference: Reference) -> list[str]:
    """One line per episode of a read the reference contradicts (module docstring)."""
    out = []
    ref_s, ref_classes = reference.beat_s, reference.classes
    for e in episodes:
        where = f"{e.label} at {e.start_s:.1f} s ({e.duration_s:.1f} s)"
        if e.label in (rhythm.PAUSE, rhythm.DROPPED):
            inside = (ref_s > e.start_s + EDGE_S) & (ref_s < e.end_s - EDGE_S)
            if inside.any():
                out.append(f"{where}: {int(inside.sum())} reference beat(s) inside")
        elif e.label in (rhythm.VT, rhythm.SVT):
            wanted = "V" if e.label == rhythm.VT else "S"
            inside = (ref_s >= e.start_s - RUN_MARGIN_S) & (ref_s <= e.end_s + RUN_MARGIN_S)
            share = float(np.mean(ref_classes[inside] == wanted)) if inside.any() else 0.0
            if share < 0.5:
                found = "".join(ref_classes[inside][:12])
                out.append(f"{where}: reference {wanted} share {share:.2f} ({found})")
    if reference.rhythm_marks:
        af = reference.af_spans_s()
        for e in (e for e in episodes if e.label == rhythm.AF):
            outside_s = e.duration_s - rhythm.overlap_s(e.start_s, e.end_s, af)
            if outside_s > OVERLAP_S:
                where = f"{e.label} at {e.start_s:.1f} s ({e.duration_s:.1f} s)"
                out.append(f"{where}: {outside_s:.0f} s outside the reference's AF")
    background = [e for e in episodes if e.label in BACKGROUND]
    for i, first in enumerate(background):
        for second in background[i + 1 :]:
            both_s = rhythm.overlap_s(first.start_s, first.end_s, [(second.start_s, second.end_s)])
            if first.label != second.label and both_s > OVERLAP_S:
                out.append(
                    f"{first.label} at {first.start_s:.1f} s and {second.label} at "
                    f"{second.start_s:.1f} s at the same time for {both_s:.1f} s"
                )
    return out


def reference_of(data_dir: Path, name: str, duration_s: float) -> Reference:
    annotation = wfdb.rdann(str(data_dir / name), "atr")
    fs_hz = float(annotation.fs or wfdb.rdheader(str(data_dir / name)).fs)
    times_s = np.asarray(annotation.sample) / fs_hz
    symbols = np.asarray(annotation.symbol)
    is_beat = np.isin(symbols, list(AAMI_CLASS_OF_SYMBOL))
    marks = [
        (float(t), (note or "").strip("\x00").strip())
        for t, note, symbol in zip(times_s, annotation.aux_note, symbols, strict=True)
        if symbol == "+"
    ]
    classes = np.array([AAMI_CLASS_OF_SYMBOL[s] for s in symbols[is_beat]], dtype="<U1")
    return Reference(times_s[is_beat], classes, marks, duration_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--records", default="all", help="comma-separated names, all, DS1, DS2")
    args = parser.parse_args(argv)
    names = record_names(args.data_dir, args.records)
    found = 0
    for name in tqdm(names, desc="records", unit="record"):
        result = evaluate_record(args.data_dir, name, keep_analysis=True)
        analysis = result.analysis
        assert analysis is not None
        reference = reference_of(args.data_dir, name, analysis.duration_s)
        for line in problems(analysis.episodes, reference):
            found += 1
            tqdm.write(f"{name}  {line}")
    print(f"{found} episode(s) the reference contradicts in {len(names)} record(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
