"""A CSV whose columns name their units is read in them, whatever units the upload gives:
such an option is no change of reading, and is not recorded as how the file was read.

A bad-input audit uploaded `MLII (mV),V1 (mV)` at 360 Hz, then again with units=uV: "read at
360 Hz in mV; you gave 360 Hz in uV. Its unsigned machine read was removed. It is being read
again at 360 Hz in uV", though the labels won and it was read in mV again, and the recording
recorded uV. Once signed, uploading it in mV was refused as "read at 360 Hz in uV ... the
doctor withdraws it as entered in error", false (`recordings.units_read_in`)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ml.recording import Recording
from portal.models import AnalysisJob, EcgRecording, EcgReport, RecordingFormat
from portal.services.recordings import UploadOptions, _reading_change, units_read_in
from portal.worker import Worker
from tests.conftest import People, client_for
from tests.support.ecg_files import synthetic, write_csv
from tests.test_api import Api, issue_on_admin_page, sign


def _labelled(tmp_path: Path) -> bytes:
    strip = synthetic(30, 360, leads=("II", "V1"))
    return write_csv(tmp_path / "l.csv", strip, with_time=False, header_suffix=" (mV)").read_bytes()


def test_units_the_columns_override_are_no_change() -> None:
    existing = EcgRecording(
        file_format=RecordingFormat.CSV, sampling_rate_hz=360.0, declared_units="uV"
    )  # as stored before: the option, though the labels had won
    signal = synthetic(10, 360).signal_mv[:, :1]
    labelled = Recording(fs_hz=360.0, lead_names=("II",), signal_mv=signal, units_in_file=True)
    assert _reading_change(existing, labelled, UploadOptions(fs_hz=360, units="mV")) is None
    assert units_read_in(labelled, UploadOptions(units="uV")) is None
    unlabelled = Recording(fs_hz=360.0, lead_names=("II",), signal_mv=signal)
    assert units_read_in(unlabelled, UploadOptions(units="uV")) == "uV"


def test_a_labelled_csv_given_other_units_is_the_same_upload(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    api = Api(
        app,
        issue_on_admin_page(
            client_for(app, people.admin), people.staff.username, ["recordings:write"]
        ),
    )
    strip = [(_labelled(tmp_path), "labelled.csv")]
    assert api.upload(people.patient.id, strip, fs_hz="360", units="uV").status_code == 201
    assert sql.scalar(select(EcgRecording.declared_units)) is None  # read in its labels' mV
    assert Worker(app).run_pending() == 1

    again = api.upload(people.patient.id, strip, fs_hz="360", units="mV")
    assert again.status_code == 200 and again.get_json()["read_again"] is None
    assert sql.scalar(select(func.count()).select_from(AnalysisJob)) == 1
    report_id = sql.scalar(select(EcgReport.id))
    assert report_id is not None
    sign(sql, report_id, people)
    for units in ("uV", "mV", None):
        fields = {"fs_hz": "360"} | ({"units": units} if units else {})
        same = api.upload(people.patient.id, strip, **fields)
        assert same.status_code == 200, same.get_json()
        assert same.get_json()["duplicate"] and same.get_json()["read_again"] is None
