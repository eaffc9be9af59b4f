"""Analysis jobs: the `analysis_job` table is the source of truth for any worker.

A worker claims a queued job with a compare-and-set UPDATE (works on SQLite and MySQL, and
for several workers at once), reports progress and a heartbeat in short transactions, and
writes the report, its machine read and the risk scores in one final transaction. The report
is unique per job, so running a job twice never creates two reports.

Crash recovery: every worker beats in `worker_heartbeat` every few seconds (`beat`), and the
job it claims carries its `worker_id`. A running job whose worker has not beaten for
`WORKER_DEAD_AFTER` (30 s), or that made no progress for the job timeout, goes back to the
queue (`requeue_stuck`, run by every worker at start-up and before each claim) until its
attempts are used up; the job page offers Retry on it at once.

A database outage during a job: marking it failed needs the database too, and an operations
audit found a few seconds' outage left the job RUNNING under a live worker for the whole job
timeout, with no Retry. The failure is now written with a short backoff on fresh sessions
(`_record_failure`, about a minute); if the database is still away, this process keeps it in
memory and its own next sweep (`requeue_stuck`, before each claim and every
JOB_SWEEP_SECONDS) writes it as soon as the database answers. Memory is enough: if this
process dies meanwhile, its heartbeat stops and the dead-worker rule requeues the job.

A database busy for a moment (SQLite locked, a MariaDB lock wait timeout or deadlock), a lost
connection or a server restarting is not the job's failure: the job goes back to the queue within
its attempts (`transient_database_error`). A load audit on SQLite had 2 of 54 jobs failed after
one attempt with "an internal error" for a lock held a few seconds by a web request.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from ml.errors import RecordingError
from ml.findings import Finding, repeat_the_ecg
from ml.io.sources import RecordingSource
from ml.recording import Recording
from portal import tasks
from portal.db import transient_database_error
from portal.models import (
    RHYTHM_LABEL_CHARS,
    Account,
    AnalysisJob,
    BulkExportJob,
    EcgRecording,
    EcgReport,
    JobState,
    ReportVersion,
    VersionKind,
    WorkerHeartbeat,
    utcnow,
)
from portal.services import audit, documents, recordings, reports, risk_scores, work_queue
from portal.services.errors import JobNotRetryable
from portal.services.machine_read import stored_parts
from portal.services.storage_check import uploaded_names
from portal.storage import recording_folder

log = logging.getLogger(__name__)
SessionFactory = Callable[[], Session]
Analyzer = Callable[..., Any]  # ml.analysis.analyze, replaceable to simulate failures
INTERNAL_ERROR = (
    "The analysis failed because of an internal error (it has been logged). "
    "The upload is kept; you can retry."
)
WORKER_DEAD_AFTER = dt.timedelta(seconds=30)  # a worker silent this long is dead
FORGET_WORKERS_AFTER = dt.timedelta(days=7)  # heartbeat rows of long-gone workers are dropped
# The database's own "cannot answer now" errors (down, restarting, connection lost, locked).
DATABASE_UNREACHABLE = (OperationalError, InterfaceError, DisconnectionError)
# Waits between tries to write a job's failure while the database is unreachable: about 60 s.
FAIL_RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 7.5, 15.0, 15.0, 15.0)
# What a transiently failed run (database busy, connection lost, server restarting) says while
# it waits again.
REQUEUED_MESSAGE = "Waiting to be retried: the database was busy or unreachable"
# Failures this process could not write (job id -> (worker id, attempts, message, requeue)),
# written by its next `requeue_stuck` once the database answers again.
_unwritten_failures: dict[int, tuple[str | None, int, str, bool]] = {}
_unwritten_lock = threading.Lock()


def claim_next(session: Session, worker_id: str, now: dt.datetime) -> AnalysisJob | None:
    """Take the oldest queued job for this worker, or None. Safe with concurrent workers."""
    return work_queue.claim_oldest(session, AnalysisJob, worker_id, now)


def claim(session: Session, job_id: int, worker_id: str, now: dt.datetime) -> AnalysisJob | None:
    """Take this job for this worker if it is still queued (a compare-and-set UPDATE), else
    None: it is done, running elsewhere or gone. What a task naming the job does. Commits."""
    return work_queue.claim(session, AnalysisJob, job_id, worker_id, now)


def queued_before(session: Session, cutoff: dt.datetime) -> list[int]:
    """Ids of the jobs still queued that were created (or first queued) before `cutoff`,
    oldest first: the ones a lost message may have left waiting."""
    return list(
        session.scalars(
            select(AnalysisJob.id)
            .where(AnalysisJob.state == JobState.QUEUED, AnalysisJob.created_at < cutoff)
            .order_by(AnalysisJob.created_at, AnalysisJob.id)
        )
    )


def beat(
    session: Session, worker_id: str, *, host: str, pid: int, started_at: dt.datetime,
    now: dt.datetime,
) -> None:  # fmt: skip
    """This worker is alive (insert or refresh its heartbeat row). Commits."""
    done = session.execute(
        update(WorkerHeartbeat)
        .where(WorkerHeartbeat.worker_id == worker_id)
        .values(beat_at=now, host=host[:255], pid=pid)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        session.add(
            WorkerHeartbeat(
                worker_id=worker_id, host=host[:255], pid=pid, started_at=started_at, beat_at=now
            )
        )
        try:
            session.commit()
        except IntegrityError:  # another thread of this worker id inserted it first
            session.rollback()
        return
    session.commit()


def forget_worker(session: Session, worker_id: str) -> None:
    """A worker that stops cleanly removes its heartbeat: its unfinished job (if any) is at
    once seen as abandoned. Commits."""
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id))
    session.commit()


def forget_stale_workers(session: Session, now: dt.datetime) -> None:
    """Drop heartbeat rows of workers gone for FORGET_WORKERS_AFTER. Commits."""
    session.execute(
        delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGET_WORKERS_AFTER)
    )
    session.commit()


def live_workers(session: Session, now: dt.datetime) -> set[str]:
    return set(
        session.scalars(
            select(WorkerHeartbeat.worker_id).where(
                WorkerHeartbeat.beat_at >= now - WORKER_DEAD_AFTER
            )
        )
    )


# A queued job waiting this long with no live worker: nobody will analyse it (`service_state`).
WAITING_UNSERVED = dt.timedelta(minutes=1)


def service_state(session: Session, now: dt.datetime, *, figures: bool = True) -> str:
    """Whether the job workers are serving their work, for `/health`: "ok", or what is wrong
    in words. An operations audit stopped every worker, uploaded an ECG, and `/health` kept
    answering ok while nothing was analysed (a missing or crash-looping worker). A job left
    running by a worker that died counts too: only a live worker's sweep requeues it
    (`requeue_stuck`), and a second audit read "ok" beside a job "running" under a dead one.
    Every kind of work the workers do counts, each by itself: a third audit read "ok" while
    signed reports waited for their PDFs and FHIR exports for a worker. Without `figures`
    (a caller off the server) it names the kinds of work waiting, not how many or how long."""
    if live_workers(session, now):
        return "ok"
    said = [kind.said if figures else kind.brief for kind in _waiting_unserved(session, now)]
    if not said:
        return "ok"
    unique = list(dict.fromkeys(said))  # off the server, one kind's two problems read as one
    details = "" if figures else "; ask /health on the server for details"
    return (
        f"no analysis worker is running: {'; '.join(unique)} (start `cardio worker` or the "
        f"Celery workers{details})"
    )


@dataclass(frozen=True)
class Unserved:
    """One kind of work waiting with no live worker: in figures, and without (`brief`)."""

    said: str
    brief: str


def _waiting_unserved(session: Session, now: dt.datetime) -> list[Unserved]:
    """What waits beyond WAITING_UNSERVED, or under a stopped worker, per kind of work the
    workers do: analysis jobs, the PDFs of signed reports, FHIR bulk exports."""
    unserved = _queued_or_stranded(
        session, AnalysisJob, now, "recording(s) wait to be analysed", "analysis job(s)",
        "recordings wait to be analysed",
    )  # fmt: skip
    waiting, oldest = documents.pending_figures(session)  # one query, however many wait
    if oldest is not None and now - oldest >= WAITING_UNSERVED:
        minutes = int((now - oldest).total_seconds() // 60)
        unserved.append(
            Unserved(
                f"{waiting} signed report(s) wait for their PDFs, the oldest for {minutes} min",
                "signed reports wait for their PDFs",
            )
        )
    return unserved + _queued_or_stranded(
        session, BulkExportJob, now, "FHIR bulk export(s) wait to be run",
        "FHIR bulk export(s)", "FHIR bulk exports wait to be run",
    )  # fmt: skip


def _queued_or_stranded(
    session: Session,
    table: type[AnalysisJob] | type[BulkExportJob],
    now: dt.datetime,
    waiting_words: str,
    rows_words: str,
    brief: str,
) -> list[Unserved]:
    """The rows of `table` queued beyond WAITING_UNSERVED ("3 <waiting_words>, the oldest
    for 5 min") and those left running by a worker that stopped ("1 <rows_words> wait under
    a stopped worker"), each said in figures and, off the server, as `brief`."""
    unserved = []
    if (queued := _queue_figures(session, table, now)) is not None:
        waiting, minutes = queued
        unserved.append(Unserved(f"{waiting} {waiting_words}, the oldest for {minutes} min", brief))
    if stranded := _stranded(session, table):
        unserved.append(Unserved(f"{stranded} {rows_words} wait under a stopped worker", brief))
    return unserved


def _queue_figures(
    session: Session, table: type[AnalysisJob] | type[BulkExportJob], now: dt.datetime
) -> tuple[int, int] | None:
    """How many rows of `table` are queued and the oldest's wait in minutes, when that oldest
    has waited WAITING_UNSERVED or more; else None."""
    oldest = session.scalar(
        select(table.created_at)
        .where(table.state == JobState.QUEUED)
        .order_by(table.created_at)
        .limit(1)
    )
    if oldest is None or now - oldest < WAITING_UNSERVED:
        return None
    waiting = session.scalar(select(func.count(table.id)).where(table.state == JobState.QUEUED))
    return int(waiting or 0), int((now - oldest).total_seconds() // 60)


def _stranded(session: Session, table: type[AnalysisJob] | type[BulkExportJob]) -> int:
    """Running rows of `table` claimed by a worker: with no live worker, every one's is dead."""
    return int(
        session.scalar(
            select(func.count(table.id)).where(
                table.state == JobState.RUNNING, table.worker_id.is_not(None)
            )
        )
        or 0
    )


def worker_is_dead(session: Session, job: AnalysisJob, now: dt.datetime | None = None) -> bool:
    """A running job whose claiming worker has not beaten for WORKER_DEAD_AFTER (or has no
    heartbeat at all): nobody is working on it."""
    if job.state is not JobState.RUNNING or job.worker_id is None:
        return False
    return job.worker_id not in live_workers(session, now or utcnow())


def requeue_stuck(session: Session, now: dt.datetime, timeout: dt.timedelta) -> int:
    """Running jobs nobody is working on any more: their worker is dead (no heartbeat for
    WORKER_DEAD_AFTER), or they made no progress for `timeout` (a hung analysis). Queued again,
    or failed when out of attempts. Each change is a compare-and-set, so a job that finished
    or was claimed again meanwhile is left alone. Returns how many were touched. First writes
    the failures this process could not write while the database was away
    (`_record_failure`)."""
    write_unwritten_failures(session, now)
    live = live_workers(session, now)
    running = session.execute(
        select(
            AnalysisJob.id, AnalysisJob.worker_id, AnalysisJob.attempts,
            AnalysisJob.max_attempts, AnalysisJob.heartbeat_at,
        ).where(AnalysisJob.state == JobState.RUNNING)
    ).all()  # fmt: skip
    touched = 0
    for job in running:
        dead_worker = job.worker_id is not None and job.worker_id not in live
        silent = job.heartbeat_at is not None and job.heartbeat_at < now - timeout
        if not (dead_worker or silent):
            continue
        if job.attempts >= job.max_attempts:
            values: dict[str, Any] = {
                "state": JobState.FAILED,
                "finished_at": now,
                "error_message": (
                    f"The analysis stopped responding {job.attempts} times; giving up. "
                    "Retry it, or contact support if it keeps happening."
                ),
            }
        else:
            values = {
                "state": JobState.QUEUED,
                "progress_pct": 0.0,  # it starts again from the beginning
                "progress_message": "Waiting to be retried after an interruption",
            }
        changed = session.execute(
            update(AnalysisJob)
            .where(
                AnalysisJob.id == job.id,
                AnalysisJob.state == JobState.RUNNING,
                AnalysisJob.attempts == job.attempts,  # not claimed again meanwhile
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount == 1:  # type: ignore[attr-defined]
            touched += 1
            log.warning(
                "analysis job %s %s: %s", job.id, values["state"].value,
                f"worker {job.worker_id} is dead" if dead_worker else "no progress",
            )  # fmt: skip
    session.commit()
    return touched


def run(
    sessions: SessionFactory,
    job_id: int,
    *,
    storage_dir: Path,
    analyzer: Analyzer | None = None,
    reference_dir: Path | None = None,
    memory_limit_mb: int | None = None,
) -> JobState:
    """Run one claimed job to the end; never raises for a bad recording or a crash.

    `memory_limit_mb`: the job's memory ceiling. The process's resident memory is checked at
    every progress step; beyond the ceiling the job stops and fails with a message (the
    upload is kept, Retry stays possible) instead of the server being killed by the system
    for want of memory."""
    if analyzer is None:
        from ml.analysis import analyze, warm_up

        warm_up()  # once per worker process: the model, and SciPy's faster filters
        analyzer = analyze
    with sessions() as session:
        job = session.get(AnalysisJob, job_id)
        assert job is not None and job.state is JobState.RUNNING
        recording_row = job.recording

        claimed = (job.worker_id, job.attempts)

        def progress(fraction: float, message: str) -> None:
            if memory_limit_mb is not None and resident_mb() > memory_limit_mb:
                raise MemoryCeilingReached(memory_limit_mb)
            still_ours = session.execute(
                update(AnalysisJob)
                .where(
                    AnalysisJob.id == job_id,
                    AnalysisJob.state == JobState.RUNNING,
                    AnalysisJob.worker_id.is_not_distinct_from(claimed[0]),
                    AnalysisJob.attempts == claimed[1],
                )
                .values(
                    progress_pct=round(100 * min(max(fraction, 0.0), 1.0), 1),
                    progress_message=message[:255],
                    heartbeat_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            session.commit()
            if cast(CursorResult[Any], still_ours).rowcount != 1:
                raise ClaimLost()

        try:
            progress(0.02, "Reading the recording")
            recording = _open_stored(storage_dir, recording_row)
            analysis = analyzer(recording, progress=progress, pacemaker=recording_row.pacemaker)
            progress(0.95, "Writing the report")
            _write_report(session, job, analysis, reference_dir)
            job.state = JobState.SUCCEEDED
            job.progress_pct = 100.0
            job.progress_message = "Done"
            job.finished_at = utcnow()
            session.commit()
        except IntegrityError:
            session.rollback()
            if _has_report(session, job_id):  # another run of this job wrote it first
                job = session.get(AnalysisJob, job_id, populate_existing=True)
                assert job is not None
                job.state = JobState.SUCCEEDED
                job.finished_at = utcnow()
                session.commit()
            else:  # any other constraint: a real failure, nothing was written
                log.error("analysis job %s: integrity error:\n%s", job_id, traceback.format_exc())
                return _record_failure(sessions, session, job_id, claimed, INTERNAL_ERROR)
        except ClaimLost:  # requeued meanwhile (this worker was thought dead): its new run counts
            log.warning("analysis job %s was requeued while this worker ran it; stopped", job_id)
            session.rollback()
            state = session.scalar(select(AnalysisJob.state).where(AnalysisJob.id == job_id))
            session.rollback()
            return state if state is not None else JobState.QUEUED
        except RecordingError as problem:
            return _record_failure(sessions, session, job_id, claimed, str(problem))
        except MemoryCeilingReached as reached:
            log.error("analysis job %s stopped at its memory ceiling (%s MB)", job_id, reached)
            return _record_failure(
                sessions,
                session,
                job_id,
                claimed,
                f"The analysis needed more memory than this server allows a job "
                f"({reached.args[0]} MB) and was stopped. The upload is kept: split the "
                "recording into shorter parts, or ask IT to raise JOB_MEMORY_LIMIT_MB.",
            )
        except DATABASE_UNREACHABLE as error:
            if not transient_database_error(error):
                log.error("analysis job %s crashed:\n%s", job_id, traceback.format_exc())
                return _record_failure(sessions, session, job_id, claimed, INTERNAL_ERROR)
            log.warning(
                "analysis job %s: database busy or lost (%s); requeued", job_id, _words(error)
            )
            return _record_failure(sessions, session, job_id, claimed, INTERNAL_ERROR, requeue=True)
        except Exception:  # a bug or a resource problem: keep the upload, say so, allow retry
            log.error("analysis job %s crashed:\n%s", job_id, traceback.format_exc())
            return _record_failure(sessions, session, job_id, claimed, INTERNAL_ERROR)
        final = session.get(AnalysisJob, job_id, populate_existing=True)
        assert final is not None
        return final.state


def _open_stored(storage_dir: Path, row: EcgRecording) -> Recording | RecordingSource:
    """The recording to analyse; a RecordingError saying so when its stored files are gone (a
    folder removed, a restore without them). An ops audit had read "internal error ... The
    upload is kept; you can retry" over a FileNotFoundError traceback, or, with the .dat
    alone gone, the upload form's "Upload rec1.hea and rec1.dat together"."""
    try:
        return recordings.open_for_analysis(storage_dir, row)
    except (OSError, RecordingError) as error:
        folder = recording_folder(storage_dir, row.sha256)
        present = {p.name for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()
        if not isinstance(error, OSError) and all(
            name in present for name in uploaded_names(row.original_filename, present)
        ):
            raise  # the files are there: what they hold is the problem
        log.error(
            "recording %s: its stored files are missing or unreadable (%s): %s",
            row.id, folder, error,
        )  # fmt: skip
        raise RecordingError(files_missing_message(row.id, folder.is_dir())) from None


def files_missing_message(recording_id: int, folder_left: bool) -> str:
    """An upload of the same file stores it again only where its whole folder is gone
    (`storage.keep` leaves a folder that exists as it is)."""
    again = "" if folder_left else ", or upload the same file again, which stores them again"
    return (
        f"The recording's stored files are missing or unreadable (recording {recording_id}): "
        "nothing was analysed. Restore them from the backup (`cardio storage verify` lists "
        f"what is missing){again}; then retry."
    )


class ClaimLost(Exception):
    """The job is no longer this run's: a sweep requeued it (its worker thought dead, e.g. a
    host clock behind the others') and another run claimed it. An operations audit saw both
    runs write progress, the job ending "succeeded" at "95 %: Writing the report"."""


class MemoryCeilingReached(Exception):
    """The process's resident memory passed the job's ceiling (MB, in args[0])."""


def resident_mb() -> float:
    """This process's resident memory now (Linux /proc; 0 where it cannot be read)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _has_report(session: Session, job_id: int) -> bool:
    return session.scalar(select(EcgReport.id).where(EcgReport.job_id == job_id)) is not None


def _record_failure(
    sessions: SessionFactory,
    session: Session,
    job_id: int,
    claimed: tuple[str | None, int],
    message: str,
    *,
    requeue: bool = False,
) -> JobState:
    """Mark the job failed (`requeue`: queued again while it has attempts left, else failed
    with `message`), even across a short database outage (an operations audit: the
    failure could not be written, and the job stayed RUNNING under a live worker for
    JOB_TIMEOUT_MINUTES with no Retry). Tried on the job's session, then on a fresh session
    after each of FAIL_RETRY_DELAYS_S (about a minute in all); still unreachable, the failure
    is kept for this process's next `requeue_stuck`, which writes it once the database
    answers. The job's state as it now is or will be."""
    try:
        return _fail(session, job_id, claimed, message, requeue=requeue)
    except DATABASE_UNREACHABLE as lost:
        log.warning("analysis job %s: cannot mark it failed (%s); retrying", job_id, _words(lost))
        _discard(session)
    for delay_s in FAIL_RETRY_DELAYS_S:
        time.sleep(delay_s)
        fresh = sessions()
        try:
            return _fail(fresh, job_id, claimed, message, requeue=requeue)
        except DATABASE_UNREACHABLE as lost:
            last = _words(lost)
        finally:
            _discard(fresh)
    log.error(
        "analysis job %s: database unreachable for about a minute (%s); its failure is written "
        "at this worker's next sweep", job_id, last,
    )  # fmt: skip
    with _unwritten_lock:
        _unwritten_failures[job_id] = (*claimed, message, requeue)
    return JobState.FAILED


def write_unwritten_failures(session: Session, now: dt.datetime) -> None:
    """Write the failures `_record_failure` could not, now that the database answers. Each
    is a compare-and-set on the claim the run held, so a job requeued or claimed again since
    is left alone. Commits."""
    with _unwritten_lock:
        pending = dict(_unwritten_failures)
    for job_id, (worker_id, attempts, message, requeue) in pending.items():
        _fail(session, job_id, (worker_id, attempts), message, now, requeue=requeue)
        with _unwritten_lock:
            _unwritten_failures.pop(job_id, None)


def _fail(
    session: Session,
    job_id: int,
    claimed: tuple[str | None, int],
    message: str,
    now: dt.datetime | None = None,
    *,
    requeue: bool = False,
) -> JobState:
    """Failed, if the job is still the run's (RUNNING under the same worker and attempt): a
    job a sweep requeued meanwhile, or whose success was committed before the connection
    was lost, is not turned into a failure. `requeue`: queued again instead while it has
    attempts left (the workers told once it commits). Commits; the job's state."""
    worker_id, attempts = claimed
    session.rollback()
    still_the_runs = (
        AnalysisJob.id == job_id,
        AnalysisJob.state == JobState.RUNNING,
        AnalysisJob.worker_id.is_not_distinct_from(worker_id),
        AnalysisJob.attempts == attempts,
    )
    if requeue:
        queued = session.execute(
            update(AnalysisJob)
            .where(*still_the_runs, AnalysisJob.attempts < AnalysisJob.max_attempts)
            .values(state=JobState.QUEUED, progress_pct=0.0, progress_message=REQUEUED_MESSAGE)
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], queued).rowcount == 1:
            tasks.enqueue_after_commit(session, "analysis", job_id)
    session.execute(
        update(AnalysisJob)
        .where(*still_the_runs)
        .values(state=JobState.FAILED, error_message=message, finished_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    state = session.scalar(select(AnalysisJob.state).where(AnalysisJob.id == job_id))
    session.rollback()  # the read's transaction ends here (no lock held on MariaDB)
    return state if state is not None else JobState.FAILED


def _discard(session: Session) -> None:
    """Drop a session whose connection may be dead (its rollback may fail too)."""
    try:
        session.close()
    except DATABASE_UNREACHABLE:
        session.invalidate()


def _words(error: Exception) -> str:
    """The driver's words for a database error, without its SQL or parameters."""
    cause = getattr(error, "orig", None) or error
    return f"{type(cause).__name__}: {cause}"


def _write_report(
    session: Session, job: AnalysisJob, analysis: Any, reference_dir: Path | None = None
) -> EcgReport:
    """The report and its machine read (version 1) and risk scores, in the caller's transaction."""
    recording = job.recording
    patient = recording.patient
    report = EcgReport(
        patient_id=patient.id,
        recording_id=recording.id,
        job_id=job.id,
        assigned_doctor_id=patient.assigned_doctor_id,
        report_date=recording.acquired_at or recording.created_at,
    )
    session.add(report)
    session.flush()  # IntegrityError here if this job already has a report
    version = machine_version(report, analysis)
    if recording.reference_record and reference_dir is not None:
        from portal.services.reference import agreement

        found = agreement(reference_dir, recording.reference_record, analysis)
        version.analysis = {**(version.analysis or {}), "reference": found.to_dict()}
    session.add(version)
    heart_rate_bpm = risk_scores.report_heart_rate_bpm(report, analysis.heart_rate.mean_bpm)
    outcomes = risk_scores.report_outcomes(session, report, ecg_heart_rate_bpm=heart_rate_bpm)
    scores = risk_scores.store_report_scores(report, outcomes)
    session.add_all(scores)
    report.main_finding = analysis.main_finding.code[:32]
    report.urgency = reports.urgency_of(
        [(f.code, f.risk) for f in analysis.findings], reports.worklist_scores(report, scores),
        repeat_ecg=repeat_the_ecg(analysis.intervals),
    )  # fmt: skip
    audit.record(
        session, "report.create", actor=None, actor_username="analysis worker",
        patient_id=patient.id, object_type="ecg_report", object_id=report.id,
        details={"job_id": job.id},
    )  # fmt: skip
    return report


def machine_version(report: EcgReport, analysis: Any) -> ReportVersion:
    """Version 1: the machine read, never overwritten by a doctor's read (its beats in their
    own table, `report_beats`)."""
    document, beats = stored_parts(analysis)
    intervals = analysis.intervals
    main = analysis.main_finding
    return ReportVersion(
        report=report,
        version_no=1,
        kind=VersionKind.MACHINE,
        rhythm_label=analysis.rhythm_summary[:RHYTHM_LABEL_CHARS],
        findings=[f.code for f in analysis.findings],
        conclusion=machine_conclusion(analysis.findings, main),
        predicted_class=main.code[:16],
        confidence=main.confidence,
        heart_rate_bpm=analysis.heart_rate.mean_bpm,
        pr_ms=intervals.pr_ms,
        qrs_ms=intervals.qrs_ms,
        qt_ms=intervals.qt_ms,
        qtc_bazett_ms=intervals.qtc_bazett_ms,
        qtc_fridericia_ms=intervals.qtc_fridericia_ms,
        qrs_axis_deg=intervals.qrs_axis_deg,
        beat_counts=dict(analysis.beat_counts),
        class_probabilities=dict(analysis.class_probability_mean),
        analysis=document,
        beats=beats,
        model_version=analysis.model_version,
    )


# The sign form's limit on a conclusion (`review.forms.SignForm.conclusion`): the machine's
# pre-fills it, so it must sign as it stands.
CONCLUSION_CHARS = 4000


def machine_conclusion(findings: list[Finding], main: Finding) -> str:
    """Every finding the read lists, the main one first, then in the read's order ("; "
    between): it pre-fills the sign form's conclusion, which had named the main finding alone,
    and a doctor signing as prefilled dropped the rest (MIT-BIH 100: "Ventricular ectopic
    beats", its 34 supraventricular ectopic beats unsaid). Over the form's limit, the last
    ones are "and N other finding(s): see the findings"."""
    labels = list(dict.fromkeys([main.label, *(f.label for f in findings)]))
    for named in range(len(labels), 0, -1):
        rest = len(labels) - named
        said = "; ".join(labels[:named])
        if rest:
            said += f"; and {rest} other finding(s): see the findings"
        if len(said) <= CONCLUSION_CHARS:
            return said
    return main.label[:CONCLUSION_CHARS]


def retry(
    session: Session, job: AnalysisJob, *, actor: Account, now: dt.datetime | None = None
) -> None:
    """Queue a failed job again (the upload was kept), or a running one whose worker is dead.
    Caller commits."""
    was = job.state
    if not (was is JobState.FAILED or worker_is_dead(session, job, now)):
        raise JobNotRetryable()
    job.state = JobState.QUEUED
    job.attempts = 0
    job.error_message = None
    job.progress_pct = 0.0
    job.progress_message = "Queued again"
    tasks.enqueue_after_commit(session, "analysis", job.id)
    audit.record(
        session, "job.retry", actor=actor, patient_id=job.recording.patient_id,
        object_type="analysis_job", object_id=job.id,
        details=None if was is JobState.FAILED else {"was": "running, worker dead"},
    )  # fmt: skip


def status_of(session: Session, job: AnalysisJob) -> dict[str, Any]:
    """What the upload page polls. A failed job says its error, not the step it was at
    ("failed: Judging signal quality"); `worker_dead`: the process running it stopped
    answering, which the open page now says as it happens (only a reload had said it; an
    operations audit)."""
    report_id = None
    if job.state is JobState.SUCCEEDED:
        report_id = job.report.id if job.report is not None else None
    failed = job.state is JobState.FAILED
    return {
        "id": job.id,
        "state": job.state.value,
        "progress_pct": job.progress_pct,
        "message": None if failed else job.progress_message,
        "error": job.error_message,
        "attempts": job.attempts,
        "report_id": report_id,
        "worker_dead": worker_is_dead(session, job),
    }
