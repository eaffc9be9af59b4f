"""Framingham 2008 general cardiovascular risk (D'Agostino et al.), lipid and BMI (office) forms.

Both predict the 10-year risk of a first cardiovascular event: coronary death, myocardial
infarction, coronary insufficiency, angina, ischaemic or haemorrhagic stroke, transient
ischaemic attack, peripheral artery disease or heart failure. Cox model:
risk = 1 - S0 ** exp(sum(beta * x) - mean), with ln of age, cholesterol, HDL, SBP and BMI; the
treated or the untreated SBP coefficient is used, never both.

"Heart age" (the paper's vascular age) is the age of a person of the same sex with the same
predicted risk whose other risk factors are all normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from portal.risk import inputs
from portal.risk.explain import References, with_effects
from portal.risk.result import RiskInputError, RiskLevel, RiskResult, as_shown

CITATION = (
    "D'Agostino RB Sr, Vasan RS, Pencina MJ, et al. General cardiovascular risk profile for use "
    "in primary care: the Framingham Heart Study. Circulation. 2008;117(6):743-753."
)
PREDICTS = (
    "10-year risk of a first cardiovascular event (coronary death, heart attack, angina, "
    "stroke or TIA, peripheral artery disease, heart failure)"
)
AGE_YEARS = inputs.Range("Age", 30, 74, "years", kind="model")
# The highest 10-year risk the paper states as a figure: its points tables for primary care
# stop at "> 30 %" (as ATP III's printed table stops at ">= 30 %", `atp3.POINTS`), and its
# highest risk category is ">= 20 %". Above it the Cox equation extrapolates beyond the risks
# it was calibrated on: 99.9 % for a smoker of 70 with diabetes, cholesterol 300, HDL 30 and
# a treated 200 mmHg, told "About 100 of 100 people ... The other 0 will not" (a risk audit).
CALIBRATED_UP_TO_PERCENT = 30.0
# The paper's "normal" risk factor levels: heart age, and the size of each factor's effect.
NORMAL_SBP_MMHG = 125.0
NORMAL_TOTAL_CHOL_MG_DL = 180.0
NORMAL_HDL_MG_DL = 45.0
NORMAL_BMI_KG_M2 = 22.5
REFERENCES: References = {
    # The pressure at a healthy level, treatment kept as it is: stopping treatment is no
    # healthy level, and a treated pressure of 125 mmHg had read "Blood pressure +4.0
    # percentage points", the whole of it the treated coefficient (a risk audit).
    "blood_pressure": ("Blood pressure", {"sbp_mmhg": NORMAL_SBP_MMHG}),
    "total_chol": ("Total cholesterol", {"total_chol_mg_dl": NORMAL_TOTAL_CHOL_MG_DL}),
    "hdl": ("HDL cholesterol", {"hdl_mg_dl": NORMAL_HDL_MG_DL}),
    "bmi": ("Body-mass index", {"bmi_kg_m2": NORMAL_BMI_KG_M2}),
    "smoker": ("Smoking", {"smoker": False}),
    "diabetic": ("Diabetes", {"diabetic": False}),
}


@dataclass(frozen=True)
class Coefficients:
    ln_age: float
    ln_sbp_untreated: float
    ln_sbp_treated: float
    smoker: float
    diabetic: float
    mean: float
    baseline_survival: float
    ln_total_chol: float = 0.0
    ln_hdl: float = 0.0
    ln_bmi: float = 0.0


LIPID = {
    "male": Coefficients(
        ln_age=3.06117,
        ln_total_chol=1.12370,
        ln_hdl=-0.93263,
        ln_sbp_untreated=1.93303,
        ln_sbp_treated=1.99881,
        smoker=0.65451,
        diabetic=0.57367,
        mean=23.9802,
        baseline_survival=0.88936,
    ),
    "female": Coefficients(
        ln_age=2.32888,
        ln_total_chol=1.20904,
        ln_hdl=-0.70833,
        ln_sbp_untreated=2.76157,
        ln_sbp_treated=2.82263,
        smoker=0.52873,
        diabetic=0.69154,
        mean=26.1931,
        baseline_survival=0.95012,
    ),
}
BMI = {
    "male": Coefficients(
        ln_age=3.11296,
        ln_bmi=0.79277,
        ln_sbp_untreated=1.85508,
        ln_sbp_treated=1.92672,
        smoker=0.70953,
        diabetic=0.53160,
        mean=23.9388,
        baseline_survival=0.88431,
    ),
    "female": Coefficients(
        ln_age=2.72107,
        ln_bmi=0.51125,
        ln_sbp_untreated=2.81291,
        ln_sbp_treated=2.88267,
        smoker=0.61868,
        diabetic=0.77763,
        mean=26.0145,
        baseline_survival=0.94833,
    ),
}


# Heart age is said as a number within the ages the model covers, up to 80: below 30 the
# equation extrapolates (a woman of 30 with healthy values read "heart age 21 years").
HEART_AGE_SAID_YEARS = (AGE_YEARS.low, 80)


def heart_age_text(heart_age_years: float) -> str:
    """ "61", or "under 30" / "over 80" beyond the ages it is said for (`HEART_AGE_SAID_YEARS`)."""
    low, high = HEART_AGE_SAID_YEARS
    if heart_age_years < low:
        return f"under {low:g}"
    if heart_age_years > high:
        return f"over {high:g}"
    return f"{heart_age_years:.0f}"


def category_of(risk_percent: float) -> RiskLevel:
    """The Canadian Cardiovascular Society's bands (2016 dyslipidemia guidelines; D'Agostino
    2008 defines none): low < 10 %, intermediate 10-19.9 %, high >= 20 %, of the figure as
    shown (`as_shown`); said on the pages with their source (`portal.risk.BANDS_NOTE`)."""
    risk_percent = as_shown(risk_percent)
    if risk_percent < 10:
        return RiskLevel.LOW
    if risk_percent < 20:
        return RiskLevel.INTERMEDIATE
    return RiskLevel.HIGH


def framingham_general_cvd(
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
    """10-year general CVD risk, lipid form. Cholesterol in `chol_unit` (mg/dL or mmol/L)."""
    used = lipid_model_inputs(
        sex=sex, age_years=age_years, age_range=AGE_YEARS, total_chol=total_chol, hdl=hdl,
        chol_unit=chol_unit, sbp_mmhg=sbp_mmhg, bp_treated=bp_treated, smoker=smoker,
        diabetic=diabetic, model="Framingham 2008",
    )  # fmt: skip
    result = _lipid(used)
    return with_effects(result, REFERENCES, lambda changed: _lipid(used | changed).risk_percent)


def framingham_general_cvd_bmi(
    *,
    sex: str,
    age_years: float,
    bmi_kg_m2: float,
    sbp_mmhg: float,
    bp_treated: bool,
    smoker: bool,
    diabetic: bool,
) -> RiskResult:
    """10-year general CVD risk, office form: BMI instead of laboratory cholesterol."""
    name = "Framingham 2008 (BMI)"
    used: dict[str, Any] = {
        "sex": inputs.sex(sex),
        "age_years": inputs.number("age_years", age_years, AGE_YEARS, model=name),
        "bmi_kg_m2": inputs.number("bmi_kg_m2", bmi_kg_m2, inputs.BMI_KG_M2, model=name),
        **_blood_pressure_and_habits(sbp_mmhg, bp_treated, smoker, diabetic, model=name),
    }
    result = _bmi(used)
    return with_effects(result, REFERENCES, lambda changed: _bmi(used | changed).risk_percent)


def lipid_model_inputs(
    *,
    sex: str,
    age_years: float,
    age_range: inputs.Range,
    total_chol: float,
    hdl: float,
    chol_unit: str,
    sbp_mmhg: float,
    bp_treated: bool,
    smoker: bool,
    diabetic: bool,
    model: str,
) -> dict[str, Any]:
    """Checked inputs, in canonical units, of the models that use lipids (also ATP III)."""
    used: dict[str, Any] = {
        "sex": inputs.sex(sex),
        "age_years": inputs.number("age_years", age_years, age_range, model=model),
        "total_chol_mg_dl": inputs.cholesterol_mg_dl(
            "total_chol", total_chol, chol_unit, inputs.TOTAL_CHOLESTEROL_MG_DL, model=model
        ),
        "hdl_mg_dl": inputs.cholesterol_mg_dl("hdl", hdl, chol_unit, inputs.HDL_MG_DL, model=model),
        **_blood_pressure_and_habits(sbp_mmhg, bp_treated, smoker, diabetic, model=model),
    }
    if used["hdl_mg_dl"] >= used["total_chol_mg_dl"]:
        raise RiskInputError("hdl", "HDL cholesterol must be lower than total cholesterol.")
    return used


def _blood_pressure_and_habits(
    sbp_mmhg: float, bp_treated: bool, smoker: bool, diabetic: bool, *, model: str
) -> dict[str, Any]:
    return {
        "sbp_mmhg": inputs.number("sbp_mmhg", sbp_mmhg, inputs.SBP_MMHG, model=model),
        "bp_treated": inputs.flag("bp_treated", bp_treated, "Blood pressure treatment"),
        "smoker": inputs.flag("smoker", smoker, "Smoking status"),
        "diabetic": inputs.flag("diabetic", diabetic, "Diabetes status"),
    }


def _lipid(used: dict[str, Any]) -> RiskResult:
    beta = LIPID[used["sex"]]
    terms = _shared_terms(beta, used) | {
        "ln_total_chol": beta.ln_total_chol * math.log(used["total_chol_mg_dl"]),
        "ln_hdl": beta.ln_hdl * math.log(used["hdl_mg_dl"]),
    }
    normal = beta.ln_total_chol * math.log(NORMAL_TOTAL_CHOL_MG_DL) + beta.ln_hdl * math.log(
        NORMAL_HDL_MG_DL
    )
    return _result(
        "framingham_general_cvd",
        "Framingham 2008 general cardiovascular risk (lipids)",
        beta,
        used,
        terms,
        normal,
    )


def _bmi(used: dict[str, Any]) -> RiskResult:
    beta = BMI[used["sex"]]
    terms = _shared_terms(beta, used) | {"ln_bmi": beta.ln_bmi * math.log(used["bmi_kg_m2"])}
    return _result(
        "framingham_general_cvd_bmi",
        "Framingham 2008 general cardiovascular risk (BMI, no laboratory values)",
        beta,
        used,
        terms,
        beta.ln_bmi * math.log(NORMAL_BMI_KG_M2),
    )


def _shared_terms(beta: Coefficients, used: dict[str, Any]) -> dict[str, float]:
    sbp_beta = beta.ln_sbp_treated if used["bp_treated"] else beta.ln_sbp_untreated
    return {
        "ln_age": beta.ln_age * math.log(used["age_years"]),
        "ln_sbp": sbp_beta * math.log(used["sbp_mmhg"]),
        "smoker": beta.smoker * used["smoker"],
        "diabetic": beta.diabetic * used["diabetic"],
    }


def _result(
    model: str,
    title: str,
    beta: Coefficients,
    used: dict[str, Any],
    terms: dict[str, float],
    normal_lab_terms: float,
) -> RiskResult:
    linear = sum(terms.values())
    risk = 100.0 * (1.0 - beta.baseline_survival ** math.exp(linear - beta.mean))
    # Heart age: solve for the age whose risk, with every other factor normal, is the same.
    normal_terms = normal_lab_terms + beta.ln_sbp_untreated * math.log(NORMAL_SBP_MMHG)
    heart_age = math.exp((linear - normal_terms) / beta.ln_age)
    return RiskResult(
        model=model,
        title=title,
        predicts=PREDICTS,
        citation=CITATION,
        risk_percent=risk,
        category=str(category_of(risk)),
        level=category_of(risk),
        inputs_used=dict(used),
        contributions=terms,
        heart_age_years=heart_age,
    )
