"""Agreement of the machine's beats with a reference record's annotations (MIT-BIH library).

Beats are matched within 150 ms (the AAMI window). Per class: how many reference beats were
found and given the same class. Mismatches are kept (up to a cap) so the chart can mark them.
Stored beside the machine read (key "reference"); read back with `ReferenceAgreement.from_dict`.

Such a record is teaching or QA material attached to a patient, never their ECG: every page,
PDF and export of its report says so in `reference_marker`'s words (the rule itself is
`EcgRecording.is_reference`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml.analysis import EcgAnalysis
from ml.research.aami import match_beats
from ml.research.databases import load_record
from portal.models import EcgRecording

REFERENCE_MARKER = "Reference record (teaching/QA) — not this patient's ECG"
REFERENCE_LIBRARY = "MIT-BIH"  # the library of the upload page (MITDB_DIR)

CLASSES = ("N", "S", "V", "F", "Q")
MAX_MISMATCHES = 2000


def reference_name(recording: EcgRecording) -> str | None:
    """The library record it is ("MIT-BIH record 100"); None for the patient's own ECG."""
    if not recording.is_reference:
        return None
    return f"{REFERENCE_LIBRARY} record {recording.reference_record}"


def reference_marker(recording: EcgRecording) -> str | None:
    """The words that mark a reference record wherever its report appears; None otherwise."""
    name = reference_name(recording)
    return f"{REFERENCE_MARKER} ({name})" if name else None


@dataclass(frozen=True)
class ClassAgreement:
    reference_beats: int
    agreed: int
    agreement: float | None  # None when the reference has no beat of the class


@dataclass(frozen=True)
class Mismatches:
    """Beats found by both but classed differently: time, reference class, machine class."""

    t_s: list[float]
    reference: list[str]
    machine: list[str]

    def between(self, start_s: float, end_s: float) -> Mismatches:
        keep = [i for i, t in enumerate(self.t_s) if start_s <= t <= end_s]
        return Mismatches(
            [self.t_s[i] for i in keep],
            [self.reference[i] for i in keep],
            [self.machine[i] for i in keep],
        )


NO_MISMATCHES = Mismatches([], [], [])


@dataclass(frozen=True)
class ReferenceAgreement:
    record: str
    matched_beats: int
    reference_beats: int
    missed_beats: int
    extra_beats: int
    overall_agreement: float | None
    per_class: dict[str, ClassAgreement]
    mismatches: Mismatches

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceAgreement:
        return cls(
            **{
                **data,
                "per_class": {c: ClassAgreement(**m) for c, m in data["per_class"].items()},
                "mismatches": Mismatches(**data["mismatches"]),
            }
        )


def agreement(reference_dir: Path, record_name: str, analysis: EcgAnalysis) -> ReferenceAgreement:
    record = load_record(reference_dir, record_name)
    det_samples = analysis.beats.samples * (record.fs_hz / analysis.fs_hz)
    det_classes = analysis.beats.classes
    ref_idx, det_idx = match_beats(record.beat_samples, det_samples.astype(np.int64), record.fs_hz)
    ref_cls = record.beat_classes[ref_idx]
    det_cls = det_classes[det_idx]
    per_class = {}
    for c in CLASSES:
        total = int((record.beat_classes == c).sum())
        agreed = int(((ref_cls == c) & (det_cls == c)).sum())
        per_class[c] = ClassAgreement(total, agreed, round(agreed / total, 4) if total else None)
    differ = np.flatnonzero(ref_cls != det_cls)[:MAX_MISMATCHES]
    return ReferenceAgreement(
        record=record_name,
        matched_beats=int(ref_idx.size),
        reference_beats=int(record.beat_samples.size),
        missed_beats=int(record.beat_samples.size - ref_idx.size),
        extra_beats=int(det_classes.size - det_idx.size),
        overall_agreement=round(float((ref_cls == det_cls).mean()), 4) if ref_idx.size else None,
        per_class=per_class,
        mismatches=Mismatches(
            np.round(record.beat_samples[ref_idx[differ]] / record.fs_hz, 3).tolist(),
            ref_cls[differ].tolist(),
            det_cls[differ].tolist(),
        ),
    )
