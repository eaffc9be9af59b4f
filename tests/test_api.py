"""The REST API (/api/v1) on both databases, with tokens an admin issued on /admin/tokens:
authentication and scopes, the web's role rules for every endpoint and role, the same
validation and messages as the web forms, idempotent uploads, the whole flow from a new
patient to the PDF, the audit of every access, the per-token rate limit, the JSON error
shape, and the OpenAPI document and its docs page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from portal import create_app
from portal.access import endpoint_access
from portal.forms import PHONE_MESSAGE
from portal.models import (
    AnalysisJob,
    ApiToken,
    AuditEvent,
    EcgRecording,
    EcgReport,
    Patient,
    utcnow,
)
from portal.services import reports
from portal.worker import Worker
from tests.conftest import (
    PASSWORD,
    People,
    client_for,
    error_messages,
    make_settings,
    post_form,
)
from tests.support.ecg_files import synthetic, write_csv

API_SCOPES = ["patients:read", "patients:write", "recordings:write", "reports:read"]
SECRET_ON_PAGE = re.compile(r'<p class="mono">(cp_[A-Za-z0-9_-]+)</p>')
CSV: dict[str, bytes] = {}


@dataclass
class Tokens:
    """Secrets of tokens issued on the admin page, one per role (all API scopes) and one
    with reports:read only."""

    admin_client: FlaskClient
    staff: str
    doctor: str
    other_doctor: str
    patient: str
    admin: str
    reports_only: str


def issue_on_admin_page(admin: FlaskClient, username: str, scopes: list[str]) -> str:
    form = {"client_name": f"client of {username}", "username": username, "scopes": scopes,
            "days": "30"}  # fmt: skip
    page = post_form(admin, "/admin/tokens", form, token_page="/admin/tokens")
    found = SECRET_ON_PAGE.search(page.get_data(as_text=True))
    assert page.status_code == 200 and found, page.get_data(as_text=True)[:2000]
    return found.group(1)


@pytest.fixture
def tokens(app: Flask, people: People) -> Tokens:
    admin = client_for(app, people.admin)  # the admin logs in once and issues them all

    def issue(account: Any, scopes: list[str] = API_SCOPES) -> str:
        return issue_on_admin_page(admin, account.username, scopes)

    return Tokens(
        admin, issue(people.staff), issue(people.doctor), issue(people.other_doctor),
        issue(people.patient_account), issue(people.admin), issue(people.staff, ["reports:read"]),
    )  # fmt: skip


class Api:
    """A machine client: a test client that sends its bearer token with every request."""

    def __init__(self, app: Flask, secret: str | None) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def open(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("PATCH", path, **kwargs)

    def upload(self, patient_id: int, files: list[tuple[bytes, str]], **fields: Any) -> Any:
        data = {"files": [(io.BytesIO(content), name) for content, name in files], **fields}
        return self.post(f"/patients/{patient_id}/recordings", data=data,
                         content_type="multipart/form-data")  # fmt: skip


def error_of(response: TestResponse, status: int) -> dict[str, Any]:
    """The API's error shape, as JSON (never a page)."""
    assert response.status_code == status, (response.status_code, response.get_data()[:500])
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    assert body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def csv_bytes(tmp_path: Path, seed: int = 3) -> bytes:
    if seed not in CSV:
        path = write_csv(tmp_path / f"ecg-{seed}.csv", synthetic(30, 250, seed=seed))
        CSV[seed] = path.read_bytes()
    return CSV[seed]


def sign(sql: Session, report_id: int, people: People) -> None:
    report = sql.get(EcgReport, report_id)
    assert report is not None
    reports.sign(
        sql, report, actor=people.doctor, password=PASSWORD,
        expected_row_version=report.row_version,
        read=reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Normal sinus rhythm.",
                                   patient_comment="All is well."),
    )  # fmt: skip
    sql.commit()


# --- authentication, scopes, roles ---------------------------------------------------------


def test_a_missing_malformed_expired_or_revoked_token_is_a_401(
    app: Flask, people: People, tokens: Tokens, sql: Session
) -> None:
    for headers in ({}, {"Authorization": "Basic c3RhZmYxOnB3"}, {"Authorization": "Bearer"},
                    {"Authorization": "Bearer cp_not-a-real-token"}):  # fmt: skip
        answer = app.test_client().get("/api/v1/patients", headers=headers)
        assert error_of(answer, 401)["code"] == "unauthenticated"
    # The scheme is case-insensitive (RFC 9110 11.1): integration engines send "bearer".
    lower = app.test_client().get(
        "/api/v1/patients", headers={"Authorization": f"bearer {tokens.staff}"}
    )
    assert lower.status_code == 200
    # The browser's session is no credential here.
    assert error_of(client_for(app, people.staff).get("/api/v1/patients"), 401)
    assert Api(app, tokens.staff).get("/patients").status_code == 200

    expired = sql.scalar(select(ApiToken).where(ApiToken.account_id == people.doctor.id))
    assert expired is not None
    expired.expires_at = utcnow() - dt.timedelta(seconds=1)
    sql.commit()
    assert error_of(Api(app, tokens.doctor).get("/patients"), 401)

    staff_token = sql.scalars(
        select(ApiToken).where(ApiToken.account_id == people.staff.id).order_by(ApiToken.id)
    ).first()
    assert staff_token is not None
    revoked = post_form(tokens.admin_client, f"/admin/tokens/{staff_token.id}/revoke", {},
                        token_page="/admin/tokens")  # fmt: skip
    assert revoked.status_code == 302
    assert error_of(Api(app, tokens.staff).get("/patients"), 401)


def test_a_token_without_the_scope_is_a_403_naming_it(
    app: Flask, people: People, tokens: Tokens, sql: Session
) -> None:
    limited = Api(app, tokens.reports_only)
    refused = error_of(limited.get("/patients"), 403)
    assert refused["code"] == "forbidden" and "patients:read" in refused["message"]
    assert "patients:write" in error_of(limited.post("/patients", json={}), 403)["message"]
    upload = limited.upload(people.patient.id, [(b"x", "x.csv")])
    assert "recordings:write" in error_of(upload, 403)["message"]
    assert limited.get("/reports").status_code == 200
    assert limited.get("/model").status_code == 200  # any valid token
    sql.expire_all()
    refusals = sql.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused"))
    assert {e.details["path"] for e in refusals} >= {"/api/v1/patients"}


def test_an_admin_token_reaches_no_clinical_data(
    app: Flask, people: People, tokens: Tokens
) -> None:
    admin = Api(app, tokens.admin)
    for path in ("/patients", f"/patients/{people.patient.id}", "/reports", "/jobs/1",
                 f"/patients/{people.patient.id}/clinical-inputs", "/reports/1",
                 "/reports/1/report.pdf", "/reports/1/summary.pdf"):  # fmt: skip
        assert error_of(admin.get(path), 403)["message"] == "Not for this role."
    assert error_of(admin.post("/patients", json={}), 403)
    assert admin.get("/model").status_code == 200  # like the /model page: every role


@pytest.mark.parametrize("role", ["staff", "doctor", "patient", "admin"])
def test_each_roles_token_reaches_exactly_its_endpoints(
    app: Flask, people: People, tokens: Tokens, role: str
) -> None:
    """Every /api/v1 route (from app.url_map) with this role's token: a role the route
    declares is never refused (401/403); any other role is a 403, JSON."""
    account = {"staff": people.staff, "doctor": people.doctor, "admin": people.admin,
               "patient": people.patient_account}[role]  # fmt: skip
    api = Api(app, getattr(tokens, role))
    ids = {"patient_id": people.patient.id, "job_id": 1, "report_id": 1}
    seen = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api_v1."):
            continue
        path = rule.build({name: ids[name] for name in rule.arguments})[1]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            answer = api.client.open(path, method=method, headers=api.headers, json={})
            access = endpoint_access(app, rule.endpoint)
            assert isinstance(access, frozenset)
            if account.role in access:
                assert answer.status_code not in (401, 403), (role, method, path)
            else:
                assert error_of(answer, 403)["message"] == "Not for this role.", (method, path)
            seen += 1
    assert seen == 13


def test_every_role_sees_patients_as_on_the_web(app: Flask, people: People, tokens: Tokens) -> None:
    mine, others = people.patient.id, people.other_patient.id
    staff, doctor = Api(app, tokens.staff), Api(app, tokens.doctor)
    other_doctor, patient = Api(app, tokens.other_doctor), Api(app, tokens.patient)

    assert {p["id"] for p in staff.get("/patients").get_json()["items"]} == {mine, others}
    assert [p["id"] for p in doctor.get("/patients").get_json()["items"]] == [mine]
    assert [p["id"] for p in other_doctor.get("/patients").get_json()["items"]] == [others]
    for path in (f"/patients/{mine}", f"/patients/{mine}/clinical-inputs"):
        assert staff.get(path).status_code == 200 and doctor.get(path).status_code == 200
        assert error_of(other_doctor.get(path), 404)["code"] == "not_found"
        assert error_of(patient.get(path), 403)  # patients have no patient pages
    assert error_of(doctor.get(f"/patients/{others}"), 404)
    assert error_of(doctor.get("/patients/999999"), 404)
    # Writing is staff's, as on the web (doctors record clinical inputs).
    assert error_of(doctor.post("/patients", json={}), 403)
    assert error_of(doctor.patch(f"/patients/{mine}", json={"phone": "+1 555 0100"}), 403)
    assert error_of(doctor.upload(mine, [(b"x", "x.csv")]), 403)
    entry = {"systolic_bp_mmhg": 130}
    assert doctor.post(f"/patients/{mine}/clinical-inputs", json=entry).status_code == 201
    assert error_of(other_doctor.post(f"/patients/{mine}/clinical-inputs", json=entry), 404)
    assert error_of(staff.get("/jobs/1"), 404)
    assert error_of(patient.get("/jobs/1"), 403)


# --- patients and clinical inputs ----------------------------------------------------------


def test_staff_register_search_read_and_update_patients(
    app: Flask, people: People, tokens: Tokens, sql: Session
) -> None:
    staff = Api(app, tokens.staff)
    created = staff.post("/patients", json={
        "full_name": "  Grace   Hopper ", "date_of_birth": "1946-12-09", "sex": "female",
        "phone": "+1 555 0199", "assigned_doctor_id": people.doctor.doctor_profile.id,
    })  # fmt: skip
    assert created.status_code == 201, created.get_json()
    grace = created.get_json()
    assert grace["full_name"] == "Grace Hopper" and re.fullmatch(r"CP\d{8}", grace["mrn"])
    assert grace["created_at"].endswith("+00:00") and grace["email"] is None

    found = staff.get(f"/patients?mrn={grace['mrn'].lower()}").get_json()
    assert [p["id"] for p in found["items"]] == [grace["id"]] and found["total"] == 1
    assert [p["id"] for p in staff.get("/patients?name=hopp").get_json()["items"]] == [grace["id"]]
    for typed in ("%25", "_", "G_ace"):  # characters, not wildcards matching everyone
        assert staff.get(f"/patients?name={typed}").get_json()["items"] == [], typed
    by_birth = staff.get("/patients?birth_date=1946-12-09&name=grace").get_json()["items"]
    assert [p["id"] for p in by_birth] == [grace["id"]]
    assert staff.get("/patients?birth_date=1946-12-10&name=grace").get_json()["items"] == []
    paged = staff.get("/patients?per_page=2&page=2").get_json()
    assert (paged["total"], paged["pages"], paged["page"], len(paged["items"])) == (3, 2, 2, 1)
    # The same name (as searched) and birth date again, an EHR retrying after a time-out, is
    # a 409 naming the patient (it had registered her twice); another person of that name
    # and birth date is registered when the client says so.
    again = {"full_name": "grace hopper", "date_of_birth": "1946-12-09", "sex": "female"}
    twice = error_of(staff.post("/patients", json=again), 409)
    assert (
        f"Patient {grace['id']} (Grace Hopper, born 1946-12-09, MRN {grace['mrn']})"
        in (twice["message"])
    )
    other = staff.post("/patients", json={**again, "different_person": True})
    assert other.status_code == 201 and other.get_json()["id"] != grace["id"]
    assert "different_person" not in other.get_json()

    changed = staff.patch(f"/patients/{grace['id']}", json={"email": "grace@example.org"})
    assert changed.status_code == 200 and changed.get_json()["email"] == "grace@example.org"
    assert changed.get_json()["phone"] == "+1 555 0199"  # fields not sent stay
    assert staff.get(f"/patients/{grace['id']}").get_json()["email"] == "grace@example.org"

    # The web form's checks and messages, with the field named.
    future = staff.post("/patients", json={"full_name": "X", "date_of_birth": "2999-01-01",
                                           "sex": "male"})  # fmt: skip
    assert error_of(future, 422) == {
        "code": "invalid",
        "field": "date_of_birth",
        "message": "The date of birth cannot be in the future.",
    }
    assert error_of(staff.post("/patients", json={"full_name": "X", "sex": "male"}),
                    422)["field"] == "date_of_birth"  # fmt: skip
    bad_phone = staff.patch(f"/patients/{grace['id']}", json={"phone": "call me"})
    assert error_of(bad_phone, 422) == {
        "code": "invalid",
        "field": "phone",
        "message": PHONE_MESSAGE,
    }
    # A phone of no digits had been saved; one with its extension refused (a bad-input audit).
    no_digits = staff.patch(f"/patients/{grace['id']}", json={"phone": "-----"})
    assert error_of(no_digits, 422)["message"] == PHONE_MESSAGE
    extension = staff.patch(f"/patients/{grace['id']}", json={"phone": "+44 20 7946 0000 ext. 12"})
    assert extension.status_code == 200 and extension.get_json()["phone"].endswith("ext. 12")
    spoofed = staff.patch(f"/patients/{grace['id']}", json={"full_name": "Grace \u202erepoh"})
    assert error_of(spoofed, 422) == {
        "code": "invalid",
        "field": "full_name",
        "message": "Remove the invisible character (right-to-left override).",
    }
    # Hangul fillers are letters to Unicode, blank on screen: such a name had been saved (201).
    for blank in ("\u3164", "\u115f\u1160", "\uffa0 \u3164"):
        filler = staff.post("/patients", json={"full_name": blank, "date_of_birth": "1950-01-01",
                                               "sex": "male"})  # fmt: skip
        assert error_of(filler, 422)["message"] == "A name needs letters.", blank
    no_doctor = staff.patch(f"/patients/{grace['id']}", json={"assigned_doctor_id": 99999})
    assert error_of(no_doctor, 422)["message"] == "Choose an active doctor."
    assert error_of(staff.post("/patients", json={"full_name": "X", "date_of_birth":
                    "1950-01-01", "sex": "robot"}), 422)["field"] == "sex"  # fmt: skip
    assert error_of(staff.patch(f"/patients/{grace['id']}", json={"shoe_size": 9}),
                    422)["field"] == "shoe_size"  # fmt: skip
    assert error_of(staff.get("/patients?per_page=1000"), 422)["field"] == "per_page"
    # A misspelt filter is refused, not ignored (`?patient=` had returned every report).
    for url in ("/reports?patient=2", "/patients?nmae=grace", "/reports?date_from=2030-01-01"):
        refused = error_of(staff.get(url), 422)
        name = url.split("?")[1].split("=")[0]
        assert (
            refused["field"] == name and f"Unknown query parameter '{name}'" in refused["message"]
        ), refused
    assert error_of(staff.get("/patients?birth_date=1946-13-01"), 422)["field"] == "birth_date"

    sql.expire_all()
    views = sql.scalars(select(AuditEvent).where(AuditEvent.action == "patient.view")).all()
    assert [(e.patient_id, e.details["client"]) for e in views] == [
        (grace["id"], "client of staff1")
    ]
    searches = sql.scalars(select(AuditEvent).where(AuditEvent.action == "patient.search"))
    assert any(grace["id"] in e.details["patient_ids"] for e in searches)
    assert sql.scalar(select(AuditEvent).where(AuditEvent.action == "patient.create"))
    update = sql.scalar(select(AuditEvent).where(AuditEvent.action == "patient.update"))
    assert update is not None and update.details == {
        "fields": ["email"],
        "was": {"email": None},
        "now": {"email": "grace@example.org"},
        "token_id": update.details["token_id"],  # the client's change, named as FHIR's are
        "client": "client of staff1",
    }

    # Renamed into another patient's name and date of birth, a PATCH is a 409 naming them, as
    # the web's edit page refuses it (it had made two records of one person; an integrator's
    # audit); the client may say it is another person.
    turing = staff.post("/patients", json={
        "full_name": "Alan Turing", "date_of_birth": "1946-12-09", "sex": "male"})  # fmt: skip
    renamed = {"full_name": "Grace Hopper"}
    refused = error_of(staff.patch(f"/patients/{turing.get_json()['id']}", json=renamed), 409)
    assert f"Patient {grace['id']} (Grace Hopper" in refused["message"]
    assert "is this one a duplicate?" in refused["message"]
    sql.expire_all()
    assert sql.get(Patient, turing.get_json()["id"]).full_name == "Alan Turing"
    kept = {**renamed, "different_person": True}
    assert staff.patch(f"/patients/{turing.get_json()['id']}", json=kept).status_code == 200
    # The same name in capitals or with other accents or spacing is no new identity: a twin
    # confirmed as another person stays updatable (an EHR sending capitals had been refused
    # every update).
    for same in ("GRACE HOPPER", "Gráce  hopper"):
        again = staff.patch(f"/patients/{turing.get_json()['id']}", json={"full_name": same})
        assert again.status_code == 200, again.get_json()
    # Its words in another order are another name, checked again ("María José" is not
    # "José María"; an identity audit, 2026-12-07).
    reordered = {"full_name": "Hopper Grace"}
    refused = error_of(staff.patch(f"/patients/{turing.get_json()['id']}", json=reordered), 409)
    assert f"Patient {grace['id']} (Grace Hopper" in refused["message"]
    kept = {**reordered, "different_person": True}
    assert staff.patch(f"/patients/{turing.get_json()['id']}", json=kept).status_code == 200


def test_clinical_inputs_are_checked_and_stored_as_on_the_web(
    app: Flask, people: People, tokens: Tokens, sql: Session
) -> None:
    doctor = Api(app, tokens.doctor)
    path = f"/patients/{people.patient.id}/clinical-inputs"
    created = doctor.post(path, json={
        "total_cholesterol": 5.8, "hdl": 1.3, "cholesterol_unit": "mmol/L", "smoker": True,
        "diabetic": False, "systolic_bp_mmhg": 142, "recorded_at": "2024-05-31T10:30:00+02:00",
    })  # fmt: skip
    assert created.status_code == 201, created.get_json()
    entry = created.get_json()
    assert entry["total_cholesterol_mg_dl"] == pytest.approx(224.29, abs=0.01)
    assert entry["recorded_at"] == "2024-05-31T08:30:00+00:00"
    assert (entry["smoker"], entry["diabetic"], entry["bp_treated"]) == (True, False, None)

    typo = doctor.post(path, json={"total_cholesterol": 5.8})  # mmol/L typed as mg/dL
    assert error_of(typo, 422) == {"code": "invalid", "field": "total_cholesterol", "message":
        "Total cholesterol 5.8 mg/dL is outside the plausible range 50-700 mg/dL. "
        "Was it measured in mmol/L?"}  # fmt: skip
    # The string "1.200" umol/L, as typed, is asked about as on the web form (it was 1.2).
    dotted = doctor.post(path, json={"creatinine": "1.200", "creatinine_unit": "umol/L"})
    assert error_of(dotted, 422) == {"code": "invalid", "field": "creatinine", "message":
        'Write "1.200" without a thousands separator: it could mean 1200 or 1.2.'}  # fmt: skip
    assert error_of(doctor.post(path, json={"heart_rate_bpm": 72.5}), 422)["message"] == (
        "Heart rate must be a whole number."
    )
    assert error_of(doctor.post(path, json={"recorded_at": "1850-01-01T00:00:00"}),
                    422)["field"] == "recorded_at"  # fmt: skip
    assert error_of(doctor.post(path, json={"killip_class": 5}), 422)["field"] == "killip_class"
    assert error_of(doctor.post(path, json={"other_issues": "a\x00b"}), 422)["field"] == (
        "other_issues"
    )

    listed = doctor.get(path).get_json()["items"]
    assert [i["id"] for i in listed] == [entry["id"]]
    sql.expire_all()
    event = sql.scalar(select(AuditEvent).where(AuditEvent.action == "clinical_input.list"))
    assert event is not None and event.patient_id == people.patient.id


def test_a_decimal_in_an_integer_field_is_refused_not_cut(
    app: Flask, people: People, tokens: Tokens, sql: Session
) -> None:
    """Since an input audit: Killip class 3.9 was stored as 3, and doctor 1.9 assigned doctor
    1; each is now a 422 naming the field, and nothing changes."""
    staff = Api(app, tokens.staff)
    patient_id = people.patient.id
    killip = staff.post(f"/patients/{patient_id}/clinical-inputs", json={"killip_class": 3.9})
    assert error_of(killip, 422)["field"] == "killip_class"
    other_id = people.other_doctor.doctor_profile.id
    assigned = staff.patch(f"/patients/{patient_id}", json={"assigned_doctor_id": other_id + 0.9})
    assert error_of(assigned, 422)["field"] == "assigned_doctor_id"
    assert staff.get(f"/patients/{patient_id}").get_json()["assigned_doctor_id"] == (
        people.doctor.doctor_profile.id
    )
    assert staff.get(f"/patients/{patient_id}/clinical-inputs").get_json()["items"] == []
    whole = staff.post(f"/patients/{patient_id}/clinical-inputs", json={"killip_class": 2})
    assert whole.status_code == 201 and whole.get_json()["killip_class"] == 2


def test_a_patch_of_nothing_or_with_if_match_is_refused_and_changes_nothing(
    app: Flask, people: People, tokens: Tokens
) -> None:
    """A PATCH with no body had answered 200, and one with a bogus If-Match had applied its
    change: patients are not versioned, so If-Match cannot be checked and is a 400, as on
    FHIR (an interoperability audit, 2026-12-07)."""
    staff = Api(app, tokens.staff)
    path = f"/patients/{people.patient.id}"
    before = staff.get(path).get_json()
    assert "ETag" not in staff.get(path).headers
    flag_alone = {"json": {"different_person": True}}  # no field: 200 and nothing changed
    for sent in ({}, {"data": b"", "content_type": "application/json"}, {"json": {}}, flag_alone):
        empty = error_of(staff.patch(path, **sent), 422)
        assert empty["code"] == "invalid" and empty["message"].startswith("Nothing to change"), sent
    guarded = staff.patch(path, json={"phone": "+44 20 7946 0000"},
                          headers={"If-Match": 'W/"bogus"'})  # fmt: skip
    refused = error_of(guarded, 400)
    assert refused["code"] == "bad_request"
    assert "If-Match, If-Unmodified-Since and If-None-Match cannot be checked" in refused["message"]
    since = {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}  # its sibling (a review)
    error_of(staff.patch(path, json={"phone": "+44 20 7946 0000"}, headers=since), 400)
    # If-None-Match: * had applied the change to the patient that exists (an audit, 2026-12-07).
    absent = {"If-None-Match": "*"}
    error_of(staff.patch(path, json={"phone": "+44 20 7946 0000"}, headers=absent), 400)
    assert staff.get(path).get_json() == before
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["components"]["schemas"]["PatientUpdate"]["minProperties"] == 1
    changed = staff.patch(path, json={"phone": "+44 20 7946 0000"})
    assert changed.status_code == 200 and changed.get_json()["phone"] == "+44 20 7946 0000"


def test_a_boolean_field_takes_true_or_false_only(
    app: Flask, people: People, tokens: Tokens
) -> None:
    """`{"in_hospital_pci": 0}` had been stored as false, as 3.9 had been stored as Killip
    class 3 (an interoperability audit, 2026-12-07): a JSON boolean is true or false, and
    anything else a 422 naming the field, nothing stored."""
    staff = Api(app, tokens.staff)
    path = f"/patients/{people.patient.id}/clinical-inputs"
    for sent in (0, 1, "false", "yes", 0.0):
        refused = error_of(staff.post(path, json={"in_hospital_pci": sent}), 422)
        assert refused["field"] == "in_hospital_pci", sent
        assert refused["message"] == "Not a valid boolean: send true or false.", sent
    twin = staff.patch(f"/patients/{people.patient.id}",
                       json={"phone": "+44 20 7946 0000", "different_person": 1})  # fmt: skip
    assert error_of(twin, 422)["field"] == "different_person"
    assert staff.get(path).get_json()["items"] == []
    stored = staff.post(path, json={"in_hospital_pci": False, "smoker": True, "killip_class": 1})
    assert stored.status_code == 201
    assert (stored.get_json()["in_hospital_pci"], stored.get_json()["smoker"]) == (False, True)
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    codes = document["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"]
    assert {"gone", "not_found", "invalid", "error"} <= set(codes)
    pdf = document["paths"]["/api/v1/reports/{report_id}/report.pdf"]["get"]["responses"]
    assert pdf["410"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


# --- uploads: the web form's checks and messages, idempotent -------------------------------


def test_a_bad_upload_gets_the_web_forms_message(
    app: Flask, people: People, tokens: Tokens, sql: Session, tmp_path: Path
) -> None:
    staff_web = client_for(app, people.staff)
    api = Api(app, tokens.staff)
    no_time_column = write_csv(tmp_path / "bare.csv", synthetic(20, 250), with_time=False)
    bad_uploads: list[list[tuple[bytes, str]]] = [
        [(no_time_column.read_bytes(), "bare.csv")],
        [(b"\x00\x01 this is not an ECG \xff" * 20, "mystery.dat")],
        [(b"PK\x03\x04 broken zip", "ecg.zip")],
        [],
    ]
    for files in bad_uploads:
        page = post_form(
            staff_web, f"/patients/{people.patient.id}/recordings/new",
            {"files": [(io.BytesIO(content), name) for content, name in files]},
            token_page=f"/patients/{people.patient.id}/recordings/new",
            content_type="multipart/form-data",
        )  # fmt: skip
        assert page.status_code == 422
        web_messages = error_messages(page.get_data(as_text=True))
        refused = error_of(api.upload(people.patient.id, files), 422)
        assert refused["field"] == "files" and [refused["message"]] == web_messages, (
            refused,
            web_messages,
        )
    # A form field the service checks: the same message too.
    csv = [(no_time_column.read_bytes(), "bare.csv")]
    assert error_of(api.upload(people.patient.id, csv, fs_hz="5000"), 422) == {
        "code": "invalid", "field": "fs_hz",
        "message": "Sampling rate 5000 Hz is outside 50-2000 Hz.",
    }  # fmt: skip
    assert error_of(api.upload(people.patient.id, csv, units="volts"), 422)["field"] == "units"
    sql.expire_all()
    assert sql.scalar(select(EcgRecording)) is None and sql.scalar(select(AnalysisJob)) is None


def test_an_upload_over_the_limit_says_the_limit_and_its_size(
    app: Flask, people: People, tokens: Tokens
) -> None:
    """A 413 names the limit and the size sent, as the web form does: a 210-MB upload had
    been told only "The request body is larger than the portal accepts." (an upload audit).
    Another request's 413 keeps the body's words (its limit is the form's, not an upload's)."""
    app.config["SETTINGS"].max_upload_mb = 1
    api = Api(app, tokens.staff)
    too_big = error_of(api.upload(people.patient.id, [(b"0" * (2 * 1024 * 1024), "big.csv")]), 413)
    assert too_big["code"] == "too_large" and too_big["message"].startswith(
        "The file is larger than the portal accepts: at most 1 MB per upload; this one is 2 MB. "
        "Zip the recording's files and upload the .zip"
    )
    form = error_of(api.post("/patients", json={"full_name": "x" * (2 * 1024 * 1024)}), 413)
    assert form["message"] == "The request body is larger than the portal accepts."


def test_the_whole_flow_from_a_new_patient_to_the_pdf(
    app: Flask, people: People, tokens: Tokens, sql: Session, tmp_path: Path
) -> None:
    """The order system registers a patient and uploads (twice: idempotent); the worker
    analyses; the EHR polls the job, lists the reports, reads one and fetches its PDF."""
    staff, doctor = Api(app, tokens.staff), Api(app, tokens.doctor)
    patient = staff.post("/patients", json={
        "full_name": "Alan Turing", "date_of_birth": "1954-06-07", "sex": "male",
        "assigned_doctor_id": people.doctor.doctor_profile.id,
    }).get_json()  # fmt: skip

    first = staff.upload(patient["id"], [(csv_bytes(tmp_path), "ecg.csv")])
    assert first.status_code == 201, first.get_json()
    stored = first.get_json()
    assert stored["duplicate"] is False and stored["job"]["state"] == "queued"
    assert stored["recording"]["file_format"] == "csv"
    assert stored["recording"]["lead_names"] == ["I", "II", "III"]
    again = staff.upload(patient["id"], [(csv_bytes(tmp_path), "same-file-other-name.csv")])
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert again.get_json()["recording"]["id"] == stored["recording"]["id"]
    assert again.get_json()["job"]["id"] == stored["job"]["id"]
    sql.expire_all()
    assert len(sql.scalars(select(EcgRecording)).all()) == 1

    job_id = stored["job"]["id"]
    assert staff.get(f"/jobs/{job_id}").get_json()["report_id"] is None
    assert Worker(app).run_pending() == 1
    polled = doctor.get(f"/jobs/{job_id}").get_json()
    assert polled["state"] == "succeeded" and polled["progress_pct"] == 100
    assert polled["patient_id"] == patient["id"] and polled["error"] is None
    report_id = polled["report_id"]
    assert error_of(Api(app, tokens.other_doctor).get(f"/jobs/{job_id}"), 404)

    today = dt.date.today()
    listed = doctor.get(f"/reports?status=preliminary&patient_id={patient['id']}"
                        f"&from={today - dt.timedelta(days=1)}&to={today}").get_json()  # fmt: skip
    assert [r["id"] for r in listed["items"]] == [report_id] and listed["total"] == 1
    assert doctor.get("/reports?status=final").get_json()["items"] == []
    assert doctor.get(f"/reports?to={today - dt.timedelta(days=2)}").get_json()["total"] == 0
    assert Api(app, tokens.other_doctor).get("/reports").get_json()["items"] == []
    assert error_of(doctor.get("/reports?from=1850-01-01"), 422)["field"] == "from"
    assert error_of(doctor.get("/reports?status=lost"), 422)["field"] == "status"
    # Several statuses in one call; a parameter that takes one value, given twice, is a 422
    # naming it (`?status=final&status=amended` had listed the final reports only).
    several = doctor.get("/reports?status=final,preliminary,amended").get_json()
    assert [r["id"] for r in several["items"]] == [report_id]
    assert error_of(doctor.get("/reports?status=final,lost"), 422)["field"] == "status"
    twice = error_of(doctor.get("/reports?status=final&status=preliminary"), 422)
    assert twice == {"code": "invalid", "field": "status",
                     "message": "status is given 2 times: give it once."}  # fmt: skip
    assert error_of(doctor.get(f"/reports?patient_id=1&patient_id={patient['id']}"), 422)
    # A view that takes no query parameter refuses one too: ?version=2 had sent version 3.
    for url in (f"/reports/{report_id}/report.pdf?version=2", f"/reports/{report_id}?foo=1",
                f"/patients/{patient['id']}?foo=1", f"/jobs/{job_id}?foo=1"):  # fmt: skip
        unknown = error_of(doctor.get(url), 422)
        assert unknown["field"] == url.rsplit("?", 1)[1].split("=")[0], url

    report = doctor.get(f"/reports/{report_id}").get_json()
    machine = report["machine_read"]
    assert machine["analysis_lead"] == "II" and machine["lead_names"] == ["I", "II", "III"]
    assert machine["heart_rate"]["mean_bpm"] == pytest.approx(72, abs=3)
    assert machine["main_finding"]["code"] and machine["intervals"]["qrs_ms"]
    assert [v["kind"] for v in report["versions"]] == ["machine"]
    assert report["physician_read"] is None and len(report["risk_scores"]) == 5
    assert report["documents"]["clinician_pdf"] == f"/api/v1/reports/{report_id}/report.pdf"
    assert error_of(Api(app, tokens.other_doctor).get(f"/reports/{report_id}"), 404)

    pdf = doctor.get(f"/reports/{report_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert error_of(doctor.get(f"/reports/{report_id}/summary.pdf"), 409)

    # Signed: the patient's token now sees it (their own signed reports only).
    patient_api = Api(app, tokens.patient)
    assert patient_api.get("/reports").get_json()["items"] == []  # not theirs: Alan's
    sign(sql, report_id, people)
    signed = doctor.get(f"/reports/{report_id}").get_json()
    assert signed["status"] == "final" and signed["physician_read"]["signed_by"] == "Doctor1"
    assert signed["physician_read"]["conclusion"] == "Normal sinus rhythm."
    summary = staff.get(f"/reports/{report_id}/summary.pdf")
    assert summary.status_code == 200 and summary.data.startswith(b"%PDF")

    sql.expire_all()
    actions = {(e.action, e.patient_id) for e in sql.scalars(select(AuditEvent))}
    assert {
        ("recording.upload", patient["id"]),
        ("recording.duplicate_upload", patient["id"]),
        ("job.view", patient["id"]),
        ("report.view", patient["id"]),
        ("report.download", patient["id"]),
        ("report.list", patient["id"]),
    } <= actions


def test_a_201_names_what_it_created_in_location(
    app: Flask, tokens: Tokens, tmp_path: Path
) -> None:
    """An interoperability audit (curl, schemathesis): `POST /patients` and an upload answered
    201 with no `Location`, which RFC 9110 (15.3.2) has name what was created. The patient's
    URL, and the upload's analysis job (what the client polls), are there and in the
    document."""
    staff = Api(app, tokens.staff)
    hopper = {"full_name": "Grace Hopper", "date_of_birth": "1956-12-09", "sex": "female"}
    created = staff.post("/patients", json=hopper)
    assert created.status_code == 201
    assert created.headers["Location"] == f"/api/v1/patients/{created.get_json()['id']}"
    assert staff.client.get(created.headers["Location"], headers=staff.headers).get_json() == (
        created.get_json()
    )
    patient_id = created.get_json()["id"]
    uploaded = staff.upload(patient_id, [(csv_bytes(tmp_path), "ecg.csv")])
    assert uploaded.status_code == 201
    job = uploaded.get_json()["job"]
    assert uploaded.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    polled = staff.client.get(uploaded.headers["Location"], headers=staff.headers).get_json()
    assert polled["id"] == job["id"] and polled["patient_id"] == patient_id
    again = staff.upload(patient_id, [(csv_bytes(tmp_path), "ecg.csv")])
    assert again.status_code == 200 and "Location" not in again.headers  # nothing created

    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/patients", "/api/v1/patients/{patient_id}/recordings"):
        headers = paths[path]["post"]["responses"]["201"]["headers"]
        assert headers["Location"]["schema"]["format"] == "uri-reference", path


def test_a_patients_token_sees_only_their_own_signed_reports(
    app: Flask, people: People, tokens: Tokens, sql: Session, tmp_path: Path
) -> None:
    staff = Api(app, tokens.staff)
    ids = []
    for seed, patient in ((3, people.patient), (4, people.patient), (5, people.other_patient)):
        uploaded = staff.upload(patient.id, [(csv_bytes(tmp_path, seed), "ecg.csv")])
        assert uploaded.status_code == 201
        ids.append(uploaded.get_json()["job"]["id"])
    assert Worker(app).run_pending() == 3
    own_signed, own_preliminary, others = (
        staff.get(f"/jobs/{job_id}").get_json()["report_id"] for job_id in ids
    )
    sign(sql, own_signed, people)
    other = sql.get(EcgReport, others)
    assert other is not None
    reports.sign(sql, other, actor=people.other_doctor, password=PASSWORD,
                 expected_row_version=other.row_version,
                 read=reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Fine."))  # fmt: skip
    sql.commit()

    patient = Api(app, tokens.patient)
    listed = patient.get("/reports").get_json()["items"]
    assert [r["id"] for r in listed] == [own_signed]
    mine = patient.get(f"/reports/{own_signed}").get_json()
    assert mine["status"] == "final" and mine["plain_finding"]
    # No clinical coding for the patient, as on FHIR: their words are plain_finding.
    for seen in (listed[0], mine):
        assert seen["main_finding"] is None and seen["main_finding_label"] is None
        assert seen["urgency"] is None
    staff_view = Api(app, tokens.staff).get(f"/reports/{own_signed}").get_json()
    assert staff_view["main_finding"] and isinstance(staff_view["urgency"], int)
    assert mine["machine_read"] is None and mine["versions"] is None
    assert mine["risk_scores"] is None and mine["physician_read"] is None
    assert mine["documents"]["clinician_pdf"] is None  # PATIENTS_GET_CLINICIAN_PDF is off
    summary = patient.get(f"/reports/{own_signed}/summary.pdf")
    assert summary.status_code == 200 and summary.data.startswith(b"%PDF")
    assert error_of(patient.get(f"/reports/{own_signed}/report.pdf"), 404)
    for report_id in (own_preliminary, others):
        for path in (f"/reports/{report_id}", f"/reports/{report_id}/summary.pdf"):
            assert error_of(patient.get(path), 404)


# --- the rate limit, the error shape, the document -----------------------------------------


@pytest.fixture
def limited_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    settings = dataclasses.replace(make_settings(database_url, tmp_path), api_rate_limit="3/minute")
    application = create_app(settings, TESTING=True)
    yield application
    application.extensions["db_engine"].dispose()


def test_each_token_has_its_own_rate_limit_across_the_api(
    limited_app: Flask, sql: Session, people: People
) -> None:
    from portal.services import api_tokens

    first, second = (
        api_tokens.issue(sql, people.staff, client_name=name, scopes=API_SCOPES, days=1,
                         actor=people.admin).secret
        for name in ("EHR", "order system")
    )  # fmt: skip
    sql.commit()
    api = Api(limited_app, first)
    assert [api.get(p).status_code for p in ("/patients", "/reports", "/model")] == [200] * 3
    throttled = api.get("/patients")
    assert error_of(throttled, 429)["code"] == "rate_limited"
    assert throttled.headers["Retry-After"] == "60"  # the limit's window: 3 a minute
    assert error_of(api.get(f"/patients/{people.patient.id}"), 429)  # every route counts
    assert Api(limited_app, second).get("/patients").status_code == 200


def test_every_client_mistake_is_a_json_error_never_a_page(
    app: Flask, people: People, tokens: Tokens
) -> None:
    staff = Api(app, tokens.staff)
    assert error_of(staff.get("/no-such-resource"), 404)["code"] == "not_found"
    assert error_of(staff.get("/patients/0"), 404)  # ids start at 1
    assert error_of(staff.get(f"/patients/{2**40}"), 404)  # past the id column
    not_allowed = staff.open("DELETE", f"/patients/{people.patient.id}")
    assert error_of(not_allowed, 405)
    assert set(not_allowed.headers["Allow"].split(", ")) >= {"GET", "PATCH"}  # RFC 9110
    bad_json = staff.post("/patients", data="{not json", content_type="application/json")
    assert error_of(bad_json, 400)["code"] == "bad_request"
    # a form-encoded body is not JSON: 415 saying so (it had been "Missing data for required
    # field." of a field the body held)
    form = error_of(staff.post("/patients", data={"full_name": "Ann Lee", "sex": "female"}), 415)
    assert form["code"] == "unsupported_media_type"
    assert form["message"] == (
        "Send this body as JSON (Content-Type: application/json); it was sent as "
        "application/x-www-form-urlencoded."
    )
    # nor is JSON a multipart upload: 415 saying so (it had been a 422 "Choose a recording
    # file to upload.", an access/write-path audit, 2026-12-07)
    upload = staff.post(f"/patients/{people.patient.id}/recordings", json={"files": ["a.csv"]})
    assert error_of(upload, 415)["message"] == (
        "Send this body as a multipart form (Content-Type: multipart/form-data); it was sent as "
        "application/json."
    )
    missing = error_of(staff.post("/patients", json={"sex": "female"}), 422)
    assert missing["field"] in {"full_name", "date_of_birth"}
    wrong_type = staff.post(f"/patients/{people.patient.id}/clinical-inputs",
                            json={"systolic_bp_mmhg": "high"})  # fmt: skip
    assert error_of(wrong_type, 422)["field"] == "systolic_bp_mmhg"
    overflow = staff.post(f"/patients/{people.patient.id}/clinical-inputs",
                          json={"recorded_at": "0001-01-01T00:00:00+05:00"})  # fmt: skip
    assert error_of(overflow, 422)["field"] == "recorded_at"
    assert error_of(staff.get("/reports?page=0"), 422)["field"] == "page"


def test_the_openapi_document_describes_every_route_and_its_access(
    app: Flask, tokens: Tokens
) -> None:
    answer = app.test_client().get("/api/v1/openapi.json")  # public, like /login
    assert answer.status_code == 200
    document = answer.get_json()
    assert document["openapi"] == "3.1.0" and document["info"]["version"] == "v1"
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    documented = {
        (path, method.upper()): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api_v1."):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method))
            operation = documented[(path, method)]
            access = endpoint_access(app, rule.endpoint)
            assert isinstance(access, frozenset) and access, rule.endpoint
            assert operation["x-roles"] == sorted(r.value for r in access)
            assert operation["x-scopes"] == sorted(view.api_scopes)
            assert "default" in operation["responses"]  # the error shape, for any status
    assert routes == set(documented)
    assert len(routes) == 13
    # Every scope an operation needs is one an admin can grant.
    from portal.services.api_tokens import SCOPES

    assert {s for op in documented.values() for s in op["x-scopes"]} <= set(SCOPES)
    assert document["components"]["schemas"]["Error"]["required"] == ["error"]


def test_the_document_states_the_rules_the_api_refuses_by(
    app: Flask, people: People, tokens: Tokens, tmp_path: Path
) -> None:
    """An interoperability audit (schemathesis ST202, `--checks all`): requests valid by the
    document were refused with a 422: `to=2294-08-27` (the 1900-2100 years only as
    `x-minimum`), `fs_hz=0` (50-2000 Hz), `name=` with a NUL character, and a clinical input
    of nulls only ("Nothing was entered"). Each rule is now in the document, as a standard
    validator reads it, and the API refuses exactly past it."""
    import jsonschema_rs

    document = app.test_client().get("/api/v1/openapi.json").get_json()
    paths = document["paths"]

    def query(path: str, name: str) -> dict[str, Any]:
        parameters = paths[f"/api/v1{path}"]["get"]["parameters"]
        return next(p["schema"] for p in parameters if p["name"] == name)

    def valid(schema: dict[str, Any], value: Any) -> bool:
        return bool(jsonschema_rs.Draft202012Validator(schema).is_valid(value))

    staff = Api(app, tokens.staff)
    for name in ("from", "to"):
        day = query("/reports", name)
        assert valid(day, "2100-12-31") and valid(day, "1900-01-01")
        assert not valid(day, "2294-08-27") and not valid(day, "1899-12-31")
        assert staff.get(f"/reports?{name}=2100-12-31").status_code == 200
        assert error_of(staff.get(f"/reports?{name}=2101-01-01"), 422)["field"] == name

    fs_hz = document["components"]["schemas"]["Upload"]["properties"]["fs_hz"]
    assert (fs_hz["minimum"], fs_hz["maximum"]) == (50, 2000)
    assert fs_hz["type"] == "number"  # a form's field has no null: "null" is refused
    csv = [(csv_bytes(tmp_path), "ecg.csv")]
    for refused in ("49.9", "2000.1", "0"):
        answer = error_of(staff.upload(people.patient.id, csv, fs_hz=refused), 422)
        assert answer["field"] == "fs_hz", answer

    for name in ("name", "mrn"):
        text = query("/patients", name)
        assert valid(text, "0") and not valid(text, "a\x00b")
        assert staff.get(f"/patients?{name}=0").status_code == 200
        assert error_of(staff.get(f"/patients?{name}=a%00b"), 422)["field"] == name

    entry = document["components"]["schemas"]["ClinicalInputCreate"]
    nothing = {"total_cholesterol": None, "smoker": None, "other_issues": "  "}
    assert not valid(entry, nothing) and not valid(entry, {})
    assert valid(entry, {"smoker": False}) and valid(entry, {"other_issues": "chest pain"})
    path = f"/patients/{people.patient.id}/clinical-inputs"
    assert "Nothing was entered" in error_of(staff.post(path, json=nothing), 422)["message"]
    assert staff.post(path, json={"smoker": False}).status_code == 201
    assert staff.post(path, json={"other_issues": "chest pain"}).status_code == 201


def test_a_clinical_input_names_its_list_and_the_document_states_its_ranges(
    app: Flask, people: People, tokens: Tokens
) -> None:
    """An interoperability audit: `POST /patients/<id>/clinical-inputs` answered 201 without
    `Location`, and the document stated no range of the values (cholesterol 50-700 mg/dL,
    systolic 50-300 mmHg, Killip 1-4 ...) the API refuses outside of. The 201 names the
    patient's list (no URL serves one entry), and every range the document states, in each
    unit, is exactly where the API starts refusing."""
    import math

    import jsonschema_rs

    staff = Api(app, tokens.staff)
    path = f"/patients/{people.patient.id}/clinical-inputs"
    created = staff.post(path, json={"smoker": True})
    assert created.status_code == 201
    assert created.headers["Location"] == f"/api/v1{path}"
    listed = staff.client.get(created.headers["Location"], headers=staff.headers).get_json()
    assert created.get_json()["id"] in [item["id"] for item in listed["items"]]

    document = app.test_client().get("/api/v1/openapi.json").get_json()
    post = document["paths"]["/api/v1/patients/{patient_id}/clinical-inputs"]["post"]
    assert post["responses"]["201"]["headers"]["Location"]["schema"]["format"] == "uri-reference"
    entry = document["components"]["schemas"]["ClinicalInputCreate"]
    validator = jsonschema_rs.Draft202012Validator(entry)
    edges: list[tuple[dict[str, Any], str, float, float]] = []  # (unit, field, low, high)
    for name, field in entry["properties"].items():
        if "minimum" in field:
            edges.append(({}, name, field["minimum"], field["maximum"]))
    for rule in entry["allOf"]:  # a lab value's range in the unit named (none: the default)
        for branch in rule["anyOf"]:
            unit_field, *values = branch["properties"]
            unit = {unit_field: branch["properties"][unit_field]["const"]}
            ways = [unit] if "required" in branch else [unit, {}]
            for name in values:
                field = branch["properties"][name]
                edges += [(way, name, field["minimum"], field["maximum"]) for way in ways]
    stated = {name for _, name, _, _ in edges}
    assert stated == {"total_cholesterol", "hdl", "creatinine", "systolic_bp_mmhg",
                      "heart_rate_bpm", "bmi_kg_m2", "killip_class"}  # fmt: skip
    assert {"mg/dL", "mmol/L", "umol/L"} <= {u for unit, *_ in edges for u in unit.values()}

    def step(name: str, value: float, away: float) -> float:
        if entry["properties"][name]["type"][0] == "integer":
            return value + (1 if away > 0 else -1)
        return math.nextafter(value, away)

    for unit, name, low, high in edges:
        for inside, outside in ((low, step(name, low, -math.inf)),
                                (high, step(name, high, math.inf))):  # fmt: skip
            body = {**unit, name: inside}
            assert validator.is_valid(body), body
            answer = staff.post(path, json=body)
            assert answer.status_code == 201, (body, answer.get_json())
            body = {**unit, name: outside}
            assert not validator.is_valid(body), body
            assert error_of(staff.post(path, json=body), 422)["field"] == name, body


def test_the_docs_page_needs_no_inline_script_and_no_cdn(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="/api/v1/' in attrs and not body.strip() for attrs, body in scripts)
    assert "http://" not in html and "https://" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    for asset in assets:
        fetched = client.get(asset)
        assert fetched.status_code == 200, asset
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    assert b"SwaggerUIBundle" in client.get("/api/v1/docs.js").data


@pytest.mark.browser
def test_the_docs_page_works_in_a_browser_under_the_csp(
    app: Flask, artifacts_dir: Path, database_url: str
) -> None:
    """Swagger UI renders the 3.1 document's operations in Chromium, and the portal's
    Content-Security-Policy blocks nothing on the page."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the page holds no data: one backend is enough")
    import threading

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    refused: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.on("console", lambda m: refused.append(m.text) if "Content" in m.text else None)
            page.goto(f"http://127.0.0.1:{server.server_port}/api/v1/docs")
            page.wait_for_selector(".opblock", timeout=15000)
            text = page.inner_text("body")
            assert "/api/v1/patients/{patient_id}/recordings" in text
            assert "Unable to render" not in text
            page.screenshot(path=str(artifacts_dir / "api-docs.png"), full_page=False)
            browser.close()
    finally:
        server.shutdown()
    assert refused == []


def test_a_signed_reads_measurements_are_the_whole_numbers_the_doctor_signed(
    app: Flask, people: People, tokens: Tokens, sql: Session, tmp_path: Path
) -> None:
    """A QTc recomputed for the doctor's heart rate reached REST as 423.0243885798233 ms
    beside the 423 of the page, PDFs and FHIR (a corrections audit, 2026-12-07)."""
    staff, doctor = Api(app, tokens.staff), Api(app, tokens.doctor)
    stored = staff.upload(people.patient.id, [(csv_bytes(tmp_path), "ecg.csv")]).get_json()
    Worker(app).run_pending()
    report_id = staff.get(f"/jobs/{stored['job']['id']}").get_json()["report_id"]
    report = sql.get(EcgReport, report_id)
    assert report is not None
    machine = report.versions[0]
    assert machine.qt_ms and machine.heart_rate_bpm
    reports.sign(
        sql, report, actor=people.doctor, password=PASSWORD,
        expected_row_version=report.row_version,
        read=reports.PhysicianRead(
            "Sinus rhythm", ["SINUS"], "Sinus rhythm.",
            measurements={"heart_rate_bpm": round(machine.heart_rate_bpm) + 7,
                          "qt_ms": round(machine.qt_ms), "pr_ms": None, "qrs_ms": None},
        ),
    )  # fmt: skip
    sql.commit()
    read = doctor.get(f"/reports/{report_id}").get_json()
    measured = read["physician_read"]["measurements"]
    assert measured["qtc_bazett_ms"] is not None and measured["qtc_fridericia_ms"] is not None
    for name, value in measured.items():
        assert value is None or value == round(value), (name, value)
    rr_s = 60 / (round(machine.heart_rate_bpm) + 7)
    assert measured["qtc_bazett_ms"] == round(round(machine.qt_ms) / rr_s**0.5)
