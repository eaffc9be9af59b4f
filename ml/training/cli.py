"""`python -m ml.train`: choose by grouped CV, fit, report, write the model card.

    python -m ml.train --data-dir ../shared/data            # the shipped model (about 88 min)
    python -m ml.train --data-dir ../shared/data --quick --out /tmp/model   # smoke test, ~1 min
    python -m ml.train --cv-report      # the saved CV figures per database, misses by patient

Protocol v2 by construction: candidates, epochs, lead combination and the decision rule are
chosen only from out-of-fold predictions of a cross-validation grouped by patient across
MIT-BIH DS1 and svdb; the final model is fitted on all of them; DS2 is predicted after
everything is fixed and only reported. Folds are saved as they finish (`--run-dir`): rerun
the same command after an interruption and it resumes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ml.classifier import DEFAULT_MODEL_DIR
from ml.features import ALL_FEATURE_NAMES, RR_FEATURE_NAMES
from ml.research.databases import data_root, repo_root
from ml.training.cv import (
    EPOCH_CHECKPOINTS,
    N_FOLDS,
    SAME_PATIENT,
    Candidate,
    cv_wall_minutes,
    fold_dir,
    grouped_folds,
    out_of_fold,
    run_fold,
)
from ml.training.data import Source, load_dataset, training_sources
from ml.training.selection_table import (
    best_row,
    cv_table,
    misses_by_patient,
    print_cv_table,
    print_misses,
    print_single_lead,
    single_lead_scores,
)

ENSEMBLE_MEMBERS = 2
CANDIDATES: dict[str, dict[str, Any]] = {
    # Round 6: the round-5 inputs (15 features).
    "w0.5": {"class_weight_power": 0.5},
    "w1.0": {"class_weight_power": 1.0},
    # Round 7: plus QRS width, QRS area and T-wave shape against the dominant beat.
    "w0.5+morph": {"class_weight_power": 0.5, "features": RR_FEATURE_NAMES},
    "w1.0+morph": {"class_weight_power": 1.0, "features": RR_FEATURE_NAMES},
    # Round 8: the same two networks stopped sooner (round 7 peaked at its first checkpoint).
    "w0.5+morph-early": {"class_weight_power": 0.5, "features": RR_FEATURE_NAMES},
    "w1.0+morph-early": {"class_weight_power": 1.0, "features": RR_FEATURE_NAMES},
    # Round 9: the shipped w1.0+morph reading the other lead's shape features too.
    "w1.0+morph+other-lead": {"class_weight_power": 1.0, "features": ALL_FEATURE_NAMES},
}
# Rounds 6 and 7 peaked at their first checkpoints (4, then 3 epochs): each round looks earlier.
CANDIDATE_EPOCHS: dict[str, tuple[int, ...]] = {
    "w0.5+morph": (3, 6, 9),
    "w1.0+morph": (3, 6, 9),
    "w0.5+morph-early": (1, 2),
    "w1.0+morph-early": (1, 2),
    "w1.0+morph+other-lead": (2, 3, 4),
}
QUICK_SOURCES = [Source("mitdb", r) for r in ("106", "119", "209")] + [
    Source("svdb", r) for r in ("801", "803", "829")
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=data_root(), help="folder holding mitdb/ svdb/ nstdb/"
    )
    parser.add_argument("--out", type=Path, help="model folder (default: the shipped ml/model)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--members", type=int, default=ENSEMBLE_MEMBERS)
    parser.add_argument(
        "--run-dir", type=Path, help="where folds and features are saved (resume from there)"
    )
    parser.add_argument("--quick", action="store_true", help="6 records, 2 folds, 1 epoch")
    parser.add_argument(
        "--candidates",
        nargs="+",
        choices=list(CANDIDATES),
        help="cross-validate and compare only these (default: every round's)",
    )
    parser.add_argument("--cv-only", action="store_true", help="run the CV table and stop")
    parser.add_argument(
        "--folds-by-record",
        action="store_true",
        help="deal every record as its own patient (the folds beat-cnn 2.1 was chosen on)",
    )
    parser.add_argument(
        "--cv-report",
        action="store_true",
        help="print the saved CV figures per database and the V and S misses by patient",
    )
    parser.add_argument(
        "--card-only",
        action="store_true",
        help="rewrite the model card's prose and pictures from the code; keep every figure",
    )
    args = parser.parse_args(argv)
    if args.quick and args.out is None:
        parser.error("--quick writes a toy model: give --out (never the shipped folder)")
    args.out = args.out or DEFAULT_MODEL_DIR
    default_run = repo_root() / ".cache" / "training" / ("quick" if args.quick else "run")
    args.run_dir = args.run_dir or default_run / f"seed{args.seed}"
    return args


def _saved(run_dir: Path, candidate: Candidate, fold: int) -> bool:
    return (fold_dir(run_dir, candidate, fold) / "probabilities.npz").is_file()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.card_only:
        from ml.training.card import refresh_text

        refresh_text(args.out)
        return 0
    started = time.time()
    sources = QUICK_SOURCES if args.quick else training_sources(args.data_dir)
    n_folds, epochs = (2, (1,)) if args.quick else (N_FOLDS, None)
    members = 1 if args.quick else args.members
    names = args.candidates or (["w0.5+morph"] if args.quick else list(CANDIDATES))
    candidates = [
        Candidate(
            n,
            {**CANDIDATES[n], "n_members": members},
            epochs or CANDIDATE_EPOCHS.get(n, EPOCH_CHECKPOINTS),
        )
        for n in names
    ]

    data = load_dataset(sources, args.data_dir, args.run_dir.parent, seed=args.seed)
    folds = grouped_folds(data, n_folds, () if args.folds_by_record else SAME_PATIENT)
    print("Folds (patients held out together):", *(" ".join(f) for f in folds), sep="\n  ")
    cv_started = time.time()
    if not args.cv_report:
        for candidate in candidates:
            for fold in range(n_folds):
                run_fold(data, folds, fold, candidate, args.run_dir, args.seed, epochs)
    else:  # only what is saved: a run dir may hold some rounds' folds (`--candidates`)
        saved = [c for c in candidates if all(_saved(args.run_dir, c, f) for f in range(n_folds))]
        missing = [c.name for c in candidates if c not in saved]
        if missing:
            print("no saved folds (left out of the report):", ", ".join(missing))
        if not saved:
            print(f"nothing to report: no candidate's folds are saved in {args.run_dir}")
            return 1
        candidates = saved
    cv_minutes = cv_wall_minutes(args.run_dir) or (time.time() - cv_started) / 60
    rows = cv_table(data, folds, candidates, args.run_dir)
    print_cv_table(rows)
    best = best_row(rows)
    print(
        f"chosen by grouped CV: {best['candidate']}, {best['epochs']} epochs, leads "
        f"{best['lead_combination']}, bias S {best['bias']['S']:+.2f} V {best['bias']['V']:+.2f} "
        f"F {best['bias'].get('F', 0.0):+.2f}"
    )
    (args.run_dir / "cv_table.json").write_text(json.dumps(rows, indent=1))
    if args.cv_report:
        chosen = next(c for c in candidates if c.name == best["candidate"])
        proba = out_of_fold(data, folds, chosen, args.run_dir)[best["epochs"]]
        for database in ("svdb", "mitdb"):
            mine = data.subset(np.flatnonzero(data.database == database))
            for beat_class in ("V", "S"):
                print(f"[{database}]", end="")
                print_misses(
                    misses_by_patient(mine, proba[data.database == database], best, beat_class),
                    beat_class,
                )
        print_single_lead(single_lead_scores(data, proba, best))
    if args.cv_only or args.cv_report:
        return 0

    from ml.training.final import fit_final, write_model

    fit_started = time.time()
    chosen = next(c for c in candidates if c.name == best["candidate"])
    clf = fit_final(data, chosen, best, args.seed)
    timing = {
        "cv_min": cv_minutes,
        "final_fit_min": (time.time() - fit_started) / 60,
        "started": started,
    }
    write_model(clf, args, data, folds, rows, best, chosen, timing)
    print(f"\nwrote {args.out} in {(time.time() - started) / 60:.1f} min")
    return 0
