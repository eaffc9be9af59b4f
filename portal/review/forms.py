from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from portal.forms import options
from portal.services.reports import STATEMENTS


class SignForm(FlaskForm):
    rhythm_label = StringField("Rhythm", validators=[InputRequired(), Length(max=80)])
    findings = SelectMultipleField(
        "Findings (coded statements)", choices=options(*STATEMENTS.items())
    )
    conclusion = TextAreaField("Conclusion", validators=[InputRequired(), Length(max=4000)])
    password = PasswordField("Your password (to sign)", validators=[InputRequired()])
    row_version = HiddenField()


class AmendForm(SignForm):
    reason = TextAreaField(
        "Reason for the amendment", validators=[InputRequired(), Length(max=2000)]
    )
