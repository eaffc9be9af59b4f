"""A recording uploaded to the wrong patient, moved to the right one with its unsigned read
(`/jobs/<id>/move`, staff). A working-day audit uploaded an excerpt to the wrong patient and
found no way out: no route moved or removed it, it sat on a doctor's worklist as that
patient's AF, and once signed it went to that patient's portal, where the only correction was
an amendment forced to sign a false "Unclassifiable: too noisy". A signed report is the
record of what was issued and does not move."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ml.errors import RecordingError
from ml.recording import Recording
from portal.db import lock_row
from portal.local_time import acquisition_utc, before_birth, hospital_zone, shown
from portal.models import (
    Account,
    AuditEvent,
    EcgRecording,
    EcgReport,
    JobState,
    Patient,
    ReportDocument,
    ReportStatus,
)
from portal.services import audit, patients, recordings, reports, risk_scores
from portal.services.machine_read import machine_asks_for_a_repeat, machine_findings
from portal.services.validation import InvalidInput, text_problem


def move_recording(
    session: Session,
    recording: EcgRecording,
    mrn: str,
    reason: str,
    *,
    actor: Account,
    storage_dir: Path | None = None,
) -> Patient:
    """Move `recording` and its unsigned report to the patient with `mrn`: the report goes to
    that patient's doctor's worklist, its risk scores computed for them; audited on both
    patients' records. An undated recording's files (in `storage_dir`) are read again for
    their own clock, which may fit the new patient. InvalidInput, in words, when it cannot
    move."""
    lock_row(session, "ecg_recording", recording.id, "pacemaker")  # one move at a time
    _not_moved_meanwhile(session, recording, mrn)
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput({"reason": "Say why it moves (e.g. uploaded to the wrong patient)."})
    if problem := text_problem(reason, lines=False):
        raise InvalidInput({"reason": problem})
    target = session.scalar(select(Patient).where(Patient.mrn == mrn.strip().upper()))
    if target is None:
        raise InvalidInput({"mrn": f"No patient has the MRN {mrn.strip()[:20]!r}."})
    source = recording.patient
    if target.id == source.id:
        raise InvalidInput({"mrn": "This recording is this patient's already."})
    patients.require_active(target, "mrn", "a recording")
    if any(job.state in (JobState.QUEUED, JobState.RUNNING) for job in recording.jobs):
        # Its report would be written for the patient the worker read: a move while the
        # analysis ran left the recording with one patient and its report with the other (a
        # review of this action).
        raise InvalidInput(
            {
                "mrn": "The analysis of this recording is still running: move it once it has "
                "finished (this page says when)."
            }  # fmt: skip
        )
    read = reports_of(session, recording)
    if not movable(read):
        raise InvalidInput(
            {
                "mrn": "Its report is signed, and a signed report does not move: the doctor "
                "withdraws it as entered in error (on its review page), and the recording, "
                "uploaded again to the right patient, is read anew."
            }  # fmt: skip
        )
    twin = session.scalar(
        select(EcgRecording.id).where(
            EcgRecording.patient_id == target.id, EcgRecording.sha256 == recording.sha256
        )
    )
    if twin is not None:
        raise InvalidInput({"mrn": f"{target.full_name} has this recording already."})
    recording.patient_id, recording.patient = target.id, target
    dropped = _drop_time_before_birth(recording, target)
    restored = _restore_file_time(recording, target, storage_dir) if dropped is None else None
    for report in read:
        _move_report(session, report, target)
    details = {"recording_id": recording.id, "from_patient_id": source.id,
               "to_patient_id": target.id, "reason": reason,
               "report_ids": [r.id for r in read]}  # fmt: skip
    if dropped is not None:  # kept in the audit: the file's clock, should it matter again
        details["recording_time_dropped"] = dropped.isoformat()
    if restored is not None:
        details["recording_time_restored"] = restored.isoformat()
    for action, patient in (("recording.move_out", source), ("recording.move_in", target)):
        audit.record(
            session, action, actor=actor, patient_id=patient.id,
            object_type="ecg_recording", object_id=recording.id, details=details,
        )  # fmt: skip
    return target


def _not_moved_meanwhile(session: Session, recording: EcgRecording, mrn: str) -> None:
    """The recording read again as committed, once locked (MariaDB: not the request's
    snapshot); InvalidInput naming where and when it was moved, when another request moved it
    since this one loaded it, or to the very patient asked for. A double click on "Move the
    recording" had answered 500 on MariaDB, a StaleDataError on `ecg_report`, and on SQLite
    "Fatima Okafor has this recording already.", as if uploaded to her twice (a write-path
    audit, 2026-12-07)."""
    loaded_for = recording.patient_id
    session.refresh(recording, with_for_update=True)
    now = recording.patient
    if recording.patient_id != loaded_for:
        when = "a moment ago"
    elif now.mrn == mrn.strip().upper() and (moved_at := _moved_in_at(session, recording)):
        when = f"at {shown(moved_at, hospital_zone())}"  # before this request read it
    else:
        return
    raise InvalidInput(
        {"mrn": f"This recording was moved to {now.full_name} (MRN {now.mrn}) {when}; nothing "
         "more was moved. Check its page before moving it again."}
    )  # fmt: skip


def _moved_in_at(session: Session, recording: EcgRecording) -> dt.datetime | None:
    """When the recording was last moved to the patient it is with, or None (uploaded there)."""
    return session.scalar(
        select(AuditEvent.occurred_at)
        .where(
            AuditEvent.action == "recording.move_in",
            AuditEvent.object_type == "ecg_recording",
            AuditEvent.object_id == recording.id,
            AuditEvent.patient_id == recording.patient_id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


def reports_of(session: Session, recording: EcgRecording) -> list[EcgReport]:
    return list(session.scalars(select(EcgReport).where(EcgReport.recording_id == recording.id)))


def movable(read: list[EcgReport]) -> bool:
    """Whether a recording with these reports may move: none of them signed."""
    return all(r.status is ReportStatus.PRELIMINARY for r in read)


def _drop_time_before_birth(recording: EcgRecording, target: Patient) -> dt.datetime | None:
    """The recording time, dropped (and returned) when it is before `target` was born: it is
    no recording time of theirs, as at upload (`local_time.acquisition_utc`). An EDF dated
    1995 moved to a patient born 2001 had kept "Recorded 1995-06-01" on its page, PDF and
    FHIR resource (a review of the move)."""
    dropped = recording.acquired_at
    if not before_birth(dropped, target.date_of_birth, hospital_zone()):
        return None
    recording.acquired_at = None
    return dropped


def _restore_file_time(
    recording: EcgRecording, target: Patient, storage_dir: Path | None
) -> dt.datetime | None:
    """The file's own recording time, set (and returned) when the recording has none and that
    time fits `target` (`local_time.acquisition_utc`, as at upload): a time dropped for a
    younger patient, at upload or by a move, comes back on the move to the right one. An EDF
    dated 1995 uploaded to a patient born 2001, then moved to the one born 1958, had stayed
    "uploaded" (a review of the move). None when nothing changes."""
    if recording.acquired_at is not None or storage_dir is None:
        return None
    try:
        opened = recordings.open_for_analysis(storage_dir, recording)
    except (RecordingError, OSError):  # files missing or unreadable: it stays undated
        return None
    try:
        restored = acquisition_utc(
            opened.start_time, hospital_zone(), recording.created_at, target.date_of_birth
        )
    finally:
        if not isinstance(opened, Recording):
            opened.close()
    recording.acquired_at = restored
    return restored


def _move_report(session: Session, report: EcgReport, target: Patient) -> None:
    """The unsigned report as if it had been read for `target`: their doctor, their scores,
    the urgency those give, its date from the recording's time as kept for them."""
    report.patient_id = target.id
    report.patient = target
    report.report_date = report.recording.acquired_at or report.recording.created_at
    # Its PDFs were rendered with the first patient's name, MRN and date of birth: they are
    # rendered again when next asked for (a stored one had been served after the move).
    version_ids = [v.id for v in report.versions]
    session.execute(delete(ReportDocument).where(ReportDocument.report_version_id.in_(version_ids)))
    report.assigned_doctor_id = target.assigned_doctor_id
    machine = report.versions[0]
    rate_bpm = risk_scores.report_heart_rate_bpm(report, machine.heart_rate_bpm)
    outcomes = risk_scores.report_outcomes(session, report, ecg_heart_rate_bpm=rate_bpm)
    scores = risk_scores.store_report_scores(report, outcomes)
    session.add_all(scores)
    found = [(f["code"], f["risk"]) for f in machine_findings(report)]
    report.urgency = reports.urgency_of(
        found, reports.worklist_scores(report, scores), repeat_ecg=machine_asks_for_a_repeat(report)
    )
