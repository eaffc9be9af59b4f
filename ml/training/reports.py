"""What the training command reports about the model it fitted (never used to choose it).

- DS2 at the reference R peaks (the classic inter-patient figure) and resampled to other rates;
- out of fold, end to end: each fold's networks run the portal's whole `analyze()` (its own
  reader, R-peak detector and lead choice) on the patients that fold held out, per database;
- noise robustness on nstdb (MIT-BIH 118/119 with electrode-motion noise at 24 to -6 dB),
  against the clean 118/119 in the same run. These are training patients with noise added:
  a robustness measure, never a test of generalisation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ml.classifier import BeatClassifier
from ml.features import beat_inputs
from ml.filters import resample
from ml.model_card import metrics_from_score_dict
from ml.research import aami
from ml.research.databases import DS2, load_record
from ml.research.evaluate import evaluate_record, summarise
from ml.training.selection import metrics_of

RESAMPLED_RATES_HZ = (128, 250, 500)
NSTDB_SNR_DB = {"24": 24, "18": 18, "12": 12, "06": 6, "00": 0, "_6": -6}


def classify_record(
    clf: BeatClassifier, leads_mv: np.ndarray, fs_hz: float, peaks: np.ndarray
) -> np.ndarray:
    """Classes at given R peaks, from as many leads as the classifier reads."""
    n_leads = min(clf.leads_read, leads_mv.shape[1])
    per_lead = [beat_inputs(leads_mv[:, i], fs_hz, peaks) for i in range(n_leads)]
    return clf.decide(clf.predict_proba_leads(per_lead), per_lead[0])


def ds2_at_reference_peaks(
    clf: BeatClassifier,
    mitdb_dir: Path,
    rates_hz: tuple[float | None, ...] = (None,),
    records: tuple[str, ...] = DS2,
) -> dict[str, dict[str, Any]]:
    """DS2 scored at the reference R peaks, at the native rate (None) and resampled."""
    totals = {rate: aami.BeatScore() for rate in rates_hz}
    per_record: dict[str, dict[str, Any]] = {}
    for name in tqdm(records, desc="DS2 at reference peaks", unit="record"):
        rec = load_record(mitdb_dir, name)
        for rate in rates_hz:
            fs = rec.fs_hz if rate is None else float(rate)
            leads = rec.leads_mv if rate is None else resample(rec.leads_mv, rec.fs_hz, fs)
            peaks = np.rint(rec.beat_samples * fs / rec.fs_hz).astype(np.int64)
            peaks = np.clip(peaks, 0, leads.shape[0] - 1)
            predicted = classify_record(clf, leads, fs, peaks)
            score = aami.score_from_labels(rec.beat_classes, predicted)
            totals[rate] = totals[rate] + score
            if rate is None:
                per_record[name] = {
                    "accuracy": score.accuracy,
                    "confusion": score.confusion.tolist(),
                }
    out = {("native" if r is None else f"{r} Hz"): totals[r].as_dict() for r in rates_hz}
    out["native"]["per_record"] = per_record
    return out


def resampling_table(ds2: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each rate against the native one: accuracy, S Se, V Se and their differences."""
    native = _rates(ds2["native"])
    rows = []
    for key, result in ds2.items():
        m = _rates(result)
        rows.append(
            {
                "rate": key,
                **{k: m[k] for k in ("accuracy", "S_se", "S_ppv", "V_se", "V_ppv")},
                "accuracy_change": m["accuracy"] - native["accuracy"],
                "S_se_change": m["S_se"] - native["S_se"],
                "V_se_change": m["V_se"] - native["V_se"],
                "within_tolerance": abs(m["accuracy"] - native["accuracy"]) <= 0.01
                and abs(m["S_se"] - native["S_se"]) <= 0.03
                and abs(m["V_se"] - native["V_se"]) <= 0.03,
            }
        )
    return rows


def _rates(result: dict[str, Any]) -> dict[str, float]:
    """Accuracy and S/V Se and +P of a score dict, with nothing-to-measure read as 0."""
    return {k: float(v or 0.0) for k, v in metrics_from_score_dict(result).items()}


def fold_classifier(member_files: list[Path], chosen: BeatClassifier) -> BeatClassifier:
    """A fold's networks (averaged) with the shipped decision rule and lead combination."""
    from ml.training.network import load_network

    return classifier_of_networks([load_network(f) for f in member_files], chosen)


def classifier_of_networks(members: list[Any], chosen: BeatClassifier) -> BeatClassifier:
    """Keras networks (averaged; distinct names) with `chosen`'s decision rule and leads."""
    from ml.training.network import averaged

    clf = BeatClassifier(**chosen.get_params())
    clf.model_ = members[0] if len(members) == 1 else averaged(members)
    clf.decision_ = dict(chosen.decision_)
    clf.af_threshold_ = chosen.af_threshold_
    clf.af_p_threshold_ = chosen.af_p_threshold_
    clf.lead_combination_ = chosen.lead_combination_
    clf.card_ = {"version": "fold model"}
    return clf


def end_to_end_out_of_fold(
    data_root: Path, folds: list[list[str]], fold_models: list[BeatClassifier]
) -> dict[str, dict[str, Any]]:
    """Per database: every patient analysed by `analyze()` with the networks of the fold that
    held it out, scored as `python -m ml.evaluate` scores (detected peaks, 150 ms)."""
    results: dict[str, list[Any]] = {}
    for patients, clf in zip(folds, fold_models, strict=True):
        for patient in tqdm(patients, desc="end-to-end out of fold", unit="record"):
            database, record = patient.split("/")
            result = evaluate_record(data_root / database, record, clf)
            results.setdefault(database, []).append(result)
    return {db: summarise(rs, model_name="fold models") for db, rs in results.items()}


def noise_table(clf: BeatClassifier, data_root: Path) -> list[dict[str, Any]]:
    """R-peak and V figures and quality flags of nstdb's noisy 118/119 against the clean ones.

    `noisy_time_flagged` is the share of the noise-bearing time (where the nstdb record differs
    from the clean MIT-BIH record) that signal quality marked noisy or unusable."""
    rows = []
    for base in ("118", "119"):
        clean = load_record(data_root / "mitdb", base)
        for suffix in (None, *NSTDB_SNR_DB):
            folder, name = (
                (data_root / "mitdb", base)
                if suffix is None
                else (data_root / "nstdb", f"{base}e{suffix}")
            )
            result = evaluate_record(folder, name, clf, keep_analysis=True)
            score = metrics_of(result.beats)
            row: dict[str, Any] = {
                "record": name,
                "snr_db": None if suffix is None else NSTDB_SNR_DB[suffix],
                "rpeak_se": result.rpeaks["se"],
                "rpeak_ppv": result.rpeaks["ppv"],
                "V_se": score["V_se"],
                "V_ppv": score["V_ppv"],
                "accuracy": score["accuracy"],
            }
            if suffix is not None and result.analysis is not None:
                noisy = load_record(folder, name)
                present = noise_present(noisy.signal_mv, clean.signal_mv, clean.fs_hz)
                row["noisy_time_flagged"] = flagged_share(
                    result.analysis.quality, present, clean.fs_hz
                )
            rows.append(row)
    return rows


def noise_present(noisy_mv: np.ndarray, clean_mv: np.ndarray, fs_hz: float) -> np.ndarray:
    """Samples where nstdb added noise: where (noisy - clean) changes within a second.
    Elsewhere the two records differ by a constant offset alone."""
    n = min(noisy_mv.size, clean_mv.size)
    window = np.ones(int(fs_hz)) / int(fs_hz)
    change = np.abs(np.diff(noisy_mv[:n] - clean_mv[:n], prepend=0.0))
    change[0] = 0.0
    return np.convolve(change, window, mode="same") > 1e-3


def flagged_share(quality: list[Any], noise_present: np.ndarray, fs_hz: float) -> float | None:
    """Share of the noise-bearing samples that signal quality marked noisy or unusable."""
    t_s = np.flatnonzero(noise_present) / fs_hz
    if t_s.size == 0:
        return None
    flagged = np.zeros(t_s.size, dtype=bool)
    for segment in quality:
        if segment.level != "good":
            flagged |= (t_s >= segment.start_s) & (t_s < segment.end_s)
    return float(flagged.mean())
