"""Evaluate the whole analysis against reference annotations (AAMI EC57 style).

    python -m ml.evaluate --data-dir DIR [--records R1,R2,...|all|DS1|DS2] [--json]

Works on any directory of WFDB records that have `atr` annotations (MIT-BIH, svdb, nstdb,
qtdb, ...), at any sampling rate. Each record goes through exactly what the portal runs
(`ml.analysis.analyze`: detected R peaks, not reference ones), then beats are matched to the
reference within 150 ms. Ventricular flutter/fibrillation episodes (between `[` and `]`) are
left out of beat scoring, as the AAMI standard does. Rhythm is scored by duration against the
`+` rhythm annotations; a database without them (svdb) is told so, rhythm by rhythm.

    python -m ml.evaluate --cv-out-of-fold   # the grouped-CV figures per database, end to end
    python -m ml.evaluate --data-dir DIR --reference DIR/REFERENCE.csv   # short-strip calls
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import wfdb
from tqdm import tqdm

from ml import rhythm
from ml.analysis import EcgAnalysis, analyze, default_classifier
from ml.classifier import BeatClassifier, read_card
from ml.io import read_recording
from ml.research.aami import CLASSES, BeatScore, score_beats, score_rpeaks
from ml.research.databases import (
    AAMI_CLASS_OF_SYMBOL,
    DS1,
    DS2,
    annotated_records,
    default_data_dir,
)
from ml.research.intervals_eval import run as run_intervals

# Reference rhythm (MIT-BIH aux notes) -> the label our rhythm analysis gives it.
RHYTHM_LABELS = {
    "AF": ({"(AFIB", "(AFL"}, rhythm.AF),
    "AFIB": ({"(AFIB"}, rhythm.AF),
    "VF": ({"(VFL", "(VF"}, rhythm.VF),
    "VT": ({"(VT"}, rhythm.VT),
    "SVT": ({"(SVTA"}, rhythm.SVT),
    "IVR": ({"(IVR"}, rhythm.IVR),
    "bigeminy": ({"(B"}, rhythm.BIGEMINY),
    "trigeminy": ({"(T"}, rhythm.TRIGEMINY),
    "sinus_bradycardia": ({"(SBR"}, rhythm.BRADY),
}


@dataclass
class RecordResult:
    name: str
    beats: BeatScore
    rpeaks: dict[str, Any]
    # label -> (reference seconds, detected seconds, overlap seconds)
    rhythm: dict[str, tuple[float, float, float]]
    seconds: float
    fs_hz: float
    analysis_lead: str
    has_rhythm_annotations: bool
    analysis: EcgAnalysis | None = None  # kept only when asked (it holds every beat)


def record_names(data_dir: Path, selection: str | None) -> list[str]:
    available = annotated_records(data_dir)
    if not available:
        raise SystemExit(f"No WFDB records with .atr annotations in {data_dir}.")
    if selection is None:
        chosen = [r for r in DS2 if r in available] or available
    elif selection.lower() == "all":
        chosen = available
    elif selection.upper() in {"DS1", "DS2"}:
        chosen = [r for r in (DS1 if selection.upper() == "DS1" else DS2) if r in available]
    else:
        chosen = [r.strip() for r in selection.split(",") if r.strip()]
        missing = [r for r in chosen if r not in available]
        if missing:
            raise SystemExit(f"Records not found (with .atr) in {data_dir}: {', '.join(missing)}")
    return chosen


def _intervals(starts: list[float], stops: list[float]) -> np.ndarray:
    return np.array(list(zip(starts, stops, strict=True)), dtype=float).reshape(-1, 2)


def _overlap_s(a: np.ndarray, b: np.ndarray) -> float:
    total = 0.0
    for start, stop in a:
        total += (
            float(np.clip(np.minimum(stop, b[:, 1]) - np.maximum(start, b[:, 0]), 0, None).sum())
            if len(b)
            else 0.0
        )
    return total


def evaluate_record(
    data_dir: Path,
    name: str,
    classifier: BeatClassifier | None = None,
    keep_analysis: bool = False,
) -> RecordResult:
    """One record through `analyze()` (with `classifier`, else the shipped one), scored."""
    started = time.perf_counter()
    header = wfdb.rdheader(str(data_dir / name))
    files = [data_dir / f"{name}.hea", *{data_dir / f for f in header.file_name}]
    recording = read_recording(files, uncalibrated_ok=True)
    analysis = analyze(recording, classifier)
    fs = recording.fs_hz
    annotation = wfdb.rdann(str(data_dir / name), "atr")
    samples, symbols = np.asarray(annotation.sample), np.asarray(annotation.symbol)

    # Ventricular flutter/fibrillation episodes are left out (AAMI EC57).
    flutter = _intervals(
        [s for s, y in zip(samples, symbols, strict=True) if y == "["],
        [s for s, y in zip(samples, symbols, strict=True) if y == "]"],
    )

    def outside(points: np.ndarray) -> np.ndarray:
        keep = np.ones(len(points), dtype=bool)
        for start, stop in flutter:
            keep &= ~((points >= start) & (points <= stop))
        return keep

    is_beat = np.array([y in AAMI_CLASS_OF_SYMBOL for y in symbols], dtype=bool)
    ref_samples = samples[is_beat]
    ref_classes = np.array([AAMI_CLASS_OF_SYMBOL[y] for y in symbols[is_beat]])
    keep_ref = outside(ref_samples)
    det_samples, det_classes = analysis.beats.samples, analysis.beats.classes
    keep_det = outside(det_samples)
    beats = score_beats(
        ref_samples[keep_ref],
        ref_classes[keep_ref],
        det_samples[keep_det],
        det_classes[keep_det],
        fs,
    )
    rpeaks = score_rpeaks(ref_samples[keep_ref], det_samples[keep_det], fs)

    rhythm_marks = [
        (s / fs, (n or "").strip("\x00").strip())
        for s, n, y in zip(samples, annotation.aux_note, symbols, strict=True)
        if y == "+"
    ]
    ends = [t for t, _ in rhythm_marks[1:]] + [recording.duration_s] if rhythm_marks else []
    scores = {}
    for key, (reference_notes, label) in RHYTHM_LABELS.items():
        reference = _intervals(
            [t for t, n in rhythm_marks if n in reference_notes],
            [e for (t, n), e in zip(rhythm_marks, ends, strict=True) if n in reference_notes],
        )
        detected = _intervals(
            [e.start_s for e in analysis.episodes if e.label == label],
            [e.end_s for e in analysis.episodes if e.label == label],
        )
        scores[key] = (
            float(np.sum(np.diff(reference))) if len(reference) else 0.0,
            float(np.sum(np.diff(detected))) if len(detected) else 0.0,
            _overlap_s(reference, detected),
        )
    return RecordResult(
        name,
        beats,
        rpeaks,
        scores,
        time.perf_counter() - started,
        fs,
        analysis.analysis_lead,
        bool(rhythm_marks),
        analysis if keep_analysis else None,
    )


def summarise(results: list[RecordResult], model_name: str | None = None) -> dict[str, Any]:
    beats = sum((r.beats for r in results), BeatScore())
    tp = sum(r.rpeaks["tp"] for r in results)
    fn = sum(r.rpeaks["fn"] for r in results)
    fp = sum(r.rpeaks["fp"] for r in results)
    rhythm_scores = {}
    without_rhythm = [r.name for r in results if not r.has_rhythm_annotations]
    for key in RHYTHM_LABELS:
        # Scored on the records that contain the rhythm (as the AF target asks).
        with_it = [r.rhythm[key] for r in results if r.rhythm[key][0] > 0]
        reference = sum(x[0] for x in with_it)
        detected = sum(x[1] for x in with_it)
        overlap = sum(x[2] for x in with_it)
        # ... and false alarms on the records that do not contain it, reported apart.
        elsewhere = [r for r in results if r.rhythm[key][0] == 0 and r.rhythm[key][1] > 0]
        rhythm_scores[key] = {
            "se": overlap / reference if reference else None,
            "ppv": overlap / detected if detected else None,
            "reference_s": round(reference, 1),
            "records": [r.name for r in results if r.rhythm[key][0] > 0],
            "detected_elsewhere_s": round(sum(r.rhythm[key][1] for r in elsewhere), 1),
            "detected_elsewhere_records": [r.name for r in elsewhere],
        }
    annotated = len(results) - len(without_rhythm)
    return {
        "records": [r.name for r in results],
        "accuracy": beats.accuracy,
        "beats": beats.per_class(),
        "confusion": {
            "classes": list(CLASSES),
            "rows_reference_cols_predicted": beats.confusion.tolist(),
            "missed_reference": beats.missed.tolist(),
            "extra_detections": beats.extra.tolist(),
        },
        "rpeaks": {
            "se": tp / (tp + fn) if tp + fn else None,
            "ppv": tp / (tp + fp) if tp + fp else None,
            "tp": tp,
            "fn": fn,
            "fp": fp,
        },
        "rhythm": rhythm_scores,
        "rhythm_labels_absent": [k for k, v in rhythm_scores.items() if not v["reference_s"]],
        "records_without_rhythm_annotations": without_rhythm,
        "rhythm_annotated_records": annotated,
        "per_record": {
            r.name: {
                "accuracy": r.beats.accuracy,
                "rpeaks": r.rpeaks,
                "fs_hz": r.fs_hz,
                "analysis_lead": r.analysis_lead,
                "seconds": round(r.seconds, 2),
            }
            for r in results
        },
        "model": model_name or default_classifier().model_info().get("version"),
        "notes": "R peaks detected by the analysis (not reference positions); ventricular "
        "flutter episodes ([ ... ]) left out of beat scoring; rhythm scored by duration "
        "on the records that contain each rhythm.",
    }


def _fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.4f}"


def print_report(summary: dict[str, Any]) -> None:
    print(f"Records ({len(summary['records'])}): {' '.join(summary['records'])}")
    print(f"Model: {summary['model']}\n")
    print("Beat classification (AAMI)\n class    Se      +P      F1   support")
    for cls, row in summary["beats"].items():
        print(
            f"   {cls}   {_fmt(row['se'])}  {_fmt(row['ppv'])}  {_fmt(row['f1'])}  "
            f"{row['support']:7d}"
        )
    print(f" accuracy {_fmt(summary['accuracy'])}\n")
    print("Confusion (rows: reference, columns: predicted; + missed reference beats)")
    print("        " + "".join(f"{c:>8}" for c in CLASSES) + "  missed")
    matrix = summary["confusion"]["rows_reference_cols_predicted"]
    for cls, row, missed in zip(
        CLASSES, matrix, summary["confusion"]["missed_reference"], strict=True
    ):
        print(f"   {cls}    " + "".join(f"{v:8d}" for v in row) + f"  {missed:6d}")
    print("   extra " + "".join(f"{v:8d}" for v in summary["confusion"]["extra_detections"]))
    r = summary["rpeaks"]
    print(
        f"\nR peaks: Se {_fmt(r['se'])}  +P {_fmt(r['ppv'])}  (TP {r['tp']}, FN {r['fn']}, "
        f"FP {r['fp']})\n"
    )
    if summary["records_without_rhythm_annotations"]:
        print(
            f"No rhythm annotations in {len(summary['records_without_rhythm_annotations'])} of "
            f"{len(summary['records'])} records: rhythm is not scored there."
        )
    if summary["rhythm_labels_absent"]:
        print(
            "Rhythms with no reference episode in these records (not scored): "
            + ", ".join(summary["rhythm_labels_absent"])
        )
    print("Rhythm (by duration, on the records that contain it; false alarms elsewhere)")
    for key, row in summary["rhythm"].items():
        if row["reference_s"]:
            print(
                f"  {key:18s} Se {_fmt(row['se'])}  +P {_fmt(row['ppv'])}  "
                f"({row['reference_s']:.0f} s in {', '.join(row['records'])})"
            )
        if row["detected_elsewhere_s"]:
            print(
                f"  {key:18s} called for {row['detected_elsewhere_s']:.0f} s in records "
                f"without it: {', '.join(row['detected_elsewhere_records'])}"
            )


def print_out_of_fold(as_json: bool) -> int:
    """The shipped model's out-of-fold figures per database, as its training measured them
    (recompute them with `python -m ml.train --cv-report`)."""
    card = read_card()
    figures = card.get("out_of_fold", {})
    if as_json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"Model {card.get('version')}: grouped cross-validation, out of fold")
    for how, per_database in figures.items():
        print(f"\n{how}")
        print(f"  {'database':<8}{'acc':>7}{'S Se':>7}{'S +P':>7}{'V Se':>7}{'V +P':>7}")
        for database, m in per_database.items():
            print(
                f"  {database:<8}"
                + "".join(
                    f"{100 * m[k]:7.1f}" if m.get(k) is not None else "    -  "
                    for k in ("accuracy", "S_se", "S_ppv", "V_se", "V_ppv")
                )
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="directory of WFDB records with .atr files (default: MITDB_DIR "
        "or ../shared/data/mitdb)",
    )
    parser.add_argument(
        "--records", default=None, help="comma-separated names, or all, DS1, DS2 (default: DS2)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--cv-out-of-fold",
        action="store_true",
        help="print the shipped model's grouped-CV figures per database (from its model card)",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        help="a CSV of record,label (N, A, O, ~): record-level rhythm calls (CinC 2017 style)",
    )
    parser.add_argument(
        "--intervals",
        action="store_true",
        help="global PR/QRS/QT against wave-boundary annotations (default folder: qtdb)",
    )
    parser.add_argument("--annotator", default="q1c", help="with --intervals: annotation file")
    parser.add_argument("--per-record", action="store_true", help="with --intervals: each record")
    args = parser.parse_args(argv)
    if args.intervals:
        return run_intervals(args.data_dir, args.annotator, args.per_record, args.json)
    if args.cv_out_of_fold:
        return print_out_of_fold(args.json)
    if args.reference:
        from ml.research.strips_eval import evaluate_reference, print_summary

        result = evaluate_reference(args.data_dir or args.reference.parent, args.reference)
        print(json.dumps(result, indent=2)) if args.json else print_summary(result)
        return 0
    data_dir = args.data_dir or default_data_dir()
    names = record_names(data_dir, args.records)
    default_classifier()  # load once, before the clock of the first record starts
    results = [
        evaluate_record(data_dir, name)
        for name in tqdm(names, desc="records", unit="record", file=sys.stderr)
    ]
    summary = summarise(results)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_report(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
