"""Cross-validation grouped by patient across MIT-BIH DS1 and svdb, fold by fold, resumable.

Each fold holds out whole patients of both databases. A fold's networks train on the other
patients' beats (both leads, clean and augmented, most normal beats left out for speed) and
predict the held-out patients' clean beats on both leads at every epoch checkpoint. Each
finished fold is saved (probabilities and the member networks), so an interrupted run picks
up where it stopped and no single command has to run for hours.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml.classifier import CLASSES, BeatClassifier, predict_proba_with
from ml.training.data import Dataset

N_FOLDS = 5
EPOCH_CHECKPOINTS = (4, 8, 12)
# Training keeps every S, V, F and Q beat but only this fraction of the (90 %) normal beats:
# a third of the compute, and the class weights and decision bias absorb the changed prior.
NORMAL_BEATS_KEPT = 0.3


@dataclass(frozen=True)
class Candidate:
    """A configuration compared by the CV: classifier parameters and epoch checkpoints."""

    name: str
    params: dict[str, Any]
    epochs: tuple[int, ...] = EPOCH_CHECKPOINTS


# Records that are likely one patient recorded twice (`python -m ml.research.same_patient`:
# their median normal beats correlate at 0.974-0.996, where MIT-BIH's documented pair, 201
# and 202, reads 0.977 and its different patients at most 0.960). Beat-cnn 2.1 was chosen on
# folds that split every one of these groups (`--folds-by-record` deals those folds again).
SAME_PATIENT: tuple[tuple[str, ...], ...] = (
    ("svdb/827", "svdb/873"),
    ("svdb/828", "svdb/829", "svdb/876", "svdb/877"),
    ("svdb/841", "svdb/886"),
    ("svdb/847", "svdb/885"),
)


def grouped_folds(
    data: Dataset,
    n_folds: int = N_FOLDS,
    same_patient: tuple[tuple[str, ...], ...] = SAME_PATIENT,
) -> list[list[str]]:
    """Patients dealt to folds database by database, in order of S-beat count (snake order),
    so every fold holds patients of both databases and some S beats of each. The records of
    one patient (`same_patient`) are dealt as one."""
    clean = ~data.augmented & (data.lead == 0)
    folds: list[list[str]] = [[] for _ in range(n_folds)]
    for database in dict.fromkeys(data.database.tolist()):
        rows = clean & (data.database == database)
        records = list(dict.fromkeys(data.patient[rows].tolist()))
        patients = _patients(records, same_patient)
        s_count = {
            p: int((np.isin(data.patient, p) & rows & (data.y == "S")).sum()) for p in patients
        }
        ordered = sorted(patients, key=lambda p: (-s_count[p], p))
        for i, patient in enumerate(ordered):
            lap, pos = divmod(i, n_folds)
            folds[pos if lap % 2 == 0 else n_folds - 1 - pos].extend(patient)
    return folds


def _patients(
    records: list[str], same_patient: tuple[tuple[str, ...], ...]
) -> list[tuple[str, ...]]:
    """`records` as patients: each group of `same_patient` present is one, the rest alone."""
    grouped = [tuple(r for r in group if r in records) for group in same_patient]
    grouped = [group for group in grouped if group]
    alone = [(r,) for r in records if not any(r in group for group in grouped)]
    return grouped + alone


def training_rows(data: Dataset, exclude: list[str], seed: int) -> np.ndarray:
    """Rows a model trains on: every lead and variant of the other patients, with a random
    `NORMAL_BEATS_KEPT` of their normal beats."""
    rng = np.random.default_rng(seed)
    kept = (data.y != "N") | (rng.random(len(data)) < NORMAL_BEATS_KEPT)
    return np.flatnonzero(kept & ~np.isin(data.patient, exclude))


def evaluation_rows(data: Dataset, patients: list[str] | None = None) -> np.ndarray:
    """Clean beats (both leads) of `patients` (all when None): what a fold is scored on."""
    rows = ~data.augmented
    if patients is not None:
        rows &= np.isin(data.patient, patients)
    return np.flatnonzero(rows)


def _checkpoint_callback(
    holdout: Any,
    store: dict[int, np.ndarray],
    members: int,
    checkpoints: tuple[int, ...],
    save: Callable[[Any, int, int], None],
) -> Any:
    import keras

    class Checkpoints(keras.callbacks.Callback):
        """Held-out probabilities at each checkpoint, averaged over the members; each
        member's network is saved there too (for the end-to-end out-of-fold evaluation)."""

        member = -1

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            Checkpoints.member += 1

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if epoch + 1 in checkpoints:
                proba = predict_proba_with(self.model, holdout) / members
                store[epoch + 1] = store.get(epoch + 1, 0.0) + proba
                save(self.model, Checkpoints.member, epoch + 1)

    return Checkpoints()


def fold_dir(run_dir: Path, candidate: Candidate, fold: int) -> Path:
    return run_dir / candidate.name / f"fold{fold}"


def run_fold(
    data: Dataset,
    folds: list[list[str]],
    fold: int,
    candidate: Candidate,
    run_dir: Path,
    seed: int,
    epochs: tuple[int, ...] | None = None,
) -> Path:
    """Train one fold (unless its results are already saved) and return its folder."""
    epochs = epochs or candidate.epochs
    out = fold_dir(run_dir, candidate, fold)
    done = out / "probabilities.npz"
    if done.is_file():
        print(f"[cv] {candidate.name} fold {fold + 1}/{len(folds)}: saved, skipped", flush=True)
        return out
    out.mkdir(parents=True, exist_ok=True)
    held = evaluation_rows(data, folds[fold])
    train = training_rows(data, folds[fold], seed + fold)
    members = int(candidate.params.get("n_members", 1))
    print(
        f"[cv] {candidate.name} fold {fold + 1}/{len(folds)}: {train.size} training rows, "
        f"{held.size} held-out rows, {members} member(s) x {max(epochs)} epochs",
        flush=True,
    )
    store: dict[int, np.ndarray] = {}

    def save(model: Any, member: int, epoch: int) -> None:
        model.save(out / f"member{member}_epoch{epoch}.keras")

    train_data = data.subset(train)
    classifier = BeatClassifier(**candidate.params)
    holdout = data.inputs.subset(held).with_features(classifier.features)
    classifier.fit(
        train_data.inputs,
        train_data.y,
        epochs=max(epochs),
        seed=seed + fold,
        verbose=2,
        callbacks=[_checkpoint_callback(holdout, store, members, epochs, save)],
    )
    by_epoch = {f"epoch{e}": store[e] for e in epochs}
    np.savez(out / "probabilities.npz", rows=held, **by_epoch)  # type: ignore[arg-type]
    (out / "fold.json").write_text(json.dumps({"patients": folds[fold], "seed": seed + fold}))
    return out


def out_of_fold(
    data: Dataset, folds: list[list[str]], candidate: Candidate, run_dir: Path
) -> dict[int, np.ndarray]:
    """Per epoch checkpoint: probabilities [len(data), 5] for every clean row (NaN elsewhere),
    each predicted by the fold that held its patient out."""
    oof: dict[int, np.ndarray] = {}
    for fold in range(len(folds)):
        with np.load(fold_dir(run_dir, candidate, fold) / "probabilities.npz") as saved:
            rows = saved["rows"]
            for key in saved.files:
                if key.startswith("epoch"):
                    epoch = int(key.removeprefix("epoch"))
                    target = oof.setdefault(epoch, np.full((len(data), len(CLASSES)), np.nan))
                    target[rows] = saved[key]
    return oof


def fold_model_files(run_dir: Path, candidate: Candidate, fold: int, epoch: int) -> list[Path]:
    members = int(candidate.params.get("n_members", 1))
    folder = fold_dir(run_dir, candidate, fold)
    return [folder / f"member{m}_epoch{epoch}.keras" for m in range(members)]


# A longer wait between two folds finishing means the run was stopped and resumed later.
IDLE_GAP_S = 20 * 60


def cv_wall_minutes(run_dir: Path) -> float | None:
    """How long the cross-validation takes to compute, from its saved folds: each fold took
    the time since the fold before it finished. A fold after an idle gap (a run resumed, or a
    later round's candidates added) is counted as its candidate's median fold instead, so
    pauses between sessions are not counted as computing."""
    finished = sorted(
        (f.stat().st_mtime, f.parent.parent.name) for f in run_dir.glob("*/fold*/probabilities.npz")
    )
    if not finished:
        return None
    took: list[tuple[str, float | None]] = [(finished[0][1], None)]
    for (before, _), (at, candidate) in zip(finished, finished[1:], strict=False):
        took.append((candidate, at - before if at - before < IDLE_GAP_S else None))
    total = 0.0
    for candidate, seconds in took:
        if seconds is None:
            known = [s for c, s in took if c == candidate and s is not None]
            seconds = float(np.median(known)) if known else 0.0
        total += seconds
    return total / 60
