"""FHIR Bulk Data exports: the `bulk_export_job` table is their source of truth, like analysis
jobs (portal/services/jobs.py), and any job worker runs them.

A client asks `/fhir/r4/$export` (portal/fhir/bulk.py), which queues a row. A worker claims it
with a compare-and-set UPDATE, writes one NDJSON file per resource type under
`STORAGE_DIR/exports/<id>/` (temporary names, renamed when all are complete), and marks it
succeeded with the counts. The files hold what the requesting account may see, as the FHIR
read endpoints would answer it at `transaction_time`. Files and row are deleted `KEEP` after
the export finished (or when the client cancels it); a worker that dies mid-export has its
export requeued by the same heartbeat rule as analysis jobs.
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import json
import logging
import shutil
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from flask import Flask
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from portal.models import (
    Account,
    AuditEvent,
    BulkExportJob,
    ClinicalInput,
    EcgReport,
    JobState,
    Patient,
    utcnow,
)
from portal.services import audit, work_queue
from portal.services.jobs import live_workers
from portal.storage import open_private, private_dir

log = logging.getLogger(__name__)
RESOURCE_TYPES = ("Patient", "DiagnosticReport", "Observation")
KEEP = dt.timedelta(hours=24)  # files are kept this long after the export finished
EXPORTED_IDS_AUDITED = (
    10_000  # patient ids named in the "done" audit row (a larger export: the count)
)
MAX_ATTEMPTS = 3
SILENT_FOR = dt.timedelta(minutes=15)  # no progress this long: the export is hung
FAILED_MESSAGE = "The export failed because of an internal error (it has been logged)."
STORAGE_FULL = "The server's storage is full, so the export could not be written."


class Cancelled(Exception):
    """The export's row was deleted (the client cancelled it) while it was being written."""


def folder(storage_dir: Path, export_id: int) -> Path:
    return storage_dir / "exports" / str(export_id)


def file_path(storage_dir: Path, export_id: int, resource_type: str) -> Path:
    return folder(storage_dir, export_id) / f"{resource_type}.ndjson"


def start(
    session: Session,
    actor: Account,
    *,
    client_name: str | None,
    request_url: str,
    base_url: str,
    resource_types: list[str],
    since: dt.datetime | None,
) -> BulkExportJob:
    """Queue an export for `actor` (no commit: the caller audits and commits)."""
    job = BulkExportJob(
        requested_by_id=actor.id, client_name=client_name, request_url=request_url[:2000],
        base_url=base_url[:255], resource_types=resource_types, since=since,
        state=JobState.QUEUED, attempts=0, progress_pct=0.0, progress_message="Waiting",
    )  # fmt: skip
    session.add(job)
    session.flush()
    return job


def owned(session: Session, actor: Account, export_id: int) -> BulkExportJob | None:
    """The export if `actor` asked for it (anyone else's looks like none)."""
    job = session.get(BulkExportJob, export_id)
    return job if job is not None and job.requested_by_id == actor.id else None


def exported_patients(session: Session, job: BulkExportJob) -> list[int]:
    """The patients whose data the export's files hold, as its `fhir.export.patient` rows
    name them (`_record_disclosures`), in id order."""
    return list(session.scalars(_exported(job).order_by(AuditEvent.patient_id)))


def out_of_date(session: Session, account: Account, job: BulkExportJob) -> bool:
    """Whether the files no longer hold what `account` may read: a patient of theirs is no
    longer visible to it, or a recording of one was moved to another patient, or a report of
    one withdrawn as entered in error, since the export was asked for (its lines still name
    the old patient, or say final). They had been served for 24 hours
    after either (an access audit, 2026-12-07)."""
    from portal.fhir.patient import visible

    readable = visible(account).with_only_columns(Patient.id)
    gone = _exported(job).where(AuditEvent.patient_id.not_in(readable))
    # A signed report's recording cannot be moved: withdrawing it as entered in error is how
    # another person's ECG leaves a record, and the export had kept it "final" under the
    # wrong patient (a review, 2026-12-07).
    moved = select(AuditEvent.id).where(
        AuditEvent.action.in_(("recording.move_out", "report.entered_in_error")),
        AuditEvent.patient_id.in_(_exported(job)),
        AuditEvent.occurred_at >= job.created_at,
    )
    return session.scalar(select(gone.exists())) or session.scalar(select(moved.exists())) or False


def _exported(job: BulkExportJob) -> Any:
    return select(AuditEvent.patient_id).where(
        AuditEvent.action == "fhir.export.patient",
        AuditEvent.object_type == "bulk_export",
        AuditEvent.object_id == job.id,
    )


def cancel(session: Session, storage_dir: Path, job: BulkExportJob) -> None:
    """Forget the export and delete its files (a worker writing it stops at its next step)."""
    session.delete(job)
    session.flush()
    shutil.rmtree(folder(storage_dir, job.id), ignore_errors=True)


# --------------------------------------------------------------------------- the worker side


def claim_next(session: Session, worker_id: str, now: dt.datetime) -> BulkExportJob | None:
    """Take the oldest queued export for this worker, or None. Safe with concurrent workers."""
    return work_queue.claim_oldest(session, BulkExportJob, worker_id, now)


def requeue_stuck(session: Session, now: dt.datetime) -> int:
    """Running exports whose worker is dead or that made no progress for SILENT_FOR: queued
    again, or failed after MAX_ATTEMPTS (compare-and-set, like analysis jobs). Commits."""
    live = live_workers(session, now)
    running = session.execute(
        select(
            BulkExportJob.id, BulkExportJob.worker_id, BulkExportJob.attempts,
            BulkExportJob.heartbeat_at,
        ).where(BulkExportJob.state == JobState.RUNNING)
    ).all()  # fmt: skip
    touched = 0
    for row in running:
        dead = row.worker_id is not None and row.worker_id not in live
        silent = row.heartbeat_at is not None and row.heartbeat_at < now - SILENT_FOR
        if not (dead or silent):
            continue
        values: dict[str, Any] = (
            {"state": JobState.FAILED, "finished_at": now, "expires_at": now + KEEP,
             "error_message": f"The export stopped responding {row.attempts} times; start a "
             "new one, or contact support if it keeps happening."}
            if row.attempts >= MAX_ATTEMPTS
            else {"state": JobState.QUEUED, "progress_message": "Waiting after an interruption"}
        )  # fmt: skip
        changed = session.execute(
            update(BulkExportJob)
            .where(
                BulkExportJob.id == row.id,
                BulkExportJob.state == JobState.RUNNING,
                BulkExportJob.attempts == row.attempts,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        touched += changed.rowcount  # type: ignore[attr-defined]
    session.commit()
    return touched


def remove_expired(session: Session, storage_dir: Path, now: dt.datetime) -> int:
    """Delete the files and rows of exports past `expires_at`. Commits; how many."""
    expired = session.scalars(select(BulkExportJob.id).where(BulkExportJob.expires_at < now)).all()
    for export_id in expired:
        shutil.rmtree(folder(storage_dir, export_id), ignore_errors=True)
    if expired:
        session.execute(delete(BulkExportJob).where(BulkExportJob.id.in_(expired)))
        session.commit()
    return len(expired)


def run_pending(app: Flask, worker_id: str, max_exports: int | None = None) -> int:
    """Housekeeping, then run queued exports until none is left; how many ran."""
    sessions = app.extensions["db_sessionmaker"]
    storage_dir = app.config["SETTINGS"].storage_dir
    with sessions() as session:
        remove_expired(session, storage_dir, utcnow())
        requeue_stuck(session, utcnow())
    done = 0
    while max_exports is None or done < max_exports:
        with sessions() as session:
            job = claim_next(session, worker_id, utcnow())
        if job is None:
            break
        run(app, job.id)
        done += 1
    return done


def run(app: Flask, export_id: int) -> JobState | None:
    """Write one claimed export's files; never raises for a failure (the row says it).
    Returns the final state, or None when the export was cancelled meanwhile."""
    sessions = app.extensions["db_sessionmaker"]
    storage_dir: Path = app.config["SETTINGS"].storage_dir
    with sessions() as session:
        job = session.get(BulkExportJob, export_id)
        if job is None or job.state is not JobState.RUNNING:
            return None  # cancelled (or taken back) before it started
        base_url, account_id = job.base_url, job.requested_by_id
        resource_types, since = list(job.resource_types), job.since
        attempt = job.attempts

    def progress(fraction: float, message: str) -> None:
        with sessions() as session:
            changed = session.execute(
                update(BulkExportJob)
                .where(BulkExportJob.id == export_id, BulkExportJob.attempts == attempt)
                .values(
                    progress_pct=round(100 * min(max(fraction, 0.0), 1.0), 1),
                    progress_message=message[:255],
                    heartbeat_at=utcnow(),
                )  # fmt: skip
                .execution_options(synchronize_session=False)
            )
            session.commit()
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            raise Cancelled()

    target = folder(storage_dir, export_id)
    transaction_time = utcnow()
    exported: set[int] = set()  # none when it fails before writing
    try:
        shutil.rmtree(target, ignore_errors=True)  # a previous, interrupted attempt's parts
        # Private as recordings and PDFs are, whatever the umask: `exports/` had been 0755 and
        # the files 0644 under a umask of 022 (a hardening audit).
        target = private_dir(storage_dir, "exports", str(export_id))
        with app.test_request_context("/", base_url=base_url):
            counts, exported = _write_files(target, account_id, resource_types, since, progress)
        for part in target.glob("*.part"):
            part.rename(part.with_suffix(""))
        final, error = JobState.SUCCEEDED, None
    except Cancelled:
        shutil.rmtree(target, ignore_errors=True)
        return None
    except OSError as problem:
        shutil.rmtree(target, ignore_errors=True)
        full = problem.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        log.error("export %s could not be written: %s", export_id, problem)
        final, error, counts = JobState.FAILED, STORAGE_FULL if full else FAILED_MESSAGE, {}
    except Exception:  # a bug: say so, keep serving
        shutil.rmtree(target, ignore_errors=True)
        log.error("export %s crashed:\n%s", export_id, traceback.format_exc())
        final, error, counts = JobState.FAILED, FAILED_MESSAGE, {}
    return _finish(sessions, export_id, attempt, final, error, counts, transaction_time, exported)


def _finish(
    sessions: Callable[[], Session], export_id: int, attempt: int, final: JobState,
    error: str | None, counts: dict[str, int], transaction_time: dt.datetime,
    exported: set[int] | None = None,
) -> JobState | None:  # fmt: skip
    now = utcnow()
    with sessions() as session:
        changed = session.execute(
            update(BulkExportJob)
            .where(BulkExportJob.id == export_id, BulkExportJob.attempts == attempt)
            .values(
                state=final,
                error_message=error,
                finished_at=now,
                expires_at=now + KEEP,
                progress_pct=100.0 if final is JobState.SUCCEEDED else 0.0,
                progress_message="Done" if final is JobState.SUCCEEDED else "Failed",
                transaction_time=transaction_time,
                output=[{"type": t, "count": n} for t, n in counts.items() if n],
            )  # fmt: skip
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount == 0:  # type: ignore[attr-defined]  # cancelled meanwhile
            session.rollback()
            return None
        job = session.get(BulkExportJob, export_id)
        assert job is not None
        action = "fhir.export.done" if final is JobState.SUCCEEDED else "fhir.export.failed"
        audit.record(
            session, action, actor=session.get(Account, job.requested_by_id),
            object_type="bulk_export", object_id=export_id,
            # Whose data left, for an investigation: the rows had named no patient (a
            # security audit). The first EXPORTED_IDS_AUDITED ids, and how many in all.
            details={"client": job.client_name, "counts": counts, "error": error,
                     "patients": len(exported or ()),
                     "patient_ids": sorted(exported or ())[:EXPORTED_IDS_AUDITED]},
        )  # fmt: skip
        if final is JobState.SUCCEEDED:
            _record_disclosures(session, job, exported or set())
        session.commit()
    return final


def _record_disclosures(session: Session, job: BulkExportJob, exported: set[int]) -> None:
    """One `fhir.export.patient` row per patient whose data the files hold, so a search by
    MRN and the patient's own access page name the export: the "done" row's `patient_ids`
    were in its details only (a data-protection audit found neither did)."""
    actor = session.get(Account, job.requested_by_id)
    for patient_id in sorted(exported):
        audit.record(
            session, "fhir.export.patient", actor=actor, patient_id=patient_id,
            object_type="bulk_export", object_id=job.id,
            details={"export_id": job.id, "client": job.client_name},
        )  # fmt: skip


def _write_files(
    target: Path,
    account_id: int,
    resource_types: list[str],
    since: dt.datetime | None,
    progress: Callable[[float, str], None],
) -> tuple[dict[str, int], set[int]]:
    """The NDJSON files, as `<type>.ndjson.part`, built by the FHIR endpoints' own builders
    (inside a request context, so references and PDF URLs name this server)."""
    from portal.db import db_session
    from portal.fhir.clinical_input import build_input, items_of, visible_inputs
    from portal.fhir.diagnostic_report import report_resource
    from portal.fhir.observation import audience_of, build, items
    from portal.fhir.patient import patient_resource, visible
    from portal.services import reports

    sql = db_session()
    account = sql.get(Account, account_id)
    assert account is not None
    who = audience_of(account)
    patients_query = visible(account)
    reports_query = reports.visible_reports(account).where(
        EcgReport.patient_id.in_(visible(account).with_only_columns(Patient.id))
    )
    # The clinical inputs' Observations, as `Observation?patient=` finds them (a row is never
    # edited: changed since it was entered).
    inputs_query = visible_inputs(account).order_by(None)
    if since is not None:
        patients_query = patients_query.where(Patient.updated_at >= since)
        reports_query = reports_query.where(
            or_(EcgReport.updated_at >= since, EcgReport.patient_id.in_(_inputs_or_details(since)))
        )
        inputs_query = inputs_query.where(ClinicalInput.created_at >= since)
    n_patients = sql.scalar(select(func.count()).select_from(patients_query.subquery())) or 0
    n_reports = sql.scalar(select(func.count()).select_from(reports_query.subquery())) or 0
    n_inputs = 0
    if "Observation" in resource_types:
        n_inputs = sql.scalar(select(func.count()).select_from(inputs_query.subquery())) or 0
    total = max(1, n_patients + n_reports + n_inputs)
    counts = dict.fromkeys(resource_types, 0)
    exported: set[int] = set()
    done = 0
    with _Files(target, resource_types) as files:
        if "Patient" in resource_types:
            for patient in _batches(sql, patients_query, Patient.id):
                counts["Patient"] += files.write("Patient", patient_resource(patient))
                exported.add(patient.id)
                done += 1
                if done % 200 == 0:
                    progress(done / total, f"Writing patients ({done} of {n_patients})")
        done = n_patients
        wanted = {"DiagnosticReport", "Observation"} & set(resource_types)
        if wanted:
            for report in _batches(sql, reports_query, EcgReport.id):
                # A report unchanged since: only what its patient's entries or details made a
                # new version of (a risk score gone stale, `observation.stale_meta`).
                whole = since is None or report.updated_at >= since
                resources = []
                if "DiagnosticReport" in wanted:
                    resources.append(report_resource(report, who))
                if "Observation" in wanted:  # the waveform is read by window, see README
                    resources += [build(item) for item in items(report, who) if item.slug != "ecg"]
                changed = [r for r in resources if whole or _updated_since(r, since)]
                for resource in changed:
                    counts[resource["resourceType"]] += files.write(
                        resource["resourceType"], resource
                    )
                if whole or changed:
                    exported.add(report.patient_id)
                done += 1
                if done % 50 == 0:
                    progress(done / total, f"Writing reports ({done - n_patients} of {n_reports})")
        done = n_patients + n_reports
        rows = _batches(sql, inputs_query, ClinicalInput.id) if n_inputs else iter(())
        for row in rows:
            for entry in items_of(row):
                counts["Observation"] += files.write("Observation", build_input(entry))
                exported.add(row.patient_id)
            done += 1
            if done % 200 == 0:
                written = done - n_patients - n_reports
                progress(done / total, f"Writing clinical inputs ({written} of {n_inputs})")
    return counts, exported


def _inputs_or_details(since: dt.datetime) -> Any:
    """The patients with a clinical input entered, or details edited, since `since`: their
    reports' risk scores may have gone stale since, a version of their own updated then
    (`observation.stale_meta`). Reports were chosen by their own `updated_at` alone, so
    `$export?_since=` left out a risk score gone stale after it (a review, 2026-12-07)."""
    entered = select(ClinicalInput.patient_id).where(ClinicalInput.created_at >= since)
    edited = select(Patient.id).where(Patient.updated_at >= since)
    return entered.union(edited)


def _updated_since(resource: dict[str, Any], since: dt.datetime | None) -> bool:
    """Whether the resource's `meta.lastUpdated` (to the second) is at or after `since`."""
    updated = resource.get("meta", {}).get("lastUpdated")
    if since is None or updated is None:
        return since is None
    return dt.datetime.fromisoformat(updated).replace(tzinfo=None) >= since.replace(microsecond=0)


def _batches(sql: Session, query: Any, id_column: Any, size: int = 200) -> Iterator[Any]:
    """Rows of `query` in id order, `size` at a time (keyset paging), so memory stays flat."""
    last = 0
    while True:
        rows = sql.scalars(query.where(id_column > last).order_by(id_column).limit(size)).all()
        yield from rows
        if len(rows) < size:
            return
        last = rows[-1].id
        sql.expunge_all()


class _Files:
    """One open `<type>.ndjson.part` per resource type (0600); one resource per line."""

    def __init__(self, target: Path, resource_types: Iterable[str]) -> None:
        self.paths = {t: target / f"{t}.ndjson.part" for t in resource_types}
        self.handles: dict[str, IO[str]] = {}

    def __enter__(self) -> _Files:
        self.handles = {
            t: io.TextIOWrapper(open_private(path), encoding="utf-8")
            for t, path in self.paths.items()
        }
        return self

    def write(self, resource_type: str, resource: dict[str, Any]) -> int:
        line = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
        self.handles[resource_type].write(line + "\n")
        return 1

    def __exit__(self, *exc: object) -> None:
        for handle in self.handles.values():
            handle.close()
