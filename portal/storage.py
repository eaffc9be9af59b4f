"""Uploaded recordings on disk, stored under their SHA-256, outside the web root.

A single file's key is its own SHA-256 (what `sha256sum` prints); a set of files (a WFDB
.hea + .dat) is keyed by the SHA-256 of its sorted "name sha256" lines. Files are streamed to
a private temporary folder first, so a failed or rejected upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from werkzeug.utils import secure_filename

CHUNK_BYTES = 1 << 20


class UploadError(ValueError):
    """The upload itself is unusable (no file, empty file, duplicate names)."""


@dataclass(frozen=True)
class StagedUpload:
    """Files written to a temporary folder, hashed, not yet kept."""

    folder: Path
    paths: list[Path]
    sha256: str
    size_bytes: int

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def stage(files: Iterable[tuple[str, IO[bytes]]], storage_dir: Path) -> StagedUpload:
    """Stream (filename, stream) pairs into a temporary folder under `storage_dir`."""
    tmp_root = storage_dir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=tmp_root))
    try:
        paths, digests, total = [], [], 0
        for raw_name, stream in files:
            name = secure_filename(raw_name or "") or "recording"
            target = folder / name
            if target.exists():
                raise UploadError(f"Two files are called {name}; upload each file once.")
            digest = hashlib.sha256()
            with open(target, "wb") as out:
                while chunk := stream.read(CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
                    total += len(chunk)
            if target.stat().st_size == 0:
                raise UploadError(f"{name} is empty (0 bytes).")
            paths.append(target)
            digests.append((name, digest.hexdigest()))
        if not paths:
            raise UploadError("Choose a recording file to upload.")
        return StagedUpload(folder, paths, _bundle_sha256(digests), total)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _bundle_sha256(digests: list[tuple[str, str]]) -> str:
    if len(digests) == 1:
        return digests[0][1]
    lines = "".join(f"{name} {sha}\n" for name, sha in sorted(digests))
    return hashlib.sha256(lines.encode()).hexdigest()


def recording_folder(storage_dir: Path, sha256: str) -> Path:
    return storage_dir / "recordings" / sha256[:2] / sha256


def keep(staged: StagedUpload, storage_dir: Path) -> list[Path]:
    """Move staged files to their permanent folder (same content, same folder); their paths."""
    final = recording_folder(storage_dir, staged.sha256)
    if final.exists():
        staged.discard()
    else:
        final.parent.mkdir(parents=True, exist_ok=True)
        staged.folder.rename(final)
    return stored_files(storage_dir, staged.sha256)


def stored_files(storage_dir: Path, sha256: str) -> list[Path]:
    folder = recording_folder(storage_dir, sha256)
    return sorted(p for p in folder.iterdir() if p.is_file())
