"""Pieces of the shared PhysioNet records as the portal reads them, for tests that replay an
auditor's cut; the test is skipped where the database is not in the data folder."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml.recording import Recording
from ml.research.databases import data_root


def record_piece(database: str, name: str, start_s: float, end_s: float) -> Recording:
    """Seconds `start_s` to `end_s` of `database/name`, every lead in mV (missing samples
    as 0, as the reader bridges them)."""
    path = data_root() / database / name
    if not path.with_suffix(".hea").is_file():
        pytest.skip(f"{database} is not in the data folder")
    fs_hz = float(wfdb.rdheader(str(path)).fs)
    record = wfdb.rdrecord(str(path), sampfrom=round(start_s * fs_hz), sampto=round(end_s * fs_hz))
    return Recording(
        fs_hz=fs_hz,
        lead_names=tuple(record.sig_name),
        signal_mv=np.nan_to_num(record.p_signal).astype(float),
        source_format="wfdb",
        source_name=name,
    )
