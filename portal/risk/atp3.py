"""NCEP ATP III (2001) Framingham equation for 10-year hard coronary heart disease.

Predicts myocardial infarction or coronary death only (not stroke or other cardiovascular
events): the number many calculators call "the Framingham Risk Score", and a different outcome
from the 2008 general cardiovascular model. People with diabetes are outside it: ATP III counts
diabetes as a coronary heart disease risk equivalent rather than scoring it.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

from portal.risk import framingham, inputs
from portal.risk.explain import References, with_effects
from portal.risk.result import RiskInputError, RiskLevel, RiskResult, as_shown

CITATION = (
    "Expert Panel on Detection, Evaluation, and Treatment of High Blood Cholesterol in Adults. "
    "Executive Summary of the Third Report of the National Cholesterol Education Program (NCEP) "
    "Adult Treatment Panel III. JAMA. 2001;285(19):2486-2497."
)
PREDICTS = "10-year risk of hard coronary heart disease (heart attack or coronary death)"
NAME = "ATP III hard CHD"
# ATP III's risk tables cover ages 20-79 (`POINTS`), but the Framingham cohort its equation
# comes from was 30-74 at baseline: below 30 the portal does not score, as the 2008 model
# (`framingham.AGE_YEARS`). "The range the model was developed for (30-79 years)" had been
# said, true of neither (a risk-score audit, 2026-12-07).
AGE_YEARS = inputs.Range(
    "Age", 30, 79, "years", kind="model",
    reason=(
        "ATP III's risk tables cover ages 20-79 (NCEP ATP III 2001), but its equation comes "
        "from the Framingham cohort, aged 30-74 at baseline, and below 30 extrapolates"
    ),
)  # fmt: skip
# The same healthy levels as the 2008 model, for the factors ATP III uses.
REFERENCES: References = {
    factor: framingham.REFERENCES[factor]
    for factor in ("blood_pressure", "total_chol", "hdl", "smoker")
}


@dataclass(frozen=True)
class Coefficients:
    ln_age: float
    ln_total_chol: float
    ln_hdl: float
    ln_sbp: float
    bp_treated: float
    smoker: float
    ln_age_x_ln_total_chol: float
    ln_age_x_smoker: float
    ln_age_squared: float
    constant: float
    baseline_survival: float
    smoking_age_cap_years: float  # the age-by-smoking term uses at most this age


COEFFICIENTS = {
    "male": Coefficients(
        ln_age=52.00961,
        ln_total_chol=20.014077,
        ln_hdl=-0.905964,
        ln_sbp=1.305784,
        bp_treated=0.241549,
        smoker=12.096316,
        ln_age_x_ln_total_chol=-4.605038,
        ln_age_x_smoker=-2.84367,
        ln_age_squared=-2.93323,
        constant=-172.300168,
        baseline_survival=0.9402,
        smoking_age_cap_years=70,
    ),
    "female": Coefficients(
        ln_age=31.764001,
        ln_total_chol=22.465206,
        ln_hdl=-1.187731,
        ln_sbp=2.552905,
        bp_treated=0.420251,
        smoker=13.07543,
        ln_age_x_ln_total_chol=-5.060998,
        ln_age_x_smoker=-2.996945,
        ln_age_squared=0.0,
        constant=-146.5933061,
        baseline_survival=0.98767,
        smoking_age_cap_years=78,
    ),
}


@dataclass(frozen=True)
class PointsTable:
    """ATP III's printed points version of the same model (NIH "ATP III at a glance")."""

    age_bounds: tuple[int, ...]  # lower bounds of the age bands
    age_points: tuple[int, ...]
    decade_bounds: tuple[int, ...]  # 20-39, 40-49, 50-59, 60-69, 70-79
    chol_bounds: tuple[int, ...]  # <160, 160-199, 200-239, 240-279, >=280
    chol_points: tuple[tuple[int, ...], ...]  # [cholesterol band][age decade]
    smoker_points: tuple[int, ...]  # by age decade
    sbp_bounds: tuple[int, ...]  # <120, 120-129, 130-139, 140-159, >=160
    sbp_untreated: tuple[int, ...]
    sbp_treated: tuple[int, ...]
    risk_by_points: dict[int, str]  # lowest and highest keys stand for "or less" / "or more"


def _band(bounds: tuple[int, ...], value: float) -> int:
    return bisect.bisect_right(bounds, value) - 1


HDL_BOUNDS = (0, 40, 50, 60)
HDL_POINTS = (2, 1, 0, -1)
POINTS = {
    "male": PointsTable(
        age_bounds=(20, 35, 40, 45, 50, 55, 60, 65, 70, 75),
        age_points=(-9, -4, 0, 3, 6, 8, 10, 11, 12, 13),
        decade_bounds=(20, 40, 50, 60, 70),
        chol_bounds=(0, 160, 200, 240, 280),
        chol_points=(
            (0, 0, 0, 0, 0),
            (4, 3, 2, 1, 0),
            (7, 5, 3, 1, 0),
            (9, 6, 4, 2, 1),
            (11, 8, 5, 3, 1),
        ),
        smoker_points=(8, 5, 3, 1, 1),
        sbp_bounds=(0, 120, 130, 140, 160),
        sbp_untreated=(0, 0, 1, 1, 2),
        sbp_treated=(0, 1, 2, 2, 3),
        risk_by_points={
            -1: "<1",
            0: "1",
            1: "1",
            2: "1",
            3: "1",
            4: "1",
            5: "2",
            6: "2",
            7: "3",
            8: "4",
            9: "5",
            10: "6",
            11: "8",
            12: "10",
            13: "12",
            14: "16",
            15: "20",
            16: "25",
            17: ">=30",
        },
    ),
    "female": PointsTable(
        age_bounds=(20, 35, 40, 45, 50, 55, 60, 65, 70, 75),
        age_points=(-7, -3, 0, 3, 6, 8, 10, 12, 14, 16),
        decade_bounds=(20, 40, 50, 60, 70),
        chol_bounds=(0, 160, 200, 240, 280),
        chol_points=(
            (0, 0, 0, 0, 0),
            (4, 3, 2, 1, 1),
            (8, 6, 4, 2, 1),
            (11, 8, 5, 3, 2),
            (13, 10, 7, 4, 2),
        ),
        smoker_points=(9, 7, 4, 2, 1),
        sbp_bounds=(0, 120, 130, 140, 160),
        sbp_untreated=(0, 1, 2, 3, 4),
        sbp_treated=(0, 3, 4, 5, 6),
        risk_by_points={
            8: "<1",
            9: "1",
            10: "1",
            11: "1",
            12: "1",
            13: "2",
            14: "2",
            15: "3",
            16: "4",
            17: "5",
            18: "6",
            19: "8",
            20: "11",
            21: "14",
            22: "17",
            23: "22",
            24: "27",
            25: ">=30",
        },
    ),
}


def points_of(used: dict[str, Any]) -> tuple[int, str]:
    """ATP III points and the 10-year risk (%) the printed table gives for them."""
    table = POINTS[used["sex"]]
    decade = _band(table.decade_bounds, used["age_years"])
    sbp_points = table.sbp_treated if used["bp_treated"] else table.sbp_untreated
    total = (
        table.age_points[_band(table.age_bounds, used["age_years"])]
        + table.chol_points[_band(table.chol_bounds, used["total_chol_mg_dl"])][decade]
        + HDL_POINTS[_band(HDL_BOUNDS, used["hdl_mg_dl"])]
        + sbp_points[_band(table.sbp_bounds, used["sbp_mmhg"])]
        + table.smoker_points[decade] * used["smoker"]
    )
    keys = sorted(table.risk_by_points)
    clamped = min(max(total, keys[0]), keys[-1])
    return total, table.risk_by_points[clamped]


def _as_text(table_percent: str) -> str:
    if table_percent.startswith(">="):
        return f"{table_percent[2:]} % or more"
    if table_percent.startswith("<"):
        return f"under {table_percent[1:]} %"
    return f"about {table_percent} %"


def category_of(risk_percent: float) -> RiskLevel:
    """ATP III risk categories: < 10 %, 10-20 %, > 20 % (CHD risk equivalent), of the figure
    as shown (`result.as_shown`)."""
    risk_percent = as_shown(risk_percent)
    if risk_percent < 10:
        return RiskLevel.LOW
    if risk_percent <= 20:
        return RiskLevel.INTERMEDIATE
    return RiskLevel.HIGH


def framingham_hard_chd_atp3(
    *,
    sex: str,
    age_years: float,
    total_chol: float,
    hdl: float,
    sbp_mmhg: float,
    bp_treated: bool,
    smoker: bool,
    diabetic: bool,
    chol_unit: str = "mg/dL",
) -> RiskResult:
    """10-year hard CHD risk; refuses people with diabetes (a CHD equivalent in ATP III)."""
    used = framingham.lipid_model_inputs(
        sex=sex, age_years=age_years, age_range=AGE_YEARS, total_chol=total_chol, hdl=hdl,
        chol_unit=chol_unit, sbp_mmhg=sbp_mmhg, bp_treated=bp_treated, smoker=smoker,
        diabetic=diabetic, model=NAME,
    )  # fmt: skip
    if used["diabetic"]:
        raise RiskInputError(
            "diabetic",
            "ATP III does not score people with diabetes: it counts diabetes as a coronary "
            "heart disease risk equivalent (10-year risk above 20 %).",
        )
    result = _compute(used)
    return with_effects(result, REFERENCES, lambda changed: _compute(used | changed).risk_percent)


def _compute(used: dict[str, Any]) -> RiskResult:
    beta = COEFFICIENTS[used["sex"]]
    ln_age = math.log(used["age_years"])
    ln_age_for_smoking = math.log(min(used["age_years"], beta.smoking_age_cap_years))
    ln_chol = math.log(used["total_chol_mg_dl"])
    terms = {
        "ln_age": beta.ln_age * ln_age,
        "ln_total_chol": beta.ln_total_chol * ln_chol,
        "ln_hdl": beta.ln_hdl * math.log(used["hdl_mg_dl"]),
        "ln_sbp": beta.ln_sbp * math.log(used["sbp_mmhg"]),
        "bp_treated": beta.bp_treated * used["bp_treated"],
        "smoker": beta.smoker * used["smoker"],
        "ln_age_x_ln_total_chol": beta.ln_age_x_ln_total_chol * ln_age * ln_chol,
        "ln_age_x_smoker": beta.ln_age_x_smoker * ln_age_for_smoking * used["smoker"],
        "ln_age_squared": beta.ln_age_squared * ln_age * ln_age,
        "constant": beta.constant,
    }
    risk = 100.0 * (1.0 - beta.baseline_survival ** math.exp(sum(terms.values())))
    points, table_percent = points_of(used)
    return RiskResult(
        model="framingham_hard_chd_atp3",
        title="ATP III (2001) Framingham hard coronary heart disease",
        predicts=PREDICTS,
        citation=CITATION,
        risk_percent=risk,
        category=str(category_of(risk)),
        level=category_of(risk),
        inputs_used=dict(used),
        contributions=terms,
        points=points,
        notes=[
            "Risk from the ATP III equation; the printed points table gives "
            f"{points} points, {_as_text(table_percent)}."
        ],
    )
