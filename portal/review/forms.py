from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    FloatField,
    HiddenField,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.forms import options
from portal.services.reports import STATEMENTS

# The doctor's measurements: empty means "not measurable"; QTc follows from QT and heart rate.
MEASUREMENTS = ("heart_rate_bpm", "pr_ms", "qrs_ms", "qt_ms", "qrs_axis_deg")
RANGE_MESSAGE = "Between %(min)s and %(max)s; leave it empty if it cannot be measured."


class SignForm(FlaskForm):
    rhythm_label = StringField("Rhythm", validators=[InputRequired(), Length(max=80)])
    findings = SelectMultipleField(
        "Findings (coded statements)", choices=options(*STATEMENTS.items())
    )
    conclusion = TextAreaField(
        "Conclusion (for clinicians)", validators=[InputRequired(), Length(max=4000)]
    )
    patient_comment = TextAreaField(
        "A note for the patient (optional, plain words; the conclusion above is not shown to them)",
        validators=[Optional(), Length(max=2000)],
    )
    heart_rate_bpm = FloatField(
        "Heart rate (bpm)", validators=[Optional(), NumberRange(20, 300, RANGE_MESSAGE)]
    )
    pr_ms = FloatField("PR (ms)", validators=[Optional(), NumberRange(60, 500, RANGE_MESSAGE)])
    qrs_ms = FloatField("QRS (ms)", validators=[Optional(), NumberRange(40, 250, RANGE_MESSAGE)])
    qt_ms = FloatField("QT (ms)", validators=[Optional(), NumberRange(200, 700, RANGE_MESSAGE)])
    qrs_axis_deg = FloatField(
        "QRS axis (°)", validators=[Optional(), NumberRange(-180, 180, RANGE_MESSAGE)]
    )
    password = PasswordField("Your password (to sign)", validators=[InputRequired()])
    row_version = HiddenField()


class AmendForm(SignForm):
    reason = TextAreaField(
        "Reason for the amendment", validators=[InputRequired(), Length(max=2000)]
    )
