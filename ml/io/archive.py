"""Safe extraction of an uploaded .zip holding one WFDB record.

Inspected before anything is written: no absolute or `..` paths, no links, a limit on the
number of entries and on the unpacked size (a zip bomb stops here).
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from ml.errors import UnknownFormatError, UnsafeArchiveError

MAX_ENTRIES = 64
MAX_UNPACKED_BYTES = 2 * 1024**3


def is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def extract_zip(path: Path, target_dir: Path) -> list[Path]:
    """Extract the record's files (flat) into `target_dir`; return their paths."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise UnknownFormatError(f"{path.name} is not a readable .zip file.") from error
    with archive:
        entries = [e for e in archive.infolist() if not e.is_dir()]
        if len(entries) > MAX_ENTRIES:
            raise UnsafeArchiveError(
                f"The .zip holds {len(entries)} files; a record needs a few (at most "
                f"{MAX_ENTRIES})."
            )
        total = 0
        for entry in entries:
            name = PurePosixPath(entry.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or ":" in entry.filename:
                raise UnsafeArchiveError(f"The .zip contains an unsafe path: {entry.filename}")
            if stat.S_ISLNK(entry.external_attr >> 16):
                raise UnsafeArchiveError(f"The .zip contains a link: {entry.filename}")
            total += entry.file_size
        if total > MAX_UNPACKED_BYTES:
            raise UnsafeArchiveError(
                f"The .zip unpacks to {total / 1024**3:.1f} GB; the limit is "
                f"{MAX_UNPACKED_BYTES / 1024**3:.0f} GB."
            )
        written = []
        for entry in entries:
            base_name = PurePosixPath(entry.filename.replace("\\", "/")).name
            if base_name.startswith(".") or "__MACOSX" in entry.filename:
                continue  # macOS resource forks and hidden files are not part of the record
            destination = target_dir / base_name
            with archive.open(entry) as source, destination.open("wb") as sink:
                remaining = entry.file_size + 1
                while chunk := source.read(1 << 20):
                    remaining -= len(chunk)
                    if remaining < 0:  # sizes in the directory lied
                        raise UnsafeArchiveError("The .zip's entries are larger than declared.")
                    sink.write(chunk)
            written.append(destination)
    if not written:
        raise UnknownFormatError("The .zip is empty.")
    return written
