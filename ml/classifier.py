"""AAMI beat classifier (N, S, V, F, Q): a small two-input network, scikit-learn style.

A 1-D CNN reads the beat's morphology window and a dense branch reads the patient-normalised
RR and shape features (see `ml.features`). Keras trains it (`fit`, `save`: the `train` extra,
`ml.training.network`); the portal runs the same network exported to LiteRT
(`beat_classifier.tflite`, `python -m ml.export_runtime`) and never imports TensorFlow or
Keras. Each file is verified by the SHA-256 in the model card before it is read.
"""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ml.features import (
    BASE_FEATURE_NAMES,
    OTHER_LEAD_FEATURE_NAMES,
    RR_FEATURE_NAMES,
    BeatInputs,
    with_other_lead,
)

CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")
VERSION = "beat-cnn-2.1.0"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "model"
WEIGHTS_FILE = "beat_classifier.keras"
RUNTIME_FILE = "beat_classifier.tflite"
RUNTIME_FORMAT = "LiteRT"
EXPORT_COMMAND = "python -m ml.export_runtime"
CARD_FILE = "model_card.json"
PREDICT_BATCH = 8192  # rows per call of the TensorFlow graph (training)
RUNTIME_BATCH = 256  # rows per LiteRT call: its buffers grow with the batch, not its speed
# One thread per interpreter: a worker process analyses one recording at a time and a
# machine runs several; XNNPACK's extra threads spin, and on 2 shared cores they made a
# record's classification 2-5x slower (0.35-1.0 s against 0.19 s for MIT-BIH 100).
RUNTIME_THREADS = 1
# ... but batches run on two interpreters at once, each in a thread of its own: LiteRT releases
# the interpreter lock, nothing spins, and a record's beats are classified in half the time
# (MIT-BIH 100: 0.15 s against 0.30 s; 24 hours: 5.5 s against 11 s).
RUNTIME_INTERPRETERS = 2
MEMBER_SEED_STEP = 1000  # ensemble member k is trained from seed + 1000 k
# How the probabilities of two leads of one beat are combined: the preferred lead alone, or
# the mean of both. Cross-validation chooses; the model card names the choice.
LEAD_COMBINATIONS: tuple[str, ...] = ("primary", "mean")
_AF_CONTEXT = RR_FEATURE_NAMES.index("af_context_irregularity")


class ModelIntegrityError(RuntimeError):
    """A model file is missing or is not the one the model card describes."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified_file(folder: Path, card: dict[str, Any], kind: str) -> bytes:
    """The bytes of the card's `{kind}_file` ("weights": the Keras file; "runtime": the
    LiteRT file), refused unless their SHA-256 is the card's `{kind}_sha256`. The bytes
    checked are the bytes used: nothing can swap the file between check and load."""
    default = {"weights": WEIGHTS_FILE, "runtime": RUNTIME_FILE}[kind]
    path = folder / card.get(f"{kind}_file", default)
    expected = card.get(f"{kind}_sha256")
    if expected is None:
        hint = f"; run `{EXPORT_COMMAND}`" if kind == "runtime" else ""
        raise ModelIntegrityError(f"{folder / CARD_FILE} pins no {kind} file{hint}")
    if not path.is_file():
        raise ModelIntegrityError(f"model {kind} file not found: {path}")
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelIntegrityError(
            f"model {kind} file {path} does not match the SHA-256 in {folder / CARD_FILE} "
            f"(expected {expected}, got {actual}); refusing to load it"
        )
    return data


class RuntimeNetwork:
    """The exported network run by LiteRT: `(windows, rr_features) -> probabilities`.

    Calls are serialised per interpreter because a LiteRT interpreter is not thread-safe and
    the portal may share the loaded model between threads. `map` runs batches on up to
    `parallel` interpreters at once (each with one thread; LiteRT releases the interpreter
    lock while it runs, so two interpreters classify twice as fast on two cores); the
    extra interpreters are made on first use."""

    def __init__(self, content: bytes, threads: int = RUNTIME_THREADS) -> None:
        self._content, self._threads = content, threads
        self._interpreters = [_Interpreter(content, threads)]
        self._grow_lock = threading.Lock()

    def __call__(self, windows: np.ndarray, rr_features: np.ndarray) -> np.ndarray:
        return self._interpreters[0](windows, rr_features)

    def map(
        self, batches: list[tuple[np.ndarray, np.ndarray]], parallel: int = 1
    ) -> list[np.ndarray]:
        """Each batch's probabilities, in order, `parallel` batches at a time."""
        if parallel <= 1 or len(batches) < 2:
            return [self(*batch) for batch in batches]
        with self._grow_lock:
            while len(self._interpreters) < parallel:
                self._interpreters.append(_Interpreter(self._content, self._threads))
        interpreters = self._interpreters[:parallel]
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            return list(
                pool.map(lambda k: interpreters[k % parallel](*batches[k]), range(len(batches)))
            )


class _Interpreter:
    """One LiteRT interpreter of the network and the lock that serialises its calls."""

    def __init__(self, content: bytes, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_content=content, num_threads=threads)
        self._runner = interpreter.get_signature_runner()
        self._output = next(iter(self._runner.get_output_details()))
        self._interpreter = interpreter  # the runner needs it alive
        self._lock = threading.Lock()

    def __call__(self, windows: np.ndarray, rr_features: np.ndarray) -> np.ndarray:
        with self._lock:
            out = self._runner(
                window=np.ascontiguousarray(windows, np.float32),
                rr_features=np.ascontiguousarray(rr_features, np.float32),
            )[self._output]
        return np.array(out, dtype=np.float32)  # a copy: the runner reuses its buffer


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
        luck of one initialisation. The callbacks see each member's training in turn.
        Needs the `train` extra (TensorFlow)."""
        from ml.training.network import fit_networks

        self.model_ = fit_networks(
            self,
            inputs.with_features(self.features),
            y,
            epochs=epochs,
            seed=seed,
            verbose=verbose,
            callbacks=callbacks or [],
        )
        return self

    def predict_proba(self, inputs: BeatInputs, parallel: int = RUNTIME_INTERPRETERS) -> np.ndarray:
        """float32 [n, 5] class probabilities (columns in CLASSES order, rows sum to 1);
        `parallel` LiteRT interpreters at once (a long recording's many beats)."""
        if self.model_ is None:
            raise RuntimeError("the classifier is not fitted; call fit() or load()")
        return predict_proba_with(self.model_, inputs.with_features(self.features), parallel)

    @property
    def reads_other_lead(self) -> bool:
        """Whether each lead's inputs hold the other lead's shape features (round 9)."""
        return any(name in OTHER_LEAD_FEATURE_NAMES for name in self.features)

    @property
    def leads_read(self) -> int:
        """How many leads of a beat the model reads (its card's `lead_combination`, and both
        when each lead's inputs hold the other's)."""
        return 1 if self.lead_combination_ == "primary" and not self.reads_other_lead else 2

    def predict_proba_leads(
        self, per_lead: list[BeatInputs], parallel: int = RUNTIME_INTERPRETERS
    ) -> np.ndarray:
        """Probabilities from the inputs of one or more leads at the same R peaks (the
        preferred lead first), combined as the model card says (`lead_combination_`). The
        leads go through the network as one batch (one call, not one per lead)."""
        used = per_lead[: self.leads_read]
        if self.reads_other_lead:
            used = with_other_lead(used)[: 1 if self.lead_combination_ == "primary" else 2]
        proba = self.predict_proba(BeatInputs.concatenate(used), parallel)
        n = len(used[0])
        return combined_proba([proba[k * n : (k + 1) * n] for k in range(len(used))])

    def predict(self, inputs: BeatInputs) -> np.ndarray:
        """Class names after the decision rule chosen by cross-validation (see `decide_beats`)."""
        return self.decide(self.predict_proba(inputs), inputs)

    def decide(self, proba: np.ndarray, inputs: BeatInputs) -> np.ndarray:
        """The shipped decision rule for probabilities already computed from `inputs`."""
        return decide_beats(proba, inputs, self.decision_, self.af_threshold_, self.af_p_threshold_)

    def save(self, directory: Path | str, card: dict[str, Any] | None = None) -> Path:
        """Write `beat_classifier.keras`, its LiteRT export `beat_classifier.tflite` and
        `model_card.json` (with both files' SHA-256). Needs the `train` extra."""
        from ml.training.export import save_model

        self.card_ = save_model(self, Path(directory), card or {})
        return Path(directory)

    def card_entries(self) -> dict[str, Any]:
        """What the model card says about this classifier itself (files aside)."""
        return {
            "version": VERSION,
            "classes": list(CLASSES),
            "hyper_parameters": self.get_params(),
            "decision_log_bias": self.decision_,
            "decision_af_threshold": self.af_threshold_,
            "decision_af_p_threshold": self.af_p_threshold_,
            "lead_combination": self.lead_combination_,
        }

    @classmethod
    def load(cls, directory: Path | str = DEFAULT_MODEL_DIR) -> BeatClassifier:
        """The shipped network as the portal runs it: the LiteRT file, after checking its
        SHA-256 against the model card. Imports neither TensorFlow nor Keras."""
        folder = Path(directory)
        card = read_card(folder)
        clf = cls._from_card(card)
        clf.model_ = RuntimeNetwork(verified_file(folder, card, "runtime"))
        return clf

    @classmethod
    def load_keras(cls, directory: Path | str = DEFAULT_MODEL_DIR) -> BeatClassifier:
        """The trained Keras network itself, after checking its SHA-256 against the model
        card (training, and checking the export against it). Needs the `train` extra."""
        from ml.training.network import read_network

        folder = Path(directory)
        card = read_card(folder)
        clf = cls._from_card(card)
        clf.model_ = read_network(verified_file(folder, card, "weights"))
        return clf

    @classmethod
    def _from_card(cls, card: dict[str, Any]) -> BeatClassifier:
        params = dict(card.get("hyper_parameters", {}))
        params["conv_filters"] = tuple(params.get("conv_filters", (16, 32, 32)))
        params["features"] = tuple(params.get("features", BASE_FEATURE_NAMES))
        clf = cls(**params)
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


def predict_proba_with(
    model: Any, inputs: BeatInputs, parallel: int = RUNTIME_INTERPRETERS
) -> np.ndarray:
    """Batched forward pass of a `RuntimeNetwork` (the portal; `parallel` interpreters at
    once) or of a Keras model (training; run as one TensorFlow graph, without Keras'
    predict() overhead); rows sum to 1."""
    n = len(inputs)
    if n == 0:
        return np.zeros((0, len(CLASSES)), np.float32)
    runtime = isinstance(model, RuntimeNetwork)
    batch = RUNTIME_BATCH if runtime else PREDICT_BATCH
    parts = [inputs.subset(slice(start, start + batch)) for start in range(0, n, batch)]
    batches = [(part.windows, part.rr_features) for part in parts]
    if runtime:
        outputs = model.map(batches, parallel)
    else:
        from ml.training.network import forward_of

        forward = forward_of(model)
        outputs = [forward(*b) for b in batches]
    proba = np.concatenate(outputs)
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
        "runtime": card.get("runtime"),
        "runtime_sha256": card.get("runtime_sha256"),
        "citation": card.get("citation"),
    }


def model_info(directory: Path | str = DEFAULT_MODEL_DIR) -> dict[str, Any]:
    """Version, classes and metrics from the model card, for the portal's info page."""
    return _info_from_card(read_card(directory))
