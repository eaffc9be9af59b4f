from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from ml.vocabulary import STATEMENTS as STATEMENTS_BY_CODE
from ml.vocabulary import Category
from portal.forms import PlainText, options
from portal.models import RHYTHM_LABEL_CHARS, WITHDRAWN_REASON_CHARS
from portal.patients.forms import MeasurementField, typed_number
from portal.services.entered_in_error import KIND_CHOICES
from reports.next_steps import NEXT_STEPS

# The doctor's measurements: empty means "not measurable"; QTc follows from QT and heart rate.
MEASUREMENTS = ("heart_rate_bpm", "pr_ms", "qrs_ms", "qt_ms", "qrs_axis_deg")
RANGE_MESSAGE = "Between %(min)s and %(max)s; leave it empty if it cannot be measured."


STALE_PAGE = (
    "This page is out of date or was changed in the browser: reload the report, check it "
    "and sign again. Nothing was signed."
)


class RowVersionField(IntegerField):
    """The report's version as the page showed it (the signing lock): a whole number from 1
    to the column's 2**31 - 1. Anything else (a script, an edited page) is refused in words;
    it used to reach `int()` and answer 500."""

    widget = HiddenInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0].strip() if valuelist else ""
        if not re.fullmatch(r"[0-9]{1,10}", text) or not 1 <= int(text) <= 2**31 - 1:
            self.data = None
            raise ValueError(STALE_PAGE)
        self.data = int(text)


def statement_groups() -> list[SelectChoice]:
    """The statement library grouped by category (rhythm, conduction, ...; optgroups), as
    the picker shows it; within a group the most serious first."""

    def title(category: Category) -> str:
        return category.value[0].upper() + category.value[1:]  # "ST-T", "Recording quality"

    order = list(Category)
    ordered = sorted(STATEMENTS_BY_CODE.values(), key=lambda s: order.index(s.category))
    return [SelectChoice(s.code, s.label, optgroup=title(s.category)) for s in ordered]


class TypedMeasurementField(MeasurementField):
    """A measurement as a doctor types it: "160", "160 ms", a decimal comma; a PR of "0.16"
    is said to look like seconds. An input audit: "160 ms", "440ms" and "0,16" were all "Not
    a valid float value.", and "0.16" only "Between 60 and 500"."""

    def __init__(self, label: str, unit: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.unit = unit

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = valuelist[0].strip() if valuelist else ""
        if text.lower().endswith(self.unit):
            text = text[: -len(self.unit)].strip()
        if not text:
            return
        value = typed_number(text)
        if self.unit == "ms" and 0 < value < SECONDS_UP_TO and self._in_range(value * 1000):
            raise ValueError(f"{text} looks like seconds: type milliseconds ({value * 1000:.0f}).")
        self.data = value  # out of range in seconds too: the range alone says what to type

    def _in_range(self, value: float) -> bool:
        """Within the field's NumberRange: a suggestion the next check would refuse ("type
        milliseconds (2900)" for a QT of 2.9, then "Between 200 and 700") is no help."""
        low, high = self.limits
        return low <= value <= high

    @property
    def limits(self) -> tuple[float, float]:
        """The lowest and highest value the form signs, for the page's live QTc line too."""
        ranges = [v for v in self.validators if isinstance(v, NumberRange)]
        return max(r.min for r in ranges), min(r.max for r in ranges)

    def pre_validate(self, form: Any) -> None:
        """One message a field: what could not be read says so alone ("Enter a number, for
        example 5.2." had been followed by the range, which a nan or inf never reaches)."""
        if self.process_errors:
            raise StopValidation()


SECONDS_UP_TO = 3.0  # a typed interval under this is in seconds: no PR, QRS or QT is 3 ms


class SignForm(FlaskForm):
    rhythm_label = StringField(
        "Rhythm",
        validators=[
            InputRequired(),
            Length(
                max=RHYTHM_LABEL_CHARS,
                message=f"The rhythm line holds at most {RHYTHM_LABEL_CHARS} characters: put "
                "the rest in the conclusion.",
            ),
            PlainText(),
        ],
    )
    findings = SelectMultipleField(
        "Statements (coded)",
        choices=statement_groups(),
        render_kw={"class": "statement-select", "size": 12},
    )
    conclusion = TextAreaField(
        "Conclusion (for clinicians)",
        validators=[InputRequired(), Length(max=4000), PlainText(lines=True)],
    )
    patient_comment = TextAreaField(
        "A note for the patient (optional, plain words; the conclusion above is not shown to them)",
        validators=[Optional(), Length(max=2000), PlainText(lines=True)],
    )
    next_steps = SelectMultipleField(
        "Next steps (the patient's summary lists exactly these)",
        choices=options(*((s.code, s.label) for s in NEXT_STEPS.values())),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    next_steps_note = StringField(
        "Another next step, in plain words for the patient (optional)",
        validators=[Optional(), Length(max=500), PlainText()],
    )
    heart_rate_bpm = TypedMeasurementField(
        "Heart rate (bpm)", "bpm", validators=[Optional(), NumberRange(20, 300, RANGE_MESSAGE)]
    )
    pr_ms = TypedMeasurementField(
        "PR (ms)", "ms", validators=[Optional(), NumberRange(60, 500, RANGE_MESSAGE)]
    )
    qrs_ms = TypedMeasurementField(
        "QRS (ms)", "ms", validators=[Optional(), NumberRange(40, 250, RANGE_MESSAGE)]
    )
    qt_ms = TypedMeasurementField(
        "QT (ms)", "ms", validators=[Optional(), NumberRange(200, 700, RANGE_MESSAGE)]
    )
    qrs_axis_deg = TypedMeasurementField(
        "QRS axis (°)", "°", validators=[Optional(), NumberRange(-180, 180, RANGE_MESSAGE)]
    )
    password = PasswordField(
        "Your password (to sign)",
        validators=[InputRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    row_version = RowVersionField("Report version")


class AmendForm(SignForm):
    reason = TextAreaField(
        "Reason for the amendment",
        validators=[InputRequired(), Length(max=2000), PlainText(lines=True)],
    )
    # Set when the form holds a read kept after a signing conflict (`review.kept_read`): it
    # is signed in place of the version that now stands only with `replaces_seen` ticked.
    kept_over = HiddenField()
    replaces_seen = BooleanField(
        "I have read the version that now stands (above), and mean my read to replace it"
    )


class ReleaseForm(FlaskForm):
    """ "Release to the patient now": the signed version the page showed, so a release sent
    from a page opened before an amendment releases nothing (an open page had released a
    newer ST-elevation read nobody had discussed with the patient; a concurrency audit)."""

    version_no = RowVersionField("Signed version shown")


class WithdrawForm(FlaskForm):
    """Withdraw a signed report as entered in error (`services.entered_in_error`)."""

    kind = SelectField(
        "What is wrong with it",
        choices=options(
            ("", "Choose..."), *((k.value, words) for k, words in KIND_CHOICES.items())
        ),
        validators=[InputRequired("Choose what is wrong with it.")],
    )
    reason = StringField(
        "Why it is withdrawn",
        validators=[InputRequired(), Length(max=WITHDRAWN_REASON_CHARS), PlainText()],
        description="e.g. uploaded to the wrong record; or CSV uploaded at 360 Hz, its rate is "
        "250 Hz",
    )
    confirmed = BooleanField(
        "This report is not a true record of this patient's ECG: withdraw it from their "
        "record and portal",
        validators=[InputRequired("Tick the box to confirm the withdrawal.")],
    )
    password = PasswordField(
        "Your password (to withdraw)",
        validators=[InputRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    row_version = RowVersionField("Report version")
