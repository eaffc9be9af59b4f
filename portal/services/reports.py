"""Reports: who may see which, the doctor's worklist, signing and amending.

The machine read (version 1) is never changed. Signing adds a physician version and makes the
report final; an amendment adds another version with a reason. Two doctors signing at once:
the report row's optimistic lock lets one win and the other gets `SigningConflict`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Select, Table, and_, or_, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ml import vocabulary
from ml.strip_rhythm import STRIP_MAX_S
from portal import tasks
from portal.db import lock_row
from portal.local_time import UTC_ZONE, day_start_utc, hospital_zone, shown
from portal.models import (
    RHYTHM_LABEL_CHARS,
    Account,
    AuditEvent,
    EcgRecording,
    EcgReport,
    Patient,
    ReportStatus,
    ReportVersion,
    RiskScore,
    Role,
    VersionKind,
    WithdrawnKind,
    utcnow,
)
from portal.risk.result import RiskLevel
from portal.services import audit, risk_scores
from portal.services.accounts import check_own_password
from portal.services.errors import AccountDeactivated, NotAllowed, SigningConflict
from portal.services.machine_read import machine_asks_for_a_repeat, machine_summary
from portal.services.paging import capped_counts, page_count
from portal.services.patients import mine_or_pooled
from portal.services.risk_scores import stale_reason
from portal.services.validation import InvalidInput, text_problem
from reports import plain_language
from reports.next_steps import FOLLOW_UP_TIMES, NEXT_STEPS

# Coded statements a doctor can choose (the machine's codes are a subset): `ml.vocabulary`.
STATEMENTS: dict[str, str] = {code: s.label for code, s in vocabulary.STATEMENTS.items()}
# Emergencies first, in the vocabulary's order of severity: an acute ST elevation or a complete
# heart block had ranked "High", below a rate-controlled AF at 85 bpm (a 12-lead audit).
EMERGENCY_CODES = ("VT", "VF", "ST_ELEVATION", "AV_BLOCK_3")
URGENT_CODES = {**dict.fromkeys(EMERGENCY_CODES, 0), "AF": 1, "PAUSE": 2}
HIGH_URGENCY, MEDIUM_URGENCY, ROUTINE = 3, 4, 5
# A report withdrawn as entered in error (`services.entered_in_error`) is no true record of
# this patient's ECG: it ranks after every other, in the worklist's own index order. Its signed
# ST elevation had topped the doctor's "all" list as an emergency (an audit, 2026-12-07).
WITHDRAWN_URGENCY = 6


def urgency_of(
    findings: list[tuple[str, str]], scores: list[RiskScore], *, repeat_ecg: bool = False
) -> int:
    """0 most urgent: an emergency (VT, VF, ST elevation, complete heart block), then AF,
    pauses, other high findings, medium findings or a high risk score, routine. A finding
    ranks by its code only at high risk: the machine grades some by their measure (a pause
    under 3 s, a run of 3-4 ventricular beats: medium), and the worklist follows. A high
    risk score lifts a report to medium and is flagged on the worklist (`high_risk_scores`),
    but never outranks an arrhythmia on the ECG itself. A read asking for the ECG to be
    repeated (`repeat_ecg`: arm electrodes that look swapped) is medium at least, whatever
    its findings, while the patient may still be in the department (a sinus tachycardia with
    swapped arms had ranked routine, a review)."""
    ranks = [
        URGENT_CODES[code] for code, risk in findings if code in URGENT_CODES and risk == "high"
    ]
    if any(risk == "high" for _, risk in findings):
        ranks.append(HIGH_URGENCY)
    if any(risk == "medium" for _, risk in findings) or any(_is_high(s) for s in scores):
        ranks.append(MEDIUM_URGENCY)
    if repeat_ecg:
        ranks.append(MEDIUM_URGENCY)
    return min(ranks, default=ROUTINE)


def worklist_scores(
    report: EcgReport, scores: Iterable[RiskScore] | None = None
) -> list[RiskScore]:
    """The risk scores that may lift and flag a report on the worklist (`scores`, default
    the report's): none for a reference record, which is not this patient's ECG (MIT-BIH 119
    attached to a patient was flagged "high risk score" from her Framingham score; an
    audit), nor for a report withdrawn as entered in error, no true record of it either (its
    "high risk score" flag had stayed on the worklist, an audit, 2026-12-07)."""
    if report.status is ReportStatus.ENTERED_IN_ERROR or report.recording.is_reference:
        return []
    given = list(report.risk_scores if scores is None else scores)
    if report.patient is None:
        return given
    # A score computed for an age or sex since corrected flags nothing (a records audit).
    return [s for s in given if stale_reason(s, report.patient, report.report_date) is None]


def high_risk_scores(report: EcgReport) -> list[str]:
    """The report's risk models with a high category, in words (the worklist's flag)."""
    from portal.risk_words import model_title

    return [model_title(s.model) for s in worklist_scores(report) if _is_high(s)]


URGENCY_NAMES = ("Emergency", "AF", "Pause", "High", "Medium", "Routine", "Withdrawn")
WITHDRAWN_REASON = "withdrawn (entered in error)"


def main_finding_label(report: EcgReport) -> str | None:
    """The main finding in words: an unsigned read in the machine's ("No significant
    arrhythmia", never a "Normal ECG" nobody signed; the worklist, its reason and the API)."""
    code = vocabulary.canonical(report.main_finding or "")
    finding = vocabulary.STATEMENTS.get(code)
    if finding is None:
        return None
    if report.status is ReportStatus.PRELIMINARY:
        return vocabulary.MACHINE_LABELS.get(code, finding.label)
    return finding.label


def urgency_reason(report: EcgReport) -> str:
    """Why the report sits where it does on the worklist, in a few words."""
    if report.status is ReportStatus.ENTERED_IN_ERROR:  # last, whatever it was signed with
        return WITHDRAWN_REASON
    finding = vocabulary.STATEMENTS.get(vocabulary.canonical(report.main_finding or ""))
    high_scores = [s for s in worklist_scores(report) if _is_high(s)]
    if finding is not None and finding.risk != "low":
        return finding.label
    repeat = (
        report.urgency == MEDIUM_URGENCY
        and report.status is ReportStatus.PRELIMINARY
        and machine_asks_for_a_repeat(report)  # read only for these few rows
    )
    if repeat:  # the arm electrodes look swapped (`urgency_of`): said whatever else ranks it
        said = "high risk score" if high_scores else main_finding_label(report) or "no finding"
        return f"{said}; repeat the ECG (electrodes)"
    if report.urgency == MEDIUM_URGENCY and high_scores:
        if report.status is ReportStatus.PRELIMINARY and report.main_finding == "OTHER_RHYTHM":
            # The machine reads some other rhythms at medium risk itself (AF not ruled out, no
            # P waves): "no urgent ECG finding" had stood beside cinc2017 A00015's (a review).
            return f"{main_finding_label(report)}; high risk score"
        return "high risk score; no urgent ECG finding"
    return main_finding_label(report) or "no finding"


def _is_high(score: RiskScore) -> bool:
    """A high band anywhere: GRACE's "NSTE-ACS high, STEMI intermediate" is a high-risk
    patient, and its typed level (the highest band) says so."""
    return score.level == RiskLevel.HIGH


def visible_reports(
    actor: Account, *, withdrawn_they_read: bool = False
) -> Select[tuple[EcgReport]]:
    """The reports `actor` may open; with `withdrawn_they_read`, a patient also those withdrawn
    as entered in error after they could read them (`read_before_withdrawal`: their FHIR apps
    are told of the withdrawal)."""
    if actor.role == Role.STAFF:
        return select(EcgReport)  # every report (no join: counting them reads one index)
    query = select(EcgReport).join(Patient, EcgReport.patient_id == Patient.id)
    if actor.role == Role.DOCTOR and actor.doctor_profile is not None:
        return query.where(mine_or_pooled(actor.doctor_profile.id))
    if actor.role == Role.PATIENT and actor.patient is not None:
        released = and_(
            EcgReport.status.in_([ReportStatus.FINAL, ReportStatus.AMENDED]),
            EcgReport.patient_release_at <= utcnow(),  # not held for a talk first
        )
        if withdrawn_they_read:
            released = or_(released, read_before_withdrawal())
        return own_recordings(query, actor.patient.id).where(released)
    return query.where(EcgReport.id.is_(None))


def read_before_withdrawal() -> Any:
    """SQL: the report was withdrawn as entered in error after its patient could read a signed
    version of it (`entered_in_error.ever_shown_to_patient` asked of the database): released
    before the withdrawal, or an earlier version released before the next replaced it (as
    `shown_to_patient` reads a version the next one replaced)."""
    earlier_version_released = (
        select(ReportVersion.id)
        .where(
            ReportVersion.report_id == EcgReport.id,
            ReportVersion.previous_release_at <= ReportVersion.signed_at,
        )
        .exists()
    )
    return and_(
        EcgReport.status == ReportStatus.ENTERED_IN_ERROR,
        or_(EcgReport.patient_release_at <= EcgReport.withdrawn_at, earlier_version_released),
    )


def patients_signed_reports(query: Select[Any], patient_id: int) -> Select[Any]:
    """`query` narrowed to the signed reports of the patient's own recordings (a reference
    record attached for teaching or QA is never "your test"), released or held; never one
    withdrawn as entered in error."""
    return own_recordings(query, patient_id).where(
        EcgReport.status.in_([ReportStatus.FINAL, ReportStatus.AMENDED])
    )


def own_recordings(query: Select[Any], patient_id: int) -> Select[Any]:
    """`query` narrowed to the reports of the patient's own recordings (not reference ones)."""
    return query.join(EcgRecording, EcgReport.recording_id == EcgRecording.id).where(
        EcgReport.patient_id == patient_id, ~EcgRecording.is_reference
    )


def get_visible_report(
    session: Session, actor: Account, report_id: int, *, withdrawn_they_read: bool = False
) -> EcgReport:
    query = visible_reports(actor, withdrawn_they_read=withdrawn_they_read)
    report = session.scalar(query.where(EcgReport.id == report_id))
    if report is None:
        raise NotAllowed()
    return report


@dataclass(frozen=True)
class AssignedAway:
    """Why a doctor may no longer sign a report they had open: its patient was assigned to
    `doctor_name` at `assigned_at` (UTC) since they opened it."""

    patient_name: str
    doctor_name: str
    assigned_at: dt.datetime


@dataclass(frozen=True)
class MovedAway:
    """Why a doctor may no longer sign a report they had open: its recording was moved to
    another patient's record at `moved_at` (UTC) since they opened it (who, not said)."""

    moved_at: dt.datetime


@dataclass(frozen=True)
class ReadAgainAway:
    """Why a doctor may no longer sign a report they had open: staff uploaded its recording
    again at another sampling rate or units (`now`, "250 Hz") at `read_again_at` (UTC), which
    removed this unsigned read; a new one is being made."""

    now: str
    read_again_at: dt.datetime


def assigned_away_while_reviewing(
    session: Session, actor: Account, report_id: int
) -> AssignedAway | MovedAway | ReadAgainAway | None:
    """The reassignment that took report `report_id` from a doctor who had it open (the
    pool's, or theirs), or None: a doctor pressing Sign after staff assigned the pooled
    patient to another doctor had met a bare 404, their typed read lost (a review audit,
    2026-12-07). Only when they opened it (their `report.view`) and its patient's doctor
    changed afterwards: a doctor who never could see the report learns nothing of it."""
    if actor.role is not Role.DOCTOR or actor.doctor_profile is None:
        return None
    report = session.get(EcgReport, report_id)
    if report is None:
        return _read_again_while_reviewing(session, actor, report_id)
    patient = report.patient if report is not None else None
    if report is not None and (moved := _moved_away_while_reviewing(session, actor, report)):
        return moved
    doctor = patient.assigned_doctor if patient is not None else None
    if patient is None or doctor is None or doctor is actor.doctor_profile:
        return None
    # a report moved since it was opened is `_moved_away_while_reviewing`'s case
    opened = _last_opened(session, actor, report_id, patient_id=patient.id)
    if opened is None:
        return None
    updates_since = _since_opened(session, "patient.update", patient.id, opened)
    assigned = next(
        (e for e in updates_since if "assigned_doctor_id" in (e.details or {}).get("fields", [])),
        None,
    )
    if assigned is None:
        return None
    return AssignedAway(patient.full_name, doctor.full_name, assigned.occurred_at)


def _since_opened(
    session: Session, action: str, patient_id: int | None, opened: AuditEvent
) -> Iterable[AuditEvent]:
    """The audit events `action` about the patient since the doctor's opening `opened`,
    newest first: what happened to the report while they reviewed it."""
    return session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action == action,
            AuditEvent.patient_id == patient_id,
            AuditEvent.id > opened.id,
        )
        .order_by(AuditEvent.id.desc())
    )


def _moved_away_while_reviewing(
    session: Session, actor: Account, report: EcgReport
) -> MovedAway | None:
    """The move of the report's recording to another patient after this doctor last opened
    it for the patient it was moved from, or None: the lookup of `assigned_away_while_reviewing`
    names the report's patient now, so a doctor pressing Sign after staff moved the recording
    had met a bare 404, their typed read lost (an access/write-path audit, 2026-12-07)."""
    opened = _last_opened(session, actor, report.id)
    if opened is None or opened.patient_id == report.patient_id:
        return None
    moved = session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.action == "recording.move_out",
            AuditEvent.object_type == "ecg_recording",
            AuditEvent.object_id == report.recording_id,
            AuditEvent.patient_id == opened.patient_id,
            AuditEvent.id > opened.id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return MovedAway(moved.occurred_at) if moved is not None else None


def _read_again_while_reviewing(
    session: Session, actor: Account, report_id: int
) -> ReadAgainAway | None:
    """The read-again that removed report `report_id` after this doctor last opened it, or
    None: the report is gone, so `assigned_away_while_reviewing` had found nothing and a
    doctor pressing Sign after staff uploaded the file again at 250 Hz met a bare 404, their
    typed read lost (a write-path audit, 2026-12-07)."""
    opened = _last_opened(session, actor, report_id)
    if opened is None:
        return None
    read_again = _since_opened(session, "recording.read_again", opened.patient_id, opened)
    removed = next(
        (e for e in read_again if report_id in (e.details or {}).get("removed_report_ids", [])),
        None,
    )
    if removed is None:
        return None
    return ReadAgainAway(str((removed.details or {}).get("now", "")), removed.occurred_at)


def _last_opened(
    session: Session, actor: Account, report_id: int, patient_id: int | None = None
) -> AuditEvent | None:
    """The actor's latest `report.view` of the report (under that patient, if given)."""
    query = select(AuditEvent).where(
        AuditEvent.action == "report.view",
        AuditEvent.actor_id == actor.id,
        AuditEvent.object_type == "ecg_report",
        AuditEvent.object_id == report_id,
    )
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    return session.scalar(query.order_by(AuditEvent.id.desc()).limit(1))


@dataclass(frozen=True)
class WorklistPage:
    reports: list[EcgReport]
    total: int
    page: int
    pages: int
    counts: dict[str, int]


# The worklist's filter of reports held from the patient (`patient_release_at`): the doctor's
# list of patients to talk with before their result is released (an audit of the hold).
HELD = "held"


def worklist(
    session: Session,
    actor: Account,
    *,
    status: str = "preliminary",
    finding: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    dates: str = "recorded",
    page: int = 1,
    per_page: int = 25,
    zone: ZoneInfo | None = None,
) -> WorklistPage:
    """Reports for this account's patients, most urgent first, then oldest first; the days
    are those of the recording, or with `dates="signed"` of the signature (a hand-over: what
    was signed overnight, and by whom, the rows say).

    A fixed number of queries whatever the page shows: the counts, the page's reports, then
    what the rows show of their patients, recordings, versions and risk scores, one query
    each (never the versions' analysis or beats)."""
    query = visible_reports(actor)
    by_status = [query.where(EcgReport.status == s) for s in ReportStatus]
    if status in {s.value for s in ReportStatus}:
        query = query.where(EcgReport.status == ReportStatus(status))
    elif status == HELD:  # signed, still waiting for a talk with the patient: a call list
        query = query.where(EcgReport.patient_release_at > utcnow())
    if finding:
        query = query.where(EcgReport.main_finding == finding)
    zone = zone or UTC_ZONE  # the days are the hospital's days
    when = EcgReport.signed_at if dates == "signed" else EcgReport.report_date
    if date_from:
        query = query.where(when >= day_start_utc(date_from, zone))
    if date_to:
        query = query.where(when < day_start_utc(date_to + dt.timedelta(days=1), zone))
    # Each counted up to paging.COUNT_CAP (short index reads, not every report), in one query.
    *status_counts, total = capped_counts(session, [*by_status, query])
    counts = {s.value: n for s, n in zip(ReportStatus, status_counts, strict=True)}
    pages = page_count(total, per_page)
    page = min(max(page, 1), pages)
    rows = session.scalars(
        query.order_by(EcgReport.urgency, EcgReport.report_date, EcgReport.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(*WORKLIST_ROW_LOADS)
    ).all()
    return WorklistPage(list(rows), total, page, pages, counts)


# What a worklist row shows, loaded for the whole page at once (`templates/review/worklist.html`).
WORKLIST_ROW_LOADS = (
    selectinload(EcgReport.patient)
    .load_only(
        Patient.full_name,
        Patient.mrn,
        Patient.date_of_birth,
        Patient.sex,
        Patient.assigned_doctor_id,
    )  # fmt: skip
    # an entry added after a score, dated before its ECG, may make it stale (`stale_reason`)
    .selectinload(Patient.clinical_inputs),
    selectinload(EcgReport.recording).load_only(
        EcgRecording.acquired_at, EcgRecording.reference_record, EcgRecording.pacemaker
    ),
    selectinload(EcgReport.versions)
    .load_only(
        ReportVersion.version_no,
        ReportVersion.kind,
        ReportVersion.conclusion,
        ReportVersion.heart_rate_bpm,
        ReportVersion.signed_at,
        ReportVersion.author_id,
    )
    .selectinload(ReportVersion.author),
    selectinload(EcgReport.risk_scores).load_only(
        RiskScore.model, RiskScore.level, RiskScore.inputs_used, RiskScore.created_at
    ),
)


@dataclass(frozen=True)
class PhysicianRead:
    rhythm_label: str
    findings: list[str]
    conclusion: str
    patient_comment: str = ""
    next_steps: tuple[str, ...] = ()  # codes of reports.next_steps.NEXT_STEPS
    next_steps_note: str = ""
    # The doctor's measurements (None: not measurable); the machine's when not given at all.
    measurements: dict[str, float | None] | None = None


def signers(session: Session, report: EcgReport) -> dict[int, str]:
    """Who signed each signed version (version id -> name), as the clinician PDF names them
    (the review page's reads had said when, not who; an audit)."""
    ids = {v.author_id for v in report.versions if v.author_id is not None}
    names = {
        a.id: a.display_name for a in session.scalars(select(Account).where(Account.id.in_(ids)))
    }
    return {v.id: names[v.author_id] for v in report.versions if v.author_id in names}


def read_as_episodes(report: EcgReport) -> bool:
    """Whether the report's recording is read as rhythm episodes (longer than a strip, a
    Holter), where AF/flutter may stand beside the underlying rhythm
    (`ml.vocabulary.contradictions`): at the length its read was made at (`reading_duration_s`:
    a CSV read again at another rate since had moved a withdrawn report's FHIR time)."""
    return report.reading_duration_s > STRIP_MAX_S


def patterns_in_part(report: EcgReport) -> bool:
    """Whether the patient reads bigeminy and trigeminy as "for part of the recording"
    (`reports.plain_language.patterns_in_part`, from the machine read's episodes on a strip),
    as their summary says them."""
    if read_as_episodes(report):
        return True
    episodes = machine_summary(report).episodes
    return plain_language.patterns_in_part(episodes, report.reading_duration_s, False)


def _check_read(read: PhysicianRead, episodes: bool, machine: ReportVersion) -> None:
    errors = {}
    unknown = [code for code in read.findings if code not in STATEMENTS]
    if unknown:
        errors["findings"] = f"Unknown statement codes: {', '.join(unknown)}."
    if not read.rhythm_label.strip():
        errors["rhythm_label"] = "State the rhythm."
    elif len(read.rhythm_label.strip()) > RHYTHM_LABEL_CHARS:
        errors["rhythm_label"] = (
            f"The rhythm line holds at most {RHYTHM_LABEL_CHARS} characters: put the rest in "
            "the conclusion."
        )
    if not read.conclusion.strip():
        errors["conclusion"] = "Write a conclusion."
    for name, text, lines in (
        ("rhythm_label", read.rhythm_label, False),
        ("conclusion", read.conclusion, True),
        ("patient_comment", read.patient_comment, True),
        ("next_steps_note", read.next_steps_note, False),
    ):
        if problem := text_problem(text, lines=lines):
            errors.setdefault(name, problem)
    problems = vocabulary.contradictions(read.findings, read.rhythm_label, episodes)
    signed = _signed_measurements(machine, read.measurements)
    problems += vocabulary.measurement_contradictions(read.findings, signed, strip=not episodes)
    if read.measurements is not None and not episodes:
        problems += _sinus_beyond_its_rates(read.findings, signed, machine)
    if not unknown and problems:
        errors["findings"] = " ".join(problems)
    if read.measurements is not None and (problem := _qt_beyond_the_beat(signed, machine)):
        errors["qt_ms"] = problem
    if read.measurements is not None and (problem := _qrs_beyond_the_qt(signed, machine)):
        errors["qrs_ms"] = problem
    if read.measurements is not None and (problem := _pr_beyond_the_beat(signed, machine)):
        errors["pr_ms"] = problem
    if strange := [c for c in read.next_steps if c not in NEXT_STEPS]:
        errors["next_steps"] = f"Unknown next steps: {', '.join(strange)}."
    elif len(FOLLOW_UP_TIMES & set(read.next_steps)) > 1:
        errors["next_steps"] = "Choose one of today, within a week or the next routine visit."
    elif problem := _routine_beside_call_today(read):
        errors["next_steps"] = problem
    if errors:
        raise InvalidInput(errors)


def _routine_beside_call_today(read: PhysicianRead) -> str | None:
    """Why "the next routine visit" cannot be signed beside VT or VF: their patient's words
    ask to call the clinic today unless the doctor has talked with them, and a VT summary
    signed with the routine step had said both on one page (a review)."""
    calling = [c for c in read.findings if c in plain_language.CALLS_TODAY]
    if "ROUTINE" not in read.next_steps or not calling:
        return None
    names = " and ".join(vocabulary.STATEMENTS[c].label for c in calling)
    return (
        f"The patient's summary of {names} asks them to call the clinic today unless you have "
        "talked with them: choose a review today or within a week, or that you discussed it "
        "with them, instead of the next routine visit."
    )


def _still_active(session: Session, actor: Account) -> None:
    """The signer's account, locked and read as committed: deactivated by an administrator
    while the request was in flight (its password check alone takes a quarter of a second),
    it had still signed (a concurrency audit). A deactivation waits for a signature that
    holds the lock, and one that came first refuses it (AccountDeactivated)."""
    lock_row(session, "account", actor.id, "failed_logins")
    active = session.scalar(select(Account.is_active).where(Account.id == actor.id))
    if not active:
        raise AccountDeactivated()


def _check_password(actor: Account, password: str) -> None:
    check_own_password(
        actor, password, field="password",
        message="That is not your password; the report was not signed.", purpose="sign",
    )  # fmt: skip


# Findings a patient must not read first alone, at home, at night: their summary waits for
# `patient_hold` after signing, unless the doctor says it was discussed with them (the next
# step DISCUSSED) or releases it sooner (`release_to_patient`). A VF result had reached the
# patient's portal the moment it was signed (an audit of the patient summaries).
HOLD_FOR_DISCUSSION = frozenset({"VF", "VT", "AV_BLOCK_3", "ST_ELEVATION"})
NO_HOLD = dt.timedelta(0)


def patient_release_at(
    read: PhysicianRead, signed_at: dt.datetime, hold: dt.timedelta
) -> dt.datetime:
    """When the patient may read a read signed at `signed_at`."""
    held = bool(HOLD_FOR_DISCUSSION & set(read.findings)) and "DISCUSSED" not in read.next_steps
    return signed_at + hold if held else signed_at


WITHDRAWN_ALREADY = (
    "This report was withdrawn as entered in error; it can no longer be amended or released."
)


def held_from_patient(report: EcgReport, now: dt.datetime) -> bool:
    return report.patient_release_at is not None and report.patient_release_at > now


def shown_to_patient(report: EcgReport, version: ReportVersion, now: dt.datetime) -> bool:
    """Whether the patient could read this signed version: released before the next version
    replaced it (`ReportVersion.previous_release_at`), or by `now` if it is the newest. A
    version held for a talk and amended before its release never was, and neither its words
    nor what an amendment took from them may reach the patient (an audit of the patient hold:
    "It no longer says: Part of the trace was raised ..." after an ST elevation withdrawn
    before anyone had called)."""
    if version.signed_at is None:
        return False
    following = next((v for v in report.versions if v.version_no == version.version_no + 1), None)
    if following is None:
        return report.patient_release_at is not None and report.patient_release_at <= now
    released = following.previous_release_at
    return (
        released is not None
        and following.signed_at is not None
        and (released <= following.signed_at)
    )


def release_to_patient(
    session: Session, report: EcgReport, *, actor: Account, version_no: int | None = None
) -> None:
    """The doctor has talked with the patient about signed version `version_no` (the one
    their page showed; None: the latest): the held summary is theirs now (audited).

    A page opened before an amendment releases nothing (SigningConflict, naming who amended):
    an open page had released a newer ST-elevation read nobody had discussed with the
    patient. And a release is no change to the read: written beside the signing lock, not
    through it, so an amendment being written at the same time is not refused for it (the
    amending doctor had been told "You amended this report already", their correction lost;
    a concurrency audit). An amendment committed between this check and the write makes the
    write match no row: refused the same way."""
    if report.status is ReportStatus.PRELIMINARY:
        raise InvalidInput({"release": "Sign the report first."})
    if report.status is ReportStatus.ENTERED_IN_ERROR:
        raise InvalidInput({"release": WITHDRAWN_ALREADY})
    latest = latest_signed(report)
    assert latest is not None
    if version_no is not None and latest.version_no != version_no:
        raise SigningConflict(_amended_since(session, latest))
    now = utcnow()
    table = cast(Table, EcgReport.__table__)
    released = session.execute(
        update(table)
        .where(table.c.id == report.id, table.c.row_version == report.row_version)
        .values(patient_release_at=now)
    )
    if cast(CursorResult[Any], released).rowcount != 1:
        session.rollback()
        session.refresh(report)
        raise SigningConflict(_amended_since(session, latest_signed(report) or latest))
    set_committed_value(report, "patient_release_at", now)
    audit.record(
        session, "report.release", actor=actor, patient_id=report.patient_id,
        object_type="ecg_report", object_id=report.id,
        details={"version_no": latest.version_no},
    )  # fmt: skip


def _amended_since(session: Session, latest: ReportVersion) -> str:
    author = session.get(Account, latest.author_id) if latest.author_id is not None else None
    who = author.display_name if author is not None else "Another doctor"
    return (
        f"{who} amended this report (version {latest.version_no}) since you opened it; "
        "nothing was released. Read the new version before you release it to the patient."
    )


def sign(
    session: Session,
    report: EcgReport,
    *,
    actor: Account,
    password: str,
    expected_row_version: int,
    read: PhysicianRead,
    patient_hold: dt.timedelta = NO_HOLD,
) -> ReportVersion:
    """Add the physician's read and make the report final (caller commits; a concurrent
    signature surfaces as SigningConflict at flush)."""
    _check_password(actor, password)
    _lock_unless_removed(session, report)
    if report.status is ReportStatus.PRELIMINARY and report.row_version != expected_row_version:
        # Unsigned and changed: staff moved it to another patient's record (`recording_move`)
        # while the doctor read it; "another doctor signed" had been said of it (an audit).
        raise SigningConflict(
            f"This report was changed while you were reviewing it, and nobody has signed it: "
            f"it is now {report.patient.full_name}'s ({report.patient.mrn}; staff move a "
            "recording uploaded to the wrong patient). Check the patient, then sign.",
            unsigned=True,
        )
    if report.status is ReportStatus.ENTERED_IN_ERROR:  # signed, then withdrawn, meanwhile
        raise _withdrawn_meanwhile(session, report, actor, "signed")
    if report.status is not ReportStatus.PRELIMINARY or report.row_version != expected_row_version:
        raise SigningConflict(_changed_meanwhile(session, report, actor, "signed or changed"))
    _check_read(read, read_as_episodes(report), report.versions[0])
    return _add_version(session, report, actor, VersionKind.PHYSICIAN, read, None, patient_hold)


def _lock_unless_removed(session: Session, report: EcgReport) -> None:
    """Lock the report's row and read it as committed (MariaDB: not the request's snapshot);
    NotAllowed when it is gone: a read-again of its recording at that moment removes an
    unsigned report (`recordings._read_again`, which locks it too), and a signature sent with
    one had answered 500 (`report.versions[0]` empty on SQLite, a StaleDataError on MariaDB; a
    write-path audit, 2026-12-07). The route then says why (`assigned_away_while_reviewing`)."""
    lock_row(session, "ecg_report", report.id, "status")
    current = session.scalar(
        select(EcgReport)
        .where(EcgReport.id == report.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if current is None:
        raise NotAllowed()


def amend(
    session: Session,
    report: EcgReport,
    *,
    actor: Account,
    password: str,
    expected_row_version: int,
    read: PhysicianRead,
    reason: str,
    patient_hold: dt.timedelta = NO_HOLD,
) -> ReportVersion:
    """A new signed version with a reason; earlier versions stay as they were."""
    _check_password(actor, password)
    _check_read(read, read_as_episodes(report), report.versions[0])
    if not reason.strip():
        raise InvalidInput({"reason": "Say why the signed report is being amended."})
    if problem := text_problem(reason, lines=True):
        raise InvalidInput({"reason": problem})
    if report.status is ReportStatus.PRELIMINARY:
        raise InvalidInput({"reason": "Only a signed report can be amended; sign it instead."})
    if report.status is ReportStatus.ENTERED_IN_ERROR:
        if report.row_version != expected_row_version:  # a page opened before the withdrawal
            raise _withdrawn_meanwhile(session, report, actor, "amended")
        raise InvalidInput({"reason": WITHDRAWN_ALREADY})
    if report.row_version != expected_row_version:
        raise SigningConflict(_changed_meanwhile(session, report, actor, "amended"))
    return _add_version(
        session, report, actor, VersionKind.AMENDMENT, read, reason.strip(), patient_hold
    )


def _changed_meanwhile(
    session: Session, report: EcgReport, actor: Account, verb: str, *, at_once: bool = False
) -> str:
    """Who signed the version that came first, in words: the same doctor signing in two tabs
    was told "Another doctor signed this report" (an audit)."""
    latest = max(report.versions, key=lambda v: v.version_no, default=None)
    author_id = latest.author_id if latest is not None else None
    when = "at the same moment" if at_once else "while you were reviewing it"
    if author_id == actor.id:
        return (
            f"You {verb.split(' or ')[0]} this report already, in another window or tab, "
            f"{when}; that version stands. Reload the report to see it."
        )
    author = session.get(Account, author_id) if author_id is not None else None
    who = author.display_name if author is not None else "Another doctor"
    return f"{who} {verb} this report {when}; their version stands. Reload it to see it."


def _withdrawn_meanwhile(
    session: Session, report: EcgReport, actor: Account, verb: str, *, at_once: bool = False
) -> SigningConflict:
    """A signature or amendment refused because the report was withdrawn as entered in error
    since the doctor's page was opened: who withdrew it, when and why, and that nothing can be
    signed on it. An amendment posted with a withdrawal had been told "You amended this report
    already ...; that version stands", and offered to sign over it (a concurrency audit,
    2026-12-07)."""
    by = session.get(Account, report.withdrawn_by_id) if report.withdrawn_by_id else None
    who = "You" if by is not None and by.id == actor.id else by.display_name if by else "A doctor"
    when = "at the same moment" if at_once else "after you opened it"
    if who == "You":
        when += ", in another window or tab"
    return SigningConflict(
        f"{who} withdrew this report as entered in error on "
        f"{shown(report.withdrawn_at, hospital_zone())} ({when}), saying: "
        f"“{report.withdrawn_reason}”. A withdrawn report is kept for the record only and "
        f"can no longer be signed or amended: nothing was {verb}. {_what_to_do_instead(report)}",
        withdrawn=True,
    )


def _what_to_do_instead(report: EcgReport) -> str:
    """Where a read of a withdrawn report's ECG may still be signed, by why it was withdrawn."""
    if report.withdrawn_kind is WithdrawnKind.MISREAD:
        return "Upload the file again with the right sampling rate or units, and sign its new read."
    return (
        "If this ECG is another patient's, upload it to their record and sign its new report there."
    )


def _add_version(
    session: Session,
    report: EcgReport,
    actor: Account,
    kind: VersionKind,
    read: PhysicianRead,
    reason: str | None,
    patient_hold: dt.timedelta = NO_HOLD,
) -> ReportVersion:
    _still_active(session, actor)
    machine = report.versions[0]
    signed_values = _signed_measurements(machine, read.measurements)
    # Loaded before anything changes (no early autoflush, which would meet a concurrent
    # signature as a bare StaleDataError): the scores, recomputed from the signed heart rate
    # and the inputs dated up to the ECG, and the patient their staleness needs.
    assert report.patient is not None
    list(report.patient.clinical_inputs)
    heart_rate_bpm = risk_scores.report_heart_rate_bpm(report, signed_values["heart_rate_bpm"])
    outcomes = risk_scores.report_outcomes(
        session,
        report,
        ecg_heart_rate_bpm=heart_rate_bpm,
        signed_codes=frozenset(vocabulary.canonical(c) for c in read.findings),
    )
    list(report.risk_scores)
    now = utcnow()
    version = ReportVersion(
        report=report,
        version_no=len(report.versions) + 1,
        kind=kind,
        author_id=actor.id,
        signed_at=now,
        amendment_reason=reason,
        previous_release_at=report.patient_release_at,  # the replaced version's, if signed
        rhythm_label=read.rhythm_label.strip(),
        findings=list(read.findings),
        conclusion=read.conclusion.strip(),
        patient_comment=read.patient_comment.strip() or None,
        next_steps=[c for c in NEXT_STEPS if c in read.next_steps],
        next_steps_note=read.next_steps_note.strip() or None,
        **signed_values,
        beat_counts=machine.beat_counts,
        class_probabilities=machine.class_probabilities,
        model_version=machine.model_version,
    )
    session.add(version)
    report.status = ReportStatus.FINAL if kind is VersionKind.PHYSICIAN else ReportStatus.AMENDED
    report.signed_at = now
    report.patient_release_at = patient_release_at(read, now, patient_hold)
    # The worklist follows the latest signed read, not the machine's.
    scores = risk_scores.store_report_scores(report, outcomes)
    session.add_all(scores)
    from portal.services.documents import patient_risk_words  # (documents imports this module)

    version.patient_risk = patient_risk_words(report)
    version.risk_figures = risk_scores.signed_figures(scores)
    report.main_finding = vocabulary.most_urgent(read.findings) or "NORMAL"
    signed = vocabulary.by_severity(read.findings)
    report.urgency = urgency_of(
        [(code, vocabulary.STATEMENTS[code].risk) for code in signed],
        worklist_scores(report, scores),
    )
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        session.refresh(report)
        verb = "signed" if kind is VersionKind.PHYSICIAN else "amended"  # "signed" had said both
        if report.status is ReportStatus.ENTERED_IN_ERROR:  # not a version: a withdrawal won
            raise _withdrawn_meanwhile(session, report, actor, verb, at_once=True) from None
        raise SigningConflict(
            _changed_meanwhile(session, report, actor, verb, at_once=True)
        ) from None
    audit.record(
        session,
        "report.sign" if kind is VersionKind.PHYSICIAN else "report.amend",
        actor=actor,
        patient_id=report.patient_id,
        object_type="ecg_report",
        object_id=report.id,
        details={"version_no": version.version_no, "reason": reason},
    )
    tasks.enqueue_after_commit(session, "documents", version.id)  # its PDFs, by a worker
    return version


def _qt_beyond_the_beat(signed: dict[str, float | None], machine: ReportVersion) -> str | None:
    """Why a QT and heart rate the doctor typed cannot both be: the QT ends before the next
    beat, so it is shorter than the interval between beats. A working-day audit signed a
    heart rate of 250 bpm with a QT of 690 ms (QTc 1408 ms), and the patient read "about 250
    times a minute". The machine's own pair is not judged: its QT is the normal beats', its
    rate the mean of every beat (fast AF)."""
    qt_ms, rate_bpm = signed.get("qt_ms"), signed.get("heart_rate_bpm")
    if qt_ms is None or not rate_bpm:
        return None
    if as_shown(qt_ms, machine.qt_ms) and as_shown(rate_bpm, machine.heart_rate_bpm):
        return None
    rr_ms = 60_000.0 / rate_bpm
    if qt_ms < rr_ms:
        return None
    return (
        f"A QT of {qt_ms:.0f} ms is longer than the interval between beats at {rate_bpm:.0f} "
        f"bpm ({rr_ms:.0f} ms): check both (a value in another unit?)."
    )


def _qrs_beyond_the_qt(signed: dict[str, float | None], machine: ReportVersion) -> str | None:
    """Why a QRS and QT the doctor typed cannot both be: the QT runs from the QRS's onset, so
    it contains the QRS and is longer. An audit signed a QRS of 240 ms beside a QT of 210 ms
    on MIT-BIH 230, and the PDF printed both. The machine's own pair is not judged, as
    `_qt_beyond_the_beat`."""
    qrs_ms, qt_ms = signed.get("qrs_ms"), signed.get("qt_ms")
    if qrs_ms is None or qt_ms is None or qrs_ms < qt_ms:
        return None
    if as_shown(qrs_ms, machine.qrs_ms) and as_shown(qt_ms, machine.qt_ms):
        return None
    return (
        f"A QRS of {qrs_ms:.0f} ms is not shorter than the QT of {qt_ms:.0f} ms, which "
        "contains it: check both (a value in another unit?)."
    )


def _pr_beyond_the_beat(signed: dict[str, float | None], machine: ReportVersion) -> str | None:
    """Why a PR and heart rate the doctor typed cannot both be: a PR as long as the interval
    between beats is a value in another unit or a typo. An audit signed a PR of 450 ms and a
    QRS of 240 ms at 180 bpm (333 ms between beats). PR + QRS over the interval is not refused:
    a marked first-degree block at a fast rate puts the P wave in the previous beat's QRS or T
    (a review: PR 400 ms, QRS 90 ms at 140 bpm is real). The machine's own values are not
    judged, as `_qt_beyond_the_beat`."""
    pr_ms, qrs_ms, rate_bpm = (signed.get(n) for n in ("pr_ms", "qrs_ms", "heart_rate_bpm"))
    if pr_ms is None or qrs_ms is None or not rate_bpm:
        return None
    own = (
        as_shown(pr_ms, machine.pr_ms)
        and as_shown(qrs_ms, machine.qrs_ms)
        and as_shown(rate_bpm, machine.heart_rate_bpm)
    )
    rr_ms = 60_000.0 / rate_bpm
    if own or pr_ms < rr_ms:
        return None
    return (
        f"A PR of {pr_ms:.0f} ms is as long as the interval between beats at {rate_bpm:.0f} "
        f"bpm ({rr_ms:.0f} ms) or longer: check both (a value in another unit?)."
    )


# The rates sinus rhythm and a normal ECG are signed at with a heart rate the doctor typed
# (`_sinus_beyond_its_rates`): 50-100 bpm, the AHA/ACCF/HRS recommendations' normal range.
SINUS_RHYTHM_BPM = vocabulary.NORMAL_ECG_BPM
# Statements by which the ventricles beat at another rate than the sinus node: a typed heart
# rate then says nothing of the sinus rate (a review: "Sinus rhythm with 2:1 AV block" at 37
# bpm, P waves at 73/min, was refused and pointed at "Sinus bradycardia", which is false).
BEATS_NOT_THE_SINUS_RATE = frozenset(
    {"AV_BLOCK_2", "AV_BLOCK_3", "DROPPED_BEAT", "PAUSE", "BIGEMINY", "TRIGEMINY", "PVC",
     "FREQUENT_PVC", "PAC", "SVT", "VT", "IVR"}
)  # fmt: skip


def _sinus_beyond_its_rates(
    codes: list[str], signed: dict[str, float | None], machine: ReportVersion
) -> list[str]:
    """Why "Sinus rhythm" cannot be signed on a strip at the heart rate the doctor typed: over
    100 bpm it is sinus tachycardia, under 50 sinus bradycardia. An audit signed "Sinus
    rhythm" at 180 bpm on MIT-BIH 230 (the machine's 79), and the patient read "Your heart
    beat in its normal, steady pattern." beside "about 180 times a minute". The machine's own
    rate is not judged: a strip at 101-104 bpm whose median rate is sinus rhythm's is signed
    so (`vocabulary.measurement_contradictions` refuses "Normal ECG" there already)."""
    rate_bpm = signed.get("heart_rate_bpm")
    signed_codes = {vocabulary.canonical(c) for c in codes}
    if "SINUS" not in signed_codes or rate_bpm is None:
        return []
    if signed_codes & BEATS_NOT_THE_SINUS_RATE:
        return []
    if as_shown(rate_bpm, machine.heart_rate_bpm):
        return []
    shown_bpm, (low_bpm, high_bpm) = round(rate_bpm), SINUS_RHYTHM_BPM
    if low_bpm <= shown_bpm <= high_bpm:
        return []
    instead = "Sinus tachycardia" if shown_bpm > high_bpm else "Sinus bradycardia"
    return [
        f'"Sinus rhythm" at the {shown_bpm} bpm signed: over {high_bpm:.0f} bpm it is "Sinus '
        f'tachycardia", under {low_bpm:.0f} "Sinus bradycardia". Choose "{instead}" (or the '
        "rhythm you see), or check the heart rate (a value in another unit?)."
    ]


def _signed_measurements(
    machine: ReportVersion, edited: dict[str, float | None] | None
) -> dict[str, float | None]:
    """The measurements a signed version stores: the machine's, or the doctor's. QTc stays the
    machine's while the doctor keeps its QT and keeps or clears its heart rate (the form shows
    them rounded): the machine corrected for the cycle between adjacent normal beats, which
    frequent ectopic beats and pauses make differ from the mean rate's. A QT the doctor
    changes is corrected for that same cycle (`machine_cycle_s`); a heart rate they change,
    for their rate. A browser audit (2026-12-07): a QT of 433 ms typed as 435 on MIT-BIH 232,
    recomputed from the mean rate its 116 pauses slow, signed a QTc of 431 ms for the form's
    389, unseen (the form now shows it live, `static/js/live_qtc.js`)."""
    names = ("heart_rate_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms")
    if edited is None:
        return {name: getattr(machine, name) for name in (*names, "qrs_axis_deg")}
    values = {name: edited.get(name) for name in ("heart_rate_bpm", "pr_ms", "qrs_ms", "qt_ms")}
    qt_ms, rate_bpm = values["qt_ms"], values["heart_rate_bpm"]
    # A rate cleared as not measurable (an irregular rhythm's mean) beside the machine's QT
    # keeps the machine's QTc too: it corrects for the cycle between normal beats, not for
    # the mean rate, and clearing the rate alone had withdrawn it, the PDF saying "QTc not
    # measurable (doctor)" of a value the doctor never touched (a consistency audit).
    rate_kept_or_cleared = rate_bpm is None or as_shown(rate_bpm, machine.heart_rate_bpm)
    if as_shown(qt_ms, machine.qt_ms) and rate_kept_or_cleared:
        values["qtc_bazett_ms"] = machine.qtc_bazett_ms
        values["qtc_fridericia_ms"] = machine.qtc_fridericia_ms
    else:
        cycle_s = machine_cycle_s(machine) if rate_kept_or_cleared else None
        rr_s = cycle_s or (60.0 / rate_bpm if rate_bpm else None)
        values["qtc_bazett_ms"] = qt_ms / rr_s**0.5 if qt_ms and rr_s else None
        values["qtc_fridericia_ms"] = qt_ms / rr_s ** (1 / 3) if qt_ms and rr_s else None
    values["qrs_axis_deg"] = edited.get("qrs_axis_deg")
    return values


def machine_cycle_s(machine: ReportVersion) -> float | None:
    """The cycle the machine's QTc corrected for (its QT and Bazett QTc give it back), or
    None without both."""
    if not machine.qt_ms or not machine.qtc_bazett_ms:
        return None
    return float((machine.qt_ms / machine.qtc_bazett_ms) ** 2)


def as_shown(edited: float | None, machine: float | None) -> bool:
    """Whether the doctor left the machine's value as the form showed it (rounded), or it is
    the machine's own: a QTc kept beside the machine's QT is stored unrounded
    (`_signed_measurements`), and MIT-BIH 215 signed as prefilled lost the low confidence of
    its QT and QTc (a cardiologist's audit: "PR 194 ms low confidence" beside a clean "QT 286
    ms" and "QTc 393 ms", the QTc 392.6 = the machine's, not its rounded 393)."""
    if edited is None or machine is None:
        return edited is None and machine is None
    return float(edited) in (round(machine), machine)


def latest_signed(report: EcgReport) -> ReportVersion | None:
    signed = [v for v in report.versions if v.kind is not VersionKind.MACHINE]
    return signed[-1] if signed else None


def next_waiting(session: Session, actor: Account, report: EcgReport) -> EcgReport | None:
    """The most urgent unsigned report this account may see, other than `report`, in the
    worklist's order: the signed page's only way on had been the worklist, one more step per
    report at night (an on-call audit)."""
    return session.scalar(
        visible_reports(actor)
        .where(EcgReport.status == ReportStatus.PRELIMINARY, EcgReport.id != report.id)
        .order_by(EcgReport.urgency, EcgReport.report_date, EcgReport.id)
        .limit(1)
    )


def previous_signed_report(session: Session, report: EcgReport) -> EcgReport | None:
    """The patient's most recent signed report before this one (serial comparison). A
    reference-library record is not the patient's ECG: it is never compared, on either side
    (an MIT-BIH record signed on a patient had stood as their previous ECG, its values
    highlighted as changes)."""
    if report.recording.is_reference:
        return None
    return session.scalar(
        select(EcgReport)
        .join(EcgRecording, EcgReport.recording_id == EcgRecording.id)
        .where(
            EcgReport.patient_id == report.patient_id,
            EcgReport.id != report.id,
            EcgReport.status.in_([ReportStatus.FINAL, ReportStatus.AMENDED]),
            EcgReport.report_date <= report.report_date,
            ~EcgRecording.is_reference,
        )
        .order_by(EcgReport.report_date.desc(), EcgReport.id.desc())
        .limit(1)
    )
