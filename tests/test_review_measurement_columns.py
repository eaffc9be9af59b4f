"""The review page's measurements table: the machine's values, the signed version's (what the
PDFs, the API and FHIR carry), and the previous signed ECG's, every row filled where the
value exists; a reference-library record is never the previous ECG, nor compared with one.
Found by a clinician-eye audit of the demo portal: an MIT-BIH record signed on a patient
stood as their previous ECG (its values highlighted as changes), the signed values appeared
nowhere on the page, and the previous QTc Fridericia and QRS axis read "—" though stored."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from portal.models import EcgRecording
from portal.services import reports
from tests.conftest import PASSWORD, People, client_for, post_form, sign_report
from tests.support.ecg_files import synthetic, write_csv
from tests.test_reference_label import _analysed, _normal_and_reference


def _table(page: str) -> dict[str, list[str]]:
    """The measurements table as {row label: [cells]}, text only."""
    table = re.search(r'<table class="table compact" id="measurements">(.*?)</table>', page, re.S)
    assert table is not None
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                 for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]  # fmt: skip
        rows[cells[0]] = cells[1:]
    return rows


def test_a_reference_record_is_never_the_previous_ecg(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    own, teaching = _normal_and_reference(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    sign_report(
        doctor, teaching, sql, rhythm_label="Sinus rhythm", findings=["SINUS"],
        conclusion="Teaching record.", patient_comment="",
    )  # fmt: skip
    later_csv = write_csv(tmp_path / "later.csv", synthetic(30, 250, seed=5))
    later = _analysed(app, people, sql, later_csv)
    assert reports.previous_signed_report(sql, later) is None
    page = doctor.get(f"/reports/{later.id}").get_data(as_text=True)
    assert "Previous (" not in page
    # The patient's own signed ECG is their previous one; the reference is compared with none.
    sign_report(
        doctor, own, sql, rhythm_label="Sinus rhythm", findings=["SINUS", "NORMAL"],
        conclusion="Normal ECG.", patient_comment="",
    )  # fmt: skip
    assert reports.previous_signed_report(sql, later) == own
    recording = sql.get(EcgRecording, teaching.recording_id)
    assert recording is not None and recording.is_reference
    assert reports.previous_signed_report(sql, teaching) is None


def test_the_table_shows_the_signed_and_every_previous_value(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    first = _analysed(app, people, sql, write_csv(tmp_path / "first.csv", synthetic(30, 250)))
    doctor = client_for(app, people.doctor)
    machine = first.versions[0]
    assert machine.qtc_fridericia_ms is not None and machine.qrs_axis_deg is not None
    sign_report(
        doctor, first, sql, rhythm_label="Sinus rhythm", findings=["SINUS", "NORMAL"],
        conclusion="Normal ECG.", patient_comment="", heart_rate_bpm="70",
        pr_ms=str(round(machine.pr_ms)), qrs_ms=str(round(machine.qrs_ms)),
        qt_ms=str(round(machine.qt_ms)), qrs_axis_deg=str(round(machine.qrs_axis_deg)),
    )  # fmt: skip
    signed = reports.latest_signed(first)
    assert signed is not None and signed.heart_rate_bpm == 70
    table = _table(doctor.get(f"/reports/{first.id}").get_data(as_text=True))
    assert table[""] == ["Machine", "Signed (version 2)"]
    assert table["Heart rate"][1] == "70 bpm"
    assert table["QTc Fridericia"][1] == f"{signed.qtc_fridericia_ms:.0f} ms"

    second_csv = write_csv(tmp_path / "second.csv", synthetic(30, 250, seed=6))
    second = _analysed(app, people, sql, second_csv)
    table = _table(doctor.get(f"/reports/{second.id}").get_data(as_text=True))
    assert table[""][0] == "Machine" and table[""][1].startswith("Previous (")
    assert table["Heart rate"][1] == "70 bpm"
    assert table["QTc Fridericia"][1] == f"{signed.qtc_fridericia_ms:.0f} ms"
    assert table["QRS axis"][1] == f"{signed.qrs_axis_deg:.0f}°"


def _signed_measurements(version, heart_rate_bpm: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The machine's measurements at another heart rate; the QT left not measurable, as its
    QTc at that rate would be another (500 ms or more, refused without "Long QT")."""
    return {
        "heart_rate_bpm": str(heart_rate_bpm), "pr_ms": str(round(version.pr_ms)),
        "qrs_ms": str(round(version.qrs_ms)), "qt_ms": "",
        "qrs_axis_deg": str(round(version.qrs_axis_deg)),
    }  # fmt: skip


def test_changes_compare_what_is_signed_with_what_was_signed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A consistency audit: after signing, "changed since the previous signed ECG" still
    compared the machine's values, flagging a heart rate the doctor signed as the previous
    one (and missing a change the doctor signed)."""
    first = _analysed(app, people, sql, write_csv(tmp_path / "first.csv", synthetic(30, 250)))
    second_csv = write_csv(tmp_path / "second.csv", synthetic(30, 250, seed=6))
    second = _analysed(app, people, sql, second_csv)
    rate_then = round(second.versions[0].heart_rate_bpm) + 20
    doctor = client_for(app, people.doctor)
    sign_report(
        doctor, first, sql, rhythm_label="Sinus rhythm", findings=["SINUS"], conclusion="Read.",
        patient_comment="", **_signed_measurements(first.versions[0], rate_then),
    )  # fmt: skip
    mark = "(changed since the previous signed ECG)"
    unsigned = _table(doctor.get(f"/reports/{second.id}").get_data(as_text=True))
    assert unsigned["Heart rate"][0].endswith(mark)  # the machine's 20 bpm slower: a change

    sign_report(
        doctor, second, sql, rhythm_label="Sinus rhythm", findings=["SINUS"], conclusion="Read.",
        patient_comment="", **_signed_measurements(second.versions[0], rate_then),
    )  # fmt: skip
    signed = _table(doctor.get(f"/reports/{second.id}").get_data(as_text=True))
    assert signed[""][1] == "Signed (version 2)"
    assert signed["Heart rate"][1] == f"{rate_then} bpm" == signed["Heart rate"][2]
    assert not any(mark in cell for cell in signed["Heart rate"]), signed["Heart rate"]


def test_a_previous_value_signed_as_not_measurable_says_so(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A browser audit: the previous ECG's QRS and axis, signed as not measurable, read "—"
    in the Previous column (a dash reads as not recorded), where its own page said "not
    measurable"."""
    first = _analysed(app, people, sql, write_csv(tmp_path / "first.csv", synthetic(30, 250)))
    doctor = client_for(app, people.doctor)
    machine = first.versions[0]
    sign_report(
        doctor, first, sql, rhythm_label="Sinus rhythm", findings=["SINUS"], conclusion="Read.",
        patient_comment="", heart_rate_bpm="70", pr_ms=str(round(machine.pr_ms)), qrs_ms="",
        qt_ms=str(round(machine.qt_ms)), qrs_axis_deg="",
    )  # fmt: skip
    second_csv = write_csv(tmp_path / "second.csv", synthetic(30, 250, seed=6))
    second = _analysed(app, people, sql, second_csv)
    table = _table(doctor.get(f"/reports/{second.id}").get_data(as_text=True))
    assert table[""][1].startswith("Previous (")
    assert table["QRS"][1] == "not measurable" and table["QRS axis"][1] == "not measurable"


def _read_articles(page: str) -> dict[str, str]:
    """The "Reads" list as {version heading: its text}."""
    found = {}
    for article in re.findall(r'<article class="read read-[^"]+">(.*?)</article>', page, re.S):
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", article)).split())
        heading = re.match(r"Version \d+ · [A-Za-z ]+?(?= Signed| Rhythm)", text)
        assert heading is not None, text
        found[heading.group(0)] = text
    return found


def test_each_signed_read_lists_its_measurements_next_steps_and_note_for_the_patient(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A doctor amending a report saw what earlier versions called and concluded, but not what
    they measured, ordered or told the patient (a doctor's-day audit): the amendment's author
    could not tell what the patient had already read. Each signed read now says all three."""
    report = _analysed(app, people, sql, write_csv(tmp_path / "r.csv", synthetic(30, 250, seed=3)))
    doctor = client_for(app, people.doctor)
    sign_report(
        doctor, report, sql, rhythm_label="Sinus rhythm", findings=["SINUS"],
        conclusion="Sinus rhythm.", patient_comment="Your heart rhythm is regular.",
        next_steps=["ROUTINE", "ECHO"], next_steps_note="Bring your medicines list.",
        heart_rate_bpm="71", pr_ms="", qrs_ms="92", qt_ms="401", qrs_axis_deg="",
    )  # fmt: skip
    sql.refresh(report)
    amended = post_form(
        doctor, f"/reports/{report.id}/amend",
        {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "conclusion": "Re-read.",
         "reason": "QT re-measured.", "qt_ms": "420", "heart_rate_bpm": "71", "qrs_ms": "92",
         "password": PASSWORD, "row_version": str(report.row_version)},
        token_page=f"/reports/{report.id}",
    )  # fmt: skip
    assert amended.status_code == 302, amended.get_data(as_text=True)[:300]
    reads = _read_articles(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    machine, signed, amendment = (reads[k] for k in sorted(reads))
    assert "Measurements:" not in machine  # the machine's are the table's first column
    assert "heart rate 71 bpm · PR not measurable · QRS 92 ms · QT 401 ms" in signed
    assert "QRS axis not measurable" in signed
    assert (
        "Next steps: Discuss at the next routine visit; Echocardiogram; Bring your medicines "
        "list." in signed
    )
    assert "Note for the patient: Your heart rhythm is regular." in signed
    assert "QT 420 ms" in amendment
    assert "Next steps: none ordered" in amendment and "Note for the patient: none" in amendment
