"""Every model against published worked examples and independent computations.

Published: the 2008 paper's calculator values (13.53 % lipid, 16.75 % BMI, as in the R package
CVrisk's tests); the GRACE coordinating centre's worked example (21.7 %, 209 points). The other
rows were computed independently from the published coefficients and points tables (research
notes in the README's risk section), including the ATP III printed points tables.
"""

from __future__ import annotations

import pytest

from portal import risk

MAN_55 = dict(
    sex="male", age_years=55, sbp_mmhg=140, bp_treated=False, smoker=False, diabetic=False
)


def test_framingham_lipid_published_example() -> None:
    result = risk.framingham_general_cvd(**MAN_55, total_chol=213, hdl=50)
    assert round(result.risk_percent, 2) == 13.53
    assert result.category == "intermediate"
    assert result.heart_age_years == pytest.approx(60.9, abs=0.05)
    assert "D'Agostino" in result.citation and "first cardiovascular event" in result.predicts


def test_framingham_bmi_published_example() -> None:
    result = risk.framingham_general_cvd_bmi(**MAN_55, bmi_kg_m2=30)
    assert round(result.risk_percent, 2) == 16.75
    assert result.heart_age_years == pytest.approx(63.3, abs=0.05)


# sex, age, TC, HDL, SBP, treated, smoker, diabetic, BMI -> lipid %, heart age, BMI %, heart age
FRAMINGHAM_CASES = [
    ("female", 55, 213, 50, 140, False, False, False, 30, 8.07, 66.5, 8.61, 65.3),
    ("male", 55, 213, 50, 140, False, True, False, 30, 24.41, 75.4, 31.11, 79.5),
    ("male", 55, 213, 50, 140, False, False, True, 30, 22.75, 73.4, 26.80, 75.1),
    ("male", 55, 213, 50, 140, True, False, False, 30, 18.23, 67.7, 22.98, 70.9),
    ("female", 61, 180, 47, 124, False, True, False, 26, 10.48, 74.8, 13.62, 78.0),
    ("male", 45, 200, 40, 130, False, True, True, 27, 23.44, 74.2, 23.83, 71.9),
    ("female", 40, 190, 60, 115, False, False, False, 22, 1.77, 34.1, 1.84, 36.5),
]


@pytest.mark.parametrize("case", FRAMINGHAM_CASES)
def test_framingham_both_forms_against_independent_computation(case: tuple) -> None:
    sex, age, tc, hdl, sbp, treated, smoker, diabetic, bmi, lipid, ha, bmi_risk, ha_bmi = case
    common = dict(
        sex=sex, age_years=age, sbp_mmhg=sbp, bp_treated=treated, smoker=smoker, diabetic=diabetic
    )
    lipid_result = risk.framingham_general_cvd(**common, total_chol=tc, hdl=hdl)
    bmi_result = risk.framingham_general_cvd_bmi(**common, bmi_kg_m2=bmi)
    assert round(lipid_result.risk_percent, 2) == lipid
    assert lipid_result.heart_age_years == pytest.approx(ha, abs=0.05)
    assert round(bmi_result.risk_percent, 2) == bmi_risk
    assert bmi_result.heart_age_years == pytest.approx(ha_bmi, abs=0.05)


def test_framingham_uses_treated_or_untreated_sbp_coefficient_never_both() -> None:
    untreated = risk.framingham_general_cvd(**MAN_55, total_chol=213, hdl=50)
    treated = risk.framingham_general_cvd(**(MAN_55 | {"bp_treated": True}), total_chol=213, hdl=50)
    assert untreated.contributions["ln_sbp"] == pytest.approx(1.93303 * 4.941642, rel=1e-6)
    assert treated.contributions["ln_sbp"] == pytest.approx(1.99881 * 4.941642, rel=1e-6)
    assert set(treated.contributions) == {
        "ln_age", "ln_sbp", "smoker", "diabetic", "ln_total_chol", "ln_hdl"
    }  # fmt: skip


def test_framingham_explains_which_factors_raise_the_risk() -> None:
    result = risk.framingham_general_cvd(
        **(MAN_55 | {"smoker": True, "sbp_mmhg": 160}), total_chol=213, hdl=50
    )
    top = result.largest_effects()
    assert top[0].factor == "smoker"
    assert top[0].risk_percent_at_reference == pytest.approx(
        risk.framingham_general_cvd(
            **(MAN_55 | {"sbp_mmhg": 160}), total_chol=213, hdl=50
        ).risk_percent
    )
    assert {e.factor for e in top} >= {"smoker", "blood_pressure"}
    hdl = next(e for e in result.effects if e.factor == "hdl")
    assert hdl.change_percent_points < 0  # HDL 50 is better than the reference 45


def test_a_treated_pressure_at_a_healthy_level_raises_nothing() -> None:
    """The healthy level keeps the treatment: a treated 125 mmHg had read "Blood pressure +4.0
    percentage points", the whole of it the treated coefficient (a risk audit)."""
    at_target = risk.framingham_general_cvd(
        **(MAN_55 | {"sbp_mmhg": 125, "bp_treated": True}), total_chol=213, hdl=50
    )
    pressure = next(e for e in at_target.effects if e.factor == "blood_pressure")
    assert pressure.change_percent_points == pytest.approx(0.0, abs=1e-9)
    high = risk.framingham_general_cvd(
        **(MAN_55 | {"sbp_mmhg": 160, "bp_treated": True}), total_chol=213, hdl=50
    )
    pressure = next(e for e in high.effects if e.factor == "blood_pressure")
    assert pressure.risk_percent_at_reference == pytest.approx(at_target.risk_percent)


# sex, age, TC, HDL, SBP, treated, smoker -> equation %, printed-table points
ATP3_CASES = [
    ("male", 55, 213, 50, 120, False, False, 6.509, 11),
    ("male", 55, 213, 50, 120, False, True, 12.684, 14),
    ("male", 55, 213, 50, 140, True, False, 9.949, 13),
    ("male", 75, 250, 40, 150, True, True, 30.091, 18),
    ("male", 50, 200, 50, 120, False, False, 3.938, 9),
    ("male", 53, 231, 37, 112, False, True, 16.476, None),
    ("male", 40, 180, 45, 130, False, False, 1.084, 5),
    ("male", 35, 150, 65, 110, False, False, 0.129, -5),
    ("female", 55, 213, 50, 120, False, False, 1.210, 13),
    ("female", 50, 200, 50, 120, False, False, 0.660, 11),
    ("female", 65, 240, 45, 145, True, True, 14.127, 23),
    ("female", 61, 180, 47, 124, False, True, 3.635, 15),
    ("female", 72, 290, 35, 165, True, True, 30.963, 25),
]


@pytest.mark.parametrize("case", ATP3_CASES)
def test_atp3_equation_and_points_table(case: tuple) -> None:
    sex, age, tc, hdl, sbp, treated, smoker, expected, points = case
    result = risk.framingham_hard_chd_atp3(
        sex=sex, age_years=age, total_chol=tc, hdl=hdl, sbp_mmhg=sbp,
        bp_treated=treated, smoker=smoker, diabetic=False,
    )  # fmt: skip
    assert round(result.risk_percent, 3) == pytest.approx(expected, abs=0.0015)
    if points is not None:
        assert result.points == points
    assert "heart attack or coronary death" in result.predicts


def test_atp3_caps_age_only_in_the_smoking_term() -> None:
    kwargs = dict(sex="male", total_chol=250, hdl=40, sbp_mmhg=150, bp_treated=True, diabetic=False)
    at_75 = risk.framingham_hard_chd_atp3(age_years=75, smoker=True, **kwargs)
    import math

    assert at_75.contributions["ln_age_x_smoker"] == pytest.approx(-2.84367 * math.log(70))
    assert at_75.contributions["ln_age"] == pytest.approx(52.00961 * math.log(75))


def test_grace_in_hospital_coordinating_centre_example() -> None:
    result = risk.grace_in_hospital(
        age_years=57, heart_rate_bpm=70, sbp_mmhg=110, creatinine=1.2, killip_class=3,
        cardiac_arrest=True, st_deviation=True, elevated_enzymes=False,
    )  # fmt: skip
    assert result.points == 209
    assert round(result.risk_percent, 1) == 21.7
    assert result.contributions == {
        "age": 41, "heart_rate": 9, "sbp": 43, "creatinine": 10, "killip_class": 39,
        "cardiac_arrest": 39, "st_deviation": 28, "elevated_enzymes": 0,
    }  # fmt: skip
    assert result.category == "NSTE-ACS high, STEMI high"
    assert "22.5 %" in result.notes[0]  # the nomogram's own value, between 200 (18) and 210 (23)


# age, HR, SBP, creatinine, Killip, arrest, ST deviation, enzymes -> points, continuous %
GRACE_CASES = [
    (65, 80, 130, 1.0, 1, False, True, True, 150, 2.88),
    (45, 60, 150, 0.9, 1, False, False, False, 59, 0.16),
    (75, 110, 95, 2.1, 2, False, True, True, 235, 22.35),
    (85, 130, 85, 3.0, 4, True, True, True, 329, 93.32),
    (60, 90, 120, 1.6, 2, False, False, True, 154, 2.65),
]


@pytest.mark.parametrize("case", GRACE_CASES)
def test_grace_in_hospital_points_and_probability(case: tuple) -> None:
    age, hr, sbp, creat, killip, arrest, st, enzymes, points, percent = case
    result = risk.grace_in_hospital(
        age_years=age, heart_rate_bpm=hr, sbp_mmhg=sbp, creatinine=creat, killip_class=killip,
        cardiac_arrest=arrest, st_deviation=st, elevated_enzymes=enzymes,
    )  # fmt: skip
    assert result.points == points
    assert round(result.risk_percent, 2) == percent


@pytest.mark.parametrize(
    ("acs_type", "points", "expected"),
    [("NSTE-ACS", 108, "low"), ("NSTE-ACS", 109, "intermediate"), ("NSTE-ACS", 141, "high"),
     ("STEMI", 125, "low"), ("STEMI", 126, "intermediate"), ("STEMI", 155, "high")],
)  # fmt: skip
def test_grace_in_hospital_risk_bands(acs_type: str, points: int, expected: str) -> None:
    from portal.risk.grace import IN_HOSPITAL_BANDS

    assert IN_HOSPITAL_BANDS[acs_type].category(points) == expected


# age, CHF, MI, HR, SBP, ST depression, creatinine, enzymes, PCI -> points
SIX_MONTH_CASES = [
    (65, False, True, 80, 130, True, 1.0, True, True, 121),
    (75, True, True, 100, 110, True, 1.8, True, False, 190),
    (50, False, False, 65, 140, False, 0.9, False, True, 54),
    (82, True, False, 95, 100, True, 2.5, True, False, 202),
]


@pytest.mark.parametrize("case", SIX_MONTH_CASES)
def test_grace_six_month_points(case: tuple) -> None:
    age, chf, mi, hr, sbp, st, creat, enzymes, pci, points = case
    result = risk.grace_six_month(
        age_years=age, history_of_heart_failure=chf, history_of_mi=mi, heart_rate_bpm=hr,
        sbp_mmhg=sbp, st_depression=st, creatinine=creat, elevated_enzymes=enzymes,
        in_hospital_pci=pci, acs_type="NSTE-ACS",
    )  # fmt: skip
    assert result.points == points
    assert result.category == (
        "low" if points <= 88 else "high" if points >= 119 else "intermediate"
    )


@pytest.mark.parametrize(("points", "percent"), [(70, 0.8), (90, 1.6), (110, 3.1), (150, 11.0)])
def test_grace_six_month_nomogram_rows(points: int, percent: float) -> None:
    from portal.risk.grace import SIX_MONTH_MORTALITY, mortality_percent

    assert mortality_percent(points, SIX_MONTH_MORTALITY) == pytest.approx(percent)
    between = mortality_percent(points + 10, SIX_MONTH_MORTALITY)
    assert percent < between < mortality_percent(points + 20, SIX_MONTH_MORTALITY)


def grace_six_month_at(age: int) -> risk.RiskResult:
    """GRACE 6-month at 80 bpm, 110 mmHg, creatinine 1.3, PCI: 70 points at 57, 52 at 40, 89
    at 60 (the nomogram's floor is 70)."""
    return risk.grace_six_month(
        age_years=age, history_of_heart_failure=False, history_of_mi=False,
        heart_rate_bpm=80, sbp_mmhg=110, st_depression=False, creatinine=1.3,
        elevated_enzymes=False, in_hospital_pci=True,
    )  # fmt: skip


def test_grace_six_month_at_the_nomogram_floor_is_a_bound() -> None:
    """Eagle's nomogram gives "0.8 % or less" at 70 points or fewer: the result says so
    (`percent_bound` "<="), as does the command line ("≤ 0.8 %"), where 0.8 % had been
    stated as a fact at 52 points as at 70 (an audit, 2026-12-07)."""
    from click.testing import CliRunner

    from portal.risk.cli import risk_command

    at_70, at_52, at_89 = grace_six_month_at(57), grace_six_month_at(40), grace_six_month_at(60)
    assert (at_70.points, at_52.points, at_89.points) == (70, 52, 89)
    assert (at_70.percent_bound, at_52.percent_bound, at_89.percent_bound) == ("<=", "<=", None)
    assert at_70.risk_percent == at_52.risk_percent == pytest.approx(0.8)
    args = ["grace-6m", "--age-years", "40", "--heart-rate-bpm", "80", "--sbp-mmhg", "110",
            "--creatinine", "1.3", "--no-history-of-heart-failure", "--no-history-of-mi",
            "--no-st-depression", "--no-elevated-enzymes", "--in-hospital-pci"]  # fmt: skip
    assert (
        "52 points (NSTE-ACS low, STEMI low) -> ≤ 0.8 %"
        in CliRunner().invoke(risk_command, args).output
    )


# The published tables' creatinine bands in umol/L: (first value of the band, in-hospital
# points, 6-month points). Entered in umol/L, every value must score its band.
UMOL_L_BANDS = ((0, 1, 1), (35, 4, 3), (71, 7, 5), (106, 10, 7), (141, 13, 9), (177, 21, 15),
                (354, 28, 20))  # fmt: skip


def test_grace_creatinine_in_micromoles_scores_the_published_micromole_bands() -> None:
    """106 umol/L (1.199 mg/dL) had scored the 71-105 band: the worked example entered in
    umol/L came to 206 points, not 209."""
    six_month = dict(
        age_years=65, heart_rate_bpm=80, sbp_mmhg=130, history_of_heart_failure=False,
        history_of_mi=False, st_depression=False, elevated_enzymes=False, in_hospital_pci=True,
    )  # fmt: skip
    edges = [first for first, _, _ in UMOL_L_BANDS[1:]]
    for umol in sorted({v for e in edges for v in (e - 1, e)} | {10, 500}):
        band = max(i for i, (first, _, _) in enumerate(UMOL_L_BANDS) if umol >= first)
        _, in_hospital_points, six_month_points = UMOL_L_BANDS[band]
        in_hospital = risk.grace_in_hospital(
            age_years=57, heart_rate_bpm=70, sbp_mmhg=110, creatinine=umol,
            creatinine_unit="umol/L", killip_class=3, cardiac_arrest=True, st_deviation=True,
            elevated_enzymes=False,
        )  # fmt: skip
        assert in_hospital.contributions["creatinine"] == in_hospital_points, umol
        later = risk.grace_six_month(**six_month, creatinine=umol, creatinine_unit="umol/L")
        assert later.contributions["creatinine"] == six_month_points, umol
    example = risk.grace_in_hospital(
        age_years=57, heart_rate_bpm=70, sbp_mmhg=110, creatinine=106, creatinine_unit="umol/L",
        killip_class=3, cardiac_arrest=True, st_deviation=True, elevated_enzymes=False,
    )  # fmt: skip
    assert example.points == 209
