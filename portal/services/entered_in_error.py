"""A signed report withdrawn as entered in error (`/reports/<id>/entered-in-error`, doctors).

A signed report of a recording uploaded to the wrong patient had no way out: it stayed on that
patient's portal, and the doctor's only correction was an amendment forced to sign a false
read (a working-day audit). Withdrawn, it is kept for the record and marked on every page,
leaves the patient's portal (who is told, in their words, that a result was filed under their
name in error), is "entered-in-error" through REST and FHIR (to the patient's FHIR apps too, if
they could read it, without its values: `fhir.observation.items`), and has no PDF. An unsigned
report is not withdrawn: staff move its recording to the right patient (`recording_move`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from portal.db import lock_row
from portal.local_time import hospital_zone, shown
from portal.models import (
    WITHDRAWN_REASON_CHARS,
    Account,
    EcgReport,
    RecordingFormat,
    ReportStatus,
    VersionKind,
    WithdrawnKind,
    utcnow,
)  # fmt: skip
from portal.services import audit
from portal.services.accounts import check_own_password
from portal.services.errors import SigningConflict
from portal.services.reports import (
    WITHDRAWN_ALREADY,
    WITHDRAWN_URGENCY,
    held_from_patient,
    shown_to_patient,
)
from portal.services.validation import InvalidInput, text_problem

SIGNED = (ReportStatus.FINAL, ReportStatus.AMENDED)
# Why it was withdrawn, as the doctor chooses it on the review page.
KIND_CHOICES = {
    WithdrawnKind.WRONG_PATIENT: "Not this patient's ECG (filed under the wrong patient)",
    WithdrawnKind.MISREAD: "This patient's ECG, read wrongly (a wrong sampling rate or units "
    "given at upload)",
}
# What the withdrawn report is, for clinicians (review page, FHIR conclusion).
NOT_A_RECORD = {
    WithdrawnKind.WRONG_PATIENT: "not a report of this patient's ECG",
    WithdrawnKind.MISREAD: "a wrong read of this patient's ECG (a wrong sampling rate or units "
    "given at upload), not a true record of it",
}
# What staff read on the patient's page, with what they do next.
FOR_STAFF = {
    WithdrawnKind.WRONG_PATIENT: "not this patient's ECG (upload it to the right patient)",
    WithdrawnKind.MISREAD: "this patient's ECG read wrongly (upload the file again with the "
    "right sampling rate or units)",
}
# What the patient is told of each withdrawn result ("The result of ... removed ...: it ...").
FOR_THE_PATIENT = {
    WithdrawnKind.WRONG_PATIENT: "was filed under your name by mistake and is not about your heart",
    WithdrawnKind.MISREAD: "was read with a wrong setting, so its figures were not right; if "
    "your tracing is read again, the new result appears here once a doctor has checked it",
}
# ... a misread one whose tracing's new read the patient can read (`myhealth.read_again_as`),
# "{date}" the list's date of that result: the notice had promised a new result "if your
# tracing is read again" beside it, then said "Please disregard it" of the date the new result
# carries too, the recording's (an audit of the patient's side, 2026-12-07).
READ_AGAIN_FOR_THE_PATIENT = (
    "was read with a wrong setting, so its figures were not right. Your tracing was read again "
    "with the right setting: the new result, listed below under {date}, replaces it"
)


def for_the_patient(report: EcgReport) -> str:
    """The withdrawal in the patient's words, as their list says it (`FOR_THE_PATIENT`): what
    their FHIR apps read in the withdrawn DiagnosticReport's conclusion and Observations."""
    return (
        f"This result was removed from your record: it {FOR_THE_PATIENT[kind_of(report)]}. "
        "Please disregard it."
    )


MISREAD_CSV_ONLY = (
    "Only a CSV file is read at the sampling rate and units given at upload; this recording's "
    "come from its own file, so it cannot have been read wrongly that way. If it is not this "
    "patient's ECG, choose that; otherwise correct the report by an amendment."
)


def misread_possible(report: EcgReport) -> bool:
    """Whether its recording could have been read at a wrong rate or in wrong units given at
    upload: a CSV's only (`recordings._reading_change`). A WFDB file withdrawn as misread had
    promised its patient a re-read that could never come (a review, 2026-12-07)."""
    return report.recording.file_format is RecordingFormat.CSV


def kind_of(report: EcgReport) -> WithdrawnKind:
    """Why `report` was withdrawn (withdrawals before 2026-12-07 were all of the wrong patient,
    and migration 0024 says so)."""
    return report.withdrawn_kind or WithdrawnKind.WRONG_PATIENT


NOT_SIGNED_YET = (
    "Only a signed report is withdrawn. An unsigned one uploaded to the wrong patient is moved "
    "by staff to the right patient, from its job page."
)


def withdraw(
    session: Session,
    report: EcgReport,
    reason: str,
    *,
    kind: WithdrawnKind,
    actor: Account,
    password: str,
    expected_row_version: int,
) -> None:
    """Mark the signed `report` entered in error (caller commits); InvalidInput in words when
    it cannot be, SigningConflict when it changed since the doctor's page was opened. The
    report's row is locked and read as committed first: posted twice at once, the second
    withdrawal had passed its checks on the report as loaded and met the first's write at
    flush, a 500 "Nothing was saved" though the report was withdrawn (a bad-input audit)."""
    check_own_password(
        actor, password, field="password",
        message="That is not your password; the report was not withdrawn.", purpose="sign",
    )  # fmt: skip
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput({"reason": "Say why it is withdrawn (e.g. not this patient's ECG)."})
    if len(reason) > WITHDRAWN_REASON_CHARS:
        raise InvalidInput({"reason": f"At most {WITHDRAWN_REASON_CHARS} characters."})
    if problem := text_problem(reason, lines=False):
        raise InvalidInput({"reason": problem})
    lock_row(session, "ecg_report", report.id, "status")  # one withdrawal or signature at a time
    session.refresh(report, with_for_update=True)  # as committed (MariaDB: not the snapshot)
    if report.status is ReportStatus.ENTERED_IN_ERROR:
        if report.row_version != expected_row_version:  # a page opened before the withdrawal
            raise _withdrawn_meanwhile(session, report, actor)
        raise InvalidInput({"reason": WITHDRAWN_ALREADY})
    if report.status not in SIGNED:
        raise InvalidInput({"reason": NOT_SIGNED_YET})
    if kind is WithdrawnKind.MISREAD and not misread_possible(report):
        raise InvalidInput({"kind": MISREAD_CSV_ONLY})
    if report.row_version != expected_row_version:
        raise SigningConflict(
            "This report was signed again or changed while you had it open; nothing was "
            "withdrawn. Read the version that now stands, then withdraw it if you still mean to."
        )
    now = utcnow()
    patient_had_it = ever_shown_to_patient(report, now)
    if held_from_patient(report, now):  # the held version never will be shown now
        report.patient_release_at = None
    report.status = ReportStatus.ENTERED_IN_ERROR
    report.withdrawn_at = now
    report.withdrawn_by_id = actor.id
    report.withdrawn_reason = reason
    report.withdrawn_kind = kind
    report.urgency = WITHDRAWN_URGENCY  # off the top of the worklist: no true record of an ECG
    audit.record(
        session, "report.entered_in_error", actor=actor,
        patient_id=report.patient_id, object_type="ecg_report", object_id=report.id,
        details={"reason": reason, "kind": kind.value, "version_no": report.versions[-1].version_no,
                 "patient_had_it": patient_had_it},
    )  # fmt: skip


# What staff read on a job page whose report was withdrawn: where the ECG may be read again.
ON_THE_JOB_PAGE = {
    WithdrawnKind.WRONG_PATIENT: "It is not this patient's ECG: it belongs under the right "
    "patient, so upload it to their record; uploaded here again, it only opens this withdrawn "
    "report.",
    WithdrawnKind.MISREAD: "This patient's ECG was read wrongly: upload the file again with the "
    "right sampling rate or units, and a doctor signs its new read.",
}


def on_the_job_page(session: Session, report: EcgReport | None) -> str | None:
    """What a job page says of its report withdrawn as entered in error: who withdrew it, when
    and why, and what staff do instead. The same files uploaded again to the same patient open
    the first upload's job, and MIT-BIH 116, withdrawn as "Not this patient's ECG", had read
    "This recording was already uploaded for this patient; showing it. ... succeeded: Done"
    with "Open the report" to the withdrawn report, nothing said of it (an audit)."""
    if report is None or report.status is not ReportStatus.ENTERED_IN_ERROR:
        return None
    by = session.get(Account, report.withdrawn_by_id) if report.withdrawn_by_id else None
    return (
        f"The report of this recording was withdrawn as entered in error by "
        f"{by.display_name if by else 'a doctor'} on "
        f"{shown(report.withdrawn_at, hospital_zone())}, saying: “{report.withdrawn_reason}”. "
        f"{ON_THE_JOB_PAGE[kind_of(report)]}"
    )


def _withdrawn_meanwhile(session: Session, report: EcgReport, actor: Account) -> SigningConflict:
    """Who withdrew the report since the doctor's page was opened, when and why: the same
    doctor's second click or tab is told it was theirs."""
    by = session.get(Account, report.withdrawn_by_id) if report.withdrawn_by_id else None
    mine = by is not None and by.id == actor.id
    who = "You" if mine else by.display_name if by is not None else "A doctor"
    where = " (in another window or tab)" if mine else " (after you opened it)"
    return SigningConflict(
        f"{who} withdrew this report as entered in error on "
        f"{shown(report.withdrawn_at, hospital_zone())}{where}, saying: "
        f"“{report.withdrawn_reason}”. It stays withdrawn; nothing more was changed.",
        withdrawn=True,
    )


def ever_shown_to_patient(report: EcgReport, now: dt.datetime) -> bool:
    """Whether the patient could read any signed version of the report by `now`
    (`reports.shown_to_patient`; `myhealth.withdrawn_from_them` asks the same of the
    database). Not only the newest: a result the patient had read, amended and held for a
    talk, then withdrawn, had been "not had" and left their portal without a word (an
    adversarial review, 2026-12-07)."""
    return any(
        shown_to_patient(report, version, now)
        for version in report.versions
        if version.kind is not VersionKind.MACHINE
    )
