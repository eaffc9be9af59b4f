"""The final fit on every training patient, then its reports and the model card."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from ml.classifier import BeatClassifier
from ml.research.databases import DS2, repo_root
from ml.research.evaluate import evaluate_record, summarise
from ml.training import card as card_module
from ml.training.cv import Candidate, fold_model_files, training_rows
from ml.training.data import Dataset
from ml.training.reports import (
    RESAMPLED_RATES_HZ,
    ds2_at_reference_peaks,
    end_to_end_out_of_fold,
    fold_classifier,
    noise_table,
    resampling_table,
)

QUICK_DS2 = ("100", "200")


def fit_final(
    data: Dataset, candidate: Candidate, best: dict[str, Any], seed: int
) -> BeatClassifier:
    """The chosen candidate, fitted on all training patients for the chosen epochs, with the
    decision rule and lead combination chosen out of fold."""
    rows = training_rows(data, [], seed)
    train = data.subset(rows)
    clf = BeatClassifier(**candidate.params)
    clf.fit(train.inputs, train.y, epochs=int(best["epochs"]), seed=seed, verbose=2)
    clf.decision_ = dict(best["bias"])
    clf.af_threshold_ = best["af_threshold"]
    clf.af_p_threshold_ = best["af_p_threshold"]
    clf.lead_combination_ = best["lead_combination"]
    clf.card_ = {"version": "being trained"}
    return clf


def write_model(
    clf: BeatClassifier,
    args: argparse.Namespace,
    data: Dataset,
    folds: list[list[str]],
    rows: list[dict[str, Any]],
    best: dict[str, Any],
    chosen: Candidate,
    timing: dict[str, float],
) -> None:
    """Reports (DS2 once, resampled DS2, end-to-end out of fold, noise), then the card."""
    root: Path = args.data_dir
    ds2_records = QUICK_DS2 if args.quick else DS2
    rates: tuple[float | None, ...] = (None, *RESAMPLED_RATES_HZ)
    ds2 = ds2_at_reference_peaks(clf, root / "mitdb", rates, ds2_records)
    ds2_end_to_end = summarise(
        [evaluate_record(root / "mitdb", r, clf) for r in ds2_records], model_name="final model"
    )
    fold_models = [
        fold_classifier(fold_model_files(args.run_dir, chosen, k, int(best["epochs"])), clf)
        for k in range(len(folds))
    ]
    oof_end_to_end = end_to_end_out_of_fold(root, folds, fold_models)
    noise = [] if args.quick else noise_table(clf, root)
    reports = {
        "ds2": ds2,
        "ds2_end_to_end": ds2_end_to_end,
        "resampling": resampling_table(ds2),
        "out_of_fold_end_to_end": oof_end_to_end,
        "noise": noise,
    }
    shown_root = os.path.relpath(root, repo_root()) if root.is_absolute() else str(root)
    command = f"python -m ml.train --data-dir {shown_root} --seed {args.seed}" + (
        " --quick --out " + str(args.out) if args.quick else ""
    )
    training = {
        "command": command,
        "seed": args.seed,
        "machine": f"{platform.machine()} CPU, {_cores()} cores, no GPU",
        "python": sys.version.split()[0],
        "cv_time_min": round(timing["cv_min"], 1),
        "final_fit_time_min": round(timing["final_fit_min"], 1),
        "last_command_min": round((time.time() - timing["started"]) / 60, 1),
        "total_min": round(timing["cv_min"] + (time.time() - timing["started"]) / 60, 1),
    }
    card = card_module.build_card(data, folds, rows, best, reports, training, ds2_records)
    clf.save(args.out, card)
    saved = card_module.read_saved(args.out)
    card_module.draw_confusions(saved, args.out / card_module.CONFUSION_PNG)
    card_module.write_markdown(saved, args.out / card_module.MARKDOWN)


def _cores() -> int:
    return os.cpu_count() or 1
