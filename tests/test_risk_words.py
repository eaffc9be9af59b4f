"""Risk models, factors and inputs appear in a clinician's words, never as code names."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from portal import risk
from portal.models import RiskModel, RiskScore
from portal.risk_words import factor_label, input_text, model_title, raised_most_text
from tests.conftest import People, client_for
from tests.test_upload_and_review import _analysed_report


def test_inputs_have_units_and_clinical_precision() -> None:
    assert input_text("total_chol_mg_dl", 224.29) == "total cholesterol 224 mg/dL"
    assert input_text("smoker", True) == "smoking yes"
    assert input_text("sbp_mmhg", 141.6) == "systolic blood pressure 142 mmHg"
    assert input_text("bmi_kg_m2", 27.345) == "BMI 27.3 kg/m²"
    assert input_text("age_years", 61.0) == "age 61 years"
    # Creatinine as a clinician writes it: 1.6 had printed "creatinine 2 mg/dL" on the PDF.
    assert input_text("creatinine_mg_dl", 1.6) == "creatinine 1.6 mg/dL"
    assert input_text("creatinine_mg_dl", 1.25) == "creatinine 1.25 mg/dL"
    assert input_text("creatinine_mg_dl", 2.0) == "creatinine 2 mg/dL"
    assert factor_label("ln_age") == "age" and factor_label("ln_sbp_treated").startswith("systolic")
    assert "_" not in model_title(RiskModel.FRAMINGHAM_GENERAL_CVD)
    # GRACE 6-month points had read "st depression", "no in hospital pci" (an audit).
    assert factor_label("st_depression") == "ST-segment depression"
    assert factor_label("no_in_hospital_pci") == "no PCI in hospital"
    assert input_text("in_hospital_pci", False) == "PCI in hospital no"


def test_the_report_page_names_models_and_factors_in_words(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    page = client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(as_text=True)
    table = page[
        page.index('id="risk-scores"') : page.index("</table>", page.index('id="risk-scores"'))
    ]
    assert "framingham general cvd" not in table and "ln age" not in table and "ln_" not in table
    assert "Framingham 2008 general cardiovascular disease" in table


def test_what_raises_a_score_is_rounded_once_as_on_the_risk_page() -> None:
    """Stored at two decimals, ATP III's blood-pressure effect of 1.0486 had read "+1.1" on
    the review page (1.05, rounded again) and "+1.0" on the risk page (a risk audit); here
    0.548 stored as 0.55 read "+0.6" beside the risk page's "+0.5"."""
    from portal import risk
    from portal.models import RiskScore
    from portal.risk_words import raised_most_text
    from portal.services import risk_scores

    result = risk.framingham_hard_chd_atp3(
        sex="male", age_years=40, total_chol=188, hdl=45, sbp_mmhg=168, bp_treated=False,
        smoker=False, diabetic=False,
    )  # fmt: skip
    spec = risk_scores.SPEC_BY_MODEL[RiskModel.FRAMINGHAM_HARD_CHD_ATP3]
    stored = RiskScore(
        model=spec.model, **risk_scores.score_values(risk_scores.ScoreOutcome(spec, result, None))
    )
    on_the_risk_page = ", ".join(  # show.html: '%+.1f' of each effect that raises it
        f"{e.label} {e.change_percent_points:+.1f}" for e in result.largest_effects()
    )
    assert "Blood pressure +0.5" in on_the_risk_page
    assert raised_most_text(stored) == on_the_risk_page + " percentage points"


def test_grace_points_are_named_beside_the_value_that_scored_them() -> None:
    """A patient of 82 read "age 91, ST-segment deviation 28, heart rate 24 points" on the
    review page: "age 91" reads as 91 years, where it is the points of the 80-89 band (an
    audit, 2026-12-07)."""
    result = risk.grace_in_hospital(
        age_years=82, heart_rate_bpm=110, sbp_mmhg=188, creatinine=0.91, killip_class=1,
        cardiac_arrest=False, st_deviation=True, elevated_enzymes=False,
    )  # fmt: skip
    score = RiskScore(
        model=RiskModel.GRACE_IN_HOSPITAL, value=result.risk_percent,
        inputs_used=result.inputs_used, contributions=result.contributions,
    )  # fmt: skip
    assert raised_most_text(score) == (
        "age (82 years) 91 points, ST-segment deviation 28 points, heart rate (110 bpm) 24 points"
    )


def test_a_what_if_change_beside_the_nomogram_floor_is_a_bound() -> None:
    """From the 6-month nomogram's floor ("0.8 % or less", 70 points) the change is at least
    the difference, and within the floor no figure at all: "+0.0 percentage points" had said
    age 57 -> 40 changed nothing (an audit, 2026-12-07)."""
    from portal.risk_words import change_text
    from tests.risk.test_published_examples import grace_six_month_at

    at_70, at_52, at_89 = grace_six_month_at(57), grace_six_month_at(40), grace_six_month_at(60)
    assert change_text(at_70, at_89) == "≥ +0.7 percentage points, +19 points"
    assert change_text(at_89, at_70) == "≤ -0.7 percentage points, -19 points"
    assert change_text(at_70, at_52) == "both within the nomogram's floor (≤ 0.8 %), -18 points"


def test_beyond_the_calibrated_range_what_raises_it_and_a_what_if_have_no_sizes() -> None:
    """Male 70, TC 300, HDL 30, SBP 200 treated, smoker, diabetic: Framingham reads "> 30 %",
    and beside it "Blood pressure +6.5, Smoking +2.6 ... percentage points" (the BMI form
    +19.2, +13.2: differences of an extrapolated 99.9 %); the what-if to a healthy profile read
    "-73.5 percentage points" from "> 30 %" (a risk-score audit, 2026-12-07)."""
    from portal.risk_words import change_text, raised_most_by_shown
    from portal.services import risk_scores

    inputs = dict(sex="male", age_years=70, sbp_mmhg=200, smoker=True, diabetic=True)
    lipid = risk.framingham_general_cvd(**inputs, total_chol=300, hdl=30, bp_treated=True)
    assert lipid.risk_percent > 30
    spec = risk_scores.SPEC_BY_MODEL[RiskModel.FRAMINGHAM_GENERAL_CVD]
    stored = RiskScore(
        model=spec.model, **risk_scores.score_values(risk_scores.ScoreOutcome(spec, lipid, None))
    )
    text = raised_most_text(stored)
    assert text.startswith("Blood pressure, Smoking, ") and "+" not in text, text
    assert "cannot be sized" in text
    shown = raised_most_by_shown(stored)
    assert shown and [e["label"] for e in shown] == [e["label"] for e in stored.raised_most_by]
    assert {e["change_percent_points"] for e in shown} == {None}

    no_smoking = risk.framingham_general_cvd(
        **inputs | {"smoker": False}, total_chol=300, hdl=30, bp_treated=True
    )
    healthy = risk.framingham_general_cvd(
        sex="male", age_years=70, sbp_mmhg=120, smoker=False, diabetic=False, total_chol=180,
        hdl=45, bp_treated=False,
    )  # fmt: skip
    assert change_text(lipid, no_smoking) == "both beyond the range the model was built on (> 30 %)"
    assert change_text(lipid, healthy) == f"from > 30 % to {healthy.risk_percent:.1f} %"
    assert change_text(healthy, lipid) == f"from {healthy.risk_percent:.1f} % to > 30 %"
    # ATP III has the same ceiling
    atp = risk.framingham_hard_chd_atp3(
        **inputs | {"diabetic": False}, total_chol=300, hdl=30, bp_treated=True
    )
    atp_healthy = risk.framingham_hard_chd_atp3(
        sex="male", age_years=70, sbp_mmhg=120, smoker=False, diabetic=False, total_chol=180,
        hdl=45, bp_treated=False,
    )  # fmt: skip
    assert atp.risk_percent > 30
    assert change_text(atp, atp_healthy).startswith("from > 30 % to ")
