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


def test_a_file_named_in_any_script_keeps_its_name_and_passes_verify(
    app: Flask, people: People, sql: Session, database_url: str, tmp_path: Path
) -> None:
    """A bad-input audit: "心心心.edf" was kept as "edf" and "Müller EKG.edf" as "Muller_EKG.edf",
    the safe name on disk shown as the file's. Now the name as uploaded is shown, the safe
    name kept on disk only, and `storage verify` finds the files under it."""
    import io

    from tests.conftest import client_for, post_form
    from tests.support.ecg_files import synthetic, write_edf

    staff = client_for(app, people.staff)
    page = f"/patients/{people.patient.id}/recordings/new"
    long_name = "\U0001f600" * 251 + ".edf"  # 255 characters of 4 bytes in UTF-8 (utf8mb4)
    names = ["心心心.edf", "Müller EKG.edf", "Meyer, Hans.edf", long_name]
    for seed, name in enumerate(names):
        edf = write_edf(tmp_path / f"{seed}.edf", synthetic(seed=seed))
        answer = post_form(staff, page, {"files": [(io.BytesIO(edf.read_bytes()), name)]},
                           token_page=page, content_type="multipart/form-data")  # fmt: skip
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    shown = sql.scalars(select(EcgRecording.original_filename).order_by(EcgRecording.id)).all()
    assert shown == ["心心心.edf", "Müller EKG.edf", "Meyer, Hans.edf", long_name]
    env = {"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path / "cli"),
           "STORAGE_DIR": str(app.config["SETTINGS"].storage_dir)}  # fmt: skip
    said = CliRunner().invoke(main, ["storage", "verify"], env=env)
    assert said.exit_code == 0 and "Storage intact: " in said.output, said.output
