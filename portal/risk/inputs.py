"""Checking and converting model inputs: one place for ranges, units and yes/no flags.

Nothing is clamped: a value outside a model's validated range or outside what is physically
possible is refused with a message naming the field, the value and the range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from portal import units
from portal.risk.result import MissingInputError, RiskInputError


@dataclass(frozen=True)
class Range:
    label: str
    low: float
    high: float
    unit: str
    # "model": the range the model was developed on; "possible": what a living adult can have.
    kind: str = "possible"
    # Why a model's range is what it is, where it is not simply the one the model was
    # developed on (said in place of that, `number`): ATP III's (`atp3.AGE_YEARS`).
    reason: str = ""

    def describe(self) -> str:
        return f"{self.low:g}-{self.high:g} {self.unit}".rstrip()


# Physically possible values (not reference ranges): outside them the entry is a typo or a
# unit mix-up. The same bounds the clinical-input form uses.
TOTAL_CHOLESTEROL_MG_DL = Range("Total cholesterol", 50, 700, "mg/dL")
HDL_MG_DL = Range("HDL cholesterol", 5, 200, "mg/dL")
SBP_MMHG = Range("Systolic blood pressure", 50, 300, "mmHg")
HEART_RATE_BPM = Range("Heart rate", 20, 300, "bpm")
CREATININE_MG_DL = Range("Creatinine", 0.1, 25, "mg/dL")
BMI_KG_M2 = Range("BMI", 10, 90, "kg/m2")


def number(name: str, value: float | None, allowed: Range, *, model: str) -> float:
    """`value` as a float inside `allowed`, or a RiskInputError that says why not."""
    if value is None:
        raise MissingInputError(name, f"{allowed.label} missing")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RiskInputError(name, f"{allowed.label} must be a number, not {value!r}.")
    x = float(value)
    if not math.isfinite(x):
        raise RiskInputError(name, f"{allowed.label} must be a number, not {value!r}.")
    if allowed.low <= x <= allowed.high:
        return x
    shown = f"{x:g} {allowed.unit}".rstrip()
    if allowed.kind == "model" and allowed.reason:
        raise RiskInputError(
            name,
            f"{allowed.label} {shown} is outside the range the portal scores the {model} model "
            f"for ({allowed.describe()}): {allowed.reason}; the model is not applied.",
        )
    if allowed.kind == "model":
        raise RiskInputError(
            name,
            f"{allowed.label} {shown} is outside the range the {model} model was developed "
            f"for ({allowed.describe()}); the model does not apply.",
        )
    raise RiskInputError(
        name, f"{allowed.label} {shown} is not a possible value (plausible: {allowed.describe()})."
    )


def flag(name: str, value: bool | None, label: str) -> bool:
    """A yes/no input; None (not recorded) is refused rather than read as "no"."""
    if value is None:
        raise MissingInputError(name, f"{label} missing")
    if not isinstance(value, bool):
        raise RiskInputError(name, f"{label} must be yes or no, not {value!r}.")
    return value


def sex(value: str | None) -> str:
    """'male' or 'female': the models have separate equations and nothing for other values."""
    if value is None:
        raise MissingInputError("sex", "Sex missing")
    normalised = str(value).strip().lower()
    if normalised in ("male", "m"):
        return "male"
    if normalised in ("female", "f"):
        return "female"
    raise RiskInputError(
        "sex",
        f"Sex {value!r}: the model has equations for male and female only, so it cannot be used.",
    )


def cholesterol_mg_dl(
    name: str, value: float | None, unit: str, allowed: Range, *, model: str
) -> float:
    """A cholesterol value converted from `unit` (mg/dL or mmol/L) and range-checked in mg/dL."""
    return _lab_mg_dl(name, value, unit, allowed, units.cholesterol_to_mg_dl, model=model)


def creatinine_mg_dl(name: str, value: float | None, unit: str, *, model: str) -> float:
    """A creatinine value converted from `unit` (mg/dL or umol/L) and range-checked in mg/dL."""
    return _lab_mg_dl(name, value, unit, CREATININE_MG_DL, units.creatinine_to_mg_dl, model=model)


def _lab_mg_dl(
    name: str,
    value: float | None,
    unit: str,
    allowed: Range,
    to_mg_dl: Callable[[float, str], float],
    *,
    model: str,
) -> float:
    if value is None:
        raise MissingInputError(name, f"{allowed.label} missing")
    try:
        converted = to_mg_dl(float(value), unit)
    except units.UnknownUnitError as problem:
        raise RiskInputError(name, str(problem)) from None
    except (TypeError, ValueError):
        raise RiskInputError(name, f"{allowed.label} must be a number, not {value!r}.") from None
    return _converted(name, converted, value, unit, allowed, model=model)


def _converted(
    name: str, converted: float, raw: float, unit: str, allowed: Range, *, model: str
) -> float:
    try:
        return number(name, converted, allowed, model=model)
    except RiskInputError as problem:
        if unit == allowed.unit:
            raise
        # One stop: "... (plausible: 50-700 mg/dL). (entered as 213.07 mmol/L)." had two.
        said = str(problem).removesuffix(".")
        raise RiskInputError(name, f"{said} (entered as {float(raw):g} {unit}).") from None
