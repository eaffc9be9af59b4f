"""FHIR Bulk Data export (the Bulk Data Access IG's asynchronous pattern) for research sites:

    GET    /fhir/r4/$export, /fhir/r4/Patient/$export   (Prefer: respond-async)
                                           202 + Content-Location: the status URL
    GET    /fhir/r4/$export-status/<id>    202 + X-Progress while running; 200 + the manifest
    DELETE /fhir/r4/$export-status/<id>    cancel, or delete the files early
    GET    /fhir/r4/$export-file/<id>/<type>.ndjson   one NDJSON file (the same bearer token)

The job worker writes the files (portal/services/bulk_export.py). Only the account that asked
sees the status and the files; they hold what that account may read through the FHIR API, and
are refused (410) once that has changed for a patient in them (`bulk_export.out_of_date`)."""

from __future__ import annotations

import datetime as dt
import json
from email.utils import format_datetime

from flask import current_app, g, request, send_file
from werkzeug.wrappers import Response

from portal import tasks
from portal.access import roles, scopes
from portal.db import db_session
from portal.fhir.bundle import date_range
from portal.fhir.http import FhirError, actor, audit_read, base_url, bp, outcome, resource_response
from portal.models import BulkExportJob, JobState, Role, utcnow
from portal.services import audit, bulk_export

EXPORTERS = (Role.STAFF, Role.DOCTOR)  # a patient reads their own record with $everything
NDJSON_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
KICK_OFF_PARAMETERS = {"_outputFormat", "_type", "_since", "_format", "_pretty"}
RETRY_AFTER_S = 5


@bp.route("/$export", methods=["GET"])
@roles(*EXPORTERS)
@scopes("fhir:export")
def export_system() -> Response:
    return _kick_off()


@bp.route("/Patient/$export", methods=["GET"])
@roles(*EXPORTERS)
@scopes("fhir:export")
def export_patients() -> Response:
    return _kick_off()


def _kick_off() -> Response:
    if "respond-async" not in request.headers.get("Prefer", "").lower():
        raise FhirError(400, "A bulk export runs in the background: send the header "
                        "“Prefer: respond-async”.", "required", "Prefer")  # fmt: skip
    unknown = sorted(set(request.args) - KICK_OFF_PARAMETERS)
    if unknown:
        name = unknown[0][:40]
        raise FhirError(400, f"$export does not support “{name}” (supported: _outputFormat, "
                        "_type, _since).", "not-supported", name)  # fmt: skip
    wanted = request.args.get("_outputFormat", "application/fhir+ndjson").strip().lower()
    if wanted not in NDJSON_FORMATS:
        raise FhirError(400, f"_outputFormat “{wanted[:40]}” is not served: use "
                        "application/fhir+ndjson.", "not-supported", "_outputFormat")  # fmt: skip
    types = _types(request.args.get("_type"))
    since = _since(request.args.get("_since"))
    sql = db_session()
    token = g.get("api_token")
    job = bulk_export.start(
        sql, actor(), client_name=token.client_name if token is not None else None,
        request_url=request.url, base_url=request.url_root, resource_types=types, since=since,
    )  # fmt: skip
    tasks.enqueue_after_commit(sql, "export", job.id)  # the worker starts once it is committed
    audit_read("fhir.export.start", patient_ids=[], object_type="bulk_export", object_id=job.id,
               details={"types": types}, commit=True)  # fmt: skip
    status_url = f"{base_url()}/$export-status/{job.id}"
    return outcome_accepted(status_url)


def outcome_accepted(status_url: str) -> Response:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational",
                   "diagnostics": f"Export started; follow {status_url}"}],
    }  # fmt: skip
    return resource_response(body, 202, {"Content-Location": status_url})


def _types(text: str | None) -> list[str]:
    if text is None or not text.strip():
        return list(bulk_export.RESOURCE_TYPES)
    asked = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in asked if t not in bulk_export.RESOURCE_TYPES]
    if unknown:
        known = ", ".join(bulk_export.RESOURCE_TYPES)
        raise FhirError(400, f"_type: “{unknown[0][:40]}” is not exported here (exported: "
                        f"{known}).", "not-supported", "_type")  # fmt: skip
    return [t for t in bulk_export.RESOURCE_TYPES if t in asked]


def _since(text: str | None) -> dt.datetime | None:
    """`_since`: an instant (e.g. 2026-11-30T08:00:00Z); a date means its first moment in
    the hospital's time zone."""
    if text is None or not text.strip():
        return None
    if text.strip()[:2].isalpha():
        raise FhirError(400, "_since is an instant such as 2026-11-30T08:00:00Z (no prefix).",
                        "invalid", "_since")  # fmt: skip
    return date_range("_since", text, current_app.config["SETTINGS"].zone).start


# --------------------------------------------------------------------------- status, files


def _refused(message: str) -> FhirError:
    """404, audited as a refused access (`access.refused`, the export's id) like the FHIR
    API's other 404s: another account's tries at an export had left no row (an access
    audit)."""
    audit.refused_access(db_session(), actor(), 404)
    return FhirError(404, message, "not-found")


def _own_or_404(export_id: int) -> BulkExportJob:
    job = bulk_export.owned(db_session(), actor(), export_id)
    if job is None:
        raise _refused(f"Export {export_id} does not exist, has expired, or was asked for by "
                       "another account.")  # fmt: skip
    return job


def _expired(job: BulkExportJob) -> bool:
    """Past `expires_at`: its files are no longer served, whether or not the worker's sweep
    has deleted them yet."""
    return job.expires_at is not None and job.expires_at < utcnow()


@bp.route("/$export-status/<id:export_id>", methods=["GET"])
@roles(*EXPORTERS)
@scopes("fhir:export")
def export_status(export_id: int) -> Response:
    job = _own_or_404(export_id)
    if job.state in (JobState.QUEUED, JobState.RUNNING):
        progress = f"{job.progress_pct:.0f}% ({job.progress_message or 'waiting'})"
        return resource_response(
            {"resourceType": "OperationOutcome", "issue": [
                {"severity": "information", "code": "informational", "diagnostics": progress}
            ]},
            202,
            {"X-Progress": progress[:100], "Retry-After": str(RETRY_AFTER_S)},
        )  # fmt: skip
    expires = _http_date(job.expires_at)
    if job.state is JobState.FAILED:
        # The Bulk Data IG: a failed export answers 5XX with an OperationOutcome.
        response = outcome(500, [(job.error_message or bulk_export.FAILED_MESSAGE, None)],
                           "exception")  # fmt: skip
        response.headers["Expires"] = expires
        return response
    assert job.transaction_time is not None
    manifest = {
        "transactionTime": job.transaction_time.replace(tzinfo=dt.UTC).isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": item["type"],
                "url": f"{base_url()}/$export-file/{job.id}/{item['type']}.ndjson",
                "count": item["count"],
            }
            for item in job.output or []
        ],  # fmt: skip
        "error": [],
    }
    response = current_app.response_class(
        _json(manifest), status=200, content_type="application/json; charset=utf-8"
    )
    response.headers["Expires"] = expires
    return response


@bp.route("/$export-status/<id:export_id>", methods=["DELETE"])
@roles(*EXPORTERS)
@scopes("fhir:export")
def export_cancel(export_id: int) -> Response:
    job = _own_or_404(export_id)
    sql = db_session()
    bulk_export.cancel(sql, current_app.config["SETTINGS"].storage_dir, job)
    audit_read("fhir.export.cancel", patient_ids=[], object_type="bulk_export",
               object_id=export_id)  # fmt: skip
    return resource_response(
        {"resourceType": "OperationOutcome", "issue": [{"severity": "information",
         "code": "informational", "diagnostics": f"Export {export_id} deleted."}]}, 202,
    )  # fmt: skip


@bp.route("/$export-file/<id:export_id>/<resource_type>.ndjson", methods=["GET"])
@roles(*EXPORTERS)
@scopes("fhir:export")
def export_file(export_id: int, resource_type: str) -> Response:
    job = _own_or_404(export_id)
    listed = {item["type"]: item["count"] for item in job.output or []}
    if job.state is not JobState.SUCCEEDED or resource_type not in listed:
        raise _refused(f"Export {export_id} has no {resource_type[:40]} file.")
    path = bulk_export.file_path(current_app.config["SETTINGS"].storage_dir, job.id, resource_type)
    if _expired(job) or not path.is_file():
        raise _refused(f"The {resource_type} file of export {export_id} is gone (expired or "
                       "deleted).")  # fmt: skip
    sql = db_session()
    if bulk_export.out_of_date(sql, actor(), job):
        raise FhirError(410, f"Export {export_id} is out of date: a patient in it is no longer "
                        "yours to read, or a recording in it has been moved to another "
                        "patient or a report in it withdrawn as entered in error since it "
                        "was made. Run the export again.",
                        "business-rule")  # fmt: skip
    # One row per patient in the files, so their access page and a search by MRN find it.
    audit_read("fhir.export.download", patient_ids=bulk_export.exported_patients(sql, job),
               object_type="bulk_export", object_id=export_id,
               details={"type": resource_type, "count": listed[resource_type]},
               each_patient="fhir.export.download.patient")  # fmt: skip
    return send_file(path, mimetype="application/fhir+ndjson", as_attachment=False,
                     download_name=f"export-{export_id}-{resource_type}.ndjson")  # fmt: skip


def _http_date(when: dt.datetime | None) -> str:
    moment = (when or dt.datetime.now(dt.UTC).replace(tzinfo=None)).replace(tzinfo=dt.UTC)
    return format_datetime(moment, usegmt=True)


def _json(body: object) -> str:
    return json.dumps(body, ensure_ascii=False)
