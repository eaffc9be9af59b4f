"""FHIR R4 at /fhir/r4 (issue 16) on both databases: every resource the server emits is
parsed by fhir.resources' R4B models, every code is checked against the table verified for
it (portal/fhir/codes.py says where), the role x record matrix of the web portal holds for
API tokens, patients are upserted by identifier with the web form's rules, search pages
link to each other, and a 24-hour recording's waveform comes in windows."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import io
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fhir.resources.R4B import get_fhir_model_class
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import create_app
from portal.fhir import capability, codes, diagnostic_report
from portal.models import (
    Account,
    ApiToken,
    AuditEvent,
    EcgRecording,
    EcgReport,
    JobState,
    Patient,
    ReportStatus,
    ReportVersion,
    RiskModel,
    RiskScore,
    VersionKind,
    utcnow,
)
from portal.services import api_tokens, patients, recordings
from portal.services.clinical_inputs import BOOLEAN_FIELDS, ClinicalInputForm, record_clinical_input
from portal.worker import Worker
from tests.conftest import PASSWORD, People, client_for, make_settings, post_form
from tests.support.ecg_files import synthetic, write_csv, write_wfdb

FHIR = "/fhir/r4"
FHIR_JSON = "application/fhir+json"
CSV_CACHE: dict[str, bytes] = {}
MEASURED = {"heart_rate_bpm": "72", "pr_ms": "212", "qrs_ms": "96", "qt_ms": "380",
            "qrs_axis_deg": "45"}  # fmt: skip

# The codes, units and displays as verified (portal/fhir/codes.py names the sources); the
# server's table must say exactly this, and every emitted Observation must use it.
EXPECTED_MEASURES = {
    "hr": ([("http://loinc.org", "8867-4", "Heart rate")], "/min", "beats/min"),
    "pr": ([("http://loinc.org", "8625-6", "P-R Interval")], "ms", "ms"),
    "qrs": ([("http://loinc.org", "8633-0", "QRS duration")], "ms", "ms"),
    "qt": ([("http://loinc.org", "8634-8", "Q-T interval")], "ms", "ms"),
    "qtc": ([("http://loinc.org", "8636-3", "Q-T interval corrected"),
             ("http://loinc.org", "76635-2", "Q-T interval corrected based on Bazett formula")],
            "ms", "ms"),
    "qtcf": ([("http://loinc.org", "76634-5",
               "Q-T interval corrected based on Fridericia formula")], "ms", "ms"),
    "axis": ([("http://loinc.org", "8632-2", "QRS axis")], "deg", "deg"),
}  # fmt: skip
EXPECTED_SNOMED = {
    "VF": ("164896001", "Ventricular fibrillation"),
    "VT": ("164895002", "Ventricular tachycardia"),
    "ST_ELEVATION": ("164931005", "ST elevation"),
    "AV_BLOCK_3": ("27885002", "Complete atrioventricular block"),
    "AF": ("195080001", "Atrial fibrillation and flutter"),
    "AV_BLOCK_2": ("195042002", "Second degree atrioventricular block"),
    "BRADY": ("426177001", "Sinus bradycardia"),
    "LONG_QT": ("111975006", "Prolonged QT interval"),
    "ST_DEPRESSION": ("429622005", "ST depression"),
    "SVT": ("426761007", "Supraventricular tachycardia"),
    "IVR": ("49260003", "Idioventricular rhythm"),
    "LBBB": ("164909002", "Left bundle branch block"),
    "RBBB": ("59118001", "Right bundle branch block"),
    "PRE_EXCITATION": ("74390002", "Wolff-Parkinson-White pattern"),
    "WIDE_QRS": ("991002", "Wide QRS complex"),
    "LVH": ("164873001", "Left ventricular hypertrophy"),
    "LEFT_AXIS": ("39732003", "Left axis deviation"),  # PhysioNet/CinC 2020 labels, verified
    "RIGHT_AXIS": ("47665007", "Right axis deviation"),
    "LOW_VOLTAGE": ("251146004", "Low QRS voltages"),
    "T_INVERSION": ("59931005", "T wave inversion"),
    "TACHY": ("427084000", "Sinus tachycardia"),
    "PACED": ("10370003", "Pacing rhythm"),
    "AV_BLOCK_1": ("270492004", "First degree atrioventricular block"),
    "SHORT_PR": ("49578007", "Shortened PR interval"),
    "PVC": ("427172004", "Premature ventricular contractions"),
    "PAC": ("63593006", "Supraventricular premature beats"),
    "SINUS": ("426783006", "Sinus rhythm"),
    "NORMAL": ("164854000", "Electrocardiogram normal"),
}
PROJECT_ONLY = {"PAUSE", "FREQUENT_PVC", "BIGEMINY", "TRIGEMINY", "DROPPED_BEAT",
                "NOISY_STRIP", "ARTIFACT", "OTHER_RHYTHM"}  # fmt: skip


# --------------------------------------------------------------------------- helpers


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after fhir.resources' R4B model accepted it (and each Bundle entry)."""
    model = get_fhir_model_class(resource["resourceType"])
    model.parse_obj(resource)
    for entry in resource.get("entry", []):
        valid(entry["resource"])
    for contained in resource.get("contained", []):
        valid(contained)
    return resource


def issue(sql: Session, account: Account, *scopes: str, actor: Account) -> str:
    """An API token for `account` (the secret, as the admin page shows it once)."""
    issued = api_tokens.issue(sql, account, client_name=f"test {account.username}",
                              scopes=list(scopes), days=30, actor=actor)  # fmt: skip
    sql.commit()
    return issued.secret


def call(client: FlaskClient, method: str, url: str, token: str | None, **kwargs: Any) -> Any:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    full = url if url.startswith(("http", FHIR)) else FHIR + url
    return client.open(full, method=method,
                       headers=headers, **kwargs)  # fmt: skip


def fetch(client: FlaskClient, url: str, token: str | None, status: int = 200, **kw: Any) -> Any:
    response = call(client, "GET", url, token, **kw)
    assert response.status_code == status, (url, response.status_code, response.data[:800])
    if response.mimetype == FHIR_JSON:
        return valid(response.get_json())
    return response


def outcome_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.data[:800])
    assert response.mimetype == FHIR_JSON
    body = valid(response.get_json())
    assert body["resourceType"] == "OperationOutcome"
    return body


def csv_bytes(tmp_path: Path, seed: int = 3) -> bytes:
    key = str(seed)
    if key not in CSV_CACHE:
        path = write_csv(tmp_path / f"ecg-{seed}.csv", synthetic(30, 250, seed=seed))
        CSV_CACHE[key] = path.read_bytes()
    return CSV_CACHE[key]


def upload(app: Flask, people: People, sql: Session, tmp_path: Path, seed: int = 3,
           patient: Patient | None = None) -> EcgReport:  # fmt: skip
    """A synthetic CSV uploaded by staff through the web form and analysed."""
    staff = client_for(app, people.staff)
    patient = patient or people.patient
    url = f"/patients/{patient.id}/recordings/new"
    data = {"files": [(io.BytesIO(csv_bytes(tmp_path, seed)), f"ecg-{seed}.csv")]}
    response = post_form(staff, url, data, token_page=url, content_type="multipart/form-data")
    assert response.status_code == 302, response.data[:500]
    assert Worker(app).run_pending() == 1
    sql.expire_all()
    return sql.scalars(select(EcgReport).order_by(EcgReport.id.desc())).first()


def sign(app: Flask, people: People, sql: Session, report: EcgReport, *, amend: str = "",
         **changes: str) -> None:  # fmt: skip
    """The doctor signs (or amends, with a reason) through the web form."""
    doctor = client_for(app, people.doctor)
    sql.expire_all()
    form = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS", "AV_BLOCK_1"],
            "conclusion": "Sinus rhythm with first-degree AV block.",
            "patient_comment": "Your heart rhythm is normal; one signal is a little slow.",
            "password": PASSWORD, "row_version": str(report.row_version), **MEASURED,
            **changes}  # fmt: skip
    if amend:
        form["reason"] = amend
    url = f"/reports/{report.id}/{'amend' if amend else 'sign'}"
    response = post_form(doctor, url, form, token_page=f"/reports/{report.id}")
    assert response.status_code == 302, response.data[:1500]
    sql.expire_all()


@dataclass
class Tokens:
    staff: str
    doctor: str
    other_doctor: str
    patient: str
    admin: str
    staff_read_only: str
    wrong_scope: str


@pytest.fixture
def tokens(sql: Session, people: People) -> Tokens:
    def make(account: Account, *scopes: str) -> str:
        return issue(sql, account, *scopes, actor=people.admin)

    return Tokens(
        staff=make(people.staff, "fhir:read", "fhir:write"),
        doctor=make(people.doctor, "fhir:read", "fhir:write"),
        other_doctor=make(people.other_doctor, "fhir:read"),
        patient=make(people.patient_account, "fhir:read"),
        admin=make(people.admin, "fhir:read", "fhir:write"),
        staff_read_only=make(people.staff, "fhir:read"),
        wrong_scope=make(people.staff, "patients:read"),
    )


def risk_inputs(sql: Session, people: People) -> None:
    """Risk-factor inputs of 4 days ago and an admission's of 3 days ago: every risk model can
    be computed (Framingham from the office blood pressure, GRACE from the admission's)."""
    record_clinical_input(
        sql, people.patient,
        ClinicalInputForm(recorded_at=utcnow() - dt.timedelta(days=4), total_cholesterol=5.8,
                          hdl=1.3, cholesterol_unit="mmol/L", systolic_bp_mmhg=142,
                          bmi_kg_m2=27, booleans={name: False for name in BOOLEAN_FIELDS}),
        actor=people.staff, now=utcnow(),
    )  # fmt: skip
    record_clinical_input(
        sql, people.patient,
        ClinicalInputForm(recorded_at=utcnow() - dt.timedelta(days=3), systolic_bp_mmhg=142,
                          heart_rate_bpm=88, creatinine=1.13, killip_class=2),
        actor=people.staff, now=utcnow(),
    )  # fmt: skip
    sql.commit()


@pytest.fixture
def signed(app: Flask, people: People, sql: Session, tmp_path: Path) -> EcgReport:
    risk_inputs(sql, people)
    report = upload(app, people, sql, tmp_path)
    sign(app, people, sql, report)
    return report


def luhn_mrn(body: str) -> str:
    return f"CP{body}{patients.luhn_check_digit(body)}"


def new_patient_json(full_name: str = "Grace Hopper", **more: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "name": [{"use": "official", "text": full_name}],
            "gender": "female", "birthDate": "1946-12-09", **more}  # fmt: skip


# --------------------------------------------------------------------------- metadata, format


def test_metadata_is_a_capability_statement_in_fhir_json(app: Flask, tokens: Tokens) -> None:
    client = app.test_client()
    outcome_of(call(client, "GET", "/metadata", None), 401)
    response = call(client, "GET", "/metadata", tokens.patient)
    assert response.status_code == 200 and response.mimetype == FHIR_JSON
    statement = valid(response.get_json())
    assert statement["fhirVersion"] == "4.0.1" and statement["kind"] == "instance"
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(served) == {"Patient", "DiagnosticReport", "Observation", "Binary"}
    assert {p["name"] for p in served["Patient"]["searchParam"]} >= {
        "identifier", "name", "birthdate"
    }  # fmt: skip
    assert {p["name"] for p in served["DiagnosticReport"]["searchParam"]} >= {
        "patient", "date", "status"
    }  # fmt: skip
    assert served["Patient"]["conditionalUpdate"] is True
    assert served["Patient"]["operation"][0]["name"] == "everything"

    assert call(client, "GET", "/metadata?_format=json", tokens.patient).status_code == 200
    for fmt in ("xml", "application/fhir+xml"):
        body = outcome_of(call(client, "GET", f"/metadata?_format={fmt}", tokens.patient), 406)
        assert body["issue"][0]["code"] == "not-supported"
    outcome_of(call(client, "GET", "/metadata", tokens.patient,
                    headers={"Accept": "application/fhir+xml"}), 406)  # fmt: skip
    # R4's MIME parameter: the JSON asked for with its version (it had been answered 406).
    versioned = {"Accept": "application/fhir+json; fhirVersion=4.0"}
    assert call(client, "GET", "/metadata", tokens.patient, headers=versioned).status_code == 200
    outcome_of(call(client, "GET", "/metadata", tokens.patient,
                    headers={"Accept": "application/fhir+xml; fhirVersion=4.0"}), 406)  # fmt: skip
    xml = call(client, "POST", "/Patient", tokens.staff, data="<Patient/>",
               content_type="application/fhir+xml")  # fmt: skip
    assert "application/fhir+json" in outcome_of(xml, 415)["issue"][0]["diagnostics"]
    missing = outcome_of(call(client, "GET", "/NoSuchResource", tokens.staff), 404)
    assert missing["issue"][0]["code"] == "not-found"


@pytest.mark.parametrize("resource_type", ["Patient", "DiagnosticReport", "Observation"])
def test_a_form_encoded_search_is_refused_as_the_statement_says(
    app: Flask, tokens: Tokens, resource_type: str
) -> None:
    """`POST Patient/_search` had answered 404 "No such resource, or not visible to this
    token's account", which a client reads as no match (an integration audit): 405, Allow:
    GET, in the words of the CapabilityStatement."""
    client = app.test_client()
    answer = call(client, "POST", f"/{resource_type}/_search", tokens.staff,
                  data={"name": "ma"})  # fmt: skip
    refused = outcome_of(answer, 405)
    assert answer.headers["Allow"] == "GET"
    assert refused["issue"][0]["code"] == "not-supported"
    statement = fetch(client, "/metadata", tokens.staff)
    assert capability.SEARCH_BY_GET in statement["rest"][0]["documentation"]
    assert refused["issue"][0]["diagnostics"].startswith(capability.SEARCH_BY_GET)


def test_the_capability_statement_names_every_status_and_category_served(
    app: Flask, tokens: Tokens
) -> None:
    """It had said DiagnosticReport.status is "preliminary, final, amended" while
    entered-in-error is served and searched, and Observation.category "procedure" while
    vital-signs is too (an interoperability audit, 2026-12-07)."""
    statement = fetch(app.test_client(), "/metadata", tokens.staff)
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}

    def said(resource: str, parameter: str) -> str:
        found = served[resource]["searchParam"]
        return next(p["documentation"] for p in found if p["name"] == parameter)

    assert all(s.value in said("DiagnosticReport", "status") for s in ReportStatus)
    assert all(kind in said("Observation", "category") for kind in codes.CATEGORIES)


def test_an_accept_for_another_fhir_version_is_406(
    app: Flask, people: People, tokens: Tokens
) -> None:
    """`Accept: application/fhir+json; fhirVersion=3.0` (or 5.0) had been sent R4 content
    with a 200, which an STU3 or R5 client reads by the wrong rules (an interoperability
    audit, 2026-12-07): 406, unless some acceptable type takes R4."""
    client = app.test_client()
    url = f"/Patient/{people.patient.id}"
    refused_accepts = (
        "application/fhir+json; fhirVersion=3.0",
        "application/fhir+json;fhirVersion=5.0",
        'application/json; fhirVersion="3.0", application/fhir+json; fhirVersion=5.0',
    )
    for accept in refused_accepts:
        answer = call(client, "GET", url, tokens.staff, headers={"Accept": accept})
        refused = outcome_of(answer, 406)
        assert refused["issue"][0]["code"] == "not-supported", accept
        assert "fhirVersion=4.0" in refused["issue"][0]["diagnostics"], accept
    stu3 = {"Accept": "application/fhir+json; fhirVersion=3.0"}
    outcome_of(call(client, "GET", "/metadata", tokens.staff, headers=stu3), 406)
    served_accepts = (
        "application/fhir+json; fhirVersion=4.0",
        "application/fhir+json; fhirVersion=4.0.1",
        "application/fhir+json; fhirVersion=3.0, application/json;q=0.5",
        "application/fhir+json",
        "*/*",
    )
    for accept in served_accepts:
        fetch(client, url, tokens.staff, headers={"Accept": accept})


def test_the_code_tables_are_the_verified_ones() -> None:
    """Every code, unit and display the server uses, against the verified table (a typo in
    a LOINC or SNOMED CT code sends a wrong diagnosis to an EHR)."""
    table = {
        m.slug: ([(c.system, c.code, c.display) for c in m.codings], m.unit,
                 codes.UNIT_NAMES[m.unit])
        for m in codes.MEASURES
    }  # fmt: skip
    assert table == EXPECTED_MEASURES
    assert {k: (v.code, v.display) for k, v in codes.SNOMED_STATEMENTS.items()} == (EXPECTED_SNOMED)
    assert all(c.system == codes.SNOMED for c in codes.SNOMED_STATEMENTS.values())
    from ml import vocabulary

    assert set(vocabulary.STATEMENTS) == set(EXPECTED_SNOMED) | PROJECT_ONLY
    assert (codes.EKG_STUDY.system, codes.EKG_STUDY.code, codes.EKG_STUDY.display) == (
        "http://loinc.org", "11524-6", "EKG study"
    )  # fmt: skip
    assert (codes.ELECTROCARDIAC.system, codes.ELECTROCARDIAC.code) == (
        "http://terminology.hl7.org/CodeSystem/v2-0074", "EC"
    )  # fmt: skip
    leads = {lead: codes.lead_coding(lead).code for lead in
             ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V6", "X")}  # fmt: skip
    assert leads == {"I": "131329", "II": "131330", "III": "131389", "aVR": "131390",
                     "aVL": "131391", "aVF": "131392", "V1": "131331", "V6": "131336",
                     "X": "131328"}  # fmt: skip
    for code in PROJECT_ONLY:
        concept = codes.statement_concept(code)
        assert [c["system"] for c in concept["coding"]] == [codes.STATEMENT_SYSTEM]


# --------------------------------------------------------------------------- the report


def test_a_signed_report_is_a_diagnostic_report_with_its_observations_and_pdf(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    client = app.test_client()
    report = fetch(client, f"/DiagnosticReport/{signed.id}", tokens.staff)
    sql.expire_all()
    version = signed.versions[-1]
    assert report["status"] == "final" and report["meta"]["versionId"] == "2"
    assert report["code"]["coding"] == [
        {"system": "http://loinc.org", "code": "11524-6", "display": "EKG study"}
    ]
    assert report["category"][0]["coding"][0]["code"] == "EC"
    assert report["subject"] == {"reference": f"Patient/{people.patient.id}",
                                 "display": "Ada Lovelace"}  # fmt: skip
    # A CSV has no clock: it began at the latest its length before its upload (it had been
    # filed as starting at the upload, and a long one as ending after its signature).
    assert signed.recording.acquired_at is None
    acquired = (signed.report_date - dt.timedelta(seconds=signed.reading_duration_s)).replace(
        tzinfo=dt.UTC
    )
    assert dt.datetime.fromisoformat(report["effectiveDateTime"]) == acquired.replace(microsecond=0)
    assert report["issued"].startswith(version.signed_at.date().isoformat())
    signer = report["contained"][0]
    assert signer["resourceType"] == "Practitioner" and signer["name"][0]["text"] == "Doctor1"
    assert report["performer"] == [{"reference": "#signer", "display": "Doctor1"}]
    assert report["conclusion"] == "Sinus rhythm with first-degree AV block."  # names its rhythm
    coded = [[(c["system"], c["code"]) for c in concept["coding"]]
             for concept in report["conclusionCode"]]  # fmt: skip
    assert [(codes.SNOMED, "270492004"), (codes.STATEMENT_SYSTEM, "AV_BLOCK_1")] in coded
    assert [(codes.SNOMED, "426783006"), (codes.STATEMENT_SYSTEM, "SINUS")] in coded

    # Results: one Observation per signed measurement, per computed score, and the waveform.
    references = [r["reference"] for r in report["result"]]
    observations = {ref: fetch(client, f"/{ref}", tokens.staff) for ref in references}
    measured = {o["id"].split("-", 1)[1]: o for o in observations.values()
                if o["id"].split("-", 1)[1] in EXPECTED_MEASURES}  # fmt: skip
    assert set(measured) == set(EXPECTED_MEASURES)
    for slug, observation in measured.items():
        codings, unit, unit_name = EXPECTED_MEASURES[slug]
        assert [(c["system"], c["code"], c["display"]) for c in
                observation["code"]["coding"]] == codings  # fmt: skip
        quantity = observation["valueQuantity"]
        assert (quantity["system"], quantity["code"], quantity["unit"]) == (
            "http://unitsofmeasure.org", unit, unit_name
        )  # fmt: skip
        assert observation["status"] == "final" and observation["meta"]["versionId"] == "2"
        kinds = [c["coding"][0]["code"] for c in observation["category"]]
        # The heart rate is a vital sign too (R4's vital-signs profile for LOINC 8867-4).
        assert kinds == (["procedure", "vital-signs"] if slug == "hr" else ["procedure"])
        assert observation["performer"] == [{"display": "Doctor1"}]
        assert observation["subject"]["reference"] == f"Patient/{people.patient.id}"
    values = {slug: o["valueQuantity"]["value"] for slug, o in measured.items()}
    # The doctor's QT, corrected for the machine's cycle between normal beats (the rate kept).
    machine = sql.get(EcgReport, signed.id).versions[0]  # type: ignore[union-attr]
    cycle_s = (machine.qt_ms / machine.qtc_bazett_ms) ** 2  # type: ignore[operator]
    assert values == {"hr": 72, "pr": 212, "qrs": 96, "qt": 380, "axis": 45,
                      "qtc": round(380 / cycle_s**0.5),
                      "qtcf": round(380 / cycle_s ** (1 / 3))}  # fmt: skip

    scores = {s.model.value: s for s in sql.scalars(select(RiskScore)) if s.value is not None}
    risk = [o for o in observations.values() if "-risk-" in o["id"]]
    assert len(risk) == len(scores) == 5
    for observation in risk:
        (coding,) = observation["code"]["coding"]
        assert coding["system"] == codes.RISK_MODEL_SYSTEM and coding["code"] in scores
        assert observation["code"]["text"] == coding["display"]  # the model, named
        assert observation["valueQuantity"]["value"] == round(scores[coding["code"]].value, 1)

    (ecg,) = [o for o in observations.values() if o["id"].endswith("-ecg")]
    assert ecg["code"]["coding"][0]["code"] == "131328"
    leads = [c["code"]["coding"][0]["code"] for c in ecg["component"]]
    assert leads == ["131329", "131330", "131389"]  # I, II, III
    sampled = ecg["component"][1]["valueSampledData"]
    assert sampled["period"] == 4.0 and sampled["factor"] == 0.001 and sampled["dimensions"] == 1
    assert sampled["origin"] == {"value": 0, "unit": "mV", "system": codes.UCUM, "code": "mV"}
    assert len(sampled["data"].split()) == 2500  # the default window: 10 s at 250 Hz

    # presentedForm: the clinician PDF, by URL; size and SHA-1 once it is stored.
    (form,) = report["presentedForm"]
    assert form["contentType"] == "application/pdf"
    assert form["url"].endswith(f"{FHIR}/Binary/{signed.id}-v2-clinician")
    pdf = fetch(client, form["url"], tokens.staff, headers={"Accept": "application/pdf"})
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    again = fetch(client, f"/DiagnosticReport/{signed.id}", tokens.staff)["presentedForm"][0]
    assert again["size"] == len(pdf.data)
    assert again["hash"] == base64.b64encode(hashlib.sha1(pdf.data).digest()).decode()
    binary = fetch(client, form["url"], tokens.staff, headers={"Accept": FHIR_JSON})
    assert binary["resourceType"] == "Binary" and binary["contentType"] == "application/pdf"
    assert base64.b64decode(binary["data"]) == pdf.data
    # Plain JSON asks for the resource too (it had been sent the PDF; an integrator's audit).
    as_json = fetch(client, form["url"], tokens.staff, headers={"Accept": "application/json"})
    assert as_json["resourceType"] == "Binary"


def test_a_recording_read_as_episodes_is_effective_over_its_period(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    """A 1-h recording's mean heart rate had been filed as a reading at its first second,
    and its report carried no duration (an integrator's audit): a recording read as episodes
    (over 61 s) gives its period; a strip, its moment."""
    client = app.test_client()
    strip = fetch(client, f"/DiagnosticReport/{signed.id}", tokens.doctor)
    assert "effectiveDateTime" in strip and "effectivePeriod" not in strip
    signed.recording.duration_s = 3600.0
    sql.commit()
    uploaded = signed.report_date.replace(tzinfo=dt.UTC)  # no clock: it ended by its upload
    period = {"start": (uploaded - dt.timedelta(hours=1)).isoformat(timespec="seconds"),
              "end": uploaded.isoformat(timespec="seconds")}  # fmt: skip
    holter = fetch(client, f"/DiagnosticReport/{signed.id}", tokens.doctor)
    assert holter["effectivePeriod"] == period and "effectiveDateTime" not in holter
    heart_rate = fetch(client, f"/Observation/{signed.id}-hr", tokens.doctor)
    assert heart_rate["effectivePeriod"] == period and "effectiveDateTime" not in heart_rate
    window = fetch(client, f"/Observation/{signed.id}-ecg", tokens.doctor)  # its first 10 s
    assert window["effectivePeriod"]["start"][:19] == period["start"][:19]


def test_an_ehr_polls_for_reports_signed_since_its_last_run(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    """An ECG recorded in March and signed today was in no `date` window of today's poll, and
    `_lastUpdated` was refused (an integrator's audit)."""
    signed.report_date = dt.datetime(2026, 3, 28, 23, 40)
    sql.commit()
    client = app.test_client()
    today = signed.signed_at.date().isoformat()
    assert fetch(client, f"/DiagnosticReport?date=ge{today}", tokens.doctor)["total"] == 0
    polled = fetch(client, f"/DiagnosticReport?_lastUpdated=ge{today}&status=final,amended",
                   tokens.doctor)  # fmt: skip
    assert [e["resource"]["id"] for e in polled["entry"]] == [str(signed.id)]
    later = (signed.signed_at + dt.timedelta(days=2)).date().isoformat()
    assert fetch(client, f"/DiagnosticReport?_lastUpdated=ge{later}", tokens.doctor)["total"] == 0
    outcome_of(call(client, "GET", "/DiagnosticReport?_lastUpdated=soon", tokens.doctor), 400)


def test_an_amendment_is_amended_and_earlier_versions_stay_readable(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    sign(app, people, sql, signed, amend="QT remeasured on lead II.", qt_ms="420")
    client = app.test_client()
    report = fetch(client, f"/DiagnosticReport/{signed.id}", tokens.doctor)
    assert report["status"] == "amended" and report["meta"]["versionId"] == "3"
    # Why it was amended, as the PDF says it (an EHR had shown "amended" without a reason).
    assert report["conclusion"].endswith("Reason for the amendment: QT remeasured on lead II.")
    qt = fetch(client, f"/Observation/{signed.id}-qt", tokens.doctor)
    assert qt["status"] == "amended" and qt["valueQuantity"]["value"] == 420
    heart_rate = fetch(client, f"/Observation/{signed.id}-hr", tokens.doctor)
    assert heart_rate["status"] == "final"  # the amendment did not change it
    # A later amendment of the conclusion alone leaves the QT amended: it still differs from
    # what was first signed (it had turned "final" again; an integrator's audit).
    sign(app, people, sql, signed, amend="Conclusion reworded.", qt_ms="420",
         conclusion="Sinus rhythm, first-degree AV block; QT normal.")  # fmt: skip
    qt = fetch(client, f"/Observation/{signed.id}-qt", tokens.doctor)
    assert qt["status"] == "amended" and qt["meta"]["versionId"] == "4"
    assert fetch(client, f"/Observation/{signed.id}-hr", tokens.doctor)["status"] == "final"

    first = fetch(client, f"/DiagnosticReport/{signed.id}/_history/2", tokens.doctor)
    assert first["status"] == "final" and first["meta"]["versionId"] == "2"
    assert "Reason for the amendment" not in first["conclusion"]
    assert first["presentedForm"][0]["url"].endswith(f"/Binary/{signed.id}-v2-clinician")
    old_qt = next(r["reference"] for r in first["result"] if "-qt/" in r["reference"])
    assert old_qt == f"Observation/{signed.id}-qt/_history/2"
    assert fetch(client, f"/{old_qt}", tokens.doctor)["valueQuantity"]["value"] == 380
    # The risk scores are recomputed at each signature: an earlier version names none (it had
    # pointed at today's figure), and the current one says amended, at the latest version.
    assert not [r for r in first["result"] if "-risk-" in r["reference"]]
    risk_ref = next(r["reference"] for r in report["result"] if "-risk-" in r["reference"])
    risk = fetch(client, f"/{risk_ref}", tokens.doctor)
    assert risk["status"] == "amended" and risk["meta"]["versionId"] == "4"
    assert fetch(client, f"/{risk_ref}/_history/4", tokens.doctor) == risk
    # Each signature's own figure, by its version (since 2026-12-07; it had been a 404).
    signed_then = fetch(client, f"/{risk_ref}/_history/2", tokens.doctor)
    assert signed_then["status"] == "final" and signed_then["meta"]["versionId"] == "2"
    machine = fetch(client, f"/DiagnosticReport/{signed.id}/_history/1", tokens.doctor)
    assert machine["status"] == "preliminary"  # the machine read, still readable (since 12-06)
    outcome_of(call(client, "GET", f"/Observation/{signed.id}-qt/_history/9", tokens.doctor), 404)

    finals = fetch(client, f"/DiagnosticReport?patient={people.patient.id}&status=final",
                   tokens.doctor)  # fmt: skip
    amended = fetch(client, f"/DiagnosticReport?patient={people.patient.id}&status=amended",
                    tokens.doctor)  # fmt: skip
    assert (finals["total"], amended["total"]) == (0, 1)


def test_the_history_of_one_resource_says_how_its_versions_are_read(
    app: Flask, signed: EcgReport, tokens: Tokens
) -> None:
    """`DiagnosticReport/3/_history` had answered 404 "No such resource" for a report that
    exists (an interoperability audit, 2026-12-07): the instance history is not served, and
    the CapabilityStatement lists no history-instance, so it is a 400 saying how to read them."""
    client = app.test_client()
    for what in (f"DiagnosticReport/{signed.id}", f"Observation/{signed.id}-qt"):
        said = outcome_of(call(client, "GET", f"/{what}/_history", tokens.doctor), 400)
        issue = said["issue"][0]
        assert issue["code"] == "not-supported", issue
        assert f"read {what} for its current version" in issue["diagnostics"]
        assert f"{what}/_history/<version> for each earlier one" in issue["diagnostics"]
    said = outcome_of(call(client, "GET", "/Patient/1/_history", tokens.doctor), 400)
    assert "Patient resources are not versioned here" in said["issue"][0]["diagnostics"]
    outcome_of(call(client, "GET", f"/DiagnosticReport/{signed.id}/_history", None), 401)
    statement = call(client, "GET", "/metadata", tokens.doctor).get_json()
    interactions = {
        (r["type"], i["code"]) for r in statement["rest"][0]["resource"] for i in r["interaction"]
    }
    assert not {code for _, code in interactions if code == "history-instance"}


def test_a_preliminary_report_is_for_clinicians_only(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    tokens: Tokens,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = upload(app, people, sql, tmp_path)
    client = app.test_client()
    found = fetch(client, f"/DiagnosticReport/{report.id}", tokens.staff)
    assert found["status"] == "preliminary" and "performer" not in found
    assert found["conclusion"].startswith("Machine read, not yet reviewed")
    # No signed measurement yet: risk scores (preliminary) and the waveform only.
    slugs = {r["reference"].split("-", 1)[1] for r in found["result"]}
    assert "hr" not in slugs and "ecg" in slugs
    preliminary = fetch(client, "/DiagnosticReport?status=preliminary", tokens.doctor)
    assert [e["resource"]["id"] for e in preliminary["entry"]] == [str(report.id)]
    outcome_of(call(client, "GET", f"/DiagnosticReport/{report.id}", tokens.patient), 404)
    # Its version is read back by its versionId (it had been a 404), and names it as an ETag;
    # a client holding that version gets a 304 (an integration audit).
    current = call(client, "GET", f"/DiagnosticReport/{report.id}", tokens.staff)
    assert found["meta"]["versionId"] == "1" and current.headers["ETag"] == 'W/"1"'
    again = fetch(client, f"/DiagnosticReport/{report.id}/_history/1", tokens.staff)
    assert again == found
    unchanged = call(client, "GET", f"/DiagnosticReport/{report.id}", tokens.staff,
                     headers={"If-None-Match": 'W/"1"'})  # fmt: skip
    assert unchanged.status_code == 304 and not unchanged.data
    # "*" names any version (RFC 9110): a 304, where it had been a 200 (an integrator's audit).
    any_version = call(client, "GET", f"/DiagnosticReport/{report.id}", tokens.staff,
                       headers={"If-None-Match": "*"})  # fmt: skip
    assert any_version.status_code == 304 and any_version.headers["ETag"] == 'W/"1"'
    stale = call(client, "GET", f"/DiagnosticReport/{report.id}", tokens.staff,
                 headers={"If-None-Match": 'W/"2"'})  # fmt: skip
    assert stale.status_code == 200
    outcome_of(call(client, "GET", f"/DiagnosticReport/{report.id}/_history/2", tokens.staff),
               404)  # fmt: skip

    # What the machine only suspects is no SNOMED CT diagnosis until a doctor signs it: the
    # machine's AV_BLOCK_2 ("2:1 conduction (possible second-degree AV block)"); here every
    # finding of this read is taken as suspected, to see the unsigned report use the rule.
    concept = codes.statement_concept("AV_BLOCK_2", machine_read=True)
    possible = "Possible second-degree AV block"
    label = "Second-degree AV block"
    own = {"system": codes.STATEMENT_SYSTEM, "code": "AV_BLOCK_2", "display": label}
    assert concept == {"coding": [own], "text": possible}
    machine_findings = frozenset(report.versions[0].findings or [])
    assert machine_findings
    monkeypatch.setattr(codes, "MACHINE_SUSPECTS", machine_findings)
    found = fetch(client, f"/DiagnosticReport/{report.id}", tokens.doctor)
    assert {c["system"] for concept in found["conclusionCode"] for c in concept["coding"]} == {
        codes.STATEMENT_SYSTEM
    }
    assert all(concept["text"].startswith("Possible ") for concept in found["conclusionCode"])
    signed_concept = codes.statement_concept("AV_BLOCK_2")
    assert [c["code"] for c in signed_concept["coding"]] == ["195042002", "AV_BLOCK_2"]


# --------------------------------------------------------------------------- who sees what


def test_role_matrix_for_tokens(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens, tmp_path: Path
) -> None:
    client = app.test_client()
    own, other = people.patient.id, people.other_patient.id
    report = f"/DiagnosticReport/{signed.id}"
    observation = f"/Observation/{signed.id}-hr"
    binary = f"/Binary/{signed.id}-v2-clinician"

    # Missing, malformed, revoked token: 401 OperationOutcome.
    for token in (None, "cp_not-a-token"):
        body = outcome_of(call(client, "GET", report, token), 401)
        assert body["issue"][0]["code"] == "login"
    # Admins: no clinical data (403), whatever the token's scopes.
    for url in (f"/Patient/{own}", report, observation, binary, "/Patient?name=Ada"):
        assert (
            "role"
            in outcome_of(call(client, "GET", url, tokens.admin), 403)["issue"][0]["diagnostics"]
        )
    # A token without the fhir scopes: 403 naming the scope.
    assert (
        "fhir:read"
        in outcome_of(call(client, "GET", report, tokens.wrong_scope), 403)["issue"][0][
            "diagnostics"
        ]
    )

    # Staff: everything; the doctor: their patients; another doctor: 404 (as the web).
    for token in (tokens.staff, tokens.doctor):
        for url in (f"/Patient/{own}", report, observation):
            fetch(client, url, token)
        assert fetch(client, binary, token, headers={"Accept": "application/pdf"}).data[:4] == (
            b"%PDF"
        )
    fetch(client, f"/Patient/{other}", tokens.staff)
    outcome_of(call(client, "GET", f"/Patient/{other}", tokens.doctor), 404)
    for url in (f"/Patient/{own}", report, observation, binary):
        assert (
            outcome_of(call(client, "GET", url, tokens.other_doctor), 404)["issue"][0]["code"]
            == "not-found"
        )
    nobody = fetch(client, f"/DiagnosticReport?patient={own}", tokens.other_doctor)
    assert nobody["total"] == 0
    names = fetch(client, "/Patient", tokens.doctor)
    assert [e["resource"]["id"] for e in names["entry"]] == [str(own)]

    # The patient: themselves and their own signed reports; the summary, not the clinician
    # PDF (PATIENTS_GET_CLINICIAN_PDF is off), and never the clinical conclusion.
    assert fetch(client, f"/Patient/{own}", tokens.patient)["id"] == str(own)
    outcome_of(call(client, "GET", f"/Patient/{other}", tokens.patient), 404)
    mine = fetch(client, report, tokens.patient)
    # Their summary's words: the signed statements in plain sentences, then the doctor's note.
    from reports.plain_language import findings_in_plain_words

    plain = " ".join(findings_in_plain_words(["SINUS", "AV_BLOCK_1"]))
    assert mine["conclusion"] == (
        f"{plain} Your heart rhythm is normal; one signal is a little slow."
    )
    assert "conclusionCode" not in mine  # clinical terms ("Bigeminy") are not in their summary
    assert [f["url"].rsplit("/", 1)[1] for f in mine["presentedForm"]] == [
        f"{signed.id}-v2-patient"
    ]
    shown = {r["reference"].split("-", 1)[1] for r in mine["result"]}
    assert "hr" in shown and not shown & {"pr", "qrs", "qt", "qtc", "axis", "ecg"}
    # Their summary's one figure, the 10-year risk: no chance of dying, and GRACE's words only
    # with an acute coronary syndrome recorded (none here: every sign "no").
    assert [s for s in shown if s.startswith("risk-")] == ["risk-framingham-general-cvd"]
    outcome_of(call(client, "GET", f"/Observation/{signed.id}-qt", tokens.patient), 404)
    outcome_of(call(client, "GET", f"/Observation/{signed.id}-ecg", tokens.patient), 404)
    outcome_of(call(client, "GET", binary, tokens.patient), 404)
    summary = fetch(client, f"/Binary/{signed.id}-v2-patient", tokens.patient,
                    headers={"Accept": "application/pdf"})  # fmt: skip
    assert summary.data.startswith(b"%PDF")
    # Their clinicians may print it for them, as the REST API gives it (FHIR had said 404).
    printed = fetch(client, f"/Binary/{signed.id}-v2-patient", tokens.staff,
                    headers={"Accept": "application/pdf"})  # fmt: skip
    assert printed.data == summary.data
    outcome_of(call(client, "GET", f"/Binary/{signed.id}-v2-patient", tokens.other_doctor), 404)

    # A reference record (teaching, QA) attached to the patient is never "their" report.
    teaching = upload(app, people, sql, tmp_path, seed=5)
    sign(app, people, sql, teaching)
    sql.get(EcgRecording, teaching.recording_id).reference_record = "100"
    sql.commit()
    listed = fetch(client, f"/DiagnosticReport?patient={own}", tokens.patient)
    assert [e["resource"]["id"] for e in listed["entry"]] == [str(signed.id)]
    outcome_of(call(client, "GET", f"/DiagnosticReport/{teaching.id}", tokens.patient), 404)
    assert fetch(client, f"/DiagnosticReport?patient={own}", tokens.doctor)["total"] == 2

    # A revoked token stops at once.
    staff_token = sql.scalars(select(ApiToken).order_by(ApiToken.id)).first()  # issued first
    api_tokens.revoke(sql, staff_token, actor=people.admin)
    sql.commit()
    outcome_of(call(client, "GET", report, tokens.staff), 401)


def test_every_fhir_endpoint_for_every_role(
    app: Flask, people: People, sql: Session, signed: EcgReport
) -> None:
    """Like tests/test_access.py for pages: each role's token (with both FHIR scopes) reaches
    exactly the endpoints its role is declared for; the others answer 403."""
    from portal.access import endpoint_access
    from portal.models import Role

    values = {"patient_id": people.patient.id, "report_id": signed.id, "version_no": 2,
              "observation_id": f"{signed.id}-hr", "version_id": "2-stale-20000101000000",
              "binary_id": f"{signed.id}-v2-patient", "export_id": 1,
              "resource_type": "Patient"}  # fmt: skip
    client = app.test_client()
    walked = 0
    for role in Role:
        token = issue(sql, people.by_role(role), "fhir:read", "fhir:write", "fhir:export",
                      actor=people.admin)  # fmt: skip
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("fhir."):
                continue
            url = rule.build({n: values[n] for n in rule.arguments}, append_unknown=False)[1]
            access = endpoint_access(app, rule.endpoint)
            assert isinstance(access, frozenset), rule.endpoint  # no public FHIR endpoint
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                body = {"json": new_patient_json(), "content_type": FHIR_JSON}
                response = call(client, method, url, token, **(body if method != "GET" else {}))
                walked += 1
                if role in access:
                    assert response.status_code not in (401, 403), (role, rule.endpoint, method)
                else:
                    assert response.status_code == 403, (role, rule.endpoint, method)
                    assert response.mimetype == FHIR_JSON
    assert walked >= 4 * 14


def test_patients_may_get_the_clinician_report_when_the_hospital_allows_it(
    database_url: str, tmp_path: Path, people: People, sql: Session
) -> None:
    settings = dataclasses.replace(make_settings(database_url, tmp_path),
                                   patients_get_clinician_pdf=True)  # fmt: skip
    app = create_app(settings, TESTING=True)
    try:
        report = upload(app, people, sql, tmp_path)
        sign(app, people, sql, report)
        token = issue(sql, people.patient_account, "fhir:read", actor=people.admin)
        mine = fetch(app.test_client(), f"/DiagnosticReport/{report.id}", token)
        kinds = [f["url"].rsplit("-", 1)[1] for f in mine["presentedForm"]]
        assert kinds == ["patient", "clinician"]
        assert "conclusion" in mine and "first-degree" not in mine["conclusion"]
        assert {"pr", "qt", "ecg"} <= {r["reference"].split("-", 1)[1] for r in mine["result"]}
    finally:
        app.extensions["db_engine"].dispose()


def test_the_signed_rhythm_line_is_in_the_conclusion(
    app: Flask, people: People, sql: Session, tmp_path: Path, tokens: Tokens
) -> None:
    """The PDF and the REST API carry the signed rhythm line; FHIR dropped it (a clinician-eye
    audit: "Sinus rhythm with frequent PVCs" was nowhere in the DiagnosticReport). Said first
    when the conclusion does not already name it."""
    report = upload(app, people, sql, tmp_path)
    sign(app, people, sql, report, rhythm_label="Sinus rhythm with PR prolongation",
         conclusion="First-degree AV block; compare with the last ECG.")  # fmt: skip
    read = fetch(app.test_client(), f"/DiagnosticReport/{report.id}", tokens.staff)
    assert read["conclusion"] == (
        "Sinus rhythm with PR prolongation. First-degree AV block; compare with the last ECG."
    )


def test_a_rhythm_line_inside_a_longer_word_is_still_said(
    app: Flask, people: People, sql: Session, tmp_path: Path, tokens: Tokens
) -> None:
    """An integration audit: signed AF with the conclusion "Rate controlled on bisoprolol.
    Repeat ECG after 2 weeks.", the DiagnosticReport said no AF anywhere ("af" is in
    "after"). Named as whole words only; an amendment's reason follows a full stop."""
    report = upload(app, people, sql, tmp_path)
    sign(app, people, sql, report, rhythm_label="AF", findings=["AF"],
         conclusion="Rate controlled on bisoprolol. Repeat ECG after 2 weeks.")  # fmt: skip
    read = fetch(app.test_client(), f"/DiagnosticReport/{report.id}", tokens.staff)
    assert read["conclusion"] == "AF. Rate controlled on bisoprolol. Repeat ECG after 2 weeks."
    sign(app, people, sql, report, amend="QT remeasured on lead II", rhythm_label="AF",
         findings=["AF"], conclusion="Rate controlled on bisoprolol")  # fmt: skip
    amended = fetch(app.test_client(), f"/DiagnosticReport/{report.id}", tokens.staff)
    assert amended["conclusion"] == (
        "AF. Rate controlled on bisoprolol. Reason for the amendment: QT remeasured on lead II"
    )


@pytest.mark.parametrize(
    ("conclusion", "rhythm", "named"),
    [("SVT, rate 180.", "VT", False), ("Widely spaced complexes.", "paced", False),
     ("Repeat ECG after 2 weeks.", "AF", False), ("Fast AF; rate control.", "AF", True),
     ("Sinus  rhythm with PVCs.", "Sinus rhythm.", True), ("VT.", "VT", True)],
)  # fmt: skip
def test_the_conclusion_names_the_rhythm_as_whole_words(
    conclusion: str, rhythm: str, named: bool
) -> None:
    assert diagnostic_report.names_the_rhythm(conclusion, rhythm) is named


def test_the_browser_session_is_not_an_api_credential(
    app: Flask, people: People, signed: EcgReport
) -> None:
    browser = client_for(app, people.staff)  # logged in, with the session cookie
    outcome_of(browser.get(f"{FHIR}/DiagnosticReport/{signed.id}"), 401)
    outcome_of(browser.post(f"{FHIR}/Patient", json=new_patient_json(),
                            content_type=FHIR_JSON), 401)  # fmt: skip


# --------------------------------------------------------------------------- patients


def test_an_ehr_registers_and_updates_patients_by_identifier(
    app: Flask, people: People, sql: Session, tokens: Tokens
) -> None:
    client = app.test_client()
    mrn = luhn_mrn("1234567")
    url = f"/Patient?identifier={codes.MRN_SYSTEM}|{mrn}"
    doctor_ref = {"identifier": {"system": codes.DOCTOR_SYSTEM,
                                 "value": str(people.doctor.doctor_profile.id)}}  # fmt: skip
    body = new_patient_json(
        telecom=[{"system": "phone", "value": "+1 555 0100"},
                 {"system": "email", "value": "grace@example.org"}],
        address=[{"line": ["1 Navy Yard"], "city": "Arlington", "country": "US"}],
        contact=[{"relationship": [{"coding": [{"system": codes.CONTACT_RELATIONSHIP,
                                                 "code": "C"}]}],
                  "name": {"given": ["Vincent"], "family": "Hopper"},
                  "telecom": [{"system": "phone", "value": "+1 555 0101"}]}],
        generalPractitioner=[doctor_ref],
    )  # fmt: skip
    created = call(client, "PUT", url, tokens.staff, json=body, content_type=FHIR_JSON)
    assert created.status_code == 201, created.data[:800]
    patient = valid(created.get_json())
    assert created.headers["Location"].endswith(f"{FHIR}/Patient/{patient['id']}")
    assert patient["identifier"][0]["value"] == mrn
    assert patient["generalPractitioner"][0]["display"] == "Doctor1"
    assert patient["address"] == [{"text": "1 Navy Yard, Arlington, US"}]
    assert patient["contact"][0]["name"] == {"text": "Vincent Hopper"}
    stored = sql.scalar(select(Patient).where(Patient.mrn == mrn))
    assert stored.full_name == "Grace Hopper" and stored.email == "grace@example.org"

    body["name"] = [{"use": "official", "given": ["Grace", "Brewster"], "family": "Hopper"}]
    updated = call(client, "PUT", url, tokens.staff, json=body, content_type=FHIR_JSON)
    assert updated.status_code == 200 and valid(updated.get_json())["id"] == patient["id"]
    sql.expire_all()
    assert stored.full_name == "Grace Brewster Hopper" and stored.mrn == mrn
    count = len(list(sql.scalars(select(Patient))))

    # A demographics update without generalPractitioner (an EHR does not know the portal's
    # doctors) keeps the patient's doctor: it had left them unassigned, off every worklist.
    bare = new_patient_json("Grace Hopper", identifier=[{"system": codes.MRN_SYSTEM,
                                                          "value": mrn}])  # fmt: skip
    assert call(client, "PUT", url, tokens.staff, json=bare,
                content_type=FHIR_JSON).status_code == 200  # fmt: skip
    sql.expire_all()
    assert stored.assigned_doctor_id == people.doctor.doctor_profile.id
    assert call(client, "GET", f"/Patient/{patient['id']}", tokens.doctor).status_code == 200

    # Create without an MRN: the portal assigns one; If-None-Exist finds the existing one.
    fresh = call(client, "POST", "/Patient", tokens.staff, json=new_patient_json("Alan Turing"),
                 content_type=FHIR_JSON)  # fmt: skip
    assert fresh.status_code == 201
    assigned = valid(fresh.get_json())["identifier"][0]["value"]
    assert assigned.startswith("CP") and assigned != mrn
    condition = {"If-None-Exist": f"identifier={codes.MRN_SYSTEM}|{assigned}"}
    again = call(client, "POST", "/Patient", tokens.staff, json=new_patient_json("Alan Turing"),
                 content_type=FHIR_JSON, headers=condition)  # fmt: skip
    assert again.status_code == 200 and again.get_json()["id"] == fresh.get_json()["id"]
    duplicate = call(client, "POST", "/Patient", tokens.staff,
                     json=new_patient_json(identifier=[{"system": codes.MRN_SYSTEM,
                                                        "value": mrn}]),
                     content_type=FHIR_JSON)  # fmt: skip
    assert outcome_of(duplicate, 409)["issue"][0]["code"] == "duplicate"
    sql.expire_all()
    assert len(list(sql.scalars(select(Patient)))) == count + 1

    # A create sent again (an EHR retrying after a time-out) had registered the patient
    # twice, each with an MRN; and a condition on the EHR's own identifier, which the portal
    # does not keep, had made a new patient on every try (an integrator's audit).
    retried = call(client, "POST", "/Patient", tokens.staff, json=new_patient_json("Alan Turing"),
                   content_type=FHIR_JSON)  # fmt: skip
    said = outcome_of(retried, 409)["issue"][0]
    assert (
        said["code"] == "duplicate" and f"Patient/{fresh.get_json()['id']}" in said["diagnostics"]
    )
    # ... nor with an MRN of its own (an upsert), nor by an update making another's twin.
    new_mrn = f"{codes.MRN_SYSTEM}|CP12345674"
    upsert = call(client, "PUT", f"/Patient?identifier={new_mrn}", tokens.staff,
                  json=new_patient_json("Alan Turing"), content_type=FHIR_JSON)  # fmt: skip
    assert outcome_of(upsert, 409)["issue"][0]["code"] == "duplicate"
    ada = call(client, "POST", "/Patient", tokens.staff, json=new_patient_json("Ada Byron"),
               content_type=FHIR_JSON).get_json()  # fmt: skip
    into_twin = dict(valid(ada), name=valid(fresh.get_json())["name"])
    renamed = call(client, "PUT", f"/Patient/{ada['id']}", tokens.staff, json=into_twin,
                   content_type=FHIR_JSON)  # fmt: skip
    said = outcome_of(renamed, 409)["issue"][0]
    assert (
        said["code"] == "duplicate" and f"Patient/{fresh.get_json()['id']}" in said["diagnostics"]
    )
    ehr = {"If-None-Exist": "identifier=urn:oid:1.2.36.146.595.217.0.1|EHR-778899"}
    for _ in range(2):
        unkept = call(client, "POST", "/Patient", tokens.staff, headers=ehr,
                      json=new_patient_json("Joan Clarke"), content_type=FHIR_JSON)  # fmt: skip
        assert outcome_of(unkept, 400)["issue"][0]["code"] == "not-supported"

    # Update by id; the MRN cannot change. If-Match cannot be checked (no Patient versions):
    # refused, where it had been ignored and one client's update overwrote another's.
    by_id = dict(valid(fresh.get_json()), birthDate="1912-06-23")
    guarded = call(client, "PUT", f"/Patient/{by_id['id']}", tokens.staff, json=by_id,
                   content_type=FHIR_JSON, headers={"If-Match": 'W/"999"'})  # fmt: skip
    assert outcome_of(guarded, 400)["issue"][0]["code"] == "not-supported"
    assert call(client, "PUT", f"/Patient/{by_id['id']}", tokens.staff, json=by_id,
                content_type=FHIR_JSON).status_code == 200  # fmt: skip
    moved = dict(by_id, identifier=[{"system": codes.MRN_SYSTEM, "value": mrn}])
    outcome_of(call(client, "PUT", f"/Patient/{by_id['id']}", tokens.staff, json=moved,
                    content_type=FHIR_JSON), 422)  # fmt: skip
    outcome_of(call(client, "PUT", f"/Patient/{by_id['id']}", tokens.staff,
                    json=dict(by_id, id="999"), content_type=FHIR_JSON), 400)  # fmt: skip


def test_an_update_honours_if_unmodified_since_and_if_none_match_star(
    app: Flask, people: People, sql: Session, tokens: Tokens
) -> None:
    """A PUT with an If-Unmodified-Since earlier than the patient's meta.lastUpdated, or with
    If-None-Match: * on a patient that exists, had answered 200 and applied the update (an
    interoperability audit, 2026-12-07): both are a 412 now, nothing changed (RFC 9110 13.1)."""
    client = app.test_client()
    url = f"/Patient/{people.patient.id}"
    read = call(client, "GET", url, tokens.staff).get_json()
    last_updated = dt.datetime.fromisoformat(read["meta"]["lastUpdated"])
    moved = dict(read, birthDate="1950-02-02")
    earlier = (last_updated - dt.timedelta(seconds=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    for headers in ({"If-Unmodified-Since": earlier}, {"If-None-Match": "*"}):
        refused = outcome_of(call(client, "PUT", url, tokens.staff, json=moved,
                                  content_type=FHIR_JSON, headers=headers), 412)  # fmt: skip
        assert refused["issue"][0]["code"] == "conflict", headers
        by_mrn = f"/Patient?identifier={codes.MRN_SYSTEM}|{people.patient.mrn}"
        outcome_of(call(client, "PUT", by_mrn, tokens.staff, json=moved,
                        content_type=FHIR_JSON, headers=headers), 412)  # fmt: skip
    said = call(
        client,
        "PUT",
        url,
        tokens.staff,
        json=moved,
        content_type=FHIR_JSON,
        headers={"If-Unmodified-Since": earlier},
    ).get_json()["issue"][0]["diagnostics"]
    assert f"changed at {read['meta']['lastUpdated']} (meta.lastUpdated)" in said
    for bad in ({"If-Unmodified-Since": "yesterday"}, {"If-None-Match": 'W/"1"'}):
        outcome_of(call(client, "PUT", url, tokens.staff, json=moved, content_type=FHIR_JSON,
                        headers=bad), 400)  # fmt: skip
    sql.expire_all()
    assert sql.get(Patient, people.patient.id).date_of_birth.isoformat() == read["birthDate"]  # type: ignore[union-attr]
    unchanged_since = last_updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
    held = call(client, "PUT", url, tokens.staff, json=moved, content_type=FHIR_JSON,
                headers={"If-Unmodified-Since": unchanged_since})  # fmt: skip
    assert held.status_code == 200 and held.get_json()["birthDate"] == "1950-02-02"
    # If-None-Match: * holds where no patient has the MRN: the upsert registers one.
    new_mrn = luhn_mrn("1234560")
    created = call(client, "PUT", f"/Patient?identifier={codes.MRN_SYSTEM}|{new_mrn}",
                   tokens.staff, json=new_patient_json("Joan Clarke"), content_type=FHIR_JSON,
                   headers={"If-None-Match": "*"})  # fmt: skip
    assert created.status_code == 201, created.data[:800]


def test_a_name_in_another_word_order_is_checked_for_a_twin(
    app: Flask, people: People, sql: Session
) -> None:
    """José María and María José López, born the same day, are two people (siblings): a PUT
    giving one the other's word order had answered 200 unchecked, and the two records could
    no longer be told apart (an identity audit, 2026-12-07). Case and accents stay no change."""
    token = issue(sql, people.staff, "fhir:read", "fhir:write", "patients:write",
                  actor=people.admin)  # fmt: skip
    client = app.test_client()

    def named(*given: str, family: str = "Lopez", **more: Any) -> dict[str, Any]:
        return {"resourceType": "Patient", "name": [{"given": list(given), "family": family}],
                "gender": "male", "birthDate": "1970-05-05", **more}  # fmt: skip

    jose = call(client, "POST", "/Patient", token, json=named("Jose", "Maria"),
                content_type=FHIR_JSON)  # fmt: skip
    assert jose.status_code == 201, jose.data[:800]
    jose_id = jose.get_json()["id"]
    rest = {"Authorization": f"Bearer {token}"}
    maria = client.post("/api/v1/patients", headers=rest, json={
        "full_name": "Maria Jose Lopez", "date_of_birth": "1970-05-05", "sex": "male",
        "different_person": True})  # fmt: skip
    assert maria.status_code == 201, maria.get_json()

    swapped = call(client, "PUT", f"/Patient/{jose_id}", token,
                   json=named("Maria", "Jose", id=jose_id), content_type=FHIR_JSON)  # fmt: skip
    said = outcome_of(swapped, 409)["issue"][0]
    assert (
        said["code"] == "duplicate" and f"Patient/{maria.get_json()['id']}" in said["diagnostics"]
    )
    patched = client.patch(f"/api/v1/patients/{jose_id}", headers=rest,
                           json={"full_name": "Maria Jose Lopez"})  # fmt: skip
    assert patched.status_code == 409, patched.get_json()
    assert (
        f"Patient {maria.get_json()['id']} (Maria Jose Lopez"
        in patched.get_json()["error"]["message"]
    )
    sql.expire_all()
    assert sql.get(Patient, jose_id).full_name == "Jose Maria Lopez"

    capitals = call(client, "PUT", f"/Patient/{jose_id}", token, content_type=FHIR_JSON,
                    json=named("JOSÉ", "MARÍA", family="LÓPEZ", id=jose_id))  # fmt: skip
    assert capitals.status_code == 200, capitals.data[:800]


@pytest.mark.parametrize(
    ("change", "status", "expression", "words"),
    [
        ({"birthDate": "2999-01-01"}, 422, "Patient.birthDate", "cannot be in the future"),
        ({"birthDate": "1850-01-01"}, 422, "Patient.birthDate", "over 125 years"),
        # Valid R4 dates the portal cannot use: it says so (they had read "Enter a real date").
        ({"birthDate": "1958"}, 422, "Patient.birthDate", "Patient.birthDate: the portal needs "
         "the full date of birth (year-month-day); '1958' gives the year only."),
        ({"birthDate": "1958-03"}, 422, "Patient.birthDate", "Patient.birthDate: the portal "
         "needs the full date of birth (year-month-day); '1958-03' gives the year and month "
         "only."),
        ({"birthDate": "1958-02-30"}, 400, "Patient.birthDate", "invalid date format"),
        ({"name": [{"use": "official"}]}, 422, "Patient.name", "Full name"),
        # Hangul fillers are letters to Unicode and blank on screen (a bad-input audit).
        ({"name": [{"given": ["\u3164"]}]}, 422, "Patient.name", "A name needs letters."),
        ({"telecom": [{"system": "email", "value": "not an email"}]}, 422,
         "Patient.telecom.where(system='email')", "Invalid email address"),
        ({"telecom": [{"system": "phone", "value": "call me"}]}, 422,
         "Patient.telecom.where(system='phone')", "digits"),
        ({"generalPractitioner": [{"identifier": {"system": codes.DOCTOR_SYSTEM,
                                                  "value": "9999"}}]}, 422,
         "Patient.generalPractitioner", "active doctor"),
        ({"generalPractitioner": [{"display": "Dr Who"}]}, 422, "Patient.generalPractitioner",
         "identifier"),
        ({"identifier": [{"system": codes.MRN_SYSTEM, "value": "CP999"}]}, 422,
         "Patient.identifier", "not a CardioPortal MRN"),
        ({"birthDate": "banana"}, 400, "Patient.birthDate", "date"),
        ({"gender": "robot"}, 422, "Patient.gender", "female, male, other, unknown"),
        ({"shoeSize": 44}, 400, "Patient.shoeSize", "extra"),
        ({"active": "false"}, 400, "Patient.active", "not a boolean"),
        ({"active": 0}, 400, "Patient.active", "not a boolean"),
        ({"active": None}, 400, "Patient.active", "not a boolean"),
        ({"deceasedBoolean": "true"}, 400, "Patient.deceasedBoolean", "not a boolean"),
    ],
)  # fmt: skip
def test_bad_patients_are_refused_naming_the_element(
    app: Flask, sql: Session, people: People, tokens: Tokens, change: dict[str, Any],
    status: int, expression: str, words: str,
) -> None:  # fmt: skip
    response = call(app.test_client(), "POST", "/Patient", tokens.staff,
                    json=new_patient_json(**change), content_type=FHIR_JSON)  # fmt: skip
    issues = outcome_of(response, status)["issue"]
    assert any(expression in i.get("expression", []) for i in issues), issues
    assert any(words.lower() in i["diagnostics"].lower() for i in issues), issues
    sql.expire_all()
    assert len(list(sql.scalars(select(Patient)))) == 2  # nothing was saved


def test_an_update_with_a_non_boolean_active_is_refused(
    app: Flask, sql: Session, people: People, tokens: Tokens
) -> None:
    """`"active": "false"` (or 0, or null) had answered 200 with the patient left active, while
    a wrong-typed birthDate was refused (an interoperability audit, 2026-12-07): a 400 naming
    Patient.active, nothing changed; true or false still deactivate and reactivate."""
    client = app.test_client()
    url = f"/Patient/{people.patient.id}"
    read = call(client, "GET", url, tokens.staff).get_json()
    for sent in ("false", 0, None):
        refused = call(client, "PUT", url, tokens.staff, json=dict(read, active=sent),
                       content_type=FHIR_JSON)  # fmt: skip
        said = outcome_of(refused, 400)["issue"][0]
        assert said["code"] == "structure" and said["expression"] == ["Patient.active"], said
    sql.expire_all()
    assert sql.get(Patient, people.patient.id).is_active  # type: ignore[union-attr]
    deactivated = call(client, "PUT", url, tokens.staff, json=dict(read, active=False),
                       content_type=FHIR_JSON)  # fmt: skip
    assert deactivated.status_code == 200 and deactivated.get_json()["active"] is False


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"telecom": [{"system": "phone", "value": 5551234}]}, "Patient.telecom[0].value"),
        ({"telecom": [{"system": "email", "value": 12345}]}, "Patient.telecom[0].value"),
        ({"contact": [{"telecom": [{"system": "phone", "value": 5551234}]}]},
         "Patient.contact[0].telecom[0].value"),
        ({"address": [{"city": 5}]}, "Patient.address[0].city"),
        ({"address": [{"line": ["1 Main St", 2]}]}, "Patient.address[0].line[1]"),
        ({"name": [{"given": ["Ada", 7], "family": "Byron"}]}, "Patient.name[0].given[1]"),
    ],
)  # fmt: skip
def test_a_number_for_a_string_element_is_refused_naming_it(
    app: Flask, sql: Session, people: People, tokens: Tokens, change: dict[str, Any],
    expression: str,
) -> None:  # fmt: skip
    """A number where FHIR wants a string had answered 500 (a phone or email: the form's
    checks take strings) or been saved as text (`"city": 5` as "5"; an access/write-path
    audit, 2026-12-07): a 400 `structure` naming the element, on a create and an update,
    nothing saved."""
    client = app.test_client()
    created = call(client, "POST", "/Patient", tokens.staff, json=new_patient_json(**change),
                   content_type=FHIR_JSON)  # fmt: skip
    said = outcome_of(created, 400)["issue"][0]
    assert said["code"] == "structure" and said["expression"] == [expression], said
    assert "is not a string" in said["diagnostics"], said
    url = f"/Patient/{people.patient.id}"
    read = call(client, "GET", url, tokens.staff).get_json()
    updated = call(client, "PUT", url, tokens.staff, json=read | change, content_type=FHIR_JSON)
    assert outcome_of(updated, 400)["issue"][0]["expression"] == [expression]
    sql.expire_all()
    assert len(list(sql.scalars(select(Patient)))) == 2  # nothing was saved
    assert call(client, "GET", url, tokens.staff).get_json() == read


def test_a_null_inside_a_repeating_string_is_skipped_not_refused(
    app: Flask, sql: Session, tokens: Tokens
) -> None:
    """FHIR JSON aligns a repeating primitive with its extensions by null
    (`"given": ["Anna", null]`, `"_given": [null, {...}]`): refused with a 400 by the strict
    string check (and a 500 before it), where it is valid R4 (a review, 2026-12-07)."""
    qualifier = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/"
                                "iso21090-EN-qualifier", "valueCode": "CL"}]}  # fmt: skip
    body = new_patient_json(
        name=[{"use": "official", "family": "Nullgiven", "given": ["Anna", None],
               "_given": [None, qualifier]}],
        address=[{"line": ["1 Main St", None], "_line": [None, qualifier], "city": "Leeds"}],
    )  # fmt: skip
    created = call(app.test_client(), "POST", "/Patient", tokens.staff, json=body,
                   content_type=FHIR_JSON)  # fmt: skip
    assert created.status_code == 201, created.get_json()
    patient = sql.get(Patient, int(created.get_json()["id"]))
    assert patient is not None and patient.full_name == "Anna Nullgiven"
    lone_null = new_patient_json(address=[{"city": None}])
    still = call(app.test_client(), "POST", "/Patient", tokens.staff, json=lone_null,
                 content_type=FHIR_JSON)  # fmt: skip
    assert still.status_code == 400  # a lone element is never null in FHIR JSON


def test_writing_patients_needs_staff_and_the_write_scope(
    app: Flask, tokens: Tokens, people: People
) -> None:
    client = app.test_client()
    for token, words in ((tokens.doctor, "role"), (tokens.patient, ""),
                         (tokens.staff_read_only, "fhir:write")):  # fmt: skip
        response = call(client, "POST", "/Patient", token, json=new_patient_json(),
                        content_type=FHIR_JSON)  # fmt: skip
        assert words in outcome_of(response, 403)["issue"][0]["diagnostics"]
    outcome_of(call(client, "POST", "/Patient", tokens.staff, data="{not json",
                    content_type=FHIR_JSON), 400)  # fmt: skip
    outcome_of(call(client, "POST", "/Patient", tokens.staff,
                    json={"resourceType": "Observation"}, content_type=FHIR_JSON), 400)  # fmt: skip


def test_patient_search_pages_link_to_each_other(
    app: Flask, people: People, sql: Session, tokens: Tokens
) -> None:
    for index in range(5):
        patients.register_patient(
            sql, patients.PatientDetails(f"Test Person {index}", dt.date(1950 + index, 1, 2),
                                         patients.Sex.MALE), actor=people.staff,
            today=dt.date.today(),
        )  # fmt: skip
    sql.commit()
    client = app.test_client()
    first = fetch(client, "/Patient?name=test&_count=2", tokens.staff)
    assert first["total"] == 5 and len(first["entry"]) == 2
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in links and {"self", "next", "first", "last"} <= set(links)
    seen = [e["resource"]["name"][0]["text"] for e in first["entry"]]
    page = first
    while "next" in {link["relation"] for link in page["link"]}:
        url = next(link["url"] for link in page["link"] if link["relation"] == "next")
        page = fetch(client, url, tokens.staff)
        assert "name=test" in url and "previous" in {link["relation"] for link in page["link"]}
        seen += [e["resource"]["name"][0]["text"] for e in page["entry"]]
    assert seen == [f"Test Person {i}" for i in range(5)]
    back = next(link["url"] for link in page["link"] if link["relation"] == "previous")
    assert len(fetch(client, back, tokens.staff)["entry"]) == 2
    # Past the end, "previous" is the last page (it had pointed past the end too), and a
    # parameter given twice is refused (one had been taken silently); an integration audit.
    beyond = fetch(client, "/Patient?name=test&_count=2&_offset=100", tokens.staff)
    assert not beyond.get("entry") and beyond["total"] == 5
    back = next(link["url"] for link in beyond["link"] if link["relation"] == "previous")
    assert back.endswith("_count=2&_offset=4")
    assert len(fetch(client, back, tokens.staff)["entry"]) == 1
    outcome_of(call(client, "GET", "/Patient?_count=5&_count=6", tokens.staff), 400)

    mrn = people.patient.mrn
    for query in (f"identifier={codes.MRN_SYSTEM}|{mrn}", f"identifier={mrn}",
                  "name=ada", "name=LOVE", "birthdate=1960-12-10", "birthdate=1960",
                  "birthdate=ge1960-12&birthdate=lt1961"):  # fmt: skip
        found = fetch(client, f"/Patient?{query}", tokens.staff)
        assert [e["resource"]["id"] for e in found["entry"]] == [str(people.patient.id)], query
    assert (
        fetch(client, "/Patient?identifier=http://other.example|" + mrn, tokens.staff)["total"] == 0
    )
    assert fetch(client, "/Patient?name=velace", tokens.staff)["total"] == 0  # starts a word
    assert fetch(client, "/Patient?name:contains=velace", tokens.staff)["total"] == 1
    for typed in ("%25", "_", "A%25a", "A_a"):  # characters, not wildcards matching everyone
        assert fetch(client, f"/Patient?name={typed}", tokens.staff)["total"] == 0, typed
        assert fetch(client, f"/Patient?name:contains={typed}", tokens.staff)["total"] == 0
    assert fetch(client, "/Patient?birthdate=lt1952", tokens.staff)["total"] == 2
    assert fetch(client, "/Patient?_count=0", tokens.staff)["total"] == 7
    bad = outcome_of(call(client, "GET", "/Patient?mrn=CP1", tokens.staff), 400)
    assert bad["issue"][0]["expression"] == ["mrn"]
    outcome_of(call(client, "GET", "/Patient?birthdate=yesterday", tokens.staff), 400)
    # A page larger than 100 asked for is 100 given, with its next link (R4 lets a server
    # return fewer; clients sending _count=1000 had been refused with a 400), and the scheme
    # of the Authorization header is case-insensitive (RFC 9110: engines send "bearer").
    capped = fetch(client, "/Patient?_count=1000", None,
                   headers={"Authorization": f"bearer {tokens.staff}"})  # fmt: skip
    assert capped["total"] == 7 and len(capped["entry"]) == 7
    assert "_count=100&" in next(k["url"] for k in capped["link"] if k["relation"] == "self")
    outcome_of(call(client, "GET", "/Patient?_count=-1", tokens.staff), 400)


def test_searches_read_commas_as_or_and_systems_as_given(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    """An EHR reads "0 matches" as "not registered" and registers a duplicate: a comma in a
    name search, an MRN system without a value and a name sent decomposed had matched
    nobody, and a category's wrong system had been ignored (an interoperability audit,
    2026-12-07)."""
    renee = patients.register_patient(
        sql, patients.PatientDetails("Rene\u0301e  Dubois", dt.date(1971, 3, 4),
                                     patients.Sex.FEMALE), actor=people.staff,
        today=dt.date.today(),
    )  # fmt: skip
    sql.commit()
    assert renee.full_name == "Ren\u00e9e Dubois"  # stored composed (NFC)
    client = app.test_client()

    def ids(query: str) -> list[str]:
        found = fetch(client, f"/Patient?{query}", tokens.staff)
        return sorted(e["resource"]["id"] for e in found.get("entry", []))

    ada, blaise, dubois = (str(p.id) for p in (people.patient, people.other_patient, renee))
    for query, expected in (
        ("name=Ada,Blaise", [ada, blaise]), ("name=nobody,pascal", [blaise]),
        ("name:contains=velac,asca", [ada, blaise]),
        ("name:exact=Ada Lovelace,Blaise Pascal", [ada, blaise]),
        ("name:exact=Ren\u00e9e Dubois", [dubois]), ("name:exact=Rene\u0301e Dubois", [dubois]),
        ("name=ren\u00e9e", [dubois]), ("name:exact=Lovelace\\, Ada", []),
        (f"identifier={codes.MRN_SYSTEM}|", sorted([ada, blaise, dubois])),
        (f"identifier={codes.MRN_SYSTEM}|&name=ada", [ada]),
        ("identifier=http://other.example|", []), (f"identifier=|{people.patient.mrn}", []),
    ):  # fmt: skip
        assert ids(query) == sorted(expected, key=str), query

    own = people.patient.id
    category = codes.OBSERVATION_CATEGORY
    # The ECG's heart rate; the clinical inputs' two systolic pressures, BMI and heart rate.
    for query, total in (
        ("category=vital-signs", 5), (f"category={category}|vital-signs", 5),
        ("category=http://wrong.example|vital-signs", 0), ("category=|vital-signs", 0),
        ("category=http://wrong.example|vital-signs,procedure", 8),
        ("code=http://wrong.example|8867-4", 0), ("code=8867-4", 2),
    ):  # fmt: skip
        found = fetch(client, f"/Observation?patient={own}&{query}", tokens.staff)
        assert found["total"] == total, query

    # `system|` is any code of that system: it had matched nothing (2026-12-07).
    every = fetch(client, f"/Observation?patient={own}&_count=100", tokens.staff)["entry"]

    def coded(resource: dict[str, Any], element: str, system: str) -> bool:
        concepts = resource.get(element, [])
        concepts = [concepts] if isinstance(concepts, dict) else concepts
        return any(c["system"] == system for cc in concepts for c in cc["coding"])

    loinc = sorted(e["resource"]["id"] for e in every if coded(e["resource"], "code", codes.LOINC))
    categorised = sorted(e["resource"]["id"] for e in every
                         if coded(e["resource"], "category", category))  # fmt: skip
    # the ECG's 7 measures (and its waveform's category), then the inputs' coded values
    assert (len(every), len(loinc), len(categorised)) == (31, 7 + 8, 8 + 9)
    for query, expected in (
        (f"code={codes.LOINC}|", loinc), (f"category={category}|", categorised),
        ("code=http://wrong.example|", []), ("code=|", []),
        ("category=http://wrong.example|", []),
    ):  # fmt: skip
        found = fetch(client, f"/Observation?patient={own}&{query}&_count=100", tokens.staff)
        assert sorted(e["resource"]["id"] for e in found.get("entry", [])) == expected, query
        assert found["total"] == len(expected), query
    for query, total in (
        (f"code={codes.LOINC}|", 1), (f"code={codes.LOINC}|11524-6", 1),
        (f"category={codes.DIAGNOSTIC_SECTION}|", 1), ("code=http://wrong.example|", 0),
        ("category=http://wrong.example|", 0), ("code=|", 0),
    ):  # fmt: skip
        assert fetch(client, f"/DiagnosticReport?{query}", tokens.staff)["total"] == total, query


def test_a_read_refuses_a_parameter_it_does_not_take(
    app: Flask, people: People, signed: EcgReport, tokens: Tokens
) -> None:
    """`DiagnosticReport/2?version=2` had answered version 4 with a 200, and `_at`,
    `_history`, any other parameter of a read were ignored the same way (an
    interoperability audit, 2026-12-07): a 400 naming it; the format ones and the waveform's
    window are still taken."""
    client = app.test_client()
    rid, pid = signed.id, people.patient.id
    for url, name in (
        (f"/DiagnosticReport/{rid}?version=2", "version"),
        (f"/DiagnosticReport/{rid}?_at=2026-01-01", "_at"),
        (f"/DiagnosticReport/{rid}/_history/2?_summary=true", "_summary"),
        (f"/Observation/{rid}-qt?_history=3", "_history"),
        (f"/Observation/{rid}-qt/_history/2?foo=1", "foo"),
        (f"/Observation/{rid}-hr?start_s=5", "start_s"),
        (f"/Patient/{pid}?foo=bar", "foo"),
        (f"/Binary/{rid}-v2-clinician?version=2", "version"),
    ):
        refused = outcome_of(call(client, "GET", url, tokens.staff), 400)
        assert refused["issue"][0]["expression"] == [name], url
        assert f"“{name}”" in refused["issue"][0]["diagnostics"], url
    outcome_of(call(client, "GET", f"/Patient/{pid}?foo=bar", None), 401)  # the token first
    for url in (f"/DiagnosticReport/{rid}?_format=json&_pretty=true",
                f"/Patient/{pid}?_pretty=false", f"/Observation/{rid}-ecg?start_s=5&duration_s=2",
                f"/Observation/{rid}-qt/_history/2?_format=json"):  # fmt: skip
        fetch(client, url, tokens.staff)
    outcome_of(call(client, "GET", f"/Observation/{rid}-ecg?start=5", tokens.staff), 400)


def test_report_search_by_patient_date_and_status(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    client = app.test_client()
    day = signed.report_date.date()
    own = people.patient.id
    for query, total in (
        (f"patient={own}", 1), (f"patient=Patient/{own}", 1), (f"subject=Patient/{own}", 1),
        (f"patient={people.other_patient.id}", 0), (f"date={day}", 1),
        (f"date=lt{day}", 0), (f"date=ge{day - dt.timedelta(days=1)}", 1),
        (f"date={day.year}", 1), (f"date=gt{day}", 0), ("status=final", 1),
        ("status=preliminary,amended", 0), ("code=http://loinc.org|11524-6", 1),
        ("code=12345-6", 0),
        # The usual poll for every signed result, and FHIR codes this server never uses: they
        # match nothing, not a 400 (an integrator's audit).
        ("status=final,amended,corrected", 1), ("status=entered-in-error", 0),
        ("status=corrected,appended", 0),
    ):  # fmt: skip
        assert fetch(client, f"/DiagnosticReport?{query}", tokens.staff)["total"] == total, query
    outcome_of(call(client, "GET", "/DiagnosticReport?status=signed", tokens.staff), 400)
    outcome_of(call(client, "GET", "/Observation?code=8867-4", tokens.staff), 400)  # no patient
    hr = fetch(client, f"/Observation?patient={own}&code=http://loinc.org|8867-4", tokens.staff)
    admission = max(people.patient.clinical_inputs, key=lambda row: row.recorded_at)
    assert [e["resource"]["id"] for e in hr["entry"]] == [
        f"{signed.id}-hr",
        f"input-{admission.id}-heart-rate",
    ]  # the ECG's, then the clinical input's
    procedures = fetch(client, f"/Observation?patient={own}&category=procedure&_count=3",
                       tokens.staff)  # fmt: skip
    assert procedures["total"] == 8 and len(procedures["entry"]) == 3  # 7 measures + waveform
    vital = fetch(client, f"/Observation?patient={own}&category=vital-signs", tokens.staff)
    assert [e["resource"]["id"] for e in vital["entry"]][0] == f"{signed.id}-hr"
    assert vital["total"] == 5  # and the clinical inputs' (systolic pressures, BMI, heart rate)


def test_a_date_to_the_minute_is_the_whole_minute_with_every_prefix(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    """FHIR's implicit range of a date's precision: `eq2000-11-01T04:11Z` had been taken as
    the second 04:11:00 and missed a report recorded at 04:11:29 (an interoperability audit,
    2026-12-07)."""
    signed.report_date = dt.datetime(2000, 11, 1, 4, 11, 29)
    sql.commit()
    client = app.test_client()
    for value, prefixes in (
        # the minute holding 04:11:29; the minute before it; the minute after it
        ("2000-11-01T04:11Z", {"eq": 1, "ne": 0, "lt": 0, "le": 1, "gt": 0, "ge": 1}),
        ("2000-11-01T04:10Z", {"eq": 0, "ne": 1, "lt": 0, "le": 0, "gt": 1, "ge": 1}),
        ("2000-11-01T04:12Z", {"eq": 0, "ne": 1, "lt": 1, "le": 1, "gt": 0, "ge": 0}),
        ("2000-11-01T05:11%2B01:00", {"eq": 1, "ne": 0, "lt": 0, "le": 1, "gt": 0, "ge": 1}),
        ("2000-11-01T04:11", {"eq": 1, "lt": 0, "gt": 0}),  # no zone: TIME_ZONE's (UTC)
        ("2000-11-01T04Z", {"eq": 1, "lt": 0, "gt": 0}),  # the hour
        # to the second, as before: the second itself
        ("2000-11-01T04:11:29Z", {"eq": 1, "ne": 0, "lt": 0, "le": 1, "gt": 0, "ge": 1}),
        ("2000-11-01T04:11:30Z", {"eq": 0, "ne": 1, "lt": 1, "le": 1, "gt": 0, "ge": 0}),
    ):
        for prefix, total in prefixes.items():
            query = f"date={prefix}{value}"
            found = fetch(client, f"/DiagnosticReport?{query}", tokens.staff)
            assert found["total"] == total, query
    own = people.patient.id
    for query, found_it in (("date=eq2000-11-01T04:11Z", True), ("date=gt2000-11-01T04:11Z", False),
                            ("date=le2000-11-01T04:11Z", True)):  # fmt: skip
        found = fetch(client, f"/Observation?patient={own}&code=8867-4&{query}", tokens.staff)
        ids = [e["resource"]["id"] for e in found.get("entry", [])]
        assert (f"{signed.id}-hr" in ids) is found_it, query  # the ECG's heart rate


def test_everything_about_one_patient_in_pages(
    app: Flask, people: People, signed: EcgReport, tokens: Tokens
) -> None:
    client = app.test_client()
    url = f"/Patient/{people.patient.id}/$everything"
    everything = fetch(client, f"{url}?_count=100", tokens.doctor)
    kinds = [e["resource"]["resourceType"] for e in everything["entry"]]
    assert kinds[:2] == ["Patient", "DiagnosticReport"] and set(kinds[2:]) == {"Observation"}
    report = everything["entry"][1]["resource"]
    listed = {f"Observation/{e['resource']['id']}" for e in everything["entry"][2:]
              if not e["resource"]["id"].startswith("input-")}  # fmt: skip
    assert listed == {r["reference"] for r in report["result"]}
    # measures, scores, waveform; then the clinical inputs' 18 values (`risk_inputs`)
    assert everything["total"] == len(kinds) == 2 + 7 + 5 + 1 + 18
    first = fetch(client, f"{url}?_count=4", tokens.doctor)
    assert len(first["entry"]) == 4 and "next" in {link["relation"] for link in first["link"]}
    mine = fetch(client, f"{url}?_count=100", tokens.patient)
    assert [e["resource"]["resourceType"] for e in mine["entry"]] == [
        "Patient", "DiagnosticReport", "Observation", "Observation", *["Observation"] * 18
    ]  # fmt: skip  # the patient summary's view: heart rate, 10-year risk (no GRACE)
    assert mine["entry"][2]["resource"]["id"] == f"{signed.id}-hr"  # then their own inputs
    outcome_of(call(client, "GET", url, tokens.other_doctor), 404)
    outcome_of(call(client, "GET", f"{url}?start=2020", tokens.doctor), 400)


# The clinical inputs as verified (portal/fhir/codes.py names the sources): code, unit.
EXPECTED_INPUTS = {
    "total-cholesterol": (("http://loinc.org", "2093-3",
                           "Cholesterol [Mass/volume] in Serum or Plasma"), "laboratory", "mg/dL"),
    "hdl": (("http://loinc.org", "2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma"),
            "laboratory", "mg/dL"),
    "systolic-bp": (("http://loinc.org", "8480-6", "Systolic blood pressure"), "vital-signs",
                    "mm[Hg]"),
    "smoker": (("http://loinc.org", "72166-2", "Tobacco smoking status"), "social-history",
               None),
    "bmi": (("http://loinc.org", "39156-5", "Body mass index (BMI) [Ratio]"), "vital-signs",
            "kg/m2"),
    "heart-rate": (("http://loinc.org", "8867-4", "Heart rate"), "vital-signs", "/min"),
    "creatinine": (("http://loinc.org", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
                   "laboratory", "mg/dL"),
}  # fmt: skip


def test_the_clinical_inputs_behind_a_risk_figure_are_observations_their_patient_reads(
    app: Flask, people: People, sql: Session, tokens: Tokens
) -> None:
    """A patient's app had their risk figure and none of the cholesterol, blood pressure or
    smoking it was computed from (`$everything` left them out, and the REST API answers the
    patient 403; a data-protection audit, 2026-12-07): each stored value is an Observation,
    read by those who may read the patient's risk scores and by the patient, no one else."""
    risk_inputs(sql, people)
    record_clinical_input(
        sql, people.other_patient,
        ClinicalInputForm(total_cholesterol=250, hdl=40, systolic_bp_mmhg=160,
                          booleans={"smoker": True}),
        actor=people.staff, now=utcnow(),
    )  # fmt: skip
    sql.commit()
    office, admission = sorted(people.patient.clinical_inputs, key=lambda row: row.recorded_at)
    (theirs,) = people.other_patient.clinical_inputs
    client = app.test_client()
    own = people.patient.id

    everything = fetch(client, f"/Patient/{own}/$everything?_count=100", tokens.patient)
    inputs = {e["resource"]["id"]: e["resource"] for e in everything["entry"]
              if e["resource"]["id"].startswith("input-")}  # fmt: skip
    # The office visit's 4 values and 10 answers, the admission's 4 values.
    assert len(inputs) == 18 and everything["total"] == 1 + 18
    cholesterol = inputs[f"input-{office.id}-total-cholesterol"]
    assert cholesterol["status"] == "final" and cholesterol["subject"]["reference"] == (
        f"Patient/{own}"
    )
    assert cholesterol["valueQuantity"] == {
        "value": 224.29,
        "unit": "mg/dL",
        "system": codes.UCUM,
        "code": "mg/dL",
    }  # 5.8 mmol/L
    assert dt.datetime.fromisoformat(cholesterol["effectiveDateTime"]) == (
        office.recorded_at.replace(tzinfo=dt.UTC, microsecond=0)
    )
    assert inputs[f"input-{office.id}-hdl"]["valueQuantity"]["value"] == 50.27
    assert inputs[f"input-{admission.id}-creatinine"]["valueQuantity"]["value"] == 1.13
    assert inputs[f"input-{office.id}-smoker"]["valueCodeableConcept"]["coding"] == [
        {"system": codes.SNOMED, "code": "8392000", "display": "Non-smoker"}
    ]
    # The question, not an answer: "Smoker" above a value "Non-smoker" (a risk-score audit).
    assert inputs[f"input-{office.id}-smoker"]["code"]["text"] == "Tobacco smoking status"
    assert inputs[f"input-{office.id}-bp-treated"]["valueBoolean"] is False
    assert inputs[f"input-{admission.id}-killip-class"]["valueInteger"] == 2
    loinc = {
        i.slug: ((i.codings[0].system, i.codings[0].code, i.codings[0].display), i.category, i.unit)
        for i in codes.CLINICAL_INPUTS
        if i.codings[0].system == codes.LOINC
    }
    assert loinc == EXPECTED_INPUTS  # fmt: skip
    for slug, (coding, category, unit) in EXPECTED_INPUTS.items():
        found = [o for i, o in inputs.items() if i.endswith(f"-{slug}")]
        assert found, slug
        for observation in found:
            assert [tuple(c.values()) for c in observation["code"]["coding"]] == [coding]
            assert observation["category"][0]["coding"][0]["code"] == category
            if unit is not None:
                assert observation["valueQuantity"]["code"] == unit
    assert all(observation["code"]["text"] for observation in inputs.values())

    # Searches find them: by patient, code, category and date; never another patient's.
    def ids(query: str, token: str) -> list[str]:
        found = fetch(client, f"/Observation?{query}&_count=100", token)
        return [e["resource"]["id"] for e in found.get("entry", [])]

    assert set(ids(f"patient={own}", tokens.patient)) == set(inputs)
    assert ids(f"patient={own}&code=http://loinc.org|2093-3", tokens.patient) == [
        f"input-{office.id}-total-cholesterol"
    ]
    assert sorted(ids(f"patient={own}&category=laboratory", tokens.doctor)) == sorted(
        [f"input-{office.id}-total-cholesterol", f"input-{office.id}-hdl",
         f"input-{admission.id}-creatinine"]
    )  # fmt: skip
    day = admission.recorded_at.date()
    assert {i.split("-")[1] for i in ids(f"patient={own}&date={day}", tokens.staff)} == {
        str(admission.id)
    }
    other = f"input-{theirs.id}-total-cholesterol"
    assert ids(f"patient={people.other_patient.id}", tokens.patient) == []
    assert ids(f"_id={other},input-{office.id}-hdl", tokens.patient) == [f"input-{office.id}-hdl"]

    # Read by id: the patient, staff and their doctor; another doctor, another patient's
    # inputs: 404; an administrator: 403.
    mine = f"/Observation/input-{office.id}-total-cholesterol"
    for token in (tokens.patient, tokens.staff, tokens.doctor):
        assert fetch(client, mine, token) == cholesterol
    assert fetch(client, f"{mine}/_history/1", tokens.patient) == cholesterol
    outcome_of(call(client, "GET", f"{mine}/_history/2", tokens.patient), 404)
    outcome_of(call(client, "GET", mine, tokens.other_doctor), 404)
    outcome_of(call(client, "GET", mine, tokens.admin), 403)
    outcome_of(call(client, "GET", f"/Observation/{other}", tokens.patient), 404)
    outcome_of(call(client, "GET", f"/Observation/{other}", tokens.doctor), 404)
    theirs_read = fetch(client, f"/Observation/{other}", tokens.other_doctor)
    assert theirs_read["valueQuantity"]["value"] == 250
    smokes = fetch(client, f"/Observation/input-{theirs.id}-smoker", tokens.other_doctor)
    assert smokes["valueCodeableConcept"]["coding"][0]["code"] == "77176002"
    outcome_of(call(client, "GET", f"/Observation/input-{admission.id}-hdl", tokens.staff), 404)
    outcome_of(call(client, "GET", f"/Observation/input-{office.id}-nothing", tokens.staff), 404)
    rows = sql.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "fhir.observation.read", AuditEvent.object_type == "clinical_input"
        )
    )
    assert {(r.patient_id, r.object_id) for r in rows} == {
        (own, office.id),
        (people.other_patient.id, theirs.id),
    }


# --------------------------------------------------------------------------- the waveform


def test_a_24_hour_recording_comes_in_windows(
    app: Flask, people: People, sql: Session, tmp_path: Path, tokens: Tokens
) -> None:
    """A 24-hour, 2-lead Holter-style recording: the waveform Observation is a window (10 s
    by default, at most 60 s), never the whole day. The report rows are written directly:
    a day's analysis takes a minute and is not what this test is about."""
    fs, hours = 64.0, 24
    n = int(hours * 3600 * fs)
    t = np.arange(n) / fs
    signal = np.column_stack([0.5 * np.sin(2 * np.pi * 1.2 * t), 0.3 * np.cos(2 * np.pi * t)])
    from ml.recording import Recording

    files = write_wfdb(tmp_path, Recording(fs, ("MLII", "V1"), signal), name="holter")
    settings = app.config["SETTINGS"]
    handles = [(p.name, p.open("rb")) for p in files]
    try:
        outcome = recordings.upload_recording(
            sql, sql.get(Patient, people.patient.id), handles, actor=people.staff,
            storage_dir=settings.storage_dir,
        )  # fmt: skip
    finally:
        for _, handle in handles:
            handle.close()
    outcome.job.state = JobState.SUCCEEDED
    outcome.recording.acquired_at = dt.datetime(2026, 3, 1, 8, 0)  # the recorder's clock
    report = EcgReport(
        patient_id=people.patient.id, recording=outcome.recording, job_id=outcome.job.id,
        report_date=dt.datetime(2026, 3, 1, 8, 0),
    )  # fmt: skip
    sql.add(report)
    sql.flush()
    sql.add(ReportVersion(report_id=report.id, version_no=1, kind=VersionKind.MACHINE,
                          findings=["SINUS"], conclusion="Sinus rhythm"))  # fmt: skip
    sql.commit()
    assert outcome.recording.duration_s == pytest.approx(86400)

    client = app.test_client()
    url = f"/Observation/{report.id}-ecg"
    started = time.monotonic()
    first = fetch(client, url, tokens.staff)
    elapsed = time.monotonic() - started
    (lead_ii, v1) = first["component"]
    assert lead_ii["code"]["coding"][0]["code"] == "131328"  # MLII: not lead II itself
    assert lead_ii["code"]["text"] == "Lead MLII"
    assert v1["code"]["coding"][0]["code"] == "131331"
    assert len(lead_ii["valueSampledData"]["data"].split()) == 640  # 10 s at 64 Hz
    assert first["effectivePeriod"] == {"start": "2026-03-01T08:00:00.000+00:00",
                                        "end": "2026-03-01T08:00:10.000+00:00"}  # fmt: skip
    samples = np.array(lead_ii["valueSampledData"]["data"].split(), dtype=float) * 0.001
    assert samples == pytest.approx(signal[:640, 0], abs=0.002)

    late = fetch(client, f"{url}?start_s=86340&duration_s=60", tokens.staff)
    assert len(late["component"][0]["valueSampledData"]["data"].split()) == 3840
    assert late["effectivePeriod"]["end"] == "2026-03-02T08:00:00.000+00:00"
    tail = fetch(client, f"{url}?start_s=86390&duration_s=60", tokens.staff)
    assert len(tail["component"][0]["valueSampledData"]["data"].split()) == 640  # cut at end
    for query in ("duration_s=61", "duration_s=0", "start_s=86400", "start_s=-1",
                  "start_s=abc", "duration_s=nan",
                  # a window holding no sample: its SampledData.data was "" (invalid FHIR)
                  "start_s=86399.999&duration_s=0.001",
                  # misspelt, unknown or repeated: they had answered another window than
                  # asked for (an integrator's audit)
                  "start=3600", "foo=1", "start_s=1&start_s=2"):  # fmt: skip
        outcome_of(call(client, "GET", f"{url}?{query}", tokens.staff), 400)
    response = call(client, "GET", f"{url}?duration_s=60", tokens.staff)
    assert len(response.data) < 200_000, len(response.data)  # a minute, not a day (5.5M samples)
    assert elapsed < 30, elapsed
    rows = sql.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.waveform.read")).all()
    assert len(rows) == 1 and rows[0].patient_id == people.patient.id  # once a minute


# --------------------------------------------------------------------------- audit, limits


def test_the_machine_read_stays_readable_as_version_1_once_signed(
    app: Flask, people: People, sql: Session, tokens: Tokens, signed: EcgReport
) -> None:
    """An integrator's audit: version 1, preliminary, and its PDF answered 404 once the
    report was signed, so an EHR that had shown the machine read could not fetch it again."""
    client = app.test_client()
    first = fetch(client, f"/DiagnosticReport/{signed.id}/_history/1", tokens.doctor)
    assert first["status"] == "preliminary" and first["meta"]["versionId"] == "1"
    assert first["conclusion"].startswith("Machine read, not yet reviewed by a doctor")
    assert [r["reference"] for r in first["result"]] == [f"Observation/{signed.id}-ecg"]
    form = first["presentedForm"][0]
    assert form["url"].endswith(f"/Binary/{signed.id}-v1-clinician")
    pdf = call(client, "GET", f"/Binary/{signed.id}-v1-clinician", tokens.doctor,
               headers={"Accept": "application/pdf"})  # fmt: skip
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    current = fetch(client, f"/DiagnosticReport/{signed.id}", tokens.doctor)
    assert current["status"] == "final" and current["meta"]["versionId"] == "2"
    # Not the patient's: they read signed versions only.
    outcome_of(call(client, "GET", f"/DiagnosticReport/{signed.id}/_history/1", tokens.patient),
               404)  # fmt: skip
    outcome_of(call(client, "GET", f"/Binary/{signed.id}-v1-clinician", tokens.patient), 404)


def test_each_client_of_a_doctor_leaves_its_own_rows_for_waveforms_and_pdfs(
    app: Flask, people: People, sql: Session, signed: EcgReport
) -> None:
    """A security audit: two clients acting for one doctor read the waveform in the same
    minute and left one row; their PDF downloads were rows like the doctor's own in the
    browser, naming no client. Each row now names its client and token."""
    client = app.test_client()
    ehr = issue(sql, people.doctor, "fhir:read", actor=people.admin)
    research = issue(sql, people.doctor, "fhir:read", actor=people.admin)
    for token in (ehr, research, ehr):
        fetch(client, f"/Observation/{signed.id}-ecg", token)
        pdf = call(client, "GET", f"/Binary/{signed.id}-v2-clinician", token)
        assert pdf.status_code == 200
    sql.expire_all()
    mine = sql.scalars(select(ApiToken.id).where(ApiToken.account_id == people.doctor.id))
    two = sorted(mine)[-2:]  # the EHR's and the research app's
    reads = sql.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.waveform.read"))
    assert sorted(r.details["token_id"] for r in reads) == two  # once a minute per client
    downloads = sql.scalars(select(AuditEvent).where(AuditEvent.action == "report.download"))
    assert sorted(d.details["token_id"] for d in downloads) == sorted([*two, two[0]])
    assert all(d.details["client"] == f"test {people.doctor.username}" for d in downloads)


def test_every_read_is_audited_with_the_patient_and_the_client(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    client = app.test_client()
    fetch(client, f"/Patient/{people.patient.id}", tokens.doctor)
    fetch(client, f"/DiagnosticReport/{signed.id}", tokens.doctor)
    fetch(client, f"/Observation/{signed.id}-qt", tokens.doctor)
    fetch(client, f"/DiagnosticReport?patient={people.patient.id}", tokens.doctor)
    fetch(client, f"/Binary/{signed.id}-v2-clinician", tokens.doctor,
          headers={"Accept": "application/pdf"})  # fmt: skip
    call(client, "GET", f"/Patient/{people.other_patient.id}", tokens.doctor)
    sql.expire_all()
    rows = sql.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == people.doctor.id).order_by(AuditEvent.id)
    ).all()
    actions = [(r.action, r.patient_id) for r in rows
               if r.action.startswith(("fhir.", "access.", "report.download"))]  # fmt: skip
    own = people.patient.id
    assert actions == [
        ("fhir.patient.read", own), ("fhir.report.read", own), ("fhir.observation.read", own),
        ("fhir.report.search", own), ("report.download", own),
        ("access.refused", people.other_patient.id),  # the patient asked for, found by search
    ]  # fmt: skip
    download = next(r for r in rows if r.action == "report.download")
    assert download.details["via"] == "fhir" and download.details["kind"] == "clinician"
    read = next(r for r in rows if r.action == "fhir.report.read")
    assert read.details["client"] == "test doctor1" and read.object_id == signed.id


def test_requests_are_limited_per_token(
    database_url: str, tmp_path: Path, people: People, sql: Session
) -> None:
    settings = dataclasses.replace(make_settings(database_url, tmp_path),
                                   api_rate_limit="3 per minute")  # fmt: skip
    app = create_app(settings, TESTING=True)
    try:
        first = issue(sql, people.staff, "fhir:read", actor=people.admin)
        second = issue(sql, people.doctor, "fhir:read", actor=people.admin)
        client = app.test_client()
        assert [call(client, "GET", "/metadata", first).status_code for _ in range(3)] == [200] * 3
        throttled = call(client, "GET", "/metadata", first)
        body = outcome_of(throttled, 429)
        assert body["issue"][0]["code"] == "throttled"
        assert throttled.headers["Retry-After"] == "60"  # when to try again: the window
        assert call(client, "GET", "/metadata", second).status_code == 200  # its own count
    finally:
        app.extensions["db_engine"].dispose()


def test_a_death_or_a_merge_is_refused_not_dropped_and_inactive_is_kept(
    app: Flask, people: People, sql: Session, tokens: Tokens
) -> None:
    """A Patient sent with a date of death and active: false came back alive and active, and
    a link (an EHR's merge) was dropped without a word (an integrator's audit)."""
    client = app.test_client()
    count = len(list(sql.scalars(select(Patient))))
    for extra, element in (
        ({"deceasedDateTime": "2026-11-30T10:00:00+01:00"}, "Patient.deceased"),
        ({"deceasedBoolean": True}, "Patient.deceased"),
        ({"link": [{"other": {"reference": f"Patient/{people.patient.id}"},
                    "type": "replaced-by"}]}, "Patient.link"),
    ):  # fmt: skip
        refused = call(client, "POST", "/Patient", tokens.staff, content_type=FHIR_JSON,
                       json=new_patient_json("Ada Lovelace", **extra))  # fmt: skip
        issue = outcome_of(refused, 422)["issue"][0]
        assert issue["code"] == "not-supported" and issue["expression"] == [element], issue
    sql.expire_all()
    assert len(list(sql.scalars(select(Patient)))) == count  # nothing half-written
    inactive = call(
        client,
        "POST",
        "/Patient",
        tokens.staff,
        content_type=FHIR_JSON,
        json=new_patient_json("Ada Lovelace", active=False, deceasedBoolean=False),
    )
    assert inactive.status_code == 201 and valid(inactive.get_json())["active"] is False


def test_a_measurement_an_amendment_withdrew_is_entered_in_error_not_gone(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    """An amendment that signed the QT as not measurable made `Observation/<id>-qt` a 404: an
    EHR that had imported QT 380 ms as final was never told it was withdrawn (an integrator's
    audit). It is now entered-in-error (R4: withdrawn after final release), with why."""
    client = app.test_client()
    assert (
        fetch(client, f"/Observation/{signed.id}-qt", tokens.doctor)["valueQuantity"]["value"]
        == 380
    )
    sign(app, people, sql, signed, amend="QT not measurable: T wave merges into the P wave.",
         qt_ms="")  # fmt: skip
    qt = valid(fetch(client, f"/Observation/{signed.id}-qt", tokens.doctor))
    assert qt["status"] == "entered-in-error" and "valueQuantity" not in qt
    assert qt["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    assert "T wave merges into the P wave" in qt["note"][0]["text"]
    assert qt["meta"]["versionId"] == "3"
    report = fetch(client, f"/DiagnosticReport/{signed.id}", tokens.doctor)
    assert f"Observation/{signed.id}-qt" not in [r["reference"] for r in report["result"]]
    polled = fetch(client, f"/Observation?patient={people.patient.id}&code=http://loinc.org|"
                   f"{codes.MEASURE_BY_SLUG['qt'].codings[0].code}", tokens.doctor)  # fmt: skip
    assert [e["resource"]["status"] for e in polled["entry"]] == ["entered-in-error"]
    before = fetch(client, f"/Observation/{signed.id}-qt/_history/2", tokens.doctor)
    assert before["status"] == "final" and before["valueQuantity"]["value"] == 380
    # A value never given (the PR was measured; nothing was withdrawn) stays absent.
    outcome_of(call(client, "GET", f"/Observation/{signed.id}-nothing", tokens.doctor), 404)


def test_a_measurement_first_given_by_an_amendment_is_final(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    """R4's "amended" is "subsequent to being final": a QT signed not measurable (no
    Observation) and first given by an amendment had been published "amended", its final
    version never fetchable (a corrections audit, 2026-12-07). Withdrawn and given again, it
    was final before, so that one is amended."""
    client = app.test_client()
    url = f"/Observation/{signed.id}-qt"
    sign(app, people, sql, signed, amend="QT not measurable: T wave flat.", qt_ms="")
    assert fetch(client, url, tokens.doctor)["status"] == "entered-in-error"
    sign(app, people, sql, signed, amend="QT measured on V5.", qt_ms="400")
    restored = fetch(client, url, tokens.doctor)
    assert (restored["status"], restored["valueQuantity"]["value"]) == ("amended", 400)


def test_a_measurement_signed_not_measurable_then_given_is_final(
    app: Flask, people: People, sql: Session, tmp_path: Path, tokens: Tokens
) -> None:
    report = upload(app, people, sql, tmp_path)
    sign(app, people, sql, report, qt_ms="")
    client = app.test_client()
    outcome_of(call(client, "GET", f"/Observation/{report.id}-qt", tokens.doctor), 404)
    sign(app, people, sql, report, amend="QT measured on V5.", qt_ms="400")
    given = fetch(client, f"/Observation/{report.id}-qt", tokens.doctor)
    assert (given["status"], given["valueQuantity"]["value"]) == ("final", 400)
    assert given["meta"]["versionId"] == "3"
    sign(app, people, sql, report, amend="Conclusion reworded.", qt_ms="400",
         conclusion="Sinus rhythm with first-degree AV block; QT normal.")  # fmt: skip
    assert fetch(client, f"/Observation/{report.id}-qt", tokens.doctor)["status"] == "final"


def test_a_grace_observation_carries_its_points_and_names_their_band(
    app: Flask, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    """`Observation/<n>-risk-grace-in-hospital` had only its percentage, with "NSTE-ACS high,
    STEMI high" as its interpretation: a band of points beside a percentage it may contradict
    (2.2 % at 160 points, high meaning over 3 %), and the points, which guidelines act on,
    nowhere (an audit, 2026-12-07). The points are a component in "{score}" now, in the
    current Observation and in each signature's own."""
    client = app.test_client()
    for model in (RiskModel.GRACE_IN_HOSPITAL, RiskModel.GRACE_SIX_MONTH):
        score = sql.scalar(
            select(RiskScore).where(RiskScore.report_id == signed.id, RiskScore.model == model)
        )
        assert score is not None and score.value is not None and score.contributions
        points = round(sum(score.contributions.values()))  # GRACE's terms are its points
        url = f"/Observation/{signed.id}-risk-{model.value.replace('_', '-')}"
        observation = fetch(client, url, tokens.doctor)
        (component,) = observation["component"]
        assert component["code"]["coding"] == [
            {"system": codes.RISK_PART_SYSTEM, "code": "points", "display": "Score in points"}
        ]
        assert component["valueQuantity"] == {"value": points, "unit": "{score}",
                                              "system": codes.UCUM, "code": "{score}"}  # fmt: skip
        (interpretation,) = observation["interpretation"]
        assert interpretation["text"].startswith(f"{points} points: NSTE-ACS "), interpretation
        assert "points), STEMI " in interpretation["text"]
        assert observation["valueQuantity"]["unit"] == "%"
        as_signed = fetch(client, f"{url}/_history/2", tokens.doctor)
        assert as_signed["component"] == observation["component"]
        assert as_signed["interpretation"] == observation["interpretation"]
    framingham = fetch(
        client, f"/Observation/{signed.id}-risk-framingham-general-cvd", tokens.doctor
    )
    assert "component" not in framingham


def test_a_grace_six_month_percentage_at_the_nomogram_floor_has_its_comparator(
    app: Flask, people: People, sql: Session, tmp_path: Path, tokens: Tokens
) -> None:
    """Eagle's nomogram gives "0.8 % or less" at 70 points or fewer; the Observation had sent
    `valueQuantity.value` 0.8 with no comparator, a bound as a fact (an audit, 2026-12-07)."""
    admission = {name: False for name in BOOLEAN_FIELDS} | {"in_hospital_pci": True}
    record_clinical_input(
        sql, people.patient,
        ClinicalInputForm(recorded_at=utcnow() - dt.timedelta(hours=3), heart_rate_bpm=55,
                          systolic_bp_mmhg=170, creatinine=0.9, killip_class=1,
                          booleans=admission),
        actor=people.staff, now=utcnow(),
    )  # fmt: skip
    sql.commit()
    report = upload(app, people, sql, tmp_path)
    sign(app, people, sql, report)
    six_month = sql.scalar(
        select(RiskScore).where(
            RiskScore.report_id == report.id, RiskScore.model == RiskModel.GRACE_SIX_MONTH
        )
    )
    assert six_month is not None and six_month.contributions
    assert sum(six_month.contributions.values()) == 67  # age 60-69, 55 bpm, 170 mmHg, 0.9 mg/dL
    client = app.test_client()
    url = f"/Observation/{report.id}-risk-grace-six-month"
    for observation in (fetch(client, url, tokens.doctor),
                        fetch(client, f"{url}/_history/2", tokens.doctor)):  # fmt: skip
        assert observation["valueQuantity"] == {"value": 0.8, "comparator": "<=", "unit": "%",
                                                "system": codes.UCUM, "code": "%"}  # fmt: skip
    in_hospital = fetch(client, f"/Observation/{report.id}-risk-grace-in-hospital", tokens.doctor)
    assert "comparator" not in in_hospital["valueQuantity"]  # the continuous model's estimate


def test_a_risk_score_an_amendment_could_not_compute_is_entered_in_error_not_gone(
    app: Flask, people: People, sql: Session, tmp_path: Path, tokens: Tokens
) -> None:
    """Framingham 51.1 % was signed and amended; ST depression recorded on admission, the next
    amendment could not compute it (an acute coronary syndrome), and its Observation, its
    `_history` and its search answered 404 or nothing: an EHR that had imported 51.1 % was
    never told it was withdrawn (an interoperability audit, 2026-12-07). It is now
    entered-in-error with why, and each signature's figure stays readable by `_history`."""
    record_clinical_input(
        sql, people.patient,
        ClinicalInputForm(recorded_at=utcnow() - dt.timedelta(days=4), total_cholesterol=230,
                          hdl=40, cholesterol_unit="mg/dL", systolic_bp_mmhg=150,
                          booleans={name: name == "smoker" for name in BOOLEAN_FIELDS}),
        actor=people.staff, now=utcnow(),
    )  # fmt: skip
    sql.commit()
    report = upload(app, people, sql, tmp_path)
    client = app.test_client()
    url = f"/Observation/{report.id}-risk-framingham-general-cvd"
    preliminary = fetch(client, url, tokens.doctor)
    figure = preliminary["valueQuantity"]["value"]
    assert preliminary["status"] == "preliminary" and figure > 20
    sign(app, people, sql, report)
    sign(app, people, sql, report, amend="PR remeasured.", pr_ms="208")
    assert fetch(client, url, tokens.doctor)["status"] == "amended"
    record_clinical_input(
        sql, people.patient,
        ClinicalInputForm(recorded_at=report.report_date - dt.timedelta(hours=1),
                          booleans={"st_depression": True}),
        actor=people.staff, now=utcnow(),
    )  # fmt: skip
    sql.commit()
    sign(app, people, sql, report, amend="ST depression on admission.", pr_ms="208")
    sql.expire_all()
    score = next(s for s in report.risk_scores if s.model.value == "framingham_general_cvd")
    assert score is not None and score.value is None and score.not_computed_reason

    withdrawn = fetch(client, url, tokens.doctor)
    assert withdrawn["status"] == "entered-in-error" and "valueQuantity" not in withdrawn
    assert withdrawn["meta"]["versionId"] == "4"
    assert withdrawn["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    note = withdrawn["note"][0]["text"]
    assert note.startswith("Withdrawn by the amendment of version 4: ")
    assert score.not_computed_reason in note and "acute coronary syndrome" in note
    assert fetch(client, f"{url}/_history/4", tokens.doctor) == withdrawn
    for version_no, status in ((3, "amended"), (2, "final")):
        before = fetch(client, f"{url}/_history/{version_no}", tokens.doctor)
        assert before["status"] == status and before["meta"]["versionId"] == str(version_no)
        assert before["valueQuantity"]["value"] == figure
    outcome_of(call(client, "GET", f"{url}/_history/1", tokens.doctor), 404)  # the machine's
    code = f"{codes.RISK_MODEL_SYSTEM}|framingham_general_cvd"
    polled = fetch(client, f"/Observation?patient={people.patient.id}&code={code}", tokens.doctor)
    assert [e["resource"]["status"] for e in polled["entry"]] == ["entered-in-error"]
    current = fetch(client, f"/DiagnosticReport/{report.id}", tokens.doctor)
    assert f"Observation/{report.id}-risk-framingham-general-cvd" not in [
        r["reference"] for r in current.get("result", [])
    ]
    # The patient's app had their one figure: withdrawn for them too.
    assert fetch(client, url, tokens.patient)["status"] == "entered-in-error"


def test_a_risk_beyond_the_models_calibrated_range_is_served_as_more_than_it(
    app: Flask, people: People, sql: Session, tmp_path: Path, tokens: Tokens
) -> None:
    """Cholesterol 300, HDL 30, a treated 200 mmHg, a smoker with diabetes: the Cox equation
    gives 96.6 % for her, far beyond the highest risk the paper states as a figure (30 %), and FHIR
    served it as a certainty (a risk audit). It is now "> 30 %" (R4's Quantity.comparator),
    the equation's figure in a note; a score within the range is served as before."""
    record_clinical_input(
        sql, people.patient,
        ClinicalInputForm(recorded_at=utcnow() - dt.timedelta(days=4), total_cholesterol=300,
                          hdl=30, cholesterol_unit="mg/dL", systolic_bp_mmhg=200, bmi_kg_m2=22,
                          booleans={name: name in ("smoker", "diabetic", "bp_treated")
                                    for name in BOOLEAN_FIELDS}),
        actor=people.staff, now=utcnow(),
    )  # fmt: skip
    sql.commit()
    report = upload(app, people, sql, tmp_path)
    sign(app, people, sql, report)
    client = app.test_client()
    url = f"/Observation/{report.id}-risk-framingham-general-cvd"
    for served in (fetch(client, url, tokens.doctor), fetch(client, f"{url}/_history/2",
                                                            tokens.doctor)):  # fmt: skip
        assert served["valueQuantity"] == {"value": 30.0, "comparator": ">", "unit": "%",
                                           "system": codes.UCUM, "code": "%"}  # fmt: skip
        notes = " ".join(n["text"] for n in served["note"])
        assert re.search(r"The equation gives 9\d\.\d %", notes) and "more than 30 %" in notes
    score = next(s for s in report.risk_scores if s.model.value == "framingham_general_cvd")
    assert score.value is not None and score.value > 90  # kept as computed


def test_a_risk_score_no_longer_current_is_a_new_version_and_its_signed_one_stays(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    """A back-dated cholesterol correction after the signature added "Not current: ..." to
    `Observation/<n>-risk-framingham-general-cvd` under the signed `meta` and ETag `W/"2"`: an
    EHR holding `W/"2"` was answered 304 and never learnt of it, and `_history/2` carried the
    note too (a risk-score audit, 2026-12-07). The stale read is a version of its own now, of
    the time the entry was added, read back by `_history`; version 2 stays as signed."""
    client = app.test_client()
    url = f"/Observation/{signed.id}-risk-framingham-general-cvd"
    as_signed = fetch(client, url, tokens.doctor)
    assert as_signed["meta"]["versionId"] == "2"
    late_cholesterol(sql, people, signed, 300)
    stale = fetch(client, url, tokens.doctor)
    assert stale["note"][-1]["text"].startswith("Not current: an entry measured on or before")
    assert stale["status"] == "final"  # its value stands, computed as signed
    assert stale["valueQuantity"] == as_signed["valueQuantity"]
    version = stale["meta"]["versionId"]
    assert version.startswith("2-stale-") and stale["meta"] != as_signed["meta"]
    assert stale["meta"]["lastUpdated"] >= as_signed["meta"]["lastUpdated"]
    response = call(client, "GET", url, tokens.doctor, headers={"If-None-Match": 'W/"2"'})
    assert response.status_code == 200 and response.headers["ETag"] == f'W/"{version}"'
    again = call(client, "GET", url, tokens.doctor, headers={"If-None-Match": f'W/"{version}"'})
    assert again.status_code == 304
    assert fetch(client, f"{url}/_history/{version}", tokens.doctor) == stale
    assert fetch(client, f"{url}/_history/2", tokens.doctor) == as_signed
    outcome_of(call(client, "GET", f"{url}/_history/2-stale-20000101000000", tokens.doctor), 404)
    outcome_of(call(client, "GET", f"/Observation/{signed.id}-qt/_history/{version}",
                    tokens.doctor), 404)  # fmt: skip


def late_cholesterol(sql: Session, people: People, report: EcgReport, total: float) -> None:
    """A cholesterol measured before the ECG, added now: the signed score is no longer current."""
    record_clinical_input(
        sql, people.patient,
        ClinicalInputForm(recorded_at=report.report_date - dt.timedelta(hours=2),
                          total_cholesterol=total, hdl=35, cholesterol_unit="mg/dL"),
        actor=people.staff, now=utcnow(),
    )  # fmt: skip
    sql.commit()


def _edit_patient(sql: Session, people: People, **changes: Any) -> None:
    """Staff correct the patient's details, as the edit page does (audited)."""
    patient = people.patient
    now = {f.name: getattr(patient, f.name) for f in dataclasses.fields(patients.PatientDetails)}
    details = patients.PatientDetails(**now | changes)
    patients.update_patient(sql, patient, details, actor=people.staff, today=dt.date.today())
    sql.commit()


def test_a_stale_risk_scores_version_keeps_its_time(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    """A second late entry the same day, with the same note, had moved the stale version's
    lastUpdated (16:06:05 read 16:06:12) under the same versionId, its `_history` too, and a
    phone number corrected after a date of birth had moved it likewise (a review, 2026-12-07):
    a versionId's lastUpdated never changes, the time of the first event that made the note."""
    client = app.test_client()
    url = f"/Observation/{signed.id}-risk-framingham-general-cvd"
    late_cholesterol(sql, people, signed, 300)
    first = fetch(client, url, tokens.doctor)
    version = first["meta"]["versionId"]
    time.sleep(1.1)  # lastUpdated is to the second
    late_cholesterol(sql, people, signed, 310)
    assert fetch(client, url, tokens.doctor)["meta"] == first["meta"]
    assert fetch(client, f"{url}/_history/{version}", tokens.doctor)["meta"] == first["meta"]


def test_a_stale_age_keeps_the_time_of_its_correction(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    client = app.test_client()
    url = f"/Observation/{signed.id}-risk-framingham-general-cvd"
    _edit_patient(sql, people, date_of_birth=people.patient.date_of_birth - dt.timedelta(days=3653))
    corrected = fetch(client, url, tokens.doctor)
    assert "the patient's details have been corrected" in corrected["note"][-1]["text"]
    time.sleep(1.1)
    _edit_patient(sql, people, phone="+44 20 7946 0000")
    assert fetch(client, url, tokens.doctor)["meta"] == corrected["meta"]


def test_a_stale_version_after_an_amendment_is_gone_not_missing(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    """Served as current, `_history/2-stale-...` read 404 "does not exist" once the report was
    amended (a review, 2026-12-07): its note is not kept and the score is recomputed, so it
    is 410 Gone, saying where the score as signed and as it stands are read."""
    client = app.test_client()
    url = f"/Observation/{signed.id}-risk-framingham-general-cvd"
    late_cholesterol(sql, people, signed, 300)
    version = fetch(client, url, tokens.doctor)["meta"]["versionId"]
    sign(app, people, sql, signed, amend="Cholesterol corrected.")
    assert fetch(client, url, tokens.doctor)["meta"]["versionId"] == "3"
    gone = outcome_of(call(client, "GET", f"{url}/_history/{version}", tokens.doctor), 410)
    assert gone["issue"][0]["code"] == "deleted"
    assert "_history/2 for the score as signed" in gone["issue"][0]["diagnostics"]
    fetch(client, f"{url}/_history/2", tokens.doctor)
    outcome_of(call(client, "GET", f"{url}/_history/2-stale-20000101000000", tokens.doctor), 404)
    outcome_of(call(client, "GET", f"{url}/_history/7-stale-3a91e677a42c", tokens.doctor), 404)


def test_a_stale_risk_scores_version_is_named_by_what_it_says_not_by_the_last_edit(
    app: Flask, people: People, sql: Session, signed: EcgReport, tokens: Tokens
) -> None:
    """A date of birth corrected after the signature makes the score stale ("computed for age
    ..."); a phone number corrected after that had made it another version, of the phone's
    time, and the version served before read 404 (a review, 2026-12-07)."""
    client = app.test_client()
    url = f"/Observation/{signed.id}-risk-framingham-general-cvd"
    people.patient.date_of_birth -= dt.timedelta(days=3653)
    sql.commit()
    stale = fetch(client, url, tokens.doctor)
    assert "the patient's details have been corrected" in stale["note"][-1]["text"]
    version = stale["meta"]["versionId"]
    people.patient.phone = "+44 20 7946 0000"
    people.patient.updated_at = utcnow() + dt.timedelta(minutes=5)  # a later edit
    sql.commit()
    kept = call(client, "GET", url, tokens.doctor, headers={"If-None-Match": f'W/"{version}"'})
    assert kept.status_code == 304
    assert fetch(client, f"{url}/_history/{version}", tokens.doctor)["meta"]["versionId"] == version
