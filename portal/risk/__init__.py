"""Cardiovascular risk models, exactly as published: pure Python, no Flask, no database.

Keyword-only functions with units in the argument names; each returns a `RiskResult` (value,
category, model name and citation, inputs after unit conversion, each term's contribution) or
raises `RiskInputError` naming the field, the value and the allowed range.
"""

from portal.risk.atp3 import framingham_hard_chd_atp3
from portal.risk.framingham import CALIBRATED_UP_TO_PERCENT as _FRAMINGHAM_CEILING
from portal.risk.framingham import framingham_general_cvd, framingham_general_cvd_bmi
from portal.risk.grace import grace_in_hospital, grace_six_month
from portal.risk.result import (
    FactorEffect,
    MissingInputError,
    RiskInputError,
    RiskResult,
    as_shown,
)

# Model -> the highest risk (%) it states as a figure (`framingham.CALIBRATED_UP_TO_PERCENT`,
# ATP III's printed table alike); a figure above it is said as "more than" it.
CALIBRATED_UP_TO_PERCENT = {
    "framingham_general_cvd": _FRAMINGHAM_CEILING,
    "framingham_general_cvd_bmi": _FRAMINGHAM_CEILING,
    "framingham_hard_chd_atp3": _FRAMINGHAM_CEILING,
}
# What is said of a figure above it, and of the factors' sizes there (pages, REST, CLI alike).
BEYOND_CALIBRATION = "beyond the range the model was built on"
NOT_SIZED = f"cannot be sized in percentage points {BEYOND_CALIBRATION}"

# Each model's bands, their cut-offs and their source, said once where scores are shown to
# clinicians (the risk page, the clinician PDF): only "low / intermediate / high" had been
# printed, and Framingham's 20.0 % "high" stood beside ATP III's 20.0 % "intermediate" with
# nothing to say why (a risk-score audit, 2026-12-07). D'Agostino 2008 defines no bands.
BANDS_NOTE = (
    "Bands: Framingham 2008 low < 10 %, intermediate 10-19.9 %, high >= 20 % (Canadian "
    "Cardiovascular Society 2016 dyslipidemia guidelines; the Framingham paper defines none); "
    "ATP III low < 10 %, intermediate 10-20 %, high > 20 % (a coronary risk equivalent; NCEP "
    "ATP III 2001); GRACE by its points, each band's cut-off beside the score."
)
# The same, beside each percentage model's result in the clinician PDF, whose rows have room
# for it: the note under the table had pushed the PDF's closing paragraph onto a page of its
# own, and a paced 12-lead report to 4 pages (CI, 2026-12-07).
FRAMINGHAM_BANDS = "bands < 10, 10-19.9, >= 20 %, Canadian Cardiovascular Society 2016"
BAND_WORDS = {
    "framingham_general_cvd": FRAMINGHAM_BANDS,
    "framingham_general_cvd_bmi": FRAMINGHAM_BANDS,
    "framingham_hard_chd_atp3": "bands < 10, 10-20, > 20 %, NCEP ATP III 2001",
}


def beyond_calibration(model: str, risk_percent: float | None) -> float | None:
    """The model's ceiling when `risk_percent`, as shown (`as_shown`, as stored), is above it
    (say "more than" it), else None: 30.00004 % had been "> 30 %" on the risk page and
    "30.0 %" on the report, which stores the figure as shown."""
    ceiling = CALIBRATED_UP_TO_PERCENT.get(model)
    if ceiling is None or risk_percent is None or as_shown(risk_percent) <= ceiling:
        return None
    return ceiling


__all__ = [
    "BANDS_NOTE",
    "BAND_WORDS",
    "BEYOND_CALIBRATION",
    "CALIBRATED_UP_TO_PERCENT",
    "FactorEffect",
    "MissingInputError",
    "NOT_SIZED",
    "RiskInputError",
    "RiskResult",
    "beyond_calibration",
    "framingham_general_cvd",
    "framingham_general_cvd_bmi",
    "framingham_hard_chd_atp3",
    "grace_in_hospital",
    "grace_six_month",
]
