"""The cross-validation table: every candidate x epoch checkpoint x lead combination, each
with its own decision rule tuned out of fold, scored per database. The best row is the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ml.classifier import LEAD_COMBINATIONS, combined_proba, decide, decide_beats
from ml.training.cv import Candidate, out_of_fold
from ml.training.data import Dataset
from ml.training.selection import (
    FLOORS,
    metrics_of,
    score_by_database,
    tune_decision,
)


def paired_lead_rows(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Clean rows of the preferred lead and, beat for beat, of the other lead."""
    clean = ~data.augmented
    primary = np.flatnonzero(clean & (data.lead == 0))
    other = np.flatnonzero(clean & (data.lead == 1))
    if not (
        np.array_equal(data.patient[primary], data.patient[other])
        and np.array_equal(data.beat[primary], data.beat[other])
    ):
        raise ValueError("every training record needs two leads, beat for beat")
    return primary, other


def lead_probabilities(data: Dataset, proba: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """(rows of the preferred lead, their probabilities combined over leads as `how` says)."""
    primary, other = paired_lead_rows(data)
    if how == "primary":
        return primary, proba[primary]
    return primary, combined_proba([proba[primary], proba[other]])


def score_row(data: Dataset, rows: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """The decision rule tuned out of fold on these rows, and its scores per database."""
    inputs = data.inputs.subset(rows)
    rule, value = tune_decision(data.y[rows], data.database[rows], proba, inputs)
    predicted = decide_beats(proba, inputs, rule.log_bias, rule.af_threshold, rule.af_p_threshold)
    scores = score_by_database(data.y[rows], predicted, data.database[rows])
    return {
        "bias": rule.log_bias,
        "af_threshold": rule.af_threshold,
        "af_p_threshold": rule.af_p_threshold,
        "objective": value,
        "per_database": {db: metrics_of(s) for db, s in scores.items()},
        "confusion": {db: s.confusion.tolist() for db, s in scores.items()},
    }


def cv_table(
    data: Dataset, folds: list[list[str]], candidates: list[Candidate], run_dir: Path
) -> list[dict[str, Any]]:
    rows_out = []
    for candidate in candidates:
        for epoch, proba in sorted(out_of_fold(data, folds, candidate, run_dir).items()):
            for how in LEAD_COMBINATIONS:
                rows, combined = lead_probabilities(data, proba, how)
                tuned = score_row(data, rows, combined)
                argmax = {
                    db: metrics_of(s)
                    for db, s in score_by_database(
                        data.y[rows],
                        decide(combined, {}),
                        data.database[rows],
                    ).items()
                }
                rows_out.append(
                    {
                        "candidate": candidate.name,
                        "params": candidate.params,
                        "epochs": epoch,
                        "lead_combination": how,
                        "argmax": argmax,
                        **tuned,
                    }
                )
    return rows_out


def _pct(value: float | None) -> str:
    return "  -  " if value is None else f"{100 * value:5.1f}"


def print_cv_table(rows: list[dict[str, Any]]) -> None:
    keys = ("S_se", "S_ppv", "V_se", "V_ppv", "accuracy")
    databases = list(FLOORS)
    print("\nGrouped CV out of fold (%, decision rule tuned out of fold), per database")
    header = f"{'candidate':<17}{'ep':>3} {'leads':<8}"
    for db in databases:
        header += f"| {db:<6}" + " ".join(f"{k:>8}" for k in keys) + " "
    print(header + "| bS    bV    bF    AF/P      objective")
    for r in rows:
        line = f"{r['candidate']:<17}{r['epochs']:>3} {r['lead_combination']:<8}"
        for db in databases:
            m = r["per_database"].get(db, {})
            line += "|       " + " ".join(f"{_pct(m.get(k)):>8}" for k in keys) + " "
        af = "off" if r["af_threshold"] is None else f"{r['af_threshold']:.2f}"
        af += "" if r["af_p_threshold"] is None else f"/{r['af_p_threshold']:.1f}"
        bias = r["bias"]
        print(
            line + f"| {bias['S']:+.2f} {bias['V']:+.2f} {bias.get('F', 0.0):+.2f} {af:<9} "
            f"{r['objective']:8.4f}"
        )
    print(flush=True)


def best_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return max(rows, key=lambda r: r["objective"])


def decided_by_row(
    data: Dataset, rows: np.ndarray, proba: np.ndarray, row: dict[str, Any]
) -> np.ndarray:
    """Classes of `rows` (probabilities `proba`) by the decision rule a CV table row holds."""
    inputs = data.inputs.subset(rows)
    return decide_beats(proba, inputs, row["bias"], row["af_threshold"], row["af_p_threshold"])


def misses_by_patient(
    data: Dataset, proba: np.ndarray, row: dict[str, Any], beat_class: str
) -> list[tuple[str, int, dict[str, int]]]:
    """Out of fold, with the row's lead combination and decision rule: each patient's beats
    of `beat_class` and what its missed ones were called, most misses first. Where a class's
    sensitivity is lost tells the next round what to look at (one patient or many)."""
    rows, combined = lead_probabilities(data, proba, row["lead_combination"])
    called = decided_by_row(data, rows, combined, row)
    truth, patients = data.y[rows], data.patient[rows]
    out = []
    for patient in dict.fromkeys(patients[truth == beat_class].tolist()):
        mine = (patients == patient) & (truth == beat_class)
        missed = called[mine][called[mine] != beat_class]
        labels, counts = np.unique(missed, return_counts=True)
        calls = dict(zip(labels.tolist(), counts.tolist(), strict=True))
        out.append((patient, int(mine.sum()), calls))
    return sorted(out, key=lambda p: -sum(p[2].values()))


def single_lead_scores(
    data: Dataset, proba: np.ndarray, row: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """Out of fold, every lead read alone, as the portal reads a single-lead upload (the same
    decision rule, no second lead to average with): what a handheld strip's beat calls are
    worth, per database, beside the two-lead figures the row was chosen by."""
    rows = np.concatenate(paired_lead_rows(data))
    called = decided_by_row(data, rows, proba[rows], row)
    scores = score_by_database(data.y[rows], called, data.database[rows])
    return {db: metrics_of(s) for db, s in scores.items()}


def print_single_lead(scores: dict[str, dict[str, float]]) -> None:
    print("\nEach lead read alone (a single-lead upload), the same decision rule, out of fold (%):")
    for db, m in scores.items():
        print(
            f"  {db:<6} V Se {_pct(m['V_se'])}  V +P {_pct(m['V_ppv'])}  "
            f"S Se {_pct(m['S_se'])}  S +P {_pct(m['S_ppv'])}  accuracy {_pct(m['accuracy'])}"
        )


def print_misses(
    misses: list[tuple[str, int, dict[str, int]]], beat_class: str, top: int = 8
) -> None:
    total = sum(n for _, n, _ in misses)
    lost = sum(sum(m.values()) for _, _, m in misses)
    print(f"\n{beat_class} beats missed out of fold, by patient ({lost} of {total}):")
    for patient, n, missed in misses[:top]:
        calls = ", ".join(f"{c} {k}" for c, k in missed.items()) or "none"
        print(f"  {patient:<11} {sum(missed.values()):5d} of {n:5d}  called {calls}")
