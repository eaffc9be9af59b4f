"""The portal's beat classifier runs the LiteRT export of the Keras network: the same
probabilities and classes, no TensorFlow or Keras imported, and a file that must match the
SHA-256 the model card pins (issue 17)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ml.classifier import (
    CARD_FILE,
    DEFAULT_MODEL_DIR,
    RUNTIME_FILE,
    BeatClassifier,
    ModelIntegrityError,
    RuntimeNetwork,
    read_card,
)
from ml.features import beat_inputs
from ml.research.databases import DS2, default_data_dir, load_record

DATA_DIR = default_data_dir()
needs_data = pytest.mark.skipif(
    not (DATA_DIR / "232.hea").is_file(), reason=f"MIT-BIH not found in {DATA_DIR}"
)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Largest |Keras - LiteRT| class probability allowed (the bound; measured: ~1e-6).
PROBABILITY_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def runtime() -> BeatClassifier:
    return BeatClassifier.load()


@pytest.fixture(scope="module")
def keras_model() -> BeatClassifier:
    return BeatClassifier.load_keras()


def test_the_portal_loads_the_litert_file(runtime: BeatClassifier) -> None:
    assert isinstance(runtime.model_, RuntimeNetwork)
    assert runtime.card_["runtime_file"] == RUNTIME_FILE == "beat_classifier.tflite"
    assert runtime.model_info()["runtime_sha256"] == runtime.card_["runtime_sha256"]


@needs_data
@pytest.mark.parametrize("name", ["232", "100"])
def test_runtime_gives_keras_probabilities_and_classes_on_ds2(
    runtime: BeatClassifier, keras_model: BeatClassifier, name: str
) -> None:
    assert name in DS2
    record = load_record(DATA_DIR, name)
    per_lead = [
        beat_inputs(record.leads_mv[:, lead], record.fs_hz, record.beat_samples)
        for lead in range(min(runtime.leads_read, record.leads_mv.shape[1]))
    ]
    proba_runtime = runtime.predict_proba_leads(per_lead)
    proba_keras = keras_model.predict_proba_leads(per_lead)
    assert proba_runtime.shape == (record.beat_samples.size, 5)
    assert np.abs(proba_runtime - proba_keras).max() <= PROBABILITY_TOLERANCE
    np.testing.assert_array_equal(
        runtime.decide(proba_runtime, per_lead[0]), keras_model.decide(proba_keras, per_lead[0])
    )


@needs_data
def test_two_interpreters_at_once_give_the_same_probabilities(runtime: BeatClassifier) -> None:
    """A recording's beats are classified on two LiteRT interpreters at once; batch for
    batch they are the one interpreter's figures."""
    record = load_record(DATA_DIR, "232")
    inputs = beat_inputs(record.leads_mv[:, 0], record.fs_hz, record.beat_samples)
    assert len(inputs) > 4 * 256  # several batches for each interpreter
    np.testing.assert_array_equal(
        runtime.predict_proba(inputs, parallel=2), runtime.predict_proba(inputs, parallel=1)
    )


ANALYZE_WITHOUT_TENSORFLOW = textwrap.dedent(
    """
    import sys

    class NotInstalled:
        '''As in the production image, which has no TensorFlow: importing it fails.'''

        tried = []

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("tensorflow", "keras"):
                NotInstalled.tried.append(name)
                raise ImportError(f"{name} is not installed")
            return None

    sys.meta_path.insert(0, NotInstalled())

    from ml.analysis import analyze
    from ml.io import read_recording

    analysis = analyze(read_recording([sys.argv[1]]))
    beats = sum(analysis.beat_counts.values())
    loaded = sorted({m.split(".")[0] for m in sys.modules} & {"tensorflow", "keras"})
    print(f"beats={beats} tried={NotInstalled.tried} loaded={loaded}")
    """
)


@needs_data
def test_analyze_imports_neither_tensorflow_nor_keras() -> None:
    done = subprocess.run(
        [sys.executable, "-c", ANALYZE_WITHOUT_TENSORFLOW, str(DATA_DIR / "100.hea")],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.endswith("tried=[] loaded=[]"), summary
    assert int(summary.split()[0].removeprefix("beats=")) > 2000  # 30 min classified


def _model_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    return folder


def test_tampered_runtime_file_is_refused(tmp_path: Path) -> None:
    folder = _model_copy(tmp_path)
    runtime_file = folder / RUNTIME_FILE
    data = bytearray(runtime_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    runtime_file.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="does not match the SHA-256"):
        BeatClassifier.load(folder)


def test_missing_or_unpinned_runtime_file_is_refused(tmp_path: Path) -> None:
    folder = _model_copy(tmp_path)
    (folder / RUNTIME_FILE).unlink()
    with pytest.raises(ModelIntegrityError, match="runtime file not found"):
        BeatClassifier.load(folder)
    card = json.loads((folder / CARD_FILE).read_text())
    del card["runtime_sha256"]
    (folder / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelIntegrityError, match="pins no runtime file"):
        BeatClassifier.load(folder)


def test_export_of_the_shipped_weights_is_the_shipped_runtime_file(
    tmp_path: Path, keras_model: BeatClassifier
) -> None:
    """`python -m ml.export_runtime` is reproducible: the same weights give the same bytes on
    one kind of CPU. Another kind may fold a few constants differently (on an AVX-512 machine
    4 of 363,432 bytes differ, the same at every export there), so there the fresh export must
    compute what the shipped file computes, to float rounding."""
    from ml.training.export import export_runtime, largest_difference

    entries = export_runtime(keras_model.model_, tmp_path)
    card = read_card()
    assert entries["runtime_export"]["check_max_abs_difference"] <= PROBABILITY_TOLERANCE
    shipped = (DEFAULT_MODEL_DIR / RUNTIME_FILE).read_bytes()
    assert hashlib.sha256(shipped).hexdigest() == card["runtime_sha256"]
    if entries["runtime_sha256"] != card["runtime_sha256"]:
        fresh = (tmp_path / RUNTIME_FILE).read_bytes()
        changed = sum(a != b for a, b in zip(fresh, shipped, strict=False))
        assert len(fresh) == len(shipped) and changed <= 16, (
            "the shipped beat_classifier.tflite is not the export of the shipped weights with "
            "these TensorFlow and Keras versions: run `python -m ml.export_runtime`"
        )
        assert largest_difference(keras_model.model_, shipped) <= PROBABILITY_TOLERANCE
