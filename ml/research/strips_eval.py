"""Record-level rhythm calls for a directory of labelled short recordings (CinC 2017 style).

    python -m ml.evaluate --data-dir DIR --reference DIR/REFERENCE.csv [--json]

`REFERENCE.csv` holds `record,label` rows with labels N (normal), A (AF), O (other rhythm) and
~ (too noisy). Each record goes through the portal's own reader and `analyze()`; a recording
of 60 s or less is called as a whole (`ml.strip_rhythm`), a longer one counts as AF when any
AF episode was found. Prints, per reference label, how the recordings were called, and AF
Se / +P.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ml.strip_rhythm import AF, FIBRILLATION, LABEL_TEXT, OTHER, SINUS, UNCLASSIFIABLE

REFERENCE_LABELS = {"N": "normal", "A": "AF", "O": "other rhythm", "~": "too noisy"}
REFUSED = "refused"


def reference_labels(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise SystemExit(f"No reference file {path} (a CSV of record name, label).")
    with path.open() as handle:
        return {row[0].strip(): row[1].strip() for row in csv.reader(handle) if len(row) >= 2}


def af_scores(called_af: np.ndarray, is_af: np.ndarray) -> dict[str, float]:
    tp = float(np.sum(called_af & is_af))
    se = tp / max(float(is_af.sum()), 1.0)
    ppv = tp / max(float(called_af.sum()), 1.0)
    return {"se": se, "ppv": ppv, "f1": 2 * se * ppv / max(se + ppv, 1e-9)}


# The 2017 challenge's score: the mean F1 of these three (reference label, call) pairs.
CHALLENGE_PAIRS = {"N": SINUS, "A": AF, "O": OTHER}


def challenge_f1(y: np.ndarray, calls: np.ndarray) -> dict[str, float] | None:
    """F1 of normal called sinus, AF called AF and other rhythm called other, and their mean
    (the PhysioNet/CinC 2017 score); None unless the reference holds all three labels."""
    if not all(np.any(y == label) for label in CHALLENGE_PAIRS):
        return None
    scores = {}
    for label, call in CHALLENGE_PAIRS.items():
        hits = float(np.sum((calls == call) & (y == label)))
        total = float(np.sum(calls == call) + np.sum(y == label))
        scores[REFERENCE_LABELS[label]] = 2 * hits / total
    return {**scores, "mean": float(np.mean(list(scores.values())))}


def summary(y: np.ndarray, calls: np.ndarray) -> dict[str, Any]:
    """AF Se/+P, the share of too-noisy recordings called unclassifiable, the challenge's F1
    scores, and the call table."""
    names = {**LABEL_TEXT, REFUSED: "Refused by the reader"}
    return {
        "n_recordings": int(len(y)),
        "af": af_scores(calls == AF, y == "A"),
        "f1": challenge_f1(y, calls),
        "noisy_called_unclassifiable": float(np.mean(calls[y == "~"] == UNCLASSIFIABLE))
        if np.any(y == "~")
        else None,
        "calls": {
            REFERENCE_LABELS.get(label, label): {
                names[c]: int(np.sum((y == label) & (calls == c)))
                for c in names
                if np.sum((y == label) & (calls == c)) or c not in (REFUSED, FIBRILLATION)
            }
            for label in dict.fromkeys([*REFERENCE_LABELS, *sorted(set(y.tolist()))])
            if np.any(y == label)
        },
    }


def call_of(analysis: Any) -> str:
    """The record-level call: the strip call, or for a longer recording AF if any AF episode,
    else sinus or other by the dominant rhythm."""
    from ml import rhythm

    if analysis.strip is not None:
        return str(analysis.strip.label)
    if any(e.label == rhythm.AF for e in analysis.episodes):
        return AF
    dominant, _ = rhythm.dominant_rhythm(analysis.episodes)
    return SINUS if dominant == rhythm.SINUS else OTHER


def evaluate_reference(data_dir: Path, reference_csv: Path) -> dict[str, Any]:
    from ml.analysis import analyze, default_classifier
    from ml.errors import RecordingError
    from ml.io import read_recording

    labels = reference_labels(reference_csv)
    missing = sorted(n for n in labels if not (data_dir / f"{n}.hea").is_file())
    if len(missing) == len(labels):
        raise SystemExit(
            f"None of the {len(labels)} records {reference_csv.name} lists is in {data_dir}."
        )
    classifier = default_classifier()
    calls, refused = [], {}
    for name in tqdm(sorted(labels), desc="recordings", unit="recording"):
        if name in missing:  # listed but absent: counted as not read, and said
            calls.append(REFUSED)
            refused[name] = f"{name}.hea not found in {data_dir}"
            continue
        try:
            analysis = analyze(
                read_recording(data_dir / f"{name}.hea", uncalibrated_ok=True), classifier
            )
            calls.append(call_of(analysis))
        except RecordingError as error:
            calls.append(REFUSED)
            refused[name] = str(error)
    y = np.array([labels[n] for n in sorted(labels)])
    out = summary(y, np.array(calls))
    out["refused"] = refused
    return out


def print_summary(result: dict[str, Any]) -> None:
    af = result["af"]
    print(
        f"{result['n_recordings']} recordings: AF Se {af['se']:.3f}  +P {af['ppv']:.3f}  "
        f"F1 {af['f1']:.3f}"
    )
    if result.get("f1"):
        print("F1 " + ", ".join(f"{k} {v:.3f}" for k, v in result["f1"].items()))
    if result.get("noisy_called_unclassifiable") is not None:
        print(f"too noisy called unclassifiable: {result['noisy_called_unclassifiable']:.0%}")
    for label, row in result["calls"].items():
        print(f"  {label:>13} called: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    for name, reason in list(result.get("refused", {}).items())[:10]:
        print(f"  refused {name}: {reason}")
