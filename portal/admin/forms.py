from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import PHONE, PlainText, options
from portal.services.api_tokens import SCOPES


class NewAccountForm(FlaskForm):
    role = SelectField(
        "Role",
        choices=options(("staff", "Staff"), ("doctor", "Doctor"), ("admin", "Administrator")),
    )
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    full_name = StringField(
        "Full name", validators=[DataRequired(), Length(max=120), PlainText(name=True)]
    )
    job_title = StringField(
        "Job title (staff)", validators=[Optional(), Length(max=80), PlainText()]
    )
    specialty = StringField(
        "Specialty (doctor)", validators=[Optional(), Length(max=80), PlainText()]
    )
    registration_number = StringField(
        "Medical registration number (doctor)",
        validators=[Optional(), Length(max=40), PlainText()],
    )
    email = EmailField("Email", validators=[Optional(), Email(), Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), PHONE])
    password = PasswordField("Temporary password", validators=[DataRequired()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("Temporary password", validators=[DataRequired()])
    confirm_password = PasswordField("Temporary password again", validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """A bare form: its CSRF token is what protects a one-button POST."""


class ApiTokenForm(FlaskForm):
    """An API token for a machine client, acting for one account (services/api_tokens)."""

    # PlainText: "EHR\u202etcudorp" had been shown reversed on the owner's page (an input audit)
    client_name = StringField(
        "Client system (e.g. 'EHR production')",
        validators=[DataRequired(), Length(max=120), PlainText()],
    )
    username = StringField(
        "Acts for the account (username): its role rules apply",
        validators=[DataRequired(), Length(max=64)],
    )
    scopes = SelectMultipleField(
        "Scopes",
        choices=options(*((name, f"{name}: {what}") for name, what in SCOPES.items())),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    days = IntegerField(
        "Valid for (days)", default=90, validators=[InputRequired(), NumberRange(1, 366)]
    )
