"""The samples of a long recording left in its file, for the readers that show a window of
it: the review chart, the FHIR waveform and the PDF strips.

`StreamedSignal` stands in for `Recording.signal_mv` (n_samples x n_leads, mV): indexing it
with a slice of samples (and a lead) reads only that stretch from the file through the
analysis's `RecordingSource` (ml/io/sources.py), so a 24-hour Holter never sits whole in a
web process. Its one-lead view `StreamedLead` answers `len()` and slices the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ml.io.sources import SCAN_CHUNK_S, RecordingSource


class StreamedSignal:
    def __init__(self, source: RecordingSource) -> None:
        self.source = source
        self.shape = (source.n_samples, len(source.lead_names))
        self.ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> Any:
        rows, lead = key if isinstance(key, tuple) else (key, slice(None))
        if not isinstance(rows, slice):
            raise TypeError("a streamed recording is read by slices of samples")
        if rows == slice(None) and isinstance(lead, (int, np.integer)):
            return StreamedLead(self.source, int(lead))
        start, stop, step = rows.indices(self.shape[0])
        return self.source.read(start, max(start, stop))[::step][:, lead]

    def chunks(self, lead: int) -> Iterator[tuple[int, np.ndarray]]:
        """(first sample, samples of `lead`) over the whole recording, ten minutes at a time."""
        size = max(1, round(SCAN_CHUNK_S * self.source.fs_hz))
        for start in range(0, self.shape[0], size):
            yield start, self.source.read(start, start + size)[:, lead]


class StreamedLead:
    """One lead of a `StreamedSignal`: `lead[i0:i1]` reads that stretch."""

    def __init__(self, source: RecordingSource, lead: int) -> None:
        self.source, self.lead = source, lead
        self.shape = (source.n_samples,)
        self.size = source.n_samples
        self.ndim = 1

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, rows: Any) -> np.ndarray:
        if not isinstance(rows, slice):
            raise TypeError("a streamed lead is read by slices of samples")
        start, stop, step = rows.indices(self.size)
        return self.source.read(start, max(start, stop))[::step, self.lead]
