"""GET /fhir/r4/Patient/<id>/$everything: one patient's record as a searchset Bundle in
pages: the Patient, their DiagnosticReports (newest first) and each report's Observations,
then the Observations of their clinical inputs (risk factors, newest first).
The waveform Observations are listed without their samples' weight: they come with the
first 10 s; later windows are read by id (`Observation/<report>-ecg?start_s=`)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from portal.access import roles, scopes
from portal.db import db_session
from portal.fhir import clinical_input
from portal.fhir.bundle import paging, searchset
from portal.fhir.diagnostic_report import report_resource
from portal.fhir.http import FhirError, actor, audit_read, bp, resource_response
from portal.fhir.observation import audience_of, build, items, visible_reports
from portal.fhir.patient import READERS, not_found, patient_resource, visible
from portal.models import EcgReport, Patient


@bp.route("/Patient/<id:patient_id>/$everything", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def patient_everything(patient_id: int) -> Response:
    from flask import request

    unknown = sorted(set(request.args) - {"_count", "_offset", "_format", "_pretty"})
    if unknown:
        raise FhirError(400, f"$everything takes _count and _offset only (not {unknown[0]}).",
                        "not-supported", unknown[0])  # fmt: skip
    sql = db_session()
    patient = sql.scalar(visible(actor()).where(Patient.id == patient_id))
    if patient is None:
        raise not_found(f"Patient/{patient_id}")
    where = paging()
    found = sql.scalars(
        visible_reports(actor())
        .where(EcgReport.patient_id == patient.id)
        .order_by(EcgReport.report_date.desc(), EcgReport.id.desc())
    ).all()
    who = audience_of(actor())
    # What to list, cheaply (ids only); only the requested page is built.
    listed: list[tuple[str, Any]] = [("patient", patient)]
    for report in found:
        listed.append(("report", report))
        listed += [("observation", item) for item in items(report, who)]
    listed += [("input", item) for item in clinical_input.input_items(patient.id, None, [])]
    page = listed[where.offset : where.offset + where.count]
    built = []
    for kind, thing in page:
        if kind == "patient":
            built.append(patient_resource(thing))
        elif kind == "report":
            built.append(report_resource(thing, who))
        elif kind == "input":
            built.append(clinical_input.build_input(thing))
        else:
            built.append(build(thing))
    audit_read("fhir.patient.everything", patient_ids=[patient.id], object_type="patient",
               object_id=patient.id, details={"total": len(listed)})  # fmt: skip
    return resource_response(searchset(built, len(listed), where))
