"""Beat classifier: the shipped model, its inputs, and AAMI scoring (real model, real data)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ml.classifier import (
    CLASSES,
    DEFAULT_MODEL_DIR,
    BeatClassifier,
    ModelIntegrityError,
    decide_beats,
    read_card,
)
from ml.classifier import model_info as read_model_info
from ml.features import (
    MODEL_FS_HZ,
    RR_FEATURE_NAMES,
    WINDOW_SAMPLES,
    BeatInputs,
    af_context_irregularity,
    beat_inputs,
    sinus_cycle_s,
)
from ml.research import aami
from ml.research.databases import DS1, DS2, PACED, default_data_dir, load_record
from ml.research.synthetic import sinus_or_af_mv
from ml.training.reports import classify_record

DATA_DIR = default_data_dir()
needs_data = pytest.mark.skipif(
    not (DATA_DIR / "100.hea").is_file(), reason=f"MIT-BIH not found in {DATA_DIR}"
)
# Per-record agreement with the reference at reference R peaks (both leads, as shipped): the
# model card's per-record DS2 accuracy, less a margin for numerical drift between CPUs.
RECORD_ACCURACY_MARGIN = 0.01


@pytest.fixture(scope="module")
def classifier() -> BeatClassifier:
    return BeatClassifier.load()


def test_split_is_disjoint_and_excludes_paced() -> None:
    assert len(DS1) == len(DS2) == 22
    assert not set(DS1) & set(DS2)
    assert not set(PACED) & (set(DS1) | set(DS2))


def test_shipped_model_loads_with_verified_hash(classifier: BeatClassifier) -> None:
    info = classifier.model_info()
    assert info["version"].startswith("beat-cnn-")
    assert info["classes"] == list(CLASSES)
    assert info["ds2_metrics"]["accuracy"] > 0
    assert read_model_info()["weights_sha256"] == info["weights_sha256"]
    assert (DEFAULT_MODEL_DIR / "beat_classifier.keras").stat().st_size < 2_000_000


def test_tampered_weights_are_refused(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_MODEL_DIR, tmp_path / "model")
    weights = tmp_path / "model" / "beat_classifier.keras"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        BeatClassifier.load_keras(tmp_path / "model")  # the portal reads the LiteRT file


def test_missing_card_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match="model card not found"):
        BeatClassifier.load(tmp_path)


def test_beat_inputs_one_row_per_peak_including_edges() -> None:
    rng = np.random.default_rng(0)
    signal_mv = rng.normal(0, 0.05, 10 * MODEL_FS_HZ)
    peaks = np.array([0, 3, 360, 720, 1080, 10 * MODEL_FS_HZ - 1])
    signal_mv[peaks] += 1.0
    inputs = beat_inputs(signal_mv, MODEL_FS_HZ, peaks)
    assert inputs.windows.shape == (peaks.size, WINDOW_SAMPLES, 1)
    assert inputs.rr_features.shape[0] == peaks.size
    assert inputs.windows.dtype == inputs.rr_features.dtype == np.float32
    assert np.isfinite(inputs.windows).all() and np.isfinite(inputs.rr_features).all()

    single = beat_inputs(signal_mv, MODEL_FS_HZ, np.array([500]))
    assert single.windows.shape == (1, WINDOW_SAMPLES, 1)
    empty = beat_inputs(signal_mv, MODEL_FS_HZ, np.array([], dtype=int))
    assert empty.windows.shape == (0, WINDOW_SAMPLES, 1)
    assert empty.rr_features.shape == (0, inputs.rr_features.shape[1])


def _synthetic_beats(
    beat_s: np.ndarray, ectopic: np.ndarray, duration_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """A signal with a narrow upright QRS for normal beats and a wide negative one for ectopic."""
    t_s = np.arange(int(duration_s * MODEL_FS_HZ)) / MODEL_FS_HZ
    signal_mv = np.zeros_like(t_s)
    for when_s, odd in zip(beat_s, ectopic, strict=True):
        width_s, height_mv = (0.04, -1.2) if odd else (0.012, 1.0)
        signal_mv += height_mv * np.exp(-0.5 * ((t_s - when_s) / width_s) ** 2)
    return signal_mv, np.round(beat_s * MODEL_FS_HZ).astype(int)


def test_template_is_the_normal_beat_with_frequent_ectopy() -> None:
    # 2 of every 5 beats are premature and ectopic-shaped, in couplets: the template (and so
    # the correlation with it) must still be the normal beat.
    rr_s = np.tile([1.0, 1.0, 1.0, 0.5, 0.5], 30)
    beat_s = 0.5 + np.cumsum(rr_s)
    ectopic = np.tile([False, False, False, True, True], 30)
    signal_mv, peaks = _synthetic_beats(beat_s, ectopic, beat_s[-1] + 1.0)
    features = beat_inputs(signal_mv, MODEL_FS_HZ, peaks).rr_features
    corr = features[:, RR_FEATURE_NAMES.index("corr_qrs_with_median_beat")]
    assert np.median(corr[~ectopic]) > 0.95
    assert np.median(corr[ectopic]) < 0.5


def test_shape_features_of_many_beats_are_each_beats_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 24-hour recording's 100k beats are compared with the template a block at a time
    (bounded temporaries): the figures are exactly those of all beats at once."""
    from ml import features

    rr_s = np.tile([1.0, 1.0, 1.0, 0.5, 0.5], 60)
    beat_s = 0.5 + np.cumsum(rr_s)
    signal_mv, peaks = _synthetic_beats(beat_s, np.tile([0, 0, 0, 1, 1], 60) > 0, beat_s[-1] + 1)
    windows = features.beat_waveforms(signal_mv, MODEL_FS_HZ, peaks).windows
    template = np.median(windows, axis=0)
    monkeypatch.setattr(features, "SHAPE_BLOCK_BEATS", 10**9)
    at_once = features._shape_features(windows, template)
    monkeypatch.setattr(features, "SHAPE_BLOCK_BEATS", 64)  # 300 beats: 5 blocks
    np.testing.assert_array_equal(features._shape_features(windows, template), at_once)


def test_af_context_separates_isolated_ectopy_from_irregular_rhythm() -> None:
    rng = np.random.default_rng(1)
    sinus_rr_s = np.full(300, 0.8)
    sinus_rr_s[::7] = 0.5  # an isolated premature beat every 7 beats ...
    sinus_rr_s[1::7] = 1.1  # ... with its compensatory pause
    bigeminy_rr_s = np.tile([0.5, 1.1], 150) + rng.normal(0, 0.01, 300)
    trigeminy_rr_s = np.tile([0.8, 0.5, 1.1], 100) + rng.normal(0, 0.01, 300)
    af_rr_s = rng.uniform(0.4, 1.0, 300)
    for organised in (sinus_rr_s, bigeminy_rr_s, trigeminy_rr_s):
        assert np.median(af_context_irregularity(organised)) < 0.05
    assert np.median(af_context_irregularity(af_rr_s)) > 0.2
    assert af_context_irregularity(np.array([0.8, 0.8])).tolist() == [0.0, 0.0]
    assert af_context_irregularity(af_rr_s[:20]).shape == (20,)


def test_premature_beats_stay_premature_when_they_dominate() -> None:
    # Sinus cycle 1.2 s; 70 % of beats come early (0.7 s) in runs. A mean or median RR would
    # call 0.7 s the normal rate; the sinus-cycle reference must still see them as premature.
    rng = np.random.default_rng(2)
    early = rng.random(600) < 0.7
    rr_s = np.where(early, 0.7, 1.2) + rng.normal(0, 0.01, 600)
    beat_s = np.cumsum(rr_s)
    ratio = sinus_cycle_s(beat_s, rr_s)
    assert np.median(rr_s[early] / ratio[early]) < 0.65
    assert np.median(rr_s[~early] / ratio[~early]) > 0.95
    signal_mv, peaks = _synthetic_beats(beat_s, early, beat_s[-1] + 1.0)
    features = beat_inputs(signal_mv, MODEL_FS_HZ, peaks).rr_features
    pre_over_sinus = features[:, RR_FEATURE_NAMES.index("pre_over_sinus")]
    assert np.median(pre_over_sinus[early]) < 0.65


def _inputs(af_context: list[float], p_consistency: list[float]) -> BeatInputs:
    n = len(af_context)
    features = np.zeros((n, len(RR_FEATURE_NAMES)), np.float32)
    features[:, RR_FEATURE_NAMES.index("af_context_irregularity")] = af_context
    windows = np.zeros((n, WINDOW_SAMPLES, 1), np.float32)
    return BeatInputs(windows, features, np.asarray(p_consistency, np.float32))


def test_decide_beats_suppresses_s_only_in_af_context() -> None:
    proba = np.array([[0.2, 0.7, 0.1, 0, 0]] * 2 + [[0.1, 0.1, 0.8, 0, 0]] * 2, np.float32)
    inputs = _inputs([0, 0.5, 0, 0.5], [0.05] * 4)
    assert decide_beats(proba, inputs, {}, None).tolist() == ["S", "S", "V", "V"]
    assert decide_beats(proba, inputs, {}, 0.2).tolist() == ["S", "N", "V", "V"]
    assert decide_beats(proba, inputs, {"S": -5.0}, None).tolist() == ["N", "N", "V", "V"]


def test_s_beats_with_consistent_p_waves_are_not_suppressed() -> None:
    # Three S calls in an irregular stretch: fibrillation (no P waves), and two stretches of
    # frequent atrial ectopy or pauses whose P waves stay alike. Only the first is AF.
    proba = np.array([[0.2, 0.7, 0.1, 0, 0]] * 3, np.float32)
    inputs = _inputs([0.5, 0.5, 0.5], [0.05, 0.6, 0.95])
    assert decide_beats(proba, inputs, {}, 0.2).tolist() == ["N", "N", "N"]
    assert decide_beats(proba, inputs, {}, 0.2, 0.3).tolist() == ["N", "S", "S"]


def test_beat_inputs_carry_p_wave_consistency_before_classification() -> None:
    # Every beat takes part (no classes yet): alike P waves in sinus, none in AF.
    rng = np.random.default_rng(8)
    medians = {}
    for af in (False, True):
        rr_s = rng.uniform(0.45, 1.0, 150) if af else rng.uniform(0.75, 1.1, 150)
        signal_mv, r_peak_s = sinus_or_af_mv(rr_s, af=af, fs_hz=MODEL_FS_HZ, seed=9)
        peaks = np.round(r_peak_s * MODEL_FS_HZ).astype(int)
        consistency = beat_inputs(signal_mv, MODEL_FS_HZ, peaks).p_wave_consistency
        assert consistency.shape == (peaks.size,)
        medians[af] = float(np.median(consistency))
    assert medians[False] > 0.8  # sinus: the same P wave before every beat
    assert medians[True] < 0.2  # fibrillation: no P wave tied to the QRS


def test_ensemble_is_the_mean_of_its_members_and_survives_save_and_load(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(10)
    n = 300
    inputs = BeatInputs(
        rng.normal(size=(n, WINDOW_SAMPLES, 1)).astype(np.float32),
        rng.normal(size=(n, len(RR_FEATURE_NAMES))).astype(np.float32),
        rng.random(n).astype(np.float32),
    )
    y = rng.choice(["N", "S", "V"], n)
    ensemble = BeatClassifier(
        n_members=3, conv_filters=(4,), dense_units=8, features=RR_FEATURE_NAMES
    )
    ensemble.fit(inputs, y, epochs=1, verbose=0)
    members = [layer for layer in ensemble.model_.layers if layer.name.startswith("beat_cnn_")]
    assert len(members) == 3
    read = inputs.with_features(ensemble.features)
    member_proba = [np.asarray(m([read.windows, read.rr_features])) for m in members]
    assert not np.allclose(member_proba[0], member_proba[1])  # different seeds, different nets
    proba = ensemble.predict_proba(inputs)
    np.testing.assert_allclose(proba, np.mean(member_proba, axis=0), atol=1e-5)
    ensemble.save(tmp_path, {})
    loaded = BeatClassifier.load(tmp_path)
    assert loaded.n_members == 3 and loaded.features == RR_FEATURE_NAMES
    np.testing.assert_allclose(loaded.predict_proba(inputs), proba, atol=1e-6)


def test_shipped_decision_rule_is_the_one_in_the_card(classifier: BeatClassifier) -> None:
    card = read_card()
    assert classifier.af_threshold_ == card["decision_af_threshold"]
    assert classifier.af_p_threshold_ == card["decision_af_p_threshold"]
    assert classifier.decision_ == card["decision_log_bias"]
    assert card["inputs"]["rr_features"] == card["hyper_parameters"].get(
        "features", list(RR_FEATURE_NAMES[:15])
    )
    assert set(card["inputs"]["rr_features"]) <= set(RR_FEATURE_NAMES)


@needs_data
def test_beat_inputs_resamples_other_rates() -> None:
    rec = load_record(DATA_DIR, "100")
    n = 250 * 60  # one minute at 250 Hz
    t_s = np.arange(n) / 250.0
    signal_250 = np.interp(t_s, np.arange(rec.signal_mv.size) / rec.fs_hz, rec.signal_mv)
    ref = rec.beat_samples[rec.beat_samples < 60 * rec.fs_hz]
    peaks_250 = np.round(ref * 250.0 / rec.fs_hz).astype(int)
    at_250 = beat_inputs(signal_250, 250.0, peaks_250)
    at_360 = beat_inputs(rec.signal_mv[: 60 * 360], rec.fs_hz, ref)
    assert at_250.windows.shape == at_360.windows.shape
    middle = slice(2, -2)
    corr = [
        np.corrcoef(a.ravel(), b.ravel())[0, 1]
        for a, b in zip(at_250.windows[middle], at_360.windows[middle], strict=True)
    ]
    assert np.median(corr) > 0.95


@needs_data
def test_predict_proba_rows_sum_to_one(classifier: BeatClassifier) -> None:
    rec = load_record(DATA_DIR, "100")
    proba = classifier.predict_proba(beat_inputs(rec.signal_mv, rec.fs_hz, rec.beat_samples))
    assert proba.shape == (rec.beat_samples.size, len(CLASSES))
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)


@needs_data
@pytest.mark.parametrize("name", ["100", "200", "228"])
def test_ds2_records_agree_with_reference(classifier: BeatClassifier, name: str) -> None:
    assert name in DS2
    rec = load_record(DATA_DIR, name)
    pred = classify_record(classifier, rec.leads_mv, rec.fs_hz, rec.beat_samples)
    assert set(np.unique(pred)) <= set(CLASSES)
    score = aami.score_beats(rec.beat_samples, rec.beat_classes, rec.beat_samples, pred, rec.fs_hz)
    assert score.accuracy is not None
    card_accuracy = classifier.card_["ds2_per_record"][name]["accuracy"]
    assert score.accuracy >= card_accuracy - RECORD_ACCURACY_MARGIN


def test_match_window_is_150_ms_and_one_to_one() -> None:
    fs_hz = 360.0
    ref = np.array([1000, 2000, 3000])
    det = np.array([1054, 2055, 2990, 3005])  # 54 samples = 150 ms: in; 55: out
    ref_idx, det_idx = aami.match_beats(ref, det, fs_hz)
    assert ref_idx.tolist() == [0, 2]
    assert det_idx.tolist() == [0, 3]  # 3000 takes its nearest detection, 2990 is extra


def test_score_beats_counts_misses_extras_and_rates() -> None:
    fs_hz = 360.0
    ref = np.array([100, 500, 900, 1300])
    ref_cls = np.array(["N", "S", "V", "N"])
    det = np.array([102, 498, 905, 2000])
    det_cls = np.array(["N", "N", "V", "V"])
    score = aami.score_beats(ref, ref_cls, det, det_cls, fs_hz)
    per = score.per_class()
    assert score.confusion[0, 0] == 1 and score.confusion[1, 0] == 1
    assert score.missed.tolist() == [1, 0, 0, 0, 0]
    assert score.extra.tolist() == [0, 0, 1, 0, 0]
    assert per["V"] == {"se": 1.0, "ppv": 0.5, "f1": pytest.approx(2 / 3), "support": 1}
    assert per["S"]["se"] == 0.0 and per["S"]["ppv"] is None  # no S predicted: undefined
    assert per["N"]["se"] == 0.5 and per["N"]["ppv"] == 0.5
    assert per["F"] == {"se": None, "ppv": None, "f1": None, "support": 0}
    assert score.accuracy == pytest.approx(2 / 5)


def test_f_predicted_as_v_is_not_a_v_false_positive() -> None:
    peaks = np.array([100, 500, 900])
    ref_cls = np.array(["V", "F", "N"])
    pred = np.array(["V", "V", "V"])
    per = aami.score_beats(peaks, ref_cls, peaks, pred, 360.0).per_class()
    assert per["V"]["ppv"] == 0.5  # the N->V counts, the F->V does not
    assert per["F"]["se"] == 0.0


def test_scores_add_up_over_records() -> None:
    peaks = np.array([100, 500])
    a = aami.score_beats(peaks, np.array(["N", "V"]), peaks, np.array(["N", "V"]), 360.0)
    b = aami.score_beats(peaks, np.array(["N", "V"]), peaks, np.array(["N", "N"]), 360.0)
    total = aami.sum_scores([a, b])
    assert total.confusion.sum() == 4
    assert total.per_class()["V"]["se"] == 0.5
    assert total.accuracy == 0.75
    assert aami.sum_scores([]).accuracy is None


def test_score_rpeaks_hand_cases() -> None:
    fs_hz = 360.0
    result = aami.score_rpeaks(np.array([100, 500, 900]), np.array([110, 520, 700, 2000]), fs_hz)
    assert result == {"tp": 2, "fn": 1, "fp": 2, "se": 2 / 3, "ppv": 0.5}
    empty = aami.score_rpeaks(np.array([]), np.array([]), fs_hz)
    assert empty == {"tp": 0, "fn": 0, "fp": 0, "se": None, "ppv": None}
    none_found = aami.score_rpeaks(np.array([100]), np.array([]), fs_hz)
    assert none_found["se"] == 0.0 and none_found["ppv"] is None


def test_morphology_features_tell_a_wide_beat_from_a_narrow_one() -> None:
    # Every fifth beat is wide and negative (ventricular-like): its QRS width and area against
    # the dominant beat rise well above 1; the narrow beats stay near 1.
    rr_s = np.full(100, 0.9)
    beat_s = 0.5 + np.cumsum(rr_s)
    wide = np.arange(beat_s.size) % 5 == 4
    signal_mv, peaks = _synthetic_beats(beat_s, wide, beat_s[-1] + 1.0)
    features = beat_inputs(signal_mv, MODEL_FS_HZ, peaks).rr_features
    width = features[:, RR_FEATURE_NAMES.index("qrs_width_over_median_beat")]
    area = features[:, RR_FEATURE_NAMES.index("qrs_area_over_median_beat")]
    assert np.median(width[~wide]) == pytest.approx(1.0, abs=0.15)
    assert np.median(width[wide]) > 2.0
    assert np.median(area[wide]) > 1.5 * np.median(area[~wide])
    # A model reads its own columns: the first 15 for the models of rounds 1-6.
    inputs = beat_inputs(signal_mv, MODEL_FS_HZ, peaks)
    assert inputs.with_features(RR_FEATURE_NAMES[:15]).rr_features.shape[1] == 15
    np.testing.assert_array_equal(
        inputs.with_features(("pre_rr_s",)).rr_features[:, 0], inputs.rr_features[:, 0]
    )
