"""Two uploads of one file for one patient at the same moment (a double click, the web form and
an interface at once): one recording, its files kept, and the other request told so in words.
The request that kept the folder could lose the insert, and its rollback removed the folder the
committed recording reads: the ECG gone, its job failing on every retry (a concurrency audit,
2 of 8 rounds of four uploads)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import storage
from portal.models import EcgRecording, Patient
from portal.services import recordings
from portal.services.errors import UploadedMeanwhile
from tests.conftest import People
from tests.support.ecg_files import synthetic, write_csv
from tests.support.races import mariadb_only, second_while_first_is_open


def _upload(session: Session, people: People, path: Path, storage_dir: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return recordings.upload_recording(
            session, session.get(Patient, people.patient.id), [(path.name, handle)],
            actor=people.staff, storage_dir=storage_dir,
        )  # fmt: skip


def test_the_upload_that_loses_the_race_keeps_the_winners_files(
    app: Flask, people: People, sql: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "ecg.csv", synthetic(20, 250, seed=11))
    storage_dir = app.config["SETTINGS"].storage_dir
    real_keep = storage.keep
    calls: list[bool] = []

    def keep_then_the_other_request_commits(staged, storage_dir_):  # type: ignore[no-untyped-def]
        created = real_keep(staged, storage_dir_)
        calls.append(created)
        if len(calls) == 1:  # this request kept the folder; the other one commits first
            with Session(sql.get_bind()) as other:
                winner = _upload(other, people, path, storage_dir)
                assert not winner.duplicate
                other.commit()
        return created

    monkeypatch.setattr(storage, "keep", keep_then_the_other_request_commits)
    with pytest.raises(UploadedMeanwhile) as refused:
        _upload(sql, people, path, storage_dir)
    sql.rollback()
    assert calls == [True, False]  # the loser had kept the folder, the winner found it
    assert refused.value.status == 409
    assert "at the same moment; it is stored and analysed once" in refused.value.message

    assert sql.scalar(select(func.count()).select_from(EcgRecording)) == 1
    recording = sql.scalars(select(EcgRecording)).one()
    assert recordings.load(storage_dir, recording).n_samples == 20 * 250  # files still there


def test_an_upload_in_flight_when_the_patient_is_deactivated_adds_nothing(
    app: Flask, people: People, sql: Session, tmp_path: Path, database_url: str
) -> None:
    """On MariaDB, ECGs had landed on a record 17-57 ms after staff were told it was
    deactivated, their reports on the worklist (a concurrency audit): the upload now locks
    the patient's row and reads it as committed just before it writes."""
    from portal.models import Account
    from portal.services import patients
    from portal.services.validation import InvalidInput

    mariadb_only(database_url)
    path = write_csv(tmp_path / "ecg.csv", synthetic(20, 250, seed=12))
    storage_dir = app.config["SETTINGS"].storage_dir
    engine = sql.get_bind()
    closing = Session(engine)
    patients.set_patient_active(
        closing, closing.get(Patient, people.patient.id), False,
        actor=closing.get(Account, people.staff.id),
    )  # fmt: skip
    closing.flush()  # the deactivation is mid-way, not committed

    def upload(uploading: Session) -> str:
        try:
            _upload(uploading, people, path, storage_dir)
            uploading.commit()
            return "stored"
        except InvalidInput as refused:
            return refused.errors["files"]

    said, _ = second_while_first_is_open(engine, closing, upload, wait_s=1.5)
    assert "is deactivated: reactivate the patient before adding an ECG" in said
    sql.expire_all()
    assert sql.scalar(select(func.count()).select_from(EcgRecording)) == 0
