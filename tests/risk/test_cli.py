"""`cardio risk MODEL`: the library from the command line, with the same refusals."""

from __future__ import annotations

import json

from click.testing import CliRunner

from portal.risk.cli import risk_command

MAN_55 = [
    "--sex", "male", "--age-years", "55", "--total-chol", "213", "--hdl", "50",
    "--sbp-mmhg", "140", "--no-bp-treated", "--no-smoker", "--no-diabetic",
]  # fmt: skip


def test_framingham_json() -> None:
    result = CliRunner().invoke(risk_command, ["framingham", "--json", *MAN_55])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert round(document["risk_percent"], 2) == 13.53
    assert document["category"] == "intermediate"
    assert document["inputs_used"]["total_chol_mg_dl"] == 213


def test_units_on_the_command_line() -> None:
    mmol = ["--sex", "male", "--age-years", "55", "--total-chol", "5.508", "--hdl", "1.293",
            "--chol-unit", "mmol/L", "--sbp-mmhg", "140", "--no-bp-treated", "--no-smoker",
            "--no-diabetic"]  # fmt: skip
    result = CliRunner().invoke(risk_command, ["atp3", "--json", *mmol])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["inputs_used"]["total_chol_mg_dl"] == 5.508 * 38.67


def test_grace_human_readable() -> None:
    args = ["grace", "--age-years", "57", "--heart-rate-bpm", "70", "--sbp-mmhg", "110",
            "--creatinine", "1.2", "--killip-class", "3", "--cardiac-arrest", "--st-deviation",
            "--no-elevated-enzymes"]  # fmt: skip
    result = CliRunner().invoke(risk_command, args)
    assert result.exit_code == 0, result.output
    # The band is of the points, beside them, not beside the percentage (an audit, 2026-12-07).
    assert "209 points (NSTE-ACS high, STEMI high) -> 21.7 %" in result.output


def test_six_month_and_bmi_forms_run() -> None:
    six = ["grace-6m", "--json", "--age-years", "75", "--heart-rate-bpm", "100", "--sbp-mmhg",
           "110", "--creatinine", "1.8", "--history-of-heart-failure", "--history-of-mi",
           "--st-depression", "--elevated-enzymes", "--no-in-hospital-pci"]  # fmt: skip
    assert json.loads(CliRunner().invoke(risk_command, six).output)["points"] == 190
    bmi = ["framingham-bmi", "--json", "--sex", "male", "--age-years", "55", "--bmi-kg-m2", "30",
           "--sbp-mmhg", "140", "--no-bp-treated", "--no-smoker", "--no-diabetic"]  # fmt: skip
    assert (
        round(json.loads(CliRunner().invoke(risk_command, bmi).output)["risk_percent"], 2) == 16.75
    )


def test_refusals_are_usage_errors_naming_the_option() -> None:
    young = [a if a != "55" else "25" for a in MAN_55]
    result = CliRunner().invoke(risk_command, ["framingham", *young])
    assert result.exit_code == 2
    assert "--age-years: Age 25 years is outside the range" in result.output
    missing = CliRunner().invoke(risk_command, ["framingham", *MAN_55[:-1]])
    assert missing.exit_code == 2 and "--diabetic" in missing.output


def test_a_heart_age_beyond_the_ages_it_is_said_for_is_said_as_such() -> None:
    """ "heart age: 21 years" for a woman of 30 with healthy values: the model covers 30-74."""
    young = ["--sex", "female", "--age-years", "30", "--total-chol", "150", "--hdl", "70",
             "--sbp-mmhg", "110", "--no-bp-treated", "--no-smoker", "--no-diabetic"]  # fmt: skip
    result = CliRunner().invoke(risk_command, ["framingham", *young])
    assert "heart age: under 30 years" in result.output, result.output
    result = CliRunner().invoke(risk_command, ["framingham", *MAN_55])
    assert "heart age: 61 years" in result.output, result.output


def test_beyond_the_calibrated_range_no_figure_nor_sizes_are_printed() -> None:
    """A man of 70 with every factor: "99.9 %" and "Blood pressure: +6.5 percentage points",
    differences of extrapolated figures, where the pages say "> 30 %" and rank the factors
    without sizes (a risk-score audit)."""
    args = ["framingham", "--sex", "male", "--age-years", "70", "--total-chol", "300", "--hdl",
            "30", "--sbp-mmhg", "200", "--bp-treated", "--smoker", "--diabetic"]  # fmt: skip
    result = CliRunner().invoke(risk_command, args)
    assert result.exit_code == 0, result.output
    assert "result:   > 30 % (high)" in result.output
    assert "99.9" not in result.output and "percentage points:" not in result.output
    assert "percentage points\n" not in result.output  # no "+6.5 percentage points"
    assert "raised most by: Blood pressure, Smoking" in result.output


def test_atp3_says_why_its_ages_start_at_30() -> None:
    """ "outside the range the ATP III hard CHD model was developed for (30-79 years)" was true
    of neither: ATP III's tables cover 20-79, the Framingham cohort was 30-74 (a risk-score
    audit, 2026-12-07). The refusal says both, as `atp3.AGE_YEARS` keeps 30-79."""
    young = ["atp3", *MAN_55[:2], "--age-years", "25", *MAN_55[4:]]
    result = CliRunner().invoke(risk_command, young)
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "was developed for" not in said, said
    assert (
        "Age 25 years is outside the range the portal scores the ATP III hard CHD model for "
        "(30-79 years): ATP III's risk tables cover ages 20-79 (NCEP ATP III 2001), but its "
        "equation comes from the Framingham cohort, aged 30-74 at baseline, and below 30 "
        "extrapolates; the model is not applied." in said
    ), said
