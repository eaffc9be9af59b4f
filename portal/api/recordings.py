"""/api/v1/patients/<id>/recordings: upload an ECG (multipart), exactly as the web's upload
form does (`services.recordings.upload_recording`: the same size limit, readers and checks,
the same storage under the file's SHA-256, the recording and its analysis job in one
transaction). The same file again for the same patient answers 200 with the recording and
job it already made (idempotent: a client may safely retry); a CSV given again at another
`fs_hz` or `units` is read again at those while no read of it is signed (`read_again` says
so), else a 422 saying what to do (`services.recordings._read_again`). A file the portal
cannot use is a 422 with the sentence the web form shows beside its field (`field`:
"files"). `pacemaker` (true or false, as the form's checkbox) makes the analysis a paced read
(`ml.paced`); anything else is a 422 naming the field, and nothing is stored."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, request
from flask_smorest.fields import Upload

from portal import storage
from portal.access import roles, scopes
from portal.api.core import (
    PREFIX,
    REFERENCE_RECORD_NAME,
    Blueprint,
    UtcDateTime,
    actor,
    location_header,
    one_of,
    reference_record_flag,
    save_token_use,
)
from portal.api.jobs import JobSchema, job_json
from portal.db import db_session
from portal.errors import error_response
from portal.models import RecordingFormat, Role
from portal.services import patients, recordings
from portal.services.recordings import (
    MAX_FS_HZ,
    MIN_FS_HZ,
    PACEMAKER_LABEL,
    PACEMAKER_MESSAGE,
    UNITS,
    UploadOptions,
)
from portal.services.reference import reference_name
from portal.services.validation import InvalidInput
from portal.uploads import accepts_upload

bp = Blueprint(
    "recordings", __name__, tag="Recordings",
    description="ECG uploads; each starts an analysis job.",
)  # fmt: skip


class UploadSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # a multipart form may carry more parts (a browser's submit)

    # Required, as the view refuses an upload without one (the document had said optional,
    # and a schema-valid request was refused; an integration audit).
    files = ma.fields.List(
        Upload(),
        required=True,
        validate=ma.validate.Length(min=1, error=storage.NO_FILE_MESSAGE),
        error_messages={"required": storage.NO_FILE_MESSAGE},
        metadata={
            "description": "the recording: a CSV, an EDF, a WFDB .hea with its data file(s), "
            "or one .zip (send each file as a `files` part)"
        },
    )
    # The range the upload refuses outside of, in the document; and not nullable: a form's
    # field is text, which has no null ("null" is refused). An interoperability audit's
    # schemathesis run: fs_hz=0 and fs_hz=null were valid by the document and refused.
    fs_hz = ma.fields.Float(
        metadata={
            "description": "sampling rate in Hz, only for a CSV without a time column",
            "minimum": MIN_FS_HZ,
            "maximum": MAX_FS_HZ,
        },
    )
    units = ma.fields.String(
        validate=ma.validate.OneOf(["", *UNITS]),
        metadata={"description": "signal units, only for a CSV whose header does not say"},
    )
    pacemaker = ma.fields.Boolean(
        load_default=False,
        truthy={"true", "True", "TRUE", "1"},
        falsy={"false", "False", "FALSE", "0"},
        error_messages={"invalid": PACEMAKER_MESSAGE, "null": PACEMAKER_MESSAGE},
        metadata={
            "description": f"{PACEMAKER_LABEL}: true or false (default false). With true the "
            "analysis asserts no rhythm, beat types or intervals (a paced read); it keeps the "
            "heart rate, pauses and ventricular fibrillation"
        },
    )


class RecordingSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    patient_id = ma.fields.Integer(required=True)
    sha256 = ma.fields.String(required=True)
    original_filename = ma.fields.String(required=True)
    file_format = one_of(RecordingFormat, required=True)
    size_bytes = ma.fields.Integer(required=True)
    sampling_rate_hz = ma.fields.Float(required=True)
    lead_names = ma.fields.List(ma.fields.String(), required=True)
    n_samples = ma.fields.Integer(required=True)
    duration_s = ma.fields.Float(required=True)
    acquired_at = UtcDateTime(
        required=True, allow_none=True, metadata={"description": "the recorder's clock, if any"}
    )
    created_at = UtcDateTime(required=True)
    pacemaker = ma.fields.Boolean(
        required=True, metadata={"description": f"{PACEMAKER_LABEL}, as noted at upload"}
    )
    reference_record = reference_record_flag(attribute="is_reference")
    reference_record_name = ma.fields.Function(
        reference_name, required=True, allow_none=True,
        metadata={"type": "string", "description": REFERENCE_RECORD_NAME},
    )  # fmt: skip


class UploadResultSchema(ma.Schema):
    recording = ma.fields.Nested(RecordingSchema, required=True)
    job = ma.fields.Nested(JobSchema, required=True)
    duplicate = ma.fields.Boolean(
        required=True, metadata={"description": "true: this file was uploaded before (200)"}
    )
    read_again = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "the same file given again at another fs_hz or units: it is read "
            "again at those, its unsigned read removed, and `job` is the new analysis; this "
            "says so, naming both (null otherwise). A signed read is not replaced: 422"
        },
    )


@bp.route("/patients/<id:patient_id>/recordings", methods=["POST"])
@roles(Role.STAFF)
@scopes("recordings:write")
@accepts_upload
@bp.arguments(UploadSchema, location="form_and_files")
@bp.response(
    201, UploadResultSchema, description="Stored; its analysis job is queued",
    headers=location_header("the analysis job to poll (`GET /jobs/<id>`)"),
)  # fmt: skip
@bp.alt_response(200, schema=UploadResultSchema, description="The same file was uploaded before")
def upload(form: dict[str, Any], patient_id: int) -> Any:
    """Upload an ECG recording.

    The same checks, storage and analysis job as the web's upload form; poll the job it
    returns (a 201's `Location`). The same file again answers 200 with the recording and job
    it made the first time; sent twice at the same moment, the request that loses the race is
    a 409. A file the portal cannot use is a 422 with the web form's sentence (field "files").
    `pacemaker=true` notes that the patient has a pacemaker: the analysis then reads no
    rhythm, beat types or intervals (true or false only; anything else is a 422).
    """
    settings = current_app.config["SETTINGS"]
    sql = db_session()
    patient = patients.get_visible_patient(sql, actor(), patient_id)
    save_token_use()
    files = [(f.filename or "", f.stream) for f in request.files.getlist("files") if f]
    options = UploadOptions(
        fs_hz=form.get("fs_hz"), units=form.get("units") or None, pacemaker=form["pacemaker"]
    )
    try:
        outcome = recordings.upload_recording(
            sql, patient, files, actor=actor(), storage_dir=settings.storage_dir,
            options=options, time_zone=settings.zone,
        )  # fmt: skip
    except InvalidInput as problem:
        sql.rollback()
        field, message = next(iter(problem.errors.items()))
        # Storage full or not writable is the server's fault, not the file's (as on the web).
        return error_response(storage.status_of_refusal([message]), message, field)
    sql.commit()
    body = {"recording": outcome.recording, "job": job_json(outcome.job),
            "duplicate": outcome.duplicate, "read_again": outcome.read_again}  # fmt: skip
    if outcome.duplicate:
        return body, 200
    return body, 201, {"Location": f"{PREFIX}/jobs/{outcome.job.id}"}  # what the client polls
