"""What every /fhir/r4 endpoint shares: the blueprint, content negotiation (JSON only:
`_format` and Accept), responses as application/fhir+json, OperationOutcome errors that name
the element at fault, the acting account (the API token's), and the audit row of a read."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask_login import current_user
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_options_header

from portal.db import db_session
from portal.models import Account
from portal.services import audit
from portal.services.reports import read_as_episodes

FHIR_JSON = "application/fhir+json"
JSON_TYPES = (FHIR_JSON, "application/json", "json", "application/json+fhir")
XML_TYPES = ("xml", "text/xml", "application/xml", "application/fhir+xml", "application/xml+fhir")
PREFIX = "/fhir/r4"

bp = Blueprint("fhir", __name__, url_prefix=PREFIX)


class FhirError(Exception):
    """An error answered as an OperationOutcome: status, message, FHIR issue type and the
    FHIRPath of the element at fault (e.g. "Patient.birthDate")."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = "processing",
        expression: str | None = None,
        more: Sequence[tuple[str, str | None]] = (),
    ) -> None:
        super().__init__(message)
        self.status, self.code = status, code
        self.issues: list[tuple[str, str | None]] = [(message, expression), *more]


def outcome(status: int, issues: Sequence[tuple[str, str | None]], code: str) -> Response:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": code,
                "diagnostics": message,
                **({"expression": [expression]} if expression else {}),
            }
            for message, expression in issues
        ],
    }
    return resource_response(body, status)


@bp.errorhandler(FhirError)
def _fhir_error(error: FhirError) -> Response:
    db_session().rollback()  # nothing half-done is saved by a later commit
    return outcome(error.status, error.issues, error.code)


def _without_parameters(accept: MIMEAccept) -> MIMEAccept:
    """`accept` with each type's parameters dropped: R4's "application/fhir+json;
    fhirVersion=4.0" had matched no type and been answered 406 (an integration audit)."""
    return MIMEAccept([(value.split(";")[0].strip(), quality) for value, quality in accept])


R4_VERSIONS = {"4.0", "4.0.1"}  # R4's fhirVersion MIME parameter (major.minor), or in full


def _other_fhir_versions(accept: MIMEAccept) -> list[str]:
    """The FHIR versions an Accept header asks for when none of its types takes R4: every
    acceptable type names another `fhirVersion` (e.g. `application/fhir+json;
    fhirVersion=3.0`). R4 content had been sent to a client asking for STU3 or R5, which it
    would read by the wrong version's rules (an interoperability audit, 2026-12-07)."""
    asked: list[str] = []
    for value, quality in accept:
        if not quality:
            continue
        version = parse_options_header(value)[1].get("fhirversion")
        if version is None or version.strip() in R4_VERSIONS:
            return []
        asked.append(version.strip()[:10])
    return asked


@bp.before_request
def _negotiate() -> Response | None:
    """JSON only. `_format=xml` or an Accept that allows no JSON: 406; a body that is not
    JSON: 415 (both as OperationOutcome). Runs after the access guard (the token first)."""
    wanted = request.args.get("_format", "").strip().lower()
    if wanted and wanted.split(";")[0].strip() not in JSON_TYPES:
        kind = "XML" if wanted in XML_TYPES or "xml" in wanted else f"“{wanted[:40]}”"
        return outcome(406, [(f"{kind} is not served here: use _format=json.", None)],
                       "not-supported")  # fmt: skip
    if other := _other_fhir_versions(request.accept_mimetypes):
        return outcome(406, [(f"This server speaks FHIR R4 (fhirVersion=4.0), not "
                              f"fhirVersion={other[0]}: ask for application/fhir+json; "
                              "fhirVersion=4.0, or leave fhirVersion out.", None)],
                       "not-supported")  # fmt: skip
    accept = _without_parameters(request.accept_mimetypes)
    if (
        not wanted
        and accept
        and not any(accept.quality(kind) for kind in (FHIR_JSON, "application/json"))
        and not (request.endpoint == "fhir.binary_read" and accept.quality("application/pdf"))
        and not (
            request.endpoint == "fhir.export_file"
            and accept.quality("application/fhir+ndjson") + accept.quality("application/ndjson")
        )
    ):
        return outcome(406, [("This server answers in application/fhir+json only.", None)],
                       "not-supported")  # fmt: skip
    sent = request.mimetype
    takes_a_resource = request.endpoint != "fhir.search_by_post"  # a form: told to use GET
    if (
        request.method in ("POST", "PUT")
        and takes_a_resource
        and sent not in (FHIR_JSON, "application/json")
    ):
        return outcome(
            415,
            [(f"Send the resource as {FHIR_JSON} (got “{sent or 'nothing'}”).", None)],
            "not-supported",
        )
    return None


# Reads (read, vread, Binary): no parameter but the format ones; the waveform Observation's
# window (`observation.window_arg`) refuses its own unknown ones.
READ_ENDPOINTS = {
    "fhir.patient_read", "fhir.report_read", "fhir.report_vread", "fhir.observation_read",
    "fhir.observation_vread", "fhir.binary_read",
}  # fmt: skip
READ_PARAMETERS = {"_format", "_pretty"}
WAVEFORM_ID_END = "-ecg"


@bp.before_request
def _refuse_read_parameters() -> Response | None:
    """A read with a parameter it does not take is a 400 naming it: `DiagnosticReport/2?
    version=2` had answered version 4 with a 200, and `?_at=`, `?_history=3` were ignored the
    same way, so an EHR filed today's version as the one it asked for (an interoperability
    audit, 2026-12-07). After `_negotiate` (a 406 first) and the access guard (a 401 first)."""
    if request.endpoint not in READ_ENDPOINTS:
        return None
    waveform = request.endpoint == "fhir.observation_read" and str(
        (request.view_args or {}).get("observation_id", "")
    ).endswith(WAVEFORM_ID_END)
    unknown = [name for name in request.args if name not in READ_PARAMETERS]
    if not unknown or waveform:
        return None
    name = unknown[0][:40]
    return outcome(
        400,
        [(f"Unknown parameter “{name}”: a read takes only _format and _pretty. An earlier "
          "version is read at <type>/<id>/_history/<version>.", name)],
        "not-supported",
    )  # fmt: skip


def resource_response(
    resource: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    headers = dict(headers or {})
    version = (resource.get("meta") or {}).get("versionId")
    if version is not None and resource.get("resourceType") != "Bundle":
        # R4 for a versioned resource: its version as a weak ETag (it had none, beside a
        # CapabilityStatement saying "versioned"); a read naming it in If-None-Match is a 304.
        headers["ETag"] = f'W/"{version}"'
        named = _if_none_match()  # "*": any version (RFC 9110 13.1.2), 304 as it exists
        if request.method == "GET" and status == 200 and ({headers["ETag"], "W/*"} & named):
            response = current_app.response_class(status=304)
            response.headers["ETag"] = headers["ETag"]
            return response
    pretty = request.args.get("_pretty", "").lower() == "true"
    text = json.dumps(resource, ensure_ascii=False, indent=2 if pretty else None)
    response = current_app.response_class(
        text, status=status, content_type=f"{FHIR_JSON}; charset=utf-8"
    )
    for name, value in headers.items():
        response.headers[name] = value
    return response


def _if_none_match() -> set[str]:
    """The versions an If-None-Match header names, each as a weak ETag."""
    tags = (t.strip() for t in request.headers.get("If-None-Match", "").split(","))
    return {t if t.startswith("W/") else f"W/{t}" for t in tags if t}


def actor() -> Account:
    """The account the request's API token acts for (set by portal/access.py's guard)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def base_url() -> str:
    """This server's FHIR base, absolute (entries' fullUrl, presentedForm URLs)."""
    return request.url_root.rstrip("/") + PREFIX


def instant(when: dt.datetime, *, precise: bool = False) -> str:
    """A stored (naive UTC) time as a FHIR instant/dateTime with its zone (to the second, or
    to the millisecond when `precise`: a waveform window's bounds)."""
    return when.replace(tzinfo=dt.UTC).isoformat(timespec="milliseconds" if precise else "seconds")


def recording_start(report: Any) -> dt.datetime:
    """When the recording began: its own clock's time (`report_date`), or, for a file with no
    clock, its upload time less its length, as it ended by its upload. A 30-min MIT-BIH record
    with no start time had been filed as running from its upload to 28 minutes after the
    doctor signed it (an integration audit, 2026-12-07)."""
    stamped: dt.datetime = report.report_date
    if report.recording.acquired_at is not None:
        return stamped
    return stamped - dt.timedelta(seconds=report.reading_duration_s)


def effective(report: Any) -> dict[str, Any]:
    """When an ECG's results hold: its acquisition time, or for a recording read as episodes
    (over a strip's 61 s, a Holter) the period it covers. A 1-h recording's mean heart rate
    had been filed as a reading at its first second (an integrator's audit). The period is
    the report's own reading's (`reading_duration_s`): a withdrawn report read over 80 s had
    ended at 40 s once its CSV was read again at twice the rate (an audit)."""
    start = recording_start(report)
    if not read_as_episodes(report):
        return {"effectiveDateTime": instant(start)}
    end = start + dt.timedelta(seconds=report.reading_duration_s)
    return {"effectivePeriod": {"start": instant(start), "end": instant(end)}}


def json_body(resource_type: str) -> dict[str, Any]:
    """The request's resource: JSON in UTF-8 (FHIR's one encoding), an object, of this type
    (400 otherwise). Bytes that are not UTF-8 are refused, not replaced: a Latin-1 body had
    stored "Ren\ufffde" for Renée, for good (an integrator's audit)."""
    try:
        text = request.get_data().decode("utf-8")
    except UnicodeDecodeError as problem:
        raise FhirError(
            400, f"The body is not UTF-8 (byte {problem.start}): send FHIR JSON in UTF-8.",
            "structure",
        ) from None  # fmt: skip
    try:
        body = json.loads(text or "null")
    except ValueError as problem:
        raise FhirError(400, f"The body is not JSON: {problem}.", "structure") from None
    except RecursionError:  # e.g. [[[[...]]]] 100,000 deep: past what the parser follows
        raise FhirError(400, "The body is not JSON this server can read: it is nested too "
                        "deeply.", "structure") from None  # fmt: skip
    if not isinstance(body, dict):
        raise FhirError(400, f"Send one {resource_type} resource as a JSON object.", "structure")
    if body.get("resourceType") != resource_type:
        raise FhirError(
            400, f"Expected resourceType “{resource_type}”, got “{body.get('resourceType')}”.",
            "structure", "resourceType",
        )  # fmt: skip
    return body


def audit_read(
    action: str,
    *,
    patient_ids: list[int],
    object_type: str | None = None,
    object_id: int | None = None,
    details: dict[str, Any] | None = None,
    commit: bool = True,
    each_patient: str | None = None,
) -> None:
    """One audit row for what this request shows, like a page view: the patient when it is
    one (else the ids in details), the API client, the query. A search that shows several
    patients also writes `each_patient` once per patient, so a search by MRN and the
    patient's own access page find it: the ids in details had put it in no patient's trail
    (an access audit)."""
    token = g.get("api_token")
    unique = sorted(set(patient_ids))
    info: dict[str, Any] = {
        "client": token.client_name if token is not None else None,
        "token_id": token.id if token is not None else None,
        "query": request.query_string.decode("utf-8", "replace")[:300],
    }
    if len(unique) > 1:
        info["patient_ids"] = unique[:200]
    audit.record(
        db_session(), action, actor=actor(), patient_id=unique[0] if len(unique) == 1 else None,
        object_type=object_type, object_id=object_id, details=info | (details or {}),
    )  # fmt: skip
    if each_patient is not None and len(unique) > 1:
        for patient_id in unique:
            audit.record(
                db_session(), each_patient, actor=actor(), patient_id=patient_id,
                object_type=object_type, object_id=object_id,
                details={k: v for k, v in info.items() if k != "patient_ids"},
            )  # fmt: skip
    if commit:
        db_session().commit()


def search_args(allowed: set[str]) -> dict[str, list[str]]:
    """The search parameters (repeatable), refusing any this server does not apply: an EHR
    that believes a filter was applied when it was not could file the wrong patient's data."""
    general = {"_count", "_offset", "_format", "_pretty"}
    args: dict[str, list[str]] = {}
    for name, value in request.args.items(multi=True):
        if name in general:
            continue
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            raise FhirError(400, f"Unknown search parameter “{name[:40]}” (known: {known}).",
                            "not-supported", name[:40])  # fmt: skip
        args.setdefault(name, []).append(value)
    return args
