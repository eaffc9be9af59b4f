"""A dangerous finding is not read first alone at home: a signed report with VF, VT, complete
heart block or ST elevation waits (PATIENT_HOLD_HOURS) before the patient may read it, unless
the doctor says it was discussed with them or releases it sooner. An audit of the patient
summaries: "Your heart had a very fast and dangerous rhythm" reached the patient's portal the
moment it was signed, before anyone had called."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AuditEvent, EcgReport, utcnow
from tests.conftest import PASSWORD, People, client_for, pdf_words, post_form
from tests.test_api import Api, issue_on_admin_page
from tests.test_upload_and_review import _analysed_report


def _sign(app: Flask, people: People, report: EcgReport, next_steps: list[str]) -> None:
    doctor = client_for(app, people.doctor)
    signed = post_form(doctor, f"/reports/{report.id}/sign",
                       {"rhythm_label": "Sinus rhythm", "findings": ["SINUS", "VT"],
                        "conclusion": "Runs of VT.", "next_steps": next_steps,
                        "password": PASSWORD, "row_version": str(report.row_version)},
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302, signed.get_data(as_text=True)[:300]


def test_a_vt_result_waits_for_the_doctor_to_release_it(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    _sign(app, people, report, ["SEE_TODAY"])
    patient = client_for(app, people.patient_account)
    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.patient_account.username, ["reports:read"]))
    summary = f"/my/reports/{report.id}/summary.pdf"
    assert f"/my/reports/{report.id}/" not in patient.get("/my/reports").get_data(as_text=True)
    assert patient.get(summary).status_code == 404
    assert api.get(f"/reports/{report.id}").status_code == 404  # nor through a patient's app
    # Nor does their access list say it was signed (a security audit: it read "checked and
    # signed an ECG report" of a report missing from their list); it does once released.
    signed_words = "checked and signed an ECG report"
    assert signed_words not in patient.get("/my/access").get_data(as_text=True)

    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Held from the patient until" in page and "Release to the patient now" in page
    # The worklist lists what waits for a talk (a call list; an audit of the hold).
    held_list = doctor.get("/worklist?status=held").get_data(as_text=True)
    assert f"/reports/{report.id}" in held_list and "held from the patient until" in held_list
    released = post_form(doctor, f"/reports/{report.id}/release", {"version_no": "2"},
                         token_page=f"/reports/{report.id}")  # fmt: skip
    assert released.status_code == 302
    assert "The patient can read the summary now." in doctor.get(released.location).get_data(
        as_text=True
    )
    assert f"/my/reports/{report.id}/summary.pdf" in patient.get("/my/reports").get_data(
        as_text=True
    )
    assert patient.get(summary).status_code == 200
    assert api.get(f"/reports/{report.id}").status_code == 200
    assert f"/reports/{report.id}" not in doctor.get("/worklist?status=held").get_data(as_text=True)
    sql.expire_all()
    assert sql.scalars(select(AuditEvent).where(AuditEvent.action == "report.release")).one()
    # The patient's access log says it in words (it read "looked at or changed your record").
    access = patient.get("/my/access").get_data(as_text=True)
    assert "made an ECG report available to you" in access and signed_words in access
    # Staff may not release; another doctor does not see the report.
    staff = client_for(app, people.staff)
    url = f"/reports/{report.id}/release"
    assert post_form(staff, url, {}, token_page=f"/reports/{report.id}").status_code == 403
    other = client_for(app, people.other_doctor)
    assert post_form(other, url, {}, token_page="/worklist").status_code == 404


def test_a_result_discussed_at_signing_is_the_patients_at_once(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    _sign(app, people, report, ["SEE_TODAY", "DISCUSSED"])
    doctor = client_for(app, people.doctor)
    assert "Held from the patient" not in doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    patient = client_for(app, people.patient_account)
    answer = patient.get(f"/my/reports/{report.id}/summary.pdf")
    assert answer.status_code == 200
    said = " ".join(pdf_words(answer.data, tmp_path, "discussed").split())
    assert "Your doctor has talked with you about this result." in said
    # Nor does the VT sentence say the talk is still to come, on the PDF or the list (an audit
    # of the patient's side: "... so your doctor will talk with you about them soon.").
    row = patient.get("/my/reports").get_data(as_text=True)
    for words in (said, row):
        assert "will talk with you about them soon" not in words
        assert "If your doctor has not already talked with you about them" in words


def _amend(app: Flask, people: People, sql: Session, report: EcgReport,
           findings: list[str], next_steps: list[str]) -> None:  # fmt: skip
    sql.refresh(report)
    doctor = client_for(app, people.doctor)
    amended = post_form(doctor, f"/reports/{report.id}/amend",
                        {"rhythm_label": "Sinus rhythm", "findings": findings,
                         "conclusion": "Re-read.", "reason": "The runs were artefact.",
                         "next_steps": next_steps, "password": PASSWORD,
                         "row_version": str(report.row_version)},
                        token_page=f"/reports/{report.id}")  # fmt: skip
    assert amended.status_code == 302, amended.get_data(as_text=True)[:300]


def test_a_held_version_amended_before_its_release_never_reaches_the_patient(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """VT signed and held, then withdrawn by an amendment before anyone had talked with the
    patient: the amendment is theirs at once, but neither the held words ("It no longer says:
    ... runs of fast beats ...") nor the held version through FHIR `_history` (an audit)."""
    report = _analysed_report(app, people, sql, tmp_path)
    _sign(app, people, report, ["SEE_TODAY"])
    _amend(app, people, sql, report, ["SINUS"], ["ROUTINE"])
    patient = client_for(app, people.patient_account)
    summary = patient.get(f"/my/reports/{report.id}/summary.pdf")
    assert summary.status_code == 200
    said = " ".join(pdf_words(summary.data, tmp_path, "amended").split())
    assert "lower parts of the heart" not in said and "no longer says" not in said
    assert "Your doctor updated this report" not in said
    # Nor "Who checked this" (an audit of the patient's side: "... checked and signed this
    # result on 7 December 2026, and Dr ... updated it on 7 December 2026.").
    assert "updated it" not in said and "checked and signed this result on" in said
    assert "Updated" not in patient.get("/my/reports").get_data(as_text=True)

    admin = client_for(app, people.admin)
    secret = issue_on_admin_page(admin, people.patient_account.username, ["fhir:read"])
    app_of_patient = Api(app, secret)
    fhir = app_of_patient.client
    for path in (f"/fhir/r4/DiagnosticReport/{report.id}/_history/2",
                 f"/fhir/r4/Binary/{report.id}-v2-patient",
                 f"/fhir/r4/Observation/{report.id}-hr/_history/2"):  # fmt: skip
        assert fhir.get(path, headers=app_of_patient.headers).status_code == 404, path
    assert fhir.get(f"/fhir/r4/DiagnosticReport/{report.id}/_history/3",
                    headers=app_of_patient.headers).status_code == 200  # fmt: skip
    # The doctor still reads every version.
    doctor_token = issue_on_admin_page(admin, people.doctor.username, ["fhir:read"])
    clinician = Api(app, doctor_token)
    held = clinician.client.get(f"/fhir/r4/DiagnosticReport/{report.id}/_history/2",
                                headers=clinician.headers)  # fmt: skip
    assert held.status_code == 200


def test_a_released_version_is_what_an_amendment_is_compared_with(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    _sign(app, people, report, ["SEE_TODAY", "DISCUSSED"])  # released at once
    _amend(app, people, sql, report, ["SINUS"], ["ROUTINE"])
    summary = client_for(app, people.patient_account).get(f"/my/reports/{report.id}/summary.pdf")
    said = " ".join(pdf_words(summary.data, tmp_path, "compared").split())
    assert "Your doctor updated this report" in said and "It no longer says" in said


def test_the_amend_form_does_not_carry_over_discussed_with_the_patient(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """ "Discussed with the patient" speaks of one talk about one read: prefilled in the amend
    form, it released an ST elevation the amendment added at once, "Your doctor has talked
    with you about this result." (an audit of the patient hold)."""
    report = _analysed_report(app, people, sql, tmp_path)
    _sign(app, people, report, ["SEE_TODAY", "DISCUSSED"])
    page = client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(as_text=True)
    amend_form = page[page.index(f'action="/reports/{report.id}/amend#sign"') :]
    ticked = re.findall(r'<input[^>]*checked[^>]*value="([A-Z_]+)"|<input[^>]*value="([A-Z_]+)"'
                        r'[^>]*checked', amend_form.split("</form>")[0])  # fmt: skip
    codes = {a or b for a, b in ticked}
    assert "SEE_TODAY" in codes and "DISCUSSED" not in codes, codes


def test_connected_systems_are_told_a_result_is_held_from_the_patient(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An exchange that forwards final results to the patient's own portal had no way to know
    a result waited for a talk (an integrator's audit): REST says when the patient may read
    it, FHIR carries it as an extension; neither tells a patient's app."""
    report = _analysed_report(app, people, sql, tmp_path)
    _sign(app, people, report, ["SEE_TODAY"])
    admin = client_for(app, people.admin)
    staff = Api(app, issue_on_admin_page(admin, people.staff.username,
                                         ["reports:read", "fhir:read"]))  # fmt: skip
    body = staff.get(f"/reports/{report.id}").get_json()
    assert body["held_from_patient"] is True and body["patient_release_at"] is not None
    assert body["urgency_label"] == "Emergency" and body["urgency_reason"]
    listed = staff.get("/reports").get_json()["items"][0]
    assert listed["held_from_patient"] is True
    resource = staff.client.get(f"/fhir/r4/DiagnosticReport/{report.id}",
                                headers=staff.headers).get_json()  # fmt: skip
    [extension] = resource["extension"]
    assert extension["url"].endswith("/StructureDefinition/patient-release")
    assert extension["valueDateTime"][:16] == body["patient_release_at"][:16]

    doctor = client_for(app, people.doctor)
    post_form(
        doctor,
        f"/reports/{report.id}/release",
        {"version_no": "2"},
        token_page=f"/reports/{report.id}",
    )
    assert staff.get(f"/reports/{report.id}").get_json()["held_from_patient"] is False
    patient = Api(app, issue_on_admin_page(admin, people.patient_account.username,
                                           ["reports:read", "fhir:read"]))  # fmt: skip
    own = patient.get(f"/reports/{report.id}").get_json()
    assert own["held_from_patient"] is None and own["patient_release_at"] is None
    mine = patient.client.get(f"/fhir/r4/DiagnosticReport/{report.id}",
                              headers=patient.headers).get_json()  # fmt: skip
    assert "extension" not in mine


def test_a_release_from_a_page_opened_before_an_amendment_releases_nothing(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Dr B phoned the patient about version 2 and clicked Release on that page after Dr A had
    amended the report (version 3, held again): the newer read reached the patient undiscussed
    (a concurrency audit). Now refused, naming who amended; the page of version 3 releases."""
    report = _analysed_report(app, people, sql, tmp_path)
    _sign(app, people, report, ["SEE_TODAY"])
    _amend(app, people, sql, report, ["SINUS", "VT", "ST_ELEVATION"], ["SEE_TODAY"])
    other_tab = client_for(app, people.doctor)
    url = f"/reports/{report.id}/release"
    stale = post_form(other_tab, url, {"version_no": "2"}, token_page=f"/reports/{report.id}")
    said = other_tab.get(stale.location).get_data(as_text=True)
    assert "amended this report (version 3) since you opened it; nothing was released" in said
    sql.expire_all()
    assert sql.get(EcgReport, report.id).patient_release_at > utcnow()  # still held
    page = other_tab.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'name="version_no" type="hidden" value="3"' in page
    assert post_form(other_tab, url, {"version_no": "3"}, token_page=f"/reports/{report.id}")
    sql.expire_all()
    assert sql.get(EcgReport, report.id).patient_release_at <= utcnow()
    release = sql.scalars(select(AuditEvent).where(AuditEvent.action == "report.release")).one()
    assert release.details == {"version_no": 3}


def test_an_amendment_written_after_a_release_is_not_refused_for_it(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A release changes nothing a doctor's form holds: the amending doctor, whose page was
    opened before it, had been told "You amended this report already" and lost the correction
    (a concurrency audit)."""
    report = _analysed_report(app, people, sql, tmp_path)
    _sign(app, people, report, ["SEE_TODAY"])
    sql.refresh(report)
    opened_at_row_version = report.row_version
    doctor = client_for(app, people.doctor)
    released = post_form(doctor, f"/reports/{report.id}/release", {"version_no": "2"},
                         token_page=f"/reports/{report.id}")  # fmt: skip
    assert released.status_code == 302
    amended = post_form(doctor, f"/reports/{report.id}/amend",
                        {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
                         "conclusion": "Re-read.", "reason": "The runs were artefact.",
                         "password": PASSWORD, "row_version": str(opened_at_row_version)},
                        token_page=f"/reports/{report.id}")  # fmt: skip
    assert amended.status_code == 302, amended.get_data(as_text=True)[:300]
    sql.expire_all()
    assert len(sql.get(EcgReport, report.id).versions) == 3


def test_a_released_report_held_again_by_an_amendment_is_said_to_be_updated(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient summaries: a released report amended to add VT (a new hold)
    vanished from the patient's list, which then said "No reports yet"."""
    report = _analysed_report(app, people, sql, tmp_path)
    _sign(app, people, report, ["SEE_TODAY", "DISCUSSED"])  # released at once
    patient = client_for(app, people.patient_account)
    assert f"/my/reports/{report.id}/summary.pdf" in patient.get("/my/reports").get_data(
        as_text=True
    )
    _amend(app, people, sql, report, ["SINUS", "VT", "ST_ELEVATION"], ["SEE_TODAY"])  # held
    listing = " ".join(patient.get("/my/reports").get_data(as_text=True).split())
    assert f"/my/reports/{report.id}/summary.pdf" not in listing
    assert "No reports yet" not in listing
    assert "A result is being updated" in listing
    assert "Your doctor is updating a result you could read before" in listing
    assert "If nobody has called you within 3 days" in listing  # PATIENT_HOLD_HOURS 72


def test_a_signature_the_patient_was_shown_stays_on_their_access_list_during_a_later_hold(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A review of the held-report filter: a normal report signed and released, then amended
    to add VT (held), lost its first "checked and signed" row from the patient's access list
    too; only the held amendment is left out."""
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    signed = post_form(doctor, f"/reports/{report.id}/sign",
                       {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
                        "conclusion": "Normal.", "password": PASSWORD,
                        "row_version": str(report.row_version)},
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302
    patient = client_for(app, people.patient_account)
    assert "checked and signed an ECG report" in patient.get("/my/access").get_data(True)
    _amend(app, people, sql, report, ["SINUS", "VT"], ["SEE_TODAY"])
    sql.expire_all()
    assert sql.get(EcgReport, report.id).patient_release_at > utcnow()  # held
    access = patient.get("/my/access").get_data(as_text=True)
    assert "checked and signed an ECG report" in access
    assert "corrected a signed ECG report" not in access


def test_a_held_reports_reads_are_not_on_the_patients_access_list_before_its_release(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An access audit (2026-12-07): a report signed with ST elevation, held from the patient
    and missing from /my/reports, was on their /my/access as "Dr. Dana Doctor (doctor) —
    opened an ECG report", "downloaded an ECG report", "read an ECG tracing", "read a
    measurement of an ECG report": only its signature was left out until its release. VT is
    held alike; an unsigned report's rows are left out too."""
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    patient = client_for(app, people.patient_account)
    rows = ("the computer read an ECG", "opened an ECG report", "downloaded an ECG report",
            "looked at an ECG tracing", "read an ECG report", "read a measurement of an ECG",
            "checked and signed an ECG report")  # fmt: skip

    def listed() -> list[str]:
        access = html.unescape(patient.get("/my/access").get_data(as_text=True))
        return [words for words in rows if words in access]

    assert doctor.get(f"/reports/{report.id}").status_code == 200
    assert listed() == []  # unsigned
    _sign(app, people, report, ["SEE_TODAY"])  # held
    assert doctor.get(f"/reports/{report.id}/report.pdf").status_code == 200
    assert doctor.get(f"/reports/{report.id}/ecg.json").status_code == 200
    admin = client_for(app, people.admin)
    clinician = Api(app, issue_on_admin_page(admin, people.doctor.username, ["fhir:read"]))
    for path in (f"/fhir/r4/DiagnosticReport/{report.id}", f"/fhir/r4/Observation/{report.id}-hr"):
        assert clinician.client.get(path, headers=clinician.headers).status_code == 200, path
    assert listed() == []
    released = post_form(doctor, f"/reports/{report.id}/release", {"version_no": "2"},
                         token_page=f"/reports/{report.id}")  # fmt: skip
    assert released.status_code == 302
    assert listed() == list(rows)
