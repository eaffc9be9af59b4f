"""ECG uploads: parse before accepting, store by SHA-256, create the recording and its job
in one transaction, and find an earlier upload of the same file instead of duplicating it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy import delete, event, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from ml.errors import RecordingError
from ml.io import read_recording
from ml.io.sources import RecordingSource, open_recording
from ml.recording import Recording
from portal import storage, tasks
from portal.db import commit_answer_lost, lock_row
from portal.local_time import UTC_ZONE, acquisition_utc, hospital_day
from portal.models import (
    Account,
    AnalysisJob,
    EcgRecording,
    EcgReport,
    JobState,
    Patient,
    RecordingFormat,
    ReportBeats,
    ReportDocument,
    ReportStatus,
    ReportVersion,
    RiskScore,
    utcnow,
)
from portal.services import audit, patients
from portal.services.errors import UploadedMeanwhile
from portal.services.validation import InvalidInput

UNITS = ("mV", "uV")
PACEMAKER_LABEL = "Patient has a pacemaker (paced rhythm possible)"
PACEMAKER_MESSAGE = "Say whether the patient has a pacemaker: true or false."


@dataclass(frozen=True)
class UploadOptions:
    fs_hz: float | None = None  # CSV without a time column
    units: str | None = None  # CSV whose header does not say
    # Staff noted that the patient has a pacemaker (paced rhythm possible): the analysis is a
    # paced read (`ml.paced`). Stored with the recording.
    pacemaker: bool = False


@dataclass(frozen=True)
class UploadOutcome:
    recording: EcgRecording
    job: AnalysisJob
    duplicate: bool
    # The same file given again at another sampling rate or in other units, its unsigned read
    # replaced by one queued at those (`_read_again`): what the page says about it.
    read_again: str | None = None


# The sampling rates an upload may give (`parse`), as the API's document states them.
MIN_FS_HZ, MAX_FS_HZ = 50, 2000


def _format_of(recording: Recording | RecordingSource) -> RecordingFormat:
    """The format of the files read, as their reader names it: a zip's is its members' (one
    holding an EDF or CSV file had been stored as WFDB, and the report said so; an upload
    audit). The files are not looked at again."""
    return RecordingFormat(recording.source_format)


def parse(
    paths: list[Path], options: UploadOptions, shown_names: Sequence[str] = ()
) -> Recording | RecordingSource:
    """The recording in these files, or InvalidInput with the reader's clinician message,
    naming each file as uploaded (`shown_names`, beside `paths`). A long WFDB or EDF
    recording is checked chunk by chunk, never held in memory whole (a 24-hour Holter), and
    comes back closed: its header's figures only."""
    if options.fs_hz is not None and not MIN_FS_HZ <= options.fs_hz <= MAX_FS_HZ:
        raise InvalidInput(
            {"fs_hz": f"Sampling rate {options.fs_hz:g} Hz is outside {MIN_FS_HZ}-{MAX_FS_HZ} Hz."}
        )
    if options.units is not None and options.units not in UNITS:
        raise InvalidInput({"units": f"Units must be one of {', '.join(UNITS)}."})
    if not isinstance(options.pacemaker, bool):
        raise InvalidInput({"pacemaker": PACEMAKER_MESSAGE})
    try:
        recording = open_recording(
            paths, fs_hz=options.fs_hz, units=options.units, stored_as=_as_stored(shown_names)
        )
        if not isinstance(recording, Recording):
            from ml.chunked import check_source  # the analysis's modules: only when needed

            try:
                check_source(recording)
            finally:
                recording.close()
        return recording
    except RecordingError as problem:
        raise InvalidInput({"files": as_uploaded(str(problem), paths, shown_names)}) from None


def _as_stored(shown_names: Sequence[str]) -> Callable[[str], str]:
    """Where a data file a WFDB header names is stored, if a file of that very name was
    uploaded (`storage.disk_name`); else the name itself, which no file has, so the pair is
    refused. Every name in Cyrillic is stored as "dat", so "Иванов.hea" naming "Иванов.dat"
    had been read with "Петров.dat", two people's files made one recording (a review,
    2026-12-07), where "rec1.hea" with "rec2.dat" is refused."""
    uploaded = set(shown_names)
    if not uploaded:  # nothing to tell them apart by: the files' names on disk
        return storage.disk_name
    return lambda name: storage.disk_name(name) if name in uploaded else name


def as_uploaded(message: str, paths: list[Path], shown_names: Sequence[str]) -> str:
    """The reader's message with each file's safe name on disk written as it was uploaded:
    the readers name the files they are given, and "καρδιά.edf", stored as "edf", had been
    refused as "edf: damaged EDF header." (a bad-input audit). A whole name only (not the
    "edf" of ".edf" or "EDF"); the disk name "recording", given to a name with nothing safe
    in it, is left as it is, being a word of the messages too."""
    shown_by_disk = {
        path.name: shown
        for path, shown in zip(paths, shown_names, strict=False)
        if path.name not in (shown, storage.disk_name(""))
    }
    if not shown_by_disk:
        return message
    names = "|".join(re.escape(name) for name in sorted(shown_by_disk, key=len, reverse=True))
    whole_name = re.compile(rf"(?<![\w.-])(?:{names})(?![\w-]|\.\w)")
    return whole_name.sub(lambda found: shown_by_disk[found[0]], message)


def upload_recording(
    session: Session,
    patient: Patient,
    files: Iterable[tuple[str, IO[bytes]]],
    *,
    actor: Account,
    storage_dir: Path,
    options: UploadOptions = UploadOptions(),
    reference_record: str | None = None,
    time_zone: ZoneInfo = UTC_ZONE,
) -> UploadOutcome:
    """Check, store and register an upload (caller commits). Raises InvalidInput if unusable,
    or if the storage is full (storage.StorageFull, its message beside the files field)."""
    patients.require_active(patient, "files", "an ECG")
    try:
        staged = storage.stage(files, storage_dir)
    except storage.UploadError as problem:
        raise InvalidInput({"files": str(problem)}) from None
    try:
        recording = parse(staged.paths, options, staged.shown_names)
        file_format = _format_of(recording)
    except BaseException:
        staged.discard()
        raise
    try:
        return _register(
            session, patient, staged, recording, file_format, actor=actor,
            storage_dir=storage_dir, options=options, reference_record=reference_record,
            time_zone=time_zone,
        )  # fmt: skip
    except BaseException:
        staged.discard()  # nothing once the files are kept (their folder then goes at rollback)
        raise


def _reference_clash(existing: EcgRecording, reference_record: str | None) -> str:
    """Why one file cannot be both this patient's own ECG and a reference-library record:
    chosen from the library after its upload, MIT-BIH 101 had opened the patient's own copy,
    which a signature releases to them as their ECG (an integration audit)."""
    uploaded = hospital_day(existing.created_at)
    if existing.reference_record is None:
        return (
            f"This patient already has this file as their own ECG ({existing.original_filename},"
            f" uploaded {uploaded}); a reference-library record cannot be the same file. Open "
            "their recording, or choose another record."
        )
    return (
        f"This file is the reference-library record {existing.reference_record} attached to "
        f"this patient ({uploaded}), for teaching or checks; it cannot also be their own ECG."
    )


def _register(
    session: Session,
    patient: Patient,
    staged: storage.StagedUpload,
    recording: Recording | RecordingSource,
    file_format: RecordingFormat,
    *,
    actor: Account,
    storage_dir: Path,
    options: UploadOptions,
    reference_record: str | None,
    time_zone: ZoneInfo,
) -> UploadOutcome:
    patients.require_still_active(session, patient, "files", "an ECG")
    existing = session.scalar(
        select(EcgRecording).where(
            EcgRecording.patient_id == patient.id, EcgRecording.sha256 == staged.sha256
        )
    )
    if existing is not None:
        _read_as_committed(session, existing)
    if existing is not None and existing.reference_record != reference_record:
        raise InvalidInput({"files": _reference_clash(existing, reference_record)})
    change = _reading_change(existing, recording, options) if existing is not None else None
    if existing is not None and change is not None:
        read = _check_read_again(session, existing, change)
        _keep_again(staged, storage_dir)
        return _read_again(session, existing, read, recording, options, change, actor=actor)
    if existing is not None:
        _keep_again(staged, storage_dir)
        job = existing.jobs[-1]
        audit.record(
            session, "recording.duplicate_upload", actor=actor, patient_id=patient.id,
            object_type="ecg_recording", object_id=existing.id,
        )  # fmt: skip
        return UploadOutcome(existing, job, duplicate=True)

    try:  # the file is kept before any row is added: a full disk leaves the database as it was
        created = storage.keep(staged, storage_dir)
    except storage.StorageUnavailable as problem:  # staged files already removed
        raise InvalidInput({"files": str(problem)}) from None
    if created:  # ... and removed again if the rows are not committed (database down)
        session.info.setdefault(_KEPT_UNCOMMITTED, []).append((storage_dir, staged.sha256))
    row = EcgRecording(
        patient_id=patient.id,
        uploaded_by_id=actor.id,
        sha256=staged.sha256,
        original_filename=", ".join(staged.shown_names)[:255],
        file_format=file_format,
        size_bytes=staged.size_bytes,
        sampling_rate_hz=recording.fs_hz,
        lead_names=list(recording.lead_names),
        n_samples=int(recording.n_samples),
        duration_s=recording.duration_s,
        # The recorder's clock, read in the hospital's zone; None: the report says "uploaded".
        acquired_at=acquisition_utc(
            recording.start_time, time_zone, utcnow(), patient.date_of_birth
        ),
        reference_record=reference_record,
        declared_units=units_read_in(recording, options)
        if file_format is RecordingFormat.CSV
        else None,
        pacemaker=options.pacemaker,
    )
    job = AnalysisJob(recording=row, requested_by_id=actor.id, state=JobState.QUEUED)
    session.add_all([row, job])
    patient_id = patient.id  # read now: after a failed flush the session loads nothing
    try:
        session.flush()
    except IntegrityError:  # the same file, for the same patient, committed meanwhile
        if not _stored_by_another_request(session, staged.sha256, patient_id):
            raise
        raise UploadedMeanwhile() from None
    tasks.enqueue_after_commit(session, "analysis", job.id)
    audit.record(
        session, "recording.upload", actor=actor, patient_id=patient.id,
        object_type="ecg_recording", object_id=row.id,
        details={"format": file_format.value, "sha256": staged.sha256, "job_id": job.id,
                 "pacemaker": options.pacemaker},
    )  # fmt: skip
    return UploadOutcome(row, job, duplicate=False)


@dataclass(frozen=True)
class ReadingChange:
    """How an earlier upload of a file was read and how this one asks it to be read."""

    field: str  # the upload field that differs: fs_hz, else units
    was: str  # "250 Hz", "250 Hz in mV"
    now: str


def _reading_change(
    existing: EcgRecording, recording: Recording | RecordingSource, options: UploadOptions
) -> ReadingChange | None:
    """Whether the same file was read at another sampling rate or in other units than this
    upload gives (a CSV's, the only files these choices read differently). The same file at
    360 Hz after 250 Hz had opened the first read, every rate, interval and QTc 44 % off (an
    input audit). Units left empty are millivolts, as the reader takes them."""
    if existing.file_format is not RecordingFormat.CSV:
        return None
    units_were, units_now = existing.declared_units or "mV", options.units or "mV"
    if isinstance(recording, Recording) and recording.units_in_file:
        units_were = units_now  # its columns name their units: read in them every time
    rate_differs = not math.isclose(existing.sampling_rate_hz, recording.fs_hz, rel_tol=1e-9)
    if not rate_differs and units_were == units_now:
        return None
    with_units = units_were != units_now
    return ReadingChange(
        field="fs_hz" if rate_differs else "units",
        was=_reading_words(existing.sampling_rate_hz, units_were, with_units),
        now=_reading_words(recording.fs_hz, units_now, with_units),
    )


def units_read_in(recording: Recording | RecordingSource, options: UploadOptions) -> str | None:
    """The units option as the file was read in it: None when its columns name their own
    ("MLII (mV)"), which the reader takes over any option. Such a file given "uV" had been
    recorded as read in uV, read again for nothing, and its signed report then said to be
    read in uV, to be withdrawn as read wrongly (a bad-input audit)."""
    labelled = isinstance(recording, Recording) and recording.units_in_file
    return None if labelled else options.units


def _reading_words(rate_hz: float, units: str, with_units: bool) -> str:
    return f"{rate_hz:g} Hz in {units}" if with_units else f"{rate_hz:g} Hz"


def _keep_again(staged: storage.StagedUpload, storage_dir: Path) -> None:
    """An earlier upload's files are normally there (the staged copy is dropped); if they are
    not (a commit whose answer was lost in a database outage, its folder then removed), they
    are now."""
    try:
        storage.keep(staged, storage_dir)
    except storage.StorageUnavailable as problem:
        raise InvalidInput({"files": str(problem)}) from None


def _read_as_committed(session: Session, existing: EcgRecording) -> None:
    """Lock the earlier upload and read it and its jobs as committed (MariaDB: not the
    request's snapshot), so that the same read-again sent twice at once is one: the second
    waits and finds the file already being read again, the plain duplicate of that job. It had
    worked out the change from its snapshot and read the file again a second time, or
    answered 'Its report is signed' though nothing was (a write-path audit, 2026-12-07)."""
    lock_row(session, "ecg_recording", existing.id, "pacemaker")  # one re-read at a time
    session.refresh(existing, with_for_update=True)
    jobs = session.scalars(
        select(AnalysisJob)
        .where(AnalysisJob.recording_id == existing.id)
        .order_by(AnalysisJob.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    set_committed_value(existing, "jobs", list(jobs))


def _check_read_again(
    session: Session, existing: EcgRecording, change: ReadingChange
) -> list[EcgReport]:
    """The recording's reports, locked (`_reports_locked`; the recording is, by
    `_read_as_committed`); InvalidInput, saying what to do,
    when the file cannot be read again now: its analysis is running, or a read of it is signed
    (the record of what was issued, never replaced)."""
    before = _before(existing, change)
    if any(job.state in (JobState.QUEUED, JobState.RUNNING) for job in existing.jobs):
        raise InvalidInput(
            {change.field: f"{before} Its analysis is still running: upload it again with "
             f"{change.now} once it has finished (its page says when), and it is read again."}
        )  # fmt: skip
    read = _reports_locked(session, existing)
    if any(report.status in SIGNED_STATUSES for report in read):
        raise InvalidInput({change.field: _signed_refusal(before, change)})
    return read


def _reports_locked(session: Session, existing: EcgRecording) -> list[EcgReport]:
    """The recording's reports, their rows locked and read as committed (MariaDB: not the
    request's snapshot): a signature at that moment holds its report's row
    (`reports._lock_unless_removed`), so one of the two waits and finds what the other did.
    A signature sent with a read-again had answered 500 (a write-path audit, 2026-12-07)."""
    return list(
        session.scalars(
            select(EcgReport)
            .where(EcgReport.recording_id == existing.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _before(existing: EcgRecording, change: ReadingChange) -> str:
    return (
        f"This file was uploaded on {hospital_day(existing.created_at)} and read at {change.was}; "
        f"you gave {change.now}."
    )


def _signed_refusal(before: str, change: ReadingChange) -> str:
    return (
        f"{before} Its report is signed, and a signed report is not read again: the doctor "
        'withdraws it as entered in error (its review page, "Withdraw as entered in error", '
        '"This patient\'s ECG, read wrongly"); then upload the file again with '
        f"{change.now}."
    )


def _read_again(
    session: Session,
    existing: EcgRecording,
    read: list[EcgReport],
    recording: Recording | RecordingSource,
    options: UploadOptions,
    change: ReadingChange,
    *,
    actor: Account,
) -> UploadOutcome:
    """The same file, given again at another rate or in other units (`_check_read_again`
    allows it, `read` its reports, locked): read again at those, its unsigned machine read
    removed (audited). That read was of the file at the wrong rate, and no doctor had put
    their name to it, so nothing of record is lost (an input audit); a read withdrawn as
    entered in error stays."""
    unsigned = [report for report in read if report.status is ReportStatus.PRELIMINARY]
    removed = _remove_unsigned_reads(session, unsigned, change, _before(existing, change))
    details = {"was": change.was, "now": change.now, "removed_report_ids": removed}
    for kept in read:  # withdrawn, kept for the record as read: they keep their reading
        if kept.id not in removed and kept.read_at_hz is None:
            kept.read_at_hz, kept.read_in_units = existing.sampling_rate_hz, existing.declared_units
    existing.sampling_rate_hz = recording.fs_hz
    existing.n_samples = int(recording.n_samples)
    existing.duration_s = recording.duration_s
    existing.declared_units = units_read_in(recording, options)  # the pacemaker flag stays
    job = AnalysisJob(recording=existing, requested_by_id=actor.id, state=JobState.QUEUED)
    session.add(job)
    session.flush()
    tasks.enqueue_after_commit(session, "analysis", job.id)
    audit.record(
        session, "recording.read_again", actor=actor, patient_id=existing.patient_id,
        object_type="ecg_recording", object_id=existing.id, details=details | {"job_id": job.id},
    )  # fmt: skip
    replaced = " Its unsigned machine read was removed." if removed else ""
    message = f"{_before(existing, change)}{replaced} It is being read again at {change.now}."
    return UploadOutcome(existing, job, duplicate=True, read_again=message)


SIGNED_STATUSES = (ReportStatus.FINAL, ReportStatus.AMENDED)


def _remove_unsigned_reads(
    session: Session, unsigned: list[EcgReport], change: ReadingChange, before: str
) -> list[int]:
    """Delete these unsigned reports and what hangs on them (their beats, PDFs and scores),
    each only while still unsigned: one a doctor signs at this moment is refused as signed
    (the caller rolls back, nothing changes). Returns their ids."""
    report_ids = [report.id for report in unsigned]
    if not report_ids:
        return []
    version_ids = list(
        session.scalars(select(ReportVersion.id).where(ReportVersion.report_id.in_(report_ids)))
    )
    session.execute(delete(ReportBeats).where(ReportBeats.report_version_id.in_(version_ids)))
    session.execute(delete(ReportDocument).where(ReportDocument.report_version_id.in_(version_ids)))
    session.execute(delete(RiskScore).where(RiskScore.report_id.in_(report_ids)))
    session.execute(delete(ReportVersion).where(ReportVersion.id.in_(version_ids)))
    gone = session.execute(
        delete(EcgReport).where(
            EcgReport.id.in_(report_ids), EcgReport.status == ReportStatus.PRELIMINARY
        )
    )
    if gone.rowcount != len(report_ids):  # type: ignore[attr-defined]
        raise InvalidInput({change.field: _signed_refusal(before, change)})
    return report_ids


# Folders kept by this transaction: gone again unless it commits (no orphan files).
_KEPT_UNCOMMITTED = "recordings_kept_uncommitted"


@event.listens_for(Session, "after_commit")
def _kept_for_good(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_KEPT_UNCOMMITTED, None)


@event.listens_for(Session, "after_transaction_end")
def _remove_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back, or closed without a commit
        kept = session.info.pop(_KEPT_UNCOMMITTED, [])
        if commit_answer_lost(session):
            return  # the rows may be committed: their files stay (an orphan folder at worst)
        for storage_dir, sha256 in kept:
            if not _stored_by_another_request(session, sha256):
                storage.remove_kept(storage_dir, sha256)


def _stored_by_another_request(
    session: Session, sha256: str, patient_id: int | None = None
) -> bool:
    """Whether a committed recording (of `patient_id`, or of anyone) holds this content, read
    on a connection of its own (this session's transaction may have failed). Two uploads of
    one file at the same moment: the one that kept the folder lost the insert, and its
    rollback had removed the folder the other's committed recording reads (its ECG gone, its
    job failing on every retry; a concurrency audit). Unknown (the database unreachable):
    False, as before."""
    where = [EcgRecording.sha256 == sha256]
    if patient_id is not None:
        where.append(EcgRecording.patient_id == patient_id)
    try:
        with session.get_bind().engine.connect() as connection:
            count = connection.scalar(select(func.count()).select_from(EcgRecording).where(*where))
    except SQLAlchemyError:
        return False
    return bool(count)


def recording_files(storage_dir: Path, recording: EcgRecording) -> list[Path]:
    return storage.stored_files(storage_dir, recording.sha256)


def load(storage_dir: Path, recording: EcgRecording) -> Recording:
    """The stored recording, read again for analysis with the options given at upload."""
    csv = recording.file_format is RecordingFormat.CSV
    return read_recording(
        recording_files(storage_dir, recording),
        fs_hz=recording.sampling_rate_hz if csv else None,
        units=recording.declared_units,
        stored_as=storage.disk_name,
    )


def open_for_analysis(storage_dir: Path, recording: EcgRecording) -> Recording | RecordingSource:
    """As `load`, except that a long WFDB recording stays in its files and is read chunk by
    chunk by the analysis (`ml.chunked`: a 24-hour Holter in bounded memory)."""
    csv = recording.file_format is RecordingFormat.CSV
    return open_recording(
        recording_files(storage_dir, recording),
        fs_hz=recording.sampling_rate_hz if csv else None,
        units=recording.declared_units,
        stored_as=storage.disk_name,
    )


def pacemaker_noted_before(session: Session, patient_id: int) -> bool:
    """Whether the patient's most recent own recording (not a reference-library record) had
    the pacemaker flag: the upload form then starts with it ticked (staff can untick it)."""
    latest = session.scalar(
        select(EcgRecording.pacemaker)
        .where(EcgRecording.patient_id == patient_id, ~EcgRecording.is_reference)
        .order_by(EcgRecording.created_at.desc(), EcgRecording.id.desc())
        .limit(1)
    )
    return bool(latest)


def for_patient(session: Session, patient_id: int) -> list[EcgRecording]:
    """The patient's recordings, newest first (with their jobs and reports)."""
    return list(
        session.scalars(
            select(EcgRecording)
            .where(EcgRecording.patient_id == patient_id)
            .order_by(EcgRecording.created_at.desc(), EcgRecording.id.desc())
        )
    )
