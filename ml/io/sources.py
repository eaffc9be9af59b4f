"""A recording read piece by piece: what the chunked analysis (`ml.chunked`) streams from.

`open_recording(paths, ...)` returns a `RecordingSource` for a long WFDB record (its samples
stay in the file and are decoded a chunk at a time: formats 16 and 212 from the bytes of the
chunk, others with wfdb's `sampfrom`/`sampto`) or EDF/EDF+ file (pyEDFlib reads a stretch),
and a whole in-memory `Recording` otherwise (CSV, zip, short recordings). `ArraySource` serves
a `Recording` already in memory through the same interface (tests).

A source checks what `read_recording` checks from the header before any sample is read;
what needs every sample (checksums, impossible values, flat or clipped leads) is checked by
the analysis's first pass over it (`ml.chunked`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ml.errors import HeaderDataMismatchError
from ml.gaps import impossible_values_as_gaps
from ml.io import beside_the_recording, unread_notes
from ml.io.archive import extract_zip, is_zip
from ml.io.edf_reader import EdfSource, is_edf
from ml.io.limits import without_paths
from ml.io.wfdb_header import COMPRESSED_FORMATS, WfdbHeader, parse_header
from ml.io.wfdb_reader import (
    STAGED_NAME,
    StoredAs,
    _check_not_longer,
    _check_wfdb_agrees,
    _header_text,
    _integer_bits,
    _link,
    _millivolts_into,
    _uncalibrated_notes,
    checked_data_files,
    decode_interleaved,
    is_plain_interleaved,
    is_wfdb_header,
    stage_header,
    staged_file_names,
)
from ml.recording import MAX_ECG_MV, Recording, validated

# Recordings longer than this are streamed and analysed in chunks; shorter ones are read
# whole (a 1-hour 2-lead record at 360 Hz is 21 MB of samples).
STREAM_FROM_S = 3600.0
SCAN_CHUNK_S = 600.0


class RecordingSource(Protocol):
    """The header of a recording and its samples on request, in mV [samples, leads], with
    values beyond any ECG (infinite, beyond MAX_ECG_MV) as NaN, as `read_recording` gives."""

    fs_hz: float
    lead_names: tuple[str, ...]
    n_samples: int
    source_format: str
    source_name: str | None
    start_time: dt.datetime | None
    notes: tuple[str, ...]

    @property
    def duration_s(self) -> float: ...

    def read(self, start: int, stop: int) -> np.ndarray: ...

    def scan(self, chunk_samples: int) -> Iterator[tuple[int, np.ndarray]]:
        """(first sample, samples) of consecutive chunks covering the recording once; at
        its end the source's own integrity checks (checksums) have been made."""
        ...

    def whole(self) -> Recording: ...

    def close(self) -> None: ...


class ArraySource:
    """A `Recording` in memory, served chunk by chunk."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.fs_hz = recording.fs_hz
        self.lead_names = recording.lead_names
        self.n_samples = recording.n_samples
        self.source_format = recording.source_format
        self.source_name = recording.source_name
        self.start_time = recording.start_time
        self.notes = recording.notes

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs_hz

    def read(self, start: int, stop: int) -> np.ndarray:
        return np.asarray(self.recording.signal_mv[max(start, 0) : stop], dtype=np.float64)

    def scan(self, chunk_samples: int) -> Iterator[tuple[int, np.ndarray]]:
        for start in range(0, self.n_samples, chunk_samples):
            yield start, self.read(start, start + chunk_samples)

    def whole(self) -> Recording:
        return self.recording

    def close(self) -> None:
        pass


class WfdbSource:
    """A WFDB record whose samples stay in its files: each `read` decodes only its stretch.
    Use as a context manager (or call `close`): the files are linked into a private folder
    under the names wfdb expects while the source is open."""

    def __init__(self, header_path: Path, header: WfdbHeader, data_files: dict[str, Path]) -> None:
        self.header = header
        self.fs_hz = header.fs_hz
        self.lead_names = header.lead_names
        self.n_samples = header.n_samples
        self.source_format = "wfdb"
        self.source_name: str | None = header.record_name
        self.start_time = header.start_time
        self.notes = (*_uncalibrated_notes(header), *header.inverted_notes)
        self._data_files = data_files
        self._kept: list[tempfile.TemporaryDirectory[str]] = []
        self._folder = tempfile.TemporaryDirectory(prefix="cardio-wfdb-stream-")
        staged = Path(self._folder.name)
        stage_header(header_path, staged / f"{STAGED_NAME}.hea", header)
        staged_names = staged_file_names(header)
        for name, path in data_files.items():
            _link(path, staged / staged_names[name])
        self._record = str(staged / STAGED_NAME)
        # One data file in format 16 or 212 without skew: decoded here from the bytes of the
        # chunk (wfdb would also recompute checksums of every chunk, a third of the time), as
        # the whole-record reader does (`wfdb_reader`), so wfdb is not even imported.
        plain = is_plain_interleaved(header)
        self._plain_file = data_files[header.signals[0].file_name] if plain else None
        if not plain:
            self._check_wfdb_reads_our_layout(header)

    def _check_wfdb_reads_our_layout(self, header: WfdbHeader) -> None:
        import wfdb  # here, not at the top: plain records never need it

        try:
            layout = wfdb.rdheader(self._record)
        except Exception as error:  # wfdb raises bare Exceptions for malformed files
            self.close()
            raise HeaderDataMismatchError(
                f"The header cannot be read ({without_paths(str(error))})."
            ) from error
        try:
            _check_wfdb_agrees(header, layout)
        except Exception:
            self.close()
            raise

    def __enter__(self) -> WfdbSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._folder.cleanup()
        for folder in self._kept:
            folder.cleanup()

    def keep(self, folder: tempfile.TemporaryDirectory[str]) -> None:
        """Remove `folder` (where the record's files were unpacked) when the source closes."""
        self._kept.append(folder)

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs_hz

    def _digital(self, start: int, stop: int) -> np.ndarray:
        start, stop = max(start, 0), min(stop, self.n_samples)
        if self._plain_file is not None:
            return decode_interleaved(self._plain_file, self.header, start, stop)
        import wfdb

        try:
            record = wfdb.rdrecord(
                self._record,
                sampfrom=start,
                sampto=stop,
                physical=False,
                return_res=_integer_bits(self.header),
            )
        except Exception as error:  # wfdb raises bare Exceptions for malformed files
            raise HeaderDataMismatchError(
                f"The data file does not match its header ({without_paths(str(error))})."
            ) from error
        digital = np.asarray(record.d_signal)
        if digital.shape[0] != stop - start:
            raise HeaderDataMismatchError("The data file holds fewer samples than its header says.")
        return digital

    def _millivolts(self, digital: np.ndarray, impossible_as_missing: bool = True) -> np.ndarray:
        out = np.empty(digital.shape, dtype=np.float64)
        for column, (spec, lead, sign) in enumerate(
            zip(self.header.signals, self.lead_names, self.header.lead_signs, strict=True)
        ):
            _millivolts_into(out[:, column], spec, digital[:, column], lead, sign)
        if impossible_as_missing:
            out[~(np.abs(out) <= MAX_ECG_MV) & ~np.isnan(out)] = np.nan
        return out

    def read(self, start: int, stop: int) -> np.ndarray:
        return self._millivolts(self._digital(start, stop))

    def scan(self, chunk_samples: int) -> Iterator[tuple[int, np.ndarray]]:
        sums = np.zeros(len(self.lead_names), dtype=np.int64)
        for start in range(0, self.n_samples, chunk_samples):
            digital = self._digital(start, start + chunk_samples)
            sums += digital.sum(axis=0, dtype=np.int64)
            yield start, self._millivolts(digital)
        self._check_sums(sums)

    def _check_sums(self, sums: np.ndarray) -> None:
        """As `wfdb_reader._unverified_files`: a checksum that disagrees is refused; files no
        checksum confirms must be exactly as long as the header says."""
        unverified = set()
        for spec, total, lead in zip(self.header.signals, sums, self.lead_names, strict=True):
            actual = int(total) & 0xFFFF
            if spec.checksum is None or (spec.checksum == 0 and actual != 0):
                unverified.add(spec.file_name)
            elif actual != spec.checksum & 0xFFFF:
                raise HeaderDataMismatchError(
                    f"Lead {lead}: the data do not match the header's checksum; the data file "
                    "belongs to another record or is damaged."
                )
        for name in unverified:
            _check_not_longer(self.header, name, self._data_files[name])

    def whole(self) -> Recording:
        # No local keeps the unmarked samples alive: they are freed once marked, so the
        # largest recording admitted is held twice at most, not three times (1.3 GB not 1.8).
        recording = Recording(
            fs_hz=self.fs_hz,
            lead_names=self.lead_names,
            signal_mv=self._millivolts(self._digital(0, self.n_samples), False),
            source_format="wfdb",
            source_name=self.source_name,
            start_time=self.start_time,
            notes=self.notes,
        )
        recording = impossible_values_as_gaps(recording)
        return validated(recording)


def open_recording(
    paths: Path | str | Sequence[Path | str],
    *,
    fs_hz: float | None = None,
    units: str | None = None,
    uncalibrated_ok: bool = False,
    stream_from_s: float = STREAM_FROM_S,
    stored_as: StoredAs | None = None,
) -> Recording | RecordingSource:
    """`read_recording`, except that a WFDB record or EDF file longer than `stream_from_s`
    comes back as a source whose samples are read chunk by chunk (`ml.chunked`)."""
    from ml.io import read_recording

    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = [Path(p) for p in paths]
    if len(files) == 1 and is_zip(files[0]):
        unpacked = tempfile.TemporaryDirectory(prefix="cardio-zip-stream-")
        try:
            inner = extract_zip(files[0], Path(unpacked.name))
            streamed = (
                None
                if len(inner) == 1 and is_zip(inner[0])
                else _streamable(inner, uncalibrated_ok, stream_from_s, stored_as)
            )
        except BaseException:
            unpacked.cleanup()
            raise
        if streamed is None:
            unpacked.cleanup()  # read whole, checks and all, by read_recording
        else:
            streamed.keep(unpacked)  # the unpacked files live as long as the source
            return streamed
    source = _streamable(files, uncalibrated_ok, stream_from_s, stored_as)
    if source is not None:
        return source
    return read_recording(
        files, fs_hz=fs_hz, units=units, uncalibrated_ok=uncalibrated_ok, stored_as=stored_as
    )


def _streamable(
    files: list[Path], uncalibrated_ok: bool, stream_from_s: float, stored_as: StoredAs | None
) -> WfdbSource | EdfSource | None:
    """A source read chunk by chunk for a long WFDB record or EDF file, plain or unpacked
    from a zip; None for anything else (read whole). A Holter audit: a zipped 22.6-h EDF was
    read whole, 3.4 GB and 4.6 min where the same file unzipped streamed in 0.5 GB. Notes
    and documents beside it are left unread, as `read_recording` leaves them."""
    unread = beside_the_recording(files)
    files = [f for f in files if f not in unread]
    wfdb_source = _streamable_wfdb(files, uncalibrated_ok, stream_from_s, stored_as)
    if wfdb_source is not None or len(files) != 1 or not is_edf(files[0]):
        return wfdb_source
    edf = EdfSource(files[0])
    if edf.duration_s > stream_from_s:
        edf.notes = (*edf.notes, *unread_notes(unread))
        return edf
    edf.close()
    return None


def _streamable_wfdb(
    files: list[Path], uncalibrated_ok: bool, stream_from_s: float, stored_as: StoredAs | None
) -> WfdbSource | None:
    """A source for a long WFDB record stored one sample per frame in an uncompressed format
    wfdb can seek in; None for anything else (read whole)."""
    headers = [p for p in files if is_wfdb_header(p)]
    if len(headers) != 1:
        return None
    header_path = headers[0]
    header = parse_header(
        _header_text(header_path), header_path.name, uncalibrated_ok=uncalibrated_ok
    )
    seekable = all(
        s.samples_per_frame == 1 and s.fmt not in COMPRESSED_FORMATS and s.fmt != "8"
        for s in header.signals
    )
    if not seekable or header.n_samples / header.fs_hz <= stream_from_s:
        return None
    data_files = checked_data_files(header, header_path, files, stored_as)
    return WfdbSource(header_path, header, data_files)
