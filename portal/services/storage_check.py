"""Whether the files the database names are in storage: every recording's folder, and every
issued PDF with the bytes it was issued with (`cardio storage verify`). An ops audit restored a
database with an older copy of the storage: ECG pages answered 500 while `/health`, `cardio
init-db` and `cardio audit verify` all passed, so the restore was called good."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import EcgRecording, ReportDocument
from portal.services.documents import document_path, stored_problem
from portal.storage import folder_sha256, recording_folder


@dataclass
class StorageCheck:
    recordings: int = 0
    documents: int = 0
    problems: list[str] = field(default_factory=list)


def verify_storage(session: Session, storage_dir: Path) -> StorageCheck:
    """Every recording folder present with the files it was filed under (their SHA-256), every
    document present with its SHA-256
    (a missing or altered PDF is issued again when next asked for, `documents.ensure_document`;
    a missing recording cannot be)."""
    check = StorageCheck()
    for row in session.execute(select(EcgRecording.id, EcgRecording.sha256)):
        check.recordings += 1
        folder = recording_folder(storage_dir, row.sha256)
        if not folder.is_dir() or not any(folder.iterdir()):
            check.problems.append(f"recording {row.id}: its files are missing ({folder})")
        elif folder_sha256(folder) != row.sha256:
            check.problems.append(f"recording {row.id}: altered or damaged ({folder})")
    for doc in session.execute(select(ReportDocument.id, ReportDocument.sha256)):
        check.documents += 1
        path = document_path(storage_dir, doc.sha256)
        if problem := stored_problem(path, doc.sha256):
            check.problems.append(f"document {doc.id}: {problem} ({path})")
    return check
