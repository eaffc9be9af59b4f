"""Training under protocol v2: patient-grouped folds across databases, augmentation that only
ever touches training rows, SNR as nstdb defines it, and the `--quick` command end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ml.features import (
    ALL_FEATURE_NAMES,
    OTHER_LEAD_FEATURE_NAMES,
    RR_FEATURE_NAMES,
    BeatInputs,
    with_other_lead,
)
from ml.model_card import KEYS, figure_rows, pct
from ml.research.databases import data_root
from ml.training.augment import NoiseBank, augmented_mv, qrs_signal_power, scaled_noise
from ml.training.cv import cv_wall_minutes, evaluation_rows, grouped_folds, training_rows
from ml.training.data import Dataset, other_lead_rows

DATA = data_root()
needs_data = pytest.mark.skipif(
    not (DATA / "svdb" / "RECORDS").is_file() or not (DATA / "nstdb" / "em.hea").is_file(),
    reason=f"svdb/nstdb not found in {DATA}",
)


def _toy_dataset() -> Dataset:
    """Four patients of each of two databases, two leads, clean and augmented rows."""
    rows = []
    for db in ("mitdb", "svdb"):
        for p in range(4):
            for lead in (0, 1):
                for augmented in (False, True):
                    for beat, cls in enumerate(["N"] * 20 + ["S"] * (p + 1) + ["V"] * 2):
                        rows.append((f"{db}/{p}", db, lead, augmented, beat, cls))
    n = len(rows)
    inputs = BeatInputs(np.zeros((n, 4, 1), np.float32), np.zeros((n, 2), np.float32), np.zeros(n))
    column = lambda i: np.array([r[i] for r in rows])  # noqa: E731
    return Dataset(inputs, column(5), column(0), column(1), column(2), column(3), column(4))


def test_folds_hold_out_whole_patients_of_both_databases() -> None:
    data = _toy_dataset()
    folds = grouped_folds(data, n_folds=2)
    assert sorted(p for f in folds for p in f) == sorted(data.patients)
    assert not set(folds[0]) & set(folds[1])
    for fold in folds:
        assert {p.split("/")[0] for p in fold} == {"mitdb", "svdb"}


def test_records_of_one_patient_are_held_out_together() -> None:
    data = _toy_dataset()
    twins = (("svdb/3", "svdb/2"), ("svdb/1", "svdb/0", "svdb/9"))  # svdb/9 is not there
    by_record = grouped_folds(data, n_folds=2, same_patient=())
    assert any(
        len({i for i, f in enumerate(by_record) for r in group if r in f}) > 1 for group in twins
    )  # dealt record by record, the toy's groups are split
    folds = grouped_folds(data, n_folds=2, same_patient=twins)
    assert sorted(p for f in folds for p in f) == sorted(data.patients)
    for group in twins:
        present = set(group) & set(data.patients)
        assert any(present <= set(fold) for fold in folds)


def test_training_never_sees_held_out_patients_and_evaluation_never_sees_augmentation() -> None:
    data = _toy_dataset()
    held = ["mitdb/1", "svdb/2"]
    train = training_rows(data, held, seed=0)
    assert not np.isin(data.patient[train], held).any()
    assert set(data.y[train]) >= {"S", "V"}
    # every S and V beat is kept; only normal beats are thinned
    others = ~np.isin(data.patient, held)
    assert (data.y[train] == "S").sum() == ((data.y == "S") & others).sum()
    assert (data.y[train] == "N").sum() < ((data.y == "N") & others).sum()
    scored = evaluation_rows(data, held)
    assert not data.augmented[scored].any()
    assert set(data.patient[scored]) == set(held)
    assert set(data.lead[scored]) == {0, 1}


def test_cv_time_counts_computing_not_the_pauses_between_sessions(tmp_path: Path) -> None:
    """Two sessions a day apart: 3 folds a minute apart, then a later candidate's 2 folds 30 s
    apart. The pause is not computing time; each session's first fold counts as its
    candidate's median fold."""
    finished_at = {"a/fold0": 0, "a/fold1": 60, "a/fold2": 120, "b/fold0": 86400, "b/fold1": 86430}
    for fold, at in finished_at.items():
        saved = tmp_path / fold / "probabilities.npz"
        saved.parent.mkdir(parents=True)
        saved.write_bytes(b"")
        os.utime(saved, (1e9 + at, 1e9 + at))
    assert cv_wall_minutes(tmp_path) == pytest.approx((60 + 60 + 60 + 30 + 30) / 60)
    assert cv_wall_minutes(tmp_path / "nothing") is None


def test_noise_is_scaled_to_the_requested_snr() -> None:
    rng = np.random.default_rng(1)
    fs = 360.0
    t = np.arange(int(60 * fs)) / fs
    ecg = np.zeros_like(t)
    peaks = np.arange(int(0.5 * fs), t.size - int(0.5 * fs), int(0.8 * fs))
    ecg[peaks] = 2.0  # 2 mV spikes: peak-to-peak 2 mV, signal power 4 / 8 = 0.5
    assert qrs_signal_power(ecg, fs, peaks) == pytest.approx(0.5)
    noise = rng.normal(0, 1, (t.size, 2))
    for snr_db in (-6, 0, 12, 24):
        scaled = scaled_noise(noise, t.size, 0.5, snr_db, rng)
        measured = 10 * np.log10(0.5 / np.mean(scaled**2))
        assert measured == pytest.approx(snr_db, abs=0.01)


@needs_data
def test_augmented_copy_keeps_the_beats_and_adds_real_noise() -> None:
    bank = NoiseBank.load(DATA / "nstdb")
    fs = 128.0
    t = np.arange(int(120 * fs)) / fs
    clean = np.sin(2 * np.pi * 1.0 * t) ** 21  # narrow peaks once a second
    peaks = np.flatnonzero(np.diff(np.sign(np.diff(clean))) < 0) + 1
    noisy = augmented_mv(clean, fs, peaks, bank, np.random.default_rng(0))
    assert noisy.shape == clean.shape and np.isfinite(noisy).all()
    assert not np.allclose(noisy, clean)
    assert bank.at_rate(fs).motion_mv.shape[0] == pytest.approx(
        bank.motion_mv.shape[0] * fs / bank.fs_hz, rel=1e-3
    )


@needs_data
def test_quick_training_runs_resumes_and_writes_a_consistent_card(tmp_path: Path) -> None:
    out, run = tmp_path / "model", tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "ml.train",
        "--quick",
        "--out",
        str(out),
        "--run-dir",
        str(run),
    ]
    first = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    card = json.loads((out / "model_card.json").read_text())
    assert card["protocol"]["version"] == 2
    assert set(card["out_of_fold"]["end to end (analyze)"]) == {"mitdb", "svdb"}
    markdown = (out / "MODEL_CARD.md").read_text()
    for name, m in figure_rows(card).items():
        assert f"| {name} | " + " | ".join(pct(m[k]) for k in KEYS) + " |" in markdown
    assert (out / "confusion_matrix.png").stat().st_size > 10_000
    # A second run finds every fold saved and trains none again.
    again = subprocess.run([*command, "--cv-only"], capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("saved, skipped") == 2
    assert "Epoch" not in again.stdout


def test_quick_mode_refuses_to_overwrite_the_shipped_model() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ml.train", "--quick"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "--quick writes a toy model" in result.stderr


def test_cv_report_lists_each_patients_missed_beats_most_first() -> None:
    """`--cv-report`'s breakdown: with the chosen row's leads and decision rule, the beats of
    a class each patient lost and what they were called, the patient who lost most first."""
    from ml.classifier import CLASSES
    from ml.training.selection_table import misses_by_patient

    data = _toy_dataset()
    proba = np.eye(len(CLASSES))[[CLASSES.index(c) for c in data.y]]
    wrong = (data.patient == "svdb/3") & (data.y == "V")
    proba[wrong] = np.eye(len(CLASSES))[CLASSES.index("S")]
    proba[(data.patient == "mitdb/0") & (data.y == "V") & (data.beat == 21)] = np.eye(len(CLASSES))[
        CLASSES.index("N")
    ]
    row = {"lead_combination": "mean", "bias": {}, "af_threshold": None, "af_p_threshold": None}
    misses = misses_by_patient(data, proba, row, "V")
    assert misses[0] == ("svdb/3", 2, {"S": 2})
    assert misses[1] == ("mitdb/0", 2, {"N": 1})  # its beat 21, N in both leads
    assert all(missed == {} for _, n, missed in misses[2:]) and len(misses) == 8


def test_cv_report_scores_each_lead_read_alone_as_a_single_lead_upload() -> None:
    """`--cv-report`'s single-lead figures: both leads' clean rows, each decided on its own
    probabilities with the row's rule, so a lead that misses what the other sees counts."""
    from ml.classifier import CLASSES
    from ml.training.selection_table import single_lead_scores

    data = _toy_dataset()
    proba = np.eye(len(CLASSES))[[CLASSES.index(c) for c in data.y]]
    # The second lead of svdb calls every V beat N (16 of its 32 single-lead V rows).
    blind = (data.database == "svdb") & (data.lead == 1) & (data.y == "V")
    proba[blind] = np.eye(len(CLASSES))[CLASSES.index("N")]
    row = {"lead_combination": "mean", "bias": {}, "af_threshold": None, "af_p_threshold": None}
    scores = single_lead_scores(data, proba, row)
    assert scores["svdb"]["V_se"] == pytest.approx(0.5)
    assert scores["svdb"]["V_ppv"] == scores["mitdb"]["V_se"] == 1.0


def test_each_clean_row_reads_the_same_beats_other_lead_and_augmented_rows_their_own() -> None:
    """Round 9's pairing of a record's block: clean lead-0 beat k with clean lead-1 beat k and
    back; an augmented row with itself (the single-lead case a handheld strip is)."""
    n = 5
    lead = np.repeat([0, 0, 1, 1], n)
    augmented = np.tile(np.repeat([False, True], n), 2)
    beat = np.tile(np.arange(n), 4)
    partner = other_lead_rows(lead, augmented, beat)
    clean0, aug0, clean1, aug1 = (np.arange(n) + k * n for k in range(4))
    np.testing.assert_array_equal(partner[clean0], clean1)
    np.testing.assert_array_equal(partner[clean1], clean0)
    np.testing.assert_array_equal(partner[aug0], aug0)
    np.testing.assert_array_equal(partner[aug1], aug1)
    # One lead: every row is its own partner.
    one = other_lead_rows(np.zeros(n, np.int8), np.zeros(n, bool), np.arange(n))
    np.testing.assert_array_equal(one, np.arange(n))


def test_the_other_leads_shape_features_follow_a_leads_own() -> None:
    n, own = 3, len(RR_FEATURE_NAMES)
    first = BeatInputs(np.zeros((n, 4, 1)), np.full((n, own), 1.0), np.zeros(n))
    second = BeatInputs(np.zeros((n, 4, 1)), np.full((n, own), 2.0), np.zeros(n))
    a, b = with_other_lead([first, second])
    assert a.rr_features.shape == (n, len(ALL_FEATURE_NAMES))
    np.testing.assert_array_equal(a.rr_features[:, :own], 1.0)
    np.testing.assert_array_equal(a.rr_features[:, own:], 2.0)  # the other lead's shape
    np.testing.assert_array_equal(b.rr_features[:, own:], 1.0)
    (alone,) = with_other_lead([first])
    np.testing.assert_array_equal(alone.rr_features[:, own:], 1.0)  # a lone lead: its own
    picked = a.with_features(("pre_rr_s", OTHER_LEAD_FEATURE_NAMES[0]))
    np.testing.assert_array_equal(picked.rr_features, [[1.0, 2.0]] * n)
