"""The PDFs of a report version: built from the stored version, rendered once, kept by SHA-256.

A document is rendered when a version is signed (or on first download) and stored under
STORAGE_DIR/documents/; later downloads serve the stored file. A new signed version gets new
documents; old versions keep theirs. When the storage is full, or cannot be written (read-only,
not the portal's to write), nothing is stored or changed: a download answers 503
(`DocumentNotStored`) and the worker tries again a minute later.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Collection
from pathlib import Path
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from ml import rhythm, vocabulary
from ml.findings import AF_PR_REASON, DISSOCIATION_PR_REASON
from ml.wenckebach import PR_REASON as MOBITZ_I_PR_REASON
from portal import ecg_data
from portal.config import Settings
from portal.finding_stops import EPISODE_CODES
from portal.local_time import in_zone
from portal.models import (
    PATIENT_RISK_CHARS,
    Account,
    DocumentKind,
    EcgReport,
    Patient,
    ReportDocument,
    ReportStatus,
    ReportVersion,
    VersionKind,
    utcnow,
)
from portal.risk_words import band_text, input_text, percent_text, score_points
from portal.services import audit
from portal.services.errors import (
    DomainError,
    NotSignedYet,
    RecordingFilesMissing,
    ReportWithdrawn,
)
from portal.services.machine_read import machine_read, machine_summary, vf_waves_of
from portal.services.reference import reference_marker
from portal.services.reports import STATEMENTS, as_shown, shown_to_patient
from portal.services.risk_scores import SPEC_BY_MODEL, stale_reason
from portal.storage import StorageNotWritable, StorageUnavailable, write_private_file
from reports.data import DOCTOR_CLEARED, Read, ReportData, Score
from reports.render import render_pdf
from reports.strips import report_strips

log = logging.getLogger(__name__)
STORAGE_FULL_RETRY_SECONDS = 60.0  # the worker's next try at PDFs after a full disk
_storage_full_until: dict[Path, float] = {}  # storage_dir -> monotonic() of the next try


class DocumentNotStored(DomainError):
    """The PDF was rendered but the storage is full: nothing was stored, the report is as it
    was (the error handler rolls the session back)."""

    status = 503
    default_message = (
        "The server's storage is full, so the PDF could not be kept. The report is unchanged; "
        "try again later, and tell the IT team."
    )
    not_writable_message = (
        "The server's storage cannot be written, so the PDF could not be kept. The report is "
        "unchanged; tell the IT team."
    )


# What a version measures (its `report_version` columns), and the machine's interval for each.
MEASUREMENTS = ("heart_rate_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms",
                "qtc_fridericia_ms", "qrs_axis_deg")  # fmt: skip
INTERVAL_OF = {"pr_ms": "pr", "qrs_ms": "qrs", "qt_ms": "qt", "qtc_bazett_ms": "qt",
               "qtc_fridericia_ms": "qt", "heart_rate_bpm": "heart_rate",
               "qrs_axis_deg": "axis"}  # fmt: skip


def scores_of(report: EcgReport, zone: ZoneInfo) -> list[Score]:
    """The report's risk scores as the PDFs print them: a GRACE score by its points and
    their band, its percentage with its source (`risk_words.band_text`)."""
    return [
        Score(
            title=SPEC_BY_MODEL[row.model].title,
            predicts=_predicts(row.model.value),
            risk_percent=row.value,
            category=band_text(row.model, score_points(row), row.category),
            points=score_points(row),
            percent_words=""
            if row.value is None
            else percent_text(row.model, row.value, score_points(row)),
            inputs={  # in words, with units and clinical precision, and when measured
                k: input_text(k, v) + _recorded_words(k, row.inputs_used, zone)
                for k, v in (row.inputs_used or {}).items()
                if k != "sources"
            },
            not_computed_reason=row.not_computed_reason,
            model=row.model.value,
            stale_reason=stale_reason(row, report.patient, report.report_date),
            measured_on=_measured_on(row.inputs_used, zone),
        )
        for row in sorted(report.risk_scores, key=lambda r: r.model.value)
    ]


def patient_risk_words(report: EcgReport) -> str | None:
    """The risk figure a patient's summary gives now, in its words, without the dates of the
    measurements (stored with each signed version: `ReportVersion.patient_risk`)."""
    from reports.plain_language import patient_risk

    undated = [dataclasses.replace(s, measured_on=None) for s in scores_of(report, ZoneInfo("UTC"))]
    said = patient_risk(undated)
    return None if said is None else f"{said[0]}: {said[1]}"[:PATIENT_RISK_CHARS]


def document_path(storage_dir: Path, sha256: str) -> Path:
    return storage_dir / "documents" / sha256[:2] / f"{sha256}.pdf"


def _read(
    version: ReportVersion, author: Account | None, zone: ZoneInfo, shown: bool = True
) -> Read:
    return Read(
        version_no=version.version_no,
        kind=version.kind.value,
        rhythm=version.rhythm_label or "",
        findings=list(version.findings or []),
        conclusion=version.conclusion or "",
        patient_comment=version.patient_comment or "",
        next_steps=list(version.next_steps or []),
        next_steps_note=version.next_steps_note or "",
        signed_by=author.display_name if author else None,
        signed_at=in_zone(version.signed_at, zone) if version.signed_at else None,
        reason=version.amendment_reason,
        shown_to_patient=shown,
        heart_rate_bpm=version.heart_rate_bpm,
        patient_risk=version.patient_risk,
    )


def _recorded_words(name: str, inputs_used: dict[str, Any] | None, zone: ZoneInfo) -> str:
    """ " (recorded 2026-12-01)" (the hospital's day) or " (from the ECG)" after an input the
    score used, as the risk page says it: the clinician PDF gave no date for inputs up to 12
    months old (a risk audit). Its source is keyed by the model's keyword ("total_chol")."""
    sources = (inputs_used or {}).get("sources") or {}
    source = sources.get(name) or sources.get(name.removesuffix("_mg_dl"))
    if not source or not source.get("recorded_at"):
        return ""
    if source.get("from") == "ECG":
        return " (from the ECG)"
    recorded = in_zone(dt.datetime.fromisoformat(source["recorded_at"]), zone)
    return f" (recorded {recorded:%Y-%m-%d})"


def _measured_on(
    inputs_used: dict[str, Any] | None, zone: ZoneInfo
) -> tuple[dt.date, dt.date] | None:
    """The first and last day (the hospital's) of the clinical inputs a score used."""
    sources = (inputs_used or {}).get("sources") or {}
    days = sorted(
        in_zone(dt.datetime.fromisoformat(source["recorded_at"]), zone).date()
        for source in sources.values()
        if source.get("from") == "clinical input" and source.get("recorded_at")
    )
    return (days[0], days[-1]) if days else None


def age_at(patient: Patient, day: dt.date) -> int | None:
    """The patient's age on the recording's date; None (no age printed) for a date before
    their birth: an anonymised EDF's placeholder date had printed "2000-05-05 (age -16)"."""
    age = patient.age_years(day)
    return age if age >= 0 else None


def report_data(
    session: Session,
    report: EcgReport,
    version: ReportVersion,
    settings: Settings,
    *,
    with_strips: bool = True,
) -> ReportData:
    """Everything the PDFs show, as of `version` (later versions are left out). The strips
    (which read the whole recording) are only drawn when asked for: the clinician report."""
    versions = [v for v in report.versions if v.version_no <= version.version_no]
    machine = versions[0]
    analysis = machine_read(report)
    zone = settings.zone  # reports/ prints times as given: aware, in the hospital's zone
    authors: dict[int | None, Account | None] = {
        v.author_id: session.get(Account, v.author_id) for v in versions if v.author_id is not None
    }
    physician = next((v for v in versions if v.kind is VersionKind.PHYSICIAN), None)
    amendments = [v for v in versions if v.kind is VersionKind.AMENDMENT]
    flagged = analysis.flagged_segments
    now = utcnow()

    def shown(v: ReportVersion) -> bool:
        return shown_to_patient(report, v, now)

    scores = scores_of(report, zone)
    patient = report.patient
    return ReportData(
        institution=settings.institution_name,
        clinic_contact=settings.clinic_contact,
        emergency_number=settings.emergency_number,
        report_id=report.id,
        version_no=version.version_no,
        status=status_of(report, version),
        risk_at_signature=_risk_at_signature(report, version),
        generated_at=in_zone(utcnow(), zone),
        patient_name=patient.full_name,
        mrn=patient.mrn,
        date_of_birth=patient.date_of_birth,
        sex=patient.sex.value if hasattr(patient.sex, "value") else str(patient.sex),
        age_years=age_at(patient, in_zone(report.report_date, zone).date()),
        recorded_at=in_zone(report.report_date, zone),
        recorded_label="Recorded" if report.recording.acquired_at else "Uploaded",
        duration_s=report.reading_duration_s,
        leads=list(report.recording.lead_names),
        sampling_rate_hz=report.reading_hz,
        source_file=report.recording.original_filename,
        # As signed: the doctor may have corrected the machine's, or cleared one.
        measurements={name: getattr(version, name) for name in MEASUREMENTS},
        machine=_read(machine, None, zone),
        physician=_read(physician, authors.get(physician.author_id), zone, shown(physician))
        if physician
        else None,
        amendments=[_read(a, authors.get(a.author_id), zone, shown(a)) for a in amendments],
        findings=list(analysis.findings),
        episodes=list(analysis.episodes),
        holter=analysis.holter,
        withdrawn_episodes=withdrawn_episodes(version),
        not_measurable=_not_measurable(
            machine,
            version,
            {
                **analysis.intervals.not_measurable,
                "heart_rate": analysis.heart_rate.rate_reason or "",
            },
        ),
        interval_confidence=signed_confidence(
            machine, version, dict(analysis.intervals.confidence)
        ),
        beat_counts=dict(machine.beat_counts or {}),
        vf_waves=vf_waves_of(analysis),
        class_probabilities=dict(machine.class_probabilities or {}),
        quality_words=analysis.quality_words,
        machine_notes=list(analysis.notes),
        quality_notes=[f"{len(flagged)} segment(s) flagged as noisy or unusable."]
        if flagged
        else [],
        scores=scores,
        strips=report_strips(
            ecg_data.recording_for(settings.storage_dir, report),
            analysis,
            withdrawn_episodes(version),
            in_zone(acquired, zone) if (acquired := report.recording.acquired_at) else None,
        )
        if with_strips
        else [],
        model_version=machine.model_version or "",
        statement_labels=dict(STATEMENTS),
        reference_marker=reference_marker(report.recording),
        pacemaker=report.recording.pacemaker,
    )


STATUS_OF_KIND = {
    VersionKind.MACHINE: ReportStatus.PRELIMINARY,
    VersionKind.PHYSICIAN: ReportStatus.FINAL,
    VersionKind.AMENDMENT: ReportStatus.AMENDED,
}


def _risk_at_signature(report: EcgReport, version: ReportVersion) -> str | None:
    """The risk figure a superseded version's summary gave: the scores are recomputed in place
    at every signature, and a review found version 2's summary, issued again after its file
    was lost, printing version 3's "About 29 of 100" where it had said 57."""
    latest = max(v.version_no for v in report.versions)
    return version.patient_risk if version.version_no != latest else None


def status_of(report: EcgReport, version: ReportVersion) -> str:
    """The status a version's documents print: the report's for its latest version; for an
    earlier one (rendered again when its stored file is lost), the status it had and what
    superseded it. Every version had printed the report's current status: a re-rendered
    version 2 read "amended" (a records audit)."""
    latest = max(v.version_no for v in report.versions)
    if version.version_no == latest:
        return report.status.value
    return f"{STATUS_OF_KIND[version.kind].value}, superseded by version {latest}"


def withdrawn_episodes(version: ReportVersion) -> frozenset[str]:
    """The episode labels whose statement a signed `version` does not carry (none for the
    machine's own read): their strips, table rows and "Next finding" stops are the machine's
    call, not the doctor's. The stretches of sinus rhythm, brady- or tachycardia name one
    rhythm by its rate: any of the three signed covers them all, and none signed withdraws
    them (an atrial flutter signed as such had kept "Sinus tachycardia 1.1-28.7 s" unmarked
    in its signed PDF; a clinician audit)."""
    if version.kind is VersionKind.MACHINE:
        return frozenset()
    signed = {vocabulary.canonical(c) for c in version.findings or []}
    withdrawn = {label for label, code in EPISODE_CODES.items() if code not in signed}
    sinus = set(rhythm.SINUS_RATES)
    return frozenset(withdrawn - sinus if signed & SINUS_CODES else withdrawn | sinus)


SINUS_CODES = frozenset({"SINUS", "BRADY", "TACHY"})  # sinus rhythm, by its rate or not


def withdrawn_findings(version: ReportVersion | None, codes: list[str]) -> frozenset[str]:
    """Which of the machine's finding `codes` a signed `version` does not carry, by the rule of
    `withdrawn_episodes` (sinus by any rate covers all three): the review page's "Findings"
    box had listed "high Ventricular tachycardia" unmarked after an amendment withdrew it as
    artefact, while its episode table said "the machine's call, not in the signed read" (a
    corrections audit, 2026-12-07)."""
    if version is None or version.kind is VersionKind.MACHINE:
        return frozenset()
    signed = {vocabulary.canonical(c) for c in version.findings or []}
    covered = signed | SINUS_CODES if signed & SINUS_CODES else signed
    # The finding "No significant arrhythmia" (NORMAL) is not the statement "Normal ECG",
    # which the sign form leaves out beside sinus bradycardia: it is withdrawn only by a
    # statement of something the machine did not find (a review: a strip signed as prefilled,
    # "Sinus bradycardia", had it marked the machine's call the doctor left out).
    found = {vocabulary.canonical(c) for c in codes}
    if not signed - found - BENIGN_CODES:
        covered = covered | {"NORMAL"}
    return frozenset(code for code in codes if vocabulary.canonical(code) not in covered)


# Statements that say nothing abnormal was seen (`plain_language.SLOW_MAY_BE_FIT`'s, with
# sinus tachycardia).
BENIGN_CODES = frozenset({"SINUS", "BRADY", "TACHY", "NORMAL", "ARTIFACT"})


def signed_confidence(
    machine: ReportVersion, version: ReportVersion, confidence: dict[str, str]
) -> dict[str, str]:
    """The machine's confidence in each interval, kept only where `version` shows the
    machine's own measured value (as the form showed it, rounded): a value the doctor measured is
    theirs, and the PDF had marked a QT remeasured by hand with calipers "low confidence"
    (found by a clinician-eye audit)."""
    if version.kind is VersionKind.MACHINE:
        return confidence
    kept = {}
    for interval, level in confidence.items():
        # The interval's measured column (PR, QRS, QT; its QTc are computed from the QT):
        # a QT kept while the doctor changed the rate keeps its doubt, and so do the QTc
        # computed from it (a review: both had lost it when only the rate changed).
        measured = next(name for name, of in INTERVAL_OF.items() if of == interval)
        if as_shown(getattr(version, measured), getattr(machine, measured)):
            kept[interval] = level
    return kept


def low_confidence_values(report: EcgReport, version: ReportVersion) -> list[str]:
    """The measurements of `version` that are the machine's own values of low confidence
    (`signed_confidence`), by column name: the review page's signed column, REST and FHIR
    say it as the clinician PDF does. A browser audit: the PDF said "PR 219 ms low
    confidence" while the page, REST and FHIR gave a clean PR of 219 ms, above 200."""
    return _low_in(report.versions[0], version, _machine_confidence(report))


def low_confidence_by_version(report: EcgReport) -> dict[int, list[str]]:
    """`low_confidence_values` of every signed version (the review page's "Reads" list),
    reading the machine's stored read once."""
    confidence = _machine_confidence(report)
    machine, *signed = report.versions
    return {version.id: _low_in(machine, version, confidence) for version in signed}


def _machine_confidence(report: EcgReport) -> dict[str, str]:
    return dict(machine_summary(report).intervals.confidence)  # no beats: pages need none


def _low_in(
    machine: ReportVersion, version: ReportVersion, confidence: dict[str, str]
) -> list[str]:
    kept = signed_confidence(machine, version, confidence)
    return [
        name
        for name, interval in INTERVAL_OF.items()
        if kept.get(interval) == "low" and getattr(version, name) is not None
    ]


def _not_measurable(
    machine: ReportVersion, version: ReportVersion, machine_reasons: dict[str, str]
) -> dict[str, str]:
    """Why each measurement `version` leaves empty is not measurable: the doctor cleared the
    machine's value, or the machine's own reason. A signed version's empty value always says
    "not measurable" (empty is how the doctor says it); the machine read's says it only with
    a reason (older reads give none)."""
    signed = version.kind is not VersionKind.MACHINE
    codes = {vocabulary.canonical(c) for c in version.findings or []}
    reasons = {}
    for name in MEASUREMENTS:
        if getattr(version, name) is not None:
            continue
        machine_reason = machine_reasons.get(INTERVAL_OF.get(name, ""), "")
        if signed and RHYTHM_OF_REASON.get(machine_reason, "") not in {"", *codes}:
            machine_reason = ""  # a reason naming a rhythm this read does not sign
        if signed and getattr(machine, name) is not None:
            reasons[name] = DOCTOR_CLEARED
        elif signed or machine_reason:
            reasons[name] = machine_reason
    return reasons


# Machine reasons for an empty PR that name a rhythm, and that rhythm's statement: a trigeminy
# signed as "Not atrial fibrillation" printed "PR not measurable (no P waves in atrial
# fibrillation/flutter to measure it from)" in its signed PDF (a clinician audit, 2026-12-07).
RHYTHM_OF_REASON = {
    AF_PR_REASON: "AF",
    DISSOCIATION_PR_REASON: "AV_BLOCK_3",
    MOBITZ_I_PR_REASON: "AV_BLOCK_2",
}


def _predicts(model: str) -> str:
    from portal import risk

    return {
        "framingham_general_cvd": risk.framingham.PREDICTS,
        "framingham_general_cvd_bmi": risk.framingham.PREDICTS,
        "framingham_hard_chd_atp3": risk.atp3.PREDICTS,
        "grace_in_hospital": "death in hospital after an acute coronary syndrome",
        "grace_six_month": "death within 6 months after discharge",
    }[model]


def ensure_document(
    session: Session, report: EcgReport, version: ReportVersion, kind: DocumentKind,
    settings: Settings,
) -> tuple[ReportDocument, Path]:  # fmt: skip
    """The stored PDF of `version` as `kind`, rendering and storing it the first time.
    DocumentNotStored (503) when the storage is full or cannot be written: no file, no row.
    A stored file that is missing, or whose bytes no longer match the SHA-256 it was issued
    with, is never served: the PDF is issued again from the signed report, saying so at its
    top, and audited (`document.reissued`, with both hashes). An ops audit: a file lost in a
    restore was re-rendered silently with other machine notes under the same "version 2
    (final)", the issued document's hash overwritten; an altered file was served as it stood.
    ReportWithdrawn (410) for a report withdrawn as entered in error: printed, it would pass
    for a report of the patient's ECG. RecordingFilesMissing (410) for a clinician PDF whose
    recording's files are lost: it is not issued without its strips (a blank strip had been
    a 500); the patient PDF, which has none, is. NotSignedYet (409) for a patient summary of
    an unsigned version: it says a doctor checked and signed it (`cardio render-report
    --kind patient` had written one of a preliminary report; an operations audit)."""
    if report.status is ReportStatus.ENTERED_IN_ERROR:
        raise ReportWithdrawn()
    if kind is DocumentKind.PATIENT and version.signed_at is None:
        raise NotSignedYet()
    existing = session.scalar(
        select(ReportDocument).where(
            ReportDocument.report_version_id == version.id, ReportDocument.kind == kind
        )
    )
    problem = None
    if existing is not None:
        path = document_path(settings.storage_dir, existing.sha256)
        problem = stored_problem(path, existing.sha256)
        if problem is None:
            return existing, path
    data = report_data(
        session, report, version, settings, with_strips=kind is DocumentKind.CLINICIAN
    )
    if existing is not None and problem is not None:
        data = dataclasses.replace(data, reissued=reissue_note(existing.sha256, problem))
    pdf = render_pdf(kind.value, data, page_size=settings.page_size)
    sha = hashlib.sha256(pdf).hexdigest()
    path = document_path(settings.storage_dir, sha)
    try:
        write_private_file(settings.storage_dir, path, pdf)  # 0600 in 0700 folders
    except StorageUnavailable as unavailable:  # logged by storage; no temporary file is left
        if isinstance(unavailable, StorageNotWritable):  # an operations audit: a bare 500
            raise DocumentNotStored(DocumentNotStored.not_writable_message) from None
        raise DocumentNotStored() from None
    if existing is None:
        return _stored_once(session, version, kind, settings, sha, len(pdf))
    # The row names the file that exists now (it kept the lost one's SHA, so every download
    # rendered it once more); the audit keeps the first issue's.
    log.warning("report %s: the %s PDF was %s and was issued again", report.id, kind, problem)
    audit.record(
        session, "document.reissued", actor=None, actor_username="system",
        patient_id=report.patient_id, object_type="report_document", object_id=existing.id,
        details={"kind": kind.value, "version": version.version_no, "reason": problem,
                 "was_sha256": existing.sha256, "sha256": sha},
    )  # fmt: skip
    existing.sha256, existing.size_bytes = sha, len(pdf)
    session.flush()
    return existing, path


def stored_problem(path: Path, sha256: str) -> str | None:
    """Why the stored file cannot be served as the document issued: None when its bytes are
    the ones issued."""
    if not path.is_file():
        return "missing"
    if hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
        return "altered or damaged"
    return None


def reissue_note(sha256: str, problem: str) -> str:
    """The line a re-issued PDF opens with."""
    return (
        f"Issued again on {utcnow():%Y-%m-%d %H:%M} UTC: the PDF first issued for this version "
        f"(SHA-256 {sha256[:16]}...) was {problem} in the portal's storage. This copy is "
        "rendered again from the signed report; its layout and machine notes may differ."
    )


def _stored_once(
    session: Session, version: ReportVersion, kind: DocumentKind, settings: Settings,
    sha: str, size_bytes: int,
) -> tuple[ReportDocument, Path]:  # fmt: skip
    """The document row of `version` as `kind`, inserted unless another request or the worker
    stored one at the same moment (a download right after signing renders while the worker
    does: the second INSERT had failed the unique key and answered 500, and the worker gave
    the version up). The winner's row and file stand; this render's file goes unless a row
    names it."""
    values = dict(
        report_version_id=version.id, kind=kind, sha256=sha, size_bytes=size_bytes,
        page_size=settings.page_size,
    )  # fmt: skip
    if session.get_bind().dialect.name == "sqlite":
        statement: Any = sqlite_insert(ReportDocument).values(values).on_conflict_do_nothing()
    else:  # MariaDB/MySQL: a no-op update of the row already there
        statement = mysql_insert(ReportDocument).values(values)
        statement = statement.on_duplicate_key_update(kind=statement.inserted.kind)
    session.execute(statement)
    # A locking read: MariaDB's consistent read would show this transaction's older snapshot,
    # without the row another request committed since.
    stored = session.scalars(
        select(ReportDocument)
        .where(ReportDocument.report_version_id == version.id, ReportDocument.kind == kind)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).one()
    if stored.sha256 != sha:
        log.info("report version %s: the %s PDF was stored by another request", version.id, kind)
        named = session.scalar(select(ReportDocument.id).where(ReportDocument.sha256 == sha))
        if named is None:
            document_path(settings.storage_dir, sha).unlink(missing_ok=True)
    return stored, document_path(settings.storage_dir, stored.sha256)


def readiness(session: Session, report: EcgReport) -> dict[str, bool]:
    """Per kind of PDF, whether the latest version's is stored (True) or still to be
    rendered by the worker (False; a download then renders it while the user waits). None is
    ready for a report withdrawn as entered in error: it has no PDF (410, `ReportWithdrawn`),
    where its stored ones had been said ready (an audit, 2026-12-07)."""
    if report.status is ReportStatus.ENTERED_IN_ERROR:
        return dict.fromkeys((kind.value for kind in DocumentKind), False)
    version = latest_version(report)
    stored = set(
        session.scalars(
            select(ReportDocument.kind).where(ReportDocument.report_version_id == version.id)
        )
    )
    return {kind.value: kind in stored for kind in DocumentKind}


def latest_version(report: EcgReport) -> ReportVersion:
    return report.versions[-1]


def pending_versions(
    session: Session, limit: int | None = 10, skip: Collection[int] = ()
) -> list[ReportVersion]:
    """The newest signed version of each signed report that has no stored PDF yet: signing
    leaves rendering to the job worker, so a signature returns at once. A version replaced
    by an amendment before its PDFs were made is left out in the query, before the limit:
    ten of them at the front had blocked the queue for every report (`_is_latest`); so are
    the versions in `skip` (failed before in this worker), which would block it alike."""
    return list(
        session.scalars(
            select(ReportVersion)
            .join(EcgReport, ReportVersion.report_id == EcgReport.id)
            .where(*_pending(), *([ReportVersion.id.not_in(skip)] if skip else []))
            .order_by(ReportVersion.id)
            .limit(limit)
        )
    )


def pending_figures(session: Session) -> tuple[int, dt.datetime | None]:
    """How many signed versions wait for their PDFs (`pending_versions`, signed_at known) and
    when the oldest was signed, in one query: `/health` had loaded every pending version and
    its report's versions, and did not answer in 10 min on 46,000 (a load audit)."""
    waiting, oldest = session.execute(
        select(func.count(ReportVersion.signed_at), func.min(ReportVersion.signed_at))
        .join(EcgReport, ReportVersion.report_id == EcgReport.id)
        .where(*_pending())
    ).one()
    return int(waiting or 0), oldest


def _pending() -> tuple[ColumnElement[bool], ...]:
    """A version waits for its PDFs: its report is signed, it is the report's newest signed
    version, and some kind of its PDFs is not stored."""
    complete = (  # versions with every kind of PDF stored
        select(ReportDocument.report_version_id)
        .group_by(ReportDocument.report_version_id)
        .having(func.count(ReportDocument.id) >= len(DocumentKind))
    )
    return (
        EcgReport.status.in_([ReportStatus.FINAL, ReportStatus.AMENDED]),
        ReportVersion.kind != VersionKind.MACHINE,
        _is_latest(),
        ReportVersion.id.not_in(complete),
    )


def _is_latest() -> ColumnElement[bool]:
    """No later version of the same report exists (the report's `versions[-1]`)."""
    later = aliased(ReportVersion)
    return ~exists().where(
        later.report_id == ReportVersion.report_id, later.version_no > ReportVersion.version_no
    )


def render_pending(session: Session, settings: Settings, skip: set[int]) -> int:
    """Render and store both PDFs of the pending versions (`pending_versions`), committing
    each; versions in `skip` (failed before in this process) are left alone. How many.

    A full storage disk is not the version's fault: it is not skipped, rendering stops for
    STORAGE_FULL_RETRY_SECONDS (not a render a second while the disk stays full) and the
    pending versions are tried again after that."""
    done = 0
    if monotonic() < _storage_full_until.get(settings.storage_dir, 0.0):
        return done
    for version in pending_versions(session, skip=skip):
        try:
            for kind in DocumentKind:
                ensure_document(session, version.report, version, kind, settings)
            session.commit()
            done += 1
        except DocumentNotStored as not_stored:
            session.rollback()
            _storage_full_until[settings.storage_dir] = monotonic() + STORAGE_FULL_RETRY_SECONDS
            why = "is full" if "is full" in not_stored.message else "cannot be written"
            log.warning(
                "the storage %s: the PDFs of report version %s were not stored; trying "
                "again in %.0f s", why, version.id, STORAGE_FULL_RETRY_SECONDS,
            )  # fmt: skip
            break
        except RecordingFilesMissing:  # logged in a line by ecg_data; no strips, no PDF
            session.rollback()
            skip.add(version.id)
        except Exception:  # logged once; the download renders it on demand meanwhile
            session.rollback()
            skip.add(version.id)
            log.exception("rendering the PDFs of report version %s failed", version.id)
    return done
