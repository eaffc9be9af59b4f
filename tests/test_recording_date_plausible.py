"""A file's start time that cannot be when the ECG was recorded is not stored as such.

A bad-input audit uploaded an anonymised EDF+ whose start was EDF's placeholder, 01.01.85
00.00.00, for a patient born on 5 May 2000: the review page said "recorded 1985-01-01", the
worklist sorted it as a 41-year-old ECG and the clinician PDF printed "2000-05-05 (age -16)".
Now that placeholder, and any start before the patient was born, leaves the recording
undated (its report says "uploaded"), and no PDF prints a negative age."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.local_time import acquisition_utc, zone_named
from portal.models import EcgRecording, Patient, Sex
from portal.services.documents import age_at
from tests.conftest import People, client_for
from tests.support.ecg_files import synthetic, write_edf
from tests.test_upload_and_review import _upload

PARIS = zone_named("Europe/Paris")
UPLOADED = dt.datetime(2026, 12, 7, 10, 0)
BORN = dt.date(2000, 5, 5)


def test_the_edf_placeholder_and_a_start_before_birth_are_no_recording_time() -> None:
    assert acquisition_utc(dt.datetime(1985, 1, 1), PARIS, UPLOADED) is None
    assert acquisition_utc(dt.datetime(1995, 3, 1, 10, 0), PARIS, UPLOADED, BORN) is None
    assert acquisition_utc(dt.datetime(2000, 5, 4, 23, 59), PARIS, UPLOADED, BORN) is None
    assert acquisition_utc(dt.datetime(2000, 5, 5, 8, 0), PARIS, UPLOADED, BORN) == dt.datetime(
        2000, 5, 5, 6, 0
    )
    assert acquisition_utc(dt.datetime(1985, 1, 1, 9, 30), PARIS, UPLOADED) == dt.datetime(
        1985, 1, 1, 8, 30
    )  # a real clock on that day, not the placeholder


def test_no_age_is_printed_for_a_date_before_birth() -> None:
    patient = Patient(date_of_birth=BORN, sex=Sex.FEMALE)
    assert age_at(patient, dt.date(1985, 1, 1)) is None
    assert age_at(patient, dt.date(2026, 12, 7)) == 26


def test_an_anonymised_edf_uploaded_is_undated(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    people.patient.date_of_birth = BORN
    sql.commit()
    staff = client_for(app, people.staff)
    for name, start in (
        ("anon.edf", dt.datetime(1985, 1, 1)),
        ("early.edf", dt.datetime(1995, 3, 1, 10)),
    ):
        edf = write_edf(tmp_path / name, synthetic(20, 250, seed=len(name)), start=start)
        assert _upload(staff, people.patient.id, [(edf.read_bytes(), name)]).status_code == 302
    sql.expire_all()
    assert list(sql.scalars(select(EcgRecording.acquired_at))) == [None, None]
