"""Writers of test ECG files in every supported format, from synthetic signals."""

from __future__ import annotations

import datetime as dt
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


def write_edf(
    path: Path,
    recording: Recording,
    dimension: str = "mV",
    start: dt.datetime | None = None,
    label_prefix: str = "ECG ",
) -> Path:
    scale = 1000.0 if dimension == "uV" else 1.0
    writer = pyedflib.EdfWriter(str(path), recording.n_leads, file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        if start is not None:
            writer.setStartdatetime(start)
        headers = []
        for name in recording.lead_names:
            headers.append(
                {
                    "label": f"{label_prefix}{name}",
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


# (label, unit, rate in Hz, samples, physical extreme) of one EDF channel
EdfChannel = tuple[str, str, float, np.ndarray, float]


def write_edf_channels(path: Path, channels: list[EdfChannel]) -> Path:
    """An EDF+ file of channels at their own rates and units (a sleep study's, a device's)."""
    writer = pyedflib.EdfWriter(str(path), len(channels), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        writer.setSignalHeaders([
            {"label": label, "dimension": unit, "sample_frequency": rate,
             "physical_max": top, "physical_min": -top, "digital_max": 32767,
             "digital_min": -32768}
            for label, unit, rate, _, top in channels
        ])  # fmt: skip
        writer.writeSamples([np.ascontiguousarray(samples) for _, _, _, samples, _ in channels])
    finally:
        writer.close()
    return path


def write_record_piece(directory: Path, record: Path, start_s: float, seconds: float) -> Path:
    """`seconds` of a database record from `start_s`, written as a WFDB upload with the
    record's own storage format and gains, so its samples are the record's (its header's path,
    for `read_recording`): the pieces audits cut from nstdb and MIT-BIH."""
    fs_hz = wfdb.rdheader(str(record)).fs
    piece = wfdb.rdrecord(
        str(record), sampfrom=round(start_s * fs_hz), sampto=round((start_s + seconds) * fs_hz)
    )
    name = f"{record.name}_{start_s:g}"
    wfdb.wrsamp(
        name, fs=piece.fs, units=piece.units, sig_name=piece.sig_name, p_signal=piece.p_signal,
        fmt=piece.fmt, adc_gain=piece.adc_gain, baseline=piece.baseline, write_dir=str(directory),
    )  # fmt: skip
    return directory / f"{name}.hea"


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


# Hostile files (tests/test_upload_bombs.py): small on disk, huge if read naively.


def write_zip_of_filler(
    path: Path,
    small: dict[str, bytes],
    filler_name: str,
    filler_bytes: int,
    *,
    byte: bytes = b"\x00",
) -> Path:
    """A deflated .zip of `small` members and one member of `filler_bytes` repeated `byte`,
    streamed in 1 MiB pieces (the test never holds the filler in memory). A gigabyte of zeros
    deflates to about 1 MB."""
    piece = byte * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in small.items():
            archive.writestr(name, content)
        with archive.open(filler_name, "w", force_zip64=filler_bytes >= 1 << 31) as sink:
            left = filler_bytes
            while left > 0:
                sink.write(piece[: min(left, len(piece))])
                left -= len(piece)
    return path


def zip_with_wrong_field(content: bytes, member: str, field: str, change: int) -> bytes:
    """`content` (a .zip) with `member`'s CRC-32 ('crc') or uncompressed size ('size') changed
    by `change`, in its local header and in the central directory alike, as a damaged or
    forged archive has it."""
    import struct

    local_offset, central_offset = {"crc": (14, 16), "size": (22, 24)}[field]
    data = bytearray(content)
    name = member.encode()
    for signature, name_length_at, name_at, offset in (
        (b"PK\x03\x04", 26, 30, local_offset),
        (b"PK\x01\x02", 28, 46, central_offset),
    ):
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + name_length_at)[0]
            if data[at + name_at : at + name_at + length] == name:
                value = struct.unpack_from("<I", data, at + offset)[0]
                struct.pack_into("<I", data, at + offset, (value + change) & 0xFFFFFFFF)
            at = data.find(signature, at + 4)
    return bytes(data)


def write_constant_wfdb(
    directory: Path,
    n_samples: int,
    *,
    n_signals: int = 1,
    fs_hz: float = 2000.0,
    fmt: str = "80",
    byte: int = 0x80,
    gain: float = 200.0,
    name: str = "rec",
) -> list[Path]:
    """A record whose data file is one byte repeated (format 80: 0x80 is 0, 0xFF is 127 ADC
    units), written in 1 MiB pieces: the largest recordings the limits admit, flat or full of
    impossible values, cost a test 1 byte a sample on disk."""
    data = directory / f"{name}.dat"
    total = n_samples * n_signals * {"80": 1, "16": 2}[fmt]
    piece = bytes([byte]) * (1 << 20)
    with data.open("wb") as sink:
        left = total
        while left > 0:
            sink.write(piece[: min(left, len(piece))])
            left -= len(piece)
    lines = [f"{name} {n_signals} {fs_hz:g} {n_samples}"]
    lines += [f"{data.name} {fmt} {gain:g}/mV 8 0 0 0 0 L{i + 1}" for i in range(n_signals)]
    header = directory / f"{name}.hea"
    header.write_text("\n".join(lines) + "\n")
    return [header, data]


def edf_announcing(source: Path, target: Path, n_records: int) -> Path:
    """A copy of the EDF file `source` whose header announces `n_records` data records."""
    content = bytearray(source.read_bytes())
    content[236:244] = f"{n_records:<8d}".encode()
    target.write_bytes(bytes(content))
    return target
