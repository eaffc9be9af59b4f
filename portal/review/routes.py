"""/worklist, /reports/<id> (review, ECG data, sign, amend), /model; Plotly's bundle name."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from ml import rhythm, vocabulary
from ml.recording import canonical_lead_name
from ml.strip_rhythm import OTHER_AF_NOT_RULED_OUT_TEXT, SINUS
from portal import ecg_data
from portal.access import api_client, roles
from portal.converters import date_arg
from portal.db import db_session
from portal.finding_stops import Stop, finding_stops, withdrawn_marked
from portal.forms import save
from portal.local_time import before_birth, hospital_zone, in_zone, recording_clock, shown
from portal.models import (
    Account,
    DocumentKind,
    EcgReport,
    ReportStatus,
    ReportVersion,
    Role,
    VersionKind,
    WithdrawnKind,
    utcnow,
)
from portal.review import kept_read
from portal.review.forms import MEASUREMENTS, AmendForm, ReleaseForm, SignForm, WithdrawForm
from portal.review.go_to_time import NotInRecording, at_time_of_day, into_recording
from portal.services import audit, documents, entered_in_error, reports
from portal.services.errors import NotAllowed, RecordingFilesMissing, ReportWithdrawn
from portal.services.machine_read import (
    machine_findings,
    machine_read,
    machine_summary,
    reference_agreement,
)
from portal.services.paging import shown_count
from portal.services.reference import NO_MISMATCHES
from portal.services.reports import (
    STATEMENTS,
    URGENCY_NAMES,
    PhysicianRead,
    SigningConflict,
    urgency_reason,
)
from portal.services.risk_scores import stale_reason
from portal.session_cookie import background_poll
from reports.data import NOT_SIGNED
from reports.next_steps import NEXT_STEPS
from reports.time_of_day import moment_text

bp = Blueprint("review", __name__)
CLINICAL = (Role.STAFF, Role.DOCTOR)
WAVEFORM_AUDIT_WINDOW = dt.timedelta(minutes=1)  # ecg.json: one audit row per minute
# The withdrawal form's field prefix: its reason and password stand beside the amend form's.
WITHDRAW = "withdraw"


def _actor() -> Account:
    return current_user._get_current_object()


def _report_or_404(report_id: int) -> EcgReport:
    return reports.get_visible_report(db_session(), _actor(), report_id)


def _date(name: str) -> dt.date | None:
    return date_arg(name)  # a date past 1900..2100 is said on the page (it overflowed)


@bp.route("/worklist")
@roles(*CLINICAL)
def worklist() -> str:
    page = reports.worklist(
        db_session(),
        _actor(),
        status=request.args.get("status", "preliminary"),
        finding=request.args.get("finding", ""),
        date_from=_date("from"),
        date_to=_date("to"),
        dates=request.args.get("dates", "recorded"),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["SETTINGS"].reports_per_page,
        zone=current_app.config["SETTINGS"].zone,
    )
    filters = {
        k: request.args.get(k, "")[:40] for k in ("status", "finding", "from", "to", "dates")
    }
    audit.record(
        db_session(), "worklist.view", actor=_actor(),
        details={
            "filters": filters, "page": page.page, "report_ids": [r.id for r in page.reports],
            "patient_ids": sorted({r.patient_id for r in page.reports}),
        },
    )  # fmt: skip
    db_session().commit()
    return render_template(
        "review/worklist.html",
        page=page,
        statements=STATEMENTS,
        args=request.args,
        urgency_names=URGENCY_NAMES,
        urgency_reason=urgency_reason,
        main_finding_label=reports.main_finding_label,
        high_risk_scores=reports.high_risk_scores,
        held=lambda r: reports.held_from_patient(r, utcnow()),
        shown_count=shown_count,
    )


@bp.route("/reports/<id:report_id>")
@roles(*CLINICAL)
def report(report_id: int) -> str:
    sql = db_session()
    found = _report_or_404(report_id)
    sign_form, amend_form = _prefilled_forms(found)
    audit.record(
        sql, "report.view", actor=_actor(), patient_id=found.patient_id,
        object_type="ecg_report", object_id=found.id,
    )  # fmt: skip
    sql.commit()
    return _review_page(found, sign_form, amend_form)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value)


MEASURED_FOR_NORMAL = ("heart_rate_bpm", "pr_ms", "qrs_ms", "qtc_bazett_ms", "qrs_axis_deg")


def _prefilled_forms(found: EcgReport) -> tuple[SignForm, AmendForm]:
    """The sign and amend forms prefilled with the read that counts now."""
    basis = reports.latest_signed(found) or found.versions[0]
    sign_form, amend_form = SignForm(formdata=None), AmendForm(formdata=None)
    rhythm_line = _strip_line_with_its_run(found, basis)
    for form in (sign_form, amend_form):
        form.rhythm_label.data = rhythm_line
        codes = with_the_rhythm_line(
            basis.findings or [], rhythm_line, reports.read_as_episodes(found)
        )
        if any(c in vocabulary.RHYTHM_STATEMENTS and c != "SINUS" for c in codes):
            # "No significant arrhythmia" is true of a sinus bradycardia, but its statement,
            # "Normal ECG", stands only with sinus rhythm: preselected, the form was refused.
            codes = [c for c in codes if c != "NORMAL"]
        if basis.kind is VersionKind.MACHINE and _normal_in_doubt(found):
            codes = [c for c in codes if c != "NORMAL"]
        if basis.kind is VersionKind.MACHINE and morphology_unread(found):
            codes = [c for c in codes if c != "NORMAL"]
        strip = not reports.read_as_episodes(found)
        as_read = {name: getattr(basis, name) for name in MEASURED_FOR_NORMAL}
        if vocabulary.measurement_contradictions(["NORMAL"], as_read, strip):
            # "No significant arrhythmia" on a strip at 101-104 bpm whose median rate names it
            # sinus rhythm, or beside a long PR or QTc: its statement would be refused so.
            codes = [c for c in codes if c != "NORMAL"]
        if _af_not_ruled_out(basis):
            # The doctor says whether it is AF: prefilled "Other rhythm" would sign "not AF/
            # flutter" as offered under "atrial fibrillation not ruled out" (MIT-BIH 221's
            # AF; a review, 2026-12-07), so the rhythm line and statement are left empty ...
            form.rhythm_label.data = ""
            codes = [c for c in codes if c != "OTHER_RHYTHM"]
        form.findings.data = [c for c in codes if c in STATEMENTS]
        # ... and the conclusion, which names the machine's call (a signed AF had kept "Other
        # rhythm (...; atrial fibrillation not ruled out)" as its conclusion; a review).
        form.conclusion.data = "" if _af_not_ruled_out(basis) else basis.conclusion or ""
        form.patient_comment.data = basis.patient_comment or ""
        form.next_steps.data = _next_steps_of(basis, found)
        form.next_steps_note.data = basis.next_steps_note or ""
        for name in MEASUREMENTS:  # the read that counts now: the doctor's once signed
            getattr(form, name).data = _rounded(getattr(basis, name))
        form.row_version.data = found.row_version
    return sign_form, amend_form


def _strip_line_with_its_run(found: EcgReport, basis: ReportVersion) -> str:
    """The rhythm line to prefill: a machine read of a strip called sinus names the VF or VT
    of its main finding beside it (`ml.rhythm.with_ventricular_run`), as reads made since
    2026-12-07 store it; one stored before had prefilled "Sinus rhythm" beside the VF
    statement (MIT-BIH 205, 290-350 s, with 11 s of VF; an audit)."""
    line = basis.rhythm_label or ""
    if basis.kind is not VersionKind.MACHINE or reports.read_as_episodes(found):
        return line
    summary = machine_summary(found)
    if summary.strip is None or summary.strip.label != SINUS:
        return line
    return rhythm.with_ventricular_run(line, summary.episodes, summary.main_finding.label)


def _af_not_ruled_out(basis: ReportVersion) -> bool:
    """The machine's read (not a doctor's) whose rhythm line says AF is not ruled out."""
    return basis.kind is VersionKind.MACHINE and basis.rhythm_label == OTHER_AF_NOT_RULED_OUT_TEXT


def with_the_rhythm_line(findings: list[str], rhythm_label: str, episodes: bool) -> list[str]:
    """The codes to preselect (as the vocabulary spells them: stored machine reads may say
    AVB1), with the machine's rhythm line as the one rhythm statement; or, on a recording read
    as episodes (`episodes`), as the rhythm its AF stands beside: "Sinus rhythm with atrial
    fibrillation/flutter (1.2 min)", "Atrial fibrillation/flutter with sinus rhythm (4.1
    min)", or a line naming another finding, "Sinus rhythm with ventricular tachycardia (5.9
    min)" beside 72 min of AF (paroxysmal AF, signable as preselected; a Holter audit: that
    read was refused as prefilled, "'Atrial fibrillation / flutter' and 'Dropped beat' exclude
    each other", and the quickest way on was to delete the AF)."""
    codes = [vocabulary.canonical(c) for c in findings]
    named = vocabulary.rhythm_codes_of(rhythm_label)
    stated = set(codes) & set(vocabulary.RHYTHM_STATEMENTS)
    beside_af = [c for c in named if c != "AF"]
    if stated == {"AF"} and len(beside_af) == 1 and episodes:
        codes.insert(0, beside_af[0])
    elif named and not stated:
        codes.insert(0, named[0])
    return codes


def _normal_in_doubt(found: EcgReport) -> bool:
    """The machine's "No significant arrhythmia" says an interval was withheld as possibly
    abnormal (`ml.findings._withheld_doubt`: a long QT read from one lead), or its QRS or QT
    could not be measured: "Normal ECG" is then the doctor's to choose once they have looked,
    not preselected (a one-lead QTc of 576 ms came prefilled as a normal ECG, "Your heart
    test looked normal." to the patient; MIT-BIH 212's strip, 5 of 15 beats with a right
    bundle branch block, its QRS "not measurable", likewise, a clinician audit 2026-12-07)."""
    if any(f["code"] == "NORMAL" and f.get("detail") for f in machine_findings(found)):
        return True
    unmeasured = machine_summary(found).intervals.not_measurable
    return any(name in unmeasured for name in QRS_AND_QT)


QRS_AND_QT = ("qrs", "qt")  # a normal ECG has both measured

# A recording with three or more chest leads (a 12-lead, or its 8-lead export) is read for its
# morphology by whoever signs it; one or two leads (a Holter's MLII and V1) are rhythm strips.
CHEST_LEADS = ("V1", "V2", "V3", "V4", "V5", "V6")
CHEST_LEADS_FOR_MORPHOLOGY = 3
MORPHOLOGY_UNREAD_HELP = (
    "The machine does not read T waves or Q waves: choose Normal ECG yourself if the tracing "
    "is normal."
)


def morphology_unread(found: EcgReport) -> bool:
    """A recording with the chest leads, whose "No significant arrhythmia" is no normal ECG:
    the machine reads no T-wave or Q-wave morphology, so "Normal ECG" is the doctor's to choose
    (Wellens-like T waves of -0.9 mV in V1-V4, and Q waves of 0.7 mV in III and aVF, came
    prefilled "Normal ECG", and signed so the patient read "Your heart test looked normal.";
    a 12-lead audit, 2026-12-07)."""
    leads = {canonical_lead_name(name) for name in found.recording.lead_names}
    return len(leads & set(CHEST_LEADS)) >= CHEST_LEADS_FOR_MORPHOLOGY


def _next_steps_of(basis: ReportVersion, found: EcgReport) -> list[str]:
    """The signed read's next steps but "Discussed with the patient", which speaks of one talk
    about one read: carried into the amend form, it released an ST elevation added by the
    amendment at once, "Your doctor has talked with you about this result." (an audit of the
    patient hold). Before signing, a suggested follow-up time from the urgency (today for a
    high one, within a week for a medium one), which the doctor can change."""
    if basis.kind is not VersionKind.MACHINE:
        return [c for c in basis.next_steps or [] if c != "DISCUSSED"]
    if found.urgency <= reports.HIGH_URGENCY:  # VT, VF, AF, a pause or another high risk
        return ["SEE_TODAY"]
    return ["SEE_SOON" if found.urgency == reports.MEDIUM_URGENCY else "ROUTINE"]


def _review_page(
    found: EcgReport,
    sign_form: SignForm,
    amend_form: AmendForm,
    withdraw_form: WithdrawForm | None = None,
    not_signed: list[str] | None = None,
) -> str:
    """The review page; `not_signed`: why the doctor's signature was refused (a signing
    conflict), said atop the sign section the page opens at, focused."""
    machine = found.versions[0]
    previous = reports.previous_signed_report(db_session(), found)
    low_by_version = documents.low_confidence_by_version(found)
    return render_template(
        "review/report.html",
        report=found,
        machine=machine,
        analysis=(analysis := machine_summary(found)),  # the beats are the chart's (ecg.json)
        files_missing=ecg_data.missing_files_message(
            current_app.config["SETTINGS"].storage_dir, found
        ),
        reference=reference_agreement(found),
        latest=(latest := reports.latest_signed(found)),
        holter_not_signed=_holter_not_signed(withdrawn := _withdrawn(latest)),
        withdrawn_episodes=withdrawn,
        withdrawn_findings=documents.withdrawn_findings(
            latest, [f.code for f in analysis.findings]
        ),
        stale_score_reason=stale_reason,
        not_signed=NOT_SIGNED,
        pdf_ready=documents.readiness(db_session(), found),
        previous=previous,
        previous_read=(previous_read := reports.latest_signed(previous) if previous else None),
        # The previous read's values of low confidence, as its own page and PDF say them.
        previous_low=documents.low_confidence_values(previous, previous_read)
        if previous and previous_read
        else [],
        signers=reports.signers(db_session(), found),
        held=reports.held_from_patient(found, utcnow()),
        # A date of birth corrected after the upload leaves the recording time as it was
        # (signed reports are what was issued); the page says when it is before the birth.
        recorded_before_birth=before_birth(
            found.recording.acquired_at, found.patient.date_of_birth, hospital_zone()
        ),
        next_waiting=reports.next_waiting(db_session(), _actor(), found)
        if found.status is not ReportStatus.PRELIMINARY
        else None,
        urgency_names=URGENCY_NAMES,
        release_form=ReleaseForm(formdata=None, version_no=latest.version_no if latest else None),
        sign_form=sign_form,
        amend_form=amend_form,
        withdraw_form=_kinds_for(
            withdraw_form
            or WithdrawForm(formdata=None, prefix=WITHDRAW, row_version=found.row_version),
            found,
        ),
        withdrawn_words=entered_in_error.NOT_A_RECORD[entered_in_error.kind_of(found)],
        machine_cycle_s=reports.machine_cycle_s(found.versions[0]),
        af_not_ruled_out=_af_not_ruled_out(found.versions[0]),
        morphology_unread=MORPHOLOGY_UNREAD_HELP if morphology_unread(found) else "",
        signed_low=low_by_version.get(latest.id, []) if latest else [],
        low_by_version=low_by_version,
        next_step_labels={code: step.label for code, step in NEXT_STEPS.items()},
        not_signed_because=not_signed or [],
        statements=STATEMENTS,
        machine_labels=vocabulary.MACHINE_LABELS,
        statement_rules={  # for the picker's live check (the server checks again on sign)
            "rhythm": vocabulary.RHYTHM_STATEMENTS,
            "unreadable": vocabulary.UNREADABLE,
            "exclusions": vocabulary.EXCLUSIONS,
            "labels": STATEMENTS,
            "episodes": reports.read_as_episodes(found),
        },
        VersionKind=VersionKind,
    )


def _kinds_for(form: WithdrawForm, report: EcgReport) -> WithdrawForm:
    """The withdrawal's kinds this report can have: "read wrongly" only for a CSV
    (`entered_in_error.misread_possible`)."""
    if not entered_in_error.misread_possible(report):
        kept = [c for c in form.kind.choices or [] if c.value != WithdrawnKind.MISREAD]  # type: ignore[union-attr]
        form.kind.choices = kept
    return form


def _withdrawn(latest: ReportVersion | None) -> frozenset[str]:
    """The episode labels the latest signed read (`latest`) withdrew; none before signing."""
    return documents.withdrawn_episodes(latest) if latest else frozenset()


def _shaded(episodes: list[dict[str, Any]], withdrawn: frozenset[str]) -> list[dict[str, Any]]:
    """The episodes the chart shades, each saying whether the signed read withdrew it: the
    overview had shaded a withdrawn AF as it shades a signed one, while the episode tables and
    the Next finding stops said "the machine's call, not in the signed read"."""
    return [{**episode, "withdrawn": episode["label"] in withdrawn} for episode in episodes]


def _holter_not_signed(withdrawn: frozenset[str]) -> dict[str, bool]:
    """Which Holter summary figures the signed read withdrew (pauses, AF time), so the page
    marks them as the PDF does: the page had shown an amended read's withdrawn AF time bare."""
    return {"pauses": rhythm.PAUSE in withdrawn, "af": rhythm.AF in withdrawn}


@bp.route("/reports/<id:report_id>/documents.json")
@background_poll
@roles(*CLINICAL)
def documents_json(report_id: int) -> Response:
    """Whether the latest version's PDFs are rendered yet (the page polls it after signing);
    `withdrawn`: why there will be none, for a report withdrawn as entered in error meanwhile
    (the page then says so and offers no PDF)."""
    found = _report_or_404(report_id)
    withdrawn = found.status is ReportStatus.ENTERED_IN_ERROR
    return jsonify(
        version_no=found.versions[-1].version_no,
        ready=documents.readiness(db_session(), found),
        withdrawn=ReportWithdrawn.default_message if withdrawn else None,
    )


@bp.route("/reports/<id:report_id>/ecg.json")
@roles(*CLINICAL)
def ecg_json(report_id: int) -> Response | tuple[Response, int]:
    """The chart's samples; 410 with the reason in words (`error`) when the recording's
    stored files are missing or unreadable (`ecg_data.recording_for`)."""
    found = _report_or_404(report_id)
    # The viewer asks many times a minute (pan, zoom): one audit row per report, account and
    # minute is the record of who read the waveform.
    if audit.record_at_most_every(
        db_session(), WAVEFORM_AUDIT_WINDOW, "report.waveform", actor=_actor(),
        patient_id=found.patient_id, object_type="ecg_report", object_id=found.id,
    ):  # fmt: skip
        db_session().commit()
    analysis = machine_read(found)
    try:
        recording = ecg_data.recording_for(current_app.config["SETTINGS"].storage_dir, found)
    except RecordingFilesMissing as missing:
        return jsonify(error=missing.message), missing.status
    if request.args.get("overview"):
        lead = analysis.analysis_lead
        index = recording.lead_names.index(lead) if lead in recording.lead_names else 0
        stored = analysis.to_dict()  # episodes and flagged segments as the chart reads them
        withdrawn = _withdrawn(reports.latest_signed(found))
        return jsonify(
            duration_s=recording.duration_s,
            lead=recording.lead_names[index],
            overview=ecg_data.overview(recording, index),
            episodes=_shaded(stored["episodes"], withdrawn),
            quality=stored["quality"]["flagged_segments"],
            stops=_stops_on_the_clock(  # "Next finding"
                found, withdrawn_marked(finding_stops(analysis), withdrawn, NOT_SIGNED)
            ),
            hr_trend=ecg_data.heart_rate_trend(analysis),
        )
    start_s = request.args.get("start_s", 0.0, type=float)
    end_s = request.args.get("end_s", start_s + 10.0, type=float)
    data = ecg_data.window(recording, start_s, end_s)
    data["beats"] = ecg_data.beats_between(analysis, data["start_s"], data["end_s"])
    reference = reference_agreement(found)
    mismatches = reference.mismatches if reference else NO_MISMATCHES
    data["mismatches"] = asdict(mismatches.between(data["start_s"], data["end_s"]))
    return jsonify(data)


@bp.route("/reports/<id:report_id>/ecg-time.json")
@roles(*CLINICAL)
def ecg_time_json(report_id: int) -> Response | tuple[Response, int]:
    """Where the chart's "Go to" takes it: `into` (h:mm:ss into the recording) or `clock` (a
    time of day, when the file gave its start); 422 with the reason in words otherwise."""
    report = _report_or_404(report_id)
    recording, duration_s = report.recording, report.reading_duration_s
    try:
        if "clock" in request.args:
            if recording.acquired_at is None:
                raise NotInRecording(
                    "This file gave no start time, so a time of day cannot be placed in it: "
                    "type the time into the recording."
                )
            started = in_zone(recording.acquired_at, hospital_zone())
            t_s = at_time_of_day(request.args["clock"], started, duration_s)
        else:
            t_s = into_recording(request.args.get("into", ""), duration_s)
    except NotInRecording as error:
        return jsonify(error=str(error)), 422
    said = moment_text(t_s, duration_s, recording_clock(recording))
    return jsonify(t_s=t_s, said=said)


def _whole(value: float | None) -> float | None:
    """A measurement as signed: a whole number, half up, as every page shows it. A PR typed
    150.5 had been 150.5 through the REST API and 150 (half to even) on the PDF, the review
    page and FHIR (an integrator's audit)."""
    return None if value is None else float(math.floor(value + 0.5))


def _physician_read(form: SignForm) -> PhysicianRead:
    return PhysicianRead(
        rhythm_label=form.rhythm_label.data or "",
        findings=list(form.findings.data or []),
        conclusion=form.conclusion.data or "",
        patient_comment=form.patient_comment.data or "",
        next_steps=tuple(form.next_steps.data or ()),
        next_steps_note=form.next_steps_note.data or "",
        # A form without the measurement fields (an older page, a script) keeps the machine's;
        # with them, an empty field means "not measurable".
        measurements={name: _whole(getattr(form, name).data) for name in MEASUREMENTS}
        if any(name in request.form for name in MEASUREMENTS)
        else None,
    )


@bp.route("/reports/<id:report_id>/sign", methods=["POST"])
@roles(Role.DOCTOR)
def sign(report_id: int) -> Any:
    form = SignForm()
    try:
        found = _report_or_404(report_id)
    except NotAllowed:
        return _read_kept_after_reassignment(report_id, form)
    if form.validate_on_submit():
        try:
            return _commit_signature(
                form,
                found,
                lambda: reports.sign(
                    db_session(), found, actor=_actor(), password=form.password.data or "",
                    expected_row_version=form.row_version.data or 0, read=_physician_read(form),
                    patient_hold=_patient_hold(),
                ),
                "Report signed.",
            )  # fmt: skip
        except NotAllowed:  # removed by a read-again of its recording at that moment
            return _read_kept_after_reassignment(report_id, form)
    return _redisplay(found, form)


@bp.route("/reports/<id:report_id>/amend", methods=["POST"])
@roles(Role.DOCTOR)
def amend(report_id: int) -> Any:
    form = AmendForm()
    try:
        found = _report_or_404(report_id)
    except NotAllowed:
        return _read_kept_after_reassignment(report_id, form)
    if found.status is ReportStatus.PRELIMINARY:
        # Its page shows the sign form, not the amend form: the message had nowhere to stand,
        # and a bare 400 came back (an audit).
        flash("Only a signed report can be amended; sign it instead.", "error")
        return redirect(url_for("review.report", report_id=found.id))
    if form.validate_on_submit():
        withdrawn = found.status is ReportStatus.ENTERED_IN_ERROR  # said by the conflict
        if form.kept_over.data and not form.replaces_seen.data and not withdrawn:
            standing = documents.latest_version(found)
            changes = kept_read.differences(_physician_read(form), standing)
            form.replaces_seen.errors = [_kept_read_changes(standing, changes)]
            return _redisplay(found, form)
        return _commit_signature(
            form,
            found,
            lambda: reports.amend(
                db_session(), found, actor=_actor(), password=form.password.data or "",
                expected_row_version=form.row_version.data or 0, read=_physician_read(form),
                reason=form.reason.data or "", patient_hold=_patient_hold(),
            ),
            "Amendment signed.",
        )  # fmt: skip
    return _redisplay(found, form)


def _read_kept_after_reassignment(report_id: int, form: SignForm) -> tuple[str, int]:
    """Not signed, as the patient was assigned to another doctor while this one reviewed the
    report: a page saying so, with the doctor's own typing to copy, where a bare 404 had
    thrown their read away (a review audit, 2026-12-07). Nothing of the report is shown, as
    it is no longer theirs to see; a doctor who never had it open gets the plain 404."""
    sql = db_session()
    sql.rollback()
    away = reports.assigned_away_while_reviewing(sql, _actor(), report_id)
    if away is None:
        raise NotAllowed()
    audit.refused_access(sql, _actor(), 409)
    message = _not_signed_because(away)
    typed = [
        (field.label.text, field.data)
        for field in (form.rhythm_label, form.conclusion, form.patient_comment,
                      form.next_steps_note, getattr(form, "reason", None))
        if field is not None and (field.data or "").strip()
    ]  # fmt: skip
    return render_template("review/not_signed_reassigned.html", message=message, typed=typed), 409


def _not_signed_because(
    away: reports.AssignedAway | reports.MovedAway | reports.ReadAgainAway,
) -> str:
    """Why: a recording moved to another patient's record names neither that patient nor
    their doctor (they are not this doctor's to know)."""
    if isinstance(away, reports.ReadAgainAway):
        return (
            f"Not signed: this report was removed at {shown(away.read_again_at, hospital_zone())}"
            f" while you were reviewing: staff uploaded its recording again, and it is being "
            f"read again at {away.now}; its new report comes to the worklist when it is ready. "
            "Nothing was saved; your read is below to copy."
        )
    if isinstance(away, reports.MovedAway):
        return (
            f"Not signed: this recording was moved to another patient's record at "
            f"{shown(away.moved_at, hospital_zone())} while you were reviewing, so its report "
            "is no longer yours to see. Nothing was saved; your read is below to copy."
        )
    return (
        f"Not signed: {away.patient_name} was assigned to {away.doctor_name} at "
        f"{shown(away.assigned_at, hospital_zone())} while you were reviewing, so this report "
        f"is no longer yours to see. Ask {away.doctor_name} to sign it, or staff to assign the "
        "patient back to you. Nothing was saved; your read is below to copy."
    )


@bp.route("/reports/<id:report_id>/entered-in-error", methods=["POST"])
@roles(Role.DOCTOR)
def withdraw(report_id: int) -> Any:
    """Withdraw a signed report as entered in error (`services.entered_in_error`)."""
    found = _report_or_404(report_id)
    form = WithdrawForm(prefix=WITHDRAW)
    if found.status is ReportStatus.PRELIMINARY:  # its page has no withdrawal form to show it
        flash(entered_in_error.NOT_SIGNED_YET, "error")
        return redirect(url_for("review.report", report_id=found.id, _anchor="messages"))
    if form.validate_on_submit():
        try:
            saved, _ = save(
                form,
                lambda: entered_in_error.withdraw(
                    db_session(), found, form.reason.data or "",
                    kind=WithdrawnKind(form.kind.data), actor=_actor(),
                    password=form.password.data or "",
                    expected_row_version=form.row_version.data or 0,
                ),
            )  # fmt: skip
        except SigningConflict as conflict:
            db_session().rollback()
            flash(str(conflict), "error")
            return redirect(url_for("review.report", report_id=found.id, _anchor="messages"))
        if saved:
            flash("The report is withdrawn as entered in error.", "success")
            return redirect(url_for("review.report", report_id=found.id, _anchor="messages"))
    db_session().rollback()
    found = _report_or_404(found.id)
    return _review_page(found, SignForm(formdata=None), AmendForm(formdata=None), form), 400


def _patient_hold() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["SETTINGS"].patient_hold_hours)


@bp.route("/reports/<id:report_id>/release", methods=["POST"])
@roles(Role.DOCTOR)
def release(report_id: int) -> Any:
    """The doctor has talked with the patient: their held summary is theirs now."""
    found = _report_or_404(report_id)
    form = ReleaseForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        saved, _ = save(
            form,
            lambda: reports.release_to_patient(
                db_session(), found, actor=_actor(), version_no=form.version_no.data
            ),
        )
    except SigningConflict as conflict:
        db_session().rollback()
        flash(str(conflict), "error")
        return redirect(url_for("review.report", report_id=found.id, _anchor="messages"))
    flash("The patient can read the summary now." if saved else " ".join(form.form_errors),
          "success" if saved else "error")  # fmt: skip
    return redirect(url_for("review.report", report_id=found.id, _anchor="messages"))


def _commit_signature(form, found, change, message):  # type: ignore[no-untyped-def]
    try:
        saved, _ = save(form, change)
    except SigningConflict as conflict:
        # The current report with the message, as a page: a 409 redirect shows browsers a
        # bare "Redirecting..." page.
        # Said atop the sign section the page opens at (`#sign`), focused: at the page's top,
        # 2,900 px above, a doctor saw their own read under "Amend the signed report" and
        # took it as signed, and a screen reader said nothing (a browser audit).
        db_session().rollback()
        current = _report_or_404(found.id)
        if conflict.withdrawn:  # nothing is signed on it any more: no read kept to sign over
            return _review_page(current, SignForm(formdata=None), AmendForm(formdata=None),
                                None, [str(conflict)]), 409  # fmt: skip
        if conflict.unsigned:  # moved to another patient, unsigned: the read stays to sign
            kept_sign = SignForm()
            kept_sign.row_version.data = current.row_version
            kept_sign.row_version.raw_data = [str(current.row_version)]
            why = [f"{conflict} Your read is kept in the sign form below."]
            return _review_page(current, kept_sign, AmendForm(formdata=None), None, why), 409
        # The doctor's read is kept in the amend form, against the version that stands now:
        # it had been thrown away, to be typed again (a concurrency audit).
        kept = AmendForm()
        # The version that stands now, as the field renders it (it draws the posted value
        # first: the kept form had carried the stale version and could never be sent).
        kept.row_version.data = current.row_version
        kept.row_version.raw_data = [str(current.row_version)]
        why = [f"{conflict} Your read is kept in the amend form below."]
        standing = documents.latest_version(current)
        if changes := kept_read.differences(_physician_read(form), standing):
            # Signed as it is, it would replace what the other doctor signed: say what.
            kept.kept_over.data = kept.kept_over.raw_data = str(standing.version_no)
            why.append(_kept_read_changes(standing, changes))
        return _review_page(current, _prefilled_forms(current)[0], kept, None, why), 409
    if saved:  # the PDFs are rendered by the job worker (or on the first download)
        flash(message, "success")  # shown at the top: the form's "#sign" must not stay
        return redirect(url_for("review.report", report_id=found.id, _anchor="messages"))
    return _redisplay(found, form)


def _kept_read_changes(standing: ReportVersion, changes: list[str]) -> str:
    changed = "; ".join(changes) or "nothing"
    return (
        f"Signed as it is, your kept read would replace version {standing.version_no}, which "
        f"now stands: {changed}. Read that version above; to sign yours in its place, tick "
        '"I have read the version that now stands".'
    )


def _redisplay(found: EcgReport, form: SignForm) -> tuple[str, int]:
    """The review page again with the form's messages (nothing was signed)."""
    db_session().rollback()
    found = _report_or_404(found.id)
    if isinstance(form, AmendForm):
        return _review_page(found, SignForm(formdata=None), form), 400
    return _review_page(found, form, AmendForm(formdata=None)), 400


def _stops_on_the_clock(report: EcgReport, stops: list[Stop]) -> list[dict[str, Any]]:
    """The stops as the chart reads them, each with its time of day ("clock", "" when the
    file gave no start time: `local_time.recording_clock`)."""
    clock_time = recording_clock(report.recording)
    return [{**asdict(s), "clock": clock_time(s.t_s) if clock_time else ""} for s in stops]


@bp.route("/reports/<id:report_id>/report.pdf")
@roles(*CLINICAL)
def clinician_pdf(report_id: int) -> Response:
    """The clinician report of the newest version (preliminary ones say they are unsigned)."""
    found = _report_or_404(report_id)
    return send_document(found, DocumentKind.CLINICIAN)


def send_document(found: EcgReport, kind: DocumentKind) -> Response:
    """Render once, store, audit the download, send (shared with the patient portal). A HEAD
    request gets the headers and no download row: it took no PDF, and had been recorded as
    "downloaded an ECG report" (an access audit). It renders only a PDF not stored yet (its
    length is a header), which the next GET then sends."""
    sql = db_session()
    version = documents.latest_version(found)
    document, path = documents.ensure_document(  # RenderError: the 503 error page
        sql, found, version, kind, current_app.config["SETTINGS"]
    )
    if request.method != "HEAD":
        audit.record(
            sql, "report.download", actor=_actor(), patient_id=found.patient_id,
            object_type="report_document", object_id=document.id,
            details={"kind": kind.value, "version_no": version.version_no,
                     "sha256": document.sha256, **api_client()},
        )  # fmt: skip
    sql.commit()
    name = f"ecg-report-{found.id}-v{version.version_no}-{kind.value}.pdf"
    return send_file(path, mimetype="application/pdf", download_name=name, as_attachment=False)


@bp.route("/model")
@roles(*Role)
def model_info() -> Response | str:
    """The shipped classifier's model card (protocol, figures per database, limitations) and
    the rhythm rules' figures (`ml.rhythm_card`)."""
    from ml import rhythm_card
    from ml.classifier import read_card
    from ml.model_card import DATABASE_NAMES, figure_rows

    card = read_card()
    info = {
        "version": card.get("version"),
        "classes": card.get("classes"),
        "weights_sha256": card.get("weights_sha256"),
        "training": card.get("data", {}).get("train"),
        "test": card.get("data", {}).get("test"),
        "protocol": card.get("protocol", {}).get("rules", []),
        "figures": figure_rows(card),
        "floors": card.get("floors", []),
        "resampling": card.get("resampling", []),
        "noise": card.get("noise", []),
        "confusion": {
            **{
                f"{DATABASE_NAMES.get(db, db)} out of fold (end to end)": c[
                    "rows_reference_cols_predicted"
                ]
                for db, c in card.get("out_of_fold_end_to_end_confusion", {}).items()
            },
            "MIT-BIH DS2 (reference R peaks)": card.get("ds2_metrics", {}).get(
                "confusion_rows_reference_cols_predicted"
            ),
        },
        "ds2_metrics": {
            k: v for k, v in card.get("ds2_metrics", {}).items() if k in ("per_class", "accuracy")
        },
        "limitations": card.get("limitations", []),
        "rhythm": {
            "strips": rhythm_card.strip_rows(),
            "strip_calls": rhythm_card.strip_calls(),
            "strip_round": rhythm_card.strip_round_rows(),
            "strip_round_7": rhythm_card.strip_seeded_round_rows("round_7"),
            "strip_round_8": rhythm_card.strip_seeded_round_rows("round_8"),
            "strip_round_9": rhythm_card.strip_seeded_round_rows("round_9"),
            "strip_round_10": rhythm_card.strip_seeded_round_rows("round_10"),
            "strip_round_11": rhythm_card.strip_seeded_round_rows("round_11"),
            "af_round": rhythm_card.af_round_rows(),
            "ds2_af": rhythm_card.ds2_af(),
            "intervals": rhythm_card.interval_rows(),
        },
    }
    if request.accept_mimetypes.best == "application/json" or request.args.get("format") == "json":
        return jsonify(info)
    return render_template("review/model.html", info=info, classes=card.get("classes", []))


# Plotly's partial bundle (scatter, bar and pie traces; the review page draws only SVG
# scatter), committed under static/vendor/ with its licence, version and hash (README there).
# The version in the name lets browsers keep it for a year (portal/security_headers.py).
PLOTLY_BUNDLE = "plotly-basic-3.7.0.min.js"


@bp.context_processor
def _plotly_bundle() -> dict[str, str]:
    return {"plotly_bundle": f"vendor/{PLOTLY_BUNDLE}"}
