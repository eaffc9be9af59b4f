"""AAMI EC57-style scoring of beat detection and beat classification.

A detected beat matches a reference beat when their R peaks are within 150 ms; matching is
one-to-one, nearest pairs first. Rates are fractions in 0..1; a rate whose denominator is zero
is `None` (there was nothing to measure), never 0 or 1.

Classification (`score_beats`) keeps counts, not rates, so results of many records add up
(`BeatScore.__add__`, `sum_scores`) and the rates are computed from the summed counts, which
is how inter-patient results are reported (gross statistics).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")
SCORED_CLASSES: tuple[str, ...] = ("N", "S", "V", "F")
MATCH_WINDOW_S = 0.150


def match_beats(
    ref_samples: np.ndarray,
    det_samples: np.ndarray,
    fs_hz: float,
    window_s: float = MATCH_WINDOW_S,
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (ref_idx, det_idx) of one-to-one matches within `window_s`, closest first."""
    ref = np.asarray(ref_samples, dtype=np.int64).ravel()
    det = np.asarray(det_samples, dtype=np.int64).ravel()
    empty = np.zeros(0, dtype=np.int64)
    if ref.size == 0 or det.size == 0:
        return empty, empty
    tol = window_s * fs_hz
    det_order = np.argsort(det, kind="stable")
    det_sorted = det[det_order]
    lo = np.searchsorted(det_sorted, ref - tol, side="left")
    hi = np.searchsorted(det_sorted, ref + tol, side="right")
    counts = hi - lo
    if counts.sum() == 0:
        return empty, empty
    pair_ref = np.repeat(np.arange(ref.size), counts)
    starts = np.repeat(lo, counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    pair_det = det_order[starts + within]
    distance = np.abs(ref[pair_ref] - det[pair_det])
    order = np.lexsort((pair_det, pair_ref, distance))
    ref_used = np.zeros(ref.size, dtype=bool)
    det_used = np.zeros(det.size, dtype=bool)
    out_ref: list[int] = []
    out_det: list[int] = []
    for r, d in zip(pair_ref[order].tolist(), pair_det[order].tolist(), strict=True):
        if not ref_used[r] and not det_used[d]:
            ref_used[r] = det_used[d] = True
            out_ref.append(r)
            out_det.append(d)
    by_ref = np.argsort(out_ref, kind="stable")
    return np.asarray(out_ref, np.int64)[by_ref], np.asarray(out_det, np.int64)[by_ref]


def _rate(num: int, den: int) -> float | None:
    return num / den if den > 0 else None


def score_rpeaks(
    ref_samples: np.ndarray,
    det_samples: np.ndarray,
    fs_hz: float,
    window_s: float = MATCH_WINDOW_S,
) -> dict[str, int | float | None]:
    """Beat detection: {tp, fn, fp, se, ppv}; se/ppv are None when their denominator is 0."""
    ref_idx, _ = match_beats(ref_samples, det_samples, fs_hz, window_s)
    tp = int(ref_idx.size)
    fn = int(np.size(ref_samples)) - tp
    fp = int(np.size(det_samples)) - tp
    return {"tp": tp, "fn": fn, "fp": fp, "se": _rate(tp, tp + fn), "ppv": _rate(tp, tp + fp)}


def _zeros() -> np.ndarray:
    return np.zeros(len(CLASSES), dtype=np.int64)


@dataclass(frozen=True)
class BeatScore:
    """Counts of a beat-classification comparison; rates are derived from them.

    `confusion[i, j]`: matched beats with reference class CLASSES[i] predicted as CLASSES[j].
    `missed[i]`: reference beats of class i with no detection (count as false negatives).
    `extra[j]`: detections with no reference beat, predicted class j (count as false
    positives of class j).
    """

    confusion: np.ndarray = field(default_factory=lambda: np.zeros((5, 5), dtype=np.int64))
    missed: np.ndarray = field(default_factory=_zeros)
    extra: np.ndarray = field(default_factory=_zeros)

    def __add__(self, other: BeatScore) -> BeatScore:
        return BeatScore(
            self.confusion + other.confusion, self.missed + other.missed, self.extra + other.extra
        )

    def class_counts(self, cls: str) -> dict[str, int]:
        """tp, fn, fp for one class; an F beat predicted V is not a V false positive."""
        k = CLASSES.index(cls)
        tp = int(self.confusion[k, k])
        fn = int(self.confusion[k].sum() - tp + self.missed[k])
        column = self.confusion[:, k].copy()
        column[k] = 0
        if cls == "V":
            column[CLASSES.index("F")] = 0  # de Chazal et al. 2004 / AAMI EC57 rule
        fp = int(column.sum() + self.extra[k])
        return {
            "tp": tp,
            "fn": fn,
            "fp": fp,
            "support": int(self.confusion[k].sum() + self.missed[k]),
        }

    def per_class(self) -> dict[str, dict[str, float | int | None]]:
        """{class: {se, ppv, f1, support}} for N, S, V, F (rates None when undefined)."""
        out: dict[str, dict[str, float | int | None]] = {}
        for cls in SCORED_CLASSES:
            c = self.class_counts(cls)
            se = _rate(c["tp"], c["tp"] + c["fn"])
            ppv = _rate(c["tp"], c["tp"] + c["fp"])
            f1 = _rate(2 * c["tp"], 2 * c["tp"] + c["fn"] + c["fp"])
            out[cls] = {"se": se, "ppv": ppv, "f1": f1, "support": c["support"]}
        return out

    @property
    def accuracy(self) -> float | None:
        """Correct matched beats over all beats (matched + missed + extra detections)."""
        total = int(self.confusion.sum() + self.missed.sum() + self.extra.sum())
        return _rate(int(np.trace(self.confusion)), total)

    def as_dict(self) -> dict[str, object]:
        return {
            "classes": list(CLASSES),
            "confusion_rows_reference_cols_predicted": self.confusion.tolist(),
            "missed_reference": self.missed.tolist(),
            "extra_detections": self.extra.tolist(),
            "per_class": self.per_class(),
            "accuracy": self.accuracy,
        }


def _class_index(labels: np.ndarray) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(CLASSES)}
    try:
        return np.asarray([lookup[str(c)] for c in np.asarray(labels).ravel()], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"unknown beat class {exc.args[0]!r}; expected one of {CLASSES}") from exc


def score_beats(
    ref_samples: np.ndarray,
    ref_classes: np.ndarray,
    det_samples: np.ndarray,
    det_classes: np.ndarray,
    fs_hz: float,
    window_s: float = MATCH_WINDOW_S,
) -> BeatScore:
    """Compare predicted beat classes with reference ones after matching R peaks."""
    ref_k = _class_index(ref_classes)
    det_k = _class_index(det_classes)
    if ref_k.size != np.size(ref_samples) or det_k.size != np.size(det_samples):
        raise ValueError("each beat needs exactly one class")
    ref_idx, det_idx = match_beats(ref_samples, det_samples, fs_hz, window_s)
    confusion = np.zeros((5, 5), dtype=np.int64)
    np.add.at(confusion, (ref_k[ref_idx], det_k[det_idx]), 1)
    ref_missed = np.ones(ref_k.size, dtype=bool)
    ref_missed[ref_idx] = False
    det_extra = np.ones(det_k.size, dtype=bool)
    det_extra[det_idx] = False
    missed = np.bincount(ref_k[ref_missed], minlength=5).astype(np.int64)
    extra = np.bincount(det_k[det_extra], minlength=5).astype(np.int64)
    return BeatScore(confusion, missed, extra)


def sum_scores(scores: Iterable[BeatScore]) -> BeatScore:
    """Gross result over records: counts are summed before any rate is computed."""
    total = BeatScore()
    for score in scores:
        total = total + score
    return total


def score_from_labels(ref_classes: np.ndarray, pred_classes: np.ndarray) -> BeatScore:
    """Score when predictions are made at the reference beats themselves (no matching)."""
    ref_k = _class_index(ref_classes)
    pred_k = _class_index(pred_classes)
    confusion = np.zeros((5, 5), dtype=np.int64)
    np.add.at(confusion, (ref_k, pred_k), 1)
    return BeatScore(confusion)
