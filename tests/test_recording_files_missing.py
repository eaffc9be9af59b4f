"""A recording whose stored files are lost (deleted, or missing after a restore): the chart,
the review page and the clinician PDF say so plainly, never a 500 or a blank chart (an
operations audit: MIT-BIH 100 signed, 100.dat deleted, restart: 500 "please try again")."""

from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AnalysisJob, EcgReport, JobState, ReportStatus
from portal.storage import recording_folder
from portal.worker import Worker
from tests.conftest import PASSWORD, People, client_for, post_form
from tests.support.ecg_files import synthetic, write_wfdb

MISSING = "files are missing from storage"


def analysed_wfdb_upload(app: Flask, people: People, tmp_path: Path, name: str) -> list[Path]:
    """A 20-s .hea + .dat named `name`, uploaded by staff through the page and analysed; its
    files as written."""
    files = write_wfdb(tmp_path, synthetic(20, 360), name)
    staff = client_for(app, people.staff)
    upload_page = f"/patients/{people.patient.id}/recordings/new"
    uploaded = post_form(
        staff, upload_page, {"files": [(io.BytesIO(p.read_bytes()), p.name) for p in files]},
        token_page=upload_page, content_type="multipart/form-data",
    )  # fmt: skip
    assert uploaded.status_code == 302
    assert Worker(app).run_pending() == 1
    return files


def _signed_wfdb_report(app: Flask, people: People, sql: Session, tmp_path: Path) -> EcgReport:
    """A .hea + .dat uploaded by staff, analysed and signed by the doctor."""
    analysed_wfdb_upload(app, people, tmp_path, "rec1")
    report = sql.scalar(select(EcgReport))
    form = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "conclusion": "Normal ECG.",
            "row_version": str(report.row_version), "password": PASSWORD}  # fmt: skip
    doctor = client_for(app, people.doctor)
    signed = post_form(
        doctor, f"/reports/{report.id}/sign", form, token_page=f"/reports/{report.id}"
    )
    assert signed.status_code == 302
    sql.expire_all()
    assert report.status is ReportStatus.FINAL
    return report


@pytest.mark.parametrize("lost", ["the .dat file", "the whole folder"])
def test_a_recording_lost_from_storage_is_said_plainly_by_the_chart_page_and_pdf(
    app: Flask, people: People, sql: Session, tmp_path: Path, lost: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    report = _signed_wfdb_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    chart = f"/reports/{report.id}/ecg.json"
    assert doctor.get(chart + "?overview=1").status_code == 200  # read, and cached

    folder = recording_folder(app.config["SETTINGS"].storage_dir, report.recording.sha256)
    if lost == "the .dat file":
        (folder / "rec1.dat").unlink()
    else:
        shutil.rmtree(folder)

    with caplog.at_level(logging.ERROR, logger="portal.ecg_data"):
        for asked in ("?overview=1", "?start_s=0&end_s=10"):
            answer = doctor.get(chart + asked)  # not served from the worker's cache
            assert answer.status_code == 410, asked
            said = answer.get_json()["error"]
            assert MISSING in said and f"(recording {report.recording.id})" in said
            assert "cardio storage verify" in said and "the report and its measurements" in said
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.ecg_data"]
    assert lines and all(f"recording {report.recording.id}:" in line for line in lines)

    page = doctor.get(f"/reports/{report.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="ecg-files-missing"' in text and MISSING in text

    pdf = doctor.get(f"/reports/{report.id}/report.pdf")  # the clinician PDF needs the strips
    assert pdf.status_code == 410 and MISSING in pdf.get_data(as_text=True)


@pytest.mark.parametrize("lost", ["the .dat file", "the whole folder"])
def test_an_analysis_whose_stored_files_are_lost_says_so_and_how_to_restore_them(
    app: Flask, people: People, sql: Session, tmp_path: Path, lost: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """An ops audit stopped the workers, uploaded, removed the recording's folder and started
    a worker: the job said "internal error ... The upload is kept; you can retry." (it was not,
    and a retry failed alike) and the log held a FileNotFoundError traceback. It says the
    files are missing and how to restore them, the log one line; the same file uploaded
    again restores them, and a retry then analyses it."""
    files = write_wfdb(tmp_path, synthetic(20, 360), "rec1")
    staff = client_for(app, people.staff)
    upload_page = f"/patients/{people.patient.id}/recordings/new"

    def upload() -> None:
        sent = post_form(
            staff, upload_page, {"files": [(io.BytesIO(p.read_bytes()), p.name) for p in files]},
            token_page=upload_page, content_type="multipart/form-data",
        )  # fmt: skip
        assert sent.status_code == 302

    upload()  # queued: no worker has run yet
    job = sql.scalars(select(AnalysisJob)).one()
    folder = recording_folder(app.config["SETTINGS"].storage_dir, job.recording.sha256)
    if lost == "the .dat file":
        (folder / "rec1.dat").unlink()
    else:
        shutil.rmtree(folder)
    with caplog.at_level(logging.ERROR):
        assert Worker(app).run_pending() == 1
    sql.expire_all()
    assert job.state is JobState.FAILED
    said = job.error_message or ""
    assert said.startswith(
        f"The recording's stored files are missing or unreadable (recording {job.recording.id})"
    )
    assert "from the backup (`cardio storage verify`" in said and "internal error" not in said
    # An upload of the same file stores it again only where its whole folder is gone.
    assert ("upload the same file again" in said) is (lost == "the whole folder")
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert lines == [line for line in lines if "Traceback" not in line]
    assert any(
        f"recording {job.recording.id}: its stored files are missing" in line for line in lines
    )
    assert not any(r.exc_info for r in caplog.records)
    assert said in client_for(app, people.staff).get(f"/jobs/{job.id}/status.json").get_data(
        as_text=True
    )

    if lost == "the whole folder":
        upload()  # the same file again: its files are kept again
    else:  # restored from the backup
        shutil.copy(files[1], folder / "rec1.dat")
    assert (folder / "rec1.dat").is_file()
    retried = post_form(staff, f"/jobs/{job.id}/retry", {}, token_page=f"/jobs/{job.id}")
    assert retried.status_code == 302
    assert Worker(app).run_pending() == 1
    sql.expire_all()
    assert job.state is JobState.SUCCEEDED
