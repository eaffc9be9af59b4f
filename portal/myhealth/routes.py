"""/my: the patient portal. A patient sees only their own signed reports and who saw them."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import access_words
from portal.access import roles
from portal.db import db_session
from portal.models import Account, DocumentKind, Role
from portal.review.routes import send_document
from portal.services import myhealth, reports
from portal.services.entered_in_error import (
    FOR_THE_PATIENT,
    READ_AGAIN_FOR_THE_PATIENT,
    kind_of,
)

bp = Blueprint("myhealth", __name__, url_prefix="/my")


def _account() -> Account:
    return current_user._get_current_object()


@bp.route("/reports", endpoint="reports")
@roles(Role.PATIENT)
def reports_list() -> str:
    account = _account()
    listed = myhealth.signed_reports(db_session(), account)
    withdrawn = myhealth.withdrawn_from_them(db_session(), account)
    return render_template(
        "myhealth/reports.html",
        patient=account.patient,
        reports=listed,
        being_updated=myhealth.being_updated(db_session(), account),
        withdrawn=withdrawn,
        withdrawn_words=lambda report: FOR_THE_PATIENT[kind_of(report)],
        read_again={r.id: again for r in withdrawn if (again := myhealth.read_again_as(r, listed))},
        read_again_words=READ_AGAIN_FOR_THE_PATIENT,
        # the hold (PATIENT_HOLD_HOURS) in whole days: "3 days" had been written in (a review)
        hold_days=-(-current_app.config["SETTINGS"].patient_hold_hours // 24),
        plain_finding=myhealth.plain_finding,
        test_words=myhealth.test_words,
        date_words=myhealth.date_words,
        named=myhealth.named,
        updated_at=myhealth.updated_at,
        clinic_contact=current_app.config["SETTINGS"].clinic_contact,
        clinician_pdf=current_app.config["SETTINGS"].patients_get_clinician_pdf,
    )


def _own_signed_report(report_id: int):  # type: ignore[no-untyped-def]
    return reports.get_visible_report(db_session(), _account(), report_id)


@bp.route("/reports/<id:report_id>/summary.pdf")
@roles(Role.PATIENT)
def summary_pdf(report_id: int) -> Response:
    return send_document(_own_signed_report(report_id), DocumentKind.PATIENT)


@bp.route("/reports/<id:report_id>/report.pdf")
@roles(Role.PATIENT)
def clinician_pdf(report_id: int) -> Response:
    if not current_app.config["SETTINGS"].patients_get_clinician_pdf:
        abort(404)
    return send_document(_own_signed_report(report_id), DocumentKind.CLINICIAN)


@bp.route("/access")
@roles(Role.PATIENT)
def access_log() -> str:
    """Who looked at or changed my record (from the audit trail)."""
    account = _account()
    events = myhealth.access_events(db_session(), account)
    return render_template(
        "myhealth/access.html",
        events=events,
        names=myhealth.display_names(db_session(), events),
        reports=myhealth.reports_of(db_session(), events),
        date_words=myhealth.date_words,
        named=myhealth.named,
        words=access_words,
        more=len(events) == myhealth.ACCESS_ROWS,
    )
