"""WFDB records (PhysioNet): a .hea header plus the data file(s) it names, in any storage
format wfdb decodes (8, 16, 24, 32, 61, 80, 160, 212, 310, 311, FLAC 508/516/524), with byte
offsets (`16+24`, as in the CinC 2017 `.mat` files) and several samples per frame.

The header is read by `wfdb_header` (strictly) and its size checked against `ml.io.limits`
before any sample is read. The common layout (one data file in format 16 or 212, one sample
per frame, no skew: MIT-BIH, svdb, CinC 2017) is decoded here from its bytes
(`decode_interleaved`), so the engine imports neither wfdb nor pandas for it; wfdb decodes
every other format, in the narrowest integers it allows. The samples are converted to
millivolts lead by lead into one preallocated array. The data files
are found among the files given, else next to the header on disk, under the names the
header gives them, whatever their extension.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ml.errors import HeaderDataMismatchError, TruncatedDataError, UnknownFormatError
from ml.io.limits import check_recording_size, without_paths
from ml.io.units import to_mv_factor
from ml.io.wfdb_header import (
    COMPRESSED_FORMATS,
    RECORD_NAME,
    SignalSpec,
    WfdbHeader,
    parse_header,
)
from ml.recording import Recording

if TYPE_CHECKING:  # wfdb (and the pandas it imports) only for formats decoded by wfdb
    import wfdb

# Bytes per sample of each uncompressed format (212 packs two 12-bit samples in 3 bytes).
BYTES_PER_SAMPLE = {
    "8": 1.0,
    "16": 2.0,
    "24": 3.0,
    "32": 4.0,
    "61": 2.0,
    "80": 1.0,
    "160": 2.0,
    "212": 1.5,
    "310": 4 / 3,
    "311": 4 / 3,
}
# The value WFDB stores for a missing sample (wfdb.io._signal.INVALID_SAMPLE_VALUE); format 8,
# a difference format, has none.
INVALID_SAMPLE = {
    "80": -(2**7),
    "508": -(2**7),
    "310": -(2**9),
    "311": -(2**9),
    "212": -(2**11),
    "16": -(2**15),
    "61": -(2**15),
    "160": -(2**15),
    "516": -(2**15),
    "24": -(2**23),
    "524": -(2**23),
    "32": -(2**31),
}
MAX_HEADER_BYTES = 1 << 20
# Formats whose samples fit 16 bits as wfdb decodes them (see `_integer_bits`).
SIXTEEN_BIT_FORMATS = frozenset(("16", "61", "80", "160", "212", "310", "311", "508", "516"))
RECORD_LINE = re.compile(RECORD_NAME.pattern + r"(/\d+)?\s+\d+(\s|$)")
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
STAGED_NAME = "record"  # wfdb reads `<name>.hea`; the name inside the header is not checked
# The name a file given under one name was stored under (the portal keeps safe ASCII names on
# disk): where a data file the header names is looked for when none has its own name.
StoredAs = Callable[[str], str]


def is_wfdb_header(path: Path) -> bool:
    """A text file whose first line reads like a record line and which has a signal line.
    Text in any encoding: a comment "# Patient: Müller" had made r12.hea no header at all, and
    its uploader was told to upload r12.hea with r12.dat, which they had (an input audit);
    which characters the reader takes is `_header_text`'s to say."""
    try:
        head = path.open("rb").read(2048)
    except OSError:
        return False
    if b"\x00" in head:  # a data file, not text
        return False
    lines = [line for line in _decoded(head).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("#")]
    return len(lines) >= 2 and RECORD_LINE.match(lines[0].strip()) is not None


def checked_data_files(
    header: WfdbHeader, header_path: Path, paths: Sequence[Path], stored_as: StoredAs | None = None
) -> dict[str, Path]:
    """The data files the header names, found among `paths` (under their names, else under
    `stored_as` theirs), once what decoding them would cost is within bounds
    (`ml.io.limits`) and none is shorter than the header says."""
    check_recording_size(
        header_path.name,
        n_leads=len(header.signals),
        samples_per_lead=header.n_samples,
        fs_hz=header.fs_hz,
        decoded_samples=header.n_samples * _frame_samples(list(header.signals)),
    )
    data_files = _data_files(header, header_path, paths, stored_as)
    for name, path in data_files.items():
        _check_not_truncated(header, name, path)
    return data_files


def read_wfdb(
    paths: Sequence[Path], *, uncalibrated_ok: bool = False, stored_as: StoredAs | None = None
) -> Recording:
    """The record whose header is among `paths`; `uncalibrated_ok` reads a gain of 0 as
    WFDB's default 200 per mV and says so in the notes (research databases only);
    `stored_as` finds data files stored under other names (`checked_data_files`)."""
    headers = [p for p in paths if is_wfdb_header(p)]
    if not headers:
        raise UnknownFormatError("Upload exactly one WFDB header (.hea) with its data file.")
    if len(headers) > 1 and any(_in_segments(h) for h in headers):  # a header for each
        raise UnknownFormatError(
            f"Upload exactly one WFDB header (.hea) with its data file ({len(headers)} were "
            "given: a record stored in segments?). Segmented records cannot be read here: "
            "export it as one record (e.g. wfdb's rdrecord, then wrsamp)."
        )
    if len(headers) > 1:
        raise UnknownFormatError(several_recordings([h.name for h in headers]))
    header_path = headers[0]
    header = parse_header(
        _header_text(header_path), header_path.name, uncalibrated_ok=uncalibrated_ok
    )
    data_files = checked_data_files(header, header_path, paths, stored_as)
    samples = _decode(header, header_path, data_files)
    unverified = _unverified_files(header, samples)
    for name in unverified:
        _check_not_longer(header, name, data_files[name])
    # Filled lead by lead, in place: the millivolts are the only full-size float array.
    signal_mv = np.empty((header.n_samples, len(header.signals)), dtype=np.float64)
    for column, (spec, lead, sign) in enumerate(
        zip(header.signals, header.lead_names, header.lead_signs, strict=True)
    ):
        _millivolts_into(signal_mv[:, column], spec, samples[column], lead, sign)
    del samples
    return Recording(
        fs_hz=header.fs_hz,
        lead_names=header.lead_names,
        signal_mv=signal_mv,
        source_format="wfdb",
        source_name=header.record_name,
        start_time=header.start_time,
        notes=(*_uncalibrated_notes(header), *header.inverted_notes),
    )


def several_recordings(names: Sequence[str]) -> str:
    """The refusal of an upload holding more than one recording, naming their files. Two
    WFDB records had been told "a record stored in segments? ... export it as one record
    (e.g. wfdb's rdrecord, then wrsamp)", two EDF files "not a recognised ECG file" (an
    upload audit)."""
    count = NUMBER_WORDS.get(len(names), str(len(names)))
    return (
        f"This upload holds {count} recordings ({', '.join(names)}): upload one recording "
        "at a time."
    )


def _in_segments(header_path: Path) -> bool:
    """A multi-segment record's master header: its record line names `record/segments`."""
    with header_path.open("rb") as handle:
        lines = _decoded(handle.read(2048)).splitlines()
    record_line = next((line for line in lines if line.strip() and not line.startswith("#")), "")
    return "/" in (record_line.split() or [""])[0]


def _uncalibrated_notes(header: WfdbHeader) -> tuple[str, ...]:
    return tuple(
        f"Lead {lead}: uncalibrated in its file (gain 0); "
        f"{spec.gain_adu_per_unit:g} units per mV assumed, so amplitudes are approximate."
        for spec, lead in zip(header.signals, header.lead_names, strict=True)
        if spec.uncalibrated
    )


def _header_text(path: Path) -> str:
    """The header's text. Characters beyond ASCII are read in comment lines and signal
    descriptions (a patient's name "Müller", "µV" in a description), where a recorder writes
    what it likes; in any other field they are refused naming the line (an input audit)."""
    with path.open("rb") as handle:
        text = _decoded(handle.read(MAX_HEADER_BYTES))
    if (found := _unreadable_line(text)) is not None:
        number, line = found
        character = next(c for c in line if not c.isascii())
        raise UnknownFormatError(
            f"{path.name}: line {number} holds a character the reader cannot read "
            f"({character!r}, in {line.strip()[:60]!r}). Only comment lines (starting with #) "
            "and the lead descriptions may hold characters beyond plain English letters and "
            "digits: correct that line, or export the record again."
        )
    return text


DESCRIPTION_FIELD = 8  # a signal line's fields before its description (`parse_header`)


def _unreadable_line(text: str) -> tuple[int, str] | None:
    """The first line, numbered from 1, holding a character beyond ASCII outside a comment,
    a signal's description and the names (record, data file; `RECORD_NAME`, `FILE_NAME`
    say which letters): the record line's other fields, a signal line's figures. A record
    named "καρδιά" or "心电图" had been refused for the letters of its name (a bad-input
    audit); wfdb reads them under ASCII names (`stage_header`)."""
    record_line_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split()
        read = fields[1:DESCRIPTION_FIELD] if record_line_seen else fields[1:]
        record_line_seen = True
        if not all(field.isascii() for field in read):
            return number, line
    return None


def _decoded(raw: bytes) -> str:
    """UTF-8 (with or without its byte-order mark), else Latin-1, which reads any byte: a
    header's comments come in whichever the recorder's computer used."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def stage_header(header_path: Path, target: Path, header: WfdbHeader) -> None:
    """The header as wfdb reads it: its characters beyond ASCII (comments and descriptions,
    `_header_text`) replaced by '?', which wfdb does not need, and a record or data file
    named beyond ASCII renamed (`staged_file_names`; the data files are linked under those
    names), which wfdb reads in ASCII only."""
    staged_names = staged_file_names(header)
    lines = _header_text(header_path).splitlines(keepends=True)
    record_line_seen = False
    for number, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name = line.split()[0]
        staged = staged_names.get(name, name) if record_line_seen else STAGED_NAME
        if not name.isascii():
            lines[number] = line.replace(name, staged, 1)
        record_line_seen = True
    target.write_bytes("".join(lines).encode("ascii", "replace"))


def staged_file_names(header: WfdbHeader) -> dict[str, str]:
    """Each data file's name where wfdb reads it: its own, or `record_<n>` for a name beyond
    ASCII (`stage_header`)."""
    return {
        name: name if name.isascii() else f"{STAGED_NAME}_{number}"
        for number, name in enumerate(header.file_names, start=1)
    }


def _data_files(
    header: WfdbHeader, header_path: Path, paths: Sequence[Path], stored_as: StoredAs | None
) -> dict[str, Path]:
    """Each file the header names: the one given under that name, else under the name a file
    of that name is stored under (`stored_as`: the portal's safe names on disk, "dat" for
    "καρδιά.dat"), else the one beside the header on disk (reading a .hea by its path alone)."""
    given = {p.name: p for p in paths if p != header_path}
    found = {}
    for name in header.file_names:
        path = given.get(name, header_path.parent / name)
        if name not in given and stored_as is not None and stored_as(name) in given:
            path = given[stored_as(name)]
        if not path.is_file():
            others = sorted(set(given) - set(header.file_names))
            instead = f" ({', '.join(others)} was given instead)" if others else ""
            raise HeaderDataMismatchError(
                f"The header names the data file {name}, which was not provided{instead}. "
                f"Upload {header_path.name} and {name} together, or both in one .zip."
            )
        found[name] = path
    return found


def _frame_samples(signals: list[SignalSpec]) -> int:
    return sum(s.samples_per_frame for s in signals)


def _frame_bytes(signals: list[SignalSpec]) -> float:
    return _frame_samples(signals) * BYTES_PER_SAMPLE[signals[0].fmt]


def _expected_bytes(header: WfdbHeader, name: str) -> int | None:
    """Bytes the header's samples need in data file `name`; None for compressed (FLAC)."""
    signals = header.signals_in(name)
    formats = {s.fmt for s in signals}
    if len(formats) > 1:
        raise UnknownFormatError(
            f"The header gives the signals in {name} different storage formats; a file has one."
        )
    fmt = signals[0].fmt
    if fmt in COMPRESSED_FORMATS:
        return None
    n_samples = header.n_samples * _frame_samples(signals)
    if fmt == "310":  # three samples in each whole 4-byte word, as wfdb reads them
        data_bytes = 4 * math.ceil(n_samples / 3)
    else:
        data_bytes = math.ceil(n_samples * BYTES_PER_SAMPLE[fmt])
    return signals[0].byte_offset + data_bytes


def _seconds_held(header: WfdbHeader, name: str, size_bytes: int) -> float:
    signals = header.signals_in(name)
    return max(0, size_bytes - signals[0].byte_offset) / _frame_bytes(signals) / header.fs_hz


def _check_not_truncated(header: WfdbHeader, name: str, path: Path) -> None:
    expected = _expected_bytes(header, name)
    actual = path.stat().st_size
    if expected is not None and actual < expected:
        raise TruncatedDataError(
            f"{name} is truncated: it holds {_seconds_held(header, name, actual):.1f} s of the "
            f"{header.n_samples / header.fs_hz:.1f} s the header announces."
        )


def _check_not_longer(header: WfdbHeader, name: str, path: Path) -> None:
    """Without a checksum, a data file much longer than its header says may be another
    record's; a few bytes of padding (one frame, or the header's block size) are allowed."""
    expected = _expected_bytes(header, name)
    if expected is None:
        return
    signals = header.signals_in(name)
    padding = max(math.ceil(_frame_bytes(signals)), 4, signals[0].block_size)  # 4: 310's words
    actual = path.stat().st_size
    if actual > expected + padding:
        raise HeaderDataMismatchError(
            f"{name} holds {_seconds_held(header, name, actual):.1f} s of samples but its "
            f"header announces {header.n_samples / header.fs_hz:.1f} s, and the header has no "
            "checksum to show the file is this record's: it may belong to another record. "
            "Upload the header and the data file of the same record."
        )


def is_plain_interleaved(header: WfdbHeader) -> bool:
    """One data file holding every signal in format 16 or 212, one sample per frame, one byte
    offset and no skew: the layout `decode_interleaved` reads without wfdb."""
    first = header.signals[0]
    return first.fmt in ("16", "212") and all(
        (s.file_name, s.fmt, s.byte_offset, s.samples_per_frame, s.skew)
        == (first.file_name, first.fmt, first.byte_offset, 1, 0)
        for s in header.signals
    )


def decode_interleaved(path: Path, header: WfdbHeader, start: int, stop: int) -> np.ndarray:
    """Frames [start, stop) of a plain interleaved data file (`is_plain_interleaved`) as int16
    [frames, signals], decoded as wfdb decodes format 16 (little-endian 16-bit) and 212 (two
    12-bit samples in 3 bytes); a file too short for them is refused."""
    n_sig = len(header.signals)
    offset = header.signals[0].byte_offset
    first, last = start * n_sig, stop * n_sig  # in the file's sample stream
    if header.signals[0].fmt == "16":
        data = np.fromfile(path, dtype="<i2", count=last - first, offset=offset + 2 * first)
        samples = data.astype(np.int16)
    else:
        pair_from, pair_to = first // 2, (last + 1) // 2
        raw = np.fromfile(
            path, dtype=np.uint8, count=3 * (pair_to - pair_from), offset=offset + 3 * pair_from
        )
        raw = np.pad(raw, (0, -raw.size % 3)).reshape(-1, 3).astype(np.int16)
        pairs = np.empty(2 * raw.shape[0], dtype=np.int16)
        pairs[0::2] = raw[:, 0] | ((raw[:, 1] & 0x0F) << 8)
        pairs[1::2] = raw[:, 2] | ((raw[:, 1] & 0xF0) << 4)
        pairs[pairs > 2047] -= 4096
        skip = first - 2 * pair_from
        samples = pairs[skip : skip + last - first]
    if samples.size < last - first:
        raise TruncatedDataError(
            f"{header.signals[0].file_name} holds fewer samples than the "
            f"{header.n_samples / header.fs_hz:.1f} s the header announces."
        )
    return samples.reshape(-1, n_sig)


def _decode(header: WfdbHeader, header_path: Path, data_files: dict[str, Path]) -> list[np.ndarray]:
    """Every sample of each signal (all samples of each frame), as wfdb decodes them.

    wfdb reads `<record>.hea` and its data files from one folder, so they are linked into a
    private one, the data files under the names the header gives them."""
    if is_plain_interleaved(header):
        data_file = data_files[header.signals[0].file_name]
        frames = decode_interleaved(data_file, header, 0, header.n_samples)
        return [frames[:, column] for column in range(frames.shape[1])]  # views: no copy
    import wfdb

    with tempfile.TemporaryDirectory(prefix="cardio-wfdb-") as folder:
        staged = Path(folder)
        stage_header(header_path, staged / f"{STAGED_NAME}.hea", header)
        staged_names = staged_file_names(header)
        for name, path in data_files.items():
            _link(path, staged / staged_names[name])
        # wfdb 4.3 fails on big-endian format 61 when frames are kept apart, so they are
        # kept apart only when a signal has several samples per frame.
        one_per_frame = all(s.samples_per_frame == 1 for s in header.signals)
        try:
            record = wfdb.rdrecord(
                str(staged / STAGED_NAME),
                physical=False,
                smooth_frames=one_per_frame,
                return_res=_integer_bits(header),
            )
        except Exception as error:  # wfdb raises bare Exceptions for malformed files
            raise HeaderDataMismatchError(
                f"The data file does not match its header ({without_paths(str(error))})."
            ) from error
    _check_wfdb_agrees(header, record)
    signals = record.d_signal.T if one_per_frame else record.e_d_signal
    samples = [np.asarray(s) for s in signals]  # views: no copy of the samples
    for spec, digital in zip(header.signals, samples, strict=True):
        if digital.size < header.n_samples * spec.samples_per_frame:
            raise TruncatedDataError(
                f"{spec.file_name} holds fewer samples than the "
                f"{header.n_samples / header.fs_hz:.1f} s the header announces."
            )
    return samples


def _integer_bits(header: WfdbHeader) -> int:
    """The narrowest integer wfdb may return the samples in (it refuses to narrow them):
    16 bits for formats of 16 bits or fewer, 32 for 24- and 32-bit formats and for format 8,
    whose differences wfdb sums in 32 bits. int64, wfdb's default, would hold 4 to 8 times the
    bytes of the file in memory for nothing."""
    return 16 if all(s.fmt in SIXTEEN_BIT_FORMATS for s in header.signals) else 32


def _link(source: Path, target: Path) -> None:
    try:
        os.symlink(source.resolve(), target)
    except OSError:  # a filesystem without links
        shutil.copyfile(source, target)


def _check_wfdb_agrees(header: WfdbHeader, record: wfdb.Record) -> None:
    """wfdb parsed the header again, leniently: it must have read the same layout (its data
    files under the names `stage_header` gave them)."""
    staged = staged_file_names(header)
    ours = [
        (staged[s.file_name], s.fmt, s.samples_per_frame, s.byte_offset) for s in header.signals
    ]
    theirs = [
        (f, fmt, int(spf or 1), int(offset or 0))
        for f, fmt, spf, offset in zip(
            record.file_name,
            record.fmt,
            record.samps_per_frame,
            record.byte_offset or [0] * record.n_sig,
            strict=True,
        )
    ]
    if ours != theirs or record.sig_len != header.n_samples:
        raise UnknownFormatError(
            f"The header of {header.record_name} cannot be read unambiguously; export the record "
            "again with a standard WFDB writer."
        )


def _unverified_files(header: WfdbHeader, samples: list[np.ndarray]) -> set[str]:
    """Data files holding a signal that no checksum confirms; raises if a checksum disagrees.

    A checksum of 0 is taken as 'not given' when the data do not sum to 0: the CinC 2017
    challenge writes 0 in every header (all 1500 records of our copy), whatever the data, so
    there 0 means nothing. Those files, and files with no checksum at all, are still checked:
    named as the header names them, and of exactly the length it announces
    (`_check_not_longer`). A data file of another record with the same length and name is
    what this cannot catch; a nonzero checksum always can.
    """
    unverified: set[str] = set()
    for spec, digital, lead in zip(header.signals, samples, header.lead_names, strict=True):
        actual = int(digital.sum()) & 0xFFFF
        if spec.checksum is None or (spec.checksum == 0 and actual != 0):
            unverified.add(spec.file_name)
        elif actual != spec.checksum & 0xFFFF:
            raise HeaderDataMismatchError(
                f"Lead {lead}: the data do not match the header's checksum; the data file "
                "belongs to another record or is damaged."
            )
    return unverified


def _millivolts_into(
    out: np.ndarray, spec: SignalSpec, digital: np.ndarray, lead: str, sign: float = 1.0
) -> None:
    """(sample - baseline) / gain in mV, times `sign` (-1 turns Cabrera's -aVR back), written
    into `out` (one column of the recording); WFDB's missing-sample value becomes NaN; several
    samples per frame are averaged to the frame rate (NaN if any of them is missing). The
    same arithmetic, in float64, as computing it on a copy: integers convert exactly."""
    factor = to_mv_factor(spec.units, lead=lead) * sign
    invalid = INVALID_SAMPLE.get(spec.fmt)
    if spec.samples_per_frame == 1:
        out[:] = digital
        out -= spec.baseline_adu
        out /= spec.gain_adu_per_unit
        out *= factor
        if invalid is not None:
            out[digital == invalid] = np.nan
        return
    physical = digital.astype(np.float64)
    physical -= spec.baseline_adu
    physical /= spec.gain_adu_per_unit
    physical *= factor
    if invalid is not None:
        physical[digital == invalid] = np.nan
    out[:] = physical.reshape(-1, spec.samples_per_frame).mean(axis=1)
