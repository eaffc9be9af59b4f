"""GET /fhir/r4/metadata: the CapabilityStatement. It asks for a valid API token of any role
and no scope (a FHIR client reads it first to learn the server; it holds no patient data).
Public metadata is common, but every URL of this portal is declared in portal/access.py and
the only public ones are the login and health pages; a token is what a client has anyway."""

from __future__ import annotations

from typing import Any

from flask import current_app
from werkzeug.wrappers import Response

from portal.access import roles
from portal.fhir import codes
from portal.fhir.http import base_url, bp, outcome, resource_response
from portal.models import Role

SOFTWARE_VERSION = "0.1.0"
# What the statement says of searches and what `POST <type>/_search` answers (405).
SEARCH_BY_GET = (
    "Searches are GET only: GET [type]?parameters. POST [type]/_search (a form-encoded "
    "search) is not supported and answers 405, Allow: GET."
)
RELEASED = "2026-12-07"  # when this statement last changed


def _search(params: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    return [{"name": n, "type": t, "documentation": d} for n, t, d in params]


def capability_statement() -> dict[str, Any]:
    settings = current_app.config["SETTINGS"]
    read = [{"code": "read"}, {"code": "search-type"}]
    count = ("_count", "number", "Page size (default 20, at most 100); paging with Bundle.link.")
    return {
        "resourceType": "CapabilityStatement",
        "id": "cardioportal",
        "url": f"{base_url()}/metadata",
        "name": "CardioPortalFHIR",
        "title": "CardioPortal FHIR R4 server",
        "status": "active",
        "experimental": False,
        "date": RELEASED,
        "publisher": settings.institution_name,
        "description": "ECG reports of CardioPortal: Patient, DiagnosticReport (ECG study, "
        "signed by a doctor, with its PDF), Observation (measurements, risk scores, waveform, "
        "the clinical inputs the risk scores are computed from).",
        "kind": "instance",
        "software": {"name": "CardioPortal", "version": SOFTWARE_VERSION},
        "implementation": {"description": settings.institution_name, "url": base_url()},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "JSON only (_format=xml is refused with 406), FHIR R4 "
                "only (an Accept asking for another fhirVersion only is refused with 406). "
                "A read takes "
                "_format and _pretty only (a waveform Observation also start_s and duration_s): "
                "any other parameter is a 400, as an unknown search parameter is. Every request "
                "carries an API token issued by an administrator (/admin/tokens): "
                "Authorization: Bearer cp_... Scopes: fhir:read, fhir:write, fhir:export. "
                "A token acts for "
                "one account with that account's role: staff see every patient, a doctor "
                "their patients, a patient their own signed reports. "
                f"{SEARCH_BY_GET}",
                "security": {
                    "cors": False,
                    "description": "Bearer API token (not OAuth): Authorization: Bearer cp_...",
                },
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                        "documentation": "Asynchronous NDJSON export (Prefer: respond-async) "
                        "of Patient, DiagnosticReport and Observation; scope fhir:export; "
                        "staff and doctors. Also Patient/$export.",
                    }
                ],
                "resource": [
                    {
                        "type": "Patient",
                        "interaction": [*read, {"code": "create"}, {"code": "update"}],
                        "versioning": "no-version",
                        "readHistory": False,
                        "updateCreate": False,
                        "conditionalCreate": True,
                        "conditionalUpdate": True,
                        "operation": [
                            {
                                "name": "everything",
                                "definition": "http://hl7.org/fhir/OperationDefinition/"
                                "Patient-everything",
                            }
                        ],
                        "searchParam": _search(
                            [
                                (
                                    "identifier",
                                    "token",
                                    f"MRN: {codes.MRN_SYSTEM}|CP... "
                                    f"({codes.MRN_SYSTEM}| alone: any MRN); comma = or.",
                                ),
                                (
                                    "name",
                                    "string",
                                    "Part of the name (starts a word); also "
                                    "name:contains and name:exact (composed, NFC); comma = or.",
                                ),
                                ("birthdate", "date", "eq, ne, lt, le, gt, ge."),
                                ("gender", "token", "female, male, other, unknown."),
                                ("active", "token", "true or false."),
                                ("_id", "token", "Patient id."),
                                count,
                            ]
                        ),  # fmt: skip
                    },
                    {
                        "type": "DiagnosticReport",
                        "interaction": [*read, {"code": "vread"}],
                        "versioning": "versioned",
                        "readHistory": True,
                        "searchParam": _search(
                            [
                                ("patient", "reference", "Patient/<id>."),
                                ("subject", "reference", "Patient/<id>."),
                                ("date", "date", "When the ECG was recorded (hospital's days)."),
                                (
                                    "_lastUpdated",
                                    "date",
                                    "When it was withdrawn as entered in error, else "
                                    "last signed or amended, else read by the machine "
                                    "(hospital's days).",
                                ),
                                (
                                    "status",
                                    "token",
                                    "preliminary, final, amended, entered-in-error (withdrawn); "
                                    "comma = or; FHIR's other codes match no report.",
                                ),
                                ("code", "token", "http://loinc.org|11524-6."),
                                ("category", "token", "EC."),
                                ("_id", "token", "Report id."),
                                count,
                            ]
                        ),  # fmt: skip
                    },
                    {
                        "type": "Observation",
                        "interaction": [*read, {"code": "vread"}],
                        "versioning": "versioned",
                        "readHistory": True,
                        "searchParam": _search(
                            [
                                ("patient", "reference", "Required (or subject)."),
                                ("subject", "reference", "Patient/<id>."),
                                (
                                    "code",
                                    "token",
                                    "LOINC, MDC, risk-model or clinical-input code.",
                                ),
                                (
                                    "category",
                                    "token",
                                    "procedure, vital-signs (the heart rate, a blood "
                                    "pressure, BMI), laboratory, social-history, exam (the "
                                    "clinical inputs); code or "
                                    f"{codes.OBSERVATION_CATEGORY}|code; comma = or.",
                                ),
                                (
                                    "date",
                                    "date",
                                    "When the ECG was recorded, or the clinical input measured.",
                                ),
                                ("_id", "token", "Observation id."),
                                count,
                            ]
                        ),  # fmt: skip
                    },
                    {
                        "type": "Binary",
                        "interaction": [{"code": "read"}],
                        "documentation": "The report PDFs (Accept: application/pdf).",
                    },  # fmt: skip
                ],
            }
        ],
    }


@bp.route("/metadata", methods=["GET"])
@roles(*Role)
def metadata() -> Response:
    return resource_response(capability_statement())


@bp.route("/<any(Patient,DiagnosticReport,Observation):resource_type>/_search", methods=["POST"])
@roles(*Role)
def search_by_post(resource_type: str) -> Response:
    """A form-encoded search is refused in words, as the statement says: it had answered 404
    "No such resource, or not visible to this token's account" (an integration audit), which
    a client reads as no match."""
    answer = outcome(
        405,
        [(f"{SEARCH_BY_GET} Send GET {base_url()}/{resource_type}?<parameters>.", None)],
        "not-supported",
    )
    answer.headers["Allow"] = "GET"
    return answer
