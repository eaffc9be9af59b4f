"""/patients/<id>/risk: inputs over time, current scores explained, and a what-if calculator."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from portal import risk
from portal.access import roles
from portal.charts import trend_svg
from portal.db import db_session
from portal.local_time import hospital_today
from portal.models import Account, Role, utcnow
from portal.patients.forms import BOOLEAN_LABELS
from portal.risk.framingham import heart_age_text
from portal.scores.forms import WhatIfForm, field_for_keyword, overrides, prefill
from portal.services import audit, clinical_inputs, patients, risk_scores

bp = Blueprint("scores", __name__, url_prefix="/patients/<id:patient_id>/risk")

TRENDS = (
    ("systolic_bp_mmhg", "Systolic blood pressure", "mmHg"),
    ("total_cholesterol_mg_dl", "Total cholesterol", "mg/dL"),
    ("hdl_mg_dl", "HDL cholesterol", "mg/dL"),
    ("bmi_kg_m2", "BMI", "kg/m²"),
    ("creatinine_mg_dl", "Creatinine", "mg/dL"),
    ("heart_rate_bpm", "Heart rate", "bpm"),
)


@bp.route("/")
@roles(Role.STAFF, Role.DOCTOR)
def show(patient_id: int) -> str:
    sql = db_session()
    actor: Account = current_user._get_current_object()
    patient = patients.get_visible_patient(sql, actor, patient_id)
    now = utcnow()
    measured = risk_scores.measured_values(sql, patient.id, now)
    current = risk_scores.compute_scores(patient, measured, as_of=now, age_on=hospital_today())

    form = WhatIfForm(request.args)
    what_if = None
    if request.args.get("what_if"):
        valid = form.validate()
        what_if = risk_scores.what_if(patient, overrides(form, valid))
        for outcome in what_if:
            name = field_for_keyword(
                outcome.error_field or "",
                admission=risk_scores.reads_admission_pressure(outcome.spec),
            )
            if name and outcome.not_computed_reason:
                message = outcome.not_computed_reason.removeprefix("not computed: ")
                if message not in form[name].errors:
                    form[name].errors = [*form[name].errors, message]
    else:
        recorded = risk_scores.compute_scores(
            patient, measured, as_of=now, age_on=hospital_today(), every_model=True
        )
        prefill(form, patient.age_years(hospital_today()), recorded, measured)

    history = list(reversed(clinical_inputs.latest_inputs(sql, patient.id, limit=200)))
    # A row dated before 1900 (stored before such dates were refused) stays in the table but
    # not on the time axis: its timestamp is out of range and made this page fail for good.
    charted = [row for row in history if row.recorded_at >= clinical_inputs.EARLIEST_MEASUREMENT]
    trends = [
        trend_svg(
            [(row.recorded_at, getattr(row, column)) for row in charted],
            label=label,
            unit=unit,
        )
        for column, label, unit in TRENDS
    ]
    audit.record(
        sql, "patient.risk_view", actor=actor, patient_id=patient.id, object_type="patient",
        object_id=patient.id, details={"what_if": bool(what_if)},
    )  # fmt: skip
    sql.commit()
    return render_template(
        "scores/show.html",
        bands_note=risk.BANDS_NOTE,
        patient=patient,
        current=current,
        what_if=what_if,
        comparison=list(zip(current, what_if, strict=True)) if what_if else [],
        form=form,
        trends=[t for t in trends if t is not None],
        history=list(reversed(history)),
        measured=measured,
        labels=risk_scores.LABELS,
        boolean_labels=BOOLEAN_LABELS,
        today=hospital_today(),
        heart_age_text=heart_age_text,  # "under 30", "61", "over 80"
    )
