"""Whether the files the database names are in storage: every recording's folder, and every
issued PDF with the bytes it was issued with (`cardio storage verify`). An ops audit restored a
database with an older copy of the storage: ECG pages answered 500 while `/health`, `cardio
init-db` and `cardio audit verify` all passed, so the restore was called good."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import EcgRecording, ReportDocument
from portal.services.documents import document_path, stored_problem
from portal.storage import disk_name, folder_sha256, recording_folder

ORIGINAL_FILENAME_CHARS = 255  # EcgRecording.original_filename's column
SEED_TEMPLATES = "seed-templates"  # `portal.seed_load`'s folder under STORAGE_DIR


@dataclass
class StorageCheck:
    recordings: int = 0
    documents: int = 0
    problems: list[str] = field(default_factory=list)


def verify_storage(session: Session, storage_dir: Path) -> StorageCheck:
    """Every recording folder present with the files it was filed under (their SHA-256), each
    file missing named (it had read "altered or damaged" while any file was left), every
    document present with its SHA-256
    (a missing or altered PDF is issued again when next asked for, `documents.ensure_document`;
    a missing recording cannot be)."""
    check = StorageCheck()
    rows = select(EcgRecording.id, EcgRecording.sha256, EcgRecording.original_filename)
    for row in session.execute(rows):
        check.recordings += 1
        folder = recording_folder(storage_dir, row.sha256)
        present = {p.name for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()
        names = uploaded_names(row.original_filename, present)
        missing = [name for name in names if name not in present]
        if not present:
            check.problems.append(f"recording {row.id}: its files are missing ({folder})")
        elif missing:
            verb = "is" if len(missing) == 1 else "are"
            check.problems.append(
                f"recording {row.id}: {', '.join(missing)} {verb} missing ({folder})"
            )
        elif _seed_template(storage_dir, folder):
            continue  # present; a made-up SHA-256, no bytes to check it against
        elif folder_sha256(folder) != row.sha256:
            check.problems.append(f"recording {row.id}: altered or damaged ({folder})")
    for doc in session.execute(select(ReportDocument.id, ReportDocument.sha256)):
        check.documents += 1
        path = document_path(storage_dir, doc.sha256)
        if problem := stored_problem(path, doc.sha256):
            check.problems.append(f"document {doc.id}: {problem} ({path})")
    return check


def uploaded_names(original_filename: str, present: Collection[str] = ()) -> list[str]:
    """The names of a recording's stored files, from their names as uploaded, as
    `recordings.register` listed them (", " between names, cut at 255 characters: a name cut
    short is left out), each made the safe name it is stored under (`storage.disk_name`).
    A name may hold ", " itself ("Smith, John 2026.edf"): the pieces that together make the
    name of a file `present` in the folder are one name; a piece that makes none is one."""
    pieces = original_filename.split(", ")
    if len(original_filename) >= ORIGINAL_FILENAME_CHARS:
        pieces = pieces[:-1]
    names, start = [], 0
    while start < len(pieces):
        ends = range(start + 1, len(pieces) + 1)
        end = next((e for e in ends if disk_name(", ".join(pieces[start:e])) in present), start + 1)
        names.append(disk_name(", ".join(pieces[start:end])))
        start = end
    return names


def _seed_template(storage_dir: Path, folder: Path) -> bool:
    """Whether the recording's folder links to a `cardio seed-load` template: its recordings
    are filed under made-up SHA-256s, many linking to one template's files, and all 300 of a
    load-test database had read "altered or damaged" (an operations audit)."""
    templates = (storage_dir / SEED_TEMPLATES).resolve()
    return folder.is_symlink() and folder.resolve().is_relative_to(templates)
