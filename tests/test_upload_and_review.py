"""From upload to signed report on both databases: upload -> job -> report -> review -> sign ->
amend; failures and retries; restarts; concurrent signing; duplicates; malformed uploads."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ml.errors import TruncatedDataError
from ml.research.databases import data_root
from portal.models import (
    AnalysisJob,
    AuditEvent,
    EcgRecording,
    EcgReport,
    JobState,
    ReportStatus,
    ReportVersion,
    RiskScore,
    VersionKind,
    utcnow,
)
from portal.review.routes import PLOTLY_BUNDLE
from portal.services import jobs, reports
from portal.worker import Worker
from tests.conftest import PASSWORD, People, client_for, error_messages, post_form
from tests.support.ecg_files import synthetic, write_csv, write_mat_record, write_wfdb

CSV_BYTES: dict[str, bytes] = {}


def _csv_bytes(tmp_path: Path, seed: int = 3, with_time: bool = True) -> bytes:
    key = f"{seed}-{with_time}"
    if key not in CSV_BYTES:
        path = write_csv(
            tmp_path / f"ecg-{key}.csv", synthetic(30, 250, seed=seed), with_time=with_time
        )
        CSV_BYTES[key] = path.read_bytes()
    return CSV_BYTES[key]


def _upload(client, patient_id: int, files: list[tuple[bytes, str]], **fields):  # type: ignore[no-untyped-def]
    data = {"files": [(io.BytesIO(content), name) for content, name in files], **fields}
    return post_form(
        client,
        f"/patients/{patient_id}/recordings/new",
        data,
        token_page=f"/patients/{patient_id}/recordings/new",
        content_type="multipart/form-data",
    )


def _count(sql: Session, model: type) -> int:
    sql.expire_all()
    return sql.scalar(select(func.count()).select_from(model)) or 0


def _stored_files(app: Flask) -> list[Path]:
    root = app.config["SETTINGS"].storage_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _analysed_report(app: Flask, people: People, sql: Session, tmp_path: Path) -> EcgReport:
    """A CSV uploaded by staff and analysed: a preliminary report with its machine read."""
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, [(_csv_bytes(tmp_path), "ecg.csv")]).status_code == 302
    assert Worker(app).run_pending() == 1
    return sql.scalar(select(EcgReport))


def test_full_flow_upload_analyse_review_sign_amend(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    response = _upload(staff, people.patient.id, [(_csv_bytes(tmp_path), "ecg.csv")])
    assert response.status_code == 302 and "/jobs/" in response.location
    job = sql.scalar(select(AnalysisJob))
    assert job.state is JobState.QUEUED
    recording = job.recording
    assert recording.file_format.value == "csv"
    assert recording.sampling_rate_hz == pytest.approx(250)
    assert recording.lead_names == ["I", "II", "III"] and recording.duration_s == pytest.approx(30)
    stored = _stored_files(app)
    assert [p.parent.name for p in stored] == [recording.sha256]  # stored under its SHA-256

    status = staff.get(f"/jobs/{job.id}/status.json").get_json()
    assert status["state"] == "queued" and status["report_id"] is None
    assert Worker(app).run_pending() == 1
    status = staff.get(f"/jobs/{job.id}/status.json").get_json()
    assert status["state"] == "succeeded" and status["progress_pct"] == 100
    report = sql.scalar(select(EcgReport))
    assert status["report_id"] == report.id and report.status is ReportStatus.PRELIMINARY
    machine = report.versions[0]
    assert machine.kind is VersionKind.MACHINE and machine.heart_rate_bpm == pytest.approx(
        72, abs=2
    )
    assert machine.analysis["analysis_lead"] == "II"
    assert _count(sql, RiskScore) == 5

    doctor = client_for(app, people.doctor)
    worklist = doctor.get("/worklist").get_data(as_text=True)
    assert people.patient.full_name in worklist and f"/reports/{report.id}" in worklist
    assert "(1 report)" in worklist  # not "(1 reports)"
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Measurements" in page and "Sign report" in page and PLOTLY_BUNDLE in page
    # QTc says which cycle it corrects for (the median interval between adjacent normal beats).
    rr_ms = machine.analysis["intervals"]["rr_ms"]
    assert machine.qtc_bazett_ms is not None and rr_ms == pytest.approx(60000 / 72, rel=0.05)
    assert f"at RR {rr_ms:.0f} ms between normal beats" in page
    overview = doctor.get(f"/reports/{report.id}/ecg.json?overview=1").get_json()
    assert overview["lead"] == "II" and len(overview["overview"]["t_s"]) > 100
    strip = doctor.get(f"/reports/{report.id}/ecg.json?start_s=5&end_s=15").get_json()
    assert set(strip["leads"]) == {"I", "II", "III"} and strip["lead_order"] == ["I", "II", "III"]
    assert len(strip["leads"]["II"]) == 2500 and strip["start_s"] == pytest.approx(5)
    assert 10 <= len(strip["beats"]["t_s"]) <= 14 and set(strip["beats"]["class"]) <= set("NSVFQ")
    assert doctor.get(f"/static/vendor/{PLOTLY_BUNDLE}").status_code == 200

    sign_url = f"/reports/{report.id}/sign"
    form = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "conclusion": "Normal ECG.",
            "row_version": str(report.row_version)}  # fmt: skip
    wrong = post_form(doctor, sign_url, form | {"password": "not my password!"},
                      token_page=f"/reports/{report.id}")  # fmt: skip
    assert wrong.status_code == 400
    assert any("not your password" in m for m in error_messages(wrong.get_data(as_text=True)))
    sql.expire_all()
    assert report.status is ReportStatus.PRELIMINARY and len(report.versions) == 1
    signed = post_form(doctor, sign_url, form | {"password": PASSWORD},
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302
    sql.expire_all()
    assert report.status is ReportStatus.FINAL and report.versions[1].kind is VersionKind.PHYSICIAN
    assert report.versions[1].conclusion == "Normal ECG." and report.signed_at is not None

    amend_url = f"/reports/{report.id}/amend"
    amend = form | {"conclusion": "Normal ECG; borderline QT.", "password": PASSWORD,
                    "row_version": str(report.row_version)}  # fmt: skip
    no_reason = post_form(doctor, amend_url, amend, token_page=f"/reports/{report.id}")
    assert no_reason.status_code == 400
    amended = post_form(doctor, amend_url, amend | {"reason": "QT re-measured by hand"},
                        token_page=f"/reports/{report.id}")  # fmt: skip
    assert amended.status_code == 302
    sql.expire_all()
    kinds = [v.kind for v in report.versions]
    assert kinds == [VersionKind.MACHINE, VersionKind.PHYSICIAN, VersionKind.AMENDMENT]
    assert report.status is ReportStatus.AMENDED
    assert report.versions[0].conclusion == machine.conclusion  # the machine read is kept
    # Each signed read names who signed it, as the clinician PDF does (it said only when).
    reads = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert reads.count(" by Doctor1</p>") == 2
    actions = set(sql.scalars(select(AuditEvent.action)))
    assert {
        "recording.upload",
        "report.create",
        "report.view",
        "report.sign",
        "report.amend",
    } <= actions


def test_wfdb_pair_and_zip_uploads_are_accepted(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    hea, dat = write_wfdb(tmp_path, synthetic(20, 360), "rec1")
    staff = client_for(app, people.staff)
    pair = _upload(
        staff, people.patient.id, [(hea.read_bytes(), hea.name), (dat.read_bytes(), dat.name)]
    )
    assert pair.status_code == 302
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("rec1.hea", hea.read_bytes())
        archive.writestr("rec1.dat", dat.read_bytes())
    zipped = _upload(staff, people.other_patient.id, [(buffer.getvalue(), "rec1.zip")])
    assert zipped.status_code == 302
    formats = sorted(r.file_format.value for r in sql.scalars(select(EcgRecording)))
    assert formats == ["wfdb", "wfdb"]


def test_a_zip_holding_a_csv_is_a_csv_recording_read_again_with_its_options(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A zip's format is its member's: one holding a CSV had been stored as WFDB, so the
    sampling rate and units given at upload were not used to read it again for analysis (an
    upload audit found "WFDB" on its report)."""
    path = write_csv(tmp_path / "ecg.csv", synthetic(20, 250), with_time=False, scale=1000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ecg.csv", path.read_bytes())
    staff = client_for(app, people.staff)
    zipped = _upload(staff, people.patient.id, [(buffer.getvalue(), "ecg.zip")],
                     fs_hz="250", units="uV")  # fmt: skip
    assert zipped.status_code == 302, zipped.get_data(as_text=True)[:2000]
    recording = sql.scalar(select(EcgRecording))
    assert recording.file_format.value == "csv" and recording.declared_units == "uV"
    assert Worker(app).run_pending() == 1
    job = sql.scalar(select(AnalysisJob))
    sql.refresh(job)
    assert job.state is JobState.SUCCEEDED, job.error_message
    machine = sql.scalar(select(EcgReport)).versions[0]
    assert machine.heart_rate_bpm == pytest.approx(72, abs=2)


def test_duplicate_upload_finds_the_existing_recording(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    first = _upload(staff, people.patient.id, [(_csv_bytes(tmp_path), "a.csv")])
    second = _upload(staff, people.patient.id, [(_csv_bytes(tmp_path), "renamed.csv")])
    assert first.location == second.location
    assert _count(sql, EcgRecording) == 1 and _count(sql, AnalysisJob) == 1
    assert len(_stored_files(app)) == 1
    other = _upload(staff, people.other_patient.id, [(_csv_bytes(tmp_path), "a.csv")])
    assert other.status_code == 302 and _count(sql, EcgRecording) == 2  # another patient's copy


def _microvolt_csv() -> bytes:
    rows = (f"{i / 250:.4f},{800 * ((i % 200) == 0):d}\n" for i in range(250 * 20))
    return b"time,II\n" + "".join(rows).encode()


def _bad_uploads(tmp_path: Path) -> list[tuple[str, list[tuple[bytes, str]], dict, str]]:
    hea, dat = write_wfdb(tmp_path, synthetic(20, 360), "rec2")
    csv_without_time = _csv_bytes(tmp_path, with_time=False)
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../etc/rec.hea", hea.read_bytes())
    # Names longer than a file system allows (255 bytes): as uploaded, inside a .zip, and
    # named by the header for its data file.
    long_name = "r" * 300
    long_zip = io.BytesIO()
    with zipfile.ZipFile(long_zip, "w") as archive:
        archive.writestr(f"{long_name}.hea", hea.read_bytes())
    names_long_data = hea.read_text().replace("rec2.dat", f"{long_name}.dat").encode()
    # A header whose gains are 1,000 times too small: the samples read as microvolts in mV.
    thousandfold = re.sub(
        r"(\.dat 16 )([0-9.]+)\(", lambda m: f"{m[1]}{float(m[2]) / 1000}(", hea.read_text()
    ).encode()
    return [
        ("truncated WFDB", [(hea.read_bytes(), hea.name), (dat.read_bytes()[:5000], dat.name)], {},
         "truncated"),
        ("header without data", [(hea.read_bytes(), hea.name)], {}, "rec2.dat"),
        ("a picture", [(b"\x89PNG\r\n\x1a\n" + bytes(200), "scan.png")], {},
         "not a recognised ECG file"),
        ("CSV without time or rate", [(csv_without_time, "leads.csv")], {}, "sampling rate"),
        ("absurd sampling rate", [(csv_without_time, "leads.csv")], {"fs_hz": "5"},
         "Sampling rate 5 Hz is outside 50-2000 Hz"),
        ("microvolts as millivolts", [(_microvolt_csv(), "uv.csv")], {}, "look like microvolts"),
        ("WFDB gains 1,000 times too small",
         [(thousandfold, hea.name), (dat.read_bytes(), dat.name)], {},
         "units are probably not millivolts"),
        ("empty file", [(b"", "empty.csv")], {}, "empty"),
        ("zip escaping its folder", [(evil.getvalue(), "evil.zip")], {}, ".."),
        ("file name too long", [(hea.read_bytes(), f"{long_name}.hea")], {}, "name is too long"),
        ("zip member name too long", [(long_zip.getvalue(), "long.zip")], {}, "name is too long"),
        ("header names a data file too long",
         [(names_long_data, hea.name), (dat.read_bytes(), dat.name)], {}, "name is too long"),
        ("nothing chosen", [], {}, "Choose a recording file"),
    ]  # fmt: skip


def test_every_malformed_upload_is_refused_clearly_and_leaves_nothing(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    for label, files, fields, words in _bad_uploads(tmp_path):
        response = _upload(staff, people.patient.id, files, **fields)
        assert response.status_code == 422, label  # refused, with the form and its message
        page = response.get_data(as_text=True)
        messages = " ".join(error_messages(page)) + page
        assert words.lower() in messages.lower(), (label, error_messages(page))
        assert _count(sql, EcgRecording) == 0 and _count(sql, AnalysisJob) == 0, label
        assert _stored_files(app) == [], label


def test_upload_over_the_size_limit_is_refused_before_reading(
    app: Flask, people: People, sql: Session
) -> None:
    app.config["SETTINGS"].max_upload_mb = 1
    staff = client_for(app, people.staff)
    response = _upload(staff, people.patient.id, [(b"0" * (2 * 1024 * 1024), "big.csv")])
    assert response.status_code == 413
    assert "larger than the portal accepts" in response.get_data(as_text=True)
    assert _count(sql, EcgRecording) == 0 and _stored_files(app) == []


def test_failed_job_keeps_the_upload_shows_why_and_can_be_retried(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    _upload(staff, people.patient.id, [(_csv_bytes(tmp_path), "ecg.csv")])

    def broken(recording, progress, pacemaker):  # type: ignore[no-untyped-def]
        raise TruncatedDataError("The data stop after 3 s; the file is incomplete.")

    Worker(app, analyzer=broken).run_pending()
    job = sql.scalar(select(AnalysisJob))
    sql.refresh(job)
    assert job.state is JobState.FAILED and "incomplete" in job.error_message
    page = staff.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "incomplete" in page and "Retry the analysis" in page
    assert _count(sql, EcgReport) == 0 and len(_stored_files(app)) == 1

    retried = post_form(staff, f"/jobs/{job.id}/retry", {}, token_page=f"/jobs/{job.id}")
    assert retried.status_code == 302
    sql.refresh(job)
    assert job.state is JobState.QUEUED
    Worker(app).run_pending()
    sql.refresh(job)
    assert job.state is JobState.SUCCEEDED and _count(sql, EcgReport) == 1


def test_restart_picks_up_queued_and_stuck_jobs_and_never_duplicates_reports(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    _upload(staff, people.patient.id, [(_csv_bytes(tmp_path, seed=3), "a.csv")])
    _upload(staff, people.patient.id, [(_csv_bytes(tmp_path, seed=4), "b.csv")])
    _upload(staff, people.patient.id, [(_csv_bytes(tmp_path, seed=5), "c.csv")])
    first, second, third = sql.scalars(select(AnalysisJob).order_by(AnalysisJob.id)).all()
    long_ago = utcnow() - dt.timedelta(hours=2)
    # A worker died mid-analysis (second) and one ran out of attempts (third).
    second.state, second.heartbeat_at, second.attempts = JobState.RUNNING, long_ago, 1
    third.state, third.heartbeat_at, third.attempts = JobState.RUNNING, long_ago, 3
    sql.commit()

    assert Worker(app).run_pending() == 2  # "restart": the queued one and the stuck one
    for job in (first, second, third):
        sql.refresh(job)
    assert first.state is JobState.SUCCEEDED and second.state is JobState.SUCCEEDED
    assert third.state is JobState.FAILED and "stopped responding" in third.error_message
    assert _count(sql, EcgReport) == 2

    # Running a finished job again (e.g. a worker that came back) never makes a second report.
    first.state = JobState.RUNNING
    sql.commit()
    storage_dir = app.config["SETTINGS"].storage_dir
    state = jobs.run(app.extensions["db_sessionmaker"], first.id, storage_dir=storage_dir)
    assert state is JobState.SUCCEEDED
    assert _count(sql, EcgReport) == 2


def test_an_integrity_error_that_is_not_a_duplicate_report_fails_the_job(
    app: Flask, people: People, sql: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only "this job already has its report" counts as done; any other constraint is a
    failure that keeps the upload and allows a retry."""
    staff = client_for(app, people.staff)
    _upload(staff, people.patient.id, [(_csv_bytes(tmp_path), "ecg.csv")])

    def violates_another_constraint(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise IntegrityError("INSERT INTO risk_score ...", {}, Exception("CHECK failed"))

    monkeypatch.setattr(jobs, "_write_report", violates_another_constraint)
    Worker(app).run_pending()
    job = sql.scalar(select(AnalysisJob))
    sql.refresh(job)
    assert job.state is JobState.FAILED and "internal error" in job.error_message
    assert _count(sql, EcgReport) == 0


def test_domain_errors_answer_with_their_page_and_status(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """One handler (portal/errors.py) for every domain error: a refused retry is a 409 page
    with the reason; a machine read that cannot be read is said in words, not a bare 500."""
    report = _analysed_report(app, people, sql, tmp_path)
    staff = client_for(app, people.staff)
    refused = post_form(
        staff, f"/jobs/{report.job_id}/retry", {}, token_page=f"/jobs/{report.job_id}"
    )
    assert refused.status_code == 409
    assert "Only a failed analysis can be retried." in refused.get_data(as_text=True)

    machine = report.versions[0]
    newer = {**machine.analysis, "schema_version": 99}  # written by a newer portal
    table = ReportVersion.__table__
    sql.execute(table.update().where(table.c.id == machine.id).values(analysis=newer))
    sql.commit()
    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}")
    assert page.status_code == 500
    assert "cannot be shown by this version of the portal" in page.get_data(as_text=True)
    assert doctor.get(f"/reports/{report.id + 1000}").status_code == 404


def test_two_doctors_signing_at_once_one_wins(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    make = app.extensions["db_sessionmaker"]
    read = reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Normal.")
    with make() as first, make() as second:
        a = first.get(EcgReport, report.id)
        b = second.get(EcgReport, report.id)
        assert len(a.versions) == len(b.versions) == 1  # both have the page open
        doctor_a = first.get(type(people.doctor), people.doctor.id)
        doctor_b = second.get(type(people.doctor), people.doctor.id)
        opened_at = a.row_version
        reports.sign(
            first, a, actor=doctor_a, password=PASSWORD, expected_row_version=opened_at, read=read
        )
        first.commit()
        with pytest.raises(reports.SigningConflict):
            other_read = reports.PhysicianRead("AF", ["AF"], "AF.")
            reports.sign(
                second, b, actor=doctor_b, password=PASSWORD, expected_row_version=opened_at,
                read=other_read,
            )  # fmt: skip
            second.commit()
    sql.expire_all()
    versions = sql.scalars(select(ReportVersion).where(ReportVersion.report_id == report.id)).all()
    assert [v.conclusion for v in versions] == [versions[0].conclusion, "Normal."]

    # The same through the web: a stale form gets a clear conflict message, not a 500.
    doctor = client_for(app, people.doctor)
    stale = {"rhythm_label": "AF", "conclusion": "AF.", "password": PASSWORD,
             "row_version": str(opened_at)}  # fmt: skip
    late = post_form(
        doctor, f"/reports/{report.id}/sign", stale, token_page=f"/reports/{report.id}"
    )
    assert late.status_code == 409
    page = late.get_data(as_text=True)
    # The same doctor in another tab is told so, not "Another doctor signed" (an audit).
    assert "Redirecting" not in page
    assert "You signed this report already, in another window or tab" in page
    # ... and the read typed there is kept in the amend form (it had to be typed again).
    assert "Your read is kept in the amend form below." in page
    # Said atop the sign section the page opens at, focused (`#sign-errors`): at the page's
    # top, 2,900 px above, a doctor took their kept read for a signed one (a browser audit).
    sign_section = page[page.index('id="sign"') :]
    assert sign_section.index('id="sign-errors"') < sign_section.index("Your read is kept in")
    assert "<strong>Not signed.</strong>" in sign_section
    amend_form = page[page.index(f'action="/reports/{report.id}/amend#sign"') :]
    assert re.search(r"<textarea[^>]*conclusion[^>]*>\s*AF\.</textarea>", amend_form)
    # ... and can be sent: it carries the version that stands now (it had kept the stale one,
    # and every try answered "You amended this report already"; an audit).
    kept_version = re.search(r'name="row_version" type="hidden" value="(\d+)"', amend_form)
    assert kept_version is not None
    sql.expire_all()
    assert int(kept_version.group(1)) == sql.get(EcgReport, report.id).row_version
    # It says what it would change in the version that now stands, and is signed in its place
    # only when the doctor ticks that they have read that version: a working-day audit's kept
    # read withdrew a colleague's Long QT and QT unseen.
    said = " ".join(html.unescape(page).split())
    assert (
        "Signed as it is, your kept read would replace version 2, which now stands: it would "
        'withdraw Sinus rhythm; rhythm line "Sinus rhythm" -> "AF"; another conclusion.'
    ) in said
    kept_over = re.search(r'name="kept_over" type="hidden" value="(\d+)"', amend_form)
    assert kept_over is not None and kept_over.group(1) == "2"
    resent = {**stale, "findings": ["AF"], "row_version": kept_version.group(1),
              "reason": "AF on the strip.", "kept_over": "2"}  # fmt: skip
    unticked = post_form(doctor, f"/reports/{report.id}/amend", resent,
                         token_page=f"/reports/{report.id}")  # fmt: skip
    assert unticked.status_code == 400
    assert "your kept read would replace version 2" in html.unescape(
        unticked.get_data(as_text=True)
    )
    sent = post_form(doctor, f"/reports/{report.id}/amend", {**resent, "replaces_seen": "y"},
                     token_page=f"/reports/{report.id}")  # fmt: skip
    assert sent.status_code == 302, sent.get_data(as_text=True)[:300]
    assert "signed" in doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    sql.expire_all()
    with pytest.raises(reports.SigningConflict) as other:
        reports.sign(sql, sql.get(EcgReport, report.id), actor=people.other_doctor,
                     password=PASSWORD, expected_row_version=opened_at, read=read)  # fmt: skip
    assert str(other.value).startswith(f"{people.doctor.display_name} signed or changed")


def test_reference_library_record_shows_agreement_with_annotations(
    app: Flask, people: People, sql: Session
) -> None:
    from ml.research.databases import default_data_dir

    app.config["SETTINGS"].mitdb_dir = default_data_dir()
    staff = client_for(app, people.staff)
    page = staff.get(f"/patients/{people.patient.id}/recordings/new").get_data(as_text=True)
    assert "Reference library" in page and '<option value="100">' in page
    picked = post_form(staff, f"/patients/{people.patient.id}/recordings/library",
                       {"library-record": "100"},
                       token_page=f"/patients/{people.patient.id}/recordings/new")  # fmt: skip
    assert picked.status_code == 302 and "/jobs/" in picked.location
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    assert report.recording.reference_record == "100"
    reference = report.versions[0].analysis["reference"]
    assert reference["reference_beats"] == 2273
    assert reference["matched_beats"] >= 2265
    assert reference["per_class"]["N"]["agreement"] > 0.95
    doctor = client_for(app, people.doctor)
    review = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Agreement with the MIT-BIH annotations (record 100)" in review
    agreed = sum(c["agreed"] for c in reference["per_class"].values())
    mismatches = reference["mismatches"]["t_s"]
    assert len(mismatches) == reference["matched_beats"] - agreed  # every disagreement is kept
    assert reference["overall_agreement"] == round(agreed / reference["matched_beats"], 4)
    for when in mismatches[:3]:  # and each one is served with the chart window around it
        window = doctor.get(f"/reports/{report.id}/ecg.json?start_s={when - 1}&end_s={when + 1}")
        assert when in window.get_json()["mismatches"]["t_s"]
    unknown = post_form(staff, f"/patients/{people.patient.id}/recordings/library",
                        {"library-record": "../etc/passwd"},
                        token_page=f"/patients/{people.patient.id}/recordings/new")  # fmt: skip
    assert unknown.status_code == 302 and sql.scalar(select(func.count(EcgRecording.id))) == 1


def test_one_file_is_never_both_the_patients_own_ecg_and_a_reference_record(
    app: Flask, people: People, sql: Session
) -> None:
    """Picked from the library after staff had uploaded the same files as the patient's own,
    MIT-BIH 101 opened that unlabelled copy, which a signature releases to the patient as
    their ECG (an integration audit). Now refused with the reason, either way round."""
    from ml.research.databases import default_data_dir

    folder = default_data_dir()
    app.config["SETTINGS"].mitdb_dir = folder
    staff = client_for(app, people.staff)
    files = [((folder / f"101.{ext}").read_bytes(), f"101.{ext}") for ext in ("hea", "dat")]
    assert _upload(staff, people.patient.id, files).status_code == 302
    new_page = f"/patients/{people.patient.id}/recordings/new"
    picked = post_form(staff, f"/patients/{people.patient.id}/recordings/library",
                       {"library-record": "101"}, token_page=new_page)  # fmt: skip
    assert picked.status_code == 302 and "/jobs/" not in picked.location
    said = staff.get(picked.location).get_data(as_text=True)
    assert "This patient already has this file as their own ECG" in html.unescape(said)
    assert _count(sql, EcgRecording) == 1
    assert sql.scalar(select(EcgRecording)).reference_record is None

    # The other way round, for another patient: the library's record first, then the file.
    other = people.other_patient.id
    picked = post_form(staff, f"/patients/{other}/recordings/library",
                       {"library-record": "101"},
                       token_page=f"/patients/{other}/recordings/new")  # fmt: skip
    assert "/jobs/" in picked.location
    refused = _upload(staff, other, files)
    assert refused.status_code == 422  # the upload form again, its message beside the files
    assert "is the reference-library record 101 attached to this patient" in html.unescape(
        refused.get_data(as_text=True)
    )
    assert _count(sql, EcgRecording) == 2


def _analysed_library_record(app: Flask, people: People, sql: Session, name: str) -> EcgReport:
    """MIT-BIH record `name` picked by staff from the reference library, analysed."""
    from ml.research.databases import default_data_dir

    app.config["SETTINGS"].mitdb_dir = default_data_dir()
    staff = client_for(app, people.staff)
    post_form(staff, f"/patients/{people.patient.id}/recordings/library",
              {"library-record": name},
              token_page=f"/patients/{people.patient.id}/recordings/new")  # fmt: skip
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    assert report is not None
    return report


def test_the_review_page_says_why_hrv_is_not_measurable(
    app: Flask, people: People, sql: Session
) -> None:
    """MIT-BIH 232 (mostly atrial premature beats): HRV is withheld, and the page says why."""
    report = _analysed_library_record(app, people, sql, "232")
    rate = report.versions[0].analysis["heart_rate"]
    assert rate["sdnn_ms"] is None and rate["hrv_reason"].startswith("frequent ectopic")
    review = client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(as_text=True)
    assert f"HRV not measurable ({rate['hrv_reason']})" in review


def test_a_signed_reference_record_never_reaches_the_patient(
    app: Flask, people: People, sql: Session
) -> None:
    report = _analysed_library_record(app, people, sql, "100")
    doctor = client_for(app, people.doctor)
    signed = post_form(doctor, f"/reports/{report.id}/sign",
                       {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
                        "conclusion": "Teaching record.", "password": PASSWORD,
                        "row_version": str(report.row_version)},
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302
    sql.expire_all()
    assert sql.get(EcgReport, report.id).status is ReportStatus.FINAL
    patient = client_for(app, people.patient_account)
    listing = patient.get("/my/reports").get_data(as_text=True)
    assert f"/my/reports/{report.id}/" not in listing
    assert patient.get(f"/my/reports/{report.id}/summary.pdf").status_code == 404


def test_edf_upload_and_serial_comparison_with_the_previous_signed_ecg(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    from ml.research.synthetic import BeatTruth, synthetic_recording
    from tests.support.ecg_files import write_edf

    staff = client_for(app, people.staff)
    doctor = client_for(app, people.doctor)
    for n, hr in enumerate((60, 100)):
        recording, _ = synthetic_recording(
            BeatTruth(hr_bpm=hr), duration_s=30, fs_hz=256, leads=("I", "II", "III"), seed=n
        )
        path = write_edf(tmp_path / f"ecg{n}.edf", recording)
        assert (
            _upload(staff, people.patient.id, [(path.read_bytes(), path.name)]).status_code == 302
        )
        Worker(app).run_pending()
        report = sql.scalars(select(EcgReport).order_by(EcgReport.id.desc())).first()
        assert report.recording.file_format.value == "edf"
        if n == 0:
            signed = post_form(
                doctor, f"/reports/{report.id}/sign",
                {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "conclusion": "Normal.",
                 "password": PASSWORD, "row_version": str(report.row_version)},
                token_page=f"/reports/{report.id}",
            )  # fmt: skip
            assert signed.status_code == 302
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Previous (" in page  # the first, signed ECG, side by side
    assert 'class="changed"' in page  # heart rate 60 -> 100 bpm is highlighted
    # ... and said in words, not by colour alone (WCAG 1.4.1; an accessibility audit)
    assert '<span class="change-mark">(changed since the previous signed ECG)</span>' in page


CINC2017 = data_root() / "cinc2017"


@pytest.mark.skipif(
    not (CINC2017 / "A00001.hea").is_file(), reason="no local PhysioNet/CinC 2017 copy"
)
def test_cinc2017_header_and_mat_upload_is_read_and_analysed(
    app: Flask, people: People, sql: Session
) -> None:
    """The form takes a .mat beside its .hea (format 16+24, checksum 0 in the header)."""
    staff = client_for(app, people.staff)
    files = [(p.read_bytes(), p.name) for p in (CINC2017 / "A00001.hea", CINC2017 / "A00001.mat")]
    response = _upload(staff, people.patient.id, files)
    assert response.status_code == 302 and "/jobs/" in response.location
    recording = sql.scalar(select(EcgRecording))
    assert recording.file_format.value == "wfdb" and recording.lead_names == ["ECG"]
    assert recording.sampling_rate_hz == 300 and recording.n_samples == 9000
    assert sorted(p.name for p in _stored_files(app)) == ["A00001.hea", "A00001.mat"]
    assert Worker(app).run_pending() == 1
    job = sql.scalar(select(AnalysisJob))
    sql.refresh(job)
    assert job.state is JobState.SUCCEEDED, job.error_message


def _lying_uploads(tmp_path: Path) -> list[tuple[str, list[tuple[bytes, str]], str]]:
    digital = np.round(synthetic(10, 300, leads=("II",)).signal_mv[:, 0] * 1000).astype(int)
    cases = {
        "rate -360": ("rec 1 -360 3000", None, "sampling rate of -360 Hz, which is impossible"),
        "rate nan": ("rec 1 nan 3000", None, "sampling rate of nan Hz, which is impossible"),
        "gain 0": (None, "rec.mat 16+24 0/mV 16 0 0 0 0 ECG", "the amplitude is uncalibrated"),
        "more samples than the file": ("rec 1 300 6000", None, "rec.mat is truncated"),
    }
    uploads = []
    for label, (record_line, signal_line, words) in cases.items():
        folder = tmp_path / label.replace(" ", "-")
        folder.mkdir()
        files = write_mat_record(folder, digital, record_line=record_line, signal_line=signal_line)
        uploads.append((label, [(p.read_bytes(), p.name) for p in files], words))
    mat = next(content for content, name in uploads[0][1] if name == "rec.mat")
    uploads.append(("a .mat alone", [(mat, "rec.mat")], "Upload rec.hea together with rec.mat"))
    return uploads


def test_a_lying_wfdb_header_upload_is_refused_clearly_and_leaves_nothing(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    for label, files, words in _lying_uploads(tmp_path):
        response = _upload(staff, people.patient.id, files)
        assert response.status_code == 422, label  # the form again with its message
        messages = " ".join(error_messages(response.get_data(as_text=True)))
        assert words in messages, (label, messages)
        assert _count(sql, EcgRecording) == 0 and _count(sql, AnalysisJob) == 0, label
        assert _stored_files(app) == [], label


def test_the_worklist_follows_the_signed_read_and_says_why(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)  # a normal machine read
    # unsigned, in the machine's words: nobody has signed a "Normal ECG" (a 12-lead audit)
    assert report.main_finding == "NORMAL"
    doctor_client = client_for(app, people.doctor)
    listing = doctor_client.get("/worklist").get_data(as_text=True)
    assert '<span class="muted small urgency-reason">No significant arrhythmia</span>' in listing
    assert 'urgency-reason">Normal ECG' not in listing
    row = listing[listing.index(f"/reports/{report.id}") :]
    assert "Normal ECG" not in row[: row.index("</tr>")]  # the main finding column too
    assert reports.main_finding_label(report) == "No significant arrhythmia"  # and the API's
    page = doctor_client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "<strong>Findings:</strong> No significant arrhythmia</p>" in page
    make = app.extensions["db_sessionmaker"]
    with make() as session:
        found = session.get(EcgReport, report.id)
        doctor = session.get(type(people.doctor), people.doctor.id)
        vt = reports.PhysicianRead("Sinus rhythm", ["SINUS", "PVC", "VT"], "Runs of VT.")
        reports.sign(session, found, actor=doctor, password=PASSWORD,
                     expected_row_version=found.row_version, read=vt)  # fmt: skip
        session.commit()
        assert (found.main_finding, found.urgency) == ("VT", 0)
        listing = (
            client_for(app, people.doctor).get("/worklist?status=final").get_data(as_text=True)
        )
        assert "Ventricular tachycardia" in listing and "urgency-reason" in listing
        normal = reports.PhysicianRead("Sinus rhythm", ["SINUS"], "VT was artefact.")
        reports.amend(session, found, actor=doctor, password=PASSWORD,
                      expected_row_version=found.row_version, read=normal,
                      reason="Artefact on review of the strip.")  # fmt: skip
        session.commit()
        assert found.main_finding == "SINUS"
        assert found.urgency != 0  # no longer ranked as VT
        assert found.urgency == reports.urgency_of([("SINUS", "low")], list(found.risk_scores))


def test_the_doctor_corrects_measurements_and_the_signed_values_are_the_doctors(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    form = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
            "conclusion": "QT not measurable.", "password": PASSWORD,
            "row_version": str(report.row_version), "heart_rate_bpm": "60", "pr_ms": "170",
            "qrs_ms": "5", "qt_ms": "", "qrs_axis_deg": ""}  # fmt: skip
    absurd = post_form(
        doctor, f"/reports/{report.id}/sign", form, token_page=f"/reports/{report.id}"
    )
    assert absurd.status_code == 400
    assert "Between 40 and 250" in " ".join(error_messages(absurd.get_data(as_text=True)))
    signed = post_form(doctor, f"/reports/{report.id}/sign", form | {"qrs_ms": "96"},
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302
    sql.expire_all()
    version = sql.get(EcgReport, report.id).versions[-1]
    assert (version.heart_rate_bpm, version.pr_ms, version.qrs_ms) == (60, 170, 96)
    assert version.qt_ms is None and version.qtc_bazett_ms is None  # not measurable, no QTc
    assert version.qrs_axis_deg is None
    reform = post_form(doctor, f"/reports/{report.id}/amend",
                       form | {"qrs_ms": "96", "qt_ms": "400", "reason": "QT measured by hand",
                               "row_version": str(sql.get(EcgReport, report.id).row_version)},
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert reform.status_code == 302
    sql.expire_all()
    amended = sql.get(EcgReport, report.id).versions[-1]
    assert amended.qt_ms == 400 and amended.qtc_bazett_ms == pytest.approx(400)  # RR 1 s


def test_signing_the_machines_qt_and_rate_keeps_the_machines_qtc() -> None:
    """The machine corrects QT for the cycle between adjacent normal beats, which frequent
    ectopic beats make longer than the mean rate's (MIT-BIH 232: QT 439 ms, mean 66 bpm,
    cycle 1.24 s, QTc 394): signing its QT and heart rate as the form shows them (rounded)
    keeps its QTc; a QT changed alone is corrected for the machine's cycle (a browser audit:
    433 ms typed as 435 on MIT-BIH 232 signed a QTc 42 ms higher, from the mean rate its
    pauses slow); a heart rate changed, for the doctor's rate."""
    machine = ReportVersion(
        heart_rate_bpm=66.4, pr_ms=219.4, qrs_ms=133.3, qt_ms=438.9,
        qtc_bazett_ms=394.3, qtc_fridericia_ms=408.6, qrs_axis_deg=None,
    )  # fmt: skip
    shown = {"heart_rate_bpm": 66, "pr_ms": 219, "qrs_ms": 133, "qt_ms": 439, "qrs_axis_deg": None}
    kept = reports._signed_measurements(machine, dict(shown))
    assert (kept["qtc_bazett_ms"], kept["qtc_fridericia_ms"]) == (394.3, 408.6)
    assert kept["qt_ms"] == 439 and kept["heart_rate_bpm"] == 66
    cycle_s = (438.9 / 394.3) ** 2  # 1.24 s
    for change, rr_s in (({"heart_rate_bpm": 80}, 0.75), ({"qt_ms": 450}, cycle_s)):
        edited = reports._signed_measurements(machine, shown | change)
        assert edited["qtc_bazett_ms"] == pytest.approx(edited["qt_ms"] / rr_s**0.5)
        assert edited["qtc_fridericia_ms"] == pytest.approx(edited["qt_ms"] / rr_s ** (1 / 3))
    no_qt = reports._signed_measurements(machine, shown | {"qt_ms": None})
    assert no_qt["qtc_bazett_ms"] is None and no_qt["qtc_fridericia_ms"] is None
    # The rate cleared as not measurable, the QT kept: the machine's QTc stands (it had been
    # withdrawn, the PDF saying "QTc not measurable (doctor)"; a consistency audit).
    no_rate = reports._signed_measurements(machine, shown | {"heart_rate_bpm": None})
    assert no_rate["heart_rate_bpm"] is None
    assert (no_rate["qtc_bazett_ms"], no_rate["qtc_fridericia_ms"]) == (394.3, 408.6)


def test_the_doctor_orders_next_steps_and_a_refusal_is_said_by_the_button(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'value="ECHO"' in page and "Echocardiogram" in page
    assert '<optgroup label="Rhythm">' in page and '<optgroup label="Conduction">' in page
    form = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "conclusion": "Normal.",
            "password": PASSWORD, "row_version": str(report.row_version),
            "next_steps": ["SEE_TODAY", "ROUTINE", "ECHO"]}  # fmt: skip
    refused = post_form(
        doctor, f"/reports/{report.id}/sign", form, token_page=f"/reports/{report.id}"
    )
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    summary = text[text.index('id="sign-errors"') : text.index(">Sign report</button>")]
    assert "Choose one of today, within a week or the next routine visit." in summary
    # VT's patient words ask to call today unless the doctor has talked with them: the routine
    # visit beside it had put two deadlines on one page (a review).
    routine_vt = post_form(
        doctor, f"/reports/{report.id}/sign",
        form | {"findings": ["SINUS", "VT"], "next_steps": ["ROUTINE"]},
        token_page=f"/reports/{report.id}",
    )  # fmt: skip
    assert routine_vt.status_code == 400
    assert (
        "The patient's summary of Ventricular tachycardia asks them to call the clinic today "
        "unless you have talked with them"
    ) in " ".join(error_messages(routine_vt.get_data(as_text=True)))
    unknown = post_form(doctor, f"/reports/{report.id}/sign", form | {"next_steps": ["TEA"]},
                        token_page=f"/reports/{report.id}")  # fmt: skip
    assert unknown.status_code == 400, error_messages(unknown.get_data(as_text=True))
    assert "TEA" in " ".join(error_messages(unknown.get_data(as_text=True)))

    chosen = form | {"next_steps": ["HOLTER", "ECHO", "SEE_SOON"],
                     "next_steps_note": "Stop coffee for a week."}  # fmt: skip
    signed = post_form(
        doctor, f"/reports/{report.id}/sign", chosen, token_page=f"/reports/{report.id}"
    )
    assert signed.status_code == 302
    sql.expire_all()
    version = sql.get(EcgReport, report.id).versions[-1]
    assert version.next_steps == ["SEE_SOON", "HOLTER", "ECHO"]  # the table's order
    assert version.next_steps_note == "Stop coffee for a week."


def test_after_signing_the_page_says_whether_the_pdfs_are_ready(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    form = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "conclusion": "Normal.",
            "password": PASSWORD, "row_version": str(report.row_version)}  # fmt: skip
    assert (
        post_form(
            doctor, f"/reports/{report.id}/sign", form, token_page=f"/reports/{report.id}"
        ).status_code
        == 302
    )
    assert doctor.get(f"/reports/{report.id}/documents.json").get_json()["ready"] == {
        "clinician": False,
        "patient": False,
    }
    assert "being prepared" in doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    Worker(app).run_pending()  # the worker renders pending PDFs after jobs
    assert doctor.get(f"/reports/{report.id}/documents.json").get_json()["ready"] == {
        "clinician": True,
        "patient": True,
    }
    assert "PDFs of version 2 ready" in doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    patient = client_for(app, people.patient_account)
    assert patient.get(f"/reports/{report.id}/documents.json").status_code in (403, 404)


def test_a_job_past_its_memory_ceiling_stops_with_a_message_and_keeps_the_upload(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Issue 15: a per-job memory ceiling (JOB_MEMORY_LIMIT_MB). This test process holds
    far more than 1 MB, so a 1-MB ceiling stops the job at its first progress step."""
    staff = client_for(app, people.staff)
    _upload(staff, people.patient.id, [(_csv_bytes(tmp_path), "ecg.csv")])
    app.config["SETTINGS"].job_memory_limit_mb = 1
    Worker(app).run_pending()
    job = sql.scalar(select(AnalysisJob))
    sql.refresh(job)
    assert job.state is JobState.FAILED
    assert "needed more memory than this server allows a job (1 MB)" in job.error_message
    assert _count(sql, EcgReport) == 0 and len(_stored_files(app)) == 1
    app.config["SETTINGS"].job_memory_limit_mb = 6000
    retried = post_form(staff, f"/jobs/{job.id}/retry", {}, token_page=f"/jobs/{job.id}")
    assert retried.status_code == 302
    Worker(app).run_pending()
    sql.refresh(job)
    assert job.state is JobState.SUCCEEDED and _count(sql, EcgReport) == 1


def test_the_review_pages_charts_are_named_for_screen_readers(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The ECG overview, strips and heart-rate trend were unnamed divs Plotly fills (an
    accessibility look at the review page)."""
    import re

    report = _analysed_report(app, people, sql, tmp_path)
    page = client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(as_text=True)
    for chart in ("ecg-overview", "ecg-detail", "hr-trend"):
        tag = re.search(rf'<div id="{chart}"[^>]*>', page)
        assert tag and 'role="figure"' in tag.group(0) and 'aria-label="' in tag.group(0), chart


@pytest.mark.parametrize("qrs_ms", [None, 96.0])
def test_st_levels_are_shown_only_after_a_qrs_end_measured_with_confidence(
    app: Flask, people: People, sql: Session, tmp_path: Path, qrs_ms: float | None
) -> None:
    """A clinician-eye audit read "ST level against the PR segment ... II +0.88" beside "QRS
    not measurable (the QRS found (253 ms) is outside 60-200 ms ...)": 8.8 mm of apparent ST
    elevation read inside the T wave of a QRS whose end was not found."""
    report = _analysed_report(app, people, sql, tmp_path)
    machine = report.versions[0]
    stored = machine.analysis["intervals"]
    reasons = {k: v for k, v in stored.get("not_measurable", {}).items() if k != "qrs"}
    if qrs_ms is None:
        reasons["qrs"] = "the QRS found (253 ms) is outside 60-200 ms"
    intervals = {**stored, "qrs_ms": qrs_ms, "not_measurable": reasons,
                 "confidence": {**stored.get("confidence", {}), "qrs": "high"},
                 "st_mv": {"II": 0.88, "V4": 0.38}}  # fmt: skip
    table = ReportVersion.__table__
    sql.execute(
        table.update()
        .where(table.c.id == machine.id)
        .values(analysis={**machine.analysis, "intervals": intervals})
    )
    sql.commit()
    page = html.unescape(client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(True))
    shown = "ST level against the PR segment, 20 ms after the QRS end (mV): II +0.88"
    withheld = "ST levels not measurable: the QRS end they are read after is not measured"
    assert (shown in page, withheld in page) == ((False, True) if qrs_ms is None else (True, False))
