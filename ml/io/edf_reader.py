"""EDF and EDF+ recordings, read with pyEDFlib, after their header's size (records x samples,
hours) is checked against `ml.io.limits`. Messages name the uploaded file, never its path."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyedflib

from ml.errors import HeaderDataMismatchError, TruncatedDataError, UnknownFormatError
from ml.io.limits import check_recording_size, without_paths
from ml.io.units import is_voltage_unit, to_mv_factor
from ml.recording import (
    MAX_ECG_MV,
    STANDARD_LEADS,
    Recording,
    canonical_lead_name,
    distinct_lead_names,
    inverted_back,
)

# Words of the labels of channels that are no ECG lead, matched as whole words of the label
# (a number after them allowed: "EEG1"). A sleep study's EEG, EOG and EMG are in microvolts
# like its ECG: they had been read as ECG leads, and decided the rate read (an upload audit).
# Matched anywhere in the label, "thor", "abd" and "pulse" had left out a fetal ECG's
# "Thorax_1" and even "Thoracic ECG", and refused the file (an upload audit).
NON_ECG_LABEL_WORDS = (
    "annotation", "annotations", "resp", "respiration", "respiratory", "spo2", "sao2",
    "pleth", "plethysmogram", "temp", "temperature", "event", "status", "oxstatus",
    "eeg", "eog", "emg", "flow", "airflow", "thor", "abd", "abdo", "snore", "snoring",
    "position", "pulse", "light",
)  # fmt: skip
# Words that make a channel an ECG lead whatever else its label says ("ECG Thorax").
ECG_LABEL_WORDS = ("ecg", "ekg")
# EEG derivations labelled by their 10-20 system electrodes alone ("Fp2-F4", "C3-A2", "O1:M2",
# "Fz-Cz", "F3"), as polysomnography EDFs label them: with no word of `NON_ECG_LABEL_WORDS`
# they had been read as ECG leads, beats read from the EEG (an upload audit).
EEG_ELECTRODE = r"fp[12z]|f[3478z]|c[34z]|t[345678]|p[3478z]|o[12z]|a[12]|m[12]"
EEG_DERIVATION_LABEL = re.compile(rf"(?:{EEG_ELECTRODE})(?:\s*[-:]\s*(?:{EEG_ELECTRODE}))?")
# Body sites naming an ECG lead (a fetal ECG's "Thorax_1", "Abdomen_2") or a respiratory belt
# ("Thorax", "Abdomen"): a belt is sampled at 10-100 Hz, in no unit, % or V, so such a channel
# is read as an ECG lead only in millivolts or microvolts and faster than that.
BODY_SITE_LABEL_WORDS = ("thorax", "thoracic", "chest", "abdomen", "abdominal")
MAX_BELT_RATE_HZ = 100.0
# The EDF format keeps every sample within its channel's digital minimum..maximum; a sample
# this many counts beyond it means the header's scale is wrong (a device writing its missing
# value one count beyond the range is let pass).
DIGITAL_SLACK_COUNTS = 3
EDF_ANNOTATIONS_LABEL = b"EDF Annotations"  # EDF+'s label of the channel of annotations
MAX_SIGNALS = 4096  # EDF allows 9999; more than this is a damaged header, not a recording


def is_edf(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(256)
    return len(head) == 256 and head[:8] == b"0       " and head[184:192].strip().isdigit()


def holds_annotations_only(path: Path) -> bool:
    """Whether an EDF+ file holds its annotations alone, no signal (a sleep study's hypnogram,
    `SC4001EC-Hypnogram.edf` beside its `SC4001E0-PSG.edf`): no recording of its own."""
    if not is_edf(path):
        return False
    with path.open("rb") as handle:
        head = handle.read(256)
        n_signals = int(head[252:256]) if head[252:256].strip().isdigit() else 0
        raw_labels = handle.read(16 * n_signals) if 0 < n_signals <= MAX_SIGNALS else b""
    labels = [raw_labels[16 * i : 16 * (i + 1)] for i in range(len(raw_labels) // 16)]
    return bool(labels) and all(label.strip() == EDF_ANNOTATIONS_LABEL for label in labels)


def read_edf(path: Path) -> Recording:
    with EdfSource(path) as source:
        return source.as_read()


class EdfSource:
    """An EDF/EDF+ file's ECG signals (those at the most common ECG rate), read a stretch at a
    time (`ml.io.sources`); pyEDFlib's reader is shared, so reads take turns."""

    def __init__(self, path: Path) -> None:
        _check_header(path)
        try:
            reader = pyedflib.EdfReader(str(path))
        except OSError as error:
            if "discontinuous" in str(error).lower():  # EDF+D: pieces with gaps between them
                raise UnknownFormatError(
                    f"{path.name} is an EDF+D file, recorded in pieces with gaps between them; "
                    "only continuous EDF or EDF+C files can be read. Export each piece as a "
                    "file of its own."
                ) from error
            raise UnknownFormatError(
                f"{path.name}: unreadable EDF file ({_reason(error, path)})."
            ) from error
        try:
            labels = reader.getSignalLabels()
            rates = [float(reader.getSampleFrequency(i)) for i in range(reader.signals_in_file)]
            ecg = [
                i
                for i, label in enumerate(labels)
                if _is_ecg_channel(label, reader.getPhysicalDimension(i), rates[i])
            ]
            if not ecg:
                raise UnknownFormatError(f"{path.name}: the EDF file holds no ECG signal.")
            # A sleep study's EDF holds channels in other units beside its ECG (SaO2 in %,
            # a heart rate in bpm, body position): no ECG is measured in them. They had
            # decided the rate read and were refused as "Lead SaO2: unknown signal units
            # '%'" (an upload audit). Without any channel in volts, the units error stands.
            in_volts = [i for i in ecg if is_voltage_unit(reader.getPhysicalDimension(i))]
            ecg = in_volts or ecg
            self.fs_hz = _rate_read(labels, rates, ecg)
            self._chosen = [i for i in ecg if rates[i] == self.fs_hz]
            self.notes: tuple[str, ...] = _left_out_notes(labels, rates, ecg, self._chosen)
            self._factors = [
                to_mv_factor(reader.getPhysicalDimension(i), lead=labels[i]) for i in self._chosen
            ]
            self._digital_ranges = [_digital_range(reader, i) for i in self._chosen]
            self.n_samples = min(int(reader.getNSamples()[i]) for i in self._chosen)
            self.start_time: dt.datetime | None = _start_time(reader, path)
        except BaseException:
            reader.close()
            raise
        self._reader = reader
        self._kept: list[tempfile.TemporaryDirectory[str]] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        # Cabrera's "ECG -aVR" is aVR upside down: read as aVR, turned back (`inverted_back`).
        named, signs, inverted = inverted_back(
            [canonical_lead_name(labels[i]) for i in self._chosen]
        )
        self._factors = [factor * sign for factor, sign in zip(self._factors, signs, strict=True)]
        self.notes = (*self.notes, *inverted)
        self.lead_names = distinct_lead_names(named)
        self.source_format = "edf"
        self.source_name: str | None = path.name
        self.path = path

    def __enter__(self) -> EdfSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._reader.close()
        for folder in self._kept:
            folder.cleanup()

    def keep(self, folder: tempfile.TemporaryDirectory[str]) -> None:
        """Remove `folder` (where a zip holding the file was unpacked) when the source closes."""
        self._kept.append(folder)

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs_hz

    def _reopen_if_forked(self) -> None:
        """A process forked with this source open (`ml.chunked`'s chunk processes) shares
        the file's offset with its parent and the other children, so it closes its copy of
        the reader (pyEDFlib opens a file once per process) and opens one of its own."""
        if os.getpid() != self._pid:
            self._reader.close()
            self._reader = pyedflib.EdfReader(str(self.path))
            self._lock = threading.Lock()
            self._pid = os.getpid()

    def read_into(self, out: np.ndarray, start: int) -> None:
        """Samples from `start` on, in mV, into `out` [samples, leads]."""
        self._reopen_if_forked()
        with self._lock:
            for column, (i, factor) in enumerate(zip(self._chosen, self._factors, strict=True)):
                out[:, column] = self._reader.readSignal(i, start, out.shape[0])
                self._check_digital_range(out[:, column], column)
                out[:, column] *= factor

    def _check_digital_range(self, values: np.ndarray, column: int) -> None:
        """A HeaderDataMismatchError when samples lie beyond the channel's digital range: read
        as they are, a 12-lead whose data span 16 bits under a header declaring -8192..8191
        had read four times too tall, "Left ventricular hypertrophy" (an upload audit)."""
        digital_min, digital_max, physical_min, per_count = self._digital_ranges[column]
        if not values.size or per_count == 0:
            return
        ends = [
            (float(v) - physical_min) / per_count + digital_min
            for v in (values.min(), values.max())
        ]
        low, high = min(ends), max(ends)  # in counts; a scale upside down swaps them
        slack = DIGITAL_SLACK_COUNTS
        if low >= digital_min - slack and high <= digital_max + slack:
            return
        reached = round(high) if high > digital_max + slack else round(low)
        label = self._reader.getLabel(self._chosen[column]).strip()
        raise HeaderDataMismatchError(
            f"{self.path.name}: channel {label} holds samples beyond the digital minimum and "
            f"maximum its header declares ({digital_min} to {digital_max}; a sample reaches "
            f"{reached}), which EDF does not allow: its amplitudes cannot be read to scale. "
            "Export the file again from the recording device's software."
        )

    def read(self, start: int, stop: int) -> np.ndarray:
        start, stop = max(start, 0), min(stop, self.n_samples)
        out = np.empty((stop - start, len(self.lead_names)), dtype=np.float64)
        self.read_into(out, start)
        out[~(np.abs(out) <= MAX_ECG_MV) & ~np.isnan(out)] = np.nan  # impossible: missing
        return out

    def scan(self, chunk_samples: int) -> Iterator[tuple[int, np.ndarray]]:
        for start in range(0, self.n_samples, chunk_samples):
            yield start, self.read(start, start + chunk_samples)

    def as_read(self) -> Recording:
        """Every sample, as `read_edf` gives them (impossible values still numbers)."""
        # Filled lead by lead, in place: the millivolts are the only full-size array.
        signal_mv = np.empty((self.n_samples, len(self.lead_names)), dtype=np.float64)
        self.read_into(signal_mv, 0)
        return Recording(
            fs_hz=self.fs_hz,
            lead_names=self.lead_names,
            signal_mv=signal_mv,
            source_format="edf",
            source_name=self.source_name,
            start_time=self.start_time,
            notes=self.notes,
        )

    def whole(self) -> Recording:
        from ml.gaps import impossible_values_as_gaps
        from ml.recording import validated

        return validated(impossible_values_as_gaps(self.as_read()))


def _is_ecg_label(label: str) -> bool:
    """Whether `label` may be an ECG lead's: one naming ECG or a standard lead is, whatever
    else it holds; one holding a word of `NON_ECG_LABEL_WORDS`, or made of 10-20 system EEG
    electrodes alone (`EEG_DERIVATION_LABEL`), is not."""
    words = _label_words(label)
    if words & set(ECG_LABEL_WORDS) or canonical_lead_name(label) in STANDARD_LEADS:
        return True
    if EEG_DERIVATION_LABEL.fullmatch(label.strip().lower()):
        return False
    return not words & set(NON_ECG_LABEL_WORDS)


def _is_ecg_channel(label: str, unit: str, rate_hz: float) -> bool:
    """`_is_ecg_label`, and a label naming a body site alone ("Thorax_1") only in mV or uV
    above a respiratory belt's rates."""
    if not _is_ecg_label(label):
        return False
    words = _label_words(label)
    if words & set(ECG_LABEL_WORDS) or not words & set(BODY_SITE_LABEL_WORDS):
        return True
    in_millivolts_or_less = is_voltage_unit(unit) and to_mv_factor(unit, lead=label) <= 1.0
    return in_millivolts_or_less and rate_hz > MAX_BELT_RATE_HZ


def _label_words(label: str) -> set[str]:
    """The label's words in lower case, each also without the number it ends in ("eeg1")."""
    words = re.findall(r"[a-z0-9]+", label.lower())
    return set(words) | {word.rstrip("0123456789") for word in words}


def _rate_read(labels: list[str], rates: list[float], ecg: list[int]) -> float:
    """The sampling rate of most ECG channels, lead II's on a tie: one rate is read."""
    counts = Counter(rates[i] for i in ecg)
    with_lead_ii = {rates[i] for i in ecg if canonical_lead_name(labels[i]) == "II"}
    return max(counts, key=lambda rate: (counts[rate], rate in with_lead_ii))


def _digital_range(reader: pyedflib.EdfReader, i: int) -> tuple[int, int, float, float]:
    """Channel `i`'s digital minimum and maximum, its physical minimum and the physical
    units per count: what turns its samples back into counts (0 per count: no range)."""
    digital_min, digital_max = int(reader.getDigitalMinimum(i)), int(reader.getDigitalMaximum(i))
    physical_min = float(reader.getPhysicalMinimum(i))
    physical_max = float(reader.getPhysicalMaximum(i))
    if digital_max == digital_min:
        return digital_min, digital_max, physical_min, 0.0
    per_count = (physical_max - physical_min) / (digital_max - digital_min)
    return digital_min, digital_max, physical_min, per_count


def _left_out_notes(
    labels: list[str], rates: list[float], ecg: list[int], chosen: list[int]
) -> tuple[str, ...]:
    """Notes naming the channels not read and why: no ECG lead by their label or units, or
    an ECG lead at another rate than those read. An ECG at 512 Hz beside five EEG, EOG and EMG
    channels at 256 Hz had been left out without a word, the EEG read in its place."""
    notes = []
    if not_ecg := [label for i, label in enumerate(labels) if i not in ecg]:
        notes.append(
            f"Channel(s) {', '.join(not_ecg)} not read: not ECG leads, by their labels or units "
            "(EEG, EOG, EMG, respiration, oximetry ...)."
        )
    fs_hz, read = rates[chosen[0]], ", ".join(labels[i] for i in chosen)
    for rate in sorted({rates[i] for i in ecg} - {fs_hz}):
        names = ", ".join(labels[i] for i in ecg if rates[i] == rate)
        notes.append(
            f"Lead(s) {names} not read: recorded at {rate:g} Hz, the leads read ({read}) at "
            f"{fs_hz:g} Hz; one sampling rate is read per recording. Export the recording with "
            "one rate for all its leads to have them read together."
        )
    return tuple(notes)


def _start_time(reader: pyedflib.EdfReader, path: Path) -> dt.datetime:
    """The header's start, refused as pyEDFlib refuses month 13 when its day is not in its
    month (31.02.26, 29.02.25): pyEDFlib's ValueError had been a 500 on upload."""
    try:
        return reader.getStartdatetime()
    except ValueError as error:
        with path.open("rb") as handle:
            written = handle.read(176)[168:176].decode("latin-1").strip()
        raise UnknownFormatError(
            f"{path.name}: unreadable EDF file (the header's start date, {written}, is no date "
            "of the calendar). Export the file again with the recording's real date."
        ) from error


# What each of pyEDFlib's "the file is not EDF(+) or BDF(+) compliant ..." messages finds wrong,
# in the words of the header's fields: its own words had reached clinicians (a bad-input audit).
PYEDFLIB_FIELD_WORDS = {
    "(EDF+ Patientname)": "the header's EDF+ patient field",
    "(EDF+ Recordingfield)": "the header's EDF+ recording field",
    "(Filesize)": "the file's size against its header",
    "(Sample in Datarecord)": "a lead's samples per data record in the header",
    "(Prefilter)": "a lead's prefilter in the header",
    "(Digital Minimum)": "a lead's digital minimum in the header",
    "(Digital Maximum)": "a lead's digital maximum in the header",
    "(Physical Minimum)": "a lead's physical minimum in the header",
    "(Physical Maximum)": "a lead's physical maximum in the header",
    "(Physical Dimension)": "a lead's units in the header",
    "the transducer is incorrect": "a lead's transducer type in the header",
    "the label is incorrect": "a lead's label in the header",
    "(Duration)": "the header's duration of a data record",
    "(Number of Datarecords)": "the header's number of data records",
    "(Reserved field)": "the header's reserved field",
    "(Bytes Header)": "the header's size in bytes",
    "(number of signals)": "the header's number of signals",
    "the starttime is incorrect": "the header's start time (hh.mm.ss)",
    "the startdate is incorrect": "the header's start date (dd.mm.yy)",
    "(it contains format errors)": "the file's layout",
}
# Messages on a lead's text fields, which EDF allows in ASCII only: "µV" as Latin-1 0xB5 and a
# label "Dérivation II" are refused so.
LEAD_TEXT_MESSAGES = (
    "(Physical Dimension)", "the label is incorrect", "the transducer is incorrect", "(Prefilter)",
)  # fmt: skip
# (offset in units of the number of signals, bytes per signal) of each lead's text fields
# after the fixed 256 bytes: label, transducer type, units; the prefilter after the numbers.
LEAD_TEXT_FIELDS = {
    "label": (0, 16),
    "transducer type": (16, 80),
    "units": (96, 8),
    "prefilter": (136, 80),
}


def _reason(error: OSError, path: Path) -> str:
    """What is wrong, in words naming the header's field, for pyEDFlib's known messages (a
    lead's units or label holding characters beyond ASCII named as such); else pyEDFlib's
    words without the server's path it starts them with."""
    text = str(error).replace(str(path), path.name).removeprefix(f"{path.name}: ")
    known = next((key for key in PYEDFLIB_FIELD_WORDS if key in text), None)
    if known is None:
        return without_paths(text)
    if known in LEAD_TEXT_MESSAGES and (beyond_ascii := _lead_text_beyond_ascii(path)):
        name, value = beyond_ascii
        return (
            f"a lead's {name} in the header, '{value}', holds characters beyond ASCII, which "
            "EDF does not allow; export the file again with ASCII labels and units, e.g. "
            "'uV' for microvolts"
        )
    return f"{PYEDFLIB_FIELD_WORDS[known]} does not follow the EDF standard"


def _lead_text_beyond_ascii(path: Path) -> tuple[str, str] | None:
    """The first lead text field (label, transducer, units, prefilter) holding a byte beyond
    ASCII, read as UTF-8 or else Latin-1, with the field's name; None when there is none."""
    with path.open("rb") as handle:
        head = handle.read(256)
        n_signals = int(head[252:256]) if head[252:256].strip().isdigit() else 0
        if not 0 < n_signals <= MAX_SIGNALS:
            return None
        fields = handle.read(216 * n_signals)
    for name, (offset, width) in LEAD_TEXT_FIELDS.items():
        start = offset * n_signals
        for i in range(n_signals):
            raw = fields[start + width * i : start + width * (i + 1)]
            if any(byte > 127 for byte in raw):
                try:
                    return name, raw.decode("utf-8").strip()
                except UnicodeDecodeError:
                    return name, raw.decode("latin-1").strip()
    return None


def _check_header(path: Path) -> None:
    """From the fixed-size header, before pyEDFlib reads anything: a file shorter than its
    header announces was cut off; one announcing more samples or hours than an analysis may
    hold (ml.io.limits) is refused unread. A record count of -1 ("unknown", allowed while
    recording) is taken from the file's size."""
    with path.open("rb") as handle:
        head = handle.read(256)
        try:
            header_bytes = int(head[184:192])
            n_records = int(head[236:244])
            record_s = float(head[244:252])
            n_signals = int(head[252:256])
            if not 0 < n_signals <= MAX_SIGNALS:
                raise ValueError(f"{n_signals} signals")
            raw_labels = handle.read(16 * n_signals)
            labels = [raw_labels[16 * i : 16 * (i + 1)].decode("latin-1") for i in range(n_signals)]
            handle.seek(256 + n_signals * 216)
            samples = [int(handle.read(8)) for _ in range(n_signals)]
        except ValueError as error:
            raise HeaderDataMismatchError(f"{path.name}: damaged EDF header.") from error
    record_samples = sum(samples)
    actual = path.stat().st_size
    if n_records < 0 and record_samples > 0:  # unknown: as many whole records as the file holds
        n_records = max(0, actual - header_bytes) // (2 * record_samples)
    expected = header_bytes + n_records * record_samples * 2
    ecg = [n for n, label in zip(samples, labels, strict=True) if _is_ecg_label(label)]
    if ecg:  # a record duration of 0 or less leaves the rate unknown; the count still holds
        check_recording_size(
            path.name,
            n_leads=len(ecg),
            samples_per_lead=n_records * max(ecg),
            fs_hz=max(ecg) / record_s if record_s > 0 else 0.0,
            decoded_samples=n_records * sum(ecg),
        )
    if n_records > 0 and actual < expected:
        raise TruncatedDataError(
            f"{path.name} is truncated: {actual} of the {expected} bytes its header announces."
        )
    if record_s == 0 and record_samples > 0:  # pyEDFlib divides by it: a ZeroDivisionError
        raise UnknownFormatError(
            f"{path.name}: unreadable EDF file (the header gives each data record a duration "
            "of 0 s, so its sampling rates cannot be known). Export the file again from the "
            "recording device's software."
        )
