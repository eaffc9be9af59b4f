"""FHIR Bulk Data $export (issue 16) on both databases: the asynchronous kick-off, status and
manifest, NDJSON files whose every line fhir.resources accepts and equals what the read
endpoints answer, only the asking account's view (and only to that account), clear refusals
of what the server does not do, cancellation, expiry, and a worker that dies mid-export."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.models import AuditEvent, BulkExportJob, EcgReport, JobState, utcnow
from portal.services import bulk_export, jobs
from portal.services.clinical_inputs import ClinicalInputForm, record_clinical_input
from portal.worker import Worker
from tests.conftest import PASSWORD, People, client_for
from tests.support.ecg_files import synthetic
from tests.test_fhir import (  # noqa: F401  (risk_inputs, signed: the signed report fixture)
    FHIR,
    call,
    fetch,
    issue,
    late_cholesterol,
    outcome_of,
    signed,
    valid,
)
from tests.test_recording_move import _move
from tests.test_sinus_rate_statement import _read_by_the_portal

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def exporter(sql: Session, people: People, account: Any = None) -> str:
    return issue(sql, account or people.doctor, "fhir:read", "fhir:export", actor=people.admin)


def kick_off(client: FlaskClient, token: str, query: str = "", path: str = "/$export") -> str:
    response = call(client, "GET", f"{path}{query}", token, headers=ASYNC)
    assert response.status_code == 202, response.data[:800]
    status_url = response.headers["Content-Location"]
    assert status_url.startswith("http://localhost/fhir/r4/$export-status/")
    return status_url


def manifest_of(client: FlaskClient, status_url: str, token: str) -> dict[str, Any]:
    response = call(client, "GET", status_url, token)
    assert response.status_code == 200, response.data[:800]
    assert response.headers["Expires"]
    return response.get_json()  # type: ignore[no-any-return]


def lines_of(client: FlaskClient, url: str, token: str) -> list[dict[str, Any]]:
    response = call(client, "GET", url, token, headers={"Accept": "application/fhir+ndjson"})
    assert response.status_code == 200, response.data[:800]
    assert response.mimetype == "application/fhir+ndjson"
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_an_export_runs_in_the_background_and_its_files_are_what_the_api_reads(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    client = app.test_client()
    token = exporter(sql, people)
    status_url = kick_off(client, token)
    waiting = call(client, "GET", status_url, token)
    assert waiting.status_code == 202 and waiting.headers["Retry-After"] == "5"
    assert waiting.headers["X-Progress"].startswith("0% (")
    assert Worker(app).run_pending() == 0  # no analysis job; the export runs after them
    manifest = manifest_of(client, status_url, token)
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"] == "http://localhost/fhir/r4/$export" and manifest["error"] == []
    counts = {item["type"]: item["count"] for item in manifest["output"]}
    # measures, risk scores, then the clinical inputs' 18 values (`risk_inputs`)
    assert counts == {"Patient": 1, "DiagnosticReport": 1, "Observation": 7 + 5 + 18}
    for item in manifest["output"]:
        resources = lines_of(client, item["url"], token)
        assert len(resources) == item["count"]
        for resource in resources:
            assert resource["resourceType"] == item["type"]
            # Each line is exactly what the read endpoint answers for this account.
            read = fetch(client, f"/{resource['resourceType']}/{resource['id']}", token)
            assert valid(resource) == read
    the_report = lines_of(client, manifest["output"][1]["url"], token)[0]
    assert the_report["status"] == "final" and the_report["id"] == str(signed.id)
    assert the_report["presentedForm"][0]["url"].startswith("http://localhost/fhir/r4/Binary/")
    actions = set(sql.scalars(select(AuditEvent.action)))
    assert {"fhir.export.start", "fhir.export.done", "fhir.export.download"} <= actions
    # The row of the finished export names whose data left (a security audit: none was).
    done = sql.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.export.done")).one()
    assert done.details["patients"] == 1 and done.details["patient_ids"] == [signed.patient_id]


def test_patient_export_types_and_since_narrow_the_files(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    client = app.test_client()
    token = exporter(sql, people, people.staff)
    only_patients = kick_off(client, token, "?_type=Patient", "/Patient/$export")
    future = (utcnow() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    nothing_new = kick_off(client, token, f"?_since={future}")
    Worker(app).run_pending()
    staff_patients = manifest_of(client, only_patients, token)["output"]
    assert [item["type"] for item in staff_patients] == ["Patient"]
    assert staff_patients[0]["count"] == 2  # staff see every patient (people has two)
    assert manifest_of(client, nothing_new, token)["output"] == []


def test_only_the_asking_account_sees_an_export_and_it_holds_only_its_view(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    client = app.test_client()
    doctor = exporter(sql, people)
    other = exporter(sql, people, people.other_doctor)
    status_url = kick_off(client, doctor)
    theirs = kick_off(client, other)
    Worker(app).run_pending()
    file_url = manifest_of(client, status_url, doctor)["output"][0]["url"]
    outcome_of(call(client, "GET", status_url, other), 404)
    outcome_of(call(client, "GET", file_url, other), 404)
    outcome_of(call(client, "DELETE", status_url, other), 404)
    their_files = {
        item["type"]: item["url"] for item in manifest_of(client, theirs, other)["output"]
    }
    assert set(their_files) == {"Patient"}  # their own patient, who has no report
    assert [p["id"] for p in lines_of(client, their_files["Patient"], other)] == [
        str(people.other_patient.id)
    ]  # fmt: skip
    for account in (people.patient_account, people.admin):  # not roles that export
        token = issue(sql, account, "fhir:read", "fhir:export", actor=people.admin)
        outcome_of(call(client, "GET", "/$export", token, headers=ASYNC), 403)
    reader = issue(sql, people.doctor, "fhir:read", actor=people.admin)  # no fhir:export scope
    assert call(client, "GET", "/$export", reader, headers=ASYNC).status_code == 403
    assert call(client, "GET", status_url, reader).status_code == 403
    assert call(client, "GET", status_url, None).status_code == 401


def test_what_the_server_does_not_do_is_refused_clearly(
    app: Flask, people: People, sql: Session
) -> None:
    client = app.test_client()
    token = exporter(sql, people)
    cases = {
        "": ({"Accept": "application/fhir+json"}, 400, "Prefer: respond-async"),
        "?_type=Encounter": (ASYNC, 400, "“Encounter” is not exported"),
        "?_outputFormat=text/csv": (ASYNC, 400, "application/fhir+ndjson"),
        "?_since=yesterday": (ASYNC, 400, "_since is an instant"),
        "?_since=2026-13-45": (ASYNC, 400, "is not a date"),
        "?_typeFilter=Patient%3Factive%3Dtrue": (ASYNC, 400, "does not support “_typeFilter”"),
        "?_format=xml": (ASYNC, 406, "XML is not served"),
    }
    for query, (headers, status, words) in cases.items():
        response = call(client, "GET", f"/$export{query}", token, headers=headers)
        body = outcome_of(response, status)
        assert words in body["issue"][0]["diagnostics"], (query, body)
    assert sql.scalar(select(BulkExportJob.id)) is None  # nothing was queued
    outcome_of(call(client, "GET", "/$export-status/999", token), 404)
    outcome_of(call(client, "GET", "/$export-file/999/Patient.ndjson", token), 404)


def test_cancelling_deletes_the_files_and_a_cancelled_run_writes_nothing(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    client = app.test_client()
    token = exporter(sql, people)
    storage: Path = app.config["SETTINGS"].storage_dir
    done = kick_off(client, token)
    Worker(app).run_pending()
    export_id = int(done.rsplit("/", 1)[1])
    assert any(bulk_export.folder(storage, export_id).iterdir())
    assert call(client, "DELETE", done, token).status_code == 202
    assert not bulk_export.folder(storage, export_id).exists()
    outcome_of(call(client, "GET", done, token), 404)

    running = kick_off(client, token)
    with app.extensions["db_sessionmaker"]() as session:
        job = bulk_export.claim_next(session, "worker-a", utcnow())
    assert job is not None
    assert call(client, "DELETE", running, token).status_code == 202  # while it runs
    assert bulk_export.run(app, job.id) is None
    assert not bulk_export.folder(storage, job.id).exists()


def test_a_failed_export_says_so_and_expired_exports_are_deleted(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    client = app.test_client()
    token = exporter(sql, people)
    storage: Path = app.config["SETTINGS"].storage_dir
    status_url = kick_off(client, token)
    export_id = int(status_url.rsplit("/", 1)[1])
    blocker = storage / "exports"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the exports folder should be")  # writing fails
    Worker(app).run_pending()
    failed = outcome_of(call(client, "GET", status_url, token), 500)
    assert "internal error" in failed["issue"][0]["diagnostics"]
    blocker.unlink()

    sql.execute(update(BulkExportJob).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    sql.commit()
    Worker(app).run_pending()
    sql.expire_all()
    assert sql.get(BulkExportJob, export_id) is None
    outcome_of(call(client, "GET", status_url, token), 404)


def test_an_export_whose_worker_died_is_run_again_by_another(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    client = app.test_client()
    token = exporter(sql, people)
    status_url = kick_off(client, token)
    sessions = app.extensions["db_sessionmaker"]
    with sessions() as session:  # a worker claims it, beats once, then is killed
        jobs.beat(session, "dead:1", host="dead", pid=1, started_at=utcnow(), now=utcnow())
        claimed = bulk_export.claim_next(session, "dead:1", utcnow())
        assert claimed is not None
        later = utcnow() + jobs.WORKER_DEAD_AFTER + dt.timedelta(seconds=1)
        assert bulk_export.requeue_stuck(session, later) == 1
    Worker(app).run_pending()
    sql.expire_all()
    job = sql.get(BulkExportJob, claimed.id)
    assert job is not None and job.state is JobState.SUCCEEDED and job.attempts == 2
    assert len(manifest_of(client, status_url, token)["output"]) == 3


def test_an_export_is_traced_to_each_patient_it_copied(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    """A data-protection audit: a staff token's Patient/$export wrote `fhir.export.done` with
    the patients in its details but no patient, so /admin/audit?mrn=&action=fhir.export showed
    no event and the patient's /my/access said nothing of it."""
    client = app.test_client()
    token = exporter(sql, people, people.staff)
    status_url = kick_off(client, token, "", "/Patient/$export")
    Worker(app).run_pending()
    export_id = int(status_url.rsplit("/", 1)[1])
    rows = sql.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.export.patient")).all()
    assert sorted(r.patient_id for r in rows) == sorted(
        [people.patient.id, people.other_patient.id]
    )  # fmt: skip
    assert {(r.object_id, r.actor_id) for r in rows} == {(export_id, people.staff.id)}
    assert rows[0].details == {"export_id": export_id, "client": f"test {people.staff.username}"}

    admin = client_for(app, people.admin)
    found = admin.get("/admin/audit", query_string={"mrn": people.patient.mrn,
                                                    "action": "fhir.export"})  # fmt: skip
    assert found.get_data(as_text=True).count('<td class="mono">fhir.export.patient</td>') == 1
    mine = client_for(app, people.patient_account).get("/my/access").get_data(as_text=True)
    words = f"copied your record to another system, &#34;test {people.staff.username}&#34;"
    assert words + " (bulk export)" in mine


def test_the_observation_file_holds_the_clinical_inputs_the_search_finds(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    """An interoperability audit (2026-12-07): a staff export's Observation file held the
    reports' Observations only, none of the 9 `input-...` ones (cholesterol, blood pressure,
    smoking, ...) that the same token's `Observation?patient=` and `$everything` found."""
    record_clinical_input(
        sql, people.other_patient,
        ClinicalInputForm(recorded_at=utcnow() - dt.timedelta(days=1), systolic_bp_mmhg=128),
        actor=people.staff, now=utcnow(),
    )  # fmt: skip
    sql.commit()
    client = app.test_client()
    # staff: every patient's; a doctor their patient's 18 values; the other doctor theirs
    for account, n_inputs in ((people.staff, 19), (people.doctor, 18), (people.other_doctor, 1)):
        token = exporter(sql, people, account)
        status_url = kick_off(client, token)
        Worker(app).run_pending()
        files = {item["type"]: item for item in manifest_of(client, status_url, token)["output"]}
        exported = [r["id"] for r in lines_of(client, files["Observation"]["url"], token)]
        assert len(exported) == files["Observation"]["count"]
        searched = []
        for patient in (people.patient, people.other_patient):
            found = call(client, "GET", f"/Observation?patient={patient.id}&_count=100", token)
            searched += [e["resource"]["id"] for e in found.get_json().get("entry", [])]
        inputs = sorted(i for i in searched if i.startswith("input-"))
        assert sorted(i for i in exported if i.startswith("input-")) == inputs, account.username
        assert len(inputs) == n_inputs, account.username


def test_another_accounts_tries_at_an_export_are_audited_and_expired_files_refused(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    """An access audit: another doctor's GET status, GET file and DELETE of export 2 answered
    404 and wrote no row, where the API's other 404s write `access.refused`; and an export past
    `expires_at` still served its files until the worker's sweep deleted them."""
    client = app.test_client()
    doctor = exporter(sql, people)
    other = exporter(sql, people, people.other_doctor)
    status_url = kick_off(client, doctor)
    export_id = int(status_url.rsplit("/", 1)[1])
    Worker(app).run_pending()
    file_url = manifest_of(client, status_url, doctor)["output"][0]["url"]
    outcome_of(call(client, "GET", status_url, other), 404)
    outcome_of(call(client, "GET", file_url, other), 404)
    outcome_of(call(client, "DELETE", status_url, other), 404)
    refused = sql.scalars(
        select(AuditEvent).where(AuditEvent.action == "access.refused").order_by(AuditEvent.id)
    ).all()
    assert [(r.details["method"], r.details["endpoint"]) for r in refused] == [
        ("GET", "fhir.export_status"), ("GET", "fhir.export_file"),
        ("DELETE", "fhir.export_cancel"),
    ]  # fmt: skip
    for row in refused:
        assert (row.actor_id, row.patient_id) == (people.other_doctor.id, None)
        assert (row.object_type, row.object_id) == ("bulk_export", export_id)
        assert row.details["status"] == 404 and str(export_id) in row.details["path"]

    sql.execute(update(BulkExportJob).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    sql.commit()  # expired, the sweep not run yet: the file is still on disk
    outcome_of(call(client, "GET", file_url, doctor), 404)
    last = sql.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (last.action, last.actor_id, last.object_id) == (
        "access.refused", people.doctor.id, export_id
    )  # fmt: skip
    assert not sql.scalars(
        select(AuditEvent).where(AuditEvent.action == "fhir.export.download")
    ).all()


def test_since_exports_a_risk_score_gone_stale_after_it(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    """A back-dated cholesterol added after `_since` makes the signed risk score a version of
    its own, updated then (`observation.stale_meta`); the export had chosen reports by their
    own `updated_at`, so its manifest held the new input's Observations and not the stale
    score (a review, 2026-12-07). Nothing unchanged since comes with it."""
    client = app.test_client()
    token = exporter(sql, people)
    time.sleep(1.1)
    since = utcnow().replace(microsecond=0) + dt.timedelta(seconds=1)
    time.sleep(2.1)
    late_cholesterol(sql, people, signed, 300)
    status_url = kick_off(client, token, f"?_since={since:%Y-%m-%dT%H:%M:%SZ}")
    Worker(app).run_pending()
    files = {item["type"]: item for item in manifest_of(client, status_url, token)["output"]}
    exported = lines_of(client, files["Observation"]["url"], token)
    risk = [r for r in exported if r["id"].startswith(f"{signed.id}-risk-")]
    assert f"{signed.id}-risk-framingham-general-cvd" in [r["id"] for r in risk]
    for resource in exported:
        assert resource["meta"]["lastUpdated"] >= f"{since:%Y-%m-%dT%H:%M:%S}"
        assert fetch(client, f"/Observation/{resource['id']}", token) == resource
    assert all("-stale-" in r["meta"]["versionId"] for r in risk)
    assert not [r for r in exported if r["id"] == f"{signed.id}-hr"]


def _downloads(sql: Session) -> list[AuditEvent]:
    sql.expire_all()
    return list(
        sql.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.startswith("fhir.export.download"))
            .order_by(AuditEvent.id)
        )
    )


def _out_of_date(client: FlaskClient, files: dict[str, str], token: str) -> None:
    for url in files.values():
        gone = outcome_of(call(client, "GET", url, token), 410)
        assert "is out of date" in gone["issue"][0]["diagnostics"]
        assert "Run the export again." in gone["issue"][0]["diagnostics"]


def test_an_export_is_refused_once_a_patient_in_it_is_no_longer_the_doctors(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    """An access audit (2026-12-07): after the doctor's patient was assigned to another doctor,
    every read endpoint answered 404, but the export's three files still answered 200 with the
    patient's record for up to 24 h, and the downloads' rows named no patient, so neither the
    patient's access page nor a search by MRN showed them."""
    client = app.test_client()
    token = exporter(sql, people)
    status_url = kick_off(client, token)
    Worker(app).run_pending()
    files = {i["type"]: i["url"] for i in manifest_of(client, status_url, token)["output"]}
    assert len(lines_of(client, files["Patient"], token)) == 1
    [row] = _downloads(sql)
    assert (row.action, row.patient_id) == ("fhir.export.download", people.patient.id)
    mine = client_for(app, people.patient_account).get("/my/access").get_data(as_text=True)
    assert "downloaded a file of a bulk export that copied your record" in mine

    people.patient.assigned_doctor_id = people.other_doctor.doctor_profile.id
    sql.commit()
    outcome_of(call(client, "GET", f"/Patient/{people.patient.id}", token), 404)
    _out_of_date(client, files, token)
    assert len(_downloads(sql)) == 1  # nothing more was read


def test_an_export_is_refused_once_a_recording_in_it_has_moved(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An access audit (2026-12-07): staff moved an unsigned recording to another patient
    after a staff export; its DiagnosticReport was still served from the export filed under
    the old patient ("subject": "Patient/<old>") for up to 24 h. Each download names every
    patient in the files (one row each)."""
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", synthetic(10.0, 250.0))
    client = app.test_client()
    token = exporter(sql, people, people.staff)
    status_url = kick_off(client, token)
    Worker(app).run_pending()
    files = {i["type"]: i["url"] for i in manifest_of(client, status_url, token)["output"]}
    [read] = lines_of(client, files["DiagnosticReport"], token)
    assert read["subject"]["reference"] == f"Patient/{people.patient.id}"
    rows = _downloads(sql)
    assert [r.action for r in rows][0] == "fhir.export.download" and rows[0].patient_id is None
    assert sorted(r.patient_id for r in rows[1:]) == sorted(
        [people.patient.id, people.other_patient.id]
    )  # fmt: skip
    assert {r.action for r in rows[1:]} == {"fhir.export.download.patient"}

    moved = _move(app, people, report, mrn=people.other_patient.mrn,
                  reason="uploaded to the wrong patient")  # fmt: skip
    assert moved.status_code == 302
    _out_of_date(client, files, token)
    fresh = kick_off(client, token)  # run again, it holds the report under its new patient
    Worker(app).run_pending()
    again = {i["type"]: i["url"] for i in manifest_of(client, fresh, token)["output"]}
    [read] = lines_of(client, again["DiagnosticReport"], token)
    assert read["subject"]["reference"] == f"Patient/{people.other_patient.id}"


def test_export_folders_and_files_are_private_whatever_the_umask(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    """A hardening audit: under a umask of 022 `exports/` was 0755 and the NDJSON files 0644,
    readable by any account on the server, where recordings and PDFs are 0700/0600 whatever
    the umask (`storage.private_dir`, `storage.open_private`); now so are the exports."""
    import os

    client = app.test_client()
    token = exporter(sql, people)
    storage: Path = app.config["SETTINGS"].storage_dir
    done = kick_off(client, token)
    before = os.umask(0o022)
    try:
        Worker(app).run_pending()
    finally:
        os.umask(before)
    export = bulk_export.folder(storage, int(done.rsplit("/", 1)[1]))
    files = sorted(export.iterdir())
    assert [f.name for f in files] == [f"{t}.ndjson" for t in sorted(bulk_export.RESOURCE_TYPES)]
    modes = {str(p.relative_to(storage)): p.stat().st_mode & 0o777 for p in [export.parent, export]}
    assert modes == {"exports": 0o700, f"exports/{export.name}": 0o700}
    assert {f.name: f.stat().st_mode & 0o777 for f in files} == {f.name: 0o600 for f in files}


def test_an_export_is_refused_once_a_report_in_it_is_withdrawn_as_entered_in_error(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A signed report's recording cannot be moved: withdrawing it as entered in error is how
    another person's ECG leaves a record. The export still served it "final" under the wrong
    patient for up to 24 h while `DiagnosticReport/<id>` said entered-in-error (a review,
    2026-12-07)."""
    from tests.test_entered_in_error import REASON, _signed, _withdraw

    report = _signed(app, people, sql, tmp_path)
    client = app.test_client()
    token = exporter(sql, people, people.staff)
    status_url = kick_off(client, token)
    Worker(app).run_pending()
    files = {i["type"]: i["url"] for i in manifest_of(client, status_url, token)["output"]}
    [read] = lines_of(client, files["DiagnosticReport"], token)
    assert read["status"] == "final"
    doctor = client_for(app, people.doctor)
    sql.refresh(report)
    withdrawn = _withdraw(doctor, report, row_version=str(report.row_version), reason=REASON,
                          confirmed="y", password=PASSWORD)  # fmt: skip
    assert withdrawn.status_code == 302
    _out_of_date(client, files, token)
