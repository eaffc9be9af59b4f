"""Unit conversions for laboratory values. Canonical storage units: mg/dL.

Factors: cholesterol (total and HDL) 1 mmol/L = 38.67 mg/dL; creatinine 1 mg/dL = 88.4 umol/L.
"""

from __future__ import annotations

CHOLESTEROL_MG_DL_PER_MMOL_L = 38.67
CREATININE_UMOL_L_PER_MG_DL = 88.4

CHOLESTEROL_UNITS = ("mg/dL", "mmol/L")
CREATININE_UNITS = ("mg/dL", "umol/L")


class UnknownUnitError(ValueError):
    pass


def cholesterol_to_mg_dl(value: float, unit: str) -> float:
    if unit == "mg/dL":
        return value
    if unit == "mmol/L":
        return value * CHOLESTEROL_MG_DL_PER_MMOL_L
    raise UnknownUnitError(
        f"Cholesterol unit {unit!r} is not one of {', '.join(CHOLESTEROL_UNITS)}."
    )


def cholesterol_from_mg_dl(value_mg_dl: float, unit: str) -> float:
    return value_mg_dl / cholesterol_to_mg_dl(1.0, unit)


def creatinine_to_mg_dl(value: float, unit: str) -> float:
    if unit == "mg/dL":
        return value
    if unit == "umol/L":
        return value / CREATININE_UMOL_L_PER_MG_DL
    raise UnknownUnitError(f"Creatinine unit {unit!r} is not one of {', '.join(CREATININE_UNITS)}.")


def creatinine_from_mg_dl(value_mg_dl: float, unit: str) -> float:
    return value_mg_dl * creatinine_to_mg_dl(1.0, unit) ** -1
