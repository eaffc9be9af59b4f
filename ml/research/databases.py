"""The reference databases as training and evaluation see them: splits, class map, one loader.

MIT-BIH Arrhythmia (DS1/DS2), the MIT-BIH Supraventricular Arrhythmia Database (svdb) and
the Noise Stress Test Database (nstdb). The files are never copied into the repository:
they are read from a local directory (`CARDIO_DATA_DIR`, else `../shared/data` next to the
repository root; `MITDB_DIR` still names the MIT-BIH folder alone).
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
# The nstdb recordings of pure noise (no annotations): baseline wander, electrode motion, muscle.
NOISE_RECORDS: tuple[str, ...] = ("bw", "em", "ma")
CITATION = (
    "Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. "
    "IEEE Eng in Med and Biol 20(3):45-50 (2001). "
    "Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet. "
    "Circulation 101(23):e215-e220 (2000). "
    "Data licence: Open Data Commons Attribution License v1.0."
)
CITATIONS: dict[str, str] = {
    "mitdb": CITATION,
    "svdb": "Greenwald SD. Improved detection and classification of arrhythmias in "
    "noise-corrupted electrocardiograms using contextual information. Ph.D. thesis, "
    "Harvard-MIT Division of Health Sciences and Technology, 1990. Data licence: Open Data "
    "Commons Attribution License v1.0.",
    "nstdb": "Moody GB, Muldrow WE, Mark RG. A noise stress test for arrhythmia detectors. "
    "Computers in Cardiology 11:381-384 (1984). Data licence: Open Data Commons Attribution "
    "License v1.0.",
    "physionet": "Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet. "
    "Circulation 101(23):e215-e220 (2000).",
}


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def data_root() -> Path:
    """`$CARDIO_DATA_DIR` if set, else `<repo root>/../shared/data` (one folder per database)."""
    env = os.environ.get("CARDIO_DATA_DIR")
    if env:
        return Path(env)
    return (repo_root().parent / "shared" / "data").resolve()


def default_data_dir() -> Path:
    """The MIT-BIH Arrhythmia folder: `$MITDB_DIR` if set, else `<data root>/mitdb`."""
    env = os.environ.get("MITDB_DIR")
    if env:
        return Path(env)
    return data_root() / "mitdb"


def annotated_records(data_dir: Path | str) -> list[str]:
    """Names of the records in a WFDB folder that have reference beat annotations (`.atr`)."""
    folder = Path(data_dir)
    return sorted(p.stem for p in folder.glob("*.hea") if p.with_suffix(".atr").is_file())


@dataclass(frozen=True)
class MitdbRecord:
    """One annotated record: its preferred lead in mV (and every lead), its beats (AAMI
    classes) and the raw annotations. Any WFDB record with `atr` annotations loads as one."""

    name: str
    fs_hz: float
    lead_name: str
    signal_mv: np.ndarray  # float64 [n_samples], the preferred lead (MLII, else the first)
    leads_mv: np.ndarray  # float64 [n_samples, n_leads], every lead, preferred lead first
    lead_names: tuple[str, ...]  # names of the columns of leads_mv
    beat_samples: np.ndarray  # int64 [n_beats], reference R positions
    beat_classes: np.ndarray  # str [n_beats], "N".."Q"
    ann_samples: np.ndarray  # int64 [n_annotations], every annotation (beats, rhythm, noise)
    ann_symbols: np.ndarray  # str [n_annotations]
    ann_aux_notes: np.ndarray  # str [n_annotations], e.g. "(AFIB" at rhythm changes


def load_record(data_dir: Path | str, name: str) -> MitdbRecord:
    """Read record `name`; the preferred lead is MLII (channel 1 in record 114), else the first."""
    import wfdb  # imported here: only training and evaluation need it

    path = str(Path(data_dir) / name)
    rec = wfdb.rdrecord(path)
    ann = wfdb.rdann(path, "atr")
    names = list(rec.sig_name)
    channel = names.index(PREFERRED_LEAD) if PREFERRED_LEAD in names else 0
    order = [channel, *(i for i in range(len(names)) if i != channel)]
    leads_mv = np.asarray(rec.p_signal[:, order], dtype=np.float64)

    symbols = np.asarray(ann.symbol, dtype=str)
    samples = np.asarray(ann.sample, dtype=np.int64)
    aux = np.asarray([(note or "").rstrip("\x00") for note in ann.aux_note], dtype=str)
    is_beat = np.isin(symbols, list(AAMI_CLASS_OF_SYMBOL))
    classes = np.asarray([AAMI_CLASS_OF_SYMBOL[s] for s in symbols[is_beat]], dtype="<U1")
    return MitdbRecord(
        name=name,
        fs_hz=float(rec.fs),
        lead_name=names[channel],
        signal_mv=leads_mv[:, 0],
        leads_mv=leads_mv,
        lead_names=tuple(names[i] for i in order),
        beat_samples=samples[is_beat],
        beat_classes=classes,
        ann_samples=samples,
        ann_symbols=symbols,
        ann_aux_notes=aux,
    )
