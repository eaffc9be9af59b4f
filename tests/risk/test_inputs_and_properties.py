"""Bad inputs are refused with messages naming field, value and range; units round-trip;
risk rises with every risk factor (property tests)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal import risk
from portal.units import CHOLESTEROL_MG_DL_PER_MMOL_L, CREATININE_UMOL_L_PER_MG_DL

LIPID = dict(
    sex="female", age_years=60, total_chol=200, hdl=50, sbp_mmhg=130,
    bp_treated=False, smoker=False, diabetic=False,
)  # fmt: skip
GRACE = dict(
    age_years=70, heart_rate_bpm=90, sbp_mmhg=120, creatinine=1.1, killip_class=2,
    cardiac_arrest=False, st_deviation=True, elevated_enzymes=True,
)  # fmt: skip
BMI = {k: v for k, v in LIPID.items() if k not in ("total_chol", "hdl")} | {"bmi_kg_m2": 27}
SIX_MONTH = dict(
    age_years=70, heart_rate_bpm=90, sbp_mmhg=120, creatinine=1.1, history_of_heart_failure=False,
    history_of_mi=True, st_depression=True, elevated_enzymes=True, in_hospital_pci=True,
)  # fmt: skip


@pytest.mark.parametrize(
    ("function", "base", "change", "field", "words"),
    [
        (risk.framingham_general_cvd, LIPID, {"age_years": 29}, "age_years",
         ["Age 29 years", "30-74 years", "does not apply"]),
        (risk.framingham_general_cvd, LIPID, {"age_years": 75}, "age_years", ["Age 75 years"]),
        (risk.framingham_general_cvd, LIPID, {"total_chol": 2000}, "total_chol",
         ["Total cholesterol 2000 mg/dL", "50-700 mg/dL"]),
        (risk.framingham_general_cvd, LIPID, {"total_chol": 5.2}, "total_chol",
         ["Total cholesterol 5.2 mg/dL"]),
        (risk.framingham_general_cvd, LIPID, {"hdl": 250}, "hdl", ["HDL cholesterol 250 mg/dL"]),
        (risk.framingham_general_cvd, LIPID, {"hdl": 210, "total_chol": 200}, "hdl",
         ["HDL cholesterol 210"]),
        (risk.framingham_general_cvd, LIPID, {"hdl": 150, "total_chol": 140}, "hdl",
         ["lower than total cholesterol"]),
        (risk.framingham_general_cvd, LIPID, {"sbp_mmhg": 14}, "sbp_mmhg",
         ["Systolic blood pressure 14 mmHg", "50-300 mmHg"]),
        (risk.framingham_general_cvd, LIPID, {"sbp_mmhg": float("nan")}, "sbp_mmhg",
         ["must be a number"]),
        (risk.framingham_general_cvd, LIPID, {"sbp_mmhg": "140"}, "sbp_mmhg", ["must be a number"]),
        (risk.framingham_general_cvd, LIPID, {"smoker": "no"}, "smoker", ["yes or no"]),
        (risk.framingham_general_cvd, LIPID, {"sex": "other"}, "sex",
         ["male and female only"]),
        (risk.framingham_general_cvd, LIPID, {"chol_unit": "g/L"}, "total_chol",
         ["'g/L' is not one of mg/dL, mmol/L"]),
        (risk.framingham_general_cvd, LIPID, {"chol_unit": "mmol/L", "total_chol": 200},
         "total_chol", ["Total cholesterol 7734 mg/dL", "entered as 200 mmol/L"]),
        (risk.framingham_general_cvd_bmi, BMI, {"bmi_kg_m2": 270},
         "bmi_kg_m2", ["BMI 270 kg/m2", "10-90"]),
        (risk.framingham_hard_chd_atp3, LIPID, {"diabetic": True}, "diabetic",
         ["risk equivalent"]),
        (risk.framingham_hard_chd_atp3, LIPID, {"age_years": 80}, "age_years", ["30-79 years"]),
        (risk.grace_in_hospital, GRACE, {"killip_class": 5}, "killip_class", ["Killip class 5"]),
        (risk.grace_in_hospital, GRACE, {"killip_class": 2.5}, "killip_class", ["whole number"]),
        (risk.grace_in_hospital, GRACE, {"heart_rate_bpm": 0}, "heart_rate_bpm",
         ["Heart rate 0 bpm", "20-300 bpm"]),
        (risk.grace_in_hospital, GRACE, {"creatinine": 100}, "creatinine",
         ["Creatinine 100 mg/dL", "0.1-25 mg/dL"]),
        (risk.grace_in_hospital, GRACE, {"creatinine": 0.9, "creatinine_unit": "umol/L"},
         "creatinine", ["entered as 0.9 umol/L"]),
        (risk.grace_in_hospital, GRACE, {"age_years": 12}, "age_years", ["Age 12 years"]),
        (risk.grace_in_hospital, GRACE, {"acs_type": "angina"}, "acs_type", ["NSTE-ACS, STEMI"]),
        (risk.grace_six_month, SIX_MONTH, {"in_hospital_pci": 1}, "in_hospital_pci", ["yes or no"]),
    ],
)  # fmt: skip
def test_refused_with_a_message_naming_field_value_and_range(
    function, base: dict, change: dict, field: str, words: list[str]
) -> None:
    with pytest.raises(risk.RiskInputError) as refused:
        function(**(base | change))
    assert refused.value.field == field
    for word in words:
        assert word in str(refused.value)


def test_a_value_converted_from_another_unit_is_refused_in_one_sentence() -> None:
    """ "... (plausible: 50-700 mg/dL). (entered as 213.07 mmol/L)." had two stops (a
    risk-score audit, 2026-12-07)."""
    with pytest.raises(risk.RiskInputError) as refused:
        risk.framingham_general_cvd(**(LIPID | {"chol_unit": "mmol/L", "total_chol": 213.07}))
    assert str(refused.value) == (
        "Total cholesterol 8239.42 mg/dL is not a possible value (plausible: 50-700 mg/dL) "
        "(entered as 213.07 mmol/L)."
    )


@pytest.mark.parametrize(
    ("function", "base", "field", "label"),
    [
        (risk.framingham_general_cvd, LIPID, "hdl", "HDL cholesterol missing"),
        (risk.framingham_general_cvd, LIPID, "smoker", "Smoking status missing"),
        (risk.framingham_general_cvd, LIPID, "sex", "Sex missing"),
        (risk.grace_in_hospital, GRACE, "creatinine", "Creatinine missing"),
        (risk.grace_in_hospital, GRACE, "killip_class", "Killip class missing"),
        (risk.grace_six_month, SIX_MONTH, "history_of_mi", "History of heart attack missing"),
    ],
)
def test_not_measured_is_never_read_as_zero_or_no(function, base, field, label) -> None:
    with pytest.raises(risk.MissingInputError, match=label):
        function(**(base | {field: None}))


@given(mmol=st.floats(2.0, 15.0))
def test_cholesterol_in_mmol_per_litre_gives_the_same_risk(mmol: float) -> None:
    in_mg = risk.framingham_general_cvd(**(LIPID | {"total_chol": mmol * 38.67}))
    hdl_mmol = 50 / CHOLESTEROL_MG_DL_PER_MMOL_L
    in_mmol = risk.framingham_general_cvd(
        **(LIPID | {"total_chol": mmol, "hdl": hdl_mmol, "chol_unit": "mmol/L"})
    )
    assert in_mmol.risk_percent == pytest.approx(in_mg.risk_percent, rel=1e-9)
    assert in_mmol.inputs_used["total_chol_mg_dl"] == pytest.approx(mmol * 38.67)


@given(mg_dl=st.floats(0.1, 25.0))
def test_creatinine_in_micromoles_gives_the_same_result(mg_dl: float) -> None:
    umol = mg_dl * CREATININE_UMOL_L_PER_MG_DL
    a = risk.grace_in_hospital(**(GRACE | {"creatinine": mg_dl}))
    b = risk.grace_in_hospital(**(GRACE | {"creatinine": umol, "creatinine_unit": "umol/L"}))
    assert b.risk_percent == pytest.approx(a.risk_percent, rel=1e-9)
    assert b.inputs_used["creatinine_mg_dl"] == pytest.approx(mg_dl)


ages = st.floats(30, 73)
sbps = st.floats(90, 199)


@given(sex=st.sampled_from(["male", "female"]), age=ages, sbp=sbps, treated=st.booleans())
def test_framingham_risk_rises_with_age_sbp_smoking_and_diabetes(sex, age, sbp, treated) -> None:
    base = LIPID | {"sex": sex, "age_years": age, "sbp_mmhg": sbp, "bp_treated": treated}
    r = risk.framingham_general_cvd(**base).risk_percent
    assert risk.framingham_general_cvd(**(base | {"age_years": age + 1})).risk_percent > r
    assert risk.framingham_general_cvd(**(base | {"sbp_mmhg": sbp + 1})).risk_percent > r
    assert risk.framingham_general_cvd(**(base | {"smoker": True})).risk_percent > r
    assert risk.framingham_general_cvd(**(base | {"diabetic": True})).risk_percent > r
    assert risk.framingham_general_cvd(**(base | {"hdl": 60})).risk_percent < r
    bmi = BMI | {"sex": sex, "age_years": age, "sbp_mmhg": sbp, "bp_treated": treated}
    rb = risk.framingham_general_cvd_bmi(**bmi).risk_percent
    assert risk.framingham_general_cvd_bmi(**(bmi | {"bmi_kg_m2": 30})).risk_percent > rb
    assert 0 < r < 100 and 0 < rb < 100


@given(sex=st.sampled_from(["male", "female"]), age=st.floats(30, 78), sbp=sbps)
def test_atp3_risk_rises_with_sbp_and_smoking(sex, age, sbp) -> None:
    base = LIPID | {"sex": sex, "age_years": age, "sbp_mmhg": sbp}
    r = risk.framingham_hard_chd_atp3(**base).risk_percent
    assert risk.framingham_hard_chd_atp3(**(base | {"sbp_mmhg": sbp + 5})).risk_percent > r
    assert risk.framingham_hard_chd_atp3(**(base | {"smoker": True})).risk_percent > r
    assert risk.framingham_hard_chd_atp3(**(base | {"bp_treated": True})).risk_percent > r


@given(age=st.floats(18, 105), hr=st.floats(20, 290), killip=st.integers(1, 3))
def test_grace_rises_with_age_heart_rate_and_killip_class(age, hr, killip) -> None:
    base = GRACE | {"age_years": age, "heart_rate_bpm": hr, "killip_class": killip}
    r = risk.grace_in_hospital(**base)
    older = risk.grace_in_hospital(**(base | {"age_years": min(age + 5, 110)}))
    faster = risk.grace_in_hospital(**(base | {"heart_rate_bpm": hr + 10}))
    worse = risk.grace_in_hospital(**(base | {"killip_class": killip + 1}))
    assert older.points >= r.points and older.risk_percent > r.risk_percent
    assert faster.points >= r.points and faster.risk_percent > r.risk_percent
    assert worse.points > r.points and worse.risk_percent > r.risk_percent
    six = risk.grace_six_month(**(SIX_MONTH | {"age_years": age, "heart_rate_bpm": hr}))
    no_pci = risk.grace_six_month(
        **(SIX_MONTH | {"age_years": age, "heart_rate_bpm": hr, "in_hospital_pci": False})
    )
    assert no_pci.points == six.points + 14 and no_pci.risk_percent >= six.risk_percent
    assert math.isfinite(r.risk_percent)


@pytest.mark.parametrize(
    ("function", "inputs", "shown", "band"),
    [
        # 19.993 %: high is >= 20 % (D'Agostino 2008), and it is shown as 20.0 %
        (risk.framingham_general_cvd,
         dict(sex="male", age_years=60, total_chol=152, hdl=45, sbp_mmhg=176,
              bp_treated=False, smoker=False, diabetic=False), "20.0 %", "high"),
        # 20.005 %: high is > 20 % (ATP III), and it is shown as 20.0 %
        (risk.framingham_hard_chd_atp3,
         dict(sex="male", age_years=50, total_chol=239, hdl=45, sbp_mmhg=150,
              bp_treated=False, smoker=True, diabetic=False), "20.0 %", "intermediate"),
    ],
)  # fmt: skip
def test_the_band_is_that_of_the_figure_as_shown(function, inputs, shown, band) -> None:
    """The risk page's what-if had said "20.0 % intermediate" of 19.993 %, where high is
    >= 20 %, and ATP III "20.0 % high" of 20.005 %, where high is > 20 % (a risk-score
    audit, 2026-12-07): the band was of the unrounded figure, the text rounded."""
    from portal.risk_words import risk_figure_text

    result = function(**inputs)
    assert risk_figure_text(result.model, result.risk_percent) == shown
    assert result.category == band and result.level == band
