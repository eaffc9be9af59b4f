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
