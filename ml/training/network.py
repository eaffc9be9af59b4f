"""The beat classifier's Keras side: build, fit, average, save and read networks, and run them
as one TensorFlow graph. Training only: the portal runs the exported LiteRT file
(`ml.classifier.RuntimeNetwork`) and never imports this module."""

from __future__ import annotations

import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from ml.classifier import CLASSES, MEMBER_SEED_STEP, class_weights

if TYPE_CHECKING:
    from ml.classifier import BeatClassifier
    from ml.features import BeatInputs


def build_network(
    clf: BeatClassifier,
    window_samples: int,
    n_features: int,
    features: np.ndarray,
    name: str = "beat_cnn",
) -> Any:
    """One network with `clf`'s hyper-parameters; its feature scaling adapted to `features`."""
    window_in = keras.Input((window_samples, 1), name="window")
    x = layers.GaussianNoise(clf.noise_std)(window_in) if clf.noise_std > 0 else window_in
    for filters in clf.conv_filters:
        x = layers.Conv1D(filters, clf.kernel_size, padding="same", activation="relu")(x)
        x = layers.MaxPooling1D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(clf.dense_units, activation="relu")(x)

    features_in = keras.Input((n_features,), name="rr_features")
    norm = layers.Normalization(name="feature_scaling")
    norm.adapt(features)
    f = layers.Dense(clf.dense_units // 2, activation="relu")(norm(features_in))

    h = layers.Concatenate()([x, f])
    h = layers.Dense(clf.dense_units, activation="relu")(h)
    h = layers.Dropout(clf.dropout)(h)
    out = layers.Dense(len(CLASSES), activation="softmax", name="beat_class")(h)
    model = keras.Model([window_in, features_in], out, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(clf.learning_rate),
        loss="sparse_categorical_crossentropy",
    )
    return model


def fit_networks(
    clf: BeatClassifier,
    inputs: BeatInputs,
    y: np.ndarray,
    *,
    epochs: int,
    seed: int,
    verbose: int | str,
    callbacks: list[Any],
) -> Any:
    """`clf.n_members` networks trained from seeds seed, seed + 1000, ... and averaged (one
    network alone when n_members is 1). `inputs` already holds only the features `clf` reads."""
    tf.config.experimental.enable_op_determinism()
    labels = np.asarray([CLASSES.index(str(c)) for c in np.asarray(y).ravel()], np.int64)
    if labels.size != len(inputs):
        raise ValueError("y needs one class per beat")
    members = []
    for index in range(clf.n_members):
        keras.utils.set_random_seed(seed + MEMBER_SEED_STEP * index)
        member = build_network(
            clf,
            inputs.windows.shape[1],
            inputs.rr_features.shape[1],
            inputs.rr_features,
            name="beat_cnn" if clf.n_members == 1 else f"beat_cnn_{index}",
        )
        member.fit(
            {"window": inputs.windows, "rr_features": inputs.rr_features},
            labels,
            epochs=epochs,
            batch_size=clf.batch_size,
            class_weight=class_weights(y, clf.class_weight_power, clf.max_class_weight),
            shuffle=True,
            verbose=verbose,
            callbacks=callbacks,
        )
        members.append(member)
    return members[0] if len(members) == 1 else averaged(members)


def averaged(members: list[Any]) -> Any:
    """One Keras model whose output is the mean of the members' probabilities."""
    window_in = keras.Input(members[0].inputs[0].shape[1:], name="window")
    features_in = keras.Input(members[0].inputs[1].shape[1:], name="rr_features")
    outputs = [member([window_in, features_in]) for member in members]
    mean = layers.Average(name="beat_class")(outputs)
    return keras.Model([window_in, features_in], mean, name="beat_cnn_ensemble")


def read_network(content: bytes) -> Any:
    """A saved `.keras` file's bytes (already verified) as a model: safe mode (no pickled
    code), without its optimizer. Keras reads only named files, hence the temporary copy."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "network.keras"
        path.write_bytes(content)
        return keras.saving.load_model(path, safe_mode=True, compile=False)


def load_network(path: Path) -> Any:
    """A `.keras` file the trainer wrote itself (a fold's checkpoint), as a model."""
    return keras.saving.load_model(path, safe_mode=True, compile=False)


_GRAPHS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def forward_of(model: Any) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The model's forward pass as one TensorFlow graph (traced once per model, any batch
    size): about twice as fast as calling the Keras layers one by one."""
    graph = _GRAPHS.get(model)
    if graph is None:
        signature = [
            tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32),
            tf.TensorSpec((None, *model.inputs[1].shape[1:]), tf.float32),
        ]
        graph = tf.function(
            lambda window, rr_features: model([window, rr_features], training=False),
            input_signature=signature,
        )
        _GRAPHS[model] = graph

    def forward(windows: np.ndarray, rr_features: np.ndarray) -> np.ndarray:
        return np.asarray(graph(windows, rr_features), dtype=np.float32)

    return forward
