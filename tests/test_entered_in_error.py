"""A signed report withdrawn as entered in error (`portal.services.entered_in_error`). A
working-day audit: a signed report of a recording uploaded to the wrong patient stayed on that
patient's portal, and the doctor's only correction was an amendment forced to sign a false
read. Withdrawn, it is kept and marked for clinicians, leaves the patient's portal (who is
told in their words), is entered-in-error through REST and FHIR, and has no PDF."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    Account,
    AuditEvent,
    EcgReport,
    ReportStatus,
    RiskModel,
    RiskScore,
    WithdrawnKind,
)
from portal.risk.result import RiskLevel
from portal.services import entered_in_error, reports
from tests.conftest import (
    PASSWORD,
    People,
    bearer_token,
    client_for,
    csrf_token,
    error_messages,
    post_form,
    sign_report,
)
from tests.support.ecg_files import synthetic
from tests.support.races import second_while_first_is_open
from tests.test_sinus_rate_statement import _read_by_the_portal
from tests.test_upload_and_review import _upload

REASON = "not this patient's ECG: uploaded to the wrong record"


def _withdraw(client: FlaskClient, report: EcgReport, **form: str):  # type: ignore[no-untyped-def]
    page = f"/reports/{report.id}"
    fields = {
        f"withdraw-{name}": value for name, value in {"kind": "wrong-patient", **form}.items()
    }
    return post_form(client, f"{page}/entered-in-error", fields, token_page=page)


def _signed(app: Flask, people: People, sql: Session, tmp_path: Path) -> EcgReport:
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    doctor = client_for(app, people.doctor)
    sign_report(doctor, report, sql, rhythm_label="Sinus rhythm", findings=["SINUS"],
                conclusion="Sinus rhythm.")  # fmt: skip
    return report


def test_a_doctor_withdraws_a_signed_report_and_the_patient_is_told(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _signed(app, people, sql, tmp_path)
    patient = client_for(app, people.patient_account)
    assert f"/my/reports/{report.id}/summary.pdf" in patient.get("/my/reports").get_data(True)
    doctor = client_for(app, people.doctor)
    row_version = str(report.row_version)
    for form, said in (
        ({"reason": REASON, "confirmed": "y", "password": "wrong"}, "That is not your password"),
        ({"reason": REASON, "password": PASSWORD}, "Tick the box to confirm the withdrawal."),
        ({"reason": "  ", "confirmed": "y", "password": PASSWORD}, "Say why it is withdrawn"),
        (
            {"kind": "", "reason": REASON, "confirmed": "y", "password": PASSWORD},
            "Choose what is wrong with it.",
        ),
    ):
        refused = _withdraw(doctor, report, row_version=row_version, **form)
        assert refused.status_code == 400
        page = html.unescape(refused.get_data(True))
        assert any(said in m for m in error_messages(page)), error_messages(page)
        assert '<details id="withdraw" class="withdraw" open>' in page
        sql.expire_all()
        assert sql.get(EcgReport, report.id).status is ReportStatus.FINAL
    done = _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=row_version)  # fmt: skip
    assert done.status_code == 302
    sql.expire_all()
    found = sql.get(EcgReport, report.id)
    assert found.status is ReportStatus.ENTERED_IN_ERROR
    assert found.withdrawn_reason == REASON and found.withdrawn_by_id == people.doctor.id
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(True))
    assert "Withdrawn as entered in error</strong>" in page and REASON in page
    assert "Sign amendment" not in page and "Clinician PDF" not in page
    gone = doctor.get(f"/reports/{report.id}/report.pdf")
    assert gone.status_code == 410
    assert "withdrawn as entered in error" in gone.get_data(True)
    # The patient: off their list, told in their words, no PDF, and who did it.
    mine = html.unescape(patient.get("/my/reports").get_data(True))
    assert f"/my/reports/{report.id}/" not in mine
    assert "A result was removed from your record" in mine
    assert "filed under your name by mistake and is not about your heart" in mine
    assert "No reports yet" not in mine
    assert patient.get(f"/my/reports/{report.id}/summary.pdf").status_code == 404
    access = html.unescape(patient.get("/my/access").get_data(True))
    assert "withdrew a result filed under your name by mistake" in access
    [row] = sql.scalars(select(AuditEvent).where(AuditEvent.action == "report.entered_in_error"))
    assert row.patient_id == people.patient.id and row.details["reason"] == REASON
    assert row.details["patient_had_it"] is True
    # Nothing more is signed on it: no amendment, no release, no second withdrawal.
    read = reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Read.")
    for change in (
        lambda: reports.amend(sql, found, actor=people.doctor, password=PASSWORD,
                              expected_row_version=found.row_version, read=read, reason="x"),
        lambda: reports.release_to_patient(sql, found, actor=people.doctor),
    ):  # fmt: skip
        try:
            change()
        except reports.InvalidInput as problem:
            assert reports.WITHDRAWN_ALREADY in str(problem.errors)
        else:
            raise AssertionError("a withdrawn report was changed")
    again = _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                      row_version=str(found.row_version))  # fmt: skip
    assert again.status_code == 400


def test_only_a_signed_report_is_withdrawn_and_only_by_a_doctor(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    doctor = client_for(app, people.doctor)
    unsigned = _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                         row_version=str(report.row_version))  # fmt: skip
    assert unsigned.status_code == 302
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(True))
    assert "moved by staff to the right patient, from its job page" in page
    sign_report(doctor, report, sql, rhythm_label="Sinus rhythm", findings=["SINUS"],
                conclusion="Sinus rhythm.")  # fmt: skip
    form = {"reason": REASON, "confirmed": "y", "password": PASSWORD,
            "row_version": str(report.row_version)}  # fmt: skip
    staff = client_for(app, people.staff)
    assert _withdraw(staff, report, **form).status_code == 403
    patient = client_for(app, people.patient_account)
    token = {"withdraw-csrf_token": "x", **{f"withdraw-{k}": v for k, v in form.items()}}
    assert patient.post(f"/reports/{report.id}/entered-in-error", data=token).status_code in (
        400, 403,
    )  # fmt: skip
    # Another doctor's patient's report is not this doctor's to withdraw.
    other = client_for(app, people.other_doctor)
    assert other.post(f"/reports/{report.id}/entered-in-error", data=token).status_code in (
        400, 403, 404,
    )  # fmt: skip
    # A page opened before an amendment withdraws nothing.
    stale = _withdraw(doctor, report, **{**form, "row_version": str(report.row_version - 1)})
    assert stale.status_code == 302
    assert "signed again or changed while you had it open" in html.unescape(
        doctor.get(f"/reports/{report.id}").get_data(True)
    )
    sql.expire_all()
    assert sql.get(EcgReport, report.id).status is ReportStatus.FINAL


def test_rest_and_fhir_say_entered_in_error_and_serve_no_pdf(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _signed(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    assert _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=str(report.row_version)).status_code == 302  # fmt: skip
    api = app.test_client()
    secret = bearer_token(sql, people, people.doctor, "reports:read", "fhir:read")
    clinician = {"Authorization": f"Bearer {secret}"}
    body = api.get(f"/api/v1/reports/{report.id}", headers=clinician).get_json()
    assert body["status"] == "entered-in-error" and body["withdrawn_reason"] == REASON
    assert body["withdrawn_kind"] == "wrong-patient"
    assert body["documents"]["clinician_pdf"] is None
    assert body["documents"]["patient_summary_pdf"] is None
    pdf = api.get(f"/api/v1/reports/{report.id}/summary.pdf", headers=clinician)
    assert pdf.status_code == 410 and pdf.get_json()["error"]["code"] == "gone"  # not "error"
    assert "withdrawn as entered in error" in pdf.get_json()["error"]["message"]
    listed = api.get("/api/v1/reports?status=entered-in-error", headers=clinician).get_json()
    assert [r["id"] for r in listed["items"]] == [report.id]

    fhir = {**clinician, "Accept": "application/fhir+json"}
    resource = api.get(f"/fhir/r4/DiagnosticReport/{report.id}", headers=fhir).get_json()
    assert resource["status"] == "entered-in-error"
    # "ECG" as written: `str.capitalize` had sent "this patient's ecg" (a review).
    assert "Not a report of this patient's ECG." in resource["conclusion"]
    assert "presentedForm" not in resource
    assert resource["conclusion"].startswith(f"Withdrawn as entered in error: {REASON}.")
    found = api.get("/fhir/r4/DiagnosticReport?status=entered-in-error", headers=fhir).get_json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(report.id)]
    for ref in resource.get("result", []):
        observation = api.get(f"/fhir/r4/{ref['reference']}", headers=fhir).get_json()
        assert observation["status"] == "entered-in-error", observation
    binary = api.get(f"/fhir/r4/Binary/{report.id}-v2-clinician", headers=fhir)
    assert binary.status_code == 410
    assert binary.get_json()["issue"][0]["code"] == "deleted"

    secret = bearer_token(sql, people, people.patient_account, "reports:read", "fhir:read")
    patient = {"Authorization": f"Bearer {secret}"}
    # Their apps are told it was withdrawn (`test_a_patients_app_learns_...`, below).
    assert api.get(f"/api/v1/reports/{report.id}", headers=patient).get_json()["status"] == (
        "entered-in-error"
    )
    theirs = api.get(f"/fhir/r4/DiagnosticReport/{report.id}", headers=patient).get_json()
    assert theirs["status"] == "entered-in-error" and REASON not in theirs["conclusion"]


def test_a_patients_app_learns_a_result_it_read_was_withdrawn_and_gets_none_of_it(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Signed, read by the patient's app, then withdrawn as not this patient's ECG: with the
    patient's token the DiagnosticReport had become a 404 "does not exist" (its `_history/3`
    too) while staff saw entered-in-error, so an app that imported it as final kept another
    person's ECG as the patient's own (a data-protection audit, 2026-12-07). Now their apps
    read it entered-in-error, in their words, with no value, Observation value or PDF; a
    report they never could read stays a 404."""
    from tests.test_fhir import valid

    report = _signed(app, people, sql, tmp_path)
    api = app.test_client()
    secret = bearer_token(sql, people, people.patient_account, "fhir:read")
    fhir = {"Authorization": f"Bearer {secret}", "Accept": "application/fhir+json"}
    url = f"/fhir/r4/DiagnosticReport/{report.id}"
    imported = api.get(url, headers=fhir).get_json()
    assert imported["status"] == "final" and imported["presentedForm"]
    results = [r["reference"] for r in imported["result"]]
    assert f"Observation/{report.id}-hr" in results
    doctor = client_for(app, people.doctor)
    assert _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=str(report.row_version)).status_code == 302  # fmt: skip

    answer = api.get(url, headers=fhir)
    assert answer.status_code == 200, answer.get_data(True)[:300]
    withdrawn = valid(answer.get_json())
    assert withdrawn["status"] == "entered-in-error" and withdrawn["meta"]["versionId"] == "3"
    assert withdrawn["conclusion"] == (
        "This result was removed from your record: it was filed under your name by mistake "
        "and is not about your heart. Please disregard it."
    )  # their list's words; not the doctor's reason, nor the read of another person's ECG
    assert "presentedForm" not in withdrawn and "conclusionCode" not in withdrawn
    assert api.get(f"{url}/_history/3", headers=fhir).get_json() == withdrawn
    assert api.get(f"{url}/_history/2", headers=fhir).status_code == 404  # the signed read
    assert [r["reference"] for r in withdrawn["result"]] == results
    for reference in results:
        observation = valid(api.get(f"/fhir/r4/{reference}", headers=fhir).get_json())
        assert observation["status"] == "entered-in-error"
        assert not [key for key in observation if key.startswith("value")], observation
        assert "not about your heart" in observation["note"][0]["text"]
        assert observation["meta"]["versionId"] == "3"
        gone = api.get(f"/fhir/r4/{reference}/_history/2", headers=fhir)
        assert gone.status_code == 404
    assert api.get(f"/fhir/r4/Observation/{report.id}-ecg", headers=fhir).status_code == 404
    assert api.get(f"/fhir/r4/Binary/{report.id}-v2-patient", headers=fhir).status_code == 404
    # A poll for withdrawn results finds it, and so does $everything, valueless alike.
    polled = api.get("/fhir/r4/DiagnosticReport?status=entered-in-error", headers=fhir)
    assert [e["resource"] for e in polled.get_json()["entry"]] == [withdrawn]
    found = api.get(f"/fhir/r4/Observation?patient={people.patient.id}", headers=fhir)
    assert {e["resource"]["status"] for e in found.get_json()["entry"]} == {"entered-in-error"}
    everything = valid(api.get(f"/fhir/r4/Patient/{people.patient.id}/$everything",
                               headers=fhir).get_json())  # fmt: skip
    assert withdrawn in [e["resource"] for e in everything["entry"]]
    assert not [e for e in everything["entry"] if "valueQuantity" in e["resource"]]

    # Held for a talk and withdrawn before anyone had called: never theirs, still a 404.
    never = _held_then_withdrawn(app, people, sql, tmp_path, doctor)
    assert never.id != report.id
    assert api.get(f"/fhir/r4/DiagnosticReport/{never.id}", headers=fhir).status_code == 404
    assert api.get(f"/fhir/r4/Observation/{never.id}-hr", headers=fhir).status_code == 404
    polled = api.get("/fhir/r4/DiagnosticReport?status=entered-in-error", headers=fhir)
    assert [e["resource"]["id"] for e in polled.get_json()["entry"]] == [str(report.id)]
    staff = bearer_token(sql, people, people.staff, "fhir:read")
    assert api.get(f"/fhir/r4/DiagnosticReport/{never.id}",
                   headers={"Authorization": f"Bearer {staff}"}).status_code == 200  # fmt: skip


def _held_then_withdrawn(
    app: Flask, people: People, sql: Session, tmp_path: Path, doctor: FlaskClient
) -> EcgReport:
    """A second report, signed, held for a talk, and withdrawn before anyone had called: never
    the patient's to read."""
    _read_by_the_portal(app, people, sql, tmp_path / "other.csv", synthetic(10.0, 250.0, seed=8))
    never = sql.scalars(select(EcgReport).order_by(EcgReport.id.desc())).first()
    assert never is not None
    sign_report(doctor, never, sql, rhythm_label="Sinus rhythm", findings=["SINUS"],
                conclusion="Sinus rhythm.")  # fmt: skip
    never.patient_release_at = never.signed_at + dt.timedelta(hours=72)
    sql.commit()
    assert _withdraw(doctor, never, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=str(never.row_version)).status_code == 302  # fmt: skip
    return never


def test_a_patients_rest_client_learns_a_result_it_read_was_withdrawn_and_gets_none_of_it(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An interoperability audit (2026-12-07): a signed report the patient's token had read,
    withdrawn as not this patient's ECG, became a 404 through `/api/v1/reports/<id>` and left
    `/api/v1/reports`, while FHIR said entered-in-error. Now the REST API lists and serves it
    as withdrawn, the reason in the patient's words and none of its read; a report never
    released to them stays a 404."""
    report = _signed(app, people, sql, tmp_path)
    api = app.test_client()
    secret = bearer_token(sql, people, people.patient_account, "reports:read")
    patient = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/reports/{report.id}"
    assert api.get(url, headers=patient).get_json()["status"] == "final"
    doctor = client_for(app, people.doctor)
    assert _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=str(report.row_version)).status_code == 302  # fmt: skip

    answer = api.get(url, headers=patient)
    assert answer.status_code == 200, answer.get_data(True)[:300]
    body = answer.get_json()
    assert body["status"] == "entered-in-error" and body["withdrawn_at"] is not None
    assert body["withdrawn_reason"] == (
        "This result was removed from your record: it was filed under your name by mistake "
        "and is not about your heart. Please disregard it."
    )  # their words, as FHIR's conclusion; not the doctor's reason
    assert body["withdrawn_kind"] == "wrong-patient"
    assert body["plain_finding"] is None and body["main_finding"] is None
    assert body["machine_read"] is None and body["versions"] is None
    assert body["physician_read"] is None and body["risk_scores"] is None
    assert body["documents"] == {"clinician_pdf": None, "patient_summary_pdf": None, "ready": {}}
    listed = api.get("/api/v1/reports", headers=patient).get_json()
    assert [r["id"] for r in listed["items"]] == [report.id]
    assert listed["items"][0]["withdrawn_reason"] == body["withdrawn_reason"]
    polled = api.get("/api/v1/reports?status=entered-in-error", headers=patient).get_json()
    assert [r["id"] for r in polled["items"]] == [report.id]
    assert api.get(f"{url}/summary.pdf", headers=patient).status_code == 404

    # Held for a talk and withdrawn before anyone had called: never theirs, still a 404.
    never = _held_then_withdrawn(app, people, sql, tmp_path, doctor)
    assert never.id != report.id
    assert api.get(f"/api/v1/reports/{never.id}", headers=patient).status_code == 404
    listed = api.get("/api/v1/reports", headers=patient).get_json()
    assert [r["id"] for r in listed["items"]] == [report.id]
    staff = {"Authorization": f"Bearer {bearer_token(sql, people, people.staff, 'reports:read')}"}
    assert (
        api.get(f"/api/v1/reports/{never.id}", headers=staff).get_json()["withdrawn_reason"]
        == REASON
    )


def test_a_result_the_patient_read_then_held_for_a_talk_is_said_removed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An adversarial review: a result the patient had read, amended and held for a talk, then
    withdrawn, left their portal without a word, and the audit said "patient_had_it": false
    (only the newest version's release was asked)."""
    import datetime as dt

    report = _signed(app, people, sql, tmp_path)
    patient = client_for(app, people.patient_account)
    assert patient.get(f"/my/reports/{report.id}/summary.pdf").status_code == 200  # read
    read = reports.PhysicianRead("Sinus rhythm", ["SINUS", "ST_ELEVATION"], "ST elevation.")
    reports.amend(sql, report, actor=people.doctor, password=PASSWORD, read=read,
                  expected_row_version=report.row_version, reason="ST elevation seen",
                  patient_hold=dt.timedelta(hours=72))  # fmt: skip
    sql.commit()
    held = html.unescape(patient.get("/my/reports").get_data(True))
    assert "A result is being updated" in held
    doctor = client_for(app, people.doctor)
    sql.refresh(report)
    done = _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=str(report.row_version))  # fmt: skip
    assert done.status_code == 302
    mine = html.unescape(patient.get("/my/reports").get_data(True))
    assert "A result was removed from your record" in mine
    assert "A result is being updated" not in mine
    sql.expire_all()
    [row] = sql.scalars(select(AuditEvent).where(AuditEvent.action == "report.entered_in_error"))
    assert row.details["patient_had_it"] is True


def test_the_patients_page_says_each_reports_state_in_words(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A browser audit: staff answering a patient's call ("I can't see my result") read only
    "succeeded amended" on the patient's page, not whether it was signed, by whom, or held."""
    import datetime as dt

    staff = client_for(app, people.staff)
    url = f"/patients/{people.patient.id}"

    def state() -> str:
        page = html.unescape(staff.get(url).get_data(True))
        said = page.split('class="small report-state">')[1].split("</span>")[0]
        return " ".join(re.sub("<[^>]+>", "", said).split())

    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    assert state().startswith("not signed yet; the machine read: ")
    doctor = client_for(app, people.doctor)
    sign_report(doctor, report, sql, rhythm_label="Sinus rhythm", findings=["SINUS"],
                conclusion="Sinus rhythm.")  # fmt: skip
    signer = people.doctor.display_name
    assert f"Sinus rhythm; signed by {signer} " in state()
    assert state().endswith("the patient can read it")
    read = reports.PhysicianRead("Sinus rhythm", ["SINUS", "ST_ELEVATION"], "ST elevation.")
    sql.refresh(report)
    reports.amend(sql, report, actor=people.doctor, password=PASSWORD, read=read,
                  expected_row_version=report.row_version, reason="ST elevation seen",
                  patient_hold=dt.timedelta(hours=72))  # fmt: skip
    sql.commit()
    assert "(amended: version 3); held from the patient until " in state()
    sql.refresh(report)
    _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
              row_version=str(report.row_version))  # fmt: skip
    assert "withdrawn as entered in error " in state() and (
        f"by {signer}: not this patient's ECG (upload it to the right patient); off the "
        "patient's portal" in state()
    )


def test_fhir_says_when_it_was_withdrawn_so_an_ehr_polling_for_changes_learns_of_it(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """`_lastUpdated` and `meta.lastUpdated` had been the signature's: an EHR polling for
    changes since its last run never learnt of the withdrawal, where a bulk `$export?_since=`
    did; and the signed version's ETag was answered 304 (an interoperability audit,
    2026-12-07)."""
    report = _signed(app, people, sql, tmp_path)
    hour_ago = report.signed_at - dt.timedelta(hours=1)
    report.signed_at = hour_ago  # signed an hour ago, so the poll's time falls between
    sql.commit()
    polled_at = (hour_ago + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    api = app.test_client()
    secret = bearer_token(sql, people, people.staff, "fhir:read")
    fhir = {"Authorization": f"Bearer {secret}", "Accept": "application/fhir+json"}
    poll = f"/fhir/r4/DiagnosticReport?_lastUpdated=gt{polled_at}"
    assert api.get(poll, headers=fhir).get_json()["total"] == 0
    signed = api.get(f"/fhir/r4/DiagnosticReport/{report.id}", headers=fhir)
    assert signed.headers["ETag"] == 'W/"2"'
    hr_signed = api.get(f"/fhir/r4/Observation/{report.id}-hr", headers=fhir).get_json()
    doctor = client_for(app, people.doctor)
    assert _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=str(report.row_version)).status_code == 302  # fmt: skip
    sql.expire_all()
    withdrawn_at = sql.get(EcgReport, report.id).withdrawn_at.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    found = api.get(poll, headers=fhir).get_json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(report.id)]
    resource = found["entry"][0]["resource"]
    assert resource["status"] == "entered-in-error"
    assert resource["meta"] == {"versionId": "3", "lastUpdated": withdrawn_at}
    # The withdrawal is a version of its own: a client holding the signed one is not told
    # "unchanged", and `_history` reads back both.
    read = api.get(f"/fhir/r4/DiagnosticReport/{report.id}", headers={**fhir,
                   "If-None-Match": signed.headers["ETag"]})  # fmt: skip
    assert read.status_code == 200 and read.headers["ETag"] == 'W/"3"'
    assert api.get(f"/fhir/r4/DiagnosticReport/{report.id}/_history/3",
                   headers=fhir).get_json() == resource  # fmt: skip
    before = api.get(f"/fhir/r4/DiagnosticReport/{report.id}/_history/2", headers=fhir)
    assert before.get_json()["meta"]["versionId"] == "2"
    # Its Observations likewise.
    for ref in resource["result"]:
        observation = api.get(f"/fhir/r4/{ref['reference']}", headers=fhir).get_json()
        assert observation["status"] == "entered-in-error", observation
        if "meta" in observation:  # the waveform has no version
            assert observation["meta"]["versionId"] == "3"
            assert observation["meta"]["lastUpdated"] == withdrawn_at
            again = api.get(f"/fhir/r4/{ref['reference']}/_history/3", headers=fhir)
            assert again.get_json() == observation
    hr = api.get(f"/fhir/r4/Observation/{report.id}-hr/_history/2", headers=fhir).get_json()
    assert hr["meta"] == hr_signed["meta"]


def _worklist_rows(client: FlaskClient) -> list[str]:
    """The rows of the worklist's "all", in its order, as the doctor reads them."""
    page = html.unescape(client.get("/worklist?status=all").get_data(True))
    return page.split('<tr class="urgency-')[1:]


def test_a_withdrawn_report_ranks_last_unflagged_and_has_no_pdf_ready(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A withdrawn ST elevation, not this patient's ECG, had topped the doctor's "all" list as
    an emergency with its "high risk score" flag, and `documents.json` said its PDFs ready
    while they answer 410 (an audit, 2026-12-07)."""
    report = _signed(app, people, sql, tmp_path)
    report.urgency, report.main_finding = 0, "ST_ELEVATION"  # signed as an emergency
    grace = sql.scalar(
        select(RiskScore).where(
            RiskScore.report_id == report.id, RiskScore.model == RiskModel.GRACE_IN_HOSPITAL
        )
    )
    assert grace is not None  # not computed: no admission values; as if it had been
    grace.value, grace.unit, grace.not_computed_reason = 142.0, "points", None
    grace.category, grace.level = "NSTE-ACS high, STEMI intermediate", RiskLevel.HIGH
    sql.commit()
    _read_by_the_portal(app, people, sql, tmp_path / "other.csv", synthetic(10.0, 250.0, seed=4))
    waiting = sql.scalar(select(EcgReport).order_by(EcgReport.id.desc()))
    assert waiting is not None and waiting.id != report.id
    doctor = client_for(app, people.doctor)
    first, second = _worklist_rows(doctor)
    assert f'/reports/{report.id}"' in first and "Emergency" in first
    assert "high risk score" in first
    assert doctor.get(f"/reports/{report.id}/report.pdf").status_code == 200  # stored
    assert doctor.get(f"/reports/{report.id}/documents.json").get_json()["ready"]["clinician"]

    assert _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=str(report.row_version)).status_code == 302  # fmt: skip
    first, last = _worklist_rows(doctor)
    assert f'/reports/{waiting.id}"' in first
    assert f'/reports/{report.id}"' in last
    assert "Withdrawn" in last and "withdrawn (entered in error)" in last
    assert "Emergency" not in last and "high risk score" not in last
    assert "(withdrawn: not this patient's ECG)" in last
    status = doctor.get(f"/reports/{report.id}/documents.json").get_json()
    assert status["ready"] == {"clinician": False, "patient": False}
    assert "withdrawn as entered in error" in status["withdrawn"]
    assert doctor.get(f"/reports/{report.id}/report.pdf").status_code == 410
    # The REST API says the same rank in its words.
    secret = bearer_token(sql, people, people.doctor, "reports:read")
    bearer = {"Authorization": f"Bearer {secret}"}
    body = app.test_client().get(f"/api/v1/reports/{report.id}", headers=bearer).get_json()
    assert (body["urgency_label"], body["urgency_reason"]) == (
        "Withdrawn", "withdrawn (entered in error)",
    )  # fmt: skip


def test_a_page_opened_before_the_withdrawal_is_told_who_withdrew_it_and_signs_nothing(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An amendment that lost to a withdrawal had been told "You amended this report already,
    in another window or tab, at the same moment; that version stands", and offered to sign
    over it (a concurrency audit, 2026-12-07): it says who withdrew it, when and why, and that
    nothing can be signed on it. Likewise a signature from a page opened while unsigned."""
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    opened_unsigned = str(report.row_version)
    doctor = client_for(app, people.doctor)
    read = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "conclusion": "Sinus rhythm.",
            "password": PASSWORD}  # fmt: skip
    sign_report(doctor, report, sql, **{k: v for k, v in read.items() if k != "password"})
    opened_signed = str(report.row_version)
    assert _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=opened_signed).status_code == 302  # fmt: skip
    page = f"/reports/{report.id}"
    for action, form, verb in (
        ("amend", {**read, "reason": "Rhythm line reworded.", "row_version": opened_signed},
         "amended"),
        ("sign", {**read, "row_version": opened_unsigned}, "signed"),
    ):  # fmt: skip
        refused = post_form(doctor, f"{page}/{action}", form, token_page=page)
        assert refused.status_code == 409, action
        said = " ".join(html.unescape(refused.get_data(True)).split())
        assert "You withdrew this report as entered in error on " in said, action
        assert f"saying: “{REASON}”" in said and f"nothing was {verb}" in said, action
        assert "If this ECG is another patient's, upload it to their record" in said, action
        assert "amended this report already" not in said and "that version stands" not in said
        assert "I have read the version that now stands" not in said, action
        assert 'name="kept_over"' not in said, action
    sql.expire_all()
    found = sql.get(EcgReport, report.id)
    assert found.status is ReportStatus.ENTERED_IN_ERROR and len(found.versions) == 2


def test_an_amendment_that_loses_the_race_to_a_withdrawal_is_told_it_was_withdrawn(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The race itself: the amendment's checks passed on the report as it was loaded, signed,
    and its write met the withdrawal committed meanwhile (a concurrency audit, 2026-12-07)."""
    report = _signed(app, people, sql, tmp_path)
    loaded_signed = report.row_version
    assert report.status is ReportStatus.FINAL  # as the amending request read it
    doctor = client_for(app, people.doctor)
    assert _withdraw(doctor, report, reason="read at 250 Hz; it was recorded at 360 Hz",
                     kind="misread", confirmed="y", password=PASSWORD,
                     row_version=str(loaded_signed)).status_code == 302  # fmt: skip
    read = reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Rhythm line reworded.")
    with app.test_request_context():
        try:
            reports.amend(
                sql,
                report,
                actor=people.doctor,
                password=PASSWORD,
                expected_row_version=loaded_signed,
                read=read,
                reason="Reworded.",
            )
        except reports.SigningConflict as conflict:
            assert conflict.withdrawn
            assert "You withdrew this report as entered in error on " in str(conflict)
            assert "(at the same moment, in another window or tab)" in str(conflict)
            assert "nothing was amended" in str(conflict)
            # Withdrawn as misread: where its read may be signed is said for that.
            assert "Upload the file again with the right sampling rate or units" in str(conflict)
        else:
            raise AssertionError("an amendment was signed over a withdrawal")  # fmt: skip
    sql.expire_all()
    assert sql.get(EcgReport, report.id).status is ReportStatus.ENTERED_IN_ERROR


def test_a_withdrawal_posted_twice_at_once_is_told_it_was_withdrawn_not_a_500(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A double click (or two tabs) on "Withdraw as entered in error": the second had passed
    its checks on the report as loaded and met the first's write at flush, a 500 "Nothing was
    saved" (StaleDataError) though the report was withdrawn (a bad-input audit, 2026-12-07).
    It waits for the first and is told the report is withdrawn, by whom, in words."""
    report = _signed(app, people, sql, tmp_path)
    report_id, opened = report.id, report.row_version
    page = f"/reports/{report_id}"
    doctor = client_for(app, people.doctor)
    token = csrf_token(doctor, page)  # both clicks from the page as it was opened
    first = Session(sql.get_bind())
    with app.test_request_context():
        entered_in_error.withdraw(
            first, first.get(EcgReport, report_id), REASON, kind=WithdrawnKind.WRONG_PATIENT,
            actor=first.get(Account, people.doctor.id), password=PASSWORD,
            expected_row_version=opened,
        )  # fmt: skip
        first.flush()  # written, not committed: the first click is mid-way

    def second_click(_: Session) -> str:
        answer = doctor.post(f"{page}/entered-in-error", data={
            "csrf_token": token, "withdraw-kind": "wrong-patient", "withdraw-reason": REASON,
            "withdraw-confirmed": "y", "withdraw-password": PASSWORD,
            "withdraw-row_version": str(opened),
        })  # fmt: skip
        return f"{answer.status_code} {answer.location}"

    said, _ = second_while_first_is_open(sql.get_bind(), first, second_click)
    assert said == f"302 {page}#messages"
    shown = " ".join(html.unescape(doctor.get(page).get_data(True)).split())
    assert "You withdrew this report as entered in error on " in shown
    assert f"(in another window or tab), saying: “{REASON}”. It stays withdrawn" in shown
    sql.expire_all()
    assert sql.get(EcgReport, report_id).status is ReportStatus.ENTERED_IN_ERROR
    withdrawals = sql.scalars(
        select(AuditEvent).where(AuditEvent.action == "report.entered_in_error")
    ).all()
    assert len(withdrawals) == 1


def test_a_wfdb_file_is_not_withdrawn_as_read_wrongly(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A review: a WFDB recording, whose rate and units come from its header, was withdrawn as
    "read wrongly (a wrong sampling rate or units given at upload)", and its patient promised
    a re-read that could never come. Only a CSV is read at what the upload gave."""
    from portal.worker import Worker
    from tests.support.ecg_files import write_wfdb
    from tests.test_upload_and_review import _upload

    paths = write_wfdb(tmp_path, synthetic(10.0, 250.0))
    staff = client_for(app, people.staff)
    files = [(path.read_bytes(), path.name) for path in paths]
    assert _upload(staff, people.patient.id, files).status_code == 302
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    assert report is not None
    doctor = client_for(app, people.doctor)
    sign_report(doctor, report, sql, rhythm_label="Sinus rhythm", findings=["SINUS"],
                conclusion="Sinus rhythm.")  # fmt: skip
    page = doctor.get(f"/reports/{report.id}").get_data(True)
    assert 'value="wrong-patient"' in page and 'value="misread"' not in page
    refused = _withdraw(doctor, report, kind="misread", reason=REASON, confirmed="y",
                        password=PASSWORD, row_version=str(report.row_version))  # fmt: skip
    assert refused.status_code == 400
    said = html.unescape(refused.get_data(True))
    assert "Only a CSV file is read at the sampling rate and units given at upload" in said
    sql.expire_all()
    assert sql.get(EcgReport, report.id).status is not ReportStatus.ENTERED_IN_ERROR


def test_the_same_files_uploaded_again_say_their_report_was_withdrawn(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit withdrew MIT-BIH 116's report as "Not this patient's ECG", and staff uploaded
    the same files to the same patient again: the job page said "This recording was already
    uploaded for this patient; showing it. ... succeeded: Done" and "Open the report" to the
    withdrawn report, nothing said of it. It says who withdrew it, when and why, and where the
    ECG belongs."""
    report = _signed(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    done = _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=str(report.row_version))  # fmt: skip
    assert done.status_code == 302
    staff = client_for(app, people.staff)
    again = _upload(staff, people.patient.id, [((tmp_path / "ecg.csv").read_bytes(), "ecg.csv")])
    assert again.status_code == 302 and "/jobs/" in again.location
    page = " ".join(html.unescape(staff.get(again.location).get_data(True)).split())
    assert "already uploaded for this patient; showing it." in page
    said = re.search(r'<p id="job-withdrawn"[^>]*>(.*?)</p>', page)
    assert said is not None, page
    assert said.group(1).startswith(
        "The report of this recording was withdrawn as entered in error by "
        f"{people.doctor.display_name} on "
    )
    assert f"saying: “{REASON}”." in said.group(1)
    assert "It is not this patient's ECG: it belongs under the right patient, so upload it " in (
        said.group(1)
    )
    assert "Open the withdrawn report" in page


def test_rows_of_a_report_withdrawn_before_the_patient_could_read_it_stay_off_their_access_list(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A patient-experience audit (2026-12-07): a report signed, held for a talk and withdrawn
    before its release (its release cleared) had its rows back on the patient's /my/access, "the
    computer read an ECG", "checked and signed", six "opened an ECG report" and a second
    "withdrew a result ..." beside one removed result on /my/reports. A result they read keeps
    its rows and its one withdrawal."""
    report = _signed(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    assert _withdraw(doctor, report, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=str(report.row_version)).status_code == 302  # fmt: skip
    never = _held_then_withdrawn(app, people, sql, tmp_path, doctor)
    assert doctor.get(f"/reports/{never.id}").status_code == 200
    patient = client_for(app, people.patient_account)
    mine = html.unescape(patient.get("/my/reports").get_data(True))
    assert mine.count("A result was removed from your record") == 1
    access = html.unescape(patient.get("/my/access").get_data(True))
    views_of_the_read_one = sql.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "report.view", AuditEvent.object_id == report.id
        )  # fmt: skip
    ).all()
    for words, times in (
        ("withdrew a result filed under your name by mistake", 1),
        ("checked and signed an ECG report", 1),
        ("the computer read an ECG", 1),
        ("opened an ECG report", len(views_of_the_read_one)),
    ):
        assert access.count(words) == times, words


def test_the_patients_notices_and_links_name_each_result_by_its_number_and_test(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A patient-experience audit (2026-12-07): "The result of the heart test (ECG) of 8
    December 2026, 10:09, removed ...: it was filed under your name by mistake" beside four
    other results "Test received on 8 December 2026, 10:09", and "A result is being updated"
    naming none, while the PDFs print "Report number N"; the download links of such results
    read alike to a screen reader (WCAG 2.4.4). Each is named by its number and test now."""
    removed = _signed(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    assert _withdraw(doctor, removed, reason=REASON, confirmed="y", password=PASSWORD,
                     row_version=str(removed.row_version)).status_code == 302  # fmt: skip
    _read_by_the_portal(app, people, sql, tmp_path / "other.csv", synthetic(10.0, 250.0, seed=8))
    updating = sql.scalars(select(EcgReport).order_by(EcgReport.id.desc())).first()
    assert updating is not None
    sign_report(doctor, updating, sql, rhythm_label="Sinus rhythm", findings=["SINUS"],
                conclusion="Sinus rhythm.")  # fmt: skip
    read = reports.PhysicianRead("Sinus rhythm", ["SINUS", "ST_ELEVATION"], "ST elevation.")
    reports.amend(sql, updating, actor=people.doctor, password=PASSWORD, read=read,
                  expected_row_version=updating.row_version, reason="ST elevation seen",
                  patient_hold=dt.timedelta(hours=72))  # fmt: skip
    sql.commit()
    _read_by_the_portal(app, people, sql, tmp_path / "third.csv", synthetic(10.0, 250.0, seed=9))
    listed = sql.scalars(select(EcgReport).order_by(EcgReport.id.desc())).first()
    assert listed is not None
    sign_report(doctor, listed, sql, rhythm_label="Sinus rhythm", findings=["SINUS"],
                conclusion="Sinus rhythm.")  # fmt: skip
    patient = client_for(app, people.patient_account)
    raw = patient.get("/my/reports").get_data(True)
    page = " ".join(html.unescape(raw).split())

    def named(report: EcgReport) -> str:  # the tests' hospital time is UTC
        return (f"Report number {report.id} (heart test (ECG), 10 seconds, received "
                f"{report.report_date:%-d %B %Y, %H:%M})")  # fmt: skip

    assert f"{named(removed)} was removed on {removed.withdrawn_at:%-d %B %Y}: it was filed" in page
    assert "The result of the heart test (ECG)" not in page
    assert f"will talk with you about it: {named(updating)}. It will appear here again" in page
    links = re.findall(r'<a class="button[^"]*" href="/my/reports/\d+/[a-z]+\.pdf">(.*?)</a>', raw)
    names = [" ".join(html.unescape(re.sub(r"<[^>]+>", "", link)).split()) for link in links]
    when = f"{listed.report_date:%-d %B %Y, %H:%M}"
    assert names == [
        f"Summary (PDF), report number {listed.id}, test received on {when}, Heart test (ECG), "
        "10 seconds"
    ]
