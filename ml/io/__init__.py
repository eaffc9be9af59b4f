"""Reading ECG files: WFDB (.hea + its data files, or zipped), CSV, EDF/EDF+.

The format is recognised from the content, not the file name. Every reader returns a
`Recording` in millivolts, with impossible values (infinite, beyond any ECG) turned into
gaps (NaN), already checked by `ml.recording.validated`. Gaps are left for
`ml.gaps.fill_gaps`. What a file may cost (samples, duration, unpacked bytes) is bounded by
`ml.io.limits`, checked from headers before any signal is read.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ml.errors import UnknownFormatError, UnsafeArchiveError
from ml.gaps import impossible_values_as_gaps
from ml.io.archive import extract_zip, is_zip
from ml.io.csv_reader import (
    _decimal_comma,
    float_or_none,
    missing_or_float,
    read_csv,
    text_encoding,
)
from ml.io.edf_reader import holds_annotations_only, is_edf, read_edf
from ml.io.wfdb_reader import StoredAs, is_wfdb_header, read_wfdb, several_recordings
from ml.recording import Recording, validated

__all__ = ["read_recording", "detect_format", "beside_the_recording"]

# Documents and pictures, never a signal: left unread beside a recording.
DOCUMENT_SUFFIXES = frozenset(
    (".pdf", ".doc", ".docx", ".odt", ".rtf", ".htm", ".html", ".jpg", ".jpeg", ".png", ".gif",
     ".bmp", ".tif", ".tiff", ".heic")
)  # fmt: skip
# Notes; some recorders export their table as .txt too, so a .txt is notes only when it is
# no table or a file of another kind is there.
NOTE_SUFFIXES = frozenset((".txt", ".md"))


def detect_format(paths: Sequence[Path]) -> str:
    """'wfdb', 'edf', 'csv' or 'zip' for these files, judged by their content; notes and
    documents beside the recording are not judged (`beside_the_recording`)."""
    unread = beside_the_recording(paths)
    paths = [p for p in paths if p not in unread]
    if len(paths) == 1 and is_zip(paths[0]):
        return "zip"
    if any(is_wfdb_header(p) for p in paths):
        return "wfdb"
    if len(paths) == 1 and is_edf(paths[0]):
        return "edf"
    if len(paths) == 1 and _looks_like_text_table(paths[0]):
        return "csv"
    samples_only = next((p for p in paths if _looks_like_wfdb_samples(p)), None)
    if samples_only is not None:
        stem, name = samples_only.stem, samples_only.name
        raise UnknownFormatError(
            f"{name} holds only the samples of a WFDB record; its header ({stem}.hea) says "
            f"how to read them. Upload {stem}.hea together with {name}, or both in one .zip."
        )
    if any(p.name == "[Content_Types].xml" for p in paths) and any(
        p.name.startswith("sheet") and p.suffix == ".xml" for p in paths
    ):  # an .xlsx is a .zip: it had been named by its parts, "[Content_Types].xml, sheet1.xml"
        raise UnknownFormatError(
            "The file is an Excel workbook (.xlsx), not a CSV: in Excel, save it as "
            "'CSV UTF-8 (Comma delimited)' and upload that."
        )
    if len(paths) == 1 and _utf16(paths[0]):
        raise UnknownFormatError(
            f"{paths[0].name} is text saved as UTF-16 ('Unicode text'), which the portal does "
            "not read: save it as 'CSV UTF-8' and upload that."
        )
    if len(paths) == 1 and (value := _decimal_comma_column(paths[0])) is not None:
        raise UnknownFormatError(
            f"{paths[0].name}: its one column holds numbers with a decimal comma ({value!r}), "
            "and with no other separator in the file the comma cannot be told from a column "
            "separator. Export it with a decimal point, or add a first line sep=; above the "
            "lead's name (as Excel writes it) to have the commas read as decimal commas."
        )
    recordings = [
        p
        for p in paths
        if (is_zip(p) or is_edf(p) or _looks_like_text_table(p)) and not holds_annotations_only(p)
    ]
    if len(recordings) > 1:  # each read alone: "a.edf, b.edf: not a recognised ECG file"
        raise UnknownFormatError(several_recordings([p.name for p in recordings]))
    names = ", ".join(p.name for p in paths)
    raise UnknownFormatError(
        f"{names}: not a recognised ECG file. Upload WFDB (.hea with its .dat, or both in a "
        ".zip), EDF/EDF+, or CSV with one column per lead."
    )


def read_recording(
    paths: Path | str | Sequence[Path | str],
    *,
    fs_hz: float | None = None,
    units: str | None = None,
    uncalibrated_ok: bool = False,
    stored_as: StoredAs | None = None,
) -> Recording:
    """Read one recording from a file, a set of files (WFDB), or a .zip of a WFDB record.

    `fs_hz` is needed only for CSV files without a time column; `units` ("mV" or "uV")
    declares the units of a CSV file whose header does not say. A WFDB header may be given
    alone when its data files lie beside it. `uncalibrated_ok` accepts WFDB signals whose
    gain is 0 ("uncalibrated"), as some research databases have (svdb, qtdb), at WFDB's
    assumed 200 per mV with a note; uploads leave it off, so such a file is refused.
    `stored_as` is the name a file of a given name is stored under, where a WFDB header's
    data files are looked for when none has the name the header gives (uploads are stored
    under safe names: `portal.storage.disk_name`).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = [Path(p) for p in paths]
    unread = beside_the_recording(files)
    files = [f for f in files if f not in unread]
    kind = detect_format(files)
    if kind == "zip":
        with tempfile.TemporaryDirectory(prefix="cardio-zip-") as tmp:
            extracted = extract_zip(files[0], Path(tmp))
            if detect_format(extracted) == "zip":  # each level could unpack the limit again
                raise UnsafeArchiveError(
                    "The .zip holds another .zip; upload the recording's own files."
                )
            unpacked = read_recording(
                extracted, fs_hz=fs_hz, units=units, uncalibrated_ok=uncalibrated_ok,
                stored_as=stored_as,
            )  # fmt: skip
            return with_unread_noted(unpacked, unread)
    if kind == "wfdb":
        recording = read_wfdb(files, uncalibrated_ok=uncalibrated_ok, stored_as=stored_as)
    elif kind == "edf":
        recording = read_edf(files[0])
    else:
        recording = read_csv(files[0], fs_hz=fs_hz, units=units)
    # Rebound, not nested: the signal before gaps were marked is freed before checking, so
    # the largest recording admitted (ml.io.limits) is held twice at most, not three times.
    recording = impossible_values_as_gaps(with_unread_noted(recording, unread))
    return validated(recording)


def beside_the_recording(paths: Sequence[Path]) -> list[Path]:
    """The files of an upload left unread as plainly no signal: documents and pictures,
    notes (.txt, .md) that are no table or lie beside a file of another kind, and EDF+ files
    of annotations alone (a hypnogram); none when they are all there is, or beside a WFDB
    header (which names the files it needs). An EDF with a README.txt had been "good.edf,
    README.txt: not a recognised ECG file", and one with its hypnogram "two recordings" (upload
    audits)."""
    if len(paths) < 2 or any(is_wfdb_header(p) for p in paths):
        return []
    suffixes = {p.suffix.lower() for p in paths}
    others = bool(suffixes - DOCUMENT_SUFFIXES - NOTE_SUFFIXES)
    unread = [
        p
        for p in paths
        if holds_annotations_only(p)
        or (
            not is_zip(p)
            and not is_edf(p)
            and (
                p.suffix.lower() in DOCUMENT_SUFFIXES
                or (p.suffix.lower() in NOTE_SUFFIXES and (others or not _looks_like_text_table(p)))
            )
        )
    ]
    return unread if len(unread) < len(paths) else []


def with_unread_noted(recording: Recording, unread: Sequence[Path]) -> Recording:
    """The recording with a note naming the files left unread beside it."""
    if not unread:
        return recording
    return dataclasses.replace(recording, notes=(*recording.notes, *unread_notes(unread)))


def unread_notes(unread: Sequence[Path]) -> tuple[str, ...]:
    """The note naming the files left unread beside the recording (`beside_the_recording`)."""
    if not unread:
        return ()
    names = ", ".join(p.name for p in unread)
    verb = "was" if len(unread) == 1 else "were"
    return (f"{names}, uploaded beside the recording, {verb} not read (not an ECG signal).",)


def _looks_like_text_table(path: Path) -> bool:
    head = path.open("rb").read(4096)
    if not head or b"\x00" in head:
        return False
    encoding = text_encoding(head)
    if encoding is None:
        return False
    lines = head.decode(encoding, errors="ignore").splitlines()  # a character cut at the end
    first_line = lines[0] if lines else ""
    if "," in first_line or ";" in first_line or "\t" in first_line:
        return True
    return _one_lead_column(lines)


def _one_lead_column(lines: list[str]) -> bool:
    """A one-lead CSV: a lead name (`II`, `II (uV)`) over a column of numbers. Such a file,
    from a handheld recorder, had been refused as "not a recognised ECG file" (found by a
    clinician-eye audit). A column of numbers without the name is one too, for the reader
    to refuse saying what it lacks."""
    values = [line.strip() for line in lines[1:4] if line.strip()]
    name = lines[0].strip() if lines else ""
    numbers = all(missing_or_float(v) is not None for v in values)
    if not values or not name or len(name) > 40 or not numbers:
        return False
    return float_or_none(name) is not None or any(c.isalpha() for c in name)


def _decimal_comma_column(path: Path) -> str | None:
    """The first value of a one-lead CSV whose numbers have decimal commas ("II" over
    "0,123"), else None. Such a file (a European device's single lead) had been "not a
    recognised ECG file"; it is not read as one, since "0,123" under a name is also two
    columns of whole numbers, but refused saying why and what to do (an upload audit)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    encoding = text_encoding(head) if head and b"\x00" not in head else None
    lines = head.decode(encoding, errors="ignore").splitlines() if encoding else []
    values = [line.strip() for line in lines[1:4] if line.strip()]
    name = lines[0].strip() if lines else ""
    if not values or not any(c.isalpha() for c in name) or len(name) > 40:
        return None
    return values[0] if all(_decimal_comma(value) for value in values) else None


def _utf16(path: Path) -> bool:
    """Text in UTF-16, by its byte-order mark (Excel's "Unicode text" and Windows tools)."""
    with path.open("rb") as handle:
        return handle.read(2) in (b"\xff\xfe", b"\xfe\xff")


def _looks_like_wfdb_samples(path: Path) -> bool:
    """A WFDB data file without its header: a .dat, or a .mat (MATLAB, as PhysioNet's
    challenges ship them), which cannot be read without the header's rate and gain."""
    if path.suffix.lower() in (".dat", ".mat"):
        return True
    with path.open("rb") as handle:
        return handle.read(10) == b"MATLAB 5.0"
