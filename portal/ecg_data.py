"""ECG samples for the review chart: an overview of the whole record and detailed windows.

A 30-minute record has ~650,000 samples per lead; the browser gets a min/max envelope of
the analysis lead for the overview and full-resolution windows (at most 60 s) on demand.
Recordings are read from storage once and kept in a small per-process cache, keyed by the
stored files as they stand (a file deleted since is not served from a worker's cache).
A recording whose files are missing or unreadable is `RecordingFilesMissing` (410), logged.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any, cast

import numpy as np

from ml import rhythm
from ml.analysis import EcgAnalysis
from ml.errors import RecordingError
from ml.hrv import MAX_RR_S, MIN_RR_S
from ml.recording import Recording, standard_order
from portal.models import EcgRecording, EcgReport
from portal.services import recordings
from portal.services.errors import RecordingFilesMissing
from portal.storage import recording_folder, stored_files
from portal.streamed_signal import StreamedSignal

OVERVIEW_BUCKETS = 1500
MAX_WINDOW_S = 60.0
MAX_POINTS_PER_LEAD = 15000

log = logging.getLogger(__name__)
FilesStamp = tuple[tuple[str, int, int], ...]


@functools.lru_cache(maxsize=4)
def _cached(
    storage_dir: Path, sha256: str, fmt: str, fs: float, units: str | None, stamp: FilesStamp
) -> Recording:
    """The recording, whole in memory; or, when it is long (a Holter: the analysis streams
    it too), its header with samples read from the file on demand (portal/streamed_signal.py)."""
    row = EcgRecording(sha256=sha256, file_format=fmt, sampling_rate_hz=fs, declared_units=units)
    opened = recordings.open_for_analysis(storage_dir, row)
    if isinstance(opened, Recording):
        return opened
    return Recording(
        fs_hz=opened.fs_hz, lead_names=opened.lead_names,
        signal_mv=cast(np.ndarray, StreamedSignal(opened)), source_format=opened.source_format,
        source_name=opened.source_name, start_time=opened.start_time, notes=opened.notes,
    )  # fmt: skip


def recording_for(storage_dir: Path, report: EcgReport) -> Recording:
    """The recording as `report` read it: at its own reading when the file has been read
    again since at another rate or in other units (`EcgReport.reading_hz`).
    RecordingFilesMissing when its stored files are missing or unreadable (logged in a line):
    it had been a 500 saying "please try again", with the upload form's words in the log."""
    row = report.recording
    stamp = _files_stamp(storage_dir, row.sha256)
    try:
        return _cached(
            storage_dir, row.sha256, row.file_format, report.reading_hz, report.reading_units,
            stamp,
        )  # fmt: skip
    except (OSError, RecordingError) as error:
        log.error(
            "recording %s: its stored files are missing or unreadable (%s): %s",
            row.id, recording_folder(storage_dir, row.sha256), error,
        )  # fmt: skip
        raise RecordingFilesMissing(row.id) from None


def _files_stamp(storage_dir: Path, sha256: str) -> FilesStamp:
    """The recording folder's files (name, size, modified time), part of the cache's key: a
    file deleted or replaced since had been served from each worker's cache until restart,
    and the chart broke on some workers only."""
    try:
        paths = stored_files(storage_dir, sha256)
        return tuple((p.name, (s := p.stat()).st_size, s.st_mtime_ns) for p in paths)
    except OSError:  # no folder: reading says so
        return ()


def missing_files_message(storage_dir: Path, report: EcgReport) -> str | None:
    """What the review page shows in the chart's place when the recording's files are lost."""
    try:
        recording_for(storage_dir, report)
    except RecordingFilesMissing as missing:
        return missing.message
    return None


def overview(recording: Recording, lead_index: int) -> dict[str, Any]:
    """Min/max per bucket of one lead over the whole record (draws as a filled band)."""
    n = recording.n_samples
    edges = np.linspace(0, n, min(OVERVIEW_BUCKETS, n) + 1).astype(int)
    signal: Any = recording.signal_mv
    if isinstance(signal, StreamedSignal):
        lows, highs = _streamed_envelope(signal, lead_index, edges)
    else:
        x = signal[:, lead_index]
        lows = np.minimum.reduceat(x, edges[:-1])
        highs = np.maximum.reduceat(x, edges[:-1])
    centres_s = (edges[:-1] + edges[1:]) / 2 / recording.fs_hz
    return {
        "t_s": np.round(centres_s, 3).tolist(),
        "min_mv": np.round(np.nan_to_num(lows), 3).tolist(),
        "max_mv": np.round(np.nan_to_num(highs), 3).tolist(),
    }


def _streamed_envelope(
    signal: StreamedSignal, lead_index: int, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`overview`'s min and max per bucket, read chunk by chunk: each chunk's pieces between
    bucket edges, merged into their buckets (the same figures as the whole-record path)."""
    lows = np.full(edges.size - 1, np.inf)
    highs = np.full(edges.size - 1, -np.inf)
    for first, chunk in signal.chunks(lead_index):
        inner = edges[(edges > first) & (edges < first + chunk.size)] - first
        starts = np.concatenate(([0], inner)).astype(int)
        buckets = np.searchsorted(edges, first, side="right") - 1 + np.arange(starts.size)
        buckets = np.minimum(buckets, edges.size - 2)
        lows[buckets] = np.minimum(lows[buckets], np.minimum.reduceat(chunk, starts))
        highs[buckets] = np.maximum(highs[buckets], np.maximum.reduceat(chunk, starts))
    return lows, highs


def window(recording: Recording, start_s: float, end_s: float) -> dict[str, Any]:
    """Every lead between start_s and end_s (clipped to the record and to MAX_WINDOW_S)."""
    start_s = max(0.0, min(start_s, recording.duration_s))
    end_s = max(start_s, min(end_s, start_s + MAX_WINDOW_S, recording.duration_s))
    fs = recording.fs_hz
    i0, i1 = round(start_s * fs), round(end_s * fs)
    step = max(1, -(-(i1 - i0) // MAX_POINTS_PER_LEAD))
    chunk = recording.signal_mv[i0:i1:step]
    return {
        "start_s": i0 / fs,
        "end_s": i1 / fs,
        "dt_s": step / fs,
        "leads": {
            name: np.round(np.nan_to_num(chunk[:, k]), 3).tolist()
            for k, name in enumerate(recording.lead_names)
        },
        # JSON objects lose their order (Flask sorts keys: I, II, III, V1.., aVF..): the
        # standard order travels as a list.
        "lead_order": standard_order(recording.lead_names),
    }


def beats_between(analysis: EcgAnalysis, start_s: float, end_s: float) -> dict[str, Any]:
    """The machine's beats in a window: time, class, probability."""
    beats = analysis.beats
    t = beats.samples / analysis.fs_hz
    keep = np.flatnonzero((t >= start_s) & (t <= end_s))
    return {
        "t_s": np.round(t[keep], 4).tolist(),
        "class": beats.classes[keep].tolist(),
        "probability": np.round(beats.probability[keep], 3).tolist(),
    }


def heart_rate_trend(analysis: EcgAnalysis, bin_s: float = 10.0) -> dict[str, Any]:
    """Mean heart rate per `bin_s` from the machine's beats (for the trend chart), counting the
    intervals the read's rate counts: between two classified beats, 0.25-2.5 s apart or a
    pause it found, outside ventricular fibrillation. Every interval had counted, so a 24-h
    trend ran 22-200 bpm beside a read of 32-175 (VF waves and noise; a Holter audit)."""
    if analysis.beats.samples.size < 3:
        return {"t_s": [], "bpm": []}
    t = analysis.beats.samples / analysis.fs_hz
    rr = np.diff(t)
    classified = analysis.beats.classes != "Q"
    spans = {
        label: [(e.start_s, e.end_s) for e in analysis.episodes if e.label == label]
        for label in (rhythm.PAUSE, rhythm.VF)
    }
    between = (t[:-1] + t[1:]) / 2
    counted = (
        classified[:-1]
        & classified[1:]
        & (((rr >= MIN_RR_S) & (rr <= MAX_RR_S)) | rhythm.within(between, spans[rhythm.PAUSE]))
        & ~rhythm.within(between, spans[rhythm.VF])
    )
    rr, mid = rr[counted], t[1:][counted]
    if rr.size == 0:
        return {"t_s": [], "bpm": []}
    bins = np.floor(mid / bin_s).astype(int)
    counts = np.bincount(bins)
    sums = np.bincount(bins, weights=rr)
    keep = counts > 0
    centres = (np.flatnonzero(keep) + 0.5) * bin_s
    return {
        "t_s": centres.round(1).tolist(),
        "bpm": np.round(60.0 / (sums[keep] / counts[keep]), 1).tolist(),
    }
