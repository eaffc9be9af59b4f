"""FHIR Observation: one per signed measurement of a report's latest signed version (LOINC,
UCUM), one per computed risk score (the model named in code.text), and the waveform itself
(MDC codes, one SampledData component per lead) in windows of at most 60 s
(`?start_s=&duration_s=`, default the first 10 s), so a 24-hour recording never becomes one
giant resource.

Observation ids: `<report id>-<what>`: hr, pr, qrs, qt, qtc (Bazett), qtcf (Fridericia),
axis, risk-<model>, ecg (the waveform); a clinical input's are `input-<id>-<what>`
(`clinical_input`). What a token sees follows the web portal: staff and
doctors everything of the reports they may open; a patient what their patient summary shows
(heart rate, the one risk figure it explains), or everything of the clinician report when
PATIENTS_GET_CLINICIAN_PDF=true."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import dropwhile
from typing import Any

import numpy as np
from flask import current_app, request
from werkzeug.wrappers import Response

from ml.recording import Recording, canonical_lead_name, standard_order
from portal import ecg_data, risk
from portal.access import api_client, roles, scopes
from portal.converters import MAX_ID, whole_number
from portal.db import db_session
from portal.fhir import clinical_input, codes
from portal.fhir.bundle import date_range, paging, searchset
from portal.fhir.http import (
    FhirError,
    actor,
    audit_read,
    bp,
    effective,
    instant,
    recording_start,
    resource_response,
    search_args,
)
from portal.fhir.patient import READERS, not_found, reference
from portal.models import (
    Account,
    EcgReport,
    ReportStatus,
    ReportVersion,
    RiskModel,
    RiskScore,
    Role,
    VersionKind,
    utcnow,
)
from portal.risk_words import band_text, model_title, percent_bound, score_points
from portal.services import audit, documents, entered_in_error, reports
from portal.services.reference import reference_marker
from portal.services.risk_scores import stale_reason, stale_since
from reports.plain_language import PATIENT_RISK_ORDER

DEFAULT_WINDOW_S = 10.0
MAX_WINDOW_S = 60.0
WAVEFORM_AUDIT_WINDOW = dt.timedelta(minutes=1)  # one audit row per report, token, minute
OBSERVATION_ID = re.compile(r"^([1-9][0-9]{0,9})-([a-z0-9-]{2,40})$")
SEARCH_PARAMETERS = {"patient", "subject", "code", "category", "date", "_id"}


@dataclass(frozen=True)
class Audience:
    """What of a report this account may receive."""

    clinician: bool  # staff or doctor: the clinical conclusion, all PDFs' content
    full: bool  # everything the clinician report holds (clinicians; patients if allowed)


def audience_of(account: Account) -> Audience:
    clinician = account.role in (Role.STAFF, Role.DOCTOR)
    allowed = current_app.config["SETTINGS"].patients_get_clinician_pdf
    return Audience(clinician=clinician, full=clinician or allowed)


@dataclass(frozen=True)
class Item:
    """An Observation of a report before it is built (its id and codes are known without
    reading the recording: searches filter and page these, then build one page)."""

    report: EcgReport
    slug: str
    codings: tuple[codes.Coding, ...]
    # "procedure" (an ECG measurement), with "vital-signs" for the heart rate: R4 requires
    # it of an Observation coded LOINC 8867-4 (the vital-signs profile; an integration audit
    # found `category=vital-signs` searches empty); none for a risk score.
    categories: tuple[str, ...]
    # A measurement an earlier signed version gave and this one withdrew (signed as not
    # measurable), or a risk score an earlier signature computed and the latest could not:
    # served as entered-in-error, never a result of the DiagnosticReport.
    withdrawn: bool = False
    # Of a report withdrawn as entered in error, for the patient's apps: entered-in-error with
    # no value (it may be another person's ECG), the withdrawal in their words.
    without_value: bool = False

    @property
    def id(self) -> str:
        return f"{self.report.id}-{self.slug}"

    @property
    def patient_id(self) -> int:
        return self.report.patient_id


def visible_reports(account: Account) -> Any:
    """The reports a token's account reads through FHIR: `reports.visible_reports`, and a
    patient's also each one withdrawn as entered in error after they could read it, served
    without its values (`Item.without_value`). It had become a 404 "does not exist", so an
    app that imported it as final kept another person's ECG as the patient's own (a
    data-protection audit, 2026-12-07)."""
    return reports.visible_reports(account, withdrawn_they_read=True)


def signed_version(report: EcgReport, version_no: int | None = None) -> ReportVersion | None:
    """The signed version an Observation or DiagnosticReport describes: the latest, or the
    one asked for (None: unsigned, or no such signed version)."""
    signed = [v for v in report.versions if v.kind is not VersionKind.MACHINE]
    if version_no is None:
        return signed[-1] if signed else None
    return next((v for v in signed if v.version_no == version_no), None)


def withdrawal_meta(report: EcgReport) -> dict[str, str] | None:
    """`meta` of a withdrawn report's current resources (its DiagnosticReport and each of its
    Observations): the withdrawal is their version after the latest signed one (it signs no
    new read, so it is no report version), updated when it was withdrawn. They had kept the
    signature's version and time: an EHR polling `_lastUpdated` found nothing, and one holding
    the signed version's ETag was answered 304, so neither learnt of the withdrawal (an
    interoperability audit, 2026-12-07). None while the report is not withdrawn."""
    if report.status is not ReportStatus.ENTERED_IN_ERROR or report.withdrawn_at is None:
        return None
    latest = signed_version(report)
    version_no = (latest.version_no if latest else len(report.versions)) + 1
    return {"versionId": str(version_no), "lastUpdated": instant(report.withdrawn_at)}


def readable_version(report: EcgReport, version_no: int, who: Audience) -> ReportVersion | None:
    """`signed_version(report, version_no)` if this audience may read it: a patient only the
    versions released to them (`reports.shown_to_patient`). A patient's app had read, through
    `_history`, a version held for a talk and amended before its release (an audit of the
    patient hold)."""
    version = signed_version(report, version_no)
    if version is None or who.clinician:
        return version
    if report.status is ReportStatus.ENTERED_IN_ERROR:  # its withdrawal only, no version's read
        return None
    return version if reports.shown_to_patient(report, version, utcnow()) else None


def _risk_slug(model: RiskModel) -> str:
    return "risk-" + model.value.replace("_", "-")


def _computed(report: EcgReport) -> list[RiskScore]:
    return sorted(
        (s for s in report.risk_scores if s.value is not None), key=lambda s: s.model.value
    )


def _stale(score: RiskScore) -> str | None:
    return stale_reason(score, score.report.patient, score.report.report_date)


def _patient_scores(scores: list[RiskScore]) -> list[RiskScore]:
    """The one risk figure the patient summary explains (`plain_language.patient_risk`): a
    first-event model's, none during an acute coronary syndrome (those are then not computed;
    a GRACE score computed without one had hidden a 10-year figure, an audit), nor one
    computed for an age or sex since corrected."""
    by_model = {s.model.value: s for s in scores if not _stale(s)}
    return next(([by_model[m]] for m in PATIENT_RISK_ORDER if m in by_model), [])


def items(report: EcgReport, who: Audience, version: ReportVersion | None = None) -> list[Item]:
    """The report's Observations for this audience, in reading order."""
    version = version or signed_version(report)
    found: list[Item] = []
    if version is not None:
        signed_before = [
            v for v in report.versions
            if v.kind is not VersionKind.MACHINE and v.version_no < version.version_no
        ]  # fmt: skip
        for measure in codes.MEASURES:
            withdrawn = getattr(version, measure.column) is None
            if withdrawn and all(getattr(v, measure.column) is None for v in signed_before):
                continue  # not measurable: the signed read says so, nothing to send
            if who.full or measure.slug == "hr":
                kinds = ("procedure", "vital-signs") if measure.slug == "hr" else ("procedure",)
                found.append(Item(report, measure.slug, measure.codings, kinds, withdrawn))
    found += _risk_items(report, who, version)
    if who.full:
        found.append(Item(report, "ecg", (codes.ECG_POTENTIAL,), ("procedure",)))
    if report.status is ReportStatus.ENTERED_IN_ERROR and not who.clinician:
        # The patient's apps: each as withdrawn, no value, no waveform (`visible_reports`).
        return [dataclasses.replace(i, without_value=True) for i in found if i.slug != "ecg"]
    return found


def _risk_item(report: EcgReport, model: RiskModel, withdrawn: bool = False) -> Item:
    coding = codes.Coding(codes.RISK_MODEL_SYSTEM, model.value, model_title(model))
    return Item(report, _risk_slug(model), (coding,), (), withdrawn)


def _computed_in(version: ReportVersion) -> set[str]:
    """The models a signature computed (`ReportVersion.risk_figures`; none known for a
    version signed before they were kept)."""
    return {m for m, f in (version.risk_figures or {}).items() if f.get("value") is not None}


def _patient_model(computed: set[str]) -> set[str]:
    """The model of the one risk figure a patient's summary gave, from a signature's models
    (`_patient_scores`, as signed: none during an acute coronary syndrome)."""
    return next(({m} for m in PATIENT_RISK_ORDER if m in computed), set())


def _risk_items(report: EcgReport, who: Audience, version: ReportVersion | None) -> list[Item]:
    """The report's risk-score Observations: the scores computed now; for an earlier signed
    version, its own (`ReportVersion.risk_figures`); and, withdrawn, each score an earlier
    signature computed (and this audience was given) that the latest could not. A score an
    amendment could no longer compute (an acute coronary syndrome recorded since) had become
    a 404, which an EHR that had imported it reads as a fault (an interoperability audit,
    2026-12-07)."""
    latest = signed_version(report)
    if version is not None and version is not latest:
        computed = _computed_in(version)
        shown = computed if who.full else _patient_model(computed)
        return [_risk_item(report, RiskModel(m)) for m in sorted(shown)]
    scores = _computed(report)
    found = [_risk_item(report, s.model) for s in (scores if who.full else _patient_scores(scores))]
    given_before: set[str] = set()
    for earlier in report.versions:
        if earlier is latest or readable_version(report, earlier.version_no, who) is None:
            continue
        computed = _computed_in(earlier)
        given_before |= computed if who.full else _patient_model(computed)
    now = {s.model.value for s in scores}
    known = {m.value for m in RiskModel}
    withdrawn = sorted(m for m in given_before - now if m in known)
    found += [_risk_item(report, RiskModel(m), withdrawn=True) for m in withdrawn]
    return sorted(found, key=lambda item: item.codings[0].code)


def reference_of(item: Item, version: ReportVersion | None = None) -> dict[str, str]:
    versioned = version is not None and item.slug in codes.MEASURE_BY_SLUG
    suffix = f"/_history/{version.version_no}" if versioned and version else ""
    return {"reference": f"Observation/{item.id}{suffix}"}


# --------------------------------------------------------------------------- building


def _signer(version: ReportVersion) -> str | None:
    author = db_session().get(Account, version.author_id) if version.author_id else None
    return author.display_name if author is not None else None


def _common(item: Item, status: str) -> dict[str, Any]:
    """The parts every Observation has. A report withdrawn as entered in error makes each of
    its Observations entered-in-error, whatever its version said (`services.entered_in_error`)."""
    report = item.report
    if report.status is ReportStatus.ENTERED_IN_ERROR:
        status = ReportStatus.ENTERED_IN_ERROR.value
    resource: dict[str, Any] = {"resourceType": "Observation", "id": item.id, "status": status}
    if item.categories:
        resource["category"] = [
            {"coding": [codes.CATEGORIES[kind].as_fhir()]} for kind in item.categories
        ]
    resource["code"] = {"coding": [c.as_fhir() for c in item.codings]}
    resource["subject"] = reference(report.patient)
    resource |= effective(report)
    return resource


def _measurement(item: Item, version: ReportVersion) -> dict[str, Any]:
    measure = codes.MEASURE_BY_SLUG[item.slug]
    value = getattr(version, measure.column)
    earlier = [
        v for v in item.report.versions
        if v.kind is not VersionKind.MACHINE and v.version_no < version.version_no
    ]  # fmt: skip
    # Amended if it differs from any earlier signed value since one was first given: compared
    # with the version before alone, a later amendment of the conclusion only had turned it
    # "final" again (an integrator's audit); and a value first given by an amendment, after
    # versions signing it not measurable (no Observation then), is final, R4's "amended" being
    # "subsequent to being final" (a corrections audit, 2026-12-07).
    given = [getattr(v, measure.column) for v in sorted(earlier, key=lambda v: v.version_no)]
    since_first = list(dropwhile(lambda earlier_value: earlier_value is None, given))
    changed = any(earlier_value != value for earlier_value in since_first)
    if value is None:  # given before, withdrawn by this version (`Item.withdrawn`)
        return _withdrawn(item, version)
    resource = _common(item, "amended" if changed else "final")
    signed_at = instant(version.signed_at or version.created_at)
    resource["meta"] = {"versionId": str(version.version_no), "lastUpdated": signed_at}
    resource["code"]["text"] = measure.text
    resource["issued"] = signed_at
    signer = _signer(version)
    if signer:
        resource["performer"] = [{"display": signer}]
    resource["valueQuantity"] = {
        "value": round(float(value), measure.decimals) if measure.decimals else round(value),
        "unit": codes.UNIT_NAMES[measure.unit],
        "system": codes.UCUM,
        "code": measure.unit,
    }
    if measure.column in documents.low_confidence_values(item.report, version):
        resource["note"] = [{"text": LOW_CONFIDENCE_NOTE}]
    return _ordered(resource)


# A signed value that is the machine's own of low confidence, as the clinician PDF marks it
# (`documents.low_confidence_values`): an EHR had received a clean PR of 219 ms (a browser
# audit, 2026-12-07).
LOW_CONFIDENCE_NOTE = (
    "Low confidence: the machine's measurement, which the signing doctor kept unchanged; "
    "check it on the ECG before relying on it"
)


def _withdrawn(item: Item, version: ReportVersion) -> dict[str, Any]:
    """A measurement an amendment signed as not measurable: status entered-in-error (R4:
    "withdrawn following previous final release"), no value, with when and why. It had become
    a 404, which an EHR that had imported the value reads as a fault, never as a retraction
    (an integrator's audit)."""
    measure = codes.MEASURE_BY_SLUG[item.slug]
    resource = _common(item, "entered-in-error")
    signed_at = instant(version.signed_at or version.created_at)
    resource["meta"] = {"versionId": str(version.version_no), "lastUpdated": signed_at}
    resource["code"]["text"] = measure.text
    resource["issued"] = signed_at
    resource["dataAbsentReason"] = {"coding": [codes.NOT_MEASURABLE.as_fhir()]}
    reason = version.amendment_reason or "no reason given"
    resource["note"] = [{"text": f"Withdrawn by the amendment of version {version.version_no}: "
                         f"signed as not measurable ({reason})."}]  # fmt: skip
    return _ordered(resource)


def _withdrawn_for_patient(item: Item) -> dict[str, Any]:
    """An Observation of a withdrawn report, for the patient's apps: entered-in-error, what it
    was (its code), the withdrawal in their words, and no value: it may be another person's."""
    resource = _common(item, "entered-in-error")
    resource["meta"] = withdrawal_meta(item.report)
    measure = codes.MEASURE_BY_SLUG.get(item.slug)
    resource["code"]["text"] = measure.text if measure else model_title(_risk_model(item))
    resource["note"] = [{"text": entered_in_error.for_the_patient(item.report)}]
    return _ordered(resource)


def _risk_model(item: Item) -> RiskModel:
    return RiskModel(item.codings[0].code)


def _risk_as_signed(item: Item, version: ReportVersion) -> dict[str, Any]:
    """A risk score as an earlier signature computed it (`ReportVersion.risk_figures`): its
    `_history/<version>`, final or amended as that version was."""
    from portal.services.documents import _predicts

    model = _risk_model(item)
    figure = (version.risk_figures or {})[model.value]
    resource = _common(item, "amended" if version.kind is VersionKind.AMENDMENT else "final")
    signed_at = instant(version.signed_at or version.created_at)
    resource["meta"] = {"versionId": str(version.version_no), "lastUpdated": signed_at}
    resource["code"]["text"] = model_title(model)
    resource["issued"] = signed_at
    resource["valueQuantity"] = _risk_quantity(model, float(figure["value"]))
    if figure.get("category"):
        resource["interpretation"] = [{"text": figure["category"]}]
    _points(resource, model, figure.get("points"))
    resource["note"] = [{"text": f"Predicts {_predicts(model.value)}."}]
    resource["note"] += _beyond_calibration_note(model, float(figure["value"]))
    return _ordered(resource)


def _risk_quantity(model: RiskModel, value: float) -> dict[str, Any]:
    """A risk in %: above the highest figure the model states (`risk.beyond_calibration`),
    that figure with comparator ">" (R4's Quantity.comparator), as the PDFs say "> 30 %": an
    EHR reading `value` alone had charted an extrapolated 99.9 % as a certainty (a risk
    audit); the equation's figure is in the note (`_beyond_calibration_note`)."""
    ceiling = risk.beyond_calibration(model, value)
    if ceiling is None:
        return {"value": round(value, 1), "unit": "%", "system": codes.UCUM, "code": "%"}
    return {"value": ceiling, "comparator": ">", "unit": "%", "system": codes.UCUM, "code": "%"}


def _beyond_calibration_note(model: RiskModel, value: float) -> list[dict[str, str]]:
    ceiling = risk.beyond_calibration(model, value)
    if ceiling is None:
        return []
    said = f"more than {ceiling:.0f} %"
    return [{"text": f"The equation gives {value:.1f} %, beyond the highest risk the model "
                     f"states as a figure: read as {said}."}]  # fmt: skip


def _points(resource: dict[str, Any], model: RiskModel, points: int | None) -> None:
    """A GRACE score's points beside its percentage: a component in "{score}", and the
    interpretation the band of those points ("160 points: NSTE-ACS high (≥ 141 points), ...").
    The percentage alone beside "NSTE-ACS high, STEMI high" had read as a high 2.2 %, where
    high is a band of points (an audit, 2026-12-07). A percentage the nomogram gives only as a
    bound carries its comparator ("<=" 0.8 %: it had been sent as exactly 0.8)."""
    if points is None:
        return
    if bound := percent_bound(model, points):
        resource["valueQuantity"]["comparator"] = bound
    resource["interpretation"] = [{"text": f"{points} points: {band_text(model, points, None)}"}]
    resource["component"] = [{
        "code": {"coding": [codes.RISK_POINTS.as_fhir()], "text": codes.RISK_POINTS.display},
        "valueQuantity": {"value": points, "unit": codes.POINTS_UNIT, "system": codes.UCUM,
                          "code": codes.POINTS_UNIT},
    }]  # fmt: skip


def _risk_withdrawn(item: Item) -> dict[str, Any]:
    """A risk score an earlier signature computed and the latest could not: entered-in-error
    (R4: "withdrawn following previous final release", as `_withdrawn` for a measurement), no
    value, with why it is not computed now."""
    report = item.report
    latest = signed_version(report)
    assert latest is not None  # withdrawn only by a signature
    model = _risk_model(item)
    score = next((s for s in report.risk_scores if s.model is model), None)
    resource = _common(item, "entered-in-error")
    signed_at = instant(latest.signed_at or latest.created_at)
    resource["meta"] = {"versionId": str(latest.version_no), "lastUpdated": signed_at}
    resource["code"]["text"] = model_title(model)
    resource["issued"] = signed_at
    resource["dataAbsentReason"] = {"coding": [codes.NOT_COMPUTED.as_fhir()]}
    why = (score.not_computed_reason if score is not None else None) or "not computed"
    how = "amendment" if latest.kind is VersionKind.AMENDMENT else "signature"
    note = f"Withdrawn by the {how} of version {latest.version_no}: {why}."
    if latest.amendment_reason:
        note += f" Reason for the amendment: {latest.amendment_reason}"
    resource["note"] = [{"text": note}]
    return _ordered(resource)


def stale_meta(score: RiskScore, latest: ReportVersion | None) -> dict[str, str] | None:
    """`meta` of a risk score's current read once it is no longer current (`_stale`): a
    version after the signed one, of the time it went stale (`risk_scores.stale_since`), so
    its versionId and ETag change. A back-dated cholesterol had added the "Not current" note
    under the signed version's versionId, lastUpdated and ETag: an EHR holding `W/"2"` was
    answered 304 and never learnt of it, and `_history/2` carried the note too (a risk-score
    audit, 2026-12-07). Not an integer: the next signature's number would name it again.
    None while the score is current."""
    staleness = stale_since(score, score.report.patient, score.report.report_date)
    if staleness is None:
        return None
    reason, since = staleness
    # Named by what it says, not when: a later edit of the patient's phone or name moved the
    # time of a stale age and so the version, and the version served before read 404 (a review).
    said = hashlib.sha256(reason.encode()).hexdigest()[:12]
    signed_no = latest.version_no if latest else 1
    return {"versionId": f"{signed_no}-stale-{said}", "lastUpdated": instant(since)}


def _risk(item: Item, current: bool = True) -> dict[str, Any]:
    """A risk score as computed at the latest signature: as it stands (`current`, with a note
    and a version of its own once not current, `stale_meta`), or as signed (its `_history`)."""
    from portal.services.documents import _predicts

    report = item.report
    score = next(s for s in report.risk_scores if _risk_slug(s.model) == item.slug)
    # Recomputed at every signature: its version is the latest signature's, and an amendment
    # marks it amended. An EHR that had imported 9.0 % (low) saw 38.4 % (high) under the same
    # "final" and no version (an integrator's audit).
    latest = signed_version(report)
    status = {ReportStatus.FINAL: "final", ReportStatus.AMENDED: "amended"}
    resource = _common(item, status.get(report.status, "preliminary"))
    resource["meta"] = {"versionId": str(latest.version_no if latest else 1),
                        "lastUpdated": instant(score.created_at)}  # fmt: skip
    resource["code"]["text"] = model_title(score.model)
    resource["issued"] = instant(score.created_at)
    resource["valueQuantity"] = _risk_quantity(score.model, float(score.value or 0.0))
    if score.category:
        resource["interpretation"] = [{"text": score.category}]
    _points(resource, score.model, score_points(score))
    resource["note"] = [{"text": f"Predicts {_predicts(score.model.value)}."}]
    resource["note"] += _beyond_calibration_note(score.model, float(score.value or 0.0))
    stale = _stale(score) if current else None
    if stale:  # an EHR had imported it as it stood (an audit); still final: its value stands
        resource["note"].append({"text": f"Not current: {stale}."})
        resource["meta"] = stale_meta(score, latest) or resource["meta"]
    return _ordered(resource)


@dataclass(frozen=True)
class Window:
    start_s: float
    duration_s: float


def window_arg() -> Window:
    """`start_s` (default 0) and `duration_s` (default 10, at most 60) of the waveform, each
    at most once, and no other parameter: `start=3600` (misspelt) and `start_s=1&start_s=2`
    had answered seconds 0-10 and 1-11 as asked, a viewer labelling the wrong stretch of ECG
    (an integrator's audit)."""
    given = search_args({"start_s", "duration_s"})
    for name, sent in given.items():
        if len(sent) > 1:
            raise FhirError(400, f"{name} is given once.", "invalid", name)
    values = {}
    for name, default in (("start_s", 0.0), ("duration_s", DEFAULT_WINDOW_S)):
        text = given.get(name, [""])[0].strip()
        try:
            values[name] = float(text) if text else default
        except ValueError:
            raise FhirError(400, f"{name} is a number of seconds.", "invalid", name) from None
        if not np.isfinite(values[name]) or values[name] < 0:
            raise FhirError(400, f"{name} is a number of seconds, 0 or more.", "invalid", name)
    if not 0 < values["duration_s"] <= MAX_WINDOW_S:
        raise FhirError(
            400, f"duration_s is more than 0 and at most {MAX_WINDOW_S:g} s: ask for the next "
            "window with start_s.", "too-costly", "duration_s",
        )  # fmt: skip
    return Window(values["start_s"], values["duration_s"])


def _samples(values: np.ndarray) -> str:
    """Microvolts as SampledData.data: integers, "E" where the recording has a gap."""
    micro = np.round(values * 1000.0)
    text = np.where(np.isfinite(micro), np.nan_to_num(micro).astype(np.int64).astype(str), "E")
    return " ".join(text.tolist())


def _lead_coding(lead: str) -> codes.Coding:
    if lead.strip().upper().startswith("ML"):  # a modified (monitoring) lead is not the lead
        return codes.ECG_POTENTIAL
    return codes.lead_coding(canonical_lead_name(lead))


def waveform(item: Item, recording: Recording, where: Window) -> dict[str, Any]:
    report = item.report
    if where.start_s >= recording.duration_s:
        raise FhirError(400, f"start_s is beyond the recording ({recording.duration_s:.1f} s).",
                        "invalid", "start_s")  # fmt: skip
    fs = recording.fs_hz
    first = round(where.start_s * fs)
    last = min(recording.n_samples, round((where.start_s + where.duration_s) * fs))
    if last <= first:  # FHIR allows no empty SampledData.data (the window held no sample)
        raise FhirError(400, f"The window from start_s {where.start_s:g} s holds no sample of "
                        f"the recording ({recording.duration_s:.1f} s at {fs:g} Hz).",
                        "invalid", "start_s")  # fmt: skip
    start_s, end_s = first / fs, last / fs
    signed = report.status in (ReportStatus.FINAL, ReportStatus.AMENDED)
    resource = _common(item, "final" if signed else "preliminary")
    resource["code"]["text"] = "ECG waveform"
    resource.pop("effectiveDateTime", None)
    began = recording_start(report)
    resource["effectivePeriod"] = {
        "start": instant(began + dt.timedelta(seconds=start_s), precise=True),
        "end": instant(began + dt.timedelta(seconds=end_s), precise=True),
    }
    resource["device"] = {
        "display": f"{report.recording.file_format.upper()} recording, {fs:g} Hz, "
        f"{recording.n_leads} lead(s), {recording.duration_s:.1f} s"
    }
    resource["note"] = [{
        "text": f"Samples from {start_s:.3f} s to {end_s:.3f} s of a {recording.duration_s:.1f}-s "
        f"recording, in microvolts (origin 0 mV, factor 0.001). Ask for other windows with "
        f"?start_s=&duration_s= (at most {MAX_WINDOW_S:g} s)."
    }]  # fmt: skip
    components = []
    for lead in standard_order(list(recording.lead_names)):
        index = recording.lead_names.index(lead)
        components.append({
            "code": {"coding": [_lead_coding(lead).as_fhir()], "text": f"Lead {lead}"},
            "valueSampledData": {
                "origin": {"value": 0, "unit": "mV", "system": codes.UCUM, "code": "mV"},
                "period": round(1000.0 / fs, 6),
                "factor": 0.001,
                "dimensions": 1,
                "data": _samples(recording.signal_mv[first:last, index]),
            },
        })  # fmt: skip
    resource["component"] = components
    return _ordered(resource)


ORDER = ("resourceType", "id", "meta", "status", "category", "code", "subject",
         "effectiveDateTime", "effectivePeriod", "issued", "performer", "valueQuantity",
         "dataAbsentReason", "interpretation", "note", "device", "component")  # fmt: skip


def _ordered(resource: dict[str, Any]) -> dict[str, Any]:
    return {key: resource[key] for key in ORDER if key in resource}


def build(item: Item, version: ReportVersion | None = None, where: Window | None = None) -> Any:
    """The Observation as it stands (`version` None), or as an earlier signed version had it."""
    current = version is None
    if item.without_value:
        resource = _withdrawn_for_patient(item)
    elif item.slug in codes.MEASURE_BY_SLUG:
        version = version or signed_version(item.report)
        assert version is not None
        resource = _measurement(item, version)
    elif item.slug == "ecg":
        storage = current_app.config["SETTINGS"].storage_dir
        recording = ecg_data.recording_for(storage, item.report)
        resource = waveform(item, recording, where or Window(0.0, DEFAULT_WINDOW_S))
    elif item.withdrawn:
        resource = _risk_withdrawn(item)
    elif version is not None and version is not signed_version(item.report):
        resource = _risk_as_signed(item, version)
    else:
        resource = _risk(item, current)
    withdrawal = withdrawal_meta(item.report) if current else None
    if withdrawal is not None and "meta" in resource:  # the waveform has no version
        resource["meta"] |= withdrawal
    return _tagged_if_reference(resource, item.report)


def _tagged_if_reference(resource: dict[str, Any], report: EcgReport) -> dict[str, Any]:
    """An Observation of a reference record carries the DiagnosticReport's tag: teaching/QA
    material, not the patient's own ECG, wherever a client meets it."""
    if reference_marker(report.recording) is None:
        return resource
    meta = {**resource.get("meta", {}), "tag": [codes.REFERENCE_RECORD.as_fhir()]}
    tagged = {key: value for key, value in resource.items() if key != "meta"}
    return {
        "resourceType": tagged.pop("resourceType"),
        "id": tagged.pop("id"),
        "meta": meta,
        **tagged,
    }


# --------------------------------------------------------------------------- routes


def _item_or_404(observation_id: str, version_no: int | None = None) -> tuple[Item, Any]:
    match = OBSERVATION_ID.match(observation_id)
    what = f"Observation/{observation_id[:60]}"
    if match is None or int(match[1]) > MAX_ID:  # a report id past the column: no such
        raise not_found(what)
    report = db_session().scalar(visible_reports(actor()).where(EcgReport.id == int(match[1])))
    if report is None:
        raise not_found(what)
    who = audience_of(actor())
    if version_no is not None and _is_withdrawal(report, match[2], version_no):
        version_no = None  # the withdrawal's version is the current one, read back
    version = readable_version(report, version_no, who) if version_no is not None else None
    # A measurement or a risk score has a version per signature (a risk score's as it kept
    # it, `_risk_items`); the waveform none.
    versioned = match[2] in codes.MEASURE_BY_SLUG or match[2].startswith("risk-")
    if version_no is not None and (version is None or not versioned):
        raise not_found(f"{what}/_history/{version_no}")
    found = next((i for i in items(report, who, version) if i.slug == match[2]), None)
    if found is None:
        raise not_found(what)
    return found, version


def _is_withdrawal(report: EcgReport, slug: str, version_no: int) -> bool:
    """Whether `_history/<version_no>` names the version a withdrawal as entered in error made
    (`withdrawal_meta`): read back as the current Observation, as its `meta.versionId` says."""
    withdrawal = withdrawal_meta(report)
    return slug != "ecg" and withdrawal is not None and withdrawal["versionId"] == str(version_no)


@bp.route("/Observation/<observation_id>", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def observation_read(observation_id: str) -> Response:
    if (entry := clinical_input.item_or_404(observation_id)) is not None:
        return _input_response(entry)
    item, _ = _item_or_404(observation_id)
    report = item.report
    if item.slug == "ecg":
        where = window_arg()
        resource = build(item, where=where)
        if audit.record_at_most_every(
            db_session(), WAVEFORM_AUDIT_WINDOW, "fhir.waveform.read", actor=actor(),
            patient_id=report.patient_id, object_type="ecg_report", object_id=report.id,
            details={"start_s": where.start_s, "duration_s": where.duration_s,
                     **api_client()},
        ):  # fmt: skip
            db_session().commit()
        return resource_response(resource)
    resource = build(item)
    audit_read("fhir.observation.read", patient_ids=[report.patient_id],
               object_type="ecg_report", object_id=report.id,
               details={"observation": item.id})  # fmt: skip
    return resource_response(resource)


@bp.route("/Observation/<observation_id>/_history/<id:version_no>", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def observation_vread(observation_id: str, version_no: int) -> Response:
    """A measurement as an earlier signed version had it (the version's number)."""
    if (entry := clinical_input.item_or_404(observation_id)) is not None:
        if version_no != 1:  # a clinical input is never edited: version 1 only
            raise not_found(f"Observation/{observation_id}/_history/{version_no}")
        return _input_response(entry)
    item, version = _item_or_404(observation_id, version_no)
    audit_read("fhir.observation.read", patient_ids=[item.report.patient_id],
               object_type="ecg_report", object_id=item.report.id,
               details={"observation": item.id, "version_no": version_no})  # fmt: skip
    return resource_response(build(item, version))


@bp.route("/Observation/<observation_id>/_history/<version_id>", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def observation_vread_stale(observation_id: str, version_id: str) -> Response:
    """A risk score's current read by the version it has since it is no longer current
    (`stale_meta`): the current version is read back by `_history` too."""
    item, _ = _item_or_404(observation_id)
    resource = build(item) if item.slug.startswith("risk-") else {}
    if resource.get("meta", {}).get("versionId") != version_id:
        raise _stale_version_gone(item, version_id) or not_found(
            f"Observation/{observation_id[:60]}/_history/{version_id[:20]}"
        )
    audit_read("fhir.observation.read", patient_ids=[item.report.patient_id],
               object_type="ecg_report", object_id=item.report.id,
               details={"observation": item.id, "version": version_id})  # fmt: skip
    return resource_response(resource)


STALE_VERSION = re.compile(r"([1-9][0-9]{0,8})-stale-[0-9a-f]{12}")


def _stale_version_gone(item: Item, version_id: str) -> FhirError | None:
    """410 Gone for a stale version (`stale_meta`) of a score its signature computed, which the
    current read no longer is: its note is not kept, and the score it read is recomputed in
    place at the next signature (`risk_scores.store_report_scores`), so it cannot be rebuilt.
    It had answered 404 "does not exist" once the report was amended, for a version served as
    current (a review, 2026-12-07). None: no such version, a 404."""
    match = STALE_VERSION.fullmatch(version_id)
    if match is None or not item.slug.startswith("risk-"):
        return None
    signed = readable_version(item.report, int(match[1]), audience_of(actor()))
    if signed is None or _risk_model(item).value not in _computed_in(signed):
        return None
    return FhirError(
        410,
        f"Observation/{item.id}/_history/{version_id}: a version served while the score "
        f"signed in version {signed.version_no} was no longer current; it is not kept, and "
        "cannot be rebuilt once the report is signed again or the note has changed. Read "
        f"_history/{signed.version_no} for the score as signed, and Observation/{item.id} "
        "for where it stands now.",
        "deleted",
    )


def _input_response(entry: clinical_input.InputItem) -> Response:
    audit_read("fhir.observation.read", patient_ids=[entry.patient_id],
               object_type="clinical_input", object_id=entry.row.id,
               details={"observation": entry.id})  # fmt: skip
    return resource_response(clinical_input.build_input(entry))


def build_any(item: Item | clinical_input.InputItem) -> Any:
    """An ECG's Observation or a clinical input's, as it stands."""
    if isinstance(item, clinical_input.InputItem):
        return clinical_input.build_input(item)
    return build(item)


def patient_id_arg(args: dict[str, list[str]], name: str) -> int | None:
    """`patient=123`, `patient=Patient/123`, `subject=Patient/123` -> 123."""
    values = args.get(name, [])
    if not values:
        return None
    text = values[-1].strip().removeprefix(request.url_root + "fhir/r4/")
    number = whole_number(text.removeprefix("Patient/"))
    if number is None or len(values) > 1:
        raise FhirError(400, f"{name} is one Patient id (e.g. {name}=Patient/123).", "invalid",
                        name)  # fmt: skip
    return number


def _token_matches(codings: Iterable[codes.Coding], text: str) -> bool:
    """A token search value (comma = or) against codings: `code` in any system,
    `system|code` in that system only, `system|` any code of that system, `|code` in none
    (every coding here has a system). A category's system had been dropped, so
    `category=http://wrong.example|vital-signs` found the heart rates, and `system|` had
    matched nothing (an interoperability audit, 2026-12-07)."""
    for wanted in text.split(","):
        system, bar, code = wanted.strip().rpartition("|")
        any_code = bool(bar) and not code
        for coding in codings:
            if (any_code or coding.code == code) and (not bar or coding.system == system):
                return True
    return False


@bp.route("/Observation", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def observation_search() -> Response:
    """Observations of one patient (patient or subject is required): by code
    (`system|code`), category, date (of the ECG, or when a clinical input was measured), _id.
    The ECGs' first, then the clinical inputs' (`clinical_input`), newest first."""
    args = search_args(SEARCH_PARAMETERS)
    where = paging()
    patient_id = patient_id_arg(args, "patient") or patient_id_arg(args, "subject")
    ids = [i.strip() for v in args.get("_id", []) for i in v.split(",")]
    report_ids = [int(m[1]) for i in ids if (m := OBSERVATION_ID.match(i))]
    input_ids = [int(m[1]) for i in ids if (m := clinical_input.INPUT_ID.match(i))]
    if patient_id is None and not ids:
        raise FhirError(400, "Search Observations of one patient: patient=Patient/<id>.",
                        "required", "patient")  # fmt: skip
    query = visible_reports(actor())
    if patient_id is not None:
        query = query.where(EcgReport.patient_id == patient_id)
    if ids:
        query = query.where(EcgReport.id.in_(report_ids))
    zone = current_app.config["SETTINGS"].zone
    dates = [date_range("date", text, zone) for text in args.get("date", [])]
    for when in dates:
        query = query.where(when.sql(EcgReport.report_date))
    found = (
        db_session()
        .scalars(query.order_by(EcgReport.report_date.desc(), EcgReport.id.desc()))
        .all()
    )
    who = audience_of(actor())
    matches: list[Item | clinical_input.InputItem] = [
        item for report in found for item in items(report, who)
    ]
    matches += clinical_input.input_items(patient_id, input_ids if ids else None, dates)
    for text in args.get("code", []):
        matches = [item for item in matches if _token_matches(item.codings, text)]
    for text in args.get("category", []):
        matches = [
            item for item in matches
            if _token_matches([codes.CATEGORIES[kind] for kind in item.categories], text)
        ]  # fmt: skip
    if ids:
        matches = [item for item in matches if item.id in ids]
    page = matches[where.offset : where.offset + where.count]
    audit_read("fhir.observation.search", patient_ids=[i.patient_id for i in page],
               details={"total": len(matches), "shown": [i.id for i in page]},
               each_patient="fhir.observation.search.patient")  # fmt: skip
    return resource_response(searchset([build_any(i) for i in page], len(matches), where))
