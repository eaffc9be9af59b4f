"""The trained Keras network exported to LiteRT, the file the portal runs, pinned in the model
card beside the weights. `python -m ml.export_runtime` re-exports the shipped weights;
`BeatClassifier.save` (the end of `python -m ml.train`) runs the same code.

LiteRT rather than ONNX Runtime (issue 17; MIT-BIH 100, both leads, 4,546 rows, 256 per call,
one thread, each in a fresh process on the 2 shared cores of the development machine):
LiteRT 0.30 s per record against 0.46 s, 61 MB against 81 MB peak for the whole process,
import and load 0.03 s against 0.12 s; both gave Keras' classes for every beat (largest
probability difference 7e-7 and 3e-7). Keras' own `export(format="litert")` converts this
network as it is, needs nothing beyond TensorFlow, and writes the same bytes for the same
weights; its ONNX export left the feature scaling's constants as missing graph inputs: ONNX
would have needed tf2onnx and onnx in the `train` extra and a hand-frozen graph, and its
bytes changed from one export to the next.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.classifier import (
    CARD_FILE,
    CLASSES,
    DEFAULT_MODEL_DIR,
    EXPORT_COMMAND,
    RUNTIME_FILE,
    RUNTIME_FORMAT,
    WEIGHTS_FILE,
    BeatClassifier,
    RuntimeNetwork,
    read_card,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

# The export must give the network's probabilities, not merely its classes: a bigger
# difference on the check's random beats means the conversion changed the network.
TOLERANCE = 1e-4
CHECK_BEATS = 1024


def file_entries(path: Path, kind: str) -> dict[str, Any]:
    """`{kind}_file`, `{kind}_sha256` and `{kind}_bytes` of a written model file."""
    data = path.read_bytes()
    return {
        f"{kind}_file": path.name,
        f"{kind}_sha256": hashlib.sha256(data).hexdigest(),
        f"{kind}_bytes": len(data),
    }


def largest_difference(model: Any, content: bytes, beats: int = CHECK_BEATS) -> float:
    """The largest |Keras - LiteRT| probability on random beats shaped like the inputs."""
    from ml.training.network import forward_of

    rng = np.random.default_rng(0)
    windows = rng.normal(0.0, 0.5, (beats, *model.inputs[0].shape[1:])).astype(np.float32)
    features = rng.normal(0.0, 1.0, (beats, *model.inputs[1].shape[1:])).astype(np.float32)
    keras_proba = forward_of(model)(windows, features)
    runtime_proba = RuntimeNetwork(content)(windows, features)
    return float(np.abs(keras_proba - runtime_proba).max())


def export_runtime(model: Any, folder: Path) -> dict[str, Any]:
    """Write `beat_classifier.tflite` from a Keras model; its entries for the model card.
    Refuses (and writes nothing) when the export's probabilities differ from Keras'."""
    import keras
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as scratch:
        exported = Path(scratch) / RUNTIME_FILE
        model.export(str(exported), format="litert", verbose=False)
        content = exported.read_bytes()
    difference = largest_difference(model, content)
    if difference > TOLERANCE:
        raise RuntimeError(
            f"the LiteRT export differs from the Keras network by {difference:.2g} "
            f"(tolerance {TOLERANCE:g}); nothing written"
        )
    path = folder / RUNTIME_FILE
    path.write_bytes(content)
    return {
        "runtime": RUNTIME_FORMAT,
        **file_entries(path, "runtime"),
        "runtime_export": {
            "command": EXPORT_COMMAND,
            "exported_with": f"TensorFlow {tf.__version__}, Keras {keras.__version__}",
            "runs_with": f"ai-edge-litert {metadata.version('ai-edge-litert')}",
            "check_max_abs_difference": difference,
        },
    }


def write_card(folder: Path, card: dict[str, Any]) -> None:
    (folder / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")


def save_model(clf: BeatClassifier, folder: Path, card: dict[str, Any]) -> dict[str, Any]:
    """The weights, their LiteRT export and the model card pinning both; the card written."""
    if clf.model_ is None:
        raise RuntimeError("nothing to save: the classifier is not fitted")
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / WEIGHTS_FILE
    clf.model_.save(weights)
    full = {
        **card,
        **clf.card_entries(),
        **file_entries(weights, "weights"),
        **export_runtime(clf.model_, folder),
    }
    write_card(folder, full)
    return full


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.export_runtime",
        description="Export the model folder's verified Keras weights to LiteRT (the file "
        "the portal runs) and pin its SHA-256 in the model card and its Markdown.",
    )
    parser.add_argument(
        "--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="default: the shipped ml/model"
    )
    args = parser.parse_args(argv)
    folder: Path = args.model_dir
    clf = BeatClassifier.load_keras(folder)
    card = read_card(folder)
    card.update(export_runtime(clf.model_, folder))
    write_card(folder, card)
    from ml.training.card import MARKDOWN, write_markdown

    if (folder / MARKDOWN).is_file():
        write_markdown(card, folder / MARKDOWN)
    check = card["runtime_export"]["check_max_abs_difference"]
    print(
        f"{folder / RUNTIME_FILE}: {card['runtime_bytes']} bytes, SHA-256 "
        f"{card['runtime_sha256']}; classes {', '.join(CLASSES)}; largest probability "
        f"difference from Keras on {CHECK_BEATS} random beats {check:.2g}"
    )
    return 0
