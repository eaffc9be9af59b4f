"""The table that chooses the settings of `ml.ventricular_lookalikes` (pre-registered).

    python -m ml.research.lookalike_v_table --data-dir ../shared/data \\
        --run-dir .cache/training/run/seed0 --run-dir .cache/training/run/seed1 [--round R]

Each run dir holds a cross-validation of the shipped candidate (`python -m ml.train
--candidates w1.0+morph --cv-only --seed N`). Every patient of MIT-BIH DS1 and svdb is read
end to end by `analyze()` with the networks of the fold that held it out (as the model card's
end-to-end out-of-fold rows are), once with the rule off and once per setting of the round
(`ROUNDS`; settings that read the same beats V share one read), and scored as `python -m ml.evaluate`
scores. The criterion, fixed before any figure: the setting (or off) with the highest
training objective (`ml.training.selection.objective`: svdb against the svdb floors, DS1
against the DS2 floors) averaged over the run dirs; if the shipped model, reading the
cinc2017 strips labelled normal, reads a beat V in more than `GUARD_SHARE` of them, the next
setting by the criterion is taken. DS2 is never read here. Each run dir's
figures are saved in it (`lookalike_table_<round>.json`), so a rerun resumes.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np
from tqdm import tqdm

from ml import analysis, ventricular_lookalikes
from ml.research import aami
from ml.research.evaluate import evaluate_record
from ml.research.strips_eval import reference_labels
from ml.training.selection import metrics_of, objective
from ml.ventricular_lookalikes import LookalikeSettings

# Each round's settings, in the order the table prints them.
ROUNDS: dict[str, tuple[LookalikeSettings, ...]] = {
    "round_2": tuple(
        LookalikeSettings(p, match, margin)
        for p, match, margin in itertools.product((0.1, 0.2, 0.3), (0.9, 0.95), (0.0, 0.05))
    ),
    # Round 2 chose p 0.2, match 0.95, margin 0; round 2b asks how unlike the normal beats the
    # V calls must be to make a template (None: round 2's rule).
    "round_2b": tuple(
        LookalikeSettings(0.2, 0.95, 0.0, limit) for limit in (None, 0.98, 0.95, 0.9)
    ),
}
LATEST = "round_2b"
CANDIDATE, EPOCHS = "w1.0+morph", 3  # the shipped candidate and its epochs (model card)
GUARD_SHARE = 0.01


def _key(settings: LookalikeSettings | None) -> str:
    if settings is None:
        return "off"
    key = f"p>={settings.min_v_probability} match>={settings.min_match} margin>={settings.margin}"
    limit = settings.max_template_match
    return key if limit is None else f"{key} template<={limit}"


def _reading(masks: list[np.ndarray]) -> Callable[..., np.ndarray]:
    """A stand-in for `lookalikes` inside `analyze()` that returns the given masks in order
    (the main read calls it once per recording)."""
    queue = list(masks)
    return lambda windows, classes, v_probability, settings=None: queue.pop(0)


def run_table(
    data_root: Path, run_dir: Path, grid: tuple[LookalikeSettings, ...], saved: Path
) -> dict[str, dict[str, float]]:
    """Per setting (and "off"): metrics per database, the objective, beats read V."""
    from ml.analysis import default_classifier
    from ml.training.cli import CANDIDATE_EPOCHS, CANDIDATES
    from ml.training.cv import Candidate, fold_model_files
    from ml.training.reports import fold_classifier

    if saved.is_file():
        return dict(json.loads(saved.read_text()))
    candidate = Candidate(CANDIDATE, CANDIDATES[CANDIDATE], CANDIDATE_EPOCHS[CANDIDATE])
    shipped = default_classifier()
    scores: dict[str, dict[str, aami.BeatScore]] = {}
    read_v: dict[str, int] = {}
    fold_dirs = sorted((run_dir / CANDIDATE).glob("fold*"))
    for k, fold_dir in enumerate(fold_dirs):
        clf = fold_classifier(fold_model_files(run_dir, candidate, k, EPOCHS), shipped)
        patients = json.loads((fold_dir / "fold.json").read_text())["patients"]
        for patient in tqdm(patients, desc=f"{run_dir.name} fold {k}", unit="record"):
            database, record = patient.split("/")
            seen: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

            def capture(windows, classes, v_probability, settings=None, seen=seen):  # type: ignore[no-untyped-def]
                seen.append((windows.copy(), classes.copy(), v_probability.copy()))
                return np.zeros(len(classes), dtype=bool)

            with mock.patch.object(analysis, "lookalikes", capture):
                off = evaluate_record(data_root / database, record, clf)
            results: dict[bytes, aami.BeatScore] = {}
            for settings in (None, *grid):
                masks = [ventricular_lookalikes.lookalikes(*inputs, settings) for inputs in seen]
                signature = b"".join(np.packbits(m).tobytes() for m in masks)
                if signature not in results:
                    if not any(m.any() for m in masks):
                        results[signature] = off.beats
                    else:
                        with mock.patch.object(analysis, "lookalikes", _reading(masks)):
                            read = evaluate_record(data_root / database, record, clf)
                        results[signature] = read.beats
                key = _key(settings)
                per_db = scores.setdefault(key, {})
                per_db[database] = per_db.get(database, aami.BeatScore()) + results[signature]
                read_v[key] = read_v.get(key, 0) + int(sum(m.sum() for m in masks))
    table = {
        key: {
            **{f"{db}_{m}": v for db, s in per_db.items() for m, v in metrics_of(s).items()},
            "objective": objective({db: metrics_of(s) for db, s in per_db.items()}),
            "read_v": read_v[key],
        }
        for key, per_db in scores.items()
    }
    saved.write_text(json.dumps(table, indent=1))
    return table


def normal_strips_gaining_v(data_root: Path, grid: tuple[LookalikeSettings, ...]) -> dict[str, int]:
    """Per setting: cinc2017 strips labelled normal where it reads any beat V (with the
    shipped model)."""
    from ml.io import read_recording

    cinc = data_root / "cinc2017"
    names = [n for n, label in reference_labels(cinc / "REFERENCE.csv").items() if label == "N"]
    gained = {_key(s): 0 for s in grid}
    for name in tqdm(names, desc="normal cinc2017 strips", unit="strip"):
        seen: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

        def capture(windows, classes, v_probability, settings=None, seen=seen):  # type: ignore[no-untyped-def]
            seen.append((windows.copy(), classes.copy(), v_probability.copy()))
            return np.zeros(len(classes), dtype=bool)

        with mock.patch.object(analysis, "lookalikes", capture):
            analysis.analyze(read_recording(cinc / f"{name}.hea", uncalibrated_ok=True))
        had_v = any((classes == "V").any() for _, classes, _ in seen)
        for settings in grid:
            if not had_v and any(
                ventricular_lookalikes.lookalikes(*i, settings).any() for i in seen
            ):
                gained[_key(settings)] += 1
    gained["of"] = len(names)
    return gained


def choose(tables: list[dict[str, dict[str, float]]], gained: dict[str, int]) -> str:
    """The criterion (module docstring)."""
    mean = {key: float(np.mean([t[key]["objective"] for t in tables])) for key in tables[0]}
    for key in sorted(mean, key=lambda k: -mean[k]):
        if key == "off" or gained[key] <= GUARD_SHARE * gained["of"]:
            return key
    return "off"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="holds mitdb/, svdb/, ...")
    parser.add_argument("--run-dir", type=Path, action="append", required=True)
    parser.add_argument("--round", choices=list(ROUNDS), default=LATEST)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    grid = ROUNDS[args.round]
    tables = [
        run_table(args.data_dir, d, grid, d / f"lookalike_table_{args.round}.json")
        for d in args.run_dir
    ]
    gained = normal_strips_gaining_v(args.data_dir, grid)
    chosen = choose(tables, gained)
    if args.json:
        print(json.dumps({"tables": tables, "normal_strips_gaining_v": gained, "chosen": chosen}))
        return 0
    columns = ("svdb_V_se", "svdb_V_ppv", "svdb_S_se", "svdb_S_ppv", "mitdb_V_se", "mitdb_V_ppv")
    print("setting                           " + " ".join(f"{c:>11}" for c in columns), end="")
    print("   objective  read V  normal strips gaining V")
    for key in tables[0]:
        for run, table in zip(args.run_dir, tables, strict=True):
            row = table[key]
            figures = " ".join(f"{100 * row[c]:11.1f}" for c in columns)
            strips = "" if key == "off" else f"{gained[key]} of {gained['of']}"
            score = f"{row['objective']:+10.4f}  {row['read_v']:6d}"
            print(f"{key:<26}{run.name:>8} {figures}  {score}  {strips}")
    print(f"chosen: {chosen}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
