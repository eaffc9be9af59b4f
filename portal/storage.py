"""Uploaded recordings on disk, stored under their SHA-256, outside the web root.

A single file's key is its own SHA-256 (what `sha256sum` prints); a set of files (a WFDB
.hea + .dat) is keyed by the SHA-256 of its sorted "name sha256" lines. Files are streamed to
a private temporary folder first, so a failed or rejected upload leaves nothing behind.

Everything here is private to the portal's user: folders 0700, files 0600 (patients' ECGs are
health data; another account on the server must not read them), whatever the umask.

A full disk (or quota, or file-size limit) while staging, keeping or writing a file is
`StorageFull`, an `UploadError` with a sentence for the user: whatever was half-written is
removed first, and the error is logged for the IT team. Storage that cannot be written at all
(mounted read-only, or not the portal user's to write: EROFS, EACCES, EPERM) is
`StorageNotWritable`, handled the same way (an operations audit: it had answered a bare 500 on
uploads and PDFs, where a full disk said what happened). Both are `StorageUnavailable`.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from werkzeug.utils import secure_filename

from ml.io.limits import file_name_too_long

CHUNK_BYTES = 1 << 20
MAX_FILES = 64  # a WFDB record is a header and a few data files; a zip holds as many
MAX_SHOWN_NAME_CHARS = 255  # EcgRecording.original_filename's column (characters, utf8mb4)
NO_FILE_MESSAGE = "Choose a recording file to upload."
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# No space left, quota exceeded, file larger than the file system or RLIMIT_FSIZE allows.
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
STORAGE_FULL_MESSAGE = (
    "The server's storage is full, so the file was not kept. Nothing was saved; tell the IT team."
)
# Mounted read-only, or folders the portal's user may not write.
NOT_WRITABLE_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
STORAGE_NOT_WRITABLE_MESSAGE = (
    "The server's storage cannot be written, so the file was not kept. Nothing was saved; "
    "tell the IT team."
)

log = logging.getLogger(__name__)


class UploadError(ValueError):
    """The upload itself is unusable (no file, empty file, duplicate names)."""


class StorageUnavailable(UploadError):
    """STORAGE_DIR cannot take a file (the server's fault, not the file's): nothing of it was
    left behind."""


class StorageFull(StorageUnavailable):
    """STORAGE_DIR has no room (or quota) for a file."""

    def __init__(self, message: str = STORAGE_FULL_MESSAGE) -> None:
        super().__init__(message)


class StorageNotWritable(StorageUnavailable):
    """STORAGE_DIR is read-only or not writable by the portal's user."""

    def __init__(self, message: str = STORAGE_NOT_WRITABLE_MESSAGE) -> None:
        super().__init__(message)


def status_of_refusal(messages: Iterable[str]) -> int:
    """The HTTP status of a refused upload with these messages: 507 (Insufficient Storage)
    for a full disk, 503 for storage that cannot be written, else 422 (the file's fault)."""
    said = set(messages)
    if STORAGE_FULL_MESSAGE in said:
        return 507
    return 503 if STORAGE_NOT_WRITABLE_MESSAGE in said else 422


@contextmanager
def _no_space_is_storage_full(storage_dir: Path, doing: str) -> Iterator[None]:
    """Turn "no space" and "cannot write" OSErrors into StorageFull or StorageNotWritable
    (logged with the folder, which the user's message never shows); any other OSError passes
    unchanged."""
    try:
        yield
    except OSError as error:
        unavailable = _storage_unavailable(storage_dir, doing, error)
        if unavailable is None:
            raise
        raise unavailable from error


def _storage_unavailable(
    storage_dir: Path, doing: str, error: OSError
) -> StorageUnavailable | None:
    """The StorageUnavailable an OSError means, logged for the IT team; None for any other."""
    if error.errno in NO_SPACE_ERRNOS:
        log.error("storage full: %s under %s failed: %s", doing, storage_dir, error.strerror)
        return StorageFull()
    if error.errno in NOT_WRITABLE_ERRNOS:
        log.error(
            "storage not writable: %s under %s failed: %s", doing, storage_dir, error.strerror
        )
        return StorageNotWritable()
    return None


@dataclass(frozen=True)
class StagedUpload:
    """Files written to a temporary folder, hashed, not yet kept; `shown_names` are their
    names as uploaded (`shown_file_name`), `paths` their safe names on disk."""

    folder: Path
    paths: list[Path]
    sha256: str
    size_bytes: int
    shown_names: tuple[str, ...] = ()

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def disk_name(shown_name: str) -> str:
    """The safe name a file is stored under: ASCII, no folders (werkzeug's secure_filename).
    ", " is read as "," first, as names were kept until 2026-12-07: the same files keep the
    same names on disk, and a WFDB pair the same SHA-256 (`_bundle_sha256`)."""
    return secure_filename(shown_name.replace(", ", ",")) or "recording"


def shown_file_name(raw_name: str) -> str:
    """A file's name as uploaded, to show and to name it in messages: NFC, without folders or
    control characters, at most 255 characters (`EcgRecording.original_filename`'s column).
    The safe name alone had been shown: "心心心.edf" as "edf" (a bad-input audit), and then
    "Smith, John 2026.edf" as "Smith,John 2026.edf" (`storage_check.uploaded_names` tells
    the ", " of a name from the ", " between names)."""
    return uploaded_name(raw_name)[:MAX_SHOWN_NAME_CHARS] or disk_name(raw_name)


def uploaded_name(raw_name: str) -> str:
    """`shown_file_name` before it is cut to the column: what the name on disk is made from,
    so a name too long for a file system is still refused."""
    name = unicodedata.normalize("NFC", raw_name).replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf")).strip()


def stage(files: Iterable[tuple[str, IO[bytes]]], storage_dir: Path) -> StagedUpload:
    """Stream (filename, stream) pairs into a temporary folder under `storage_dir`."""
    with _no_space_is_storage_full(storage_dir, "staging an upload"):
        tmp_root = private_dir(storage_dir, "tmp")
        folder = Path(tempfile.mkdtemp(prefix="upload-", dir=tmp_root))  # 0700
    try:
        paths: list[Path] = []
        shown_names: list[str] = []
        digests: list[tuple[str, str]] = []
        total = 0
        for raw_name, stream in files:
            if len(paths) == MAX_FILES:
                raise UploadError(f"Upload at most {MAX_FILES} files: one recording's files.")
            shown = shown_file_name(raw_name or "")
            name = disk_name(uploaded_name(raw_name or ""))
            if too_long := file_name_too_long(name):
                raise UploadError(
                    f"The file {shown[:40]}... cannot be stored: its {too_long}. Rename it "
                    "and upload it again."
                )
            target = folder / name
            if target.exists() and shown in shown_names:
                raise UploadError(f"Two files are called {shown}; upload each file once.")
            if target.exists():
                raise UploadError(
                    f"{shown} and another file would both be stored as {name}: rename one of "
                    "them (letters a-z and digits) and upload them again."
                )
            digest = hashlib.sha256()
            with open_private(target) as out:
                while chunk := stream.read(CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
                    total += len(chunk)
            if target.stat().st_size == 0:
                raise UploadError(f"{shown} is empty (0 bytes).")
            paths.append(target)
            shown_names.append(shown)
            digests.append((name, digest.hexdigest()))
        if not paths:
            raise UploadError(NO_FILE_MESSAGE)
        return StagedUpload(folder, paths, _bundle_sha256(digests), total, tuple(shown_names))
    except BaseException as problem:
        shutil.rmtree(folder, ignore_errors=True)  # the half-written file with the rest
        if isinstance(problem, OSError):
            unavailable = _storage_unavailable(storage_dir, "staging an upload", problem)
            if unavailable is not None:
                raise unavailable from problem
        raise


def _bundle_sha256(digests: list[tuple[str, str]]) -> str:
    if len(digests) == 1:
        return digests[0][1]
    lines = "".join(f"{name} {sha}\n" for name, sha in sorted(digests))
    return hashlib.sha256(lines.encode()).hexdigest()


def folder_sha256(folder: Path) -> str:
    """The SHA-256 a stored recording's folder was filed under, computed again from its files
    (`cardio storage verify`: a truncated file had passed as intact)."""
    digests = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        digests.append((path.name, digest.hexdigest()))
    return _bundle_sha256(digests)


def recording_folder(storage_dir: Path, sha256: str) -> Path:
    return storage_dir / "recordings" / sha256[:2] / sha256


def keep(staged: StagedUpload, storage_dir: Path) -> bool:
    """Move staged files to their permanent folder (same content, same folder). True when
    this call put them there; False when the same content was stored already (the staged
    copy is then removed). StorageUnavailable when there is no room for the folder, or it
    cannot be written (the staged files are then removed)."""
    final = recording_folder(storage_dir, staged.sha256)
    if final.exists():
        staged.discard()
        return False
    try:
        with _no_space_is_storage_full(storage_dir, "keeping an upload"):
            private_dir(storage_dir, "recordings", final.parent.name)
            staged.folder.rename(final)  # mkdtemp made it 0700
    except StorageUnavailable:
        staged.discard()
        raise
    except OSError as error:  # the same content kept by another upload at the same moment
        if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
        staged.discard()
        return False
    return True


def remove_kept(storage_dir: Path, sha256: str) -> None:
    """Remove a folder `keep` made for an upload whose rows were never committed."""
    shutil.rmtree(recording_folder(storage_dir, sha256), ignore_errors=True)


def stored_files(storage_dir: Path, sha256: str) -> list[Path]:
    folder = recording_folder(storage_dir, sha256)
    return sorted(p for p in folder.iterdir() if p.is_file())


def private_dir(storage_dir: Path, *parts: str) -> Path:
    """`storage_dir`/`parts`, each folder created 0700; `storage_dir` and those below it made
    looser by an older version are tightened to 0700 (when the portal's user owns them)."""
    folders = [storage_dir]
    for part in parts:
        folders.append(folders[-1] / part)
    for folder in folders:
        folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        status = folder.stat()
        if status.st_mode & 0o777 != PRIVATE_DIR_MODE and status.st_uid == os.getuid():
            folder.chmod(PRIVATE_DIR_MODE)
    return folders[-1]


def open_private(path: Path) -> IO[bytes]:
    """A new file opened for writing, created 0600 (not 0644 under the usual umask); an
    existing file of that name is an error, never overwritten."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    return os.fdopen(descriptor, "wb")


def write_private_file(storage_dir: Path, path: Path, content: bytes) -> Path:
    """Write `content` to `path` (under `storage_dir`) as a private file: its folders 0700,
    the file 0600, written to a temporary name and renamed so readers never see half of it.
    For stored documents (PDFs) as for recordings. StorageUnavailable when the disk has no
    room or cannot be written (the temporary file is removed: nothing is left, `path` is
    untouched)."""
    with _no_space_is_storage_full(storage_dir, f"writing {path.name}"):
        folder = private_dir(storage_dir, *path.parent.relative_to(storage_dir).parts)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".part-")  # mkstemp: 0600
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(content)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return path
