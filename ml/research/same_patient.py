"""Records of one folder that are likely the same patient: their median beats match.

    python -m ml.research.same_patient --data-dir ../shared/data/svdb

Cross-validation "grouped by patient" holds out whole patients only if it knows which records
share one. A database may hold two recordings of a patient under different names (MIT-BIH 201
and 202 are documented as one man). Here each record's median normal beat (reference `N`
beats, every lead, 0.5-40 Hz, 200 ms before to 350 ms after the R peak, at 128 Hz so
databases compare) is correlated with every other record's, at the best shift within 40 ms
(annotators place a beat's mark at different points of the QRS: svdb 827 and 873 are one
shape 3 samples apart); two records whose every lead together correlates at
`SAME_PATIENT_CORRELATION` or more are reported as likely one patient.
A beat's shape is as personal as anything an ECG holds (QRS axis, bundle-branch pattern, T
wave), but this is evidence, not proof: the pairs it finds should be read, not trusted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ml.filters import bandpass_mv
from ml.research.databases import annotated_records, load_record

COMMON_FS_HZ = 128.0
WINDOW_S = (0.20, 0.35)  # before, after the R peak
SAME_PATIENT_CORRELATION = 0.97
MIN_BEATS = 20
MAX_SHIFT_S = 0.04


def median_beat(data_dir: Path | str, name: str) -> np.ndarray | None:
    """The record's median normal beat [leads, window] at `COMMON_FS_HZ`; None when it has
    fewer than `MIN_BEATS` normal beats away from its ends."""
    record = load_record(data_dir, name)
    leads_mv = bandpass_mv(record.leads_mv, record.fs_hz, (0.5, 40.0))
    offsets_s = np.arange(-WINDOW_S[0], WINDOW_S[1], 1 / COMMON_FS_HZ)
    peaks = record.beat_samples[record.beat_classes == "N"]
    positions = peaks[:, None] + np.round(offsets_s * record.fs_hz).astype(int)[None, :]
    inside = (positions[:, 0] >= 0) & (positions[:, -1] < len(leads_mv))
    if inside.sum() < MIN_BEATS:
        return None
    beats = leads_mv[positions[inside]]  # [beats, window, leads]
    return np.median(beats, axis=0).T  # [leads, window]


def similarity(beats: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Names and their pairwise correlation at the best shift (diagonal -1), among records
    with as many leads."""
    names = list(beats)
    shapes = np.array([beats[n] for n in names])  # [records, leads, window]
    max_shift = int(round(MAX_SHIFT_S * COMMON_FS_HZ))
    width = shapes.shape[2] - 2 * max_shift
    correlation = np.full((len(names), len(names)), -1.0)
    centre = _unit(shapes[:, :, max_shift : max_shift + width])
    for shift in range(2 * max_shift + 1):
        shifted = _unit(shapes[:, :, shift : shift + width])
        correlation = np.maximum(correlation, centre @ shifted.T)
    correlation = np.maximum(correlation, correlation.T)
    np.fill_diagonal(correlation, -1.0)
    return names, correlation


def _unit(shapes: np.ndarray) -> np.ndarray:
    """[records, leads, window] as one zero-mean unit vector per record."""
    flat = shapes.reshape(len(shapes), -1)
    centred = flat - flat.mean(axis=1, keepdims=True)
    return centred / np.linalg.norm(centred, axis=1, keepdims=True)


def likely_same_patient(
    names: list[str], correlation: np.ndarray, at_least: float = SAME_PATIENT_CORRELATION
) -> list[tuple[str, str, float]]:
    """Pairs correlating at `at_least` or more, most alike first."""
    pairs = [
        (names[i], names[j], float(correlation[i, j]))
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if correlation[i, j] >= at_least
    ]
    return sorted(pairs, key=lambda pair: -pair[2])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--at-least", type=float, default=SAME_PATIENT_CORRELATION)
    args = parser.parse_args(argv)
    beats: dict[str, np.ndarray] = {}
    for name in tqdm(annotated_records(args.data_dir), desc="median beats", unit="record"):
        beat = median_beat(args.data_dir, name)
        if beat is not None:
            beats[name] = beat
    by_leads: dict[int, dict[str, np.ndarray]] = {}  # records compare with as many leads
    for name, beat in beats.items():
        by_leads.setdefault(beat.shape[0], {})[name] = beat
    for group in by_leads.values():
        if len(group) < 2:
            continue
        names, correlation = similarity(group)
        for name, row in zip(names, correlation, strict=True):
            j = int(np.argmax(row))
            print(f"{name}: most alike {names[j]} (r = {row[j]:.3f})")
        pairs = likely_same_patient(names, correlation, args.at_least)
        print(f"\nLikely the same patient (r >= {args.at_least}):")
        for first, second, r in pairs:
            print(f"  {first} and {second}: r = {r:.3f}")
        if not pairs:
            print("  none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
