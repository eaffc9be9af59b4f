"""Risk models, their factors and their inputs in a clinician's words, with units and clinical
precision ("Total cholesterol 224 mg/dL", not "total chol mg dl 224.29")."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from portal import risk
from portal.models import RiskModel, RiskScore
from portal.risk import grace
from portal.risk.result import RiskResult

MODEL_TITLES = {
    RiskModel.FRAMINGHAM_GENERAL_CVD: "Framingham 2008 general cardiovascular disease, 10 years",
    RiskModel.FRAMINGHAM_GENERAL_CVD_BMI: "Framingham 2008 general cardiovascular disease "
    "(BMI version), 10 years",
    RiskModel.FRAMINGHAM_HARD_CHD_ATP3: "ATP III hard coronary heart disease, 10 years",
    RiskModel.GRACE_IN_HOSPITAL: "GRACE death in hospital",
    RiskModel.GRACE_SIX_MONTH: "GRACE death within 6 months of discharge",
}
# Factor (input or model term) -> words. Log terms ("ln_age") are named by their factor.
FACTORS = {
    "age": "age",
    "age_years": "age",
    "sex": "sex",
    "sbp": "systolic blood pressure",
    "sbp_mmhg": "systolic blood pressure",
    "sbp_untreated": "systolic blood pressure (untreated)",
    "sbp_treated": "systolic blood pressure (treated)",
    "bp_treated": "blood-pressure treatment",
    "total_chol": "total cholesterol",
    "total_chol_mg_dl": "total cholesterol",
    "hdl": "HDL cholesterol",
    "hdl_mg_dl": "HDL cholesterol",
    "bmi": "BMI",
    "bmi_kg_m2": "BMI",
    "smoker": "smoking",
    "diabetic": "diabetes",
    "heart_rate": "heart rate",
    "heart_rate_bpm": "heart rate",
    "creatinine": "creatinine",
    "creatinine_mg_dl": "creatinine",
    "killip_class": "Killip class",
    "cardiac_arrest": "cardiac arrest at admission",
    "st_deviation": "ST-segment deviation",
    "elevated_enzymes": "raised cardiac enzymes",
    "history_of_mi": "previous myocardial infarction",
    "history_of_heart_failure": "previous heart failure",
    "pci": "PCI in hospital",
    "cabg": "CABG in hospital",
    "st_depression": "ST-segment depression",
    "in_hospital_pci": "PCI in hospital",
    "no_in_hospital_pci": "no PCI in hospital",
}
# Unit suffix of an input's name -> (printed unit, decimals).
UNITS = {
    "_mg_dl": ("mg/dL", 0),
    "_mmol_l": ("mmol/L", 1),
    "_mmhg": ("mmHg", 0),
    "_kg_m2": ("kg/m²", 1),
    "_bpm": ("bpm", 0),
    "_years": ("years", 0),
}
# Inputs whose value needs more decimals than its unit's: creatinine of 1.6 mg/dL had printed
# "creatinine 2 mg/dL" on the clinician PDF (a clinician-eye audit, 2026-12-05).
DECIMALS = {"creatinine_mg_dl": 2}


POINT_MODELS = (RiskModel.GRACE_IN_HOSPITAL, RiskModel.GRACE_SIX_MONTH)
# A GRACE factor scored from a measured value -> that input: its points are named beside the
# value ("age (82 years) 91 points"), as "age 91" had read as the patient's age (an audit).
POINTS_FROM_INPUT = {
    "age": "age_years",
    "heart_rate": "heart_rate_bpm",
    "sbp": "sbp_mmhg",
    "creatinine": "creatinine_mg_dl",
    "killip_class": "killip_class",
}


def raised_most_text(score: RiskScore, n: int = 3) -> str:
    """What raises a stored score most, ranked as the risk page ranks it: "Blood pressure +4.2,
    Smoking +3.1 percentage points" (the risk minus the risk with that factor alone at a
    healthy level), or a GRACE score's largest points ("age (82 years) 91 points, heart rate
    (110 bpm) 24 points").

    Empty for a score not computed, or stored before the ranking was (a Framingham model's
    log-hazard terms rank age first whatever its level: no ranking beats a wrong one).
    """
    if score.value is None:
        return ""
    if score.raised_most_by is not None and not effects_sized(score.model, score.value):
        labels = ", ".join(e["label"] for e in score.raised_most_by[:n])
        return f"{labels} (largest first; {NOT_SIZED})" if labels else ""
    if score.raised_most_by is not None:
        parts = [
            f"{e['label']} {e['change_percent_points']:+.1f}" for e in score.raised_most_by[:n]
        ]
        return (
            ", ".join(parts) + " percentage points" if parts else "no factor above a healthy level"
        )
    if score.model in POINT_MODELS and score.contributions:
        largest = sorted(score.contributions.items(), key=lambda item: -item[1])[:n]
        parts = [
            f"{points_factor_text(name, score.inputs_used or {})} {points:.0f} points"
            for name, points in largest
            if points > 0
        ]
        return ", ".join(parts)
    return ""


BEYOND_CALIBRATION = risk.BEYOND_CALIBRATION
NOT_SIZED = risk.NOT_SIZED


def effects_sized(model: str, risk_percent: float) -> bool:
    """Whether what raises a risk can be sized in percentage points: not above the model's
    calibrated range (`portal.risk.beyond_calibration`), where each size is a difference of
    extrapolated figures. At "> 30 %" the lipid form had read "Blood pressure +6.5" and the
    BMI form "+19.2" for one patient (99.9 % saturates; a risk-score audit). The order stands:
    it is that of each factor's log-hazard term."""
    return risk.beyond_calibration(model, risk_percent) is None


def raised_most_by_shown(score: RiskScore) -> list[dict[str, Any]] | None:
    """A stored score's `raised_most_by` as the REST API gives it: each size null where the
    score is beyond its model's calibrated range (`effects_sized`), as the pages say no size."""
    if score.raised_most_by is None or score.value is None:
        return score.raised_most_by
    if effects_sized(score.model, score.value):
        return score.raised_most_by
    return [e | {"change_percent_points": None} for e in score.raised_most_by]


def risk_figure_text(model: str, risk_percent: float) -> str:
    """ "13.5 %", or "> 30 % (beyond the range the model was built on)" above the highest
    figure the model states (`portal.risk.beyond_calibration`): a clinician PDF had printed
    "99.9 % (high)", a certainty the extrapolated equation cannot give (a risk audit)."""
    ceiling = risk.beyond_calibration(model, risk_percent)
    if ceiling is None:
        return f"{risk_percent:.1f} %"
    return f"> {ceiling:.0f} % ({BEYOND_CALIBRATION})"


# Where a GRACE percentage comes from: its band is of the points (`band_text`), and the
# percentage is said with its source, never beside a band it may contradict (an audit read
# "2.2 % NSTE-ACS high", high meaning over 3 %).
PERCENT_SOURCES = {
    RiskModel.GRACE_IN_HOSPITAL: "GRACE continuous model",
    RiskModel.GRACE_SIX_MONTH: "Eagle 2004 nomogram",
}


def points_banded(model: RiskModel | str) -> bool:
    """GRACE: banded by its points, not by its percentage (ATP III's points are a check)."""
    return RiskModel(model) in POINT_MODELS


def score_points(score: RiskScore) -> int | None:
    """A stored GRACE score's points, None for other models: its contributions are exactly
    the points the score adds up."""
    if not points_banded(score.model) or score.value is None or not score.contributions:
        return None
    return round(sum(score.contributions.values()))


def band_text(model: RiskModel | str, points: int | None, category: str | None) -> str:
    """A score's band as what it is: a GRACE band is one of points, "NSTE-ACS high (≥ 141
    points), STEMI high (≥ 155 points)"; the other models' is their category ("high")."""
    if points_banded(model) and points is not None:
        return grace.band_words(RiskModel(model).value, points)
    return category or ""


def percent_bound(model: RiskModel | str, points: int | None) -> str | None:
    """ "<=" where a GRACE percentage is the 6-month nomogram's floor (`grace.percent_bound`):
    "0.8 % or less", which the portal had stated as exactly 0.8 % (an audit)."""
    if not points_banded(model) or points is None:
        return None
    return grace.percent_bound(RiskModel(model).value, points)


def percent_text(model: RiskModel | str, percent: float, points: int | None = None) -> str:
    """ "13.5 %"; a GRACE percentage with its source, and its bound where the nomogram gives
    only one: "2.2 % (GRACE continuous model)", "≤ 0.8 % (Eagle 2004 nomogram)"."""
    source = PERCENT_SOURCES.get(RiskModel(model))
    if source is None:  # "> 30 % (beyond ...)" above the model's calibrated range
        return risk_figure_text(RiskModel(model).value, percent)
    sign = grace.BOUND_SIGNS.get(percent_bound(model, points) or "", "")
    return f"{sign}{percent:.1f} % ({source})"


def change_text(now: RiskResult, then: RiskResult) -> str:
    """The what-if's change, "+1.2 percentage points", a GRACE score's with its points ("+1.2
    percentage points, +8 points"); beside a nomogram's bound a bound too ("≥ +0.8 ..."), and
    within its floor no figure: "0.8 % → 0.8 %, +0.0" had said a younger age changed nothing,
    from 70 points to 52 (an audit)."""
    if not effects_sized(now.model, now.risk_percent) or not effects_sized(
        then.model, then.risk_percent
    ):
        return _beyond_calibration_change(now, then)
    difference = then.risk_percent - now.risk_percent
    change = f"{difference:+.1f} percentage points"
    if now.percent_bound is not None and now.percent_bound == then.percent_bound:
        edge = "floor" if now.percent_bound == "<=" else "top"
        change = f"both within the nomogram's {edge} ({grace.BOUND_SIGNS[now.percent_bound]}"
        change += f"{now.risk_percent:.1f} %)"
    elif then.percent_bound == "<=" or now.percent_bound == ">=":
        change = f"≤ {change}"
    elif then.percent_bound == ">=" or now.percent_bound == "<=":
        change = f"≥ {change}"
    if points_banded(now.model) and now.points is not None and then.points is not None:
        change += f", {then.points - now.points:+d} points"
    return change


def _beyond_calibration_change(now: RiskResult, then: RiskResult) -> str:
    """ "from > 30 % to 26.4 %": a change from or to a figure beyond the model's calibrated
    range has no size (`effects_sized`); "> 30 % -> 26.4 %, -73.5 percentage points" had
    subtracted from the equation's 99.9 % (a risk-score audit)."""
    before = risk_figure_text(now.model, now.risk_percent).removesuffix(f" ({BEYOND_CALIBRATION})")
    after = risk_figure_text(then.model, then.risk_percent).removesuffix(f" ({BEYOND_CALIBRATION})")
    if before == after:
        return f"both {BEYOND_CALIBRATION} ({before})"
    return f"from {before} to {after}"


def points_factor_text(name: str, inputs_used: dict[str, Any]) -> str:
    """A GRACE factor with the value that scored it: "age (82 years)", "heart rate (110 bpm)";
    a yes/no factor by its name alone ("ST-segment deviation")."""
    measured = POINTS_FROM_INPUT.get(name)
    if measured is None or inputs_used.get(measured) is None:
        return factor_label(name)
    return f"{factor_label(name)} ({input_value(measured, inputs_used[measured])})"


def model_title(model: RiskModel) -> str:
    return MODEL_TITLES.get(model, model.value.replace("_", " "))


def factor_label(name: str) -> str:
    """ "ln_age" -> "age", "ln_sbp_treated" -> "systolic blood pressure (treated)"."""
    bare = name.removeprefix("ln_")
    return FACTORS.get(bare, FACTORS.get(name, bare.replace("_", " ")))


def input_text(name: str, value: Any) -> str:
    """ "total_chol_mg_dl", 224.29 -> "total cholesterol 224 mg/dL"; booleans as yes/no."""
    return f"{input_label(name)} {input_value(name, value)}"


def input_label(name: str) -> str:
    """ "total_chol_mg_dl" -> "total cholesterol": the input's name without its unit."""
    for suffix in UNITS:
        if name.endswith(suffix):
            return FACTORS.get(name, factor_label(name.removesuffix(suffix)))
    return factor_label(name)


def _half_up(value: float, decimals: int) -> str:
    """`value` at `decimals`, rounded half up in decimal as GRACE bands creatinine
    (`grace._banded`): a stored 1.595 mg/dL had read "1.59" beside the 1.6-1.99 band's points."""
    step = Decimal(1).scaleb(-decimals)
    return f"{Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP):f}"


def input_value(name: str, value: Any) -> str:
    """224.29 as "total_chol_mg_dl" -> "224 mg/dL", with the unit and the decimals a clinician
    writes it with (`UNITS`, `DECIMALS`); booleans as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    for suffix, (unit, decimals) in UNITS.items():
        if name.endswith(suffix) and isinstance(value, (int, float)):
            if name in DECIMALS:  # as many as needed, up to DECIMALS: 1.6, 1.25, 2
                shown = _half_up(value, DECIMALS[name]).rstrip("0").rstrip(".")
            else:
                shown = f"{value:.{decimals}f}"
            return f"{shown} {unit}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return f"{value}"
