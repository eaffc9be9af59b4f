"""N and S calls the classifier doubted that look like the patient's own V calls are read V;
a doubted call that looks like the normal beats, a confident N call, and any call on a
recording with too few V calls for a template keep their class."""

from __future__ import annotations

import numpy as np
import pytest

from ml.features import MODEL_FS_HZ, WINDOW_BEFORE_S, WINDOW_DECIMATION, WINDOW_SAMPLES
from ml.ventricular_lookalikes import (
    MIN_V_CALLS,
    NOTE_PHRASE,
    LookalikeSettings,
    lookalikes,
    lookalikes_note,
)

T_S = -WINDOW_BEFORE_S + np.arange(WINDOW_SAMPLES // 2) * WINDOW_DECIMATION / MODEL_FS_HZ


def _gauss(at_s: float, width_s: float) -> np.ndarray:
    return np.exp(-0.5 * ((T_S - at_s) / width_s) ** 2)


NORMAL = 1.5 * _gauss(0.0, 0.012) - 0.3 * _gauss(0.03, 0.01) + 0.3 * _gauss(0.25, 0.05)
VENTRICULAR = -1.2 * _gauss(0.02, 0.045) + 0.5 * _gauss(0.2, 0.06)


def _beats(shape: np.ndarray, n: int, seed: int) -> np.ndarray:
    return shape + np.random.default_rng(seed).normal(0, 0.03, (n, shape.size))


def _recording(n_ventricular: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows, classes and V probabilities: 60 confident N calls, `n_ventricular` V calls,
    then four calls: a doubted N and a doubted S shaped like the V calls, a doubted N shaped
    like the normal beats, and a confident N shaped like the V calls."""
    windows = np.vstack(
        [
            _beats(NORMAL, 60, seed=1),
            _beats(VENTRICULAR, n_ventricular, seed=2),
            _beats(VENTRICULAR, 2, seed=3),
            _beats(NORMAL, 1, seed=4),
            _beats(VENTRICULAR, 1, seed=5),
        ]
    )
    classes = np.array(["N"] * 60 + ["V"] * n_ventricular + ["N", "S", "N", "N"])
    v_probability = np.concatenate(
        [np.full(60, 0.001), np.full(n_ventricular, 0.9), [0.3, 0.35, 0.3, 0.01]]
    )
    return windows, classes, v_probability


def test_doubted_calls_shaped_like_the_patients_v_calls_are_read_v() -> None:
    windows, classes, v_probability = _recording()
    read_v = lookalikes(windows, classes, v_probability)
    assert read_v[-4:].tolist() == [True, True, False, False]
    assert not read_v[:-4].any()  # the V calls are V already, the normal beats stay N


def test_too_few_v_calls_make_no_template() -> None:
    windows, classes, v_probability = _recording(n_ventricular=MIN_V_CALLS - 1)
    assert not lookalikes(windows, classes, v_probability).any()
    windows, classes, v_probability = _recording(n_ventricular=MIN_V_CALLS)
    assert lookalikes(windows, classes, v_probability)[-4:-2].all()


def test_the_rule_off_reads_nothing_v() -> None:
    windows, classes, v_probability = _recording()
    assert not lookalikes(windows, classes, v_probability, settings=None).any()


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("beyond", [-0.01, 0.01])
def test_the_margin_is_over_the_match_with_the_normal_beats(beyond: float) -> None:
    """A call between the two shapes is read V only when it matches the V calls by at least
    the margin more than the normal beats (here, just under and just over its own lead)."""
    windows, classes, v_probability = _recording()
    windows[-4] = 0.5 * VENTRICULAR + 0.5 * NORMAL
    qrs = (T_S >= -0.15) & (T_S < 0.25)
    lead = _correlation(windows[-4, qrs], VENTRICULAR[qrs]) - _correlation(
        windows[-4, qrs], NORMAL[qrs]
    )
    settings = LookalikeSettings(0.2, 0.0, lead + beyond)
    assert lookalikes(windows, classes, v_probability, settings)[-4] == (beyond < 0)


def test_the_note_says_how_many_and_where() -> None:
    one = lookalikes_note(np.array([12.0]))
    assert one.startswith(NOTE_PHRASE)
    assert "1 beat (at 12.0 s) that the classifier was unsure of and that matches" in one
    many = lookalikes_note(np.array([12.0, 30.5]))
    assert "2 beats (at 12.0 s, 30.5 s)" in many and "that match this patient's" in many
