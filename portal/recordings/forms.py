from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, MultipleFileField, SelectField, StringField
from wtforms.validators import InputRequired, Length

from portal.forms import options
from portal.patients.forms import MeasurementField
from portal.services.recordings import PACEMAKER_LABEL


class UploadForm(FlaskForm):
    files = MultipleFileField("ECG file(s)")
    fs_hz = MeasurementField("Sampling rate (Hz), only for CSV files without a time column")
    units = SelectField(
        "Signal units, only for CSV files whose header does not say",
        choices=options(("", "As labelled in the file (or mV)"), ("mV", "mV"), ("uV", "µV")),
        default="",
    )
    pacemaker = BooleanField(PACEMAKER_LABEL)


class LibraryForm(FlaskForm):
    record = SelectField("MIT-BIH record", choices=[])
    pacemaker = BooleanField(PACEMAKER_LABEL)


class MoveForm(FlaskForm):
    """A recording uploaded to the wrong patient, moved with its unsigned read."""

    mrn = StringField(
        "Move to the patient with the MRN", validators=[InputRequired(), Length(max=20)]
    )
    reason = StringField(
        "Why (e.g. uploaded to the wrong patient)", validators=[InputRequired(), Length(max=300)]
    )
