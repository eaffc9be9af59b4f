"""AAMI beat classifier (N, S, V, F, Q): a small two-input Keras model, scikit-learn style.

A 1-D CNN reads the beat's morphology window and a dense branch reads the patient-normalised
RR and shape features (see `ml.features`). The shipped model is verified by the SHA-256 in
its model card before Keras touches the file, and is loaded with `safe_mode=True`.
TensorFlow is imported lazily so importing this module (for `CLASSES`, `model_info`) is cheap.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from ml.features import BASE_FEATURE_NAMES, RR_FEATURE_NAMES, BeatInputs

CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")
VERSION = "beat-cnn-2.0.0"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "model"
WEIGHTS_FILE = "beat_classifier.keras"
CARD_FILE = "model_card.json"
PREDICT_BATCH = 8192
MEMBER_SEED_STEP = 1000  # ensemble member k is trained from seed + 1000 k
# How the probabilities of two leads of one beat are combined: the preferred lead alone, or
# the mean of both. Cross-validation chooses; the model card names the choice.
LEAD_COMBINATIONS: tuple[str, ...] = ("primary", "mean")
_AF_CONTEXT = RR_FEATURE_NAMES.index("af_context_irregularity")


class ModelIntegrityError(RuntimeError):
    """The weights file is missing or is not the one the model card describes."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def class_weights(y: np.ndarray, power: float, max_weight: float) -> dict[int, float]:
    """(n_N / n_c) ** power, capped: rare classes count more without one beat dominating."""
    counts = np.array([(np.asarray(y) == c).sum() for c in CLASSES], dtype=np.float64)
    ref = counts.max()
    return {
        k: float(min((ref / n) ** power, max_weight)) if n > 0 else 1.0
        for k, n in enumerate(counts)
    }


class BeatClassifier:
    """Hyper-parameters in `__init__`; learned state in attributes ending with `_`."""

    def __init__(
        self,
        *,
        conv_filters: tuple[int, ...] = (16, 32, 32),
        kernel_size: int = 7,
        dense_units: int = 32,
        dropout: float = 0.3,
        noise_std: float = 0.02,
        learning_rate: float = 1e-3,
        batch_size: int = 256,
        class_weight_power: float = 0.5,
        max_class_weight: float = 30.0,
        n_members: int = 1,
        features: tuple[str, ...] = BASE_FEATURE_NAMES,
    ) -> None:
        self.conv_filters = tuple(conv_filters)
        self.kernel_size = kernel_size
        self.dense_units = dense_units
        self.dropout = dropout
        self.noise_std = noise_std
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.class_weight_power = class_weight_power
        self.max_class_weight = max_class_weight
        self.n_members = n_members
        self.features = tuple(features)  # the columns of `BeatInputs.rr_features` it reads
        self.model_: Any = None
        self.decision_: dict[str, float] = dict.fromkeys(CLASSES, 0.0)
        self.af_threshold_: float | None = None
        self.af_p_threshold_: float | None = None
        self.lead_combination_: str = "primary"
        self.card_: dict[str, Any] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "conv_filters": list(self.conv_filters),
            "kernel_size": self.kernel_size,
            "dense_units": self.dense_units,
            "dropout": self.dropout,
            "noise_std": self.noise_std,
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            "class_weight_power": self.class_weight_power,
            "max_class_weight": self.max_class_weight,
            "n_members": self.n_members,
            "features": list(self.features),
        }

    def _build(
        self, window_samples: int, n_features: int, features: np.ndarray, name: str = "beat_cnn"
    ) -> Any:
        import keras
        from keras import layers

        window_in = keras.Input((window_samples, 1), name="window")
        x = layers.GaussianNoise(self.noise_std)(window_in) if self.noise_std > 0 else window_in
        for filters in self.conv_filters:
            x = layers.Conv1D(filters, self.kernel_size, padding="same", activation="relu")(x)
            x = layers.MaxPooling1D(2)(x)
        x = layers.Flatten()(x)
        x = layers.Dense(self.dense_units, activation="relu")(x)

        features_in = keras.Input((n_features,), name="rr_features")
        norm = layers.Normalization(name="feature_scaling")
        norm.adapt(features)
        f = layers.Dense(self.dense_units // 2, activation="relu")(norm(features_in))

        h = layers.Concatenate()([x, f])
        h = layers.Dense(self.dense_units, activation="relu")(h)
        h = layers.Dropout(self.dropout)(h)
        out = layers.Dense(len(CLASSES), activation="softmax", name="beat_class")(h)
        model = keras.Model([window_in, features_in], out, name=name)
        model.compile(
            optimizer=keras.optimizers.Adam(self.learning_rate),
            loss="sparse_categorical_crossentropy",
        )
        return model

    def fit(
        self,
        inputs: BeatInputs,
        y: np.ndarray,
        *,
        epochs: int = 12,
        seed: int = 0,
        verbose: int | str = "auto",
        callbacks: list[Any] | None = None,
    ) -> BeatClassifier:
        """Train from scratch with fixed seeds; `y` holds class names ('N'..'Q').

        With `n_members` > 1, that many networks are trained from different seeds (seed,
        seed + 1000, ...) and averaged: one beat's probabilities then depend less on the
        luck of one initialisation. The callbacks see each member's training in turn."""
        import keras
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
        inputs = inputs.with_features(self.features)
        labels = np.asarray([CLASSES.index(str(c)) for c in np.asarray(y).ravel()], np.int64)
        if labels.size != len(inputs):
            raise ValueError("y needs one class per beat")
        members = []
        for index in range(self.n_members):
            keras.utils.set_random_seed(seed + MEMBER_SEED_STEP * index)
            member = self._build(
                inputs.windows.shape[1],
                inputs.rr_features.shape[1],
                inputs.rr_features,
                name="beat_cnn" if self.n_members == 1 else f"beat_cnn_{index}",
            )
            member.fit(
                {"window": inputs.windows, "rr_features": inputs.rr_features},
                labels,
                epochs=epochs,
                batch_size=self.batch_size,
                class_weight=class_weights(y, self.class_weight_power, self.max_class_weight),
                shuffle=True,
                verbose=verbose,
                callbacks=callbacks or [],
            )
            members.append(member)
        self.model_ = members[0] if len(members) == 1 else _averaged(members)
        return self

    def predict_proba(self, inputs: BeatInputs) -> np.ndarray:
        """float32 [n, 5] class probabilities (columns in CLASSES order, rows sum to 1)."""
        if self.model_ is None:
            raise RuntimeError("the classifier is not fitted; call fit() or load()")
        return predict_proba_with(self.model_, inputs.with_features(self.features))

    @property
    def leads_read(self) -> int:
        """How many leads of a beat the model reads (its card's `lead_combination`)."""
        return 1 if self.lead_combination_ == "primary" else 2

    def predict_proba_leads(self, per_lead: list[BeatInputs]) -> np.ndarray:
        """Probabilities from the inputs of one or more leads at the same R peaks (the
        preferred lead first), combined as the model card says (`lead_combination_`). The
        leads go through the network as one batch (one call, not one per lead)."""
        used = per_lead[: self.leads_read]
        proba = self.predict_proba(BeatInputs.concatenate(used))
        n = len(used[0])
        return combined_proba([proba[k * n : (k + 1) * n] for k in range(len(used))])

    def predict(self, inputs: BeatInputs) -> np.ndarray:
        """Class names after the decision rule chosen by cross-validation (see `decide_beats`)."""
        return self.decide(self.predict_proba(inputs), inputs)

    def decide(self, proba: np.ndarray, inputs: BeatInputs) -> np.ndarray:
        """The shipped decision rule for probabilities already computed from `inputs`."""
        return decide_beats(proba, inputs, self.decision_, self.af_threshold_, self.af_p_threshold_)

    def save(self, directory: Path | str, card: dict[str, Any] | None = None) -> Path:
        """Write `beat_classifier.keras` and `model_card.json` (with the weights' SHA-256)."""
        if self.model_ is None:
            raise RuntimeError("nothing to save: the classifier is not fitted")
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        weights = out / WEIGHTS_FILE
        self.model_.save(weights)
        full = {
            **(card or {}),
            "version": VERSION,
            "classes": list(CLASSES),
            "hyper_parameters": self.get_params(),
            "decision_log_bias": self.decision_,
            "decision_af_threshold": self.af_threshold_,
            "decision_af_p_threshold": self.af_p_threshold_,
            "lead_combination": self.lead_combination_,
            "weights_file": WEIGHTS_FILE,
            "weights_sha256": sha256_of(weights),
            "weights_bytes": weights.stat().st_size,
        }
        (out / CARD_FILE).write_text(json.dumps(full, indent=2) + "\n")
        self.card_ = full
        return out

    @classmethod
    def load(cls, directory: Path | str = DEFAULT_MODEL_DIR) -> BeatClassifier:
        """Load a saved model after checking its SHA-256 against the model card."""
        import keras

        folder = Path(directory)
        card = read_card(folder)
        weights = folder / card.get("weights_file", WEIGHTS_FILE)
        if not weights.is_file():
            raise ModelIntegrityError(f"model weights not found: {weights}")
        actual = sha256_of(weights)
        if actual != card.get("weights_sha256"):
            raise ModelIntegrityError(
                f"model weights {weights} do not match the SHA-256 in {folder / CARD_FILE} "
                f"(expected {card.get('weights_sha256')}, got {actual}); refusing to load them"
            )
        params = card.get("hyper_parameters", {})
        params["conv_filters"] = tuple(params.get("conv_filters", (16, 32, 32)))
        params["features"] = tuple(params.get("features", BASE_FEATURE_NAMES))
        clf = cls(**params)
        clf.model_ = keras.saving.load_model(weights, safe_mode=True, compile=False)
        clf.decision_ = {c: float(card.get("decision_log_bias", {}).get(c, 0.0)) for c in CLASSES}
        threshold = card.get("decision_af_threshold")
        clf.af_threshold_ = None if threshold is None else float(threshold)
        p_threshold = card.get("decision_af_p_threshold")
        clf.af_p_threshold_ = None if p_threshold is None else float(p_threshold)
        clf.lead_combination_ = str(card.get("lead_combination", "primary"))
        clf.card_ = card
        return clf

    def model_info(self) -> dict[str, Any]:
        return _info_from_card(self.card_)


def _averaged(members: list[Any]) -> Any:
    """One Keras model whose output is the mean of the members' probabilities."""
    import keras
    from keras import layers

    window_in = keras.Input(members[0].inputs[0].shape[1:], name="window")
    features_in = keras.Input(members[0].inputs[1].shape[1:], name="rr_features")
    outputs = [member([window_in, features_in]) for member in members]
    mean = layers.Average(name="beat_class")(outputs)
    return keras.Model([window_in, features_in], mean, name="beat_cnn_ensemble")


_GRAPHS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _graph_of(model: Any) -> Any:
    """The model's forward pass as one TensorFlow graph (traced once per model, any batch
    size): about twice as fast as calling the Keras layers one by one."""
    graph = _GRAPHS.get(model)
    if graph is None:
        import tensorflow as tf

        signature = [
            tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32),
            tf.TensorSpec((None, *model.inputs[1].shape[1:]), tf.float32),
        ]
        graph = tf.function(
            lambda window, features: model([window, features], training=False),
            input_signature=signature,
        )
        _GRAPHS[model] = graph
    return graph


def predict_proba_with(model: Any, inputs: BeatInputs) -> np.ndarray:
    """Batched forward pass without Keras' predict() overhead (fast for one record)."""
    n = len(inputs)
    if n == 0:
        return np.zeros((0, len(CLASSES)), np.float32)
    forward = _graph_of(model)
    parts = []
    for start in range(0, n, PREDICT_BATCH):
        part = inputs.subset(slice(start, start + PREDICT_BATCH))
        out = forward(part.windows, part.rr_features)
        parts.append(np.asarray(out, dtype=np.float32))
    proba = np.concatenate(parts)
    return proba / proba.sum(axis=1, keepdims=True)


def combined_proba(per_lead: list[np.ndarray]) -> np.ndarray:
    """The mean of the leads' probabilities for the same beats (one lead: itself)."""
    return np.mean(np.stack(per_lead), axis=0) if len(per_lead) > 1 else per_lead[0]


def decide(proba: np.ndarray, log_bias: dict[str, float]) -> np.ndarray:
    """Arg-max of log-probability plus a per-class bias (the bias trades Se against +P)."""
    bias = np.array([log_bias.get(c, 0.0) for c in CLASSES], dtype=np.float64)
    scores = np.log(np.clip(proba, 1e-12, 1.0)) + bias
    return np.asarray(CLASSES, dtype="<U1")[np.argmax(scores, axis=1)]


def decide_beats(
    proba: np.ndarray,
    inputs: BeatInputs,
    log_bias: dict[str, float],
    af_threshold: float | None,
    af_p_threshold: float | None = None,
) -> np.ndarray:
    """The one decision rule used by training, evaluation and the product's analysis.

    Biased arg-max, then AF suppression: inside atrial fibrillation an "S" becomes "N",
    because there RR prematurity means nothing and AAMI labels those beats N. AF here is a
    sustained patternless irregular rhythm (the `af_context_irregularity` feature above
    `af_threshold`) and, when `af_p_threshold` is set, no consistent P wave (P-wave
    consistency below it): frequent atrial ectopy and pauses are irregular too, but keep
    their P waves, and their S beats must stay S. `af_threshold=None` switches the
    suppression off; cross-validation chooses among these.
    """
    classes = decide(proba, log_bias)
    if af_threshold is None or len(classes) == 0:
        return classes
    in_af = inputs.rr_features[:, _AF_CONTEXT] > af_threshold
    if af_p_threshold is not None:
        in_af &= inputs.p_wave_consistency < af_p_threshold
    return np.where((classes == "S") & in_af, "N", classes)


def read_card(directory: Path | str = DEFAULT_MODEL_DIR) -> dict[str, Any]:
    path = Path(directory) / CARD_FILE
    if not path.is_file():
        raise ModelIntegrityError(f"model card not found: {path}")
    card: dict[str, Any] = json.loads(path.read_text())
    return card


def _info_from_card(card: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": card.get("version", VERSION),
        "classes": card.get("classes", list(CLASSES)),
        "trained_on": card.get("data", {}).get("train"),
        "evaluated_on": card.get("data", {}).get("test"),
        "cv_metrics": card.get("cv_metrics"),
        "ds2_metrics": card.get("ds2_metrics"),
        "weights_sha256": card.get("weights_sha256"),
        "citation": card.get("citation"),
    }


def model_info(directory: Path | str = DEFAULT_MODEL_DIR) -> dict[str, Any]:
    """Version, classes and metrics from the model card, for the portal's info page."""
    return _info_from_card(read_card(directory))
