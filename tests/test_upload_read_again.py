"""The same CSV uploaded again at another sampling rate (or in other units), on both databases.

An input audit uploaded a CSV at 250 Hz that had been recorded at 360 Hz, then again at 360
Hz: the second upload was taken for a duplicate by its SHA-256 and opened the first read,
every rate, interval and QTc 44 % off. Now it is read again at the new rate while nobody has
signed a read of it (the unsigned read removed, audited), refused naming both rates while its
analysis runs, and refused with what to do once a read is signed."""

from __future__ import annotations

import html
import io
import json
import re
import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ml.recording import Recording
from portal.models import (
    Account,
    AnalysisJob,
    AuditEvent,
    EcgRecording,
    EcgReport,
    Patient,
    RecordingFormat,
    ReportStatus,
    WithdrawnKind,
)  # fmt: skip
from portal.services import entered_in_error, reports
from portal.services.recordings import (
    ReadingChange,
    UploadOptions,
    _reading_change,
    upload_recording,
)
from portal.worker import Worker
from tests.conftest import PASSWORD, People, client_for, csrf_token, error_messages
from tests.support.ecg_files import synthetic, write_csv
from tests.support.races import second_while_first_is_open
from tests.test_api import Api, error_of, issue_on_admin_page, sign
from tests.test_upload_and_review import _upload


def _strip_at_360_hz(tmp_path: Path) -> bytes:
    """30 s at 72 /min, recorded at 360 Hz, in a CSV without a time column."""
    return write_csv(tmp_path / "strip.csv", synthetic(30, 360), with_time=False).read_bytes()


def _machine_rate(sql: Session) -> float:
    sql.expire_all()
    report = sql.scalar(select(EcgReport))
    assert report is not None
    return float(report.versions[0].heart_rate_bpm or 0)


def test_on_the_web_the_right_rate_reads_the_unsigned_recording_again(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    strip = [(_strip_at_360_hz(tmp_path), "strip.csv")]
    assert _upload(staff, people.patient.id, strip, fs_hz="250").status_code == 302

    running = _upload(staff, people.patient.id, strip, fs_hz="360")
    assert running.status_code == 422
    uploaded = f"{sql.scalar(select(EcgRecording.created_at)):%Y-%m-%d}"
    assert (
        f"This file was uploaded on {uploaded} and read at 250 Hz; you gave 360 Hz. Its analysis "
        "is still running: upload it again with 360 Hz once it has finished"
    ) in " ".join(error_messages(running.get_data(as_text=True)))

    assert Worker(app).run_pending() == 1
    assert _machine_rate(sql) == pytest.approx(72 * 250 / 360, abs=2)  # read 44 % slow
    again = _upload(staff, people.patient.id, strip, fs_hz="360")
    assert again.status_code == 302, again.get_data(as_text=True)[:2000]
    page = html.unescape(staff.get(again.location).get_data(as_text=True))
    assert (
        f"This file was uploaded on {uploaded} and read at 250 Hz; you gave 360 Hz. Its unsigned"
        " machine read was removed. It is being read again at 360 Hz."
    ) in page
    sql.expire_all()
    recording = sql.scalar(select(EcgRecording))
    assert recording is not None and recording.sampling_rate_hz == 360
    assert recording.duration_s == pytest.approx(30) and len(recording.jobs) == 2
    assert sql.scalar(select(func.count()).select_from(EcgReport)) == 0
    event = sql.scalar(select(AuditEvent).where(AuditEvent.action == "recording.read_again"))
    assert event is not None and event.details["was"] == "250 Hz"
    assert event.details["now"] == "360 Hz" and len(event.details["removed_report_ids"]) == 1

    assert Worker(app).run_pending() == 1
    assert _machine_rate(sql) == pytest.approx(72, abs=2)


def test_through_the_api_a_read_again_is_said_and_a_signed_read_is_not_replaced(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    secret = issue_on_admin_page(
        client_for(app, people.admin), people.staff.username, ["recordings:write"]
    )
    api = Api(app, secret)
    strip = [(_strip_at_360_hz(tmp_path), "strip.csv")]
    first = api.upload(people.patient.id, strip, fs_hz="250")
    assert first.status_code == 201 and first.get_json()["read_again"] is None
    assert Worker(app).run_pending() == 1

    again = api.upload(people.patient.id, strip, fs_hz="360")
    assert again.status_code == 200, again.get_json()
    body = again.get_json()
    assert body["duplicate"] and body["recording"]["sampling_rate_hz"] == 360
    assert body["job"]["id"] != first.get_json()["job"]["id"]
    assert body["read_again"].endswith(
        "read at 250 Hz; you gave 360 Hz. Its unsigned machine read was removed. It is being "
        "read again at 360 Hz."
    )
    assert Worker(app).run_pending() == 1
    report_id = sql.scalar(select(EcgReport.id))
    assert report_id is not None
    sign(sql, report_id, people)

    refused = error_of(api.upload(people.patient.id, strip, fs_hz="250"), 422)
    assert refused["field"] == "fs_hz"
    assert "read at 360 Hz; you gave 250 Hz. Its report is signed" in refused["message"]
    assert (
        'its review page, "Withdraw as entered in error", "This patient\'s ECG, read wrongly"'
        in refused["message"]
    )
    sql.expire_all()
    assert sql.scalar(select(EcgRecording.sampling_rate_hz)) == 360
    assert sql.scalar(select(func.count()).select_from(EcgReport)) == 1
    same = api.upload(people.patient.id, strip, fs_hz="360")
    assert same.status_code == 200 and same.get_json()["read_again"] is None

    # Withdrawn as entered in error, as the refusal says: the upload then reads it again,
    # and the withdrawn report stays for the record.
    signed = sql.get(EcgReport, report_id)
    assert signed is not None
    entered_in_error.withdraw(
        sql, signed, "Read at the wrong sampling rate", kind=WithdrawnKind.MISREAD,
        actor=people.doctor, password=PASSWORD, expected_row_version=signed.row_version,
    )  # fmt: skip
    sql.commit()
    after = api.upload(people.patient.id, strip, fs_hz="250")
    assert (
        after.status_code == 200
        and "It is being read again at 250 Hz." in (after.get_json()["read_again"])
    )
    sql.expire_all()
    kept = sql.scalars(select(EcgReport.status)).all()
    assert kept == [ReportStatus.ENTERED_IN_ERROR]
    # The withdrawn report keeps the reading it was made at: its page and chart had drawn the
    # file at 250 Hz under its 360-Hz beats (a review, 2026-12-07).
    withdrawn = sql.get(EcgReport, report_id)
    assert withdrawn is not None and (withdrawn.read_at_hz, withdrawn.reading_hz) == (360, 360)
    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report_id}").get_data(as_text=True))
    assert "360 Hz · 30 s" in " ".join(page.split())
    # ... and its calipers count samples at that rate (they said "... samples at 250 Hz").
    assert 'data-fs-hz="360"' in page
    assert (
        "it is a wrong read of this patient's ECG (a wrong sampling rate or units given at "
        "upload), not a true record of it" in page
    )
    overview = doctor.get(f"/reports/{report_id}/ecg.json?overview=1").get_json()
    assert overview["duration_s"] == pytest.approx(30)
    # The patient is told the truth of it: their own ECG, read with a wrong setting.
    patient = client_for(app, people.patient_account)
    mine = " ".join(html.unescape(patient.get("/my/reports").get_data(as_text=True)).split())
    assert "it was read with a wrong setting, so its figures were not right" in mine
    assert "not about your heart" not in mine
    access = html.unescape(patient.get("/my/access").get_data(as_text=True))
    assert "withdrew a result read with a wrong setting" in access


def test_a_result_withdrawn_as_read_wrongly_points_at_its_new_read_once_that_is_theirs(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient's side: a CSV read at 250 Hz, signed, withdrawn as read
    wrongly, uploaded again at 360 Hz and signed. Both results carry the recording's date, and
    the notice said a new result "appears here" if the tracing "is read again" beside it, then
    "Please disregard it" of the date the new, valid result is listed under."""
    staff = client_for(app, people.staff)
    strip = [(_strip_at_360_hz(tmp_path), "strip.csv")]
    assert _upload(staff, people.patient.id, strip, fs_hz="250").status_code == 302
    assert Worker(app).run_pending() == 1
    signed = sql.scalar(select(EcgReport))
    assert signed is not None
    first_id = signed.id
    cleared: dict[str, float | None] = dict.fromkeys(("heart_rate_bpm", "pr_ms", "qrs_ms", "qt_ms"))
    reports.sign(
        sql,
        signed,
        actor=people.doctor,
        password=PASSWORD,
        expected_row_version=signed.row_version,
        read=reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Read.", measurements=cleared),
    )  # the misread strip's rate and QT as not measurable: read 44 % slow, they contradict it
    sql.commit()
    entered_in_error.withdraw(
        sql, signed, "Read at the wrong sampling rate", kind=WithdrawnKind.MISREAD,
        actor=people.doctor, password=PASSWORD, expected_row_version=signed.row_version,
    )  # fmt: skip
    sql.commit()
    assert _upload(staff, people.patient.id, strip, fs_hz="360").status_code == 302
    assert Worker(app).run_pending() == 1
    patient = client_for(app, people.patient_account)

    def mine() -> str:
        return " ".join(html.unescape(patient.get("/my/reports").get_data(as_text=True)).split())

    promised = "if your tracing is read again, the new result appears here once a doctor"
    unsigned = mine()  # the new read is not signed yet: as before
    assert promised in unsigned and "Please disregard it. If you have questions" in unsigned
    new_id = sql.scalar(select(EcgReport.id).where(EcgReport.id != first_id))
    assert new_id is not None
    sign(sql, new_id, people)
    listed = mine()
    assert f"/my/reports/{new_id}/summary.pdf" in listed
    [date] = set(re.findall(r"received (\d+ December \d{4}, \d\d:\d\d)\) was removed", listed))
    assert promised not in listed
    assert (
        "it was read with a wrong setting, so its figures were not right. Your tracing was read "
        f"again with the right setting: the new result, listed below under {date}, replaces it."
    ) in listed
    assert "Please disregard it and go by the new result below." in listed


def test_a_read_typed_while_staff_read_the_recording_again_is_given_back(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A doctor pressing Sign after staff uploaded the file again at another rate, its unsigned
    read removed, had met a bare 404, their typed read lost (a write-path audit, 2026-12-07):
    a 409 "Not signed" page saying the report was removed and read again, with their typing."""
    staff = client_for(app, people.staff)
    strip = [(_strip_at_360_hz(tmp_path), "strip.csv")]
    assert _upload(staff, people.patient.id, strip, fs_hz="250").status_code == 302
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    assert report is not None
    doctor = client_for(app, people.doctor)
    page = f"/reports/{report.id}"
    token = csrf_token(doctor, page)  # the doctor opens it, and types
    assert _upload(staff, people.patient.id, strip, fs_hz="360").status_code == 302
    typed = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
             "conclusion": "Sinus rhythm; my own words.", "password": PASSWORD,
             "row_version": str(report.row_version), "csrf_token": token}  # fmt: skip
    answer = doctor.post(f"{page}/sign", data=typed)
    text = " ".join(html.unescape(answer.get_data(as_text=True)).split())
    assert answer.status_code == 409, text[:800]
    assert "Not signed: this report was removed at " in text
    assert (
        "while you were reviewing: staff uploaded its recording again, and it is being read "
        "again at 360 Hz; its new report comes to the worklist when it is ready. Nothing was "
        "saved; your read is below to copy."
    ) in text
    assert "Sinus rhythm; my own words." in text
    # A doctor who never opened it learns nothing of it: the plain 404.
    other = client_for(app, people.other_doctor)
    theirs = typed | {"csrf_token": csrf_token(other, "/account/password")}
    assert other.post(f"{page}/sign", data=theirs).status_code == 404


def test_a_signature_sent_with_a_read_again_is_one_or_the_other_never_a_500(
    app: Flask, people: People, sql: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign and the staff's upload at another rate sent together had answered 500 on both
    databases (a write-path audit, 2026-12-07: `report.versions[0]` empty on SQLite, a
    StaleDataError on MariaDB): both lock the report's row. The read-again first, between the
    signature's load of the report and its lock: the doctor is told why, their read kept; the
    signature first, holding its lock: the read-again waits and is refused as signed."""
    staff = client_for(app, people.staff)
    strip = [(_strip_at_360_hz(tmp_path), "strip.csv")]
    assert _upload(staff, people.patient.id, strip, fs_hz="250").status_code == 302
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    assert report is not None
    doctor = client_for(app, people.doctor)
    page = f"/reports/{report.id}"
    token = csrf_token(doctor, page)
    typed = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
             "conclusion": "Sinus rhythm; my own words.", "password": PASSWORD,
             "row_version": str(report.row_version), "csrf_token": token}  # fmt: skip
    checked = reports._check_password
    answered: list[int] = []

    def read_again_meanwhile(actor: Account, password: str) -> None:
        checked(actor, password)
        staff_request = threading.Thread(  # a request of its own, not inside the doctor's
            target=lambda: answered.append(
                _upload(staff, people.patient.id, strip, fs_hz="360").status_code
            )
        )
        staff_request.start()
        staff_request.join(timeout=60)

    monkeypatch.setattr(reports, "_check_password", read_again_meanwhile)
    answer = doctor.post(f"{page}/sign", data=typed)
    monkeypatch.undo()
    assert answered == [302]
    text = " ".join(html.unescape(answer.get_data(as_text=True)).split())
    assert answer.status_code == 409, text[:800]
    assert "it is being read again at 360 Hz" in text and "Sinus rhythm; my own words." in text
    sql.expire_all()
    assert sql.scalar(select(func.count()).select_from(EcgReport)) == 0

    assert Worker(app).run_pending() == 1  # its new read, signed first this time
    new = sql.scalar(select(EcgReport))
    assert new is not None
    first = app.extensions["db_sessionmaker"]()
    signing = first.get(EcgReport, new.id)
    reports.sign(
        first, signing, actor=first.get(Account, people.doctor.id), password=PASSWORD,
        expected_row_version=signing.row_version,
        read=reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Read."),
    )  # fmt: skip
    first.flush()  # signed, not committed

    def read_again(_own: Session) -> str:
        refused = _upload(staff, people.patient.id, strip, fs_hz="250")
        return f"{refused.status_code} {' '.join(error_messages(refused.get_data(as_text=True)))}"

    said, waited = second_while_first_is_open(sql.get_bind(), first, read_again, wait_s=1.5)
    assert waited and said.startswith("422 "), said
    assert "read at 360 Hz; you gave 250 Hz. Its report is signed" in said
    sql.expire_all()
    assert sql.scalar(select(EcgReport.status)) is ReportStatus.FINAL
    assert sql.scalar(select(EcgRecording.sampling_rate_hz)) == 360


def test_a_read_again_sent_twice_at_once_is_one_read_again_never_said_signed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The same read-again sent twice together (a write-path audit, 2026-12-07): on MariaDB
    the second, reading its snapshot of the recording from before the first committed, had
    answered 422 'Its report is signed' though nothing was. It waits for the first and reads
    the recording as committed: already at 360 Hz, the plain duplicate of the first's job."""
    secret = issue_on_admin_page(
        client_for(app, people.admin), people.staff.username, ["recordings:write"]
    )
    api = Api(app, secret)
    strip = [(_strip_at_360_hz(tmp_path), "strip.csv")]
    assert api.upload(people.patient.id, strip, fs_hz="250").status_code == 201
    assert Worker(app).run_pending() == 1

    first = app.extensions["db_sessionmaker"]()
    settings = app.config["SETTINGS"]
    outcome = upload_recording(
        first, first.get(Patient, people.patient.id), [("strip.csv", io.BytesIO(strip[0][0]))],
        actor=first.get(Account, people.staff.id), storage_dir=settings.storage_dir,
        options=UploadOptions(fs_hz=360),
    )  # fmt: skip
    assert outcome.read_again is not None
    first.flush()  # read again at 360 Hz, not committed
    first_job_id = outcome.job.id

    def read_again_too(_own: Session) -> str:
        answer = api.upload(people.patient.id, strip, fs_hz="360")
        return f"{answer.status_code} {answer.get_data(as_text=True)}"

    said, _ = second_while_first_is_open(sql.get_bind(), first, read_again_too, wait_s=1.5)
    assert "Its report is signed" not in said
    status, body = said.split(" ", 1)
    assert status == "200", said[:600]
    answer = json.loads(body)
    assert answer["duplicate"] and answer["read_again"] is None
    assert answer["job"]["id"] == first_job_id
    assert answer["recording"]["sampling_rate_hz"] == 360
    sql.expire_all()
    assert sql.scalar(select(func.count()).select_from(AnalysisJob)) == 2


def test_other_units_are_a_change_of_reading_too() -> None:
    """Units left empty are millivolts, as the reader takes them; a WFDB or EDF file's rate
    and units are its own, whatever the form says."""
    existing = EcgRecording(
        file_format=RecordingFormat.CSV, sampling_rate_hz=360.0, declared_units=None
    )
    read = Recording(fs_hz=360.0, lead_names=("II",), signal_mv=synthetic(10, 360).signal_mv[:, :1])
    assert _reading_change(existing, read, UploadOptions(fs_hz=360, units="mV")) is None
    assert _reading_change(existing, read, UploadOptions(fs_hz=360, units="uV")) == (
        ReadingChange(field="units", was="360 Hz in mV", now="360 Hz in uV")
    )
    existing.file_format = RecordingFormat.WFDB
    assert _reading_change(existing, read, UploadOptions(units="uV")) is None


def test_a_report_is_read_as_episodes_at_the_length_its_read_was_made_at() -> None:
    """A review: 21,600 samples read at 250 Hz (86.4 s, read as episodes), withdrawn and read
    again at 360 Hz (60 s, a strip): the withdrawn report's FHIR time and PDF facts followed the
    recording's new length (`reports.read_as_episodes` read the recording's)."""
    from portal.services.reports import read_as_episodes

    recording = EcgRecording(n_samples=21_600, sampling_rate_hz=360.0, duration_s=60.0)
    withdrawn = EcgReport(recording=recording, read_at_hz=250.0)
    assert withdrawn.reading_duration_s == pytest.approx(86.4) and read_as_episodes(withdrawn)
    assert not read_as_episodes(EcgReport(recording=recording))


def test_a_withdrawn_reports_fhir_period_is_its_own_readings() -> None:
    """An audit: 14,400 samples read at 180 Hz (80 s, episodes), withdrawn and read again at
    360 Hz (40 s): `DiagnosticReport/<old id>` ended its effectivePeriod at 40 s, from the
    recording's current duration (`http.effective`)."""
    import datetime as dt

    from portal.fhir.http import effective

    recording = EcgRecording(n_samples=14_400, sampling_rate_hz=360.0, duration_s=40.0)
    recording.acquired_at = dt.datetime(2026, 12, 7, 9, 0, 0)  # its own clock's start
    start = dt.datetime(2026, 12, 7, 9, 0, 0)
    withdrawn = EcgReport(recording=recording, read_at_hz=180.0, report_date=start)
    assert effective(withdrawn) == {
        "effectivePeriod": {
            "start": "2026-12-07T09:00:00+00:00",
            "end": "2026-12-07T09:01:20+00:00",
        }
    }
    recording.acquired_at = None  # a CSV: no clock, so it ended by its upload at 09:00
    assert effective(withdrawn)["effectivePeriod"] == {
        "start": "2026-12-07T08:58:40+00:00",
        "end": "2026-12-07T09:00:00+00:00",
    }
