"""Pooling fold networks of several cross-validation runs (`ml.research.pipeline_out_of_fold`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ml.analysis import default_classifier
from ml.research.pipeline_out_of_fold import pooled_fold_classifier


def _saved_network(path: Path, seed: int) -> Path:
    """A small network with the beat classifier's inputs, named as every run names its first
    member."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    window_in = keras.Input((8, 1), name="window")
    features_in = keras.Input((3,), name="rr_features")
    joined = layers.Concatenate()([layers.Flatten()(window_in), features_in])
    out = layers.Dense(5, activation="softmax", name="beat_class")(joined)
    keras.Model([window_in, features_in], out, name="beat_cnn_0").save(path)
    return path


def test_networks_of_two_runs_named_alike_are_averaged(tmp_path: Path) -> None:
    import keras

    files = [_saved_network(tmp_path / f"run{i}_member0.keras", seed=i) for i in range(2)]
    pooled = pooled_fold_classifier(files, default_classifier())
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(4, 8, 1)), rng.normal(size=(4, 3))]
    alone = [keras.saving.load_model(f, compile=False).predict(inputs, verbose=0) for f in files]
    assert not np.allclose(alone[0], alone[1])
    np.testing.assert_allclose(
        pooled.model_.predict(inputs, verbose=0), (alone[0] + alone[1]) / 2, rtol=1e-5
    )
