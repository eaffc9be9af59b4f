from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    # Input purposes named (WCAG 1.3.5): password managers and assistive tools fill them.
    username = StringField(
        "Username",
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        "New password", validators=[DataRequired()], render_kw={"autocomplete": "new-password"}
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password"},
    )


class SecondFactorForm(FlaskForm):
    code = StringField(
        "The 6-digit code from your authenticator app, or a recovery code",
        validators=[DataRequired(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
    )


class EnrolForm(FlaskForm):
    code = StringField(
        "The 6-digit code your app shows now",
        validators=[DataRequired(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class PasswordConfirmForm(FlaskForm):
    """Both factors again before new recovery codes or two-step login off: with the password
    alone, anyone at a logged-in workstation who guessed it made codes that log in without
    the phone (a security audit)."""

    password = PasswordField(
        "Your password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    code = StringField(
        "The 6-digit code your app shows now (or a recovery code)",
        validators=[DataRequired(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text"},
    )
