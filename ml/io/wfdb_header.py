"""WFDB header (.hea) text, read strictly: a field that is there must make sense, and the
rate, length and gain must be there.

`wfdb.rdheader` reads leniently, and fills what it cannot read with a default (wfdb 4.3):
a sampling rate of -360 or NaN becomes 250 Hz, 1e9 becomes 1 Hz, a gain of 0 or NaN becomes
200 per mV. An ECG read at a rate or gain the file never stated would be measured wrongly
without anyone knowing, so the record and signal lines are parsed here and refused with a
plain message when they lie; wfdb only decodes the samples (see `wfdb_reader`). A gain of 0,
WFDB's "uncalibrated", is read only on request (research databases), with a note.
Format: https://physionet.org/physiotools/wag/header-5.htm
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from ml.errors import (
    HeaderDataMismatchError,
    InvalidHeaderError,
    SamplingRateError,
    UnknownFormatError,
)
from ml.io.limits import file_name_too_long
from ml.recording import distinct_lead_names, inverted_back

# Storage formats wfdb 4.3 decodes (wfdb.io._signal.DAT_FMTS); 508/516/524 are FLAC.
FORMATS = ("8", "16", "24", "32", "61", "80", "160", "212", "310", "311", "508", "516", "524")
COMPRESSED_FORMATS = ("508", "516", "524")
RECORD_NAME = re.compile(r"[\w.-]+")
FILE_NAME = re.compile(r"[\w.-]+")
# format, then optional x samples-per-frame, :skew and +byte offset: "16", "212", "16+24", "16x4"
FORMAT_FIELD = re.compile(
    r"(?P<fmt>\d+)(?:x(?P<spf>\d+))?(?::(?P<skew>\d+))?(?:\+(?P<offset>\d+))?"
)
GAIN_FIELD = re.compile(r"(?P<gain>[^(/]+)(?:\((?P<baseline>[^)]*)\))?(?:/(?P<units>.*))?")
DEFAULT_UNITS = "mV"  # the WFDB default when a gain is given without units (e.g. MIT-BIH)
UNCALIBRATED_GAIN = 200.0  # what WFDB assumes for a gain of 0 ("uncalibrated"), on request


@dataclass(frozen=True)
class SignalSpec:
    """One signal line. `checksum` and `init_value` are None when the header omits them;
    `uncalibrated` when the header's gain was 0 or absent and UNCALIBRATED_GAIN was assumed."""

    file_name: str
    fmt: str
    samples_per_frame: int
    byte_offset: int
    gain_adu_per_unit: float
    baseline_adu: int
    units: str
    init_value: int | None
    checksum: int | None
    block_size: int
    description: str
    uncalibrated: bool = False
    skew: int = 0  # samples by which this signal lags the frame (WFDB "fmt:skew")


@dataclass(frozen=True)
class WfdbHeader:
    record_name: str
    fs_hz: float
    n_samples: int
    signals: tuple[SignalSpec, ...]
    start_time: dt.datetime | None = None

    @property
    def lead_names(self) -> tuple[str, ...]:
        """Each signal's description (its lead, e.g. 'MLII'), or 'signal N' without one; a
        lead described twice is numbered the second time, "II (2)" (`distinct_lead_names`);
        Cabrera's "-aVR" is named aVR (`lead_signs` turns it back, `inverted_back`)."""
        return distinct_lead_names(inverted_back(self._described)[0])

    @property
    def lead_signs(self) -> tuple[float, ...]:
        """-1 for a signal that is a standard lead inverted ("-aVR"), 1 for the others: such
        a signal had stayed a lead "-aVR", and a Cabrera 12-lead had no aVR."""
        return tuple(inverted_back(self._described)[1])

    @property
    def inverted_notes(self) -> tuple[str, ...]:
        """ "Lead -aVR (Cabrera) read as aVR, inverted back." for each signal turned back."""
        return inverted_back(self._described)[2]

    @property
    def _described(self) -> list[str]:
        return [s.description or f"signal {i + 1}" for i, s in enumerate(self.signals)]

    @property
    def file_names(self) -> list[str]:
        """The data files, each once, in the order the header names them."""
        return list(dict.fromkeys(s.file_name for s in self.signals))

    def signals_in(self, file_name: str) -> list[SignalSpec]:
        return [s for s in self.signals if s.file_name == file_name]


def parse_header(text: str, header_name: str, *, uncalibrated_ok: bool = False) -> WfdbHeader:
    """The header in `text` (the content of `header_name`), or a RecordingError saying which
    field is impossible. A gain of 0 or none (WFDB's "uncalibrated") is refused unless
    `uncalibrated_ok`, for research on databases that use it (svdb, qtdb, nstdb noise)."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines:
        raise UnknownFormatError(f"{header_name}: the WFDB header is empty.")
    record_name, n_signals, fs_hz, n_samples, start = _record_line(lines[0].split(), header_name)
    if len(lines) - 1 < n_signals:
        raise HeaderDataMismatchError(
            f"{header_name} announces {n_signals} signals but describes {len(lines) - 1}."
        )
    signals = tuple(
        _signal_line(lines[1 + i].split(), i + 1, header_name, uncalibrated_ok)
        for i in range(n_signals)
    )
    return WfdbHeader(record_name, fs_hz, n_samples, signals, start)


def _record_line(
    fields: list[str], header_name: str
) -> tuple[str, int, float, int, dt.datetime | None]:
    name_field = fields[0]
    if "/" in name_field:
        raise UnknownFormatError("Multi-segment WFDB records are not supported; merge them first.")
    if not RECORD_NAME.fullmatch(name_field) or len(fields) < 2 or not fields[1].isdigit():
        raise UnknownFormatError(f"{header_name}: unreadable WFDB record line.")
    n_signals = int(fields[1])
    if n_signals == 0:
        raise UnknownFormatError(f"{header_name}: the record holds no signal.")
    if len(fields) < 3:
        raise SamplingRateError(
            f"{header_name} does not state the sampling rate; it cannot be assumed. "
            "Export the record again with its rate."
        )
    fs_hz = _sampling_rate_hz(fields[2], header_name)
    if len(fields) < 4:
        raise HeaderDataMismatchError("The header does not say how many samples the record has.")
    n_samples = _whole_number(fields[3])
    if n_samples is None or n_samples <= 0:
        raise InvalidHeaderError(
            f"{header_name} states {fields[3]!r} samples per signal, which is impossible; "
            "the record's length cannot be known."
        )
    return name_field, n_signals, fs_hz, n_samples, _start_time(fields[4:6])


def _sampling_rate_hz(field: str, header_name: str) -> float:
    """The rate before any '/counter frequency(base)' part; positive and finite, or refused."""
    text = field.split("/", 1)[0]
    try:
        fs_hz = float(text)
    except ValueError:
        fs_hz = math.nan
    if not math.isfinite(fs_hz) or fs_hz <= 0:
        raise SamplingRateError(
            f"{header_name} states a sampling rate of {text} Hz, which is impossible (a rate "
            "is a positive number of samples per second); the timing of every beat would be "
            "wrong. Export the record again."
        )
    return fs_hz


def _signal_line(
    fields: list[str], number: int, header_name: str, uncalibrated_ok: bool
) -> SignalSpec:
    where = f"{header_name}, signal {number}"
    if len(fields) < 2 or not FILE_NAME.fullmatch(fields[0]) or fields[0] in (".", ".."):
        raise UnknownFormatError(f"{where}: unreadable WFDB signal line.")
    if too_long := file_name_too_long(fields[0]):
        raise InvalidHeaderError(f"{where}: its data file's {too_long}; no such file can exist.")
    storage = FORMAT_FIELD.fullmatch(fields[1])
    if storage is None:
        raise UnknownFormatError(f"{where}: unreadable storage format {fields[1]!r}.")
    if storage["fmt"] not in FORMATS:
        raise UnknownFormatError(f"WFDB storage format {storage['fmt']} is not supported.")
    spf = int(storage["spf"] or 1)
    if spf == 0:
        raise InvalidHeaderError(f"{where}: 0 samples per frame is impossible.")
    gain, baseline, units = _gain_field(fields[2] if len(fields) > 2 else "0", where)
    uncalibrated = gain == 0
    if uncalibrated and not uncalibrated_ok:
        stated = "states a gain of 0" if len(fields) > 2 else "states no gain"
        raise InvalidHeaderError(
            f"{where} {stated}, which in WFDB means the amplitude is uncalibrated: the "
            "amplitudes in mV cannot be known. Export the record again with its calibration."
        )
    numbers = [_integer_field(fields, k, name, where) for k, name in _INTEGER_FIELDS]
    _resolution, adc_zero, init_value, checksum, block_size = numbers
    return SignalSpec(
        file_name=fields[0],
        fmt=storage["fmt"],
        samples_per_frame=spf,
        byte_offset=int(storage["offset"] or 0),
        gain_adu_per_unit=UNCALIBRATED_GAIN if uncalibrated else gain,
        baseline_adu=baseline if baseline is not None else (adc_zero or 0),
        units=units,
        init_value=init_value,
        checksum=checksum,
        block_size=block_size or 0,
        description=" ".join(fields[8:]),
        uncalibrated=uncalibrated,
        skew=int(storage["skew"] or 0),
    )


_INTEGER_FIELDS = (
    (3, "ADC resolution"),
    (4, "ADC zero"),
    (5, "initial value"),
    (6, "checksum"),
    (7, "block size"),
)


def _gain_field(field: str, where: str) -> tuple[float, int | None, str]:
    """'200', '200(1024)', '1000/mV', '200(0)/uV' -> gain, baseline, units; a gain that is
    negative, NaN, infinite or not a number is refused (0 is left to the caller)."""
    match = GAIN_FIELD.fullmatch(field)
    try:
        gain = float(match["gain"]) if match else math.nan
    except ValueError:
        gain = math.nan
    if match is None or not math.isfinite(gain) or gain < 0:
        shown = match["gain"] if match else field
        raise InvalidHeaderError(
            f"{where} states a gain of {shown} ADC units per mV, which is impossible (a gain "
            "is a positive number); the amplitudes in mV cannot be known. Export the record "
            "again."
        )
    baseline = None
    if match["baseline"] is not None:
        baseline = _whole_number(match["baseline"])
        if baseline is None:
            raise InvalidHeaderError(f"{where}: baseline {match['baseline']!r} is not a number.")
    return gain, baseline, match["units"] or DEFAULT_UNITS


def _integer_field(fields: list[str], index: int, name: str, where: str) -> int | None:
    if len(fields) <= index:
        return None
    value = _whole_number(fields[index])
    if value is None:
        raise InvalidHeaderError(f"{where}: the {name} {fields[index]!r} is not a whole number.")
    return value


def _whole_number(text: str) -> int | None:
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else None


def _start_time(fields: list[str]) -> dt.datetime | None:
    """'05:05:15 1/05/2000' (date day/month/year); None when absent or unreadable, since the
    clock time is shown but never used in the analysis."""
    if len(fields) < 2:
        return None
    time_text = fields[0].split(".")[0]
    for pattern in ("%H:%M:%S %d/%m/%Y", "%M:%S %d/%m/%Y", "%S %d/%m/%Y"):
        try:
            return dt.datetime.strptime(f"{time_text} {fields[1]}", pattern)
        except ValueError:
            continue
    return None
