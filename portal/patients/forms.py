import math
import re
from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    Field,
    FloatField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import TextInput

from portal import units
from portal.forms import PHONE, PlainText, options
from portal.local_time import hospital_zone, typed_utc
from portal.models import Sex
from portal.services import patients
from portal.services.clinical_inputs import BOOLEAN_FIELDS

TRI_STATE = (("", "Not recorded"), ("yes", "Yes"), ("no", "No"))
BOOLEAN_LABELS = {
    "smoker": "Current smoker",
    "diabetic": "Diabetes",
    "bp_treated": "On blood-pressure treatment",
    "cardiac_arrest_at_admission": "Cardiac arrest at admission",
    "st_deviation": "ST-segment deviation",
    "st_depression": "ST-segment depression",
    "elevated_cardiac_enzymes": "Elevated cardiac enzymes / troponin",
    "history_of_mi": "History of myocardial infarction",
    "history_of_heart_failure": "History of heart failure",
    "in_hospital_pci": "PCI during this admission",
}


class MeasurementField(FloatField):
    """A number field whose complaint a clinician understands. A text box asking for a
    decimal keypad, not a number box: Chromium's number box deleted a decimal comma as it was
    typed, so creatinine "1,2" mg/dL was sent and saved as 12 and a PR of "0,16" as 16
    (a browser audit); `typed_number` reads what was typed."""

    widget = TextInput()
    data: float | None  # type: ignore[assignment]

    def __call__(self, **kwargs: Any) -> Markup:
        kwargs.setdefault("inputmode", "decimal")
        return super().__call__(**kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if valuelist and valuelist[0].strip():
            self.data = typed_number(valuelist[0])


class SystolicPressureField(MeasurementField):
    """The systolic pressure alone (the portal records no diastolic one): a pressure typed as
    it is written, "120/80", had been told only "Enter a number, for example 5.2." (a
    bad-input audit)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and "/" in valuelist[0]:
            self.data = None
            raise ValueError(SYSTOLIC_ONLY)
        super().process_formdata(valuelist)


SYSTOLIC_ONLY = (
    "Enter the systolic pressure only, in mmHg, e.g. 120: the diastolic is not recorded."
)


# "1,200" is 1200 with a thousands separator or 1.2 with a decimal comma: read as 1.2 umol/L of
# creatinine it came back "was it measured in mg/dL?", and following that saved 1.2 mg/dL
# where 13.6 was meant (an audit). A decimal comma alone ("5,6") is read as a decimal point.
THOUSANDS = re.compile(r"\d{1,3}([,.]\d{3})+")
# Where a decimal comma is written, "1.200" is 1200: in a unit counted in whole numbers it is
# as ambiguous as "1,200" (creatinine "1.200" umol/L had been read as 1.2; a bad-input audit).
DOT_THOUSANDS = re.compile(r"\d{1,3}\.\d{3}")
WHOLE_NUMBER_UNITS = {"umol/L"}


def typed_number(text: str) -> float:
    """A number as a clinician types it ("5.6", "5,6"), or ValueError saying what to type."""
    text = text.strip()
    if THOUSANDS.fullmatch(text) and "," in text:
        raise ValueError(thousands_or_decimal(text, float(text.replace(".", "").replace(",", "."))))
    try:
        value = float(text.replace(",", "."))
    except ValueError as error:
        raise ValueError("Enter a number, for example 5.2.") from error
    if not math.isfinite(value):
        raise ValueError("Enter a number, for example 5.2.")
    return value


def thousands_or_decimal(text: str, decimal: float) -> str:
    """Ask which `text` means, its digits as a whole number ("0,200" is 200, not 0200) or
    `decimal`, quoting it as typed."""
    return (
        f'Write "{text}" without a thousands separator: it could mean '
        f"{int(re.sub('[,.]', '', text))} or {decimal:g}."
    )


class NoDotThousands:
    """A value typed "1.200" in a whole-number unit (`WHOLE_NUMBER_UNITS`, the form's
    `unit_field`) asked about as "1,200" is."""

    def __init__(self, unit_field: str) -> None:
        self.unit_field = unit_field

    def __call__(self, form: Any, field: Field) -> None:
        typed = (field.raw_data or [""])[0].strip()
        if form[self.unit_field].data in WHOLE_NUMBER_UNITS and DOT_THOUSANDS.fullmatch(typed):
            raise ValidationError(thousands_or_decimal(typed, float(typed)))


class CalendarDateField(DateField):
    """A date field whose complaint says what a valid date looks like."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Enter a real date as year-month-day, e.g. 1956-12-09.") from error


class MeasuredOnField(DateTimeLocalField):
    """When a measurement was taken; a complaint a clinician understands (the service refuses
    dates before 1900 and in the future), also for a time the hospital's clocks skipped."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(
                "Enter a real date and time as year-month-day hour:minute, e.g. 2024-05-31 08:30."
            ) from error
        typed_utc(self.data, hospital_zone())  # ValueError: the clocks went forward past it


CHOOSE_SEX = "Choose the patient's sex."


class PatientForm(FlaskForm):
    full_name = StringField(
        "Full name", validators=[DataRequired(), Length(max=120), PlainText(name=True)]
    )
    date_of_birth = CalendarDateField(
        "Date of birth", validators=[InputRequired(message="Enter the date of birth.")]
    )
    # An empty first choice: with "Female" first, a registration that skipped the field saved
    # a man as female, and the sex-specific risk equations used it (a bad-input audit).
    sex = SelectField(
        "Sex",
        choices=options(
            ("", "Choose..."),
            ("female", "Female"),
            ("male", "Male"),
            ("other", "Other"),
            ("unknown", "Unknown"),
        ),
        validators=[InputRequired(message=CHOOSE_SEX)],
    )
    address = StringField("Address", validators=[Optional(), Length(max=255), PlainText()])
    email = EmailField("Email", validators=[Optional(), Email(), Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), PHONE])
    emergency_contact_name = StringField(
        "Emergency contact name", validators=[Optional(), Length(max=120), PlainText(name=True)]
    )
    emergency_contact_phone = StringField("Emergency contact phone", validators=[Optional(), PHONE])
    assigned_doctor_id = SelectField("Assigned doctor", default="")
    # When the edit page was opened: the patient's `updated_at` then (empty when registering).
    # A page left open in another tab had silently put back the doctor and phone number a
    # newer save had changed (a concurrency audit); such a save is now refused.
    opened_version = HiddenField()
    # Shown once the name and date of birth match a registered patient (`register_patient`).
    different_person = BooleanField(
        "Another person with the same name and date of birth: register them anyway"
    )

    def details(self) -> patients.PatientDetails:
        """The validated form as the patient service takes it (web page and FHIR alike)."""
        return patients.PatientDetails(
            full_name=self.full_name.data or "",
            date_of_birth=self.date_of_birth.data,
            sex=Sex(self.sex.data),
            address=self.address.data,
            email=self.email.data,
            phone=self.phone.data,
            emergency_contact_name=self.emergency_contact_name.data,
            emergency_contact_phone=self.emergency_contact_phone.data,
            assigned_doctor_id=int(self.assigned_doctor_id.data)
            if self.assigned_doctor_id.data
            else None,
        )


class ClinicalInputEntryForm(FlaskForm):
    # The browser's picker sends "2024-05-31T08:30"; typed by hand (or by a browser without
    # the picker) the example the refusal gives, with a space, and seconds are taken too: the
    # example itself had been refused (a review, 2026-12-07).
    recorded_at = MeasuredOnField(
        "Measured on",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
        validators=[Optional()],
    )
    total_cholesterol = MeasurementField("Total cholesterol", validators=[Optional()])
    hdl = MeasurementField("HDL cholesterol", validators=[Optional()])
    cholesterol_unit = SelectField(
        "Cholesterol unit", choices=list(units.CHOLESTEROL_UNITS), default="mg/dL"
    )
    systolic_bp_mmhg = SystolicPressureField(
        "Systolic blood pressure (mmHg)", validators=[Optional()]
    )
    heart_rate_bpm = MeasurementField("Heart rate (bpm)", validators=[Optional()])
    bmi_kg_m2 = MeasurementField("BMI (kg/m2)", validators=[Optional()])
    creatinine = MeasurementField(
        "Creatinine", validators=[Optional(), NoDotThousands("creatinine_unit")]
    )
    creatinine_unit = SelectField(
        "Creatinine unit", choices=list(units.CREATININE_UNITS), default="mg/dL"
    )
    killip_class = SelectField(
        "Killip class",
        choices=options(
            ("", "Not recorded"),
            ("1", "I - no heart failure"),
            ("2", "II - rales, S3, raised JVP"),
            ("3", "III - pulmonary oedema"),
            ("4", "IV - cardiogenic shock"),
        ),
        default="",
    )
    other_issues = TextAreaField(
        "Other issues", validators=[Optional(), Length(max=4000), PlainText(lines=True)]
    )


for _name in BOOLEAN_FIELDS:
    setattr(
        ClinicalInputEntryForm,
        _name,
        SelectField(BOOLEAN_LABELS[_name], choices=options(*TRI_STATE), default=""),
    )


class ConfirmForm(FlaskForm):
    """A bare form: its CSRF token is what protects a one-button POST."""
