"""The end-to-end out-of-fold figures of today's pipeline, from saved fold networks: per
cross-validation seed, and with several seeds' networks pooled (does averaging more networks
generalise better?).

    python -m ml.research.pipeline_out_of_fold --data-dir ../shared/data \\
        --run-dir .cache/training/run/seed0 [--run-dir .cache/training/run/seed1]

The model card's end-to-end out-of-fold rows were measured when the classifier was trained;
the rules that run after it since then move them. Each run dir holds a cross-validation of the
shipped candidate (`python -m ml.train --candidates w1.0+morph --cv-only --seed N`, about 10
min each here, with the shipped two networks per fold); the seeds share their folds (dealt by
patient, not by seed), so fold k's networks of every seed held out the same patients. Every
patient of MIT-BIH DS1 and svdb is read end to end by `analyze()` with the networks of the
fold that held it out and the shipped decision rule: once per run dir and, given several,
once with all their networks averaged. Prints the figures per database and the training
objective (`ml.training.selection.objective`). It chooses nothing and never reads DS2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ml.research import aami
from ml.research.evaluate import evaluate_record

CANDIDATE, EPOCHS = "w1.0+morph", 3  # the shipped candidate and its epochs (model card)
COLUMNS = ("S_se", "S_ppv", "V_se", "V_ppv", "accuracy")


def pooled_fold_classifier(member_files: list[Path], chosen: Any) -> Any:
    """`ml.training.reports.fold_classifier` for networks of several runs: each is renamed
    (every run names its members alike, and one Keras graph needs distinct names)."""
    import keras

    from ml.training.network import load_network
    from ml.training.reports import classifier_of_networks

    members = [load_network(f) for f in member_files]
    renamed = [keras.Model(m.inputs, m.output, name=f"member_{i}") for i, m in enumerate(members)]
    return classifier_of_networks(renamed, chosen)


def out_of_fold(data_root: Path, run_dirs: list[Path]) -> dict[str, Any]:
    """Per-database metrics and the objective, end to end out of fold, with the networks of
    `run_dirs` averaged fold by fold."""
    from ml.analysis import default_classifier
    from ml.training.cli import CANDIDATE_EPOCHS, CANDIDATES, ENSEMBLE_MEMBERS
    from ml.training.cv import Candidate, fold_model_files
    from ml.training.selection import metrics_of, objective

    params = {**CANDIDATES[CANDIDATE], "n_members": ENSEMBLE_MEMBERS}  # as `ml.train` runs it
    candidate = Candidate(CANDIDATE, params, CANDIDATE_EPOCHS[CANDIDATE])
    shipped = default_classifier()
    scores: dict[str, aami.BeatScore] = {}
    folds = sorted((run_dirs[0] / CANDIDATE).glob("fold*"))
    for k, fold_dir in enumerate(folds):
        patients = json.loads((fold_dir / "fold.json").read_text())["patients"]
        for other in run_dirs[1:]:
            theirs = json.loads((other / CANDIDATE / fold_dir.name / "fold.json").read_text())
            if sorted(theirs["patients"]) != sorted(patients):
                raise SystemExit(f"{other} holds out other patients in {fold_dir.name}")
        files = [f for run in run_dirs for f in fold_model_files(run, candidate, k, EPOCHS)]
        clf = pooled_fold_classifier(files, shipped)
        label = "+".join(run.name for run in run_dirs)
        for patient in tqdm(patients, desc=f"{label} fold {k}", unit="record"):
            database, record = patient.split("/")
            result = evaluate_record(data_root / database, record, clf)
            scores[database] = scores.get(database, aami.BeatScore()) + result.beats
    metrics = {database: metrics_of(score) for database, score in scores.items()}
    return {"networks": len(files), "metrics": metrics, "objective": objective(metrics)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="holds mitdb/ and svdb/")
    parser.add_argument("--run-dir", type=Path, action="append", required=True)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = {run.name: out_of_fold(args.data_dir, [run]) for run in args.run_dir}
    if len(args.run_dir) > 1:
        rows["pooled"] = out_of_fold(args.data_dir, args.run_dir)
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'':<22}" + "".join(f"{db + ' (%)':<36}" for db in ("DS1 (mitdb)", "svdb")))
    print(f"{'networks':<22}" + f"{'S Se  S +P  V Se  V +P  acc':<36}" * 2 + "objective")
    for name, row in rows.items():
        figures = "".join(
            " ".join(f"{100 * row['metrics'][db][c]:5.1f}" for c in COLUMNS) + " " * 7
            for db in ("mitdb", "svdb")
        )
        print(f"{name + ' (' + str(row['networks']) + ')':<22}{figures}{row['objective']:+.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
