from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.forms import options


class NewAccountForm(FlaskForm):
    role = SelectField(
        "Role",
        choices=options(("staff", "Staff"), ("doctor", "Doctor"), ("admin", "Administrator")),
    )
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    job_title = StringField("Job title (staff)", validators=[Optional(), Length(max=80)])
    specialty = StringField("Specialty (doctor)", validators=[Optional(), Length(max=80)])
    registration_number = StringField(
        "Medical registration number (doctor)", validators=[Optional(), Length(max=40)]
    )
    email = EmailField("Email", validators=[Optional(), Email(), Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), Length(max=32)])
    password = PasswordField("Temporary password", validators=[DataRequired()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("Temporary password", validators=[DataRequired()])
    confirm_password = PasswordField("Temporary password again", validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """A bare form: its CSRF token is what protects a one-button POST."""
