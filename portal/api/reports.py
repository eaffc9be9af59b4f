"""/api/v1/reports: list (filters and paging), read (the typed machine read, every version,
the physician's read, the risk scores) and the PDFs, served as the web serves them
(`review.routes.send_document`: rendered once, stored, every download audited).

Who sees which report is the web's rule (`services.reports.visible_reports`): staff all,
a doctor their patients', a patient their own signed reports and, as FHIR serves it, one
withdrawn as entered in error after they could read it (anyone else, or another's report:
404). A patient's token reads a report's status, dates, main finding in plain words
and its PDFs; the clinical parts (machine read, versions, risk scores) are null for it, as
the patient portal shows them only the summary PDF.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ml.analysis import EcgAnalysis
from portal import risk
from portal.access import roles, scopes
from portal.api.core import (
    PREFIX,
    REFERENCE_RECORD_NAME,
    Blueprint,
    ErrorSchema,
    PageArgs,
    PageMetaSchema,
    UtcDateTime,
    actor,
    audited,
    calendar_date,
    one_of,
    reference_record_flag,
    row_id,
    save_token_use,
)
from portal.db import db_session
from portal.local_time import as_utc, day_start_utc
from portal.models import (
    Account,
    DocumentKind,
    EcgRecording,
    EcgReport,
    ReportStatus,
    ReportVersion,
    RiskModel,
    RiskScore,
    Role,
    VersionKind,
    WithdrawnKind,
    utcnow,
)
from portal.review.routes import send_document
from portal.risk_words import percent_bound, raised_most_by_shown, score_points
from portal.services import documents, entered_in_error, myhealth, reference, reports
from portal.services.errors import NotAllowed, NotSignedYet
from portal.services.machine_read import machine_summary
from portal.services.risk_scores import SPEC_BY_MODEL, stale_reason

bp = Blueprint(
    "reports", __name__, tag="Reports",
    description="ECG reports: machine read, signed versions, risk scores, PDFs.",
)  # fmt: skip
READERS = (Role.STAFF, Role.DOCTOR, Role.PATIENT)
MEASUREMENTS = ("heart_rate_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms",
                "qtc_fridericia_ms", "qrs_axis_deg")  # fmt: skip
PDF = {"type": "string", "format": "binary"}
WITHDRAWN_NO_PDF = "Withdrawn as entered in error: no PDF (error code gone)"


# --- schemas -------------------------------------------------------------------------------


def _number(**kwargs: Any) -> ma.fields.Float:
    return ma.fields.Float(required=True, allow_none=True, **kwargs)


class FindingSchema(ma.Schema):
    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    risk = ma.fields.String(required=True, metadata={"description": "low, medium or high"})
    confidence = _number()
    detail = ma.fields.String(required=True)


class HeartRateSchema(ma.Schema):
    mean_bpm = _number()
    min_bpm = _number()
    max_bpm = _number()
    sdnn_ms = _number()
    rmssd_ms = _number()
    pnn50 = _number(metadata={"description": "fraction 0..1"})
    n_nn = ma.fields.Integer(required=True)
    hrv_reason = ma.fields.String(
        allow_none=True,
        metadata={"description": "why SDNN, RMSSD and pNN50 are null (absent in older reads)"},
    )
    rate_reason = ma.fields.String(
        allow_none=True,
        metadata={"description": "why mean/min/max_bpm are null (absent in older reads)"},
    )


class IntervalsSchema(ma.Schema):
    rr_ms = _number()
    pr_ms = _number()
    qrs_ms = _number()
    qt_ms = _number()
    qtc_bazett_ms = _number()
    qtc_fridericia_ms = _number()
    qrs_axis_deg = _number()
    n_beats = ma.fields.Integer(required=True)
    not_measurable = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), required=True,
        metadata={"description": "interval -> why it is not measurable"},
    )  # fmt: skip
    confidence = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), required=True,
        metadata={"description": "interval -> high or low"},
    )  # fmt: skip


class EpisodeSchema(ma.Schema):
    label = ma.fields.String(required=True)
    start_s = ma.fields.Float(required=True)
    end_s = ma.fields.Float(required=True)
    n_beats = ma.fields.Integer(required=True)


class SegmentSchema(ma.Schema):
    start_s = ma.fields.Float(required=True)
    end_s = ma.fields.Float(required=True)
    level = ma.fields.String(required=True, metadata={"description": "noisy or unusable"})
    reason = ma.fields.String(required=True)


class QualitySchema(ma.Schema):
    good_fraction = ma.fields.Float(required=True)
    flagged_segments = ma.fields.List(ma.fields.Nested(SegmentSchema), required=True)


class StripCallSchema(ma.Schema):
    label = ma.fields.String(required=True)
    text = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    af_probability = _number()


class MachineReadSchema(ma.Schema):
    """The analysis as stored (version 1, never changed), typed (`services.machine_read`);
    beat positions are left out."""

    model_version = ma.fields.String(required=True)
    fs_hz = ma.fields.Float(required=True)
    duration_s = ma.fields.Float(required=True)
    lead_names = ma.fields.List(ma.fields.String(), required=True)
    analysis_lead = ma.fields.String(required=True)
    analysis_lead_reason = ma.fields.String(required=True)
    rhythm_summary = ma.fields.String(required=True)
    main_finding = ma.fields.Nested(FindingSchema, required=True)
    findings = ma.fields.List(ma.fields.Nested(FindingSchema), required=True)
    heart_rate = ma.fields.Nested(HeartRateSchema, required=True)
    intervals = ma.fields.Nested(IntervalsSchema, required=True)
    beat_counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    class_probability_mean = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Float(), required=True
    )
    episodes = ma.fields.List(ma.fields.Nested(EpisodeSchema), required=True)
    quality = ma.fields.Nested(QualitySchema, required=True)
    notes = ma.fields.List(ma.fields.String(), required=True)
    classification_leads = ma.fields.List(ma.fields.String(), required=True)
    strip = ma.fields.Nested(
        StripCallSchema, required=True, allow_none=True,
        metadata={"description": "the one rhythm call of a strip of 60 s or less"},
    )  # fmt: skip
    pacemaker = ma.fields.Boolean(
        required=True,
        metadata={"description": "a paced read: staff noted a pacemaker, so no rhythm, beat "
                  "types or intervals were asserted"},
    )  # fmt: skip


class MeasurementsSchema(ma.Schema):
    heart_rate_bpm = _number()
    pr_ms = _number()
    qrs_ms = _number()
    qt_ms = _number()
    qtc_bazett_ms = _number()
    qtc_fridericia_ms = _number()
    qrs_axis_deg = _number()


class VersionSchema(ma.Schema):
    version_no = ma.fields.Integer(required=True)
    kind = one_of(VersionKind, required=True)
    signed_at = UtcDateTime(required=True, allow_none=True)
    signed_by = ma.fields.String(required=True, allow_none=True)
    amendment_reason = ma.fields.String(required=True, allow_none=True)
    rhythm_label = ma.fields.String(required=True, allow_none=True)
    findings = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "coded statements"}
    )
    conclusion = ma.fields.String(required=True, allow_none=True)
    patient_comment = ma.fields.String(required=True, allow_none=True)
    next_steps = ma.fields.List(ma.fields.String(), required=True)
    next_steps_note = ma.fields.String(required=True, allow_none=True)
    measurements = ma.fields.Nested(MeasurementsSchema, required=True)
    low_confidence = ma.fields.List(
        ma.fields.String(), required=True,
        metadata={"description": "the measurements (names as in `measurements`) that are the "
                  "machine's own values of low confidence, as the clinician PDF marks them"},
    )  # fmt: skip
    model_version = ma.fields.String(required=True, allow_none=True)


class RaisedBySchema(ma.Schema):
    factor = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    change_percent_points = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "null when the score is beyond its model's calibrated range "
            "(`more_than_percent` set): there the factors are ranked but not sized"
        },
    )


class RiskScoreSchema(ma.Schema):
    model = one_of(RiskModel, required=True)
    title = ma.fields.String(required=True)
    value = _number(metadata={"description": "in `unit`"})
    unit = ma.fields.String(required=True, allow_none=True)
    comparator = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": '"<=" when `value` is a bound, the risk at most it: GRACE '
            "6-month at 70 points or fewer, where Eagle's nomogram gives only \"0.8 % or "
            "less\" (FHIR's valueQuantity.comparator); null when `value` is an estimate"
        },
    )
    points = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "the GRACE score in points, which guidelines act on (over 140: an "
            "early invasive strategy) and `category` bands; null for the other models"
        },
    )
    category = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "the band in words: for GRACE the band of `points` by the published "
            "cut-offs on points (NSTE-ACS high: 141 or more in hospital), not of `value`, "
            "which comes from the GRACE continuous model (in hospital) or Eagle's nomogram "
            "(6 months) and may lie outside a band's registry death rate"
        },
    )
    not_computed_reason = ma.fields.String(required=True, allow_none=True)
    inputs_used = ma.fields.Dict(
        keys=ma.fields.String(), required=True, allow_none=True,
        metadata={"description": "the inputs the model read, and `sources`: per input its "
                  "`recorded_at` (UTC with its offset, to the minute), `clinical_input_id` "
                  "and `from` (clinical input or ECG)"},
    )  # fmt: skip
    contributions = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Float(), required=True, allow_none=True
    )
    stale_reason = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "why the score no longer fits the patient (computed for an age or "
            "sex since corrected), as the review page and clinician PDF say it; null when it "
            "fits. Not recomputed: the risk page computes today's."
        },
    )
    more_than_percent = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "the highest risk the model states as a figure (30 for Framingham "
            "2008 and ATP III), when `value` is above it: read the score as more than this, as "
            'the PDFs and FHIR (comparator ">") do; `value` is then the equation\'s '
            "extrapolation. null otherwise"
        },
    )
    raised_most_by = ma.fields.List(
        ma.fields.Nested(RaisedBySchema),
        required=True,
        allow_none=True,
        metadata={
            "description": "the factors that raise the risk most, largest first: the risk "
            "minus the risk with that factor alone at a healthy level (what the review and "
            "risk pages name); null for point scores (GRACE: see contributions) and scores "
            "stored before 2026-12-06"
        },
    )


class DocumentsSchema(ma.Schema):
    clinician_pdf = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "URL, null if not for you"}
    )
    patient_summary_pdf = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "URL once signed"}
    )
    ready = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Boolean(), required=True,
        metadata={"description": "kind -> already rendered (else made on the first download)"},
    )  # fmt: skip


class ReportSummarySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    patient_id = ma.fields.Integer(required=True)
    recording_id = ma.fields.Integer(required=True)
    job_id = ma.fields.Integer(required=True)
    status = one_of(ReportStatus, required=True)
    report_date = UtcDateTime(
        required=True, metadata={"description": "acquisition time (or upload time)"}
    )
    signed_at = UtcDateTime(required=True, allow_none=True)
    urgency = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "0 most urgent (Emergency: VT, VF, ST elevation, complete "
            "heart block) .. 5 routine; 6 withdrawn as entered in error (last); null for a "
            "patient"
        },
    )
    urgency_label = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the worklist's name of `urgency` (Emergency, AF, Pause, High, "
                  "Medium, Routine, Withdrawn); null for a patient"},
    )  # fmt: skip
    urgency_reason = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "why it sits there, as the worklist says (\"high risk score; "
                  "no urgent ECG finding\"); null for a patient"},
    )  # fmt: skip
    patient_release_at = UtcDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "when the patient may read the signed report: its signature, "
                  "or later while a dangerous finding waits to be discussed with them "
                  "(PATIENT_HOLD_HOURS); an exchange must not show it to the patient before. "
                  "Null while unsigned, and for a patient's token"},
    )  # fmt: skip
    held_from_patient = ma.fields.Boolean(
        required=True,
        allow_none=True,
        metadata={"description": "signed but not yet the patient's (see patient_release_at); "
                  "null while unsigned, and for a patient's token"},
    )  # fmt: skip
    withdrawn_at = UtcDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "when a doctor withdrew the signed report as entered in error "
                  "(status entered-in-error: not a true record of this patient's ECG, no PDF); "
                  "null otherwise"},
    )  # fmt: skip
    withdrawn_reason = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "why it was withdrawn; for a patient's token in their words, "
                  "as FHIR's conclusion gives it (`entered_in_error.for_the_patient`)"},
    )  # fmt: skip
    withdrawn_kind = ma.fields.String(
        required=True,
        allow_none=True,
        validate=ma.validate.OneOf([k.value for k in WithdrawnKind]),
        metadata={"description": "wrong-patient: another person's ECG filed under this "
                  "patient; misread: this patient's ECG read at a wrong sampling rate or in "
                  "wrong units (its file may since have been read again); null unless withdrawn"},
    )  # fmt: skip
    main_finding = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "null for a patient"}
    )
    main_finding_label = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "null for a patient"}
    )
    reference_record = reference_record_flag()
    reference_record_name = ma.fields.String(
        required=True, allow_none=True, metadata={"description": REFERENCE_RECORD_NAME}
    )
    pacemaker = ma.fields.Boolean(
        required=True,
        metadata={"description": "staff noted at upload that the patient has a pacemaker"},
    )


class ReportPageSchema(PageMetaSchema):
    items = ma.fields.List(ma.fields.Nested(ReportSummarySchema), required=True)


class ReportSchema(ReportSummarySchema):
    plain_finding = ma.fields.String(
        required=True, allow_none=True,
        metadata={"description": "the signed main finding in the patient's words"},
    )  # fmt: skip
    machine_read = ma.fields.Nested(MachineReadSchema, required=True, allow_none=True)
    versions = ma.fields.List(ma.fields.Nested(VersionSchema), required=True, allow_none=True)
    physician_read = ma.fields.Nested(
        VersionSchema, required=True, allow_none=True,
        metadata={"description": "the latest signed version (null before signing)"},
    )  # fmt: skip
    risk_scores = ma.fields.List(ma.fields.Nested(RiskScoreSchema), required=True, allow_none=True)
    documents = ma.fields.Nested(DocumentsSchema, required=True)


class StatusList(ma.fields.String):
    """One status or several, comma-separated ("final,amended": every signed report in one
    call, as FHIR's status search takes them)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[str]:  # type: ignore[override]
        text = super()._deserialize(value, attr, data, **kwargs)
        given = [part.strip() for part in text.split(",")]
        known = [s.value for s in ReportStatus]
        if not all(part in known for part in given):
            raise ma.ValidationError(f"Each status must be one of: {', '.join(known)}.")
        return given


_STATUS = "(preliminary|final|amended|entered-in-error)"
# What `StatusList` takes, in the document (it had allowed any text, the empty one included,
# which the API refuses: an integration audit's schemathesis run).
STATUS_LIST_PATTERN = rf"^{_STATUS}(,{_STATUS})*$"


class ReportListArgs(PageArgs):
    status = StatusList(
        metadata={
            "description": "preliminary, final, amended or entered-in-error; several "
            "comma-separated",
            "pattern": STATUS_LIST_PATTERN,
        }
    )
    patient_id = row_id()
    date_from = calendar_date(
        data_key="from", metadata={"description": "recorded on or after (hospital's days)"}
    )
    date_to = calendar_date(data_key="to", metadata={"description": "recorded on or before"})


# --- views ---------------------------------------------------------------------------------


def _visible_reports() -> Any:
    """The reports this token's account reads: a patient's also each one withdrawn as entered
    in error after they could read it, as FHIR serves it (`observation.visible_reports`). It
    had become a 404 here while FHIR said entered-in-error, so an app that had imported it
    kept another person's ECG as the patient's own (an interoperability audit, 2026-12-07)."""
    return reports.visible_reports(actor(), withdrawn_they_read=True)


def _withdrawn_reason(report: EcgReport, clinical: bool) -> str | None:
    """The doctor's reason for clinicians; for the patient, their words, as FHIR gives them."""
    if report.withdrawn_at is None or clinical:
        return report.withdrawn_reason
    return entered_in_error.for_the_patient(report)


def _summary(report: EcgReport) -> dict[str, Any]:
    """A report's list entry. For a patient's token its clinical coding is null (the main
    finding's code and label, the worklist urgency), as FHIR leaves their conclusion codes
    out: their words are `plain_finding` (an integration audit found the codes here)."""
    clinical = actor().role is not Role.PATIENT
    code = report.main_finding if clinical else None
    return {
        "id": report.id, "patient_id": report.patient_id, "recording_id": report.recording_id,
        "job_id": report.job_id, "status": report.status, "report_date": report.report_date,
        "signed_at": report.signed_at, "urgency": report.urgency if clinical else None,
        "urgency_label": reports.URGENCY_NAMES[report.urgency] if clinical else None,
        "urgency_reason": reports.urgency_reason(report) if clinical else None,
        "patient_release_at": report.patient_release_at if clinical else None,
        "held_from_patient": reports.held_from_patient(report, utcnow())
        if clinical and report.signed_at is not None
        else None,
        "withdrawn_at": report.withdrawn_at,
        "withdrawn_reason": _withdrawn_reason(report, clinical),
        "withdrawn_kind": entered_in_error.kind_of(report).value if report.withdrawn_at else None,
        "main_finding": code,
        "main_finding_label": reports.main_finding_label(report) if code else None,
        "reference_record": report.recording.is_reference,
        "reference_record_name": reference.reference_name(report.recording),
        "pacemaker": report.recording.pacemaker,
    }  # fmt: skip


def _version(version: ReportVersion) -> dict[str, Any]:
    author = db_session().get(Account, version.author_id) if version.author_id else None
    return {
        "version_no": version.version_no, "kind": version.kind,
        "signed_at": version.signed_at,
        "signed_by": author.display_name if author else None,
        "amendment_reason": version.amendment_reason, "rhythm_label": version.rhythm_label,
        "findings": list(version.findings or []), "conclusion": version.conclusion,
        "patient_comment": version.patient_comment,
        "next_steps": list(version.next_steps or []), "next_steps_note": version.next_steps_note,
        "measurements": {name: _as_signed(version, name) for name in MEASUREMENTS},
        "low_confidence": documents.low_confidence_values(version.report, version),
        "model_version": version.model_version,
    }  # fmt: skip


def _as_signed(version: ReportVersion, name: str) -> float | None:
    """A signed version's measurement in whole units, as its page, PDFs and FHIR give it: a
    QTc recomputed for the doctor's heart rate had reached REST as 423.0243885798233 ms beside
    the 423 the doctor saw and signed (a corrections audit, 2026-12-07). The machine's own
    version keeps its precision."""
    value = getattr(version, name)
    if value is None or version.kind is VersionKind.MACHINE:
        return value
    return float(round(value))


def _machine_read(analysis: EcgAnalysis) -> dict[str, Any]:
    return {
        "model_version": analysis.model_version, "fs_hz": analysis.fs_hz,
        "duration_s": analysis.duration_s, "lead_names": list(analysis.lead_names),
        "analysis_lead": analysis.analysis_lead,
        "analysis_lead_reason": analysis.analysis_lead_reason,
        "rhythm_summary": analysis.rhythm_summary, "main_finding": analysis.main_finding,
        "findings": analysis.findings, "heart_rate": analysis.heart_rate,
        "intervals": analysis.intervals, "beat_counts": analysis.beat_counts,
        "class_probability_mean": analysis.class_probability_mean,
        "episodes": analysis.episodes,
        "quality": {"good_fraction": analysis.good_quality_fraction,
                    "flagged_segments": analysis.flagged_segments},
        "notes": analysis.notes, "classification_leads": list(analysis.classification_leads),
        "strip": analysis.strip, "pacemaker": analysis.pacemaker,
    }  # fmt: skip


def _with_offsets(inputs_used: dict[str, Any] | None) -> dict[str, Any] | None:
    """The inputs a score used, each source's `recorded_at` with its offset, as every REST time
    is written: stored as naive UTC to the minute ("2026-12-07T09:20"), which RFC 3339 reads as
    the client's local time (an interoperability audit: an EHR in Paris dated the cholesterol
    an hour wrong)."""
    sources = (inputs_used or {}).get("sources")
    if not sources:
        return inputs_used
    dated = {
        keyword: source | {"recorded_at": _utc_text(source.get("recorded_at"))}
        for keyword, source in sources.items()
    }
    return {**(inputs_used or {}), "sources": dated}


def _utc_text(stored: str | None) -> str | None:
    """A stored source time ("2026-12-07T09:20", naive UTC) as "2026-12-07T09:20:00+00:00"."""
    if not stored:
        return stored
    return as_utc(dt.datetime.fromisoformat(stored)).isoformat()


def _risk_score(score: RiskScore, report: EcgReport) -> dict[str, Any]:
    spec = SPEC_BY_MODEL.get(score.model)
    return {
        "model": score.model, "title": spec.title if spec else score.model.value,
        "value": score.value, "unit": score.unit,
        "comparator": percent_bound(score.model, score_points(score)),
        "points": score_points(score),
        "category": score.category, "not_computed_reason": score.not_computed_reason,
        "inputs_used": _with_offsets(score.inputs_used),
        "contributions": score.contributions, "raised_most_by": raised_most_by_shown(score),
        "stale_reason": stale_reason(score, report.patient, report.report_date),
        "more_than_percent": risk.beyond_calibration(score.model, score.value),
    }  # fmt: skip


def _clinician_pdf_allowed() -> bool:
    return actor().role is not Role.PATIENT or bool(
        current_app.config["SETTINGS"].patients_get_clinician_pdf
    )


def _documents(report: EcgReport) -> dict[str, Any]:
    signed = report.status is not ReportStatus.PRELIMINARY
    base = f"{PREFIX}/reports/{report.id}"
    if report.status is ReportStatus.ENTERED_IN_ERROR:  # no PDF (`services.entered_in_error`)
        return {"clinician_pdf": None, "patient_summary_pdf": None, "ready": {}}
    return {
        "clinician_pdf": f"{base}/report.pdf" if _clinician_pdf_allowed() else None,
        "patient_summary_pdf": f"{base}/summary.pdf" if signed else None,
        "ready": documents.readiness(db_session(), report),
    }


@bp.route("/reports", methods=["GET"])
@roles(*READERS)
@scopes("reports:read")
@bp.arguments(ReportListArgs, location="query")
@bp.response(200, ReportPageSchema)
def list_reports(args: dict[str, Any]) -> dict[str, Any]:
    """List reports.

    The reports this account may see, newest first, filtered by status, patient and the days
    they were recorded (`from`, `to`: the hospital's days, both included)."""
    query = _visible_reports()
    if args.get("status") is not None:
        query = query.where(EcgReport.status.in_([ReportStatus(s) for s in args["status"]]))
    if args.get("patient_id") is not None:
        query = query.where(EcgReport.patient_id == args["patient_id"])
    zone = current_app.config["SETTINGS"].zone
    if args.get("date_from") is not None:
        query = query.where(EcgReport.report_date >= day_start_utc(args["date_from"], zone))
    if args.get("date_to") is not None:
        end = day_start_utc(args["date_to"] + dt.timedelta(days=1), zone)
        query = query.where(EcgReport.report_date < end)
    sql = db_session()
    total = sql.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, per_page = args["page"], args["per_page"]
    rows = list(
        sql.scalars(
            query.order_by(EcgReport.report_date.desc(), EcgReport.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
            .options(
                selectinload(EcgReport.recording).load_only(
                    EcgRecording.reference_record, EcgRecording.pacemaker
                ),
                selectinload(EcgReport.risk_scores),  # the urgency's reason may name them
            )
        )
    )
    filters = {k: str(args.get(k) or "") for k in ("status", "patient_id", "date_from", "date_to")}
    named = args.get("patient_id") if rows else None
    audited(
        "report.list", patient_id=named,
        details={"filters": filters, "page": page, "report_ids": [r.id for r in rows],
                 "patient_ids": sorted({r.patient_id for r in rows})},
    )  # fmt: skip
    if named is None:
        _audit_each_patient_listed(rows)
    sql.commit()
    return {"items": [_summary(r) for r in rows], "page": page, "per_page": per_page,
            "total": total, "pages": max(1, -(-total // per_page))}  # fmt: skip


def _audit_each_patient_listed(rows: list[EcgReport]) -> None:
    """One `report.list.patient` row per patient whose reports a list shows, with their
    report ids, so a search by MRN and the patient's own access page find it: the list's own
    row named them in its details only (an access audit)."""
    for patient_id in sorted({r.patient_id for r in rows}):
        theirs = [r.id for r in rows if r.patient_id == patient_id]
        audited("report.list.patient", patient_id=patient_id, details={"report_ids": theirs})


@bp.route("/reports/<id:report_id>", methods=["GET"])
@roles(*READERS)
@scopes("reports:read")
@bp.response(200, ReportSchema)
def read(report_id: int) -> dict[str, Any]:
    """Read a report.

    The typed machine read, every version, the physician's read (the latest signed version)
    and the risk scores, with links to its PDFs. For a patient's token the clinical parts are
    null (the patient portal gives patients the summary PDF)."""
    sql = db_session()
    report = reports.get_visible_report(sql, actor(), report_id, withdrawn_they_read=True)
    signed = report.status is not ReportStatus.PRELIMINARY
    # Withdrawn, none of its read for the patient: it may be another person's ECG.
    withdrawn_from_patient = (
        actor().role is Role.PATIENT and report.status is ReportStatus.ENTERED_IN_ERROR
    )
    body = _summary(report) | {
        "plain_finding": myhealth.plain_finding(report)
        if signed and not withdrawn_from_patient
        else None,
        "documents": _documents(report),
        "machine_read": None, "versions": None, "physician_read": None, "risk_scores": None,
    }  # fmt: skip
    if actor().role is not Role.PATIENT:
        latest = reports.latest_signed(report)
        body |= {
            "machine_read": _machine_read(machine_summary(report)),  # no beats in the API
            "versions": [_version(v) for v in report.versions],
            "physician_read": _version(latest) if latest else None,
            "risk_scores": [_risk_score(s, report) for s in sorted(report.risk_scores,
                                                           key=lambda s: s.model.value)],
        }  # fmt: skip
    audited("report.view", patient_id=report.patient_id, object_type="ecg_report",
            object_id=report.id)  # fmt: skip
    sql.commit()
    return body


@bp.route("/reports/<id:report_id>/report.pdf", methods=["GET"])
@roles(*READERS)
@scopes("reports:read")
@bp.response(200, PDF, content_type="application/pdf", description="The clinician report")
@bp.alt_response(410, schema=ErrorSchema, description=WITHDRAWN_NO_PDF)
def clinician_pdf(report_id: int) -> Response:
    """Download the clinician report (PDF).

    Of the newest version (a preliminary one says it is unsigned). Patients get it only where
    the portal lets them (PATIENTS_GET_CLINICIAN_PDF); elsewhere it is a 404 for them."""
    report = reports.get_visible_report(db_session(), actor(), report_id)
    if not _clinician_pdf_allowed():
        raise NotAllowed()
    save_token_use()
    return send_document(report, DocumentKind.CLINICIAN)


@bp.route("/reports/<id:report_id>/summary.pdf", methods=["GET"])
@roles(*READERS)
@scopes("reports:read")
@bp.response(200, PDF, content_type="application/pdf", description="The patient summary")
@bp.alt_response(410, schema=ErrorSchema, description=WITHDRAWN_NO_PDF)
def summary_pdf(report_id: int) -> Response:
    """Download the patient summary (PDF).

    The plain-language summary, once the report is signed (409 before)."""
    report = reports.get_visible_report(db_session(), actor(), report_id)
    if report.status is ReportStatus.PRELIMINARY:
        raise NotSignedYet()
    save_token_use()
    return send_document(report, DocumentKind.PATIENT)
