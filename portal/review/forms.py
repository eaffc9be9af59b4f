from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import options
from portal.services.reports import STATEMENTS


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
    password = PasswordField("Your password (to sign)", validators=[InputRequired()])
    row_version = HiddenField()


class AmendForm(SignForm):
    reason = TextAreaField(
        "Reason for the amendment", validators=[InputRequired(), Length(max=2000)]
    )
