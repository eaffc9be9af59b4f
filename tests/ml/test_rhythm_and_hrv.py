"""Rhythm rules and heart-rate variability on beat sequences with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.hrv import heart_rate_summary


def _beats(
    rr_s: list[float] | np.ndarray, classes: str | None = None, start_s: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    times = start_s + np.concatenate([[0.0], np.cumsum(rr_s)])
    labels = np.array(list(classes)) if classes else np.full(len(times), "N")
    assert len(labels) == len(times)
    return times, labels


def _labels(times: np.ndarray, classes: np.ndarray) -> dict[str, list[rhythm.Episode]]:
    found: dict[str, list[rhythm.Episode]] = {}
    for episode in rhythm.detect_rhythms(times, classes, float(times[-1]) + 1):
        found.setdefault(episode.label, []).append(episode)
    return found


def test_regular_rhythm_is_sinus_with_rate_labels() -> None:
    for rr, label in ((1.0, rhythm.SINUS), (1.3, rhythm.BRADY), (0.5, rhythm.TACHY)):
        times, classes = _beats([rr] * 120)
        found = _labels(times, classes)
        assert set(found) == {label}, (rr, set(found))
        assert found[label][0].duration_s == pytest.approx(rr * 120, rel=0.05)


def test_ventricular_tachycardia_needs_three_fast_v_beats() -> None:
    rr = [0.8] * 30 + [0.4] * 5 + [0.8] * 30
    classes = "N" * 31 + "VVVVV" + "N" * 30
    times, labels = _beats(rr, classes)
    vt = _labels(times, labels)[rhythm.VT]
    assert len(vt) == 1 and vt[0].n_beats == 5
    assert vt[0].start_s == pytest.approx(times[31])
    # Two V beats, or three slow ones, are not VT.
    times, labels = _beats([0.8] * 60, "N" * 30 + "VV" + "N" * 29)
    assert rhythm.VT not in _labels(times, labels)
    times, labels = _beats([0.8] * 30 + [0.9] * 3 + [0.8] * 27, "N" * 30 + "VVV" + "N" * 28)
    assert rhythm.VT not in _labels(times, labels)


def test_svt_bigeminy_and_trigeminy() -> None:
    times, labels = _beats([0.8] * 20 + [0.45] * 6 + [0.8] * 20, "N" * 20 + "S" * 6 + "N" * 21)
    assert rhythm.SVT in _labels(times, labels)
    times, labels = _beats([0.6, 1.0] * 10, "NV" * 10 + "N")
    assert len(_labels(times, labels)[rhythm.BIGEMINY]) == 1
    times, labels = _beats([0.8, 0.6, 1.0] * 8, "NNV" * 8 + "N")
    assert len(_labels(times, labels)[rhythm.TRIGEMINY]) == 1


def test_pause_and_dropped_beat() -> None:
    times, labels = _beats([0.8] * 20 + [2.6] + [0.8] * 20)
    pause = _labels(times, labels)[rhythm.PAUSE]
    assert len(pause) == 1 and pause[0].duration_s == pytest.approx(2.6)
    times, labels = _beats([0.8] * 20 + [1.6] + [0.8] * 20)
    found = _labels(times, labels)
    assert rhythm.DROPPED in found and rhythm.PAUSE not in found


def test_atrial_fibrillation_is_irregularly_irregular() -> None:
    rng = np.random.default_rng(5)
    regular = 0.9 + 0.03 * np.sin(np.arange(100) / 4)  # sinus arrhythmia: smooth changes
    irregular = rng.uniform(0.45, 1.1, 150)
    times, labels = _beats(np.concatenate([regular, irregular, regular]))
    af = _labels(times, labels)[rhythm.AF]
    assert len(af) == 1
    af_start, af_end = times[100], times[250]
    assert af[0].start_s == pytest.approx(af_start, abs=15)
    assert af[0].end_s == pytest.approx(af_end, abs=15)
    times, labels = _beats(regular)
    assert rhythm.AF not in _labels(times, labels)


def test_bigeminy_is_not_mistaken_for_af() -> None:
    times, labels = _beats([0.55, 1.05] * 100, "NV" * 100 + "N")
    found = _labels(times, labels)
    assert rhythm.AF not in found and rhythm.BIGEMINY in found


def test_hrv_from_known_intervals() -> None:
    rr = np.array([0.8, 0.9] * 50)  # alternating: every successive difference is 100 ms
    times = np.concatenate([[0.0], np.cumsum(rr)])
    summary = heart_rate_summary(np.round(times * 1000).astype(int), 1000.0)
    assert summary.mean_bpm == pytest.approx(60 / 0.85, rel=1e-3)
    assert summary.sdnn_ms == pytest.approx(np.std(rr, ddof=1) * 1000, rel=1e-3)
    assert summary.rmssd_ms == pytest.approx(100.0, rel=1e-3)
    assert summary.pnn50 == pytest.approx(1.0)
    assert summary.min_bpm == pytest.approx(60 / 0.85, rel=0.02)


def test_hrv_uses_only_normal_to_normal_intervals() -> None:
    rr = np.full(60, 1.0)
    rr[30], rr[31] = 0.5, 1.5  # a premature beat and its compensatory pause
    times = np.round(np.concatenate([[0.0], np.cumsum(rr)]) * 500).astype(int)
    normal = np.ones(len(times), dtype=bool)
    normal[31] = False
    with_ectopy = heart_rate_summary(times, 500.0)
    nn_only = heart_rate_summary(times, 500.0, normal)
    assert with_ectopy.rmssd_ms > 50
    assert nn_only.rmssd_ms == pytest.approx(0.0, abs=1e-6)
    assert nn_only.n_nn == 58


def test_no_beats_no_numbers() -> None:
    summary = heart_rate_summary(np.array([100]), 360.0)
    assert summary.mean_bpm is None and summary.n_nn == 0
    assert rhythm.detect_rhythms(np.array([1.0, 2.0]), np.array(["N", "N"]), 10.0) == []


def _every_nth_ectopic(n_beats: int, every: int) -> tuple[np.ndarray, np.ndarray]:
    """Beat samples at 500 Hz of sinus rhythm at 75 bpm with a premature beat every `every`th
    beat (its compensatory pause after it), and the normal-beat mask."""
    rr_s = np.full(n_beats - 1, 0.8)
    ectopic = np.zeros(n_beats, dtype=bool)
    ectopic[every::every] = True
    for i in np.flatnonzero(ectopic):
        if 0 < i < n_beats - 1:
            rr_s[i - 1], rr_s[i] = 0.5, 1.1
    times_s = np.concatenate([[0.0], np.cumsum(rr_s)])
    return np.round(times_s * 500).astype(int), ~ectopic


def test_hrv_is_withheld_with_frequent_ectopic_beats_and_says_why() -> None:
    samples, normal = _every_nth_ectopic(300, every=4)  # 25 % ectopic: half the intervals NN
    summary = heart_rate_summary(samples, 500.0, normal, np.ones(len(samples), dtype=bool))
    assert summary.sdnn_ms is summary.rmssd_ms is summary.pnn50 is None
    assert summary.mean_bpm is not None and summary.n_nn > 100  # the rate stays
    assert summary.hrv_reason == (
        "frequent ectopic or unclassified beats: 51% of the intervals in sinus rhythm are "
        "between two normal beats (at least 80% needed)"
    )


def test_hrv_is_kept_with_occasional_ectopic_beats() -> None:
    samples, normal = _every_nth_ectopic(300, every=20)  # 5 %: 90 % of the intervals NN
    summary = heart_rate_summary(samples, 500.0, normal, np.ones(len(samples), dtype=bool))
    assert summary.hrv_reason is None
    assert summary.sdnn_ms == pytest.approx(0.0, abs=1e-6)  # every NN interval is 0.8 s


def test_intervals_outside_sinus_stretches_neither_count_for_nor_against_hrv() -> None:
    """Paroxysmal AF with clean sinus rhythm around it: HRV of the sinus stretches."""
    samples, normal = _every_nth_ectopic(300, every=1000)  # no ectopic beat
    in_sinus = np.ones(len(samples), dtype=bool)
    in_sinus[50:250] = False  # two thirds of the recording in AF
    summary = heart_rate_summary(samples, 500.0, normal & in_sinus, in_sinus)
    assert summary.hrv_reason is None and summary.n_nn == 98  # 49 on either side


def test_hrv_needs_more_than_a_handful_of_intervals() -> None:
    samples, normal = _every_nth_ectopic(6, every=1000)
    summary = heart_rate_summary(samples, 500.0, normal)
    assert summary.sdnn_ms is None and summary.mean_bpm == pytest.approx(75.0)
    assert summary.hrv_reason == (
        "only 5 intervals between two normal beats in sinus rhythm (at least 8 needed)"
    )


def test_mitbih_232_reads_no_hrv_from_its_few_normal_intervals() -> None:
    """232's beats are mostly atrial premature beats; its few NN intervals span long pauses
    (SDNN read 430 ms before HRV needed most intervals to be NN)."""
    from ml.analysis import analyze
    from ml.io import read_recording
    from ml.research.databases import data_root

    analysis = analyze(read_recording(data_root() / "mitdb" / "232.hea"))
    rate = analysis.heart_rate
    assert rate.sdnn_ms is None and rate.mean_bpm is not None
    assert rate.hrv_reason is not None and rate.hrv_reason.startswith("frequent ectopic")
