"""A backup of a portal on its embedded SQLite database (`cardio backup`): a consistent copy
of the database, taken while the portal runs (SQLite's online backup, never a file copy that
can catch a write halfway), then the stored recordings and PDFs. The database goes first, so
every file it names is in the archive; a file uploaded meanwhile is only an extra. The README
had the MySQL procedure only, and nothing for the embedded default.

The copy is written into `<name>.partial` and renamed to `<name>` only once whole; a failure
(a full disk, a folder that cannot be written) removes it and is one sentence
(`BackupFailed`). An operations audit: a backup onto a full disk printed a 40-line traceback
and left a folder with a 0-byte cardio.db and storage.tgz that looked like a real backup."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import tarfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

DATABASE_FILE = "cardio.db"
STORAGE_ARCHIVE = "storage.tgz"
SKIPPED_FOLDERS = frozenset({"tmp"})  # uploads being staged: not yet the database's


class BackupRefused(Exception):
    """Why no backup was taken, in words."""


class BackupFailed(Exception):
    """The backup could not be written (nothing of it was left), in words."""


PARTIAL_SUFFIX = ".partial"  # a backup being written; never a backup


@dataclass(frozen=True)
class Backup:
    folder: Path
    database_bytes: int
    stored_files: int


def sqlite_path(database_url: str) -> Path:
    """The database file of a SQLite URL; BackupRefused for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupRefused(
            f"`cardio backup` copies the embedded SQLite database; this portal runs on "
            f"{url.get_backend_name()}: back it up with mysqldump and the storage folder "
            "(README, Backups and restore)."
        )
    path = Path(url.database)
    if not path.is_file():
        raise BackupRefused(f"The database file {path} does not exist: nothing to back up.")
    return path


def back_up(database_url: str, storage_dir: Path, out_dir: Path) -> Backup:
    """A folder under `out_dir` named by the time (UTC) holding the database and the storage.
    Written as `<name>.partial` and renamed when whole, so a folder named like a backup is
    one; BackupFailed (the partial folder removed) when it cannot be written."""
    source = sqlite_path(database_url)
    folder = out_dir / f"cardio-{dt.datetime.now(dt.UTC):%Y-%m-%dT%H%M%SZ}"
    partial = folder.with_name(folder.name + PARTIAL_SUFFIX)
    try:
        database_bytes, stored = _write_backup(source, storage_dir, partial)
        partial.rename(folder)
    except (OSError, sqlite3.Error) as problem:
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupFailed(_failure_words(out_dir, problem)) from problem
    except BaseException:  # Ctrl+C: no half backup either
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Backup(folder, database_bytes, stored)


def _write_backup(source: Path, storage_dir: Path, folder: Path) -> tuple[int, int]:
    """The database copy and the storage archive in a new `folder`; their sizes."""
    # Private like what it copies (the database 0600, storage 0700): under a umask of 022 a
    # backup had every patient's data, password hashes and two-step secrets readable by any
    # account on the server (a review).
    folder.mkdir(parents=True)
    folder.chmod(0o700)  # whatever the umask
    for name in (DATABASE_FILE, STORAGE_ARCHIVE):
        (folder / name).touch(mode=0o600)
    copy = folder / DATABASE_FILE
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as source_db,
        closing(sqlite3.connect(copy)) as copy_db,
    ):
        source_db.backup(copy_db)
    stored = _archive_storage(storage_dir, folder / STORAGE_ARCHIVE)
    return copy.stat().st_size, stored


def _failure_words(out_dir: Path, problem: OSError | sqlite3.Error) -> str:
    """One sentence: where, why (the system's words), and that nothing was kept."""
    why = problem.strerror if isinstance(problem, OSError) and problem.strerror else problem
    return (
        f"The backup could not be written to {out_dir} ({why}); nothing was kept. Free some "
        "space or choose another folder, then run `cardio backup` again."
    )


def _archive_storage(storage_dir: Path, archive_path: Path) -> int:
    """`storage_dir` (but the uploads being staged) as `storage/...` in a gzipped tar; how
    many files it holds."""
    with tarfile.open(archive_path, "w:gz") as archive:
        for path in sorted(storage_dir.iterdir()) if storage_dir.is_dir() else []:
            if path.name not in SKIPPED_FOLDERS:
                archive.add(path, arcname=f"storage/{path.name}")
        return sum(1 for member in archive.getmembers() if member.isfile())
