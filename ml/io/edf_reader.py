"""EDF and EDF+ recordings, read with pyEDFlib."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pyedflib

from ml.errors import HeaderDataMismatchError, TruncatedDataError, UnknownFormatError
from ml.io.units import to_mv_factor
from ml.recording import Recording, canonical_lead_name

NON_ECG_LABEL_WORDS = ("annotation", "resp", "spo2", "pleth", "temp", "event", "status")


def is_edf(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(256)
    return len(head) == 256 and head[:8] == b"0       " and head[184:192].strip().isdigit()


def read_edf(path: Path) -> Recording:
    _check_size(path)
    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as error:
        raise UnknownFormatError(f"{path.name}: unreadable EDF file ({error}).") from error
    try:
        labels = reader.getSignalLabels()
        rates = [float(reader.getSampleFrequency(i)) for i in range(reader.signals_in_file)]
        ecg = [
            i
            for i, label in enumerate(labels)
            if not any(word in label.lower() for word in NON_ECG_LABEL_WORDS)
        ]
        if not ecg:
            raise UnknownFormatError(f"{path.name}: the EDF file holds no ECG signal.")
        fs_hz = Counter(rates[i] for i in ecg).most_common(1)[0][0]
        chosen = [i for i in ecg if rates[i] == fs_hz]  # leads at another rate are left out
        columns = []
        for i in chosen:
            factor = to_mv_factor(reader.getPhysicalDimension(i), lead=labels[i])
            columns.append(reader.readSignal(i) * factor)
        start = reader.getStartdatetime()
    finally:
        reader.close()
    length = min(len(c) for c in columns)
    return Recording(
        fs_hz=fs_hz,
        lead_names=tuple(canonical_lead_name(labels[i]) for i in chosen),
        signal_mv=np.column_stack([c[:length] for c in columns]),
        source_format="edf",
        source_name=path.name,
        start_time=start,
    )


def _check_size(path: Path) -> None:
    """The header announces records x bytes per record; a shorter file was cut off."""
    with path.open("rb") as handle:
        head = handle.read(256)
        try:
            header_bytes = int(head[184:192])
            n_records = int(head[236:244])
            n_signals = int(head[252:256])
            handle.seek(256 + n_signals * 216)
            samples = [int(handle.read(8)) for _ in range(n_signals)]
        except ValueError as error:
            raise HeaderDataMismatchError(f"{path.name}: damaged EDF header.") from error
    expected = header_bytes + n_records * sum(samples) * 2
    actual = path.stat().st_size
    if n_records > 0 and actual < expected:
        raise TruncatedDataError(
            f"{path.name} is truncated: {actual} of the {expected} bytes its header announces."
        )
