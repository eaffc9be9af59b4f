"""Agreement of the machine's beats with a reference record's annotations (MIT-BIH library).

Beats are matched within 150 ms (the AAMI window). Per class: how many reference beats were
found and given the same class. Mismatches are kept (up to a cap) so the chart can mark them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ml.research.aami import match_beats
from ml.research.databases import load_record

CLASSES = ("N", "S", "V", "F", "Q")
MAX_MISMATCHES = 2000


def agreement(reference_dir: Path, record_name: str, analysis: dict[str, Any]) -> dict[str, Any]:
    record = load_record(reference_dir, record_name)
    beats = analysis["beats"]
    det_samples = np.asarray(beats["sample"], dtype=np.int64) * (record.fs_hz / analysis["fs_hz"])
    det_classes = np.asarray(list(beats["class"]), dtype="<U1")
    ref_idx, det_idx = match_beats(record.beat_samples, det_samples.astype(np.int64), record.fs_hz)
    ref_cls = record.beat_classes[ref_idx]
    det_cls = det_classes[det_idx]
    per_class = {}
    for c in CLASSES:
        total = int((record.beat_classes == c).sum())
        agreed = int(((ref_cls == c) & (det_cls == c)).sum())
        per_class[c] = {
            "reference_beats": total,
            "agreed": agreed,
            "agreement": round(agreed / total, 4) if total else None,
        }
    differ = np.flatnonzero(ref_cls != det_cls)[:MAX_MISMATCHES]
    return {
        "record": record_name,
        "matched_beats": int(ref_idx.size),
        "reference_beats": int(record.beat_samples.size),
        "missed_beats": int(record.beat_samples.size - ref_idx.size),
        "extra_beats": int(det_classes.size - det_idx.size),
        "overall_agreement": round(float((ref_cls == det_cls).mean()), 4) if ref_idx.size else None,
        "per_class": per_class,
        "mismatches": {
            "t_s": np.round(record.beat_samples[ref_idx[differ]] / record.fs_hz, 3).tolist(),
            "reference": ref_cls[differ].tolist(),
            "machine": det_cls[differ].tolist(),
        },
    }
