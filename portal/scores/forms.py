"""The what-if calculator's form: every model input, prefilled with the values the current
scores use.

A GET form (it stores nothing), so no CSRF token; values are checked by the risk models
themselves and their messages are shown beside the fields.
"""

from __future__ import annotations

from typing import Any

from wtforms import Field, Form, SelectField
from wtforms.validators import ValidationError

from portal import units
from portal.forms import options
from portal.patients.forms import (
    BOOLEAN_LABELS,
    TRI_STATE,
    MeasurementField,
    NoDotThousands,
    SystolicPressureField,
)
from portal.services.clinical_inputs import ST_DEPRESSION_IS_A_DEVIATION
from portal.services.risk_scores import (
    ADMISSION_SBP,
    Measured,
    ScoreOutcome,
    reads_admission_pressure,
)

# form field -> the risk functions' keyword
FLAG_KEYWORDS = {
    "smoker": "smoker",
    "diabetic": "diabetic",
    "bp_treated": "bp_treated",
    "cardiac_arrest_at_admission": "cardiac_arrest",
    "st_deviation": "st_deviation",
    "st_depression": "st_depression",
    "elevated_cardiac_enzymes": "elevated_enzymes",
    "history_of_mi": "history_of_mi",
    "history_of_heart_failure": "history_of_heart_failure",
    "in_hospital_pci": "in_hospital_pci",
}
NUMBER_KEYWORDS = {
    "age_years": "age_years",
    "total_cholesterol": "total_chol",
    "hdl": "hdl",
    "systolic_bp_mmhg": "sbp_mmhg",
    "admission_sbp_mmhg": ADMISSION_SBP,
    "bmi_kg_m2": "bmi_kg_m2",
    "heart_rate_bpm": "heart_rate_bpm",
    "creatinine": "creatinine",
    "killip_class": "killip_class",
}


class WhatIfForm(Form):
    age_years = MeasurementField("Age (years)")
    total_cholesterol = MeasurementField("Total cholesterol")
    hdl = MeasurementField("HDL cholesterol")
    cholesterol_unit = SelectField(
        "Cholesterol unit", choices=list(units.CHOLESTEROL_UNITS), default="mg/dL"
    )
    systolic_bp_mmhg = SystolicPressureField("Systolic BP, office (mmHg): Framingham, ATP III")
    admission_sbp_mmhg = SystolicPressureField("Systolic BP at admission (mmHg): GRACE")
    bmi_kg_m2 = MeasurementField("BMI (kg/m²)")
    heart_rate_bpm = MeasurementField("Heart rate (bpm)")
    creatinine = MeasurementField("Creatinine", validators=[NoDotThousands("creatinine_unit")])
    creatinine_unit = SelectField(
        "Creatinine unit", choices=list(units.CREATININE_UNITS), default="mg/dL"
    )
    killip_class = MeasurementField("Killip class (1-4)")


for _name, _label in BOOLEAN_LABELS.items():
    setattr(WhatIfForm, _name, SelectField(_label, choices=options(*TRI_STATE), default=""))


def _st_deviation_agrees(form: WhatIfForm, field: Field) -> None:
    """As the clinical-input form: ST depression is an ST-segment deviation (the what-if had
    scored "ST depression yes" beside "ST deviation no", which the input form refuses)."""
    if form.st_depression.data == "yes" and field.data == "no":
        raise ValidationError(ST_DEPRESSION_IS_A_DEVIATION)


WhatIfForm.validate_st_deviation = _st_deviation_agrees  # type: ignore[attr-defined]


def prefill(
    form: WhatIfForm, age_years: int, current: list[ScoreOutcome], measured: dict[str, Measured]
) -> None:
    """Put into an unsubmitted form the values the current scores used, so Calculate with
    nothing changed gives them again: the latest pressure of any kind (an admission's 160
    mmHg) had stood where Framingham uses the office 120, "+10.7 percentage points" for
    nothing (an input audit). A value too old for every score stays empty, as they leave it;
    a heart attack on record counts however old, as it does for them. `current` holds every
    model's inputs, the first-event models' too when not computed now
    (`compute_scores(every_model=True)`): after a heart attack their cholesterol, pressure
    and smoking had stayed empty, "missing" (an accessibility audit)."""
    form.age_years.data = age_years
    for outcome in current:
        for keyword, found in outcome.sources.items():
            name = field_for_keyword(keyword, admission=reads_admission_pressure(outcome.spec))
            if name is not None:
                _show(form[name], found.value)
    if "history_of_mi" in measured and not form.history_of_mi.data:
        _show(form.history_of_mi, measured["history_of_mi"].value)


def _show(field: Field, value: Any) -> None:
    if isinstance(value, bool):
        field.data = "yes" if value else "no"
    else:
        field.data = int(value) if float(value).is_integer() else value


def overrides(form: WhatIfForm, valid: bool = True) -> dict[str, Any]:
    """The risk-function keywords for every filled field (units included); a field refused
    by the form's own checks (`valid` False) is left out, so no model scores it."""
    chosen: dict[str, Any] = {
        "chol_unit": form.cholesterol_unit.data,
        "creatinine_unit": form.creatinine_unit.data,
    }
    for name, keyword in NUMBER_KEYWORDS.items():
        if form[name].data is not None:
            chosen[keyword] = form[name].data
    for name, keyword in FLAG_KEYWORDS.items():
        if not valid and form[name].errors:
            continue
        value = {"yes": True, "no": False}.get(form[name].data or "")
        if value is not None:
            chosen[keyword] = value
    return chosen


def field_for_keyword(keyword: str, *, admission: bool = False) -> str | None:
    """The form field that feeds a risk-function keyword (to show an error beside it);
    `admission`: the model reads its pressure at presentation (GRACE)."""
    if admission and keyword == "sbp_mmhg":
        return "admission_sbp_mmhg"
    for table in (NUMBER_KEYWORDS, FLAG_KEYWORDS):
        for name, kw in table.items():
            if kw == keyword:
                return name
    return None
