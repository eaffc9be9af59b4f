from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import MultipleFileField, SelectField

from portal.forms import options
from portal.patients.forms import MeasurementField


class UploadForm(FlaskForm):
    files = MultipleFileField("ECG file(s)")
    fs_hz = MeasurementField("Sampling rate (Hz), only for CSV files without a time column")
    units = SelectField(
        "Signal units, only for CSV files whose header does not say",
        choices=options(("", "As labelled in the file (or mV)"), ("mV", "mV"), ("uV", "µV")),
        default="",
    )


class LibraryForm(FlaskForm):
    record = SelectField("MIT-BIH record", choices=[])
