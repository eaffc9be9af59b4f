"""WFDB records (PhysioNet): a .hea header plus the .dat file(s) it names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import wfdb

from ml.errors import HeaderDataMismatchError, TruncatedDataError, UnknownFormatError
from ml.io.units import to_mv_factor
from ml.recording import Recording

# Bytes per sample of each WFDB storage format (212 packs two 12-bit samples in 3 bytes).
BYTES_PER_SAMPLE = {
    "8": 1,
    "16": 2,
    "24": 3,
    "32": 4,
    "61": 2,
    "80": 1,
    "160": 2,
    "212": 1.5,
    "310": 4 / 3,
    "311": 4 / 3,
}
RECORD_LINE = re.compile(r"^[\w.-]+(/\d+)?\s+\d+(\s+[\d.]+(/[\d.]+)?(\(\S*\))?)?(\s+\d+)?")


def is_wfdb_header(path: Path) -> bool:
    try:
        text = path.open("rb").read(2048).decode("ascii")
    except (UnicodeDecodeError, OSError):
        return False
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return bool(lines) and bool(RECORD_LINE.match(lines[0])) and len(lines) >= 2


def read_wfdb(paths: Sequence[Path]) -> Recording:
    headers = [p for p in paths if is_wfdb_header(p)]
    if len(headers) != 1:
        raise UnknownFormatError("Upload exactly one WFDB header (.hea) with its data file.")
    header_path = headers[0]
    record_path = str(header_path.with_suffix(""))
    try:
        header = wfdb.rdheader(record_path)
    except Exception as error:  # wfdb raises bare Exceptions for malformed headers
        raise UnknownFormatError(
            f"{header_path.name}: unreadable WFDB header ({error})."
        ) from error
    if getattr(header, "seg_name", None):
        raise UnknownFormatError("Multi-segment WFDB records are not supported; merge them first.")
    if not header.sig_len:
        raise HeaderDataMismatchError("The header does not say how many samples the record has.")
    _check_data_files(header, header_path.parent, {p.name for p in paths})
    try:
        record = wfdb.rdrecord(record_path, physical=False)
    except Exception as error:
        raise HeaderDataMismatchError(
            f"The data file does not match its header ({error})."
        ) from error
    digital = record.d_signal.astype(np.int64)
    _check_checksums(header, digital)
    signal_mv = np.empty(digital.shape, dtype=np.float64)
    for i, unit in enumerate(header.units):
        physical = (digital[:, i] - record.baseline[i]) / record.adc_gain[i]
        signal_mv[:, i] = physical * to_mv_factor(unit, lead=header.sig_name[i])
    invalid = digital == _invalid_value(header.fmt)
    signal_mv[invalid] = np.nan
    start = None
    if header.base_date is not None and header.base_time is not None:
        import datetime as dt

        start = dt.datetime.combine(header.base_date, header.base_time)
    return Recording(
        fs_hz=float(header.fs),
        lead_names=tuple(header.sig_name),
        signal_mv=signal_mv,
        source_format="wfdb",
        source_name=header.record_name,
        start_time=start,
    )


def _check_data_files(header: wfdb.Record, directory: Path, provided: set[str]) -> None:
    bytes_per_file: dict[str, float] = {}
    for file_name, fmt in zip(header.file_name, header.fmt, strict=True):
        if fmt not in BYTES_PER_SAMPLE:
            raise UnknownFormatError(f"WFDB storage format {fmt} is not supported.")
        bytes_per_file[file_name] = bytes_per_file.get(file_name, 0) + BYTES_PER_SAMPLE[fmt]
    for file_name, bytes_per_frame in bytes_per_file.items():
        path = directory / file_name
        if file_name not in provided or not path.exists():
            raise HeaderDataMismatchError(
                f"The header names the data file {file_name}, which was not provided. "
                "Upload the .hea and .dat files together."
            )
        expected = int(np.ceil(header.sig_len * bytes_per_frame))
        actual = path.stat().st_size
        if actual < expected:
            seconds = actual / bytes_per_frame / header.fs
            raise TruncatedDataError(
                f"{file_name} is truncated: it holds {seconds:.1f} s of the "
                f"{header.sig_len / header.fs:.1f} s the header announces."
            )


def _check_checksums(header: wfdb.Record, digital: np.ndarray) -> None:
    for i, expected in enumerate(header.checksum or []):
        if expected is None:
            continue
        actual = int(digital[:, i].sum()) & 0xFFFF
        if actual != int(expected) & 0xFFFF:
            raise HeaderDataMismatchError(
                f"Lead {header.sig_name[i]}: the data do not match the header's checksum; the "
                ".dat file belongs to another record or is damaged."
            )


def _invalid_value(formats: list[str]) -> int:
    # WFDB marks missing samples with the most negative value of the format.
    return {
        "212": -2048,
        "16": -32768,
        "61": -32768,
        "160": -32768,
        "8": -128,
        "80": -128,
        "24": -(2**23),
        "32": -(2**31),
    }.get(formats[0], -(2**62))
