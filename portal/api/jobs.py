"""/api/v1/jobs/<id>: an analysis job's state and progress (`services.jobs.status_of`, what
the web's job page polls), and its report once it succeeded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma

from portal.access import roles, scopes
from portal.api.core import Blueprint, UtcDateTime, actor, one_of, token
from portal.db import db_session
from portal.models import AnalysisJob, JobState, Role
from portal.services import audit, jobs, patients
from portal.services.errors import NotAllowed

bp = Blueprint(
    "jobs", __name__, tag="Jobs",
    description="Analysis jobs: queued, running (with progress), succeeded or failed.",
)  # fmt: skip
CLINICAL = (Role.STAFF, Role.DOCTOR)
# A client polls every second or so: one audit row per token, job and minute records the
# reading (the web audits its job page, not the status it polls).
POLL_AUDIT_WINDOW = dt.timedelta(minutes=1)


class JobSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    state = one_of(JobState, required=True)
    progress_pct = ma.fields.Float(required=True, metadata={"description": "0-100"})
    message = ma.fields.String(required=True, allow_none=True)
    error = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "why it failed, in words"}
    )
    attempts = ma.fields.Integer(required=True)
    report_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "set once it succeeded"}
    )
    worker_dead = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "running, but the process running it stopped answering: a live "
            "worker queues it again by itself (or retry it)"
        },
    )
    recording_id = ma.fields.Integer(required=True)
    patient_id = ma.fields.Integer(required=True)
    created_at = UtcDateTime(required=True)
    started_at = UtcDateTime(required=True, allow_none=True)
    finished_at = UtcDateTime(required=True, allow_none=True)


def job_json(job: AnalysisJob) -> dict[str, Any]:
    """The job as the web's status poll says it, with where it belongs."""
    return jobs.status_of(db_session(), job) | {
        "state": job.state,
        "recording_id": job.recording_id,
        "patient_id": job.recording.patient_id,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


@bp.route("/jobs/<id:job_id>", methods=["GET"])
@roles(*CLINICAL)
@scopes("recordings:write")
@bp.response(200, JobSchema)
def read(job_id: int) -> dict[str, Any]:
    """Read an analysis job.

    Its state and progress; `report_id` once it succeeded."""
    sql = db_session()
    job = sql.get(AnalysisJob, job_id)
    if job is None:
        raise NotAllowed()  # the same 404 as "not yours", audited like it
    patients.get_visible_patient(sql, actor(), job.recording.patient_id)
    audit.record_at_most_every(
        sql, POLL_AUDIT_WINDOW, "job.view", actor=actor(),
        patient_id=job.recording.patient_id, object_type="analysis_job", object_id=job.id,
        details={"api_token_id": token().id, "client": token().client_name},
    )  # fmt: skip
    sql.commit()
    return job_json(job)
