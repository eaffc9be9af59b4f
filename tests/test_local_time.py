"""TIME_ZONE: every displayed time is the hospital's, with its zone; "recorded" is the file's
own acquisition time (read in that zone), else the report says "uploaded"."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import wfdb
from flask import Flask
from sqlalchemy import select

from portal import create_app
from portal.config import ConfigError, load_settings
from portal.local_time import (
    acquisition_utc,
    day_start_utc,
    shown,
    today_in,
    typed_utc,
    zone_named,
)
from portal.models import ClinicalInput, EcgRecording, EcgReport, Patient, RiskScore
from portal.services import risk_scores
from portal.worker import Worker
from reports.time_of_day import time_of_day
from tests.conftest import People, client_for, error_messages, make_settings, post_form
from tests.support.ecg_files import synthetic, write_csv

PARIS = zone_named("Europe/Paris")
UPLOADED = dt.datetime(2026, 12, 1, 12, 0)


def test_times_are_shown_in_the_zone_with_its_name() -> None:
    assert shown(dt.datetime(2026, 12, 1, 16, 30), PARIS) == "2026-12-01 17:30 CET"
    assert shown(dt.datetime(2026, 7, 1, 16, 30), PARIS) == "2026-07-01 18:30 CEST"
    assert shown(dt.datetime(2026, 7, 1, 16, 30), zone_named("UTC")) == "2026-07-01 16:30 UTC"
    assert shown(None, PARIS) == "—"
    # A time at the calendar's edge (an old bad row) is shown in UTC, never an overflow.
    assert shown(dt.datetime(1, 1, 1), zone_named("America/New_York")) == "1-01-01 00:00 UTC"
    assert day_start_utc(dt.date(2026, 12, 1), PARIS) == dt.datetime(2026, 11, 30, 23, 0)


def test_a_recorder_clock_is_read_in_the_hospital_zone_and_nonsense_is_dropped() -> None:
    clock = dt.datetime(2026, 11, 30, 8, 15)
    assert acquisition_utc(clock, PARIS, UPLOADED) == dt.datetime(2026, 11, 30, 7, 15)
    assert acquisition_utc(None, PARIS, UPLOADED) is None
    assert acquisition_utc(dt.datetime(1975, 1, 1), PARIS, UPLOADED) is None  # clock never set
    assert acquisition_utc(dt.datetime(2027, 1, 1), PARIS, UPLOADED) is None  # in the future


def test_an_unknown_zone_stops_the_start_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIME_ZONE", "Mars/Olympus_Mons")
    with pytest.raises(ConfigError, match="TIME_ZONE='Mars/Olympus_Mons'"):
        load_settings()


@pytest.fixture
def paris_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    settings = dataclasses.replace(make_settings(database_url, tmp_path), time_zone="Europe/Paris")
    application = create_app(settings, TESTING=True)
    yield application
    application.extensions["db_engine"].dispose()


def _upload(app: Flask, people: People, files: list[tuple[bytes, str]]) -> EcgReport:
    staff = client_for(app, people.staff)
    data = {"files": [(io.BytesIO(content), name) for content, name in files]}
    page = f"/patients/{people.patient.id}/recordings/new"
    response = post_form(staff, page, data, token_page=page, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert Worker(app).run_pending() == 1
    with app.extensions["db_sessionmaker"]() as sql:
        return sql.scalars(select(EcgReport).order_by(EcgReport.id.desc())).first()


def test_report_pages_say_recorded_or_uploaded_in_local_time(
    paris_app: Flask, people: People, tmp_path: Path
) -> None:
    recording = synthetic(duration_s=20.0, fs_hz=360.0, leads=("II", "V1"))
    wfdb.wrsamp(
        "clocked", fs=360, units=["mV", "mV"], sig_name=["II", "V1"], p_signal=recording.signal_mv,
        fmt=["16", "16"], write_dir=str(tmp_path),
        base_time=dt.time(8, 15, 0), base_date=dt.date(2026, 11, 30),
    )  # fmt: skip
    files = [
        ((tmp_path / f"clocked.{ext}").read_bytes(), f"clocked.{ext}") for ext in ("hea", "dat")
    ]
    clocked = _upload(paris_app, people, files)
    with paris_app.extensions["db_sessionmaker"]() as sql:
        row = sql.get(EcgRecording, clocked.recording_id)
        assert row is not None and row.acquired_at == dt.datetime(2026, 11, 30, 7, 15)
    doctor = client_for(paris_app, people.doctor)
    page = doctor.get(f"/reports/{clocked.id}").get_data(as_text=True)
    assert "recorded 2026-11-30 08:15 CET" in page
    # Its episodes on the clock too, beside the time into the recording (a Holter audit).
    assert "<th>Clock time</th><th>From (into the recording; click to show it)</th>" in page
    assert re.search(r"<td>08:15:0\d</td><td><button[^>]*>\d+\.\d s</button></td>", page)
    overview = doctor.get(f"/reports/{clocked.id}/ecg.json?overview=1").get_json()
    assert all(stop["clock"].startswith("08:15:") for stop in overview["stops"])
    # "Go to" a time of day on it: 08:15:12 is 12 s in; 09:00 is not in its 20 s.
    went = doctor.get(f"/reports/{clocked.id}/ecg-time.json?clock=08:15:12").get_json()
    assert went == {"t_s": 12.0, "said": "12.0 s (08:15:12)"}
    missed = doctor.get(f"/reports/{clocked.id}/ecg-time.json?clock=09:00")
    assert missed.status_code == 422
    assert missed.get_json()["error"] == (
        "The recording runs from 08:15:00 to 08:15:20; 09:00:00 is not in it."
    )

    csv = write_csv(tmp_path / "no-clock.csv", recording).read_bytes()
    unclocked = _upload(paris_app, people, [(csv, "no-clock.csv")])
    page = doctor.get(f"/reports/{unclocked.id}").get_data(as_text=True)
    assert " uploaded 20" in page and " CET" in page and "UTC" not in page
    assert "<th>Clock time</th>" not in page  # no start time in the file: none invented
    no_clock = doctor.get(f"/reports/{unclocked.id}/ecg-time.json?clock=08:15")
    assert no_clock.status_code == 422 and "gave no start time" in no_clock.get_json()["error"]
    assert 'id="ecg-go-to-kind"' not in page
    worklist = doctor.get("/worklist").get_data(as_text=True)
    assert "2026-11-30 08:15 CET" in worklist and ">uploaded<" in worklist


def test_go_to_a_time_the_clocks_skipped_says_so_on_the_hospitals_clock(
    database_url: str, people: People, tmp_path: Path
) -> None:
    """A time-zone audit: under TIME_ZONE=Pacific/Auckland "Go to" 02:30 on a recording across
    the night the clocks went forward said it ran "from 23:30:00 to 03:30:33" and that 02:30
    was not in it, an hour that night never had."""
    settings = make_settings(database_url, tmp_path)
    app = create_app(dataclasses.replace(settings, time_zone="Pacific/Auckland"), TESTING=True)
    recording = synthetic(duration_s=20.0, fs_hz=360.0, leads=("II", "V1"))
    wfdb.wrsamp(
        "spring", fs=360, units=["mV", "mV"], sig_name=["II", "V1"], p_signal=recording.signal_mv,
        fmt=["16", "16"], write_dir=str(tmp_path),
        base_time=dt.time(1, 59, 50), base_date=dt.date(2026, 9, 27),
    )  # fmt: skip
    files = [((tmp_path / f"spring.{ext}").read_bytes(), f"spring.{ext}") for ext in ("hea", "dat")]
    try:
        report = _upload(app, people, files)
        doctor = client_for(app, people.doctor)
        missed = doctor.get(f"/reports/{report.id}/ecg-time.json?clock=02:30")
        assert missed.status_code == 422
        assert missed.get_json()["error"] == (
            "02:30 on 27 September 2026 did not exist here (the clocks went forward from 02:00 "
            "to 03:00); the recording runs from 01:59:50 NZST to 03:00:10 NZDT."
        )
        went = doctor.get(f"/reports/{report.id}/ecg-time.json?clock=03:00:05").get_json()
        assert went["t_s"] == 15.0
    finally:
        app.extensions["db_engine"].dispose()


def test_machine_notes_of_a_clocked_recording_say_their_times_are_into_it(
    paris_app: Flask, people: People, tmp_path: Path
) -> None:
    """A words audit: a recording with a start clock listed its notes' bare elapsed times
    ("1:30:27") beside the episodes' clock times ("14:02"). Its notes' heading says they are
    times into the recording; a file without a clock has no clock time to mix them with."""
    recording = synthetic(duration_s=20.0, fs_hz=360.0, leads=("II", "V1"))
    signal = recording.signal_mv.copy()
    signal[5 * 360 : 7 * 360] = np.nan  # 2 s missing: a note with a time in it
    wfdb.wrsamp(
        "gap", fs=360, units=["mV", "mV"], sig_name=["II", "V1"], p_signal=signal,
        fmt=["16", "16"], write_dir=str(tmp_path),
        base_time=dt.time(8, 15, 0), base_date=dt.date(2026, 11, 30),
    )  # fmt: skip
    files = [((tmp_path / f"gap.{ext}").read_bytes(), f"gap.{ext}") for ext in ("hea", "dat")]
    clocked = _upload(paris_app, people, files)
    doctor = client_for(paris_app, people.doctor)
    page = doctor.get(f"/reports/{clocked.id}").get_data(as_text=True)
    heading = 'Machine notes <span class="muted small">(times into the recording, not of day)'
    assert heading in page and "missing from 5.0 s" in page, page[page.find("Machine") :][:600]

    csv = write_csv(
        tmp_path / "no-clock.csv", dataclasses.replace(recording, signal_mv=signal)
    ).read_bytes()
    unclocked = _upload(paris_app, people, [(csv, "no-clock.csv")])
    page = doctor.get(f"/reports/{unclocked.id}").get_data(as_text=True)
    assert "<h3>Machine notes</h3>" in page and "missing from 5.0 s" in page


def test_a_time_typed_on_the_input_form_is_the_hospitals(paris_app: Flask, people: People) -> None:
    """A blood pressure measured at 09:00 in Kolkata was stored as 09:00 UTC: refused as "in
    the future" at 09:10 there, listed as 14:30 (an audit). Typed in Paris in winter (UTC+1),
    08:30 is 07:30 UTC, and the patient page lists it as typed."""
    staff = client_for(paris_app, people.staff)
    url = f"/patients/{people.patient.id}/inputs/new"
    form = {"systolic_bp_mmhg": "141", "recorded_at": "2026-01-15T08:30"}
    assert post_form(staff, url, form).status_code == 302
    with paris_app.extensions["db_sessionmaker"]() as sql:
        row = sql.scalars(select(ClinicalInput).where(ClinicalInput.systolic_bp_mmhg == 141)).one()
        assert row.recorded_at == dt.datetime(2026, 1, 15, 7, 30)
    page = staff.get(f"/patients/{people.patient.id}").get_data(as_text=True)
    assert "2026-01-15 08:30 CET" in page


@pytest.fixture
def auckland_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    settings = make_settings(database_url, tmp_path)
    application = create_app(
        dataclasses.replace(settings, time_zone="Pacific/Auckland"), TESTING=True
    )
    yield application
    application.extensions["db_engine"].dispose()


def test_a_time_the_clocks_skipped_is_refused_and_a_repeated_one_is_the_earlier(
    auckland_app: Flask, people: People
) -> None:
    """02:30 on 27 September 2026 never happened in Auckland (02:00 NZST became 03:00 NZDT):
    it had been saved and listed as "03:30 NZDT" (a bad-input audit). 02:30 on 5 April
    happened twice (NZDT, then NZST): the earlier is kept, and listed with its zone."""
    auckland = zone_named("Pacific/Auckland")
    said = (
        "02:30 on 27 September 2026 did not exist here (the clocks went forward): check the time."
    )
    with pytest.raises(ValueError, match=re.escape(said)):
        typed_utc(dt.datetime(2026, 9, 27, 2, 30), auckland)
    assert typed_utc(dt.datetime(2026, 4, 5, 2, 30), auckland) == dt.datetime(2026, 4, 4, 13, 30)
    staff = client_for(auckland_app, people.staff)
    url = f"/patients/{people.patient.id}/inputs/new"
    form = {"systolic_bp_mmhg": "143", "recorded_at": "2026-09-27T02:30"}
    page = post_form(staff, url, form).get_data(as_text=True)
    assert error_messages(page) == [said] and 'id="recorded_at-error"' in page
    form = {"systolic_bp_mmhg": "144", "recorded_at": "2026-04-05T02:30"}
    assert post_form(staff, url, form).status_code == 302
    with auckland_app.extensions["db_sessionmaker"]() as sql:
        rows = sql.scalars(select(ClinicalInput.recorded_at)).all()
        assert rows == [dt.datetime(2026, 4, 4, 13, 30)]
    patient_page = staff.get(f"/patients/{people.patient.id}").get_data(as_text=True)
    assert "2026-04-05 02:30 NZDT" in patient_page


def test_today_is_the_hospitals_date() -> None:
    """At 23:30 UTC on 5 December it is already the 6th in Paris, and at 03:30 UTC on the
    6th still the 5th in New York: a date of birth of the 6th had been accepted there."""
    late = dt.datetime(2026, 12, 5, 23, 30)
    assert today_in(PARIS, late) == dt.date(2026, 12, 6)
    assert today_in(zone_named("America/New_York"), late + dt.timedelta(hours=4)) == dt.date(
        2026, 12, 5
    )
    assert typed_utc(dt.datetime(2026, 7, 1, 9, 0), zone_named("Asia/Kolkata")) == dt.datetime(
        2026, 7, 1, 3, 30
    )


def test_a_holters_moments_on_the_clock_cross_midnight_and_summer_time() -> None:
    """24 h from 20:00 CET on 28 March 2026: the clocks go forward at 02:00, so 23 h 51 min
    52 s into the recording is 20:51:52 CEST the next day (a Holter audit read the strip
    "Pause at 23:51:52" as a time of day, an hour off besides)."""
    started = dt.datetime(2026, 3, 28, 20, 0, tzinfo=PARIS)
    shown = time_of_day(started, 24 * 3600.0)
    assert shown(0) == "Sat 20:00:00 CET"
    assert shown(23 * 3600 + 51 * 60 + 52) == "Sun 20:51:52 CEST"
    within_a_day = time_of_day(dt.datetime(2026, 1, 15, 8, 0, tzinfo=PARIS), 7200.0)
    assert within_a_day(3661) == "09:01:01"


def test_a_risk_reason_dates_an_entry_by_the_hospitals_calendar(
    paris_app: Flask, people: People
) -> None:
    """A cholesterol typed in Paris for 00:30 on 15 January 2025 (23:30 UTC on the 14th) read
    "last recorded 2025-01-14" in the risk score's reason, beside a patient page listing it on
    the 15th (an audit's "UTC dates in risk reasons")."""
    staff = client_for(paris_app, people.staff)
    url = f"/patients/{people.patient.id}/inputs/new"
    form = {
        "total_cholesterol": "200",
        "cholesterol_unit": "mg/dL",
        "recorded_at": "2025-01-15T00:30",
    }
    assert post_form(staff, url, form).status_code == 302
    assert "2025-01-15 00:30 CET" in staff.get(f"/patients/{people.patient.id}").get_data(
        as_text=True
    )
    as_of = dt.datetime(2026, 6, 1, 12, 0)
    with paris_app.app_context(), paris_app.extensions["db_sessionmaker"]() as sql:
        patient = sql.get(Patient, people.patient.id)
        assert patient is not None
        measured = risk_scores.measured_values(sql, patient.id, as_of)
        reasons = " ".join(
            outcome.not_computed_reason or ""
            for outcome in risk_scores.compute_scores(patient, measured, as_of=as_of)
        )
    assert "Total cholesterol missing (last recorded 2025-01-15, over 12 months before)" in reasons


def test_a_risk_reason_stored_by_the_worker_is_dated_by_the_hospitals_calendar(
    paris_app: Flask, people: People, tmp_path: Path
) -> None:
    """A review: the worker stored its report's risk reasons with UTC's date ("last recorded
    2025-01-14" for a value typed for 00:30 on the 15th in Paris): it ran outside the app's
    context, where `hospital_day` falls back to UTC."""
    staff = client_for(paris_app, people.staff)
    url = f"/patients/{people.patient.id}/inputs/new"
    form = {"systolic_bp_mmhg": "130", "recorded_at": "2025-01-15T00:30"}
    assert post_form(staff, url, form).status_code == 302
    csv = write_csv(tmp_path / "strip.csv", synthetic(duration_s=20.0, fs_hz=250.0))
    report = _upload(paris_app, people, [(csv.read_bytes(), "strip.csv")])
    with paris_app.extensions["db_sessionmaker"]() as sql:
        reasons = " ".join(
            score.not_computed_reason or ""
            for score in sql.scalars(select(RiskScore).where(RiskScore.report_id == report.id))
        )
    assert "last recorded 2025-01-15, over 12 months before" in reasons
    assert "2025-01-14" not in reasons
