"""What a patient may see of their own record: signed reports of their own recordings only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from portal.local_time import hospital_zone, shown
from portal.models import (
    Account,
    AuditEvent,
    EcgReport,
    ReportDocument,
    ReportStatus,
    ReportVersion,
    VersionKind,
    WithdrawnKind,
    utcnow,
)


def signed_reports(session: Session, account: Account) -> list[EcgReport]:
    """The patient's reports as every patient path sees them (`reports.visible_reports`:
    signed, their own tests, not held for a talk first), newest first."""
    from portal.services.reports import visible_reports

    if account.patient is None:
        return []
    query = visible_reports(account).order_by(EcgReport.report_date.desc())
    return list(session.scalars(query))


def being_updated(session: Session, account: Account) -> list[EcgReport]:
    """The patient's reports they could read before and which an amendment now holds for a
    talk (`reports.patient_release_at` later than now), oldest first: an audit of the patient
    summaries found a released report gone from the list, which then said "No reports yet";
    the notice names each (`named`), which a count alone had not (a patient-experience
    audit, 2026-12-07)."""
    if account.patient is None:
        return []
    released_before = exists().where(
        ReportVersion.report_id == EcgReport.id,
        ReportVersion.previous_release_at.is_not(None),
        ReportVersion.previous_release_at <= ReportVersion.signed_at,
    )
    from portal.services.reports import patients_signed_reports

    query = patients_signed_reports(select(EcgReport), account.patient.id)
    held = query.where(EcgReport.patient_release_at > utcnow(), released_before)
    return list(session.scalars(held.order_by(EcgReport.report_date, EcgReport.id)))


def withdrawn_from_them(session: Session, account: Account) -> list[EcgReport]:
    """The results the patient could read and which a doctor has since withdrawn as entered
    in error (`services.entered_in_error`), newest first: gone from their list without a
    word, a result they had read would look lost (or hidden)."""
    from portal.services.reports import own_recordings, read_before_withdrawal

    if account.patient is None:
        return []
    query = own_recordings(select(EcgReport), account.patient.id).where(read_before_withdrawal())
    return list(session.scalars(query.order_by(EcgReport.withdrawn_at.desc())))


def read_again_as(withdrawn: EcgReport, listed: list[EcgReport]) -> EcgReport | None:
    """The patient's listed result (`signed_reports`) of the same tracing read again after
    `withdrawn` was withdrawn as read wrongly, if any: both carry the recording's date, and
    the notice must say which one replaces which."""
    from portal.services.entered_in_error import kind_of

    if kind_of(withdrawn) is not WithdrawnKind.MISREAD:
        return None
    return next(
        (r for r in listed if r.recording_id == withdrawn.recording_id and r.id != withdrawn.id),
        None,
    )


def plain_finding(report: EcgReport) -> str:
    """The signed main finding in plain words (first sentence of the plain-language text)."""
    from portal.services.machine_read import vf_waves_in
    from portal.services.reports import patterns_in_part
    from reports.plain_language import findings_in_plain_words, frequent_pacs

    signed = [v for v in report.versions if v.kind is not VersionKind.MACHINE]
    codes = list(signed[-1].findings or []) if signed else []
    many_pacs = frequent_pacs(report.versions[0].beat_counts or {}, vf_waves_in(report))
    return findings_in_plain_words(codes, patterns_in_part(report), many_pacs)[0]


def test_words(report: EcgReport) -> str:
    """What kind of test, and how long, in a patient's words: eleven rows that all read
    "6 December 2026" could not be told apart (an audit)."""
    from portal.services.reports import read_as_episodes

    seconds = report.recording.duration_s
    if not read_as_episodes(report):
        return f"Heart test (ECG), {seconds:.0f} seconds"
    if seconds < 2 * 3600:
        return f"Heart monitor, {seconds / 60:.0f} minutes"
    return f"Heart monitor, {seconds / 3600:.0f} hours"


def date_words(report: EcgReport) -> str:
    """ "Test done on", or "Test received on" for a file without a clock, whose date is its
    upload's (`plain_language.test_date_words`, as its summary says it)."""
    from reports.plain_language import test_date_words

    return test_date_words(report.recording.acquired_at is not None)


def named(report: EcgReport) -> str:
    """The report as the notices of `/my/reports` name it: its number, as its PDFs print it,
    and its test and date in the list's words, "Report number 5 (heart monitor, 5 minutes,
    received 8 December 2026, 10:09)". "The result of the heart test (ECG) of 8 December
    2026, 10:09" had fitted five results listed under that date, and a 5-minute monitor (a
    patient-experience audit, 2026-12-07)."""
    test = test_words(report)
    when = shown(report.report_date, hospital_zone(), "%-d %B %Y, %H:%M")
    done = date_words(report).removeprefix("Test ").removesuffix(" on")  # "done", "received"
    return f"Report number {report.id} ({test[0].lower()}{test[1:]}, {done} {when})"


def updated_at(report: EcgReport) -> dt.datetime | None:
    """When the doctor last amended the report (its summary was replaced), else None; also
    None when the patient never saw an earlier version (held for a talk, then amended): to
    them it is new, not updated."""
    amended = [v for v in report.versions if v.kind is VersionKind.AMENDMENT]
    if not amended:
        return None
    earlier = [v for v in report.versions if v.signed_at and v.version_no < amended[-1].version_no]
    from portal.services.reports import shown_to_patient

    now = utcnow()
    if not any(shown_to_patient(report, v, now) for v in earlier):
        return None
    return amended[-1].created_at


ACCESS_ROWS = 200  # the newest; the page says when there are more


# A FHIR write's own row follows the rows of the change it made, which name its client too.
FHIR_WRITES = ("fhir.patient.create", "fhir.patient.update")
CHANGES_OF_DETAILS = (
    "patient.create",
    "patient.update",
    "patient.deactivate",
    "patient.reactivate",
)


def access_events(session: Session, account: Account, limit: int = ACCESS_ROWS) -> list[AuditEvent]:
    """Views, downloads and changes of this patient's record, newest first. Rows about a
    report they cannot read yet (unsigned, or a version held for a talk first: its views, PDFs,
    tracing, measurements, FHIR reads, signature) are not said before it is released: the list
    had read "checked and signed an ECG report" at night, of a report missing from the
    patient's list (a security audit), and then "opened", "downloaded", "read an ECG tracing"
    of it (an access audit, 2026-12-07); rows of an earlier version they were shown stay
    listed (`_unseen_since`). A change made through FHIR is listed once (`_said_just_before`)."""
    if account.patient is None:
        return []
    query = (
        select(AuditEvent)
        .where(AuditEvent.patient_id == account.patient.id)
        # A refused request read nothing (the audit keeps it for a search by patient).
        .where(AuditEvent.action != "access.refused")
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    events = list(session.scalars(query))
    unseen = _unseen_since(session, account.patient.id)
    about = {e: r.id for e, r in reports_of(session, events).items()} if unseen else {}
    return [
        e
        for e, before in zip(events, [*events[1:], None], strict=True)
        if not (
            about.get(e.id) in unseen
            # a signature's row is written after its version's `signed_at` (at the flush)
            and e.occurred_at >= unseen[about[e.id]]
        )
        and not _said_just_before(e, before)
    ]


def _said_just_before(event: AuditEvent, before: AuditEvent | None) -> bool:
    """Whether `event` is a FHIR write whose change the row just before it says, through the
    same token: a request's rows are consecutive in the trail. One address changed through FHIR
    had read twice, "changed your details: address" and "another hospital system ... read or
    updated your record" (an access audit)."""
    token_id = (event.details or {}).get("token_id")
    return (
        event.action in FHIR_WRITES
        and before is not None
        and before.action in CHANGES_OF_DETAILS
        and before.actor_id == event.actor_id
        and token_id is not None
        and (before.details or {}).get("token_id") == token_id
    )


def _unseen_since(session: Session, patient_id: int) -> dict[int, dt.datetime]:
    """For each report the patient cannot read now, from when its rows are left out: all of
    them (`datetime.min`) for an unsigned report, a held one they were never shown, one
    withdrawn before they could read it, or one moved to another patient's record; else from
    the signature of its first version they were never shown (`reports.shown_to_patient`; a
    report released, then amended and held, keeps the rows of what they read)."""
    from portal.services.reports import shown_to_patient

    now = utcnow()
    unsigned = session.scalars(
        select(EcgReport.id).where(
            EcgReport.patient_id == patient_id, EcgReport.status == ReportStatus.PRELIMINARY
        )
    )
    since = dict.fromkeys(unsigned, dt.datetime.min)
    since.update(dict.fromkeys(_never_theirs_to_read(session, patient_id), dt.datetime.min))
    held = session.scalars(
        select(EcgReport).where(
            EcgReport.patient_id == patient_id, EcgReport.patient_release_at > now
        )
    )
    for report in held:
        unseen = [
            v.signed_at
            for v in report.versions
            if v.signed_at is not None and not shown_to_patient(report, v, now)
        ]
        if unseen:
            shown_before = any(shown_to_patient(report, v, now) for v in report.versions)
            since[report.id] = min(unseen) if shown_before else dt.datetime.min
    return since


def _never_theirs_to_read(session: Session, patient_id: int) -> set[int]:
    """The reports the patient could never read whose rows the withdrawal or move left out of
    the checks above: withdrawn before they could read it (a held report's release is cleared
    by the withdrawal; `reports.read_before_withdrawal` says who did read one), or moved with
    its recording to another patient before signing (its earlier rows stay filed under this
    patient). Both had listed "opened an ECG report" and more of a report never theirs (a
    patient-experience audit, 2026-12-07)."""
    from portal.services.reports import read_before_withdrawal

    withdrawn = select(EcgReport.id).where(
        EcgReport.patient_id == patient_id, EcgReport.status == ReportStatus.ENTERED_IN_ERROR
    )
    read = set(session.scalars(withdrawn.where(read_before_withdrawal())))
    rows_about_reports = select(AuditEvent.object_id).where(
        AuditEvent.patient_id == patient_id, AuditEvent.object_type == "ecg_report"
    )
    moved_away = session.scalars(
        select(EcgReport.id).where(
            EcgReport.patient_id != patient_id, EcgReport.id.in_(rows_about_reports)
        )
    )
    return (set(session.scalars(withdrawn)) - read) | set(moved_away)


def reports_of(session: Session, events: list[AuditEvent]) -> dict[int, EcgReport]:
    """The report each row is about, by the row's id: a report's own rows name it, a PDF's
    download names its document (two queries). Fourteen rows of "downloaded an ECG report"
    could not be told apart (an audit of the patient's side)."""
    report_ids = {e.object_id for e in events if e.object_type == "ecg_report" and e.object_id}
    document_ids = {e.object_id for e in events if e.object_type == "report_document"}
    of_document = dict(
        session.execute(
            select(ReportDocument.id, ReportVersion.report_id)
            .join(ReportVersion, ReportVersion.id == ReportDocument.report_version_id)
            .where(ReportDocument.id.in_(document_ids))
        )
        .tuples()
        .all()
    )
    wanted = report_ids | set(of_document.values())
    found = {r.id: r for r in session.scalars(select(EcgReport).where(EcgReport.id.in_(wanted)))}
    by_event = {}
    for e in events:
        report_id = (
            of_document.get(e.object_id or 0) if e.object_type == "report_document" else None
        )
        report_id = e.object_id if e.object_type == "ecg_report" else report_id
        if report_id in found:
            by_event[e.id] = found[report_id]
    return by_event


def display_names(session: Session, events: list[AuditEvent]) -> dict[str, str]:
    """The names of the accounts that did these things, by username (one query)."""
    usernames = {e.actor_username for e in events if e.actor_username}
    accounts = session.scalars(select(Account).where(Account.username.in_(usernames)))
    return {a.username: a.display_name for a in accounts}
