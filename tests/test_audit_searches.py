"""A search or list that shows several patients' data is in each patient's trail (an access
audit): a staff token's `DiagnosticReport`, `Observation` and `Patient` searches and the REST
API's report and patient lists had written one row naming the patients in its details only,
so the audit page's search by MRN listed nothing and the patient's /my/access had no line."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AuditEvent
from tests.conftest import People, client_for
from tests.test_fhir import call, fetch, issue, upload

PER_PATIENT = (
    "fhir.report.search.patient",
    "fhir.observation.search.patient",
    "fhir.patient.search.patient",
    "report.list.patient",
    "patient.list.patient",
)


def test_a_search_across_patients_is_in_each_patients_trail(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    first = upload(app, people, sql, tmp_path)
    second = upload(app, people, sql, tmp_path, seed=4, patient=people.other_patient)
    token = issue(sql, people.staff, "fhir:read", "reports:read", "patients:read",
                  actor=people.admin)  # fmt: skip
    client = app.test_client()
    assert fetch(client, "/DiagnosticReport", token)["total"] == 2
    tracings = f"{first.id}-ecg,{second.id}-ecg"  # unsigned: the waveforms only
    assert len(fetch(client, f"/Observation?_id={tracings}", token)["entry"]) == 2
    assert fetch(client, "/Patient", token)["total"] == 2
    for path in ("/api/v1/reports", "/api/v1/patients"):
        assert call(client, "GET", f"http://localhost{path}", token).status_code == 200
    fetch(client, f"/DiagnosticReport?patient={people.patient.id}", token)  # one patient

    sql.expire_all()
    both = sorted([people.patient.id, people.other_patient.id])
    for action in PER_PATIENT:
        rows = sql.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        assert sorted(r.patient_id for r in rows) == both, action  # once per request each
        assert {r.actor_id for r in rows} == {people.staff.id}
        assert all(r.details["client"] == f"test {people.staff.username}" for r in rows)
    listed = sql.scalars(select(AuditEvent).where(AuditEvent.action == "report.list.patient")).all()
    assert {r.patient_id: r.details["report_ids"] for r in listed} == {
        people.patient.id: [first.id], people.other_patient.id: [second.id]
    }  # fmt: skip
    searches = sql.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.report.search"))
    assert [s.patient_id for s in searches] == [None, people.patient.id]  # its own row named

    admin = client_for(app, people.admin)
    found = admin.get("/admin/audit", query_string={"mrn": people.other_patient.mrn,
                                                    "action": "fhir.report.search"})  # fmt: skip
    assert found.get_data(as_text=True).count("fhir.report.search.patient</td>") == 1
    mine = client_for(app, people.patient_account).get("/my/access").get_data(as_text=True)
    for words in ("listed your ECG reports in a search", "listed your ECG reports<",
                  "listed measurements of your ECG reports in a search",
                  "saw your name in the list of patients"):  # fmt: skip
        assert words in mine, words
