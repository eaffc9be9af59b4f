"""Files named as uploaded (`storage.shown_file_name`) in every refusal and in what is kept,
whatever their script, spaces and accents; the safe name is only the name on disk (a
bad-input audit, F13)."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import EcgRecording
from tests.conftest import People, client_for, error_messages, post_form
from tests.support.ecg_files import (
    synthetic,
    write_edf,
    write_wfdb,
    write_zip,
    zip_with_wrong_field,
)


def _upload(client, patient_id: int, files: list[tuple[bytes, str]]):  # type: ignore[no-untyped-def]
    page = f"/patients/{patient_id}/recordings/new"
    data = {"files": [(io.BytesIO(content), name) for content, name in files]}
    return post_form(client, page, data, token_page=page, content_type="multipart/form-data")


def _refusal(client, patient_id: int, files: list[tuple[bytes, str]]) -> str:  # type: ignore[no-untyped-def]
    answer = _upload(client, patient_id, files)
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    return " ".join(error_messages(answer.get_data(as_text=True)))


def test_a_readers_refusal_names_each_file_as_uploaded(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The readers name the files they are given, which are stored under safe names: a WFDB
    pair uploaded as "心电图.hea" and "Müller EKG.dat" was refused as "... (Muller_EKG.dat was
    given instead). Upload hea and rec2.dat together", a truncated "心电图 Müller.edf" as
    "Muller.edf is truncated", a damaged "αρχείο ΗΚΓ.zip" as "zip is damaged"."""
    staff = client_for(app, people.staff)
    hea, dat = write_wfdb(tmp_path, synthetic(20, 360), "rec2")
    said = _refusal(
        staff,
        people.patient.id,
        [(hea.read_bytes(), "心电图.hea"), (dat.read_bytes(), "Müller EKG.dat")],
    )
    assert "(Müller EKG.dat was given instead). Upload 心电图.hea and rec2.dat together" in said

    edf = write_edf(tmp_path / "a.edf", synthetic(20, 250))
    said = _refusal(staff, people.patient.id, [(edf.read_bytes()[:3000], "心电图 Müller.edf")])
    assert said.startswith("心电图 Müller.edf is truncated"), said

    zipped = write_zip(
        tmp_path / "a.zip", {"rec2.hea": hea.read_bytes(), "rec2.dat": dat.read_bytes()}
    )
    damaged = zip_with_wrong_field(zipped.read_bytes(), "rec2.dat", "crc", 1)
    said = _refusal(staff, people.patient.id, [(damaged, "αρχείο ΗΚΓ.zip")])
    assert said.startswith("αρχείο ΗΚΓ.zip is damaged (rec2.dat: "), said
    assert sql.scalar(select(func.count()).select_from(EcgRecording)) == 0


def _named(hea: Path, dat: Path, record: str) -> list[tuple[bytes, str]]:
    """The WFDB pair `hea`, `dat` (record "rec") as its recorder would name record `record`:
    in the header's record line and data-file names, and in the files' own names."""
    header = hea.read_text().replace("rec.dat ", f"{record}.dat ").replace("rec ", f"{record} ", 1)
    return [(header.encode(), f"{record}.hea"), (dat.read_bytes(), f"{record}.dat")]


def test_a_wfdb_record_named_in_greek_or_chinese_is_read_and_analysed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A header "καρδιά.hea" naming its data file "καρδιά.dat" was refused: first for the
    letters of its names ("line 1 holds a character the reader cannot read ('κ', ...)"), and
    stored as "hea" and "dat" its data file was not found under the name the header gives.
    Now it is read, and analysed from its stored files, kept under the names uploaded."""
    from portal.worker import Worker

    staff = client_for(app, people.staff)
    for seed, (record, patient) in enumerate(
        [("καρδιά", people.patient), ("心电图", people.other_patient)]
    ):
        folder = tmp_path / str(seed)
        folder.mkdir()
        hea, dat = write_wfdb(folder, synthetic(20, 360, seed=seed), "rec")
        answer = _upload(staff, patient.id, _named(hea, dat, record))
        assert answer.status_code == 302, error_messages(answer.get_data(as_text=True))
    rows = sql.scalars(select(EcgRecording).order_by(EcgRecording.id)).all()
    assert [row.original_filename for row in rows] == [
        "καρδιά.hea, καρδιά.dat",
        "心电图.hea, 心电图.dat",
    ]
    assert Worker(app).run_pending() == 2
    for row in rows:
        sql.refresh(row)
        job = row.jobs[-1]
        sql.refresh(job)
        assert job.state.value == "succeeded", job.error_message


def test_a_header_named_in_cyrillic_is_not_paired_with_another_persons_data_file(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """ "Иванов.hea" naming "Иванов.dat", uploaded with "Петров.dat", was read as one
    recording: both data files are stored as "dat" (a review, 2026-12-07). Refused as
    "rec1.hea" with "rec2.dat" is, whatever the alphabet."""
    staff = client_for(app, people.staff)
    hea, dat = write_wfdb(tmp_path, synthetic(20, 360), "rec")
    header, data = _named(hea, dat, "Иванов")
    said = _refusal(staff, people.patient.id, [header, (data[0], "Петров.dat")])
    assert "The header names the data file Иванов.dat, which was not provided" in said, said
    assert "(Петров.dat was given instead)" in said, said
    assert sql.scalar(select(func.count()).select_from(EcgRecording)) == 0


def test_wfdb_decodes_a_record_named_beyond_ascii_from_its_safe_names(tmp_path: Path) -> None:
    """Formats wfdb decodes (24 here), read whole and chunk by chunk, from files stored as
    "hea" and "dat" (`storage.disk_name`): wfdb reads the header in ASCII, so the record and
    its data file are staged under ASCII names (`wfdb_reader.stage_header`)."""
    import numpy as np

    from ml.io import read_recording
    from ml.io.sources import WfdbSource, open_recording
    from portal.storage import disk_name
    from tests.support.ecg_files import write_wfdb_format

    digital = (np.sin(np.arange(4000) / 20)[:, None] * [800, -600]).astype(np.int64)
    hea, dat = write_wfdb_format(tmp_path, digital, "24", name="rec")
    stored = tmp_path / "stored"
    stored.mkdir()
    for content, name in _named(hea, dat, "心电图"):
        (stored / disk_name(name)).write_bytes(content)
    paths = sorted(stored.iterdir())
    assert [p.name for p in paths] == ["dat", "hea"]
    whole = read_recording(paths, stored_as=disk_name)
    assert whole.source_name == "心电图"
    assert np.allclose(whole.signal_mv, digital / 50.0)
    with open_recording(paths, stream_from_s=1, stored_as=disk_name) as source:  # type: ignore[union-attr]
        assert isinstance(source, WfdbSource)
        assert np.allclose(source.read(100, 300), digital[100:300] / 50.0)


def test_a_name_holding_a_comma_and_a_space_is_kept_as_uploaded(
    app: Flask, people: People, sql: Session, database_url: str, tmp_path: Path
) -> None:
    """ "Smith, John 2026.edf" was kept and shown as "Smith,John 2026.edf" (", " parted the
    names listed). Now it is kept as uploaded; `storage verify` and the analysis still find
    every file (stored under the same safe names as before), a name's ", " told from the
    ", " between names by the files in the folder (`storage_check.uploaded_names`)."""
    from click.testing import CliRunner

    from portal.cli import main
    from portal.worker import Worker

    staff = client_for(app, people.staff)
    edf = write_edf(tmp_path / "a.edf", synthetic(20, 250))
    answer = _upload(staff, people.patient.id, [(edf.read_bytes(), "Smith, John 2026.edf")])
    assert answer.status_code == 302, error_messages(answer.get_data(as_text=True))
    hea, dat = write_wfdb(tmp_path, synthetic(20, 360, seed=5), "rec")
    note = (b"Recorded at the clinic.\n", "Smith, John, notes.txt")
    pair = [(hea.read_bytes(), "rec.hea"), (dat.read_bytes(), "rec.dat"), note]
    answer = _upload(staff, people.other_patient.id, pair)
    assert answer.status_code == 302, error_messages(answer.get_data(as_text=True))
    rows = sql.scalars(select(EcgRecording).order_by(EcgRecording.id)).all()
    assert [row.original_filename for row in rows] == [
        "Smith, John 2026.edf",
        "rec.hea, rec.dat, Smith, John, notes.txt",
    ]
    assert Worker(app).run_pending() == 2
    env = {"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path / "cli"),
           "STORAGE_DIR": str(app.config["SETTINGS"].storage_dir)}  # fmt: skip
    said = CliRunner().invoke(main, ["storage", "verify"], env=env)
    assert said.exit_code == 0 and "Storage intact: " in said.output, said.output
