"""Writers of test ECG files in every supported format, from synthetic signals."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pyedflib
import wfdb

from ml.recording import Recording
from ml.research.synthetic import BeatTruth, synthetic_recording


def synthetic(
    duration_s: float = 20.0,
    fs_hz: float = 500.0,
    leads: tuple[str, ...] = ("I", "II", "III"),
    seed: int = 3,
) -> Recording:
    return synthetic_recording(
        BeatTruth(hr_bpm=72), duration_s=duration_s, fs_hz=fs_hz, leads=leads, seed=seed
    )[0]


def write_csv(
    path: Path,
    recording: Recording,
    *,
    with_time: bool = True,
    scale: float = 1.0,
    header_suffix: str = "",
) -> Path:
    columns = [f"{name}{header_suffix}" for name in recording.lead_names]
    data = recording.signal_mv * scale
    if with_time:
        columns = ["time", *columns]
        data = np.column_stack([np.arange(recording.n_samples) / recording.fs_hz, data])
    np.savetxt(path, data, delimiter=",", header=",".join(columns), comments="", fmt="%.6f")
    return path


def write_wfdb(directory: Path, recording: Recording, name: str = "rec") -> list[Path]:
    wfdb.wrsamp(
        name,
        fs=recording.fs_hz,
        units=["mV"] * recording.n_leads,
        sig_name=list(recording.lead_names),
        p_signal=recording.signal_mv,
        fmt=["16"] * recording.n_leads,
        write_dir=str(directory),
    )
    return [directory / f"{name}.hea", directory / f"{name}.dat"]


def write_edf(path: Path, recording: Recording, dimension: str = "mV") -> Path:
    scale = 1000.0 if dimension == "uV" else 1.0
    writer = pyedflib.EdfWriter(str(path), recording.n_leads, file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        headers = []
        for name in recording.lead_names:
            headers.append(
                {
                    "label": f"ECG {name}",
                    "dimension": dimension,
                    "sample_frequency": recording.fs_hz,
                    "physical_max": 5.0 * scale,
                    "physical_min": -5.0 * scale,
                    "digital_max": 32767,
                    "digital_min": -32768,
                }
            )
        writer.setSignalHeaders(headers)
        writer.writeSamples([recording.signal_mv[:, i] * scale for i in range(recording.n_leads)])
    finally:
        writer.close()
    return path


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path
