"""The training data: beat inputs of every lead of every record, clean and augmented.

Each record of MIT-BIH DS1 and of svdb gives one *block* per lead (at most two) and variant
("clean", and "augmented" by `ml.training.augment`), at the reference R positions. Blocks
carry their patient, so cross-validation holds out whole patients of both databases, and the
augmented copies of a patient always fall on the same side of a fold as the patient.
Feature extraction takes a few minutes, so blocks are cached on disk, keyed by the code that
made them.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ml import features as features_module
from ml.features import RR_FEATURE_NAMES, SHAPE_FEATURE_NAMES, BeatInputs, beat_inputs
from ml.research.databases import DS1, DS2, annotated_records, load_record
from ml.training import augment as augment_module
from ml.training.augment import NoiseBank, augmented_mv

MAX_LEADS = 2
VARIANTS = ("clean", "augmented")


@dataclass(frozen=True)
class Source:
    """One patient's record in one database folder."""

    database: str  # "mitdb" or "svdb"
    record: str

    @property
    def patient(self) -> str:
        return f"{self.database}/{self.record}"


def training_sources(data_root: Path) -> list[Source]:
    """MIT-BIH DS1 and every annotated svdb record: the data models are chosen and fitted on."""
    return [Source("mitdb", r) for r in DS1] + [
        Source("svdb", r) for r in annotated_records(data_root / "svdb")
    ]


def ds2_sources() -> list[Source]:
    return [Source("mitdb", r) for r in DS2]


@dataclass
class Dataset:
    """Rows are beats of one lead in one variant; the columns say whose and which."""

    inputs: BeatInputs
    y: np.ndarray  # AAMI class names
    patient: np.ndarray  # "mitdb/101", "svdb/801", ...
    database: np.ndarray
    lead: np.ndarray  # 0 = the preferred lead (MLII or the first), 1 = the other
    augmented: np.ndarray  # bool
    beat: np.ndarray  # index of the beat within its record (pairs leads of one beat)

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, index: np.ndarray) -> Dataset:
        return Dataset(
            self.inputs.subset(index),
            self.y[index],
            self.patient[index],
            self.database[index],
            self.lead[index],
            self.augmented[index],
            self.beat[index],
        )

    @property
    def patients(self) -> list[str]:
        return list(dict.fromkeys(self.patient.tolist()))


def code_fingerprint() -> str:
    """Changes whenever the feature or augmentation code does, so stale caches are not used."""
    digest = hashlib.sha256()
    for module in (features_module, augment_module):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:12]


def _block_arrays(
    source: Source, data_root: Path, noise: NoiseBank | None, seed: int
) -> dict[str, np.ndarray]:
    """Clean inputs of each lead, each followed by its augmented copy when `noise` is given."""
    rec = load_record(data_root / source.database, source.record)
    parts, leads, variants = [], [], []
    for lead in range(min(MAX_LEADS, rec.leads_mv.shape[1])):
        lead_mv = rec.leads_mv[:, lead]
        parts.append(beat_inputs(lead_mv, rec.fs_hz, rec.beat_samples))
        leads.append(lead)
        variants.append(False)
        if noise is not None:
            rng = np.random.default_rng([seed, zlib.crc32(source.patient.encode()), lead])
            noisy_mv = augmented_mv(lead_mv, rec.fs_hz, rec.beat_samples, noise, rng)
            parts.append(beat_inputs(noisy_mv, rec.fs_hz, rec.beat_samples))
            leads.append(lead)
            variants.append(True)
    n = rec.beat_samples.size
    inputs = BeatInputs.concatenate(parts)
    return {
        "windows": inputs.windows,
        "rr_features": inputs.rr_features,
        "p_wave_consistency": inputs.p_wave_consistency,
        "y": np.tile(rec.beat_classes, len(parts)),
        "lead": np.repeat(leads, n).astype(np.int8),
        "augmented": np.repeat(variants, n),
        "beat": np.tile(np.arange(n), len(parts)),
    }


def other_lead_rows(lead: np.ndarray, augmented: np.ndarray, beat: np.ndarray) -> np.ndarray:
    """For each row of a record's block, the row whose shape features it reads as the other
    lead's (round 9, `ml.features.OTHER_LEAD_FEATURE_NAMES`): for a clean row, the same beat's
    clean row in the other lead; for an augmented row, itself, so that the network also learns
    the single-lead case (a handheld strip: `ml.features.with_other_lead` repeats the lead)."""
    partner = np.arange(lead.size)
    clean = {k: np.flatnonzero((lead == k) & ~augmented) for k in np.unique(lead)}
    if len(clean) == 2:
        first, second = clean.values()
        order_first, order_second = first[np.argsort(beat[first])], second[np.argsort(beat[second])]
        partner[order_first], partner[order_second] = order_second, order_first
    return partner


def with_other_lead_columns(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """A block's rr_features followed by the other lead's shape features (ALL_FEATURE_NAMES)."""
    features = arrays["rr_features"]
    partner = other_lead_rows(arrays["lead"], arrays["augmented"], arrays["beat"])
    shape = [RR_FEATURE_NAMES.index(name) for name in SHAPE_FEATURE_NAMES]
    return np.concatenate([features, features[partner][:, shape]], axis=1)


def load_dataset(
    sources: list[Source],
    data_root: Path,
    cache_dir: Path | None,
    *,
    seed: int = 0,
    with_augmented: bool = True,
    label: str = "features",
) -> Dataset:
    """Blocks for `sources` (from the cache where present), concatenated."""
    noise = NoiseBank.load(data_root / "nstdb") if with_augmented else None
    folder = None
    if cache_dir is not None:
        folder = cache_dir / f"features-{code_fingerprint()}-seed{seed}"
        folder.mkdir(parents=True, exist_ok=True)
    blocks = []
    for source in tqdm(sources, desc=label, unit="record"):
        path = (
            folder / f"{source.database}_{source.record}_{int(with_augmented)}.npz"
            if folder
            else None
        )
        if path is not None and path.is_file():
            with np.load(path) as cached:
                arrays = {k: cached[k] for k in cached.files}
        else:
            arrays = _block_arrays(source, data_root, noise, seed)
            if path is not None:
                np.savez(path, **arrays)  # type: ignore[arg-type]
        arrays["rr_features"] = with_other_lead_columns(arrays)
        arrays["patient"] = np.full(arrays["y"].size, source.patient)
        arrays["database"] = np.full(arrays["y"].size, source.database)
        blocks.append(arrays)
    join = lambda key: np.concatenate([b[key] for b in blocks])  # noqa: E731
    return Dataset(
        BeatInputs(join("windows"), join("rr_features"), join("p_wave_consistency")),
        join("y"),
        join("patient"),
        join("database"),
        join("lead"),
        join("augmented").astype(bool),
        join("beat"),
    )
