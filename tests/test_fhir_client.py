"""A real FHIR client against a live server: SMART on FHIR's `fhirclient` (its R4 models
parse every resource strictly) reads Patient -> DiagnosticReport?patient= -> the report's
result Observations -> the presentedForm PDF, with an API token as its bearer credential."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fhirclient import client as fhir_client
from fhirclient.models.diagnosticreport import DiagnosticReport
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient
from fhirclient.server import FHIRUnauthorizedException
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from portal.fhir import codes
from tests.conftest import People
from tests.test_fhir import issue, sign, upload


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def connect(base: str, token: str | None) -> fhir_client.FHIRClient:
    """fhirclient with the portal's bearer token on every request of its requests session
    (the portal's tokens are issued by an admin, not by an OAuth flow)."""
    smart = fhir_client.FHIRClient(settings={"app_id": "cardioportal-tests", "api_base": base})
    if token is not None:
        smart.server.session.headers["Authorization"] = f"Bearer {token}"
    return smart


def test_fhirclient_reads_patient_report_observations_and_pdf(
    app: Flask, people: People, sql: Session, tmp_path: Path, live_url: str
) -> None:
    report = upload(app, people, sql, tmp_path)
    sign(app, people, sql, report)
    token = issue(sql, people.doctor, "fhir:read", actor=people.admin)
    smart = connect(f"{live_url}/fhir/r4", token)
    smart.prepare()  # reads and parses the CapabilityStatement
    assert smart.server.capabilityStatement.fhirVersion == "4.0.1"
    server = smart.server

    patient = Patient.read(str(people.patient.id), server)
    assert patient.birthDate.isostring == "1960-12-10" and patient.gender == "female"
    assert patient.identifier[0].system == codes.MRN_SYSTEM
    assert patient.identifier[0].value == people.patient.mrn

    search = DiagnosticReport.where(struct={"patient": patient.id})
    found = list(search.perform_resources_iter(server))  # follows Bundle.link "next"
    assert [r.id for r in found] == [str(report.id)]
    diagnostic = found[0]
    assert diagnostic.status == "final" and diagnostic.code.coding[0].code == "11524-6"
    assert diagnostic.subject.reference == f"Patient/{patient.id}"
    assert diagnostic.conclusion == "Sinus rhythm with first-degree AV block."
    assert {c.code for concept in diagnostic.conclusionCode for c in concept.coding} >= {
        "426783006", "270492004"
    }  # fmt: skip
    assert diagnostic.contained[0].name[0].text == "Doctor1"

    observations = [Observation.read_from(ref.reference, server) for ref in diagnostic.result]
    by_code = {o.code.coding[0].code: o for o in observations}
    heart_rate = by_code["8867-4"]
    assert heart_rate.valueQuantity.value == 72 and heart_rate.valueQuantity.code == "/min"
    assert by_code["8625-6"].valueQuantity.value == 212
    waveform = by_code["131328"]
    assert [c.code.coding[0].code for c in waveform.component] == ["131329", "131330", "131389"]
    assert waveform.component[0].valueSampledData.period == 4

    (form,) = diagnostic.presentedForm
    assert form.contentType == "application/pdf"
    pdf = server.request_data(form.url, headers={"Accept": "application/pdf"})
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000

    with pytest.raises(FHIRUnauthorizedException):
        Patient.read(str(people.patient.id), connect(f"{live_url}/fhir/r4", None).server)
