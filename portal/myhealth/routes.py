"""/my: the patient portal. A patient sees only their own signed reports."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from portal.access import roles
from portal.db import db_session
from portal.models import Role
from portal.services import myhealth

bp = Blueprint("myhealth", __name__, url_prefix="/my")


@bp.route("/reports")
@roles(Role.PATIENT)
def reports() -> str:
    account = current_user._get_current_object()
    return render_template(
        "myhealth/reports.html",
        patient=account.patient,
        reports=myhealth.signed_reports(db_session(), account),
    )
