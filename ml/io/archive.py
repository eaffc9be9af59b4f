"""Safe extraction of an uploaded .zip holding one recording.

Inspected before anything is written: no absolute or `..` paths, no links, no encryption, only
the standard compression (stored or deflate, whose output Python bounds per read; bzip2 and
LZMA can expand a few bytes into gigabytes in one call), a limit on the number of entries, on
the unpacked size and on the compression ratio (a zip bomb stops here). While extracting,
every entry is counted as it is written and extraction stops at its declared size and at the
total limit, never after. A damaged archive (wrong checksum, wrong size, cut off) is refused
with a message, not an error page.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO

from ml.errors import UnknownFormatError, UnsafeArchiveError
from ml.io.limits import HOLTER_EXAMPLE, MAX_DECODED_SAMPLES, file_name_too_long

MAX_ENTRIES = 64
# The largest recording the sample limit admits, in the widest WFDB format (4 bytes a sample),
# plus 1 MB for its header: 269 MB. A CSV file at its own limit is smaller.
MAX_UNPACKED_BYTES = 4 * MAX_DECODED_SAMPLES + 1_000_000
# ECG data deflate 1.2-3 to 1 (MIT-BIH, svdb, qtdb, nstdb, CinC 2017 all measured); zeros
# deflate about 1000 to 1. Small files (headers) are not judged by their ratio.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 1_000_000
CHUNK_BYTES = 1 << 20
SAFE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# What zipfile raises for a damaged archive: a wrong CRC or size (BadZipFile), data cut off
# (EOFError), corrupt deflate data (zlib.error), nonsense offsets (ValueError, OSError).
DAMAGED = (zipfile.BadZipFile, EOFError, zlib.error, ValueError, OSError, NotImplementedError)


def is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} KB"


def _damaged(zip_name: str, detail: str) -> UnknownFormatError:
    return UnknownFormatError(
        f"{zip_name} is damaged ({detail}); it cannot be unpacked safely. Zip the recording's "
        "files again, or upload them without a .zip."
    )


def extract_zip(path: Path, target_dir: Path) -> list[Path]:
    """Extract the record's files (flat) into `target_dir`; return their paths."""
    try:
        archive = zipfile.ZipFile(path)
    except DAMAGED as error:
        raise UnknownFormatError(f"{path.name} is not a readable .zip file.") from error
    with archive:
        entries = [e for e in archive.infolist() if not e.is_dir()]
        _inspect(path.name, entries)
        written = []
        total = 0
        for entry in entries:
            base_name = PurePosixPath(entry.filename.replace("\\", "/")).name
            if base_name.startswith(".") or "__MACOSX" in entry.filename:
                continue  # macOS resource forks and hidden files are not part of the record
            if too_long := file_name_too_long(base_name):
                raise UnknownFormatError(
                    f"{path.name} holds a file whose {too_long}. Give the recording's files "
                    "shorter names and zip them again."
                )
            destination = target_dir / base_name
            if destination in written:
                raise UnsafeArchiveError(
                    f"The .zip holds two files called {base_name}; a record names each once."
                )
            total += _extract_entry(archive, entry, destination, path.name, total)
            written.append(destination)
    if not written:
        raise UnknownFormatError("The .zip is empty.")
    return written


def _inspect(zip_name: str, entries: list[zipfile.ZipInfo]) -> None:
    """Everything the directory says, checked before a byte is unpacked."""
    if len(entries) > MAX_ENTRIES:
        raise UnsafeArchiveError(
            f"The .zip holds {len(entries)} files; a record needs a few (at most {MAX_ENTRIES})."
        )
    total = 0
    for entry in entries:
        name = PurePosixPath(entry.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts or ":" in entry.filename:
            raise UnsafeArchiveError(f"The .zip contains an unsafe path: {entry.filename}")
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise UnsafeArchiveError(f"The .zip contains a link: {entry.filename}")
        if entry.flag_bits & 0x1:
            raise UnsafeArchiveError(
                f"{entry.filename} in the .zip is password-protected; upload it unprotected."
            )
        if entry.compress_type not in SAFE_METHODS:
            raise UnsafeArchiveError(
                f"{entry.filename} in the .zip is compressed with a method other than the "
                "standard one (deflate); zip the recording again with a standard tool."
            )
        total += entry.file_size
    if total > MAX_UNPACKED_BYTES:
        raise UnsafeArchiveError(
            f"The .zip unpacks to {_mb(total)}; a recording the portal can analyse needs at "
            f"most {_mb(MAX_UNPACKED_BYTES)} ({HOLTER_EXAMPLE}). It was not unpacked."
        )
    for entry in entries:
        if entry.file_size >= RATIO_CHECKED_FROM_BYTES:
            ratio = entry.file_size / max(entry.compress_size, 1)
            if ratio > MAX_COMPRESSION_RATIO:
                raise UnsafeArchiveError(
                    f"{entry.filename} in the .zip is packed {ratio:,.0f} times smaller than "
                    f"its content ({_mb(entry.file_size)}); ECG data pack at most a few times "
                    "smaller, so this is filler, not a recording (a 'zip bomb'). It was not "
                    "unpacked."
                )


def _extract_entry(
    archive: zipfile.ZipFile,
    entry: zipfile.ZipInfo,
    destination: Path,
    zip_name: str,
    unpacked_before: int,
) -> int:
    """Write one entry, counting its bytes as they come: more than its declared size or than
    the total limit stops before writing them. Returns the bytes written."""
    try:
        source = archive.open(entry)
    except DAMAGED as error:  # a bad local header, or one that contradicts the directory
        raise _damaged(zip_name, f"{entry.filename} cannot be opened") from error
    written = 0
    with source, destination.open("wb") as sink:
        while chunk := _read(source, zip_name, entry.filename):
            written += len(chunk)
            if written > entry.file_size:  # the directory lied about the size
                raise _damaged(zip_name, f"{entry.filename} is larger than declared")
            if unpacked_before + written > MAX_UNPACKED_BYTES:
                raise UnsafeArchiveError(
                    f"The .zip unpacks to more than {_mb(MAX_UNPACKED_BYTES)}; it was not "
                    "unpacked further."
                )
            sink.write(chunk)
    if written != entry.file_size:
        raise _damaged(
            zip_name,
            f"{entry.filename} holds {written:,} bytes but the .zip declares {entry.file_size:,}",
        )
    return written


def _read(source: IO[bytes], zip_name: str, member: str) -> bytes:
    """The next chunk of an entry; a damaged entry becomes a message. Only reading is guarded:
    an error writing the server's own disk is not the upload's fault."""
    try:
        return source.read(CHUNK_BYTES)
    except zipfile.BadZipFile as error:
        detail = "its checksum does not match its content" if "CRC" in str(error) else "bad data"
        raise _damaged(zip_name, f"{member}: {detail}") from error
    except DAMAGED as error:
        raise _damaged(zip_name, f"{member} is cut off or corrupt") from error
