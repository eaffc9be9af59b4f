"""Train the shipped beat classifier: DS1 grouped CV to choose, DS1 to fit, DS2 once to report.

    python -m ml.train --data-dir ../shared/data/mitdb --out ml/model --seed 0

Honesty rules enforced by construction: candidates, epochs and the decision rule are chosen
only from out-of-fold predictions of a cross-validation grouped by DS1 record; the final model
is fitted on all of DS1; DS2 is predicted once, after everything is fixed, and only reported.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ml import aami
from ml.classifier import CLASSES, VERSION, BeatClassifier, decide_beats, predict_proba_with
from ml.features import RR_FEATURE_NAMES, WINDOW_SAMPLES, BeatInputs, beat_inputs
from ml.mitdb import CITATION, DS1, DS2, PACED, default_data_dir, load_record

N_FOLDS = 5
EPOCH_CHECKPOINTS = (8, 16, 24)
# Floors the project asks of DS2; used on DS1 CV only, as the selection objective.
FLOORS = {"S_se": 0.70, "S_ppv": 0.45, "V_se": 0.88, "V_ppv": 0.90, "accuracy": 0.92}
PUBLISHED = {  # README table, DS2 inter-patient, fractions
    "de Chazal 2004": {
        "S_se": 0.759,
        "S_ppv": 0.385,
        "V_se": 0.777,
        "V_ppv": 0.819,
        "accuracy": 0.862,
    },
    "Llamedo & Martinez 2011": {
        "S_se": 0.77,
        "S_ppv": 0.39,
        "V_se": 0.81,
        "V_ppv": 0.87,
        "accuracy": 0.93,
    },
    "Zhang 2014": {"S_se": 0.791, "S_ppv": 0.360, "V_se": 0.855, "V_ppv": 0.928, "accuracy": 0.867},
    "Garcia 2017": {
        "S_se": 0.620,
        "S_ppv": 0.530,
        "V_se": 0.873,
        "V_ppv": 0.594,
        "accuracy": 0.924,
    },
    "Mondejar-Guerra 2019": {
        "S_se": 0.78,
        "S_ppv": 0.50,
        "V_se": 0.77,
        "V_ppv": 0.94,
        "accuracy": 0.945,
    },
}
CANDIDATES: dict[str, dict[str, Any]] = {
    "small_w0.5": {"class_weight_power": 0.5},
    "small_w0.75": {"class_weight_power": 0.75},
    "small_w1.0": {"class_weight_power": 1.0},
}
# Each candidate is an average of this many networks trained from different seeds (round 5).
ENSEMBLE_MEMBERS = 3
S_BIAS_GRID = np.arange(-2.0, 3.01, 0.25)
V_BIAS_GRID = np.arange(-2.5, 2.01, 0.25)
# AF suppression (S -> N where the ~60-beat RR irregularity exceeds this); None = off.
# In DS1, AF (records 201, 203) typically scores well above 0.1 and sinus rhythm well below.
AF_THRESHOLD_GRID: tuple[float | None, ...] = (None, 0.10, 0.15, 0.20, 0.30)
# ... and, since round 5, only where P waves are inconsistent (below this); None = RR alone.
# In DS1, AF (201, 203) scores below about 0.15 and sinus rhythm mostly well above 0.3.
AF_P_THRESHOLD_GRID: tuple[float | None, ...] = (0.2, 0.3, 0.4, 0.5, None)  # ties: P-gated


@dataclass
class Dataset:
    records: list[str]
    inputs: BeatInputs
    y: np.ndarray
    record_of_beat: np.ndarray


def load_dataset(data_dir: Path, records: tuple[str, ...], label: str) -> Dataset:
    """Model inputs at the reference R positions (standard practice for training/evaluation)."""
    parts, ys, owners = [], [], []
    for name in tqdm(records, desc=f"features {label}", unit="record"):
        rec = load_record(data_dir, name)
        parts.append(beat_inputs(rec.signal_mv, rec.fs_hz, rec.beat_samples))
        ys.append(rec.beat_classes)
        owners.append(np.full(rec.beat_classes.size, name))
    return Dataset(
        list(records), BeatInputs.concatenate(parts), np.concatenate(ys), np.concatenate(owners)
    )


def grouped_folds(data: Dataset, n_folds: int) -> list[list[str]]:
    """Records dealt to folds in order of S-beat count, so every fold holds some S beats."""
    s_count = {r: int(((data.record_of_beat == r) & (data.y == "S")).sum()) for r in data.records}
    ordered = sorted(data.records, key=lambda r: (-s_count[r], r))
    folds: list[list[str]] = [[] for _ in range(n_folds)]
    for i, rec in enumerate(ordered):
        lap, pos = divmod(i, n_folds)
        folds[pos if lap % 2 == 0 else n_folds - 1 - pos].append(rec)
    return folds


def metrics_of(score: aami.BeatScore) -> dict[str, float]:
    per = score.per_class()
    out = {f"{c}_{m}": float(per[c][m] or 0.0) for c in ("S", "V", "F") for m in ("se", "ppv")}
    out["N_se"] = float(per["N"]["se"] or 0.0)
    out["accuracy"] = float(score.accuracy or 0.0)
    return out


def objective(m: dict[str, float]) -> float:
    """Total shortfall below the floors (0 when all are met) plus a small reward for the rest."""
    shortfall = sum(min(m[k] - floor, 0.0) for k, floor in FLOORS.items())
    return shortfall + 0.1 * float(np.mean([m[k] for k in FLOORS]))


@dataclass(frozen=True)
class Decision:
    """The decision rule's settings (see `ml.classifier.decide_beats`)."""

    log_bias: dict[str, float]
    af_threshold: float | None
    af_p_threshold: float | None


def score_with_rule(data: Dataset, proba: np.ndarray, rule: Decision) -> aami.BeatScore:
    """Score the shipped decision rule (`decide_beats`) on DS1 out-of-fold probabilities."""
    predicted = decide_beats(
        proba, data.inputs, rule.log_bias, rule.af_threshold, rule.af_p_threshold
    )
    return aami.score_from_labels(data.y, predicted)


def tune_decision(
    data: Dataset,
    proba: np.ndarray,
    p_grid: tuple[float | None, ...] = AF_P_THRESHOLD_GRID,
) -> Decision:
    """S/V log-bias and AF-suppression thresholds maximising the objective out of fold.

    The grid search re-implements `decide_beats` on class indices (about 10x faster than on
    class names); the result is checked against `decide_beats` itself before it is returned.
    """
    log_p = np.log(np.clip(proba, 1e-12, 1.0))
    ref = np.array([CLASSES.index(str(c)) for c in data.y], dtype=np.int64)
    af_context = data.inputs.rr_features[:, RR_FEATURE_NAMES.index("af_context_irregularity")]
    p_consistency = data.inputs.p_wave_consistency
    s_k, n_k = CLASSES.index("S"), CLASSES.index("N")
    suppression = [(None, None, None)] + [
        (af, p, (af_context > af) & (p_consistency < p) if p is not None else af_context > af)
        for af in AF_THRESHOLD_GRID
        if af is not None
        for p in p_grid
    ]
    best = (Decision({}, None, None), -np.inf)
    for s_bias in S_BIAS_GRID:
        for v_bias in V_BIAS_GRID:
            bias = {**dict.fromkeys(CLASSES, 0.0), "S": float(s_bias), "V": float(v_bias)}
            pred = np.argmax(log_p + np.array([bias[c] for c in CLASSES]), axis=1)
            for af_threshold, p_threshold, in_af in suppression:
                pred_af = pred if in_af is None else np.where((pred == s_k) & in_af, n_k, pred)
                counts = np.bincount(ref * len(CLASSES) + pred_af, minlength=len(CLASSES) ** 2)
                score = aami.BeatScore(counts.reshape(len(CLASSES), len(CLASSES)))
                value = objective(metrics_of(score))
                if value > best[1] + 1e-12:
                    best = (Decision(bias, af_threshold, p_threshold), value)
    check = objective(metrics_of(score_with_rule(data, proba, best[0])))
    assert abs(check - best[1]) < 1e-9, "tune_decision disagrees with decide_beats"
    return best[0]


def _checkpoint_callback(holdout: BeatInputs, store: dict[int, np.ndarray], members: int) -> Any:
    import keras

    class Checkpoints(keras.callbacks.Callback):
        """Held-out probabilities at each checkpoint, averaged over the ensemble's members."""

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if epoch + 1 in EPOCH_CHECKPOINTS:
                proba = predict_proba_with(self.model, holdout) / members
                store[epoch + 1] = store.get(epoch + 1, 0.0) + proba

    return Checkpoints()


def cross_validate(
    data: Dataset, candidates: dict[str, dict[str, Any]], seed: int
) -> list[dict[str, Any]]:
    """Out-of-fold probabilities for every candidate and epoch checkpoint, then their scores."""
    folds = grouped_folds(data, N_FOLDS)
    print("CV folds (DS1 records):", *(" ".join(f) for f in folds), sep="\n  ")
    rows = []
    for name, params in candidates.items():
        oof = {e: np.zeros((len(data.y), len(CLASSES)), np.float32) for e in EPOCH_CHECKPOINTS}
        for k, fold in enumerate(folds):
            held = np.isin(data.record_of_beat, fold)
            store: dict[int, np.ndarray] = {}
            print(f"[cv] {name} fold {k + 1}/{N_FOLDS}", flush=True)
            members = int(params.get("n_members", 1))
            BeatClassifier(**params).fit(
                data.inputs.subset(~held),
                data.y[~held],
                epochs=max(EPOCH_CHECKPOINTS),
                seed=seed + k,
                verbose=2,
                callbacks=[_checkpoint_callback(data.inputs.subset(held), store, members)],
            )
            for e in EPOCH_CHECKPOINTS:
                oof[e][held] = store[e]
        for e in EPOCH_CHECKPOINTS:
            plain = metrics_of(score_with_rule(data, oof[e], Decision({}, None, None)))
            rule = tune_decision(data, oof[e])
            tuned_score = score_with_rule(data, oof[e], rule)
            tuned = metrics_of(tuned_score)
            # Ablation: the best rule without the P-wave gate (round 4's rule family).
            rr_only = metrics_of(
                score_with_rule(data, oof[e], tune_decision(data, oof[e], (None,)))
            )
            rows.append(
                {
                    "candidate": name,
                    "params": {
                        k: list(v) if isinstance(v, tuple) else v for k, v in params.items()
                    },
                    "epochs": e,
                    "argmax": plain,
                    "bias": rule.log_bias,
                    "af_threshold": rule.af_threshold,
                    "af_p_threshold": rule.af_p_threshold,
                    "tuned": tuned,
                    "tuned_confusion": tuned_score.confusion.tolist(),
                    "objective": objective(tuned),
                    "rr_only_tuned": rr_only,
                    "rr_only_objective": objective(rr_only),
                }
            )
        print_cv_table(rows)
    return rows


def _pct(value: float | None) -> str:
    return "  -  " if value is None else f"{100 * value:5.1f}"


def _threshold(row: dict[str, Any]) -> str:
    value, p_value = row.get("af_threshold"), row.get("af_p_threshold")
    if value is None:
        return "off"
    return f"{value:.2f}" + ("" if p_value is None else f"/P<{p_value:.1f}")


def print_cv_table(rows: list[dict[str, Any]]) -> None:
    keys = ("S_se", "S_ppv", "V_se", "V_ppv", "F_se", "accuracy")
    print("\nDS1 grouped 5-fold CV (out-of-fold, %): argmax | with CV-tuned S/V log-bias")
    print(
        f"{'candidate':<14}{'ep':>3}  "
        + " ".join(f"{k:>6}" for k in keys)
        + "  |  "
        + " ".join(f"{k:>6}" for k in keys)
        + "   bS    bV    AF(/P)    objective (RR-only rule)"
    )
    for r in rows:
        print(
            f"{r['candidate']:<14}{r['epochs']:>3}  "
            + " ".join(f"{_pct(r['argmax'][k]):>6}" for k in keys)
            + "  |  "
            + " ".join(f"{_pct(r['tuned'][k]):>6}" for k in keys)
            + f"  {r['bias']['S']:4.2f} {r['bias']['V']:5.2f} {_threshold(r):>10}"
            + f"  {r['objective']:8.4f} ({r.get('rr_only_objective', float('nan')):7.4f})"
        )
    print(flush=True)


def evaluate_ds2(clf: BeatClassifier, data_dir: Path) -> tuple[aami.BeatScore, dict[str, Any]]:
    """Predict DS2 at the reference R peaks, record by record, and sum the counts."""
    total = aami.BeatScore()
    per_record = {}
    for name in tqdm(DS2, desc="DS2 evaluation", unit="record"):
        rec = load_record(data_dir, name)
        pred = clf.predict(beat_inputs(rec.signal_mv, rec.fs_hz, rec.beat_samples))
        score = aami.score_beats(
            rec.beat_samples, rec.beat_classes, rec.beat_samples, pred, rec.fs_hz
        )
        total = total + score
        per_record[name] = {"accuracy": score.accuracy, "confusion": score.confusion.tolist()}
    return total, per_record


def print_score(title: str, score: aami.BeatScore) -> None:
    print(f"\n{title}")
    print(f"{'class':<6}{'Se':>7}{'+P':>7}{'F1':>7}{'support':>9}")
    for cls, m in score.per_class().items():
        print(f"{cls:<6}{_pct(m['se']):>7}{_pct(m['ppv']):>7}{_pct(m['f1']):>7}{m['support']:>9}")
    print(f"accuracy {_pct(score.accuracy)} %")
    print(
        "confusion (rows reference, columns predicted):  " + "  ".join(f"{c:>6}" for c in CLASSES)
    )
    for cls, row in zip(CLASSES, score.confusion, strict=True):
        print(f"  {cls}  " + "  ".join(f"{v:>6}" for v in row))


def floor_report(m: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for key, floor in FLOORS.items():
        best_pub = max(p[key] for p in PUBLISHED.values())
        rows.append(
            {
                "metric": key,
                "ds2": m[key],
                "floor": floor,
                "pass": m[key] >= floor,
                "margin_vs_floor": m[key] - floor,
                "best_published": best_pub,
                "margin_vs_best_published": m[key] - best_pub,
            }
        )
    return rows


def draw_confusion(score: aami.BeatScore, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = score.confusion.astype(np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, data, title, fmt in (
        (axes[0], counts, "counts", "{:.0f}"),
        (axes[1], normalised, "row-normalised (recall)", "{:.2f}"),
    ):
        ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(CLASSES)):
            for j in range(len(CLASSES)):
                colour = "white" if normalised[i, j] > 0.6 else "black"
                ax.text(j, i, fmt.format(data[i, j]), ha="center", va="center", color=colour)
        ax.set_xticks(range(len(CLASSES)), CLASSES)
        ax.set_yticks(range(len(CLASSES)), CLASSES)
        ax.set_xlabel("predicted")
        ax.set_ylabel("reference")
        ax.set_title(title)
    fig.suptitle(f"{VERSION}: MIT-BIH DS2 (inter-patient, trained on DS1 only)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_markdown(card: dict[str, Any], path: Path) -> None:
    m = card["ds2_metrics"]
    bias = card["decision_log_bias"]
    lines = [
        f"# Beat classifier {card['version']}",
        "",
        "AAMI EC57 beat classes N, S (SVEB), V (VEB), F, Q from one ECG lead (MLII).",
        "",
        "## Data and split",
        f"- Training: MIT-BIH Arrhythmia Database DS1 ({len(DS1)} records, "
        f"{card['data']['train_beats']} beats): {' '.join(DS1)}.",
        f"- Test (inter-patient, used only to report, never to choose; no longer pristine, "
        f"see the development history): DS2 ({len(DS2)} records, "
        f"{card['data']['test_beats']} beats): {' '.join(DS2)}.",
        f"- Paced records excluded: {' '.join(PACED)}.",
        "- Beats are taken at the reference annotation R positions (standard practice); "
        "in the portal the R peaks come from the detector.",
        f"- Model selection: {N_FOLDS}-fold cross-validation grouped by DS1 record "
        f"(candidates, epochs and the S/V decision bias chosen on out-of-fold predictions). "
        f"Chosen: `{card['selection']['candidate']}` (each model the average of "
        f"{card['hyper_parameters'].get('n_members', 1)} networks trained from different "
        f"seeds), {card['selection']['epochs']} epochs, "
        f"log-bias S {bias['S']:+.2f}, V {bias['V']:+.2f}, AF suppression "
        + (
            "off."
            if card.get("decision_af_threshold") is None
            else f"for af_context_irregularity > {card['decision_af_threshold']:.2f}"
            + (
                "."
                if card.get("decision_af_p_threshold") is None
                else f" and P-wave consistency < {card['decision_af_p_threshold']:.1f}."
            )
        ),
        "",
        "## Reproduce",
        f"    {card['training']['command']}",
        "",
        f"Took {card['training']['wall_time_min']:.1f} min on {card['training']['machine']} "
        f"(CV {card['training']['cv_time_min']:.1f} min, final fit "
        f"{card['training']['final_fit_time_min']:.1f} min). Seed {card['training']['seed']}.",
        "",
        "## DS2 results (trained on DS1 only)",
        "",
        "| class | Se | +P | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for cls, v in m["per_class"].items():
        lines.append(
            f"| {cls} | {_pct(v['se'])} | {_pct(v['ppv'])} | {_pct(v['f1'])} | {v['support']} |"
        )
    lines += [
        f"\nAccuracy: {_pct(m['accuracy'])} %",
        "",
        "### Against the project floors and the published results (percentage points)",
        "",
        "| metric | DS2 | floor | pass | vs floor | best published | vs best published |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in card["floors"]:
        lines.append(
            f"| {r['metric']} | {_pct(r['ds2'])} | {_pct(r['floor'])} | "
            f"{'PASS' if r['pass'] else 'MISS'} | {100 * r['margin_vs_floor']:+.1f} | "
            f"{_pct(r['best_published'])} | {100 * r['margin_vs_best_published']:+.1f} |"
        )
    lines += [
        "",
        "Published (DS2, %):",
        "",
        "| paper | S Se | S +P | V Se | V +P | acc |",
        "|---|---|---|---|---|---|",
    ]
    for paper, p in PUBLISHED.items():
        lines.append(f"| {paper} | " + " | ".join(_pct(p[k]) for k in FLOORS) + " |")
    lines += [
        "",
        "![confusion matrix](confusion_matrix.png)",
        "",
        "## Development history",
        *[f"- {item}" for item in card["development_notes"]],
        "",
        "## Limitations",
        *[f"- {item}" for item in card["limitations"]],
        "",
        "## Citation",
        card["citation"],
        "",
        f"Weights `{card['weights_file']}` SHA-256 `{card['weights_sha256']}` "
        f"({card['weights_bytes']} bytes).",
        "",
    ]
    path.write_text("\n".join(lines))


DEVELOPMENT_NOTES = [
    "Round 1 (DS1 CV only): the window held the beat alone and the features lacked the "
    "P-region correlation and RR_i/RR_(i-1); best CV objective -0.38 (V +P 78 %, S +P 26 %).",
    "Round 2 (the design still used): window = beat + (beat - record median beat), 15 features; "
    "class-weight power 0.5/0.75/1.0 and 8/16/24 epochs compared on the same folds.",
    "DS2 was evaluated once, after the round-2 configuration was fixed.",
    "Round 3: robust patient normalisation for S beats. The template (median "
    "beat) is taken only from beats that are not premature (RR before >= 0.9 x record median "
    "RR); the 5-minute RR reference is a median instead of a mean; two features were added: "
    "RR / whole-record median RR and AF context (median |successive RR difference| / median "
    "RR over ~60 beats); and the decision rule may turn S into N where that AF context is "
    "high (AAMI labels beats in atrial fibrillation N), one function (ml.classifier."
    "decide_beats) used by training, evaluation and the portal's analysis. The same class-"
    "weight / epoch grid was rerun and the AF threshold (or off) tuned with the S/V bias, all "
    "on the same DS1 grouped-CV folds. Best CV objective: round 2 -0.189 (S Se 69.8 %, "
    "S +P 20.2 %, V Se 88.0 %, V +P 91.3 %, accuracy 90.9 %); round 3 +0.080 (cv_table). "
    "A second round-3 variant, template reference = 0.9 x the record's 75th-percentile RR, "
    "was run through the same CV grid and scored lower (best +0.053), so it was dropped. "
    "The training command also reports DS2 after its CV, so DS2 of the kept variant was "
    "printed before the other variant's CV had finished; the choice between them was made "
    "on the DS1 CV objective alone.",
    "Honesty note: the team had seen round 2's DS2 results, including per-record results, "
    "before round 3 was designed. Round 3 targets failure modes known from the literature "
    "and visible in DS1, and every choice was made on DS1 CV only, but DS2 is no longer a "
    "pristine, untouched test set: treat the DS2 figures in this card as optimistic, and a "
    "fresh external database as the real test.",
    "Outcome of round 3 on DS2: accuracy rose (88.7 -> 91.8 %) but S Se fell (20.5 -> "
    "13.4 %), S +P rose (11.1 -> 21.3 %) and V +P fell (93.5 -> 81.1 %). The large DS1 CV "
    "gain did not carry over: 22 DS1 records (two with AF) are too few to choose features and "
    "a decision rule that transfer to other patients.",
    "Round 4 (version 1.1): the rhythm reference is the patient's sinus cycle, "
    "estimated as the 80th percentile of RR over 5 minutes and over the whole record, in "
    "place of local means and medians; local-mean-normalised features were removed. Reason: "
    "ectopic beats only shorten intervals, so the long end of the RR distribution stays sinus "
    "even when most beats are ectopic, whereas a mean or median adopts the ectopic rate as "
    "'normal' and hides the ectopy (frequent atrial ectopy, runs, sick sinus with ectopic "
    "escape). DS1 has no ectopic-dominant record, so this could not be chosen by DS1 CV: it "
    "was decided a priori, from clinical reasoning and from the public MIT-BIH record "
    "descriptions, which list ectopic-dominant rhythms among the DS2 records; this is "
    "knowledge about the test set and is disclosed as such. The template threshold became "
    "pre-RR >= 0.85 x sinus cycle; the AF context became the smallest median |RR_i - "
    "RR_(i-lag)| over lags 1-3 (bigeminy and trigeminy repeat, AF does not). Percentile (80), "
    "template threshold (0.85) and lags were fixed before any run and not varied. The "
    "candidate grid, epochs, S/V bias and AF threshold were chosen by the same DS1 grouped CV "
    "as before; DS2 was predicted once, afterwards.",
    "Round 4 was shipped by a decision written down before its DS2 figures existed: DS1 CV "
    "rated it below round 3 (best objective -0.027 against +0.080, within the single-seed "
    "noise), but DS1 cannot test what it was built for, and picking between rounds 3 and 4 "
    "after seeing both on DS2 would have been model selection on DS2. No further round "
    "followed its DS2 result in that session.",
    "Round 5 (this model, version 1.2), two changes decided together, before any round-5 "
    "result existed. (1) Each model is the average of 3 networks trained from different "
    "seeds (ENSEMBLE_MEMBERS; the same architecture, inputs and candidate grid as round 4). "
    "Reason: variance. Rerunning round 4's single-seed CV on this machine gave different "
    "out-of-fold figures (oneDNN kernels differ by CPU), and neighbouring epochs and weights "
    "disagreed by 20-30 points of S Se: a single network's S calls are partly luck. (2) S -> N "
    "suppression now needs absent P waves as well as patternless RR irregularity: P-wave "
    "consistency (ml.atrial.p_wave_consistency over 32 beats, every beat taking part, "
    "computed in ml.features.beat_inputs) below a threshold chosen with the S/V bias and the "
    "RR threshold on the same DS1 grouped CV (grid 0.2/0.3/0.4/0.5 or RR alone; ties go to "
    "the P-gated rule; the CV table keeps the best RR-only rule of each row as an ablation). "
    "Reason: round 4's stated limitation - RR irregularity alone also marks frequent atrial "
    "ectopy and pauses, which keep their P waves, so their S beats were hidden; the rhythm "
    "analysis already required absent P waves for AF, and the beat rule now uses the same "
    "definition. These ideas were written down after round 4's pooled DS2 figures (S Se "
    "51.9 %) were known, which is knowledge of DS2 and is disclosed; no per-record DS2 "
    "result was looked at for them. Committed before the round-5 DS2 run: round 5 ships "
    "whatever DS2 shows, and no further round follows it.",
    "Outcome of round 5 on DS2 (predicted once, after that commit): S Se rose 51.9 -> 67.4 % "
    "and S +P fell 61.0 -> 56.2 %; V Se stayed 93.4 -> 93.5 % while V +P fell 91.8 -> 78.8 % "
    "(750 N beats called V, against 189); accuracy 94.6 -> 93.2 %. On DS1 CV the P gate beat "
    "the RR-only rule in every row (objective +0.014 to +0.033), and the ensembles scored "
    "below round 4's single networks (best -0.136 against -0.027; but a single-network rerun "
    "on this machine, even with the wider round-5 rule grid, scored -0.111 where round 4 had "
    "-0.038, so that comparison is mostly machine noise). As committed, round 5 ships "
    "although it trades a passing V +P for a nearer S Se: going back to round 4 on DS2's "
    "word would be model selection on DS2.",
]

LIMITATIONS = [
    "Trained on 22 MIT-BIH records (about 50,000 beats, 1970s ambulatory recordings, MLII lead); "
    "other leads, populations and devices are untested.",
    "F (fusion) and Q (paced/unclassifiable) classes are tiny in DS1 (415 and 8 beats); "
    "their predictions are unreliable. Paced records were excluded entirely.",
    "S-beat detection leans on RR prematurity. Where the RR rhythm is irregular over about a "
    "minute (AF context above the threshold in the decision rule) and, when the rule is "
    "P-gated, the P waves are inconsistent, S calls become N by design: this removes false S "
    "beats in atrial fibrillation, and would hide true S beats in irregular rhythms whose P "
    "waves are hard to see (noise, low P amplitude). The thresholds were chosen on DS1, which "
    "holds only two AF records (201, 203).",
    "Ventricular calls are over-sensitive: about 1.7 % of normal beats are called V on DS2, "
    "so V +P (78.8 %) is below the project floor; a V count should be checked on the strip.",
    "A refit on the same machine reproduces the DS2 figures exactly (checked for round 5; "
    "the .keras bytes, and so the SHA-256, differ per save). On another kind of CPU "
    "TensorFlow's oneDNN kernels change the numbers: a single network's S calls moved by "
    "several points between machines (the reason for the 3-network average).",
    "Metrics were measured at reference R positions; with detected R peaks, missed or extra "
    "detections lower them further.",
    "A decision aid only: not a certified medical device; a clinician reviews every report.",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "model")
    parser.add_argument("--cv-only", action="store_true", help="run the DS1 CV table and stop")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--candidates", nargs="*", default=list(CANDIDATES), choices=list(CANDIDATES)
    )
    parser.add_argument(
        "--members", type=int, default=ENSEMBLE_MEMBERS, help="networks averaged per model"
    )
    parser.add_argument("--cv-json", type=Path, help="write the CV table (JSON) here")
    parser.add_argument(
        "--reuse-cv", type=Path, help="skip CV: take the table a previous --cv-json run wrote"
    )
    args = parser.parse_args(argv)
    started = time.time()

    candidates = {c: {**CANDIDATES[c], "n_members": args.members} for c in args.candidates}
    ds1 = load_dataset(args.data_dir, DS1, "DS1")
    if args.reuse_cv:
        saved = json.loads(args.reuse_cv.read_text())
        rows, cv_time = saved["rows"], saved["cv_time_s"]
        print_cv_table(rows)
    else:
        rows = cross_validate(ds1, candidates, args.seed)
        cv_time = time.time() - started
    if args.cv_json:
        args.cv_json.write_text(json.dumps({"rows": rows, "cv_time_s": cv_time}, indent=1))
    best = max(rows, key=lambda r: r["objective"])
    print(
        f"chosen by DS1 CV: {best['candidate']} at {best['epochs']} epochs, "
        f"bias S {best['bias']['S']:+.2f} V {best['bias']['V']:+.2f}, "
        f"AF suppression {_threshold(best)}"
    )
    if args.cv_only:
        return 0

    fit_started = time.time()
    clf = BeatClassifier(**candidates[best["candidate"]])
    clf.fit(ds1.inputs, ds1.y, epochs=best["epochs"], seed=args.seed, verbose=2)
    clf.decision_ = dict(best["bias"])
    clf.af_threshold_ = best.get("af_threshold")
    clf.af_p_threshold_ = best.get("af_p_threshold")
    fit_time = time.time() - fit_started

    # DS2: predicted once, with everything above fixed. Reported, never used to choose.
    ds2_score, per_record = evaluate_ds2(clf, args.data_dir)
    print_score("DS2 (inter-patient test, trained on DS1 only)", ds2_score)
    ds2_metrics = metrics_of(ds2_score)
    floors = floor_report(ds2_metrics)
    for r in floors:
        print(
            f"  {r['metric']:<9} {_pct(r['ds2'])}  floor {_pct(r['floor'])}  "
            f"{'PASS' if r['pass'] else 'MISS'} ({100 * r['margin_vs_floor']:+.1f} pp); "
            f"best published {_pct(r['best_published'])} "
            f"({100 * r['margin_vs_best_published']:+.1f} pp)"
        )

    n_ds2 = int(ds2_score.confusion.sum())
    command = (
        f"python -m ml.train --data-dir {args.data_dir} --out {args.out} --seed {args.seed}"
        + (
            ""
            if args.candidates == list(CANDIDATES)
            else " --candidates " + " ".join(args.candidates)
        )
        + ("" if args.members == ENSEMBLE_MEMBERS else f" --members {args.members}")
    )
    card = {
        "data": {
            "database": "MIT-BIH Arrhythmia Database 1.0.0 (PhysioNet), lead MLII, 360 Hz",
            "train": "DS1",
            "train_records": list(DS1),
            "train_beats": int(len(ds1.y)),
            "train_class_counts": {c: int((ds1.y == c).sum()) for c in CLASSES},
            "test": "DS2",
            "test_records": list(DS2),
            "test_beats": n_ds2,
            "excluded_paced": list(PACED),
            "split": "de Chazal et al. 2004 inter-patient (AAMI EC57)",
            "r_peaks": "reference annotation R positions for training and evaluation",
        },
        "inputs": {
            "window_samples": WINDOW_SAMPLES,
            "rr_features": list(RR_FEATURE_NAMES),
            "model_fs_hz": 360,
        },
        "selection": {
            "method": f"{N_FOLDS}-fold CV grouped by DS1 record; objective = total shortfall "
            "below the floors + 0.1 * mean(S Se, S +P, V Se, V +P, accuracy)",
            "candidate": best["candidate"],
            "epochs": best["epochs"],
            "folds": grouped_folds(ds1, N_FOLDS),
        },
        "development_notes": DEVELOPMENT_NOTES,
        "cv_metrics": best["tuned"],
        "cv_table": rows,
        "ds2_metrics": ds2_score.as_dict(),
        "ds2_per_record": per_record,
        "floors": floors,
        "published": PUBLISHED,
        "training": {
            "command": command,
            "seed": args.seed,
            "machine": f"{platform.machine()} CPU, 2 cores, no GPU",
            "python": sys.version.split()[0],
            "cv_time_min": cv_time / 60,
            "final_fit_time_min": fit_time / 60,
            "wall_time_min": (time.time() - started + (cv_time if args.reuse_cv else 0)) / 60,
        },
        "limitations": LIMITATIONS,
        "citation": CITATION,
    }
    clf.save(args.out, card)
    card = json.loads((args.out / "model_card.json").read_text())
    draw_confusion(ds2_score, args.out / "confusion_matrix.png")
    write_markdown(card, args.out / "MODEL_CARD.md")
    print(f"\nwrote {args.out} in {(time.time() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
