"""`python -m ml.training.af_windows`: AF in recordings over 60 s (AF rounds 1 to 7).

    python -m ml.training.af_windows --data-dir ../shared/data --report-ds2   # about 4 min

Each round was pre-registered before any DS2 figure of it (`ROUNDS`). Round 1: (a) the beat
rule of `ml.rhythm` (irregular RR without a pattern and no consistent P wave), (b) 30-s
windows every 15 s called by the strip features' logistic model refitted on cinc2017
recordings plus MIT-BIH DS1 windows, (c) their union. Round 2, against the window model's false
AF in runs of frequent ectopy: (d_t) the beat rule or (the window model and the window's
ectopic-beat share < t). Round 3, against the same false AF: (f) the beat rule or the window
model refitted with one more input, how irregular the intervals between normal beats are
(`ml.strip_rhythm.nn_irregularity`). Round 4, against it again: (g) the beat rule or the
window model refitted with the share of short intervals followed by long ones, read from the
intervals alone (`ml.strip_rhythm.premature_then_pause`). Round 5, after the short strips'
round 5 chose a model with quadratic terms: (h) the beat rule or the window model reading the
eleven features, their squares and pairwise products (L2 10; frequent ectopy is irregular, but
with a P wave and ectopic beats, which only an interaction can weigh), (i) the same with the
premature-then-pause share as a twelfth feature. Round 6, against false AF in regular rhythms
without P waves (the window model called the paced MIT-BIH records 102 and 107, outside DS1
and DS2, AF at high risk: their RR intervals vary by 5-7 %): (j_t) the beat rule or (the
window model where the window's log(median successive RR difference / median RR) is above t),
t in -3.0, -2.75, -2.5 (5, 6 and 8 % of the RR interval). A safety gate need not win, only not
lose: the best j ships unless its criterion is more than `SAFETY_ROUNDS`' tolerance (half a
point) below (c)'s (the 5 % gate lost nothing and ships). Round 7 (2026-12-05), against false
AF in sinus rhythm with its P waves (a synthetic 2-min sinus arrhythmia, RR swinging +-25 %
with breathing, clean P waves, had one window called AF at P-wave consistency 0.85): (k) the
shipped (j-3.0) with the strips' rule-out, the window's AF counting only under a P-wave
consistency of `AF_EXCLUDING_P_WAVE_CONSISTENCY` (0.8), the same safety rule against j-3.0.
Units: each cinc2017 recording, and each 30-s DS1 window (AF when the reference marks >= 50
% of it AF). Five folds grouped by patient (DS1) or recording (cinc2017); the criterion is the
smaller of AF Se and +P over the pooled out-of-fold units; the latest round's best ships.
The table and the window model fitted on all units go to `ml/model/af_window_rule.json`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import wfdb
from tqdm import tqdm

from ml import rhythm
from ml.atrial import p_wave_consistency
from ml.research.databases import DS1, data_root
from ml.research.strips_eval import af_scores, reference_labels
from ml.strip_rhythm import (
    AF,
    AF_EXCLUDING_P_WAVE_CONSISTENCY,
    FEATURE_NAMES,
    KNOWN_FEATURE_NAMES,
    NN_FEATURE,
    PAUSE_FEATURE,
    QUADRATIC,
    WINDOW_RULE_FILE,
    WINDOW_S,
    StripRule,
    WindowGates,
    call_strip_from_features,
    nn_irregularity,
    window_features,
)
from ml.training.strips import N_FOLDS, Candidate, fit_rule

REFERENCE_AF_NOTES = ("(AFIB", "(AFL")
IRREGULARITY_GATES = (-3.0, -2.75, -2.5)  # round 6: log(median |dRR| / median RR)
CANDIDATES = {
    "a": "beat rule (ml.rhythm.af_interval_flags), episodes >= 30 s",
    "b": "30-s windows every 15 s called by the window model",
    "c": "(a) or (b)",
    "d0.1": "(a) or ((b) with < 10 % ectopic beats in the window)",
    "d0.2": "(a) or ((b) with < 20 % ectopic beats in the window)",
    "d0.3": "(a) or ((b) with < 30 % ectopic beats in the window)",
    "f": "(a) or the window model refitted with the irregularity of the normal-beat intervals",
    "g": "(a) or the window model refitted with the premature-then-pause share",
    "h": "(a) or the window model on the eleven features with quadratic terms (L2 10)",
    "i": "(a) or the window model on the twelve (with the premature-then-pause share), "
    "quadratic terms (L2 10)",
    **{
        f"j{t}": f"(a) or ((b) where log(median successive RR difference / median RR) > {t})"
        for t in IRREGULARITY_GATES
    },
    "k": f"(j-3.0) and the window's P-wave consistency < {AF_EXCLUDING_P_WAVE_CONSISTENCY}",
}
# The window model of each candidate (a reads none; b, c and d the strip's eleven, linear).
WINDOW_MODEL = Candidate(FEATURE_NAMES)
MODELS: dict[str, Candidate] = {
    "f": Candidate((*FEATURE_NAMES, NN_FEATURE)),
    "g": Candidate((*FEATURE_NAMES, PAUSE_FEATURE)),
    "h": Candidate(FEATURE_NAMES, QUADRATIC, 10.0),
    "i": Candidate((*FEATURE_NAMES, PAUSE_FEATURE), QUADRATIC, 10.0),
}
# Round -> (candidates, the commit that pre-registered it).
ROUNDS: dict[str, tuple[list[str], str]] = {
    "1": (["a", "b", "c"], "4a4fa45"),
    "2": (["c", "d0.1", "d0.2", "d0.3"], "b1419e2"),
    "3": (["c", "f"], "3258432"),
    "4": (["c", "g"], "882b5ec"),
    "5": (["c", "h", "i"], "0611684"),
    "6": (["c", *(f"j{t}" for t in IRREGULARITY_GATES)], "f2867b0"),
    "7": (["j-3.0", "k"], "b3d2829"),
}
# Candidates that gate the window model's AF calls (rounds 2 and 6), as the analysis does.
GATED: dict[str, WindowGates] = {
    **{f"d{t}": WindowGates(max_ectopic_share=t) for t in (0.1, 0.2, 0.3)},
    **{f"j{t}": WindowGates(min_successive_difference=t) for t in IRREGULARITY_GATES},
    "k": WindowGates(
        min_successive_difference=-3.0, max_p_wave_consistency=AF_EXCLUDING_P_WAVE_CONSISTENCY
    ),
}
# Rounds of a safety gate: (baseline, tolerance): the best other candidate ships unless its
# criterion is below the baseline's by more than the tolerance.
SAFETY_ROUNDS: dict[str, tuple[str, float]] = {"6": ("c", 0.005), "7": ("j-3.0", 0.005)}


@dataclass
class Units:
    """One row per unit: features (columns KNOWN_FEATURE_NAMES, NaN row when too few beats),
    label (A = AF; N, O, ~ as in cinc2017), patient or recording, and whether the beat rule
    calls it AF."""

    x: list[list[float]]
    label: list[str]
    group: list[str]
    beat_rule_af: list[bool]

    def add(self, features: dict[str, float] | None, label: str, group: str, af: bool) -> None:
        self.x.append(
            [np.nan] * len(KNOWN_FEATURE_NAMES)
            if features is None
            else [features[f] for f in KNOWN_FEATURE_NAMES]
        )
        self.label.append(label)
        self.group.append(group)
        self.beat_rule_af.append(af)


def _beat_rule_share(
    lead_mv: np.ndarray, fs_hz: float, beats: np.ndarray, classes: np.ndarray
) -> float:
    beat_s = beats / fs_hz
    flags = rhythm.af_interval_flags(
        beat_s, classes, p_wave_consistency(lead_mv, fs_hz, beat_s, classes)
    )
    return float(flags.mean()) if flags.size else 0.0


def collect_units(data_dir: Path) -> Units:
    from ml.analysis import analyze, default_classifier
    from ml.errors import RecordingError
    from ml.io import read_recording

    classifier = default_classifier()
    units = Units([], [], [], [])
    cinc = data_dir / "cinc2017"
    labels = reference_labels(cinc / "REFERENCE.csv")
    for name in tqdm(sorted(labels), desc="cinc2017", unit="recording"):
        try:
            recording = read_recording(cinc / f"{name}.hea", uncalibrated_ok=True)
            analysis = analyze(recording, classifier)
        except RecordingError:
            units.add(None, labels[name], f"cinc2017/{name}", False)
            continue
        lead_mv = recording.signal_mv[:, recording.lead_names.index(analysis.analysis_lead)]
        beats, classes = analysis.beats.samples, analysis.beats.classes
        share = _beat_rule_share(lead_mv, recording.fs_hz, beats, classes)
        features = dict(analysis.strip.features) if analysis.strip else None
        if features:  # the whole strip is one unit: its normal-beat irregularity too
            features[NN_FEATURE] = nn_irregularity(beats, classes, recording.fs_hz)
        units.add(features or None, labels[name], f"cinc2017/{name}", share >= 0.5)
    for name in tqdm(DS1, desc="MIT-BIH DS1 windows", unit="record"):
        _add_windows(units, data_dir / "mitdb", name, classifier)
    return units


def _add_windows(units: Units, folder: Path, name: str, classifier: Any) -> None:
    from ml.analysis import analyze
    from ml.io import read_recording

    recording = read_recording(folder / f"{name}.hea", uncalibrated_ok=True)
    analysis = analyze(recording, classifier)
    fs = recording.fs_hz
    lead_mv = recording.signal_mv[:, recording.lead_names.index(analysis.analysis_lead)]
    reference = reference_af_spans_s(folder, name, fs, recording.duration_s)
    beats, classes = analysis.beats.samples, analysis.beats.classes
    beat_s = beats / fs
    alone = rhythm.detect_rhythms(  # the beat rule alone, as before the round
        beat_s, classes, recording.duration_s, p_wave_consistency(lead_mv, fs, beat_s, classes)
    )
    beat_rule = [(e.start_s, e.end_s) for e in alone if e.label == rhythm.AF]
    for start, features in window_features(lead_mv, fs, beats, classes):
        start_s = start / fs
        label = "A" if _covered(reference, start_s) >= 0.5 else "N"
        units.add(features, label, f"mitdb/{name}", _covered(beat_rule, start_s) >= 0.5)


def reference_af_spans_s(
    folder: Path, name: str, fs_hz: float, duration_s: float
) -> list[tuple[float, float]]:
    annotation = wfdb.rdann(str(folder / name), "atr")
    marks = [
        (sample / fs_hz, note.strip("\x00"))
        for sample, note, symbol in zip(
            annotation.sample, annotation.aux_note, annotation.symbol, strict=True
        )
        if symbol == "+"
    ]
    ends = [t for t, _ in marks[1:]] + [duration_s]
    return [
        (t, end) for (t, note), end in zip(marks, ends, strict=True) if note in REFERENCE_AF_NOTES
    ]


def _covered(spans: list[tuple[float, float]], start_s: float) -> float:
    end_s = start_s + WINDOW_S
    return sum(max(0.0, min(e, end_s) - max(s, start_s)) for s, e in spans) / WINDOW_S


def grouped_folds(groups: np.ndarray, seed: int = 0) -> np.ndarray:
    """Fold of each unit: whole patients (DS1) and recordings (cinc2017) dealt to folds,
    each database on its own so every fold holds some of both."""
    rng = np.random.default_rng(seed)
    fold_of: dict[str, int] = {}
    for database in ("mitdb", "cinc2017"):
        members = sorted({g for g in groups.tolist() if g.startswith(database)})
        for i, g in enumerate(rng.permutation(members)):
            fold_of[str(g)] = i % N_FOLDS
    return np.array([fold_of[g] for g in groups.tolist()])


def round_table(units: Units) -> dict[str, dict[str, Any]]:
    """Out-of-fold AF Se / +P of each candidate: pooled, on cinc2017, on DS1 windows."""
    x, y, groups = np.array(units.x), np.array(units.label), np.array(units.group)
    folds = grouped_folds(groups)
    window_af = out_of_fold_window_af(x, y, folds, WINDOW_MODEL)
    beat_af = np.array(units.beat_rule_af)
    calls = {"a": beat_af, "b": window_af, "c": beat_af | window_af}
    for name, gates in GATED.items():  # the analysis's own gates, unit by unit
        admitted = np.array(
            [gates.admit(dict(zip(KNOWN_FEATURE_NAMES, row, strict=True))) for row in x]
        )
        calls[name] = beat_af | (window_af & admitted)
    for name, model in MODELS.items():
        calls[name] = beat_af | out_of_fold_window_af(x, y, folds, model)
    is_af = y == "A"
    cinc = np.char.startswith(groups.astype(str), "cinc2017")
    table: dict[str, dict[str, Any]] = {}
    for name, called in calls.items():
        row: dict[str, Any] = {}
        for part, mask in (
            ("pooled", np.ones_like(cinc)),
            ("cinc2017", cinc),
            ("mitdb_ds1", ~cinc),
        ):
            row[part] = af_scores(called[mask], is_af[mask])
        row["criterion"] = min(row["pooled"]["se"], row["pooled"]["ppv"])
        table[name] = row
    return table


def out_of_fold_window_af(
    x: np.ndarray, y: np.ndarray, folds: np.ndarray, model: Candidate
) -> np.ndarray:
    """Each unit's call by the window `model` (its features: columns of KNOWN_FEATURE_NAMES
    in `x`) fitted without its fold."""
    columns = [KNOWN_FEATURE_NAMES.index(f) for f in model.features]
    called = np.zeros(len(y), dtype=bool)
    for k in range(N_FOLDS):
        rule = _fit(x[folds != k][:, columns], y[folds != k], model)
        for i in np.flatnonzero(folds == k):
            row = dict(zip(KNOWN_FEATURE_NAMES, x[i], strict=True))
            known = not np.isnan(x[i]).any()
            call = call_strip_from_features(row if known else None, rule, whole_strip=False)
            called[i] = call.label == AF
    return called


def round_choice(number: str, candidates: list[str], table: dict[str, dict[str, Any]]) -> str:
    """The candidate a round ships: the best by the criterion; in a safety round the best
    other than the baseline, unless it loses more than the tolerance to it."""

    def criterion(name: str) -> float:
        return float(table[name]["criterion"])

    if number not in SAFETY_ROUNDS:
        return max(candidates, key=criterion)
    baseline, tolerance = SAFETY_ROUNDS[number]
    gate = max((c for c in candidates if c != baseline), key=criterion)
    return gate if criterion(gate) >= criterion(baseline) - tolerance else baseline


def _fit(x: np.ndarray, y: np.ndarray, model: Candidate) -> StripRule:
    return fit_rule(x, y, features=model.features, terms=model.terms, l2=model.l2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=data_root())
    parser.add_argument("--out", type=Path, default=WINDOW_RULE_FILE)
    parser.add_argument(
        "--report-ds2",
        action="store_true",
        help="after the fit, measure DS2 AF by duration once and write it beside the table",
    )
    args = parser.parse_args(argv)
    units = collect_units(args.data_dir)
    table = round_table(units)
    for name, row in table.items():
        print(
            f"({name}) pooled Se {row['pooled']['se']:.3f} +P {row['pooled']['ppv']:.3f}; "
            f"cinc2017 {row['cinc2017']['se']:.3f}/{row['cinc2017']['ppv']:.3f}; "
            f"DS1 windows {row['mitdb_ds1']['se']:.3f}/{row['mitdb_ds1']['ppv']:.3f}"
        )
    rounds: dict[str, dict[str, Any]] = {}
    for number, (candidates, commit) in ROUNDS.items():
        rounds[number] = {
            "candidates": candidates,
            "pre_registered_in": commit,
            "best": round_choice(number, candidates, table),
        }
        if number in SAFETY_ROUNDS:
            rounds[number]["baseline_and_tolerance"] = list(SAFETY_ROUNDS[number])
    shipped = str(rounds[max(rounds)]["best"])
    print("best of each round:", {n: r["best"] for n, r in rounds.items()}, "shipped:", shipped)
    model = MODELS.get(shipped, WINDOW_MODEL)
    shipped_gates = GATED.get(shipped, WindowGates())
    columns = [KNOWN_FEATURE_NAMES.index(f) for f in model.features]
    rule = _fit(np.array(units.x)[:, columns], np.array(units.label), model)
    args.out.write_text(
        json.dumps(
            {
                "rule": rule.to_dict(),
                "candidates": CANDIDATES,
                "out_of_fold": table,
                "rounds": rounds,
                "shipped": shipped,
                # The window model's AF counts only below this ectopic share (None: always).
                "max_ectopic_share": shipped_gates.max_ectopic_share,
                # ... and only above this irregularity (None: always).
                "min_successive_difference": shipped_gates.min_successive_difference,
                # ... and only below this P-wave consistency (None: always).
                "max_p_wave_consistency": shipped_gates.max_p_wave_consistency,
                "n_units": len(units.label),
                "command": "python -m ml.training.af_windows --data-dir ../shared/data "
                "--report-ds2",
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {args.out}")
    if args.report_ds2:
        report_ds2(args.out, args.data_dir / "mitdb")
    return 0


def report_ds2(rule_file: Path, mitdb_dir: Path) -> None:
    """DS2 AF by duration with the shipped pipeline (the rule in `rule_file` must be the one
    the analysis reads), written into the rule file: reported, never used to choose."""
    from ml.research.databases import DS2
    from ml.research.evaluate import evaluate_record, summarise
    from ml.strip_rhythm import forget_shipped_rules

    forget_shipped_rules()  # the analysis must read the rule just written, not the one before
    results = [evaluate_record(mitdb_dir, name) for name in tqdm(DS2, desc="DS2", unit="record")]
    af = summarise(results)["rhythm"]["AF"]
    card = json.loads(rule_file.read_text())
    card["ds2_af_by_duration"] = {
        k: af[k] for k in ("se", "ppv", "reference_s", "records", "detected_elsewhere_s")
    }
    rule_file.write_text(json.dumps(card, indent=1) + "\n")
    print(f"DS2 AF by duration: Se {af['se']:.3f} +P {af['ppv']:.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
