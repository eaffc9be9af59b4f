"""Cardiovascular risk models, exactly as published: pure Python, no Flask, no database.

Keyword-only functions with units in the argument names; each returns a `RiskResult` (value,
category, model name and citation, inputs after unit conversion, each term's contribution) or
raises `RiskInputError` naming the field, the value and the allowed range.
"""

from portal.risk.atp3 import framingham_hard_chd_atp3
from portal.risk.framingham import framingham_general_cvd, framingham_general_cvd_bmi
from portal.risk.grace import grace_in_hospital, grace_six_month
from portal.risk.result import FactorEffect, MissingInputError, RiskInputError, RiskResult

__all__ = [
    "FactorEffect",
    "MissingInputError",
    "RiskInputError",
    "RiskResult",
    "framingham_general_cvd",
    "framingham_general_cvd_bmi",
    "framingham_hard_chd_atp3",
    "grace_in_hospital",
    "grace_six_month",
]
