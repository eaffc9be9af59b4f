"""The MIT-BIH Arrhythmia Database as the classifier sees it: split, class map, one loader.

The files are never copied into the repository: they are read from a local directory
(`MITDB_DIR`, else `../shared/data/mitdb` next to the repository root).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# de Chazal et al. 2004 inter-patient split (AAMI EC57); paced records are excluded.
PACED: tuple[str, ...] = ("102", "104", "107", "217")
DS1: tuple[str, ...] = tuple(
    [
        "101",
        "106",
        "108",
        "109",
        "112",
        "114",
        "115",
        "116",
        "118",
        "119",
        "122",
        "124",
        "201",
        "203",
        "205",
        "207",
        "208",
        "209",
        "215",
        "220",
        "223",
        "230",
    ]
)
DS2: tuple[str, ...] = tuple(
    [
        "100",
        "103",
        "105",
        "111",
        "113",
        "117",
        "121",
        "123",
        "200",
        "202",
        "210",
        "212",
        "213",
        "214",
        "219",
        "221",
        "222",
        "228",
        "231",
        "232",
        "233",
        "234",
    ]
)

# AAMI EC57 beat classes. Symbols not listed here (+ ~ | ! " x [ ] ...) are not beats.
AAMI_CLASS_OF_SYMBOL: dict[str, str] = {
    **dict.fromkeys(("N", "L", "R", "e", "j"), "N"),
    **dict.fromkeys(("A", "a", "J", "S"), "S"),
    **dict.fromkeys(("V", "E"), "V"),
    "F": "F",
    **dict.fromkeys(("/", "f", "Q"), "Q"),
}

PREFERRED_LEAD = "MLII"
CITATION = (
    "Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. "
    "IEEE Eng in Med and Biol 20(3):45-50 (2001). "
    "Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet. "
    "Circulation 101(23):e215-e220 (2000). "
    "Data licence: Open Data Commons Attribution License v1.0."
)


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """`$MITDB_DIR` if set, else `<repo root>/../shared/data/mitdb`."""
    env = os.environ.get("MITDB_DIR")
    if env:
        return Path(env)
    return (repo_root().parent / "shared" / "data" / "mitdb").resolve()


@dataclass(frozen=True)
class MitdbRecord:
    """One record: a single lead in mV, its beats (AAMI classes) and the raw annotations."""

    name: str
    fs_hz: float
    lead_name: str
    signal_mv: np.ndarray  # float64 [n_samples]
    beat_samples: np.ndarray  # int64 [n_beats], reference R positions
    beat_classes: np.ndarray  # str [n_beats], "N".."Q"
    ann_samples: np.ndarray  # int64 [n_annotations], every annotation (beats, rhythm, noise)
    ann_symbols: np.ndarray  # str [n_annotations]
    ann_aux_notes: np.ndarray  # str [n_annotations], e.g. "(AFIB" at rhythm changes


def load_record(data_dir: Path | str, name: str) -> MitdbRecord:
    """Read record `name`; the MLII lead (channel 1 in record 114) or else the first lead."""
    import wfdb  # imported here: only training and evaluation need it

    path = str(Path(data_dir) / name)
    rec = wfdb.rdrecord(path)
    ann = wfdb.rdann(path, "atr")
    names = list(rec.sig_name)
    channel = names.index(PREFERRED_LEAD) if PREFERRED_LEAD in names else 0
    signal_mv = np.asarray(rec.p_signal[:, channel], dtype=np.float64)

    symbols = np.asarray(ann.symbol, dtype=str)
    samples = np.asarray(ann.sample, dtype=np.int64)
    aux = np.asarray([(note or "").rstrip("\x00") for note in ann.aux_note], dtype=str)
    is_beat = np.isin(symbols, list(AAMI_CLASS_OF_SYMBOL))
    classes = np.asarray([AAMI_CLASS_OF_SYMBOL[s] for s in symbols[is_beat]], dtype="<U1")
    return MitdbRecord(
        name=name,
        fs_hz=float(rec.fs),
        lead_name=names[channel],
        signal_mv=signal_mv,
        beat_samples=samples[is_beat],
        beat_classes=classes,
        ann_samples=samples,
        ann_symbols=symbols,
        ann_aux_notes=aux,
    )
