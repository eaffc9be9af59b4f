"""The clinician PDF marks an interval "low confidence" only where it shows the machine's own
value: a QT the doctor remeasured by hand is theirs. A clinician-eye audit amended a QT to
352 ms ("remeasured on V1 with calipers") and page 1 said "QT 352 ms / low confidence", the
machine's opinion of its own 319 ms. The review page, REST (`low_confidence`) and FHIR (a
note) say it where the PDF does (a browser audit, 2026-12-07)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml.research.synthetic import BeatTruth, synthetic_recording
from portal.models import EcgReport, ReportVersion
from portal.services import documents, reports
from portal.worker import Worker
from tests.conftest import People, bearer_token, client_for, sign_report
from tests.support.ecg_files import synthetic, write_csv
from tests.support.pdf_text import pdf_words
from tests.test_upload_and_review import _upload


def _brady_strip_report(app: Flask, people: People, sql: Session, tmp_path: Path) -> EcgReport:
    """Ten seconds of one lead at 50 bpm, uploaded and analysed: 7 beats, every interval of
    low confidence."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=50), duration_s=10, fs_hz=250,
                                       leads=("II",))  # fmt: skip
    path = write_csv(tmp_path / "brady.csv", recording)
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, [(path.read_bytes(), path.name)]).status_code == 302
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    assert report is not None
    return report


def test_only_the_machines_own_values_carry_its_confidence(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _brady_strip_report(app, people, sql, tmp_path)
    machine = report.versions[0]
    assert machine.qt_ms is not None and machine.pr_ms is not None
    doctor = client_for(app, people.doctor)
    before = pdf_words(doctor.get(f"/reports/{report.id}/report.pdf").data, tmp_path, "machine")
    # Page 1's measurements row: HR, PR, QRS, QT, QTc Bazett, QTc Fridericia, axis.
    assert f"{machine.qt_ms:.0f} ms low confidence" in before
    sign_report(
        doctor, report, sql, rhythm_label="Sinus bradycardia", findings=["BRADY"],
        conclusion="Sinus bradycardia.", patient_comment="",
        heart_rate_bpm=str(round(machine.heart_rate_bpm)), pr_ms=str(round(machine.pr_ms)),
        qrs_ms=str(round(machine.qrs_ms)), qt_ms=str(round(machine.qt_ms) + 30),
        qrs_axis_deg="",  # one lead: no axis
    )  # fmt: skip
    signed = pdf_words(doctor.get(f"/reports/{report.id}/report.pdf").data, tmp_path, "signed")
    qt_ms = round(machine.qt_ms) + 30
    assert f"{qt_ms} ms" in signed and f"{qt_ms} ms low confidence" not in signed
    assert f"{machine.pr_ms:.0f} ms low confidence" in signed  # left as it was
    # The review page's signed column, REST and FHIR say it too (a browser audit: a PR of
    # 219 ms "low confidence" on the PDF reached the EHR as a clean 219 ms, above 200).
    page = " ".join(doctor.get(f"/reports/{report.id}").get_data(as_text=True).split())
    assert f'{machine.pr_ms:.0f} ms <span class="muted small">low confidence</span></td>' in page
    token = bearer_token(sql, people, people.doctor, "reports:read", "fhir:read")
    auth = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    body = api.get(f"/api/v1/reports/{report.id}", headers=auth).get_json()
    assert "pr_ms" in body["physician_read"]["low_confidence"]
    assert "qt_ms" not in body["physician_read"]["low_confidence"]  # the doctor's QT
    pr = api.get(f"/fhir/r4/Observation/{report.id}-pr", headers=auth).get_json()
    assert pr["note"][0]["text"].startswith("Low confidence: the machine's measurement")
    qt = api.get(f"/fhir/r4/Observation/{report.id}-qt", headers=auth).get_json()
    assert "note" not in qt


def test_values_signed_as_prefilled_keep_the_machines_low_confidence_for_every_interval(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A cardiologist's audit: MIT-BIH 215 signed as prefilled showed "PR 194 ms low
    confidence" beside a clean "QT 286 ms" and "QTc 393 ms" on the review page's signed
    column and the clinician PDF: the QTc kept beside the machine's QT is its own, unrounded
    (392.6), and counted as changed against the form's 393."""
    report = _brady_strip_report(app, people, sql, tmp_path)
    machine = report.versions[0]
    assert machine.qt_ms is not None and machine.qtc_bazett_ms is not None
    assert machine.qtc_bazett_ms != round(machine.qtc_bazett_ms)  # as the audit's 392.6
    doctor = client_for(app, people.doctor)
    sign_report(
        doctor, report, sql, rhythm_label="Sinus bradycardia", findings=["BRADY"],
        conclusion="Sinus bradycardia.", patient_comment="",
        heart_rate_bpm=str(round(machine.heart_rate_bpm)), pr_ms=str(round(machine.pr_ms)),
        qrs_ms=str(round(machine.qrs_ms)), qt_ms=str(round(machine.qt_ms)), qrs_axis_deg="",
    )  # as the form shows them  # fmt: skip
    signed = pdf_words(doctor.get(f"/reports/{report.id}/report.pdf").data, tmp_path, "signed")
    for value in (machine.pr_ms, machine.qt_ms, machine.qtc_bazett_ms):
        assert f"{value:.0f} ms low confidence" in signed
    page = " ".join(doctor.get(f"/reports/{report.id}").get_data(as_text=True).split())
    for value in (machine.qt_ms, machine.qtc_bazett_ms):
        assert f'{value:.0f} ms <span class="muted small">low confidence</span>' in page
    token = bearer_token(sql, people, people.doctor, "reports:read", "fhir:read")
    auth = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    body = api.get(f"/api/v1/reports/{report.id}", headers=auth).get_json()
    low = body["physician_read"]["low_confidence"]
    assert {"pr_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms"} <= set(low)
    for what in ("qt", "qtc", "qtcf"):
        observation = api.get(f"/fhir/r4/Observation/{report.id}-{what}", headers=auth)
        assert observation.get_json()["note"][0]["text"].startswith("Low confidence")


def test_a_qt_kept_while_the_rate_changes_keeps_its_low_confidence(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A review: signed with the heart rate changed and the machine's QT of low confidence
    kept, the QT and its recomputed QTc showed as clean values on the page, REST and FHIR."""
    report = _brady_strip_report(app, people, sql, tmp_path)
    machine = report.versions[0]
    assert machine.qt_ms is not None and machine.heart_rate_bpm is not None
    doctor = client_for(app, people.doctor)
    sign_report(
        doctor, report, sql, rhythm_label="Sinus bradycardia", findings=["BRADY"],
        conclusion="Sinus bradycardia.", patient_comment="",
        heart_rate_bpm=str(round(machine.heart_rate_bpm) + 6), pr_ms="", qrs_ms="",
        qt_ms=str(round(machine.qt_ms)), qrs_axis_deg="",
    )  # fmt: skip
    signed = reports.latest_signed(report)
    assert signed is not None and signed.qtc_bazett_ms != machine.qtc_bazett_ms  # recomputed
    assert {"qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms"} <= set(
        documents.low_confidence_values(report, signed)
    )
    # A QT the doctor changed is theirs: no doubt on it or its QTc.
    assert not {"qt_ms", "qtc_bazett_ms"} & set(
        documents.low_confidence_values(report, signed_with(signed, qt_ms=signed.qt_ms + 20))
    )


def signed_with(version: ReportVersion, **changes: float) -> ReportVersion:
    """A transient copy of a signed version with other values (rows are immutable)."""
    columns = {c.key: getattr(version, c.key) for c in ReportVersion.__table__.columns}
    return ReportVersion(**{**columns, "id": None, **changes})


def test_the_previous_column_shows_the_earlier_values_as_signed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A doctor's-day audit: MIT-BIH 101 signed as prefilled read "PR 144 ms low confidence
    · QT 419 ms low confidence" on its page and PDF, and the next report's "Previous" column
    gave a clean "144 ms", "419 ms". It says "low confidence" as the earlier page did."""
    from tests.test_reference_label import _analysed
    from tests.test_review_measurement_columns import _table

    report = _brady_strip_report(app, people, sql, tmp_path)
    machine = report.versions[0]
    assert machine.pr_ms is not None and machine.qt_ms is not None
    doctor = client_for(app, people.doctor)
    sign_report(
        doctor, report, sql, rhythm_label="Sinus bradycardia", findings=["BRADY"],
        conclusion="Sinus bradycardia.", patient_comment="",
        heart_rate_bpm=str(round(machine.heart_rate_bpm)), pr_ms=str(round(machine.pr_ms)),
        qrs_ms=str(round(machine.qrs_ms)), qt_ms=str(round(machine.qt_ms) + 30),
        qrs_axis_deg="",
    )  # the machine's PR as prefilled, a QT of the doctor's own  # fmt: skip
    signed = reports.latest_signed(report)
    assert signed is not None and "pr_ms" in documents.low_confidence_values(report, signed)
    later = _analysed(app, people, sql, write_csv(tmp_path / "later.csv", synthetic(30, 250)))
    table = _table(doctor.get(f"/reports/{later.id}").get_data(as_text=True))
    assert table[""][1].startswith("Previous (")
    assert table["PR"][1] == f"{signed.pr_ms:.0f} ms low confidence"
    assert table["QT"][1] == f"{signed.qt_ms:.0f} ms"  # the doctor's own: no doubt
    assert table["QTc Bazett"][1] == f"{signed.qtc_bazett_ms:.0f} ms"
