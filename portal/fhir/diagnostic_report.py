"""FHIR DiagnosticReport: one per ECG report, as of its latest signed version (status final,
or amended after an amendment; earlier signed versions by `_history/<version>`), or, for
staff and doctors, the unsigned machine read (status preliminary). LOINC 11524-6 "EKG
study", the acquisition time, the signing doctor (contained Practitioner), the Observations
as results, the physician's conclusion and coded statements (SNOMED CT where a concept
exists), and the PDF as presentedForm (url to Binary, size, SHA-1). Search by patient, date,
status.

Binary/<report>-v<version>-<clinician|patient>: the PDF itself (Accept: application/pdf), or
a Binary resource with the PDF in base64 (Accept: application/fhir+json)."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from pathlib import Path
from typing import Any

from flask import current_app, request, send_file
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ml import vocabulary
from portal.access import api_client, roles, scopes
from portal.converters import MAX_ID, whole_number
from portal.db import db_session
from portal.fhir import codes
from portal.fhir.bundle import date_range, paging, searchset
from portal.fhir.http import (
    FhirError,
    actor,
    audit_read,
    base_url,
    bp,
    effective,
    instant,
    resource_response,
    search_args,
)
from portal.fhir.observation import (
    Audience,
    audience_of,
    items,
    patient_id_arg,
    readable_version,
    reference_of,
    signed_version,
    visible_reports,
    withdrawal_meta,
)
from portal.fhir.patient import READERS, not_found, reference
from portal.models import (
    Account,
    DocumentKind,
    EcgReport,
    ReportDocument,
    ReportStatus,
    ReportVersion,
    VersionKind,
)
from portal.services import audit, documents, entered_in_error, reports
from portal.services.machine_read import vf_waves_in
from portal.services.reference import reference_marker
from reports.plain_language import findings_in_plain_words, frequent_pacs

SEARCH_PARAMETERS = {
    "patient", "subject", "date", "status", "code", "category", "_id", "_lastUpdated"
}  # fmt: skip
# When a report last changed, as `meta.lastUpdated` says it: its withdrawal as entered in
# error, else its latest signature or amendment, else its machine read. (A report is withdrawn
# only once signed and is never signed again after, so the first of these set is the latest.)
# The withdrawal had been left out: `_lastUpdated=gt<after the signature>` never found it,
# where a bulk `$export?_since=` did (an interoperability audit, 2026-12-07).
LAST_UPDATED = func.coalesce(EcgReport.withdrawn_at, EcgReport.signed_at, EcgReport.created_at)
STATUSES = {s.value for s in ReportStatus}
# The rest of FHIR R4's DiagnosticReport.status codes: valid in a search, matching no report
# here. The usual poll for every signed result, status=final,amended,corrected, had been a
# 400 (an integrator's audit).
OTHER_FHIR_STATUSES = {
    "registered", "partial", "modified", "corrected", "appended", "cancelled", "unknown",
}  # fmt: skip
BINARY_ID = re.compile(r"^([1-9][0-9]{0,9})-v([1-9][0-9]{0,3})-(clinician|patient)$")


def _status(report: EcgReport, version: ReportVersion | None) -> str:
    if version is None:
        return ReportStatus.PRELIMINARY.value
    if version is signed_version(report):
        return report.status.value
    return "amended" if version.kind is VersionKind.AMENDMENT else "final"


def _kinds(who: Audience) -> list[DocumentKind]:
    """The PDFs this audience gets, as the web portal gives them."""
    if who.clinician:
        return [DocumentKind.CLINICIAN]
    return [DocumentKind.PATIENT, *([DocumentKind.CLINICIAN] if who.full else [])]


@functools.lru_cache(maxsize=256)
def _sha1_base64(path: Path, sha256: str) -> str:
    """Attachment.hash is the SHA-1 of the data, base64 (the stored file is named by SHA-256,
    so the pair keys the cache)."""
    return base64.b64encode(hashlib.sha1(path.read_bytes()).digest()).decode("ascii")


def _forms(report: EcgReport, version: ReportVersion, who: Audience) -> list[dict[str, Any]]:
    settings = current_app.config["SETTINGS"]
    forms = []
    for kind in _kinds(who):
        title = "Clinician ECG report" if kind is DocumentKind.CLINICIAN else "Patient summary"
        form: dict[str, Any] = {
            "contentType": "application/pdf",
            "language": "en",
            "url": f"{base_url()}/Binary/{report.id}-v{version.version_no}-{kind.value}",
            "title": f"{title}, version {version.version_no}",
        }
        stored = db_session().scalar(
            select(ReportDocument).where(
                ReportDocument.report_version_id == version.id, ReportDocument.kind == kind
            )
        )
        path = documents.document_path(settings.storage_dir, stored.sha256) if stored else None
        if stored is not None and path is not None and path.is_file():
            form["size"] = stored.size_bytes
            form["hash"] = _sha1_base64(path, stored.sha256)
            form["creation"] = instant(stored.created_at)
        forms.append(form)
    return forms


def _practitioner(version: ReportVersion) -> dict[str, Any] | None:
    author = db_session().get(Account, version.author_id) if version.author_id else None
    if author is None:
        return None
    practitioner: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": "signer",
        "name": [{"text": author.display_name}],
    }
    profile = author.doctor_profile
    if profile is not None:
        practitioner["identifier"] = [{"system": codes.DOCTOR_SYSTEM, "value": str(profile.id)}]
        if profile.registration_number:
            practitioner["identifier"].append({"value": profile.registration_number})
    return practitioner


def report_resource(
    report: EcgReport, who: Audience, version: ReportVersion | None = None,
    machine_read: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """The DiagnosticReport of `report` as of `version` (default: as it stands, its latest
    signed version, withdrawn or not; the machine read when it has none, or with
    `machine_read`: version 1, preliminary)."""
    current = version is None and not machine_read
    latest = signed_version(report)
    version = None if machine_read else version or latest
    basis = version or report.versions[0]
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": str(report.id),
        "meta": {
            "versionId": str(basis.version_no),
            "lastUpdated": instant(basis.signed_at or basis.created_at),
        },  # fmt: skip
    }
    withdrawal = withdrawal_meta(report) if current else None
    if withdrawal is not None:  # the withdrawal is a version of its own, read by `_history`
        resource["meta"] |= withdrawal
    signer = _practitioner(version) if version is not None else None
    if signer is not None:
        resource["contained"] = [signer]
    if who.clinician and version is latest and report.patient_release_at is not None:
        # A result held for a talk with the patient: an exchange that forwards final results
        # to the patient's own portal had no way to know (an integrator's audit).
        resource["extension"] = [{"url": codes.PATIENT_RELEASE_EXTENSION,
                                  "valueDateTime": instant(report.patient_release_at)}]  # fmt: skip
    resource |= {
        "identifier": [{"system": codes.REPORT_SYSTEM, "value": str(report.id)}],
        "status": _status(report, version),
        "category": [{"coding": [codes.ELECTROCARDIAC.as_fhir()], "text": "ECG"}],
        "code": {"coding": [codes.EKG_STUDY.as_fhir()], "text": "ECG"},
        "subject": reference(report.patient),
        **effective(report),
        "issued": instant(basis.signed_at or basis.created_at),
    }
    if signer is not None:
        signed_by = {"reference": "#signer", "display": signer["name"][0]["text"]}
        resource["performer"] = [signed_by]
        resource["resultsInterpreter"] = [signed_by]
    shown = [i for i in items(report, who, version) if not i.withdrawn]
    if version is not None and version is not latest:
        # The risk scores are the latest signature's (recomputed in place): an earlier version
        # names none, where it had pointed at today's figure (an integrator's audit).
        shown = [i for i in shown if not i.slug.startswith("risk-")]
    if machine_read and latest is not None:
        # Version 1 after a signature: the waveform; no measurement of it is signed, and the
        # risk scores are the signature's now.
        shown = [i for i in shown if i.slug == "ecg"]
    resource["result"] = [reference_of(i, version if version is not latest else None)
                          for i in shown]  # fmt: skip
    if not resource["result"]:
        del resource["result"]
    withdrawn = report.status is ReportStatus.ENTERED_IN_ERROR  # `services.entered_in_error`
    if withdrawn and not who.clinician:
        # The patient's apps: the withdrawal in their words, none of the read (it may be
        # another person's ECG), as their list says it.
        conclusion = entered_in_error.for_the_patient(report)
    elif version is not None and who.clinician:
        # The signed rhythm line first, as the PDF and the REST API carry it (it was dropped:
        # a second clinician-eye audit).
        rhythm, said = (version.rhythm_label or "").strip(), version.conclusion or ""
        if names_the_rhythm(said, rhythm):
            conclusion = said
        else:
            conclusion = f"{rhythm.rstrip('.')}. {said}".strip() if rhythm else said
        if version.amendment_reason:  # as the PDF says it (an EHR had shown "amended" bare)
            conclusion = (
                f"{full_stop(conclusion)} Reason for the amendment: {version.amendment_reason}"
            ).strip()
    elif version is not None:
        # The patient's own words, as their summary says them: the signed statements in plain
        # sentences, then the doctor's note to them (a patient's app had shown no finding at
        # all where the doctor wrote no note; a consistency audit).
        plain = findings_in_plain_words(
            list(version.findings or []),
            reports.patterns_in_part(report),
            frequent_pacs(report.versions[0].beat_counts or {}, vf_waves_in(report)),
        )
        conclusion = " ".join([*plain, version.patient_comment or ""]).strip()
    else:  # unsigned: the machine's main finding, said to be unreviewed (clinicians only)
        conclusion = f"Machine read, not yet reviewed by a doctor: {basis.conclusion or ''}"
    marker = reference_marker(report.recording)
    if marker is not None:  # teaching/QA material: tagged, and said first in the conclusion
        resource["meta"]["tag"] = [codes.REFERENCE_RECORD.as_fhir()]
        conclusion = f"{marker}. {conclusion or ''}".strip()
    if withdrawn and who.clinician:
        conclusion = (
            f"Withdrawn as entered in error: {report.withdrawn_reason}. "
            f"{sentence_start(entered_in_error.NOT_A_RECORD[entered_in_error.kind_of(report)])}. "
            f"{conclusion or ''}"
        ).strip()
    if conclusion:
        resource["conclusion"] = conclusion
    # A patient gets what their summary shows: its plain sentences, not the clinical terms
    # (a patient token read "Bigeminy", "Trigeminy" and SNOMED CT codes here).
    statements = vocabulary.by_severity(list(basis.findings or [])) if who.clinician else []
    if statements:
        resource["conclusionCode"] = [
            codes.statement_concept(c, machine_read=version is None) for c in statements
        ]
    if (version is not None or who.clinician) and (
        report.status is not ReportStatus.ENTERED_IN_ERROR  # no PDF: it would pass as one
    ):
        resource["presentedForm"] = _forms(report, basis, who)
    return resource


def names_the_rhythm(conclusion: str, rhythm: str) -> bool:
    """The conclusion already says the rhythm line, as whole words: "AF" is not named by
    "after", "VT" by "SVT", "paced" by "spaced" (a substring test had dropped a signed AF
    from "Repeat ECG after 2 weeks."; an integration audit)."""
    words = rhythm.rstrip(".").split()
    if not words:
        return True
    phrase = r"\s+".join(re.escape(word) for word in words)
    return re.search(rf"(?<!\w){phrase}(?!\w)", conclusion, re.IGNORECASE) is not None


def full_stop(sentence: str) -> str:
    """The sentence ended with a full stop, so the next one does not run on ("Sinus
    tachycardia Reason for the amendment: ...")."""
    sentence = sentence.strip()
    return sentence if not sentence or sentence.endswith((".", "!", "?")) else f"{sentence}."


def _report_or_404(report_id: int) -> EcgReport:
    report = db_session().scalar(visible_reports(actor()).where(EcgReport.id == report_id))
    if report is None:
        raise not_found(f"DiagnosticReport/{report_id}")
    return report


@bp.route("/DiagnosticReport/<id:report_id>", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def report_read(report_id: int) -> Response:
    report = _report_or_404(report_id)
    resource = report_resource(report, audience_of(actor()))
    audit_read("fhir.report.read", patient_ids=[report.patient_id], object_type="ecg_report",
               object_id=report.id)  # fmt: skip
    return resource_response(resource)


@bp.route("/DiagnosticReport/<id:report_id>/_history/<id:version_no>", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def report_vread(report_id: int, version_no: int) -> Response:
    """An earlier signed version, as signed then (its own results and PDF)."""
    report = _report_or_404(report_id)
    who = audience_of(actor())
    version = readable_version(report, version_no, who)
    if version is not None:
        resource = report_resource(report, who, version)
    elif version_no == 1 and who.clinician:
        # The machine read, preliminary, also once signed: an EHR that showed it could no
        # longer fetch what it had displayed (an integrator's audit).
        resource = report_resource(report, who, machine_read=True)
    else:  # the current version is read back too: it had been a 404
        resource = report_resource(report, who)
        if resource["meta"]["versionId"] != str(version_no):
            raise not_found(f"DiagnosticReport/{report_id}/_history/{version_no}")
    audit_read("fhir.report.read", patient_ids=[report.patient_id], object_type="ecg_report",
               object_id=report.id, details={"version_no": version_no})  # fmt: skip
    return resource_response(resource)


def _no_instance_history(where: str) -> FhirError:
    """The history of one resource is not served (the CapabilityStatement lists no
    history-instance): a 400 saying how its versions are read, where it had been a 404 "No
    such resource" for a report that exists (an interoperability audit)."""
    kind = where.partition("/")[0]
    return FhirError(
        400, f"The history of one {kind} is not served here (no history-instance in the "
        f"CapabilityStatement): read {where} for its current version (its meta.versionId) and "
        f"{where}/_history/<version> for each earlier one.", "not-supported",
    )  # fmt: skip


@bp.route("/DiagnosticReport/<id:report_id>/_history", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def report_history(report_id: int) -> Response:
    raise _no_instance_history(f"DiagnosticReport/{report_id}")


@bp.route("/Observation/<observation_id>/_history", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def observation_history(observation_id: str) -> Response:
    raise _no_instance_history(f"Observation/{observation_id[:40]}")


@bp.route("/Patient/<id:patient_id>/_history", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def patient_history(patient_id: int) -> Response:
    raise FhirError(400, f"Patient resources are not versioned here: read Patient/{patient_id}.",
                    "not-supported")  # fmt: skip


@bp.route("/DiagnosticReport", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def report_search() -> Response:
    """By patient (or subject), date (of the ECG; eq/ne/lt/le/gt/ge, days in the hospital's
    zone), _lastUpdated (its withdrawal, else its latest signature, else its machine read:
    `LAST_UPDATED`), status (preliminary, final, amended, entered-in-error; comma = or;
    FHIR's other codes match nothing), code, category, _id. Newest first."""
    args = search_args(SEARCH_PARAMETERS)
    where = paging()
    query = visible_reports(actor())
    patient_id = patient_id_arg(args, "patient") or patient_id_arg(args, "subject")
    if patient_id is not None:
        query = query.where(EcgReport.patient_id == patient_id)
    zone = current_app.config["SETTINGS"].zone
    for text in args.get("date", []):
        query = query.where(date_range("date", text, zone).sql(EcgReport.report_date))
    # "Signed or amended since my last run": an ECG recorded in March and signed today is
    # not in today's `date` (an EHR's poll had missed it; an integrator's audit).
    for text in args.get("_lastUpdated", []):
        query = query.where(date_range("_lastUpdated", text, zone).sql(LAST_UPDATED))
    for text in args.get("status", []):
        wanted = [s.strip() for s in text.split(",")]
        unknown = set(wanted) - STATUSES - OTHER_FHIR_STATUSES
        if unknown:
            raise FhirError(
                400, f"status {', '.join(sorted(unknown))} is not a DiagnosticReport status "
                "(this server's reports are preliminary, final, amended or entered-in-error).",
                "invalid", "status",
            )  # fmt: skip
        ours = [ReportStatus(s) for s in wanted if s in STATUSES]
        query = query.where(EcgReport.status.in_(ours))
    for text in args.get("_id", []):
        ids = [n for i in text.split(",") if (n := whole_number(i)) is not None]
        query = query.where(EcgReport.id.in_(ids))
    for name, coding in (("code", codes.EKG_STUDY), ("category", codes.ELECTROCARDIAC)):
        for text in args.get(name, []):
            # `system|` is any code of that system (R4); it had matched no report.
            accepted = {coding.code, f"{coding.system}|{coding.code}", f"{coding.system}|"}
            if not accepted & {t.strip() for t in text.split(",")}:
                query = query.where(EcgReport.id.is_(None))  # every report here is an ECG
    sql = db_session()
    total = sql.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = sql.scalars(
        query.order_by(EcgReport.report_date.desc(), EcgReport.id.desc())
        .offset(where.offset)
        .limit(where.count)
    ).all()
    who = audience_of(actor())
    page = [report_resource(r, who) for r in rows]
    audit_read("fhir.report.search", patient_ids=[r.patient_id for r in rows],
               details={"total": total, "report_ids": [r.id for r in rows]},
               each_patient="fhir.report.search.patient")  # fmt: skip
    return resource_response(searchset(page, total, where))


# --------------------------------------------------------------------------- the PDFs


@bp.route("/Binary/<binary_id>", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def binary_read(binary_id: str) -> Response:
    """A report version's PDF (presentedForm.url): the file itself, or with
    `Accept: application/fhir+json` a Binary resource holding it in base64."""
    match = BINARY_ID.match(binary_id)
    if match is None or int(match[1]) > MAX_ID:  # a report id past the column: no such
        raise not_found(f"Binary/{binary_id[:60]}")
    report = _report_or_404(int(match[1]))
    who = audience_of(actor())
    version_no, kind = int(match[2]), DocumentKind(match[3])
    version = readable_version(report, version_no, who)
    if version is None and who.clinician and version_no == 1:
        # The machine read's clinician PDF says it is unsigned; served after a signature too,
        # as version 1 of the DiagnosticReport is (an integrator's audit).
        version = report.versions[0]
    # A clinician may also fetch a signed version's patient summary (to print it for the
    # patient), as the REST API's summary.pdf gives it them: FHIR had answered 404.
    readable = _kinds(who) + (
        [DocumentKind.PATIENT]
        if who.clinician and version is not None and version.signed_at
        else []
    )
    if version is None or kind not in readable:
        raise not_found(f"Binary/{binary_id}")
    sql = db_session()
    document, path = documents.ensure_document(  # RenderError: 503 OperationOutcome
        sql, report, version, kind, current_app.config["SETTINGS"]
    )
    if request.method != "HEAD":  # headers only: no PDF taken (`review.routes.send_document`)
        audit.record(
            sql, "report.download", actor=actor(), patient_id=report.patient_id,
            object_type="report_document", object_id=document.id,
            details={"kind": kind.value, "version_no": version.version_no,
                     "sha256": document.sha256, "via": "fhir", **api_client()},
        )  # fmt: skip
    sql.commit()
    accept = request.accept_mimetypes
    # JSON of either name asks for the Binary resource: `Accept: application/json` had been
    # sent the PDF (an integrator's audit).
    json_quality = max(accept.quality("application/fhir+json"), accept.quality("application/json"))
    wants_fhir = "_format" in request.args or (
        json_quality > accept.quality("application/pdf")
        and (accept.find("application/fhir+json") != -1 or accept.find("application/json") != -1)
    )
    if wants_fhir:
        return resource_response({
            "resourceType": "Binary",
            "id": binary_id,
            "contentType": "application/pdf",
            "data": base64.b64encode(path.read_bytes()).decode("ascii"),
        })  # fmt: skip
    name = f"ecg-report-{report.id}-v{version.version_no}-{kind.value}.pdf"
    return send_file(path, mimetype="application/pdf", download_name=name, as_attachment=False)


def sentence_start(text: str) -> str:
    """`text` with its first letter a capital, the rest as written (`str.capitalize` had
    sent "this patient's ecg" to every EHR; a review, 2026-12-07)."""
    return text[:1].upper() + text[1:]
