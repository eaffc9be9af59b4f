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


def encode_wfdb(digital: np.ndarray, fmt: str) -> bytes:
    """Samples (n_samples, n_signals) stored byte for byte as WFDB format `fmt` describes
    (PhysioNet's signal(5)), for the formats wfdb.wrsamp cannot write. Format 8 stores
    differences from the header's initial value, which `write_wfdb_format` sets to 0."""
    flat = np.asarray(digital, dtype=np.int64).ravel()  # frames interleave the signals
    if fmt in ("16", "32", "61"):
        return flat.astype({"16": "<i2", "32": "<i4", "61": ">i2"}[fmt]).tobytes()
    if fmt == "80":
        return (flat + 128).astype("<u1").tobytes()
    if fmt == "160":
        return (flat + 32768).astype("<u2").tobytes()
    if fmt == "24":
        return (flat & 0xFFFFFF).astype("<u4").view("<u1").reshape(-1, 4)[:, :3].tobytes()
    if fmt == "8":
        per_signal = np.diff(np.asarray(digital, dtype=np.int64), axis=0, prepend=0)
        return per_signal.ravel().astype("<i1").tobytes()
    if fmt == "212":
        return _pack_212(flat)
    if fmt in ("310", "311"):
        return _pack_10_bit(flat, fmt)
    raise ValueError(f"no encoder for format {fmt}")


def _pack_212(flat: np.ndarray) -> bytes:
    """Two 12-bit samples in three bytes; an odd last sample takes two."""
    u = np.concatenate([flat, np.zeros(len(flat) % 2, dtype=np.int64)]) & 0xFFF
    first, second = u[0::2], u[1::2]
    packed = np.column_stack([first & 0xFF, (first >> 8) | ((second >> 8) << 4), second & 0xFF])
    return packed.astype("<u1").tobytes()[: int(np.ceil(len(flat) * 1.5))]


def _pack_10_bit(flat: np.ndarray, fmt: str) -> bytes:
    """Three 10-bit samples in four bytes, laid out as wfdb's decoder reads them."""
    u = np.concatenate([flat, np.zeros(-len(flat) % 3, dtype=np.int64)]) & 0x3FF
    a, b, c = u[0::3], u[1::3], u[2::3]
    if fmt == "310":
        words = [
            (a & 0x7F) << 1,
            (a >> 7) | ((c & 0x1F) << 3),
            (b & 0x7F) << 1,
            (b >> 7) | ((c >> 5) << 3),
        ]
        return np.column_stack(words).astype("<u1").tobytes()
    words = [a & 0xFF, (a >> 8) | ((b & 0x3F) << 2), (b >> 6) | ((c & 0x0F) << 4), c >> 4]
    return np.column_stack(words).astype("<u1").tobytes()[: int(np.ceil(len(flat) * 4 / 3))]


def write_wfdb_format(
    directory: Path,
    digital: np.ndarray,
    fmt: str,
    *,
    fs_hz: float = 360.0,
    gain: float = 50.0,
    name: str = "rec",
) -> list[Path]:
    """A record of `digital` (n_samples, n_signals) in storage format `fmt`, with the
    checksums and initial values a WFDB writer puts in the header. FLAC formats (508, 516,
    524) are written by wfdb itself."""
    n_samples, n_signals = digital.shape
    lead_names = [f"L{i + 1}" for i in range(n_signals)]
    if fmt in ("508", "516", "524"):
        wfdb.wrsamp(
            name, fs=fs_hz, units=["mV"] * n_signals, sig_name=lead_names,
            d_signal=digital.astype(np.int32), fmt=[fmt] * n_signals,
            adc_gain=[gain] * n_signals, baseline=[0] * n_signals, write_dir=str(directory),
        )  # fmt: skip
        return [directory / f"{name}.hea", directory / f"{name}.dat"]
    data = directory / f"{name}.dat"
    data.write_bytes(encode_wfdb(digital, fmt))
    lines = [f"{name} {n_signals} {fs_hz:g} {n_samples}"]
    for i, lead in enumerate(lead_names):
        column = digital[:, i].astype(np.int64)
        init = 0 if fmt == "8" else int(column[0])
        checksum = int(column.sum()) & 0xFFFF
        lines.append(f"{data.name} {fmt} {gain:g}(0)/mV 12 0 {init} {checksum} 0 {lead}")
    header = directory / f"{name}.hea"
    header.write_text("\n".join(lines) + "\n")
    return [header, data]


def write_mat_record(
    directory: Path,
    digital: np.ndarray,
    *,
    name: str = "rec",
    fs_hz: float = 300.0,
    record_line: str | None = None,
    signal_line: str | None = None,
) -> list[Path]:
    """A single-lead record as the PhysioNet/CinC 2017 challenge ships them: `<name>.mat`,
    24 bytes of MATLAB header before little-endian int16 samples (format `16+24`), gain
    1000/mV, checksum 0. `record_line` / `signal_line` replace the header's lines."""
    data = directory / f"{name}.mat"
    data.write_bytes(b"MATLAB-v4-junk-24-bytes!" + np.asarray(digital, dtype="<i2").tobytes())
    lines = [
        record_line or f"{name} 1 {fs_hz:g} {len(digital)}",
        signal_line or f"{data.name} 16+24 1000/mV 16 0 0 0 0 ECG",
    ]
    header = directory / f"{name}.hea"
    header.write_text("\n".join(lines) + "\n")
    return [header, data]
