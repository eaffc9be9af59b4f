"""ECG upload, the reference library, and analysis job status / retry.

/patients/<id>/recordings/new   upload (staff)           -> services/recordings.py
/patients/<id>/recordings/library  pick an MIT-BIH record -> services/recordings.py
/jobs/<id>                      progress page (polls /jobs/<id>/status.json)
/jobs/<id>/retry                queue a failed job again  -> services/jobs.py
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import storage, tasks
from portal.access import roles
from portal.db import db_session
from portal.forms import options, save
from portal.models import Account, AnalysisJob, Patient, Role
from portal.patients.forms import ConfirmForm
from portal.recordings.forms import LibraryForm, MoveForm, UploadForm
from portal.services import audit, entered_in_error, jobs, patients, recording_move, recordings
from portal.services.errors import NotAllowed
from portal.services.recordings import UploadOptions
from portal.session_cookie import background_poll
from portal.uploads import accepts_upload

bp = Blueprint("recordings", __name__)
CLINICAL = (Role.STAFF, Role.DOCTOR)


def _actor() -> Account:
    return current_user._get_current_object()


def _settings():  # type: ignore[no-untyped-def]
    from flask import current_app

    return current_app.config["SETTINGS"]


def _patient_or_404(patient_id: int) -> Patient:
    return patients.get_visible_patient(db_session(), _actor(), patient_id)


def _job_or_404(job_id: int) -> AnalysisJob:
    job = db_session().get(AnalysisJob, job_id)
    if job is None:
        raise NotAllowed()  # the same 404 as "not yours", and audited like it
    _patient_or_404(job.recording.patient_id)
    return job


def library_records() -> list[str]:
    folder: Path | None = _settings().mitdb_dir
    if folder is None:
        return []
    return sorted(p.stem for p in folder.glob("*.hea"))


@bp.route("/patients/<id:patient_id>/recordings/new", methods=["GET", "POST"])
@roles(Role.STAFF)
@accepts_upload
def upload(patient_id: int) -> str | Response | tuple[str, int]:
    patient = _patient_or_404(patient_id)
    if request.method != "POST" and not patient.is_active:
        flash(patients.deactivated_message(patient, "an ECG"), "error")
        return redirect(url_for("patients.view", patient_id=patient.id))
    form = UploadForm()
    library = LibraryForm(prefix="library")
    library.record.choices = options(*((r, r) for r in library_records()))
    noted_before = recordings.pacemaker_noted_before(db_session(), patient.id)
    if request.method != "POST":  # ticked when the patient's last recording had it
        form.pacemaker.data = library.pacemaker.data = noted_before
    if form.validate_on_submit():
        files = [(f.filename or "", f.stream) for f in request.files.getlist(form.files.name) if f]
        upload_options = UploadOptions(
            fs_hz=form.fs_hz.data, units=form.units.data or None, pacemaker=form.pacemaker.data
        )
        saved, outcome = save(
            form,
            lambda: recordings.upload_recording(
                db_session(), patient, files, actor=_actor(),
                storage_dir=_settings().storage_dir, options=upload_options,
                time_zone=_settings().zone,
            ),
        )  # fmt: skip
        if saved and outcome is not None:
            if outcome.duplicate:
                flash(_duplicate_message(outcome, form.pacemaker.data), "info")
            if tasks.queue_unreachable():
                flash(tasks.QUEUE_DOWN_MESSAGE, "error")
            return redirect(url_for("recordings.job", job_id=outcome.job.id))
    page = render_template(
        "recordings/upload.html",
        patient=patient,
        form=form,
        library=library,
        max_upload_mb=_settings().max_upload_mb,
        pacemaker_before=noted_before,
    )
    # A refused upload answers 422 with the form and its message: clients and tests can tell.
    # A full storage disk is the server's fault, not the file's: 507 (Insufficient Storage);
    # storage that cannot be written, 503 (an operations audit: it had been a bare 500).
    if request.method != "POST":
        return page
    return page, storage.status_of_refusal(form.files.errors)


@bp.route("/patients/<id:patient_id>/recordings/library", methods=["POST"])
@roles(Role.STAFF)
def from_library(patient_id: int) -> str | Response:
    patient = _patient_or_404(patient_id)
    if not patient.is_active:
        flash(patients.deactivated_message(patient, "an ECG") + " Nothing was saved.", "error")
        return redirect(url_for("patients.view", patient_id=patient.id))
    library = LibraryForm(prefix="library")
    names = library_records()
    library.record.choices = options(*((r, r) for r in names))
    if not library.validate_on_submit() or library.record.data not in names:
        flash("Choose a record from the reference library.", "error")
        return redirect(url_for("recordings.upload", patient_id=patient.id))
    name = library.record.data
    folder: Path = _settings().mitdb_dir
    paths = [folder / f"{name}.hea", folder / f"{name}.dat"]
    with ExitStack() as stack:
        files = [(p.name, stack.enter_context(open(p, "rb"))) for p in paths]
        saved, outcome = save(
            library,
            lambda: recordings.upload_recording(
                db_session(), patient, files, actor=_actor(),
                storage_dir=_settings().storage_dir, reference_record=name,
                options=UploadOptions(pacemaker=library.pacemaker.data),
                time_zone=_settings().zone,
            ),
        )  # fmt: skip
    if not saved or outcome is None:
        flash(" ".join(e for errors in library.errors.values() for e in errors), "error")
        return redirect(url_for("recordings.upload", patient_id=patient.id))
    if outcome.duplicate:
        flash(_duplicate_message(outcome, library.pacemaker.data), "info")
    if tasks.queue_unreachable():
        flash(tasks.QUEUE_DOWN_MESSAGE, "error")
    return redirect(url_for("recordings.job", job_id=outcome.job.id))


def _duplicate_message(outcome: recordings.UploadOutcome, pacemaker: bool) -> str:
    """The same file again opens the first upload, whose analysis stands as it was made, or,
    given at another sampling rate or in other units, is read again at those
    (`recordings._read_again`), which the page says naming both (an input audit)."""
    recording = outcome.recording
    message = (
        outcome.read_again or "This recording was already uploaded for this patient; showing it."
    )
    if recording.pacemaker != pacemaker:
        noted = "with" if recording.pacemaker else "without"
        message += (
            f" It was analysed {noted} the pacemaker noted, as it was uploaded then; the"
            " box you changed does not change that analysis."
        )
    return message


@bp.route("/jobs/<id:job_id>")
@roles(*CLINICAL)
def job(job_id: int) -> str:
    found = _job_or_404(job_id)
    # The page is audited; status.json, which it polls every second, is not (it holds the
    # job's state and progress, nothing that identifies the patient).
    audit.record(
        db_session(), "job.view", actor=_actor(), patient_id=found.recording.patient_id,
        object_type="analysis_job", object_id=found.id,
    )  # fmt: skip
    db_session().commit()
    return render_template(
        "recordings/job.html", job=found, status=jobs.status_of(db_session(), found),
        confirm=ConfirmForm(), move_form=MoveForm(formdata=None), movable=_movable(found),
        withdrawn=entered_in_error.on_the_job_page(db_session(), found.report),
    )  # fmt: skip


def _movable(found: AnalysisJob) -> bool:
    """Staff may move a recording none of whose reports is signed (`recording_move`)."""
    read = recording_move.reports_of(db_session(), found.recording)
    return current_user.role is Role.STAFF and recording_move.movable(read)


@bp.route("/jobs/<id:job_id>/move", methods=["POST"])
@roles(Role.STAFF)
def move(job_id: int) -> Response | tuple[str, int]:
    """The recording of this analysis, and its unsigned report, to another patient."""
    found = _job_or_404(job_id)
    form = MoveForm()
    if form.validate_on_submit():
        saved, target = save(
            form,
            lambda: recording_move.move_recording(
                db_session(), found.recording, form.mrn.data or "", form.reason.data or "",
                actor=_actor(), storage_dir=_settings().storage_dir,
            ),
        )  # fmt: skip
        if saved and target is not None:
            flash(
                f"Moved to {target.full_name} ({target.mrn}), with its unsigned report; "
                "the move is in both patients' records.",
                "success",
            )
            return redirect(url_for("recordings.job", job_id=found.id))
    page = render_template(
        "recordings/job.html", job=found, status=jobs.status_of(db_session(), found),
        confirm=ConfirmForm(), move_form=form, movable=_movable(found),
    )  # fmt: skip
    return page, 400


@bp.route("/jobs/<id:job_id>/status.json")
@background_poll
@roles(*CLINICAL)
def job_status(job_id: int) -> Response:
    return jsonify(jobs.status_of(db_session(), _job_or_404(job_id)))


@bp.route("/jobs/<id:job_id>/retry", methods=["POST"])
@roles(*CLINICAL)
def retry(job_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    found = _job_or_404(job_id)
    jobs.retry(db_session(), found, actor=_actor())  # JobNotRetryable: the 409 error page
    db_session().commit()
    flash("The analysis was queued again.", "success")
    return redirect(url_for("recordings.job", job_id=found.id))
