"""`cardio storage verify` names a missing file as missing, apart from altered ones, and passes
a load-test database (`cardio seed-load` links its recordings to shared template files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import migrate
from portal.cli import main
from portal.db import make_engine
from portal.models import EcgRecording
from portal.seed_load import SHAPES, seed_load
from portal.services.storage_check import verify_storage
from portal.storage import recording_folder
from tests.conftest import People
from tests.test_recording_files_missing import analysed_wfdb_upload


def test_a_deleted_data_file_is_named_as_missing_not_as_altered(
    app: Flask, people: People, sql: Session, database_url: str, tmp_path: Path
) -> None:
    """An operations audit deleted 100.dat beside 100.hea: verify said "recording 1: altered or
    damaged", and "its files are missing" only for an empty folder."""
    _, dat = analysed_wfdb_upload(app, people, tmp_path, "100")
    recording = sql.scalar(select(EcgRecording))
    stored = app.config["SETTINGS"].storage_dir
    folder = recording_folder(stored, recording.sha256)
    env = {"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path / "cli"),
           "STORAGE_DIR": str(stored)}  # fmt: skip

    (folder / "100.dat").unlink()
    said = CliRunner().invoke(main, ["storage", "verify"], env=env)
    assert said.exit_code == 1
    assert f"recording {recording.id}: 100.dat is missing ({folder})" in said.output
    assert "altered or damaged" not in said.output

    (folder / "100.dat").write_bytes(dat.read_bytes()[:100])  # back, but cut short
    said = CliRunner().invoke(main, ["storage", "verify"], env=env)
    assert f"recording {recording.id}: altered or damaged" in said.output


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
def test_a_load_test_database_passes_storage_verify(
    empty_database_url: str, tmp_path: Path
) -> None:
    """After `cardio seed-load` every recording read "altered or damaged": each one's folder
    links to a shared template in `seed-templates/`, under a made-up SHA-256."""
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    storage = tmp_path / "storage"
    try:
        seed_load(engine, storage, reports=6, doctors=1, staff=1, shapes=SHAPES[:2],
                  progress=False, password="x" * 16)  # fmt: skip
        with Session(engine) as sql:
            check = verify_storage(sql, storage)
            assert check.recordings == 6 and check.problems == []
            first = sql.scalars(select(EcgRecording).order_by(EcgRecording.id)).first()
            assert first is not None
            template = recording_folder(storage, first.sha256).resolve()
            (template / "rec.dat").unlink()  # a template lost: its recordings say so
            check = verify_storage(sql, storage)
            assert f"recording {first.id}: rec.dat is missing" in " ".join(check.problems)
    finally:
        engine.dispose()
