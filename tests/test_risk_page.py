"""Risk scores in the portal: stored with their exact inputs at report time, shown with their
explanation on the risk page, and a what-if calculator that stores nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import (
    AnalysisJob,
    AuditEvent,
    ClinicalInput,
    EcgRecording,
    EcgReport,
    RecordingFormat,
    RiskModel,
    RiskScore,
    Role,
    Sex,
    utcnow,
)
from portal.risk_words import score_points
from portal.services import risk_scores
from portal.services.clinical_inputs import ClinicalInputForm, record_clinical_input
from tests.conftest import People, client_for, error_messages, post_form
from tests.test_api import Api, issue_on_admin_page
from tests.test_upload_and_review import _analysed_report

LIPIDS = dict(total_cholesterol=213.0, hdl=50.0, systolic_bp_mmhg=140.0)
FLAGS = dict(smoker=False, diabetic=False, bp_treated=False)


def _add_input(sql: Session, people: People, when: dt.datetime, booleans=None, **values) -> None:
    record_clinical_input(
        sql,
        people.patient,
        ClinicalInputForm(recorded_at=when, booleans=booleans, **values),
        actor=people.staff,
        now=utcnow(),
    )
    sql.commit()


def _report(sql: Session, people: People) -> EcgReport:
    recording = EcgRecording(
        patient_id=people.patient.id, uploaded_by_id=people.staff.id, sha256="0" * 64,
        original_filename="ecg.csv", file_format=RecordingFormat.CSV, size_bytes=10,
        sampling_rate_hz=500, lead_names=["II"], n_samples=5000, duration_s=10,
    )  # fmt: skip
    job = AnalysisJob(recording=recording, requested_by_id=people.staff.id)
    report = EcgReport(patient_id=people.patient.id, recording=recording, job_id=0)
    sql.add_all([recording, job])
    sql.flush()
    report.job_id = job.id
    sql.add(report)
    sql.flush()
    return report


def _scored_report(sql: Session, people: People, ecg_at: dt.datetime) -> EcgReport:
    """A report of an ECG at `ecg_at` with its risk scores computed and stored, as signing does."""
    report = _report(sql, people)
    report.report_date = ecg_at
    outcomes = risk_scores.report_outcomes(sql, report, ecg_heart_rate_bpm=None)
    sql.add_all(risk_scores.store_report_scores(report, outcomes))
    sql.commit()
    return report


def test_report_scores_use_latest_values_as_of_the_ecg_and_store_inputs(
    app: Flask, people: People, sql: Session
) -> None:
    ecg_at = utcnow() - dt.timedelta(days=1)
    _add_input(sql, people, ecg_at - dt.timedelta(days=200), booleans=FLAGS, **LIPIDS)
    _add_input(sql, people, ecg_at - dt.timedelta(days=2), systolic_bp_mmhg=120.0)
    # After the ECG: must not be used.
    _add_input(sql, people, ecg_at + dt.timedelta(hours=2), systolic_bp_mmhg=190.0)
    report = _report(sql, people)
    report.report_date = ecg_at
    outcomes = risk_scores.report_outcomes(sql, report, ecg_heart_rate_bpm=72.4)
    rows = risk_scores.store_report_scores(report, outcomes)
    sql.add_all(rows)
    sql.commit()

    stored = {r.model: r for r in sql.scalars(select(RiskScore))}
    assert len(stored) == len(rows) == 5
    lipid = stored[RiskModel.FRAMINGHAM_GENERAL_CVD]
    age = people.patient.age_years(ecg_at.date())
    assert lipid.inputs_used["sbp_mmhg"] == 120  # the newest SBP before the ECG
    assert lipid.inputs_used["age_years"] == age and lipid.inputs_used["sex"] == "female"
    assert lipid.inputs_used["sources"]["total_chol"]["from"] == "clinical input"
    assert lipid.unit == "%" and lipid.value is not None and lipid.category
    assert set(lipid.contributions) >= {"ln_age", "ln_total_chol", "ln_hdl", "ln_sbp"}
    from portal import risk

    expected = risk.framingham_general_cvd(
        sex="female", age_years=age, total_chol=213, hdl=50, sbp_mmhg=120, **FLAGS
    )
    assert lipid.value == round(expected.risk_percent, 1)  # as shown
    bmi = stored[RiskModel.FRAMINGHAM_GENERAL_CVD_BMI]
    assert bmi.value is None and bmi.not_computed_reason == "not computed: BMI missing"
    grace = stored[RiskModel.GRACE_IN_HOSPITAL]
    assert grace.value is None
    assert "Creatinine missing" in grace.not_computed_reason
    assert "Heart rate" not in grace.not_computed_reason  # it came from the ECG


def test_stale_values_are_not_used(app: Flask, people: People, sql: Session) -> None:
    now = utcnow()
    _add_input(sql, people, now - dt.timedelta(days=400), booleans=FLAGS, **LIPIDS)
    outcomes = risk_scores.compute_scores(
        people.patient, risk_scores.measured_values(sql, people.patient.id, now), as_of=now
    )
    lipid = outcomes[0]
    assert lipid.result is None
    assert "Total cholesterol missing (last recorded" in lipid.not_computed_reason
    assert "over 12 months before" in lipid.not_computed_reason


def _admitted_3_hours_ago(
    sql: Session, people: People, now: dt.datetime
) -> dict[str, risk_scores.Measured]:
    """An admission's GRACE inputs entered 3 hours before `now`, as measured then."""
    _add_input(
        sql, people, now - dt.timedelta(hours=3), heart_rate_bpm=95.0, creatinine=1.2,
        systolic_bp_mmhg=110.0, killip_class=3,
        booleans=dict(cardiac_arrest_at_admission=False, st_deviation=True,
                      elevated_cardiac_enzymes=True),
    )  # fmt: skip
    return risk_scores.measured_values(sql, people.patient.id, now)


def test_grace_uses_ecg_heart_rate_only_when_no_recent_entry(
    app: Flask, people: People, sql: Session
) -> None:
    now = utcnow()
    measured = _admitted_3_hours_ago(sql, people, now)
    outcomes = {
        o.spec.model: o
        for o in risk_scores.compute_scores(
            people.patient, measured, as_of=now, ecg_heart_rate_bpm=60
        )
    }
    grace = outcomes[RiskModel.GRACE_IN_HOSPITAL]
    assert grace.result is not None and grace.result.inputs_used["heart_rate_bpm"] == 95


def test_the_age_a_score_uses_is_counted_on_the_date_given(
    app: Flask, people: People, sql: Session
) -> None:
    """The risk page said "Age 65" above a GRACE score of age 66 near midnight in Anchorage:
    the page counted the age on the hospital's date, the score on UTC's (an audit)."""
    now = utcnow()
    measured = _admitted_3_hours_ago(sql, people, now)
    born = people.patient.date_of_birth
    day_before_birthday = dt.date(now.year, born.month, born.day) - dt.timedelta(days=1)
    ages = {
        on: {o.spec.model: o for o in risk_scores.compute_scores(
            people.patient, measured, as_of=now, age_on=on)}[RiskModel.GRACE_IN_HOSPITAL]
        .result.inputs_used["age_years"]
        for on in (day_before_birthday, day_before_birthday + dt.timedelta(days=1))
    }  # fmt: skip
    assert list(ages.values()) == [now.year - born.year - 1, now.year - born.year]


@pytest.mark.parametrize(
    ("zone", "ecg_utc", "age_then"),
    [  # 09:00 in Auckland on the 65th birthday is 20:00 UTC the day before; 19:30 in New York
        ("Pacific/Auckland", dt.datetime(2026, 12, 7, 20, 0), 65),  # the evening before it is
        ("America/New_York", dt.datetime(2026, 12, 8, 0, 30), 64),  # 00:30 UTC on the birthday
    ],
)
def test_a_report_scores_the_age_on_the_ecg_date_in_the_hospital_zone(
    app: Flask, people: People, sql: Session, monkeypatch: pytest.MonkeyPatch,
    zone: str, ecg_utc: dt.datetime, age_then: int,
) -> None:  # fmt: skip
    """A report's stored scores count the age on the ECG's date in the hospital's zone, as its
    header does (`documents.age_at`): UTC's date had put "age 64 years" under "age 65" in
    Auckland, and the next day's age in New York's evenings (a time-zone audit)."""
    settings = dataclasses.replace(app.config["SETTINGS"], time_zone=zone)
    monkeypatch.setitem(app.config, "SETTINGS", settings)
    people.patient.date_of_birth = dt.date(1961, 12, 8)
    _add_input(sql, people, ecg_utc - dt.timedelta(days=2), booleans=FLAGS, **LIPIDS)
    with app.app_context():
        report = _scored_report(sql, people, ecg_utc)
        framingham = next(
            s for s in report.risk_scores if s.model == RiskModel.FRAMINGHAM_GENERAL_CVD
        )
        assert framingham.inputs_used["age_years"] == age_then
        assert risk_scores.stale_reason(framingham, people.patient, ecg_utc) is None


def test_risk_page_explains_scores_and_audits_the_view(
    app: Flask, people: People, sql: Session
) -> None:
    _add_input(sql, people, utcnow() - dt.timedelta(days=30), booleans=FLAGS | {"smoker": True},
               bmi_kg_m2=31.0, **LIPIDS)  # fmt: skip
    _add_input(sql, people, utcnow() - dt.timedelta(days=3), systolic_bp_mmhg=150.0)
    for account in (people.staff, people.doctor):
        page = client_for(app, account).get(f"/patients/{people.patient.id}/risk/")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Framingham 2008 general CVD (lipids)" in text
        assert "What raises it most" in text and "Smoking" in text
        assert "heart age" in text
        assert "not computed: Heart rate missing; Creatinine missing" in text  # GRACE
        assert "ATP III hard coronary heart disease" in text
        assert text.count('<svg class="trend"') >= 3  # SBP, cholesterol, HDL, BMI
        # "Inputs used" in words and units, never the inputs' code names (a clinician-eye
        # audit read "total chol mg dl 212.99" and "sbp mmhg 140.0" there).
        start = text.index("<summary>Inputs used</summary>")
        inputs = text[start : text.index("</details>", start)]
        assert "<dt>total cholesterol</dt>" in inputs and "213 mg/dL" in inputs
        assert "150 mmHg" in inputs and "mg dl" not in inputs and "mmhg" not in inputs
    views = sql.scalar(select(func.count()).where(AuditEvent.action == "patient.risk_view"))
    assert views == 2


def test_what_if_moves_the_result_and_stores_nothing(
    app: Flask, people: People, sql: Session
) -> None:
    _add_input(sql, people, utcnow() - dt.timedelta(days=10), booleans=FLAGS, **LIPIDS)
    before = (
        sql.scalar(select(func.count()).select_from(ClinicalInput)),
        sql.scalar(select(func.count()).select_from(RiskScore)),
    )
    client = client_for(app, people.doctor)
    url = f"/patients/{people.patient.id}/risk/"
    prefilled = client.get(url).get_data(as_text=True)
    assert 'value="213"' in prefilled and 'value="140"' in prefilled
    query = dict(
        what_if="1", age_years="60", total_cholesterol="5.5", hdl="1.3",
        cholesterol_unit="mmol/L", systolic_bp_mmhg="140", smoker="yes", diabetic="no",
        bp_treated="no",
    )  # fmt: skip
    text = client.get(url, query_string=query).get_data(as_text=True)
    assert 'id="what-if-results"' in text
    from portal import risk

    expected = risk.framingham_general_cvd(
        sex="female", age_years=60, total_chol=5.5, hdl=1.3, chol_unit="mmol/L",
        sbp_mmhg=140, bp_treated=False, smoker=True, diabetic=False,
    )  # fmt: skip
    assert f"{expected.risk_percent:.1f} %" in text
    after = (
        sql.scalar(select(func.count()).select_from(ClinicalInput)),
        sql.scalar(select(func.count()).select_from(RiskScore)),
    )
    assert after == before


class _FormValues(HTMLParser):
    """The what-if form's values as a browser would send them: each input's value and each
    select's selected option."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name"):
            self.values[found["name"] or ""] = found.get("value") or ""
        elif tag == "select":
            self._select = found.get("name")
            self.values.setdefault(self._select or "", "")
        elif tag == "option" and self._select and "selected" in found:
            self.values[self._select] = found.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def test_what_if_unchanged_gives_the_current_scores(
    app: Flask, people: People, sql: Session
) -> None:
    """Since an input audit: the calculator prefilled the latest pressure of any kind (an
    admission's 160 mmHg) where Framingham and ATP III use the office one (120), and Calculate
    with nothing changed showed "+10.7 percentage points". It now holds the values the scores
    use, the office pressure and GRACE's admission pressure each in its own field."""
    now = utcnow()
    office = {**LIPIDS, "systolic_bp_mmhg": 120.0, "bmi_kg_m2": 27.0}
    _add_input(sql, people, now - dt.timedelta(days=30), booleans=FLAGS, **office)
    admission = dict(cardiac_arrest_at_admission=False, st_deviation=False, st_depression=False,
                     elevated_cardiac_enzymes=False, in_hospital_pci=False, history_of_mi=False,
                     history_of_heart_failure=False)  # fmt: skip
    _add_input(sql, people, now - dt.timedelta(hours=2), heart_rate_bpm=80.0, creatinine=1.0,
               systolic_bp_mmhg=160.0, killip_class=1, booleans=admission)  # fmt: skip
    client = client_for(app, people.doctor)
    url = f"/patients/{people.patient.id}/risk/"
    page = client.get(url).get_data(as_text=True)
    form = _FormValues()
    form.feed(page[page.index('id="what-if"') :])
    assert form.values["systolic_bp_mmhg"] == "120", form.values
    assert form.values["admission_sbp_mmhg"] == "160", form.values
    calculated = client.get(url, query_string=form.values).get_data(as_text=True)
    table = calculated[calculated.index('id="what-if-results"') :].split("</table>")[0]
    rows = [re.findall(r"<td>(.*?)</td>", row, flags=re.S) for row in table.split("<tr>")[2:]]
    assert [row[0] for row in rows] == [spec.title for spec in risk_scores.SPECS], table
    for model, _now, _what_if, change in rows:
        unchanged = "+0.0 percentage points" + (", +0 points" if "GRACE" in model else "")
        assert change == unchanged, (model, change)


def test_what_if_with_impossible_values_says_why(app: Flask, people: People) -> None:
    client = client_for(app, people.staff)
    url = f"/patients/{people.patient.id}/risk/"
    bad = dict(what_if="1", age_years="60", total_cholesterol="213", hdl="50",
               systolic_bp_mmhg="900", smoker="no", diabetic="no", bp_treated="no",
               heart_rate_bpm="abc")  # fmt: skip
    response = client.get(url, query_string=bad)
    assert response.status_code == 200
    messages = error_messages(response.get_data(as_text=True))
    assert any("Systolic blood pressure 900 mmHg" in m for m in messages)
    assert any("Enter a number" in m for m in messages)
    # A pressure typed as written, "120/80": the what-if had said only "Enter a number".
    written = client.get(url, query_string=bad | {"systolic_bp_mmhg": "120/80"})
    told = error_messages(html.unescape(written.get_data(as_text=True)))
    assert any("Enter the systolic pressure only, in mmHg" in m for m in told)
    # "1.200" umol/L is 1200 where a decimal comma is written: it had been scored as 1.2.
    dotted = client.get(url, query_string=bad | {"creatinine": "1.200",
                                                 "creatinine_unit": "umol/L"})  # fmt: skip
    said = 'Write "1.200" without a thousands separator: it could mean 1200 or 1.2.'
    assert said in error_messages(html.unescape(dotted.get_data(as_text=True)))
    young = client.get(url, query_string=bad | {"systolic_bp_mmhg": "130", "age_years": "25"})
    assert "outside the range the Framingham 2008 model was developed for" in young.get_data(
        as_text=True
    )
    # As the clinical-input form: ST depression is an ST deviation (the what-if had scored
    # the two contradicting each other; an audit). Refused beside the field, not scored.
    grace = dict(what_if="1", age_years="60", heart_rate_bpm="90", systolic_bp_mmhg="120",
                 creatinine="1.1", killip_class="1", cardiac_arrest_at_admission="no",
                 elevated_cardiac_enzymes="yes", in_hospital_pci="yes", history_of_mi="no",
                 history_of_heart_failure="no")  # fmt: skip
    both = client.get(url, query_string=grace | {"st_depression": "yes", "st_deviation": "no"})
    page = html.unescape(both.get_data(as_text=True))
    assert "ST depression is an ST-segment deviation" in " ".join(error_messages(page))
    assert "ST-segment deviation missing" in page  # GRACE in hospital: not scored on it
    agreed = client.get(url, query_string=grace | {"st_depression": "yes", "st_deviation": "yes"})
    assert "ST depression is an ST-segment deviation" not in html.unescape(
        agreed.get_data(as_text=True)
    )


def test_what_if_refuses_first_event_scores_during_an_acute_coronary_syndrome(
    app: Flask, people: People, sql: Session
) -> None:
    """Admission values with ST deviation: the current scores say the first-event models are
    not computed, and the what-if, the ST deviation prefilled and a cholesterol, HDL and
    pressure added, had read "Framingham 2008 ... 13.5 % intermediate" and "ATP III 8.2 %
    low" (a risk audit). It refuses them as the current scores do."""
    _add_input(
        sql, people, utcnow() - dt.timedelta(hours=3), heart_rate_bpm=95.0, creatinine=1.2,
        systolic_bp_mmhg=110.0, killip_class=3,
        booleans=dict(cardiac_arrest_at_admission=True, st_deviation=True),
    )  # fmt: skip
    client = client_for(app, people.doctor)
    url = f"/patients/{people.patient.id}/risk/"
    page = client.get(url).get_data(as_text=True)
    form = _FormValues()
    form.feed(page[page.index('id="what-if"') :])
    assert form.values["st_deviation"] == "yes", form.values
    added = dict(total_cholesterol="200", hdl="45", systolic_bp_mmhg="130", bmi_kg_m2="27",
                 smoker="no", diabetic="no", bp_treated="no")  # fmt: skip
    calculated = client.get(url, query_string=form.values | added).get_data(as_text=True)
    table = calculated[calculated.index('id="what-if-results"') :].split("</table>")[0]
    reason = "the admission values show an acute coronary syndrome (ST-segment deviation)"
    for spec in risk_scores.SPECS:
        row = table[table.index(spec.title) :].split("</tr>")[0]
        if spec.first_event:
            assert reason in row and " %" not in row, row
    assert [
        o.not_computed_reason
        for o in risk_scores.what_if(
            people.patient,
            {
                "age_years": 60,
                "total_chol": 200.0,
                "hdl": 45.0,
                "sbp_mmhg": 130,
                **FLAGS,
                "elevated_enzymes": True,
            },
        )
        if o.spec.first_event
    ] == [  # fmt: skip
        "not computed: the model is for people without known cardiovascular disease, and the "
        "admission values show an acute coronary syndrome (raised cardiac enzymes)"
    ] * 3


def _a_woman_of_30_with_healthy_values(sql: Session, people: People) -> str:
    """The patient made 30, with cholesterol 150, HDL 70, SBP 110 and BMI 21: her risk page."""
    today = dt.date.today()
    people.patient.date_of_birth = today.replace(year=today.year - 31) + dt.timedelta(days=10)
    sql.commit()
    _add_input(sql, people, utcnow() - dt.timedelta(days=10), booleans=FLAGS,
               total_cholesterol=150.0, hdl=70.0, systolic_bp_mmhg=110.0,
               bmi_kg_m2=21.0)  # fmt: skip
    return f"/patients/{people.patient.id}/risk/"


def _card(page: str, model: RiskModel) -> str:
    card = page[page.index(f'id="score-{model.value}"') :]
    return card[: card.index("</article>")]


def test_a_heart_age_below_the_models_ages_reads_under_30(
    app: Flask, people: People, sql: Session
) -> None:
    """A woman of 30 with healthy values had read "heart age 21 years" (26 on the BMI form):
    the model covers 30-74, and the page said "over 80" above but nothing below (an audit)."""
    url = _a_woman_of_30_with_healthy_values(sql, people)
    page = client_for(app, people.doctor).get(url).get_data(as_text=True)
    for model in (RiskModel.FRAMINGHAM_GENERAL_CVD, RiskModel.FRAMINGHAM_GENERAL_CVD_BMI):
        assert "heart age under 30 years" in _card(page, model)


def test_what_raises_it_most_lists_only_factors_that_raise_it(
    app: Flask, people: People, sql: Session
) -> None:
    """The risk page listed "HDL cholesterol -1.3 percentage points" under "What raises it
    most" for a man of 55 (HDL 50), only lowering factors for a woman of 30 with healthy
    values, and for her ATP III the heading alone; the review page names only those that
    raise it (`largest_effects`). Both now follow that rule, and say when none does."""
    url = _a_woman_of_30_with_healthy_values(sql, people)
    client = client_for(app, people.doctor)
    page = html.unescape(client.get(url).get_data(as_text=True))
    for model in risk_scores.SPEC_BY_MODEL:
        if risk_scores.SPEC_BY_MODEL[model].first_event:
            card = _card(page, model).split("<details>")[0]
            assert "What raises it most" in card, card
            assert "no factor above a healthy level." in card and "percentage points" not in card
    people.patient.sex = Sex.MALE
    people.patient.date_of_birth = dt.date.today().replace(year=dt.date.today().year - 55)
    sql.commit()
    _add_input(sql, people, utcnow() - dt.timedelta(days=1), booleans=FLAGS, **LIPIDS)
    page = html.unescape(client.get(url).get_data(as_text=True))
    card = _card(page, RiskModel.FRAMINGHAM_GENERAL_CVD).split("<details>")[0]
    assert "Total cholesterol" in card and "Blood pressure" in card
    assert "HDL cholesterol" not in card and "−" not in card and "-1." not in card, card


def test_risk_page_is_only_for_the_patients_clinicians(app: Flask, people: People) -> None:
    url = f"/patients/{people.other_patient.id}/risk/"
    assert client_for(app, people.doctor).get(url).status_code == 404
    assert client_for(app, people.staff).get(url).status_code == 200
    for role in (Role.ADMIN, Role.PATIENT):
        response = client_for(app, people.by_role(role)).get(f"/patients/{people.patient.id}/risk/")
        assert response.status_code in (403, 404)


def test_review_page_ranks_what_raises_a_score_as_the_risk_page_does(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A smoker with a healthy blood pressure and raised cholesterol: smoking raises her
    Framingham risk most, then cholesterol. The review page had ranked the model's log-hazard
    terms under "Largest contributions" (her healthy systolic blood pressure first, then age
    and cholesterol, whatever their level) while the risk page said smoking; both now name the
    same factors in the same order."""
    ecg_at = utcnow()
    _add_input(
        sql, people, ecg_at - dt.timedelta(days=5), total_cholesterol=240.0, hdl=48.0,
        systolic_bp_mmhg=118.0, booleans=FLAGS | {"smoker": True},
    )  # fmt: skip
    _add_input(
        sql, people, ecg_at - dt.timedelta(hours=2), heart_rate_bpm=95.0, creatinine=1.2,
        killip_class=2, booleans=dict(cardiac_arrest_at_admission=False, st_deviation=False,
                                      elevated_cardiac_enzymes=False),
    )  # fmt: skip
    # (with raised enzymes or ST deviation, no first-event score: `risk_scores.IN_ACS`)
    report = _analysed_report(app, people, sql, tmp_path)
    lipid = sql.scalar(select(RiskScore).where(RiskScore.model == RiskModel.FRAMINGHAM_GENERAL_CVD))
    assert lipid.raised_most_by[0]["label"] == "Smoking"
    assert max(lipid.contributions, key=lipid.contributions.__getitem__) == "ln_sbp"

    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    table = page[
        page.index('id="risk-scores"') : page.index("</table>", page.index('id="risk-scores"'))
    ]
    assert "Raises it most" in table
    framingham_row = table[
        table.index("Framingham 2008 general cardiovascular disease, 10 years") :
    ]
    framingham_row = framingham_row[: framingham_row.index("</tr>")]
    assert "Smoking +" in framingham_row and "percentage points" in framingham_row
    assert "blood pressure" not in framingham_row.lower()
    assert not re.search(r"\bage\b", framingham_row, re.IGNORECASE)
    grace_row = table[table.index("GRACE death in hospital") :]
    grace_row = grace_row[: grace_row.index("</tr>")]
    # GRACE's points, beside the value that scored them ("age 58" had read as the age)
    assert re.search(r"\bage \(\d+ years\) \d+ points", grace_row), grace_row

    risk_page = doctor.get(f"/patients/{people.patient.id}/risk/").get_data(as_text=True)
    card = risk_page[risk_page.index('id="score-framingham_general_cvd"') :]
    card = card[: card.index("</article>")]
    ranked = [e["label"] for e in lipid.raised_most_by]
    assert ranked[:2] == ["Smoking", "Total cholesterol"]
    positions = [card.index(f'"effect-label">{label}<') for label in ranked]
    assert positions == sorted(positions)

    # The API carries the same ranking beside the model's terms.
    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.doctor.username, ["reports:read"]))
    body = api.get(f"/reports/{report.id}").get_json()
    scores = {s["model"]: s for s in body["risk_scores"]}
    assert scores["framingham_general_cvd"]["raised_most_by"] == lipid.raised_most_by
    assert scores["grace_in_hospital"]["raised_most_by"] is None


def test_a_grace_badge_takes_the_colour_of_its_highest_band(
    app: Flask, people: People, sql: Session
) -> None:
    """ "NSTE-ACS intermediate, STEMI low" was coloured as its last word, low (an audit)."""
    _add_input(
        sql, people, utcnow() - dt.timedelta(hours=2), heart_rate_bpm=70.0, creatinine=1.0,
        systolic_bp_mmhg=170.0, killip_class=1,
        booleans=dict(cardiac_arrest_at_admission=False, st_deviation=True,
                      elevated_cardiac_enzymes=False),
    )  # fmt: skip
    page = client_for(app, people.doctor).get(f"/patients/{people.patient.id}/risk/")
    card = page.get_data(as_text=True)
    card = card[card.index('id="score-grace_in_hospital"') :]
    # (the band of its points, named with them since 2026-12-07)
    assert (
        '<span class="badge risk-intermediate">NSTE-ACS intermediate (109-140 points), '
        "STEMI low (≤ 125 points)</span>" in card
    )


def test_framingham_keeps_the_office_blood_pressure_beside_an_admissions(
    app: Flask, people: People, sql: Session
) -> None:
    """A GRACE admission entry's 95 mmHg (shock) had become the blood pressure of the 10-year
    risk: 13.5 % fell to 6.6 % (an audit). The admission's pressure is GRACE's only."""
    now = utcnow()
    _add_input(sql, people, now - dt.timedelta(days=30), booleans=FLAGS, **LIPIDS)  # 140 mmHg
    # An admission without raised enzymes or ST deviation (with them, no first-event score).
    admission = dict(cardiac_arrest_at_admission=False, st_deviation=False,
                     elevated_cardiac_enzymes=False)  # fmt: skip
    _add_input(sql, people, now - dt.timedelta(hours=2), heart_rate_bpm=110.0, creatinine=1.1,
               systolic_bp_mmhg=95.0, killip_class=2, booleans=admission)  # fmt: skip
    measured = risk_scores.measured_values(sql, people.patient.id, now)
    outcomes = {o.spec.model: o for o in risk_scores.compute_scores(people.patient, measured,
                                                                     as_of=now)}  # fmt: skip
    lipid = outcomes[RiskModel.FRAMINGHAM_GENERAL_CVD].result
    grace = outcomes[RiskModel.GRACE_IN_HOSPITAL].result
    assert lipid is not None and lipid.inputs_used["sbp_mmhg"] == 140
    assert grace is not None and grace.inputs_used["sbp_mmhg"] == 95

    # With no pressure outside the admission, Framingham says which one it lacks.
    later = utcnow()
    measured = risk_scores.measured_values(sql, people.other_patient.id, later)
    assert risk_scores.OFFICE_SBP not in measured
    record_clinical_input(
        sql, people.other_patient,
        ClinicalInputForm(recorded_at=later - dt.timedelta(hours=1), systolic_bp_mmhg=95.0,
                          killip_class=2, booleans=FLAGS | admission, **{
                              k: v for k, v in LIPIDS.items() if k != "systolic_bp_mmhg"}),
        actor=people.staff, now=later,
    )  # fmt: skip
    sql.commit()
    measured = risk_scores.measured_values(sql, people.other_patient.id, later)
    (lipid_outcome, *_) = risk_scores.compute_scores(people.other_patient, measured, as_of=later)
    assert lipid_outcome.result is None
    assert "Systolic blood pressure (outside an acute admission) missing" in (
        lipid_outcome.not_computed_reason or ""
    )


def test_a_score_of_an_ecg_older_than_every_value_says_the_values_are_later(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A working-day audit: an ECG whose file is dated 2000 read "not computed: Systolic blood
    pressure ... missing; Smoking status missing; ..." beside a patient page listing both,
    entered today. Each missing item now says its value came after the ECG, in place (a
    review: a prefix naming them had hidden the items behind "; ...", called values "only
    after" that were merely stale, and missed the office pressure), within its column."""
    entered = utcnow() - dt.timedelta(days=2)
    _add_input(sql, people, entered, booleans=FLAGS, **LIPIDS)
    report = _analysed_report(app, people, sql, tmp_path)
    report.report_date = dt.datetime(2000, 11, 1, 9, 0)
    outcomes = risk_scores.report_outcomes(sql, report, ecg_heart_rate_bpm=72.0)
    stored = risk_scores.store_report_scores(report, outcomes)
    after = f"measured after this ECG, {entered:%Y-%m-%d}, not used for it"
    for score, outcome in zip(stored, outcomes, strict=True):
        reason, full = score.not_computed_reason or "", outcome.not_computed_reason or ""
        assert reason.startswith("not computed: "), reason
        cut = len(full) > 255
        assert reason == full or (cut and reason.endswith("; ...") and len(reason) <= 255)
        entered_labels = ("cholesterol", "Systolic", "Smoking", "Diabetes", "treatment")
        for item in full.removeprefix("not computed: ").split("; "):
            if any(label in item for label in entered_labels):  # each came after the ECG
                assert item.endswith(f"missing ({after})"), item
    lipids = next(o for o in outcomes if o.spec.model is RiskModel.FRAMINGHAM_GENERAL_CVD)
    assert "Systolic blood pressure (outside an acute admission) missing (" + after in (
        lipids.not_computed_reason or ""
    )
    sql.rollback()
    # A value stale at the ECG and measured again later says both.
    _add_input(sql, people, dt.datetime(1999, 1, 1), booleans=FLAGS, **LIPIDS)
    report.report_date = dt.datetime(2000, 11, 1, 9, 0)  # the rollback had restored it
    outcomes = risk_scores.report_outcomes(sql, report, ecg_heart_rate_bpm=72.0)
    lipids = next(o for o in outcomes if o.spec.model is RiskModel.FRAMINGHAM_GENERAL_CVD)
    assert (
        "Smoking status missing (last recorded 1999-01-01, over 12 months before; measured "
        f"again after this ECG, {entered:%Y-%m-%d}, not used for it)"
    ) in (lipids.not_computed_reason or "")
    sql.rollback()


def test_a_score_refused_for_an_age_or_sex_since_corrected_says_so(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A working-day audit: a patient registered as born in 2001, whose score was "not
    computed: Age 25 years is outside the range ...", corrected to 1961, still read that
    beside a patient of 65 with no word of the correction (a refused score stores no
    inputs); likewise a sex "unknown" corrected to female."""
    _add_input(sql, people, utcnow() - dt.timedelta(days=2), booleans=FLAGS, **LIPIDS)
    born = people.patient.date_of_birth
    people.patient.date_of_birth = dt.date(utcnow().year - 25, born.month, min(born.day, 28))
    sql.commit()
    report = _analysed_report(app, people, sql, tmp_path)
    lipid = next(s for s in report.risk_scores if s.model is RiskModel.FRAMINGHAM_GENERAL_CVD)
    age = people.patient.age_years(report.report_date.date())
    assert lipid.value is None and f"Age {age} years is outside the range" in (
        lipid.not_computed_reason or ""
    )
    assert risk_scores.stale_reason(lipid, people.patient, report.report_date) is None
    people.patient.date_of_birth = people.patient.date_of_birth.replace(
        year=people.patient.date_of_birth.year - 40
    )
    sql.commit()
    assert risk_scores.stale_reason(lipid, people.patient, report.report_date) == (
        f"not computed for age {age}; the patient's details have been corrected since: see the "
        "risk page for today's score"
    )
    page = html.unescape(client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(
        as_text=True))  # fmt: skip
    assert f"(not computed for age {age}; the patient's details have been corrected" in page
    refused_sex = RiskScore(
        model=RiskModel.FRAMINGHAM_GENERAL_CVD, created_at=utcnow(),
        not_computed_reason="Sex 'unknown': the model has equations for male and female only, "
        "so it cannot be used.",
    )  # fmt: skip
    assert risk_scores.stale_reason(refused_sex, people.patient, report.report_date) == (
        "not computed for sex unknown; the patient's details have been corrected since: see "
        "the risk page for today's score"
    )


def test_a_score_computed_for_details_since_corrected_says_so_and_flags_nothing(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A date of birth corrected from 1958 to 1988 left "23.5 % (high), female, age 68"
    beside a header of "age 38, male", flagged on the worklist, and said to the patient (a
    records audit). The stored score now says what it was computed for, and is neither
    flagged nor told to the patient."""
    from portal.services.documents import report_data
    from portal.services.reports import worklist_scores
    from reports.plain_language import patient_risk

    _add_input(sql, people, utcnow() - dt.timedelta(days=2), booleans=FLAGS, **LIPIDS)
    report = _analysed_report(app, people, sql, tmp_path)
    lipid = next(s for s in report.risk_scores if s.model is RiskModel.FRAMINGHAM_GENERAL_CVD)
    assert lipid.value is not None
    age = people.patient.age_years(report.report_date.date())
    assert risk_scores.stale_reason(lipid, people.patient, report.report_date) is None
    assert lipid in worklist_scores(report)
    settings = app.config["SETTINGS"]
    said = patient_risk(report_data(sql, report, report.versions[0], settings,
                                    with_strips=False).scores)  # fmt: skip
    assert said is not None and " It uses your measurements from " in said[1]

    born = people.patient.date_of_birth
    people.patient.date_of_birth = born.replace(year=born.year + 30)
    sql.commit()
    said = (
        f"computed for age {age}; the patient's details have been corrected since: see the "
        "risk page for today's score"
    )
    assert risk_scores.stale_reason(lipid, people.patient, report.report_date) == said
    assert lipid not in worklist_scores(report)
    page = html.unescape(client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(
        as_text=True))  # fmt: skip
    assert f'<span class="stale-score">({said})</span>' in page
    data = report_data(sql, report, report.versions[0], settings, with_strips=False)
    assert said in [s.stale_reason for s in data.scores]
    assert patient_risk(data.scores) is None  # no figure computed for another person

    # An EHR reads the same note: REST's stale_reason, FHIR's Observation note (they had
    # exported "23.5 %, high" as it stood; an audit).
    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.doctor.username, ["reports:read",
                                                                       "fhir:read"]))  # fmt: skip
    answer = api.get(f"/reports/{report.id}")
    rest = answer.get_json()
    assert "risk_scores" in rest, answer.get_data(as_text=True)[:500]
    by_model = {r["model"]: r for r in rest["risk_scores"]}
    assert by_model["framingham_general_cvd"]["stale_reason"] == said
    observation = api.client.get(
        f"/fhir/r4/Observation/{report.id}-risk-framingham-general-cvd", headers=api.headers
    )
    assert observation.status_code == 200, observation.get_data(as_text=True)[:300]
    notes = [n["text"] for n in observation.get_json()["note"]]
    assert f"Not current: {said}." in notes


def test_first_event_models_are_not_computed_after_a_recorded_heart_attack(
    app: Flask, people: People, sql: Session
) -> None:
    """D'Agostino 2008 and ATP III are for people without known cardiovascular disease: a
    post-MI patient read a 10-year risk "of a first cardiovascular event" of 48.4 %, and the
    patient "About 48 of 100 people ..." (a risk audit)."""
    now = utcnow()
    _add_input(sql, people, now - dt.timedelta(days=30), booleans={**FLAGS}, **LIPIDS)
    before = risk_scores.compute_scores(
        people.patient, risk_scores.measured_values(sql, people.patient.id, now), as_of=now
    )
    assert before[0].result is not None
    _add_input(sql, people, now - dt.timedelta(days=1), booleans={"history_of_mi": True})
    outcomes = risk_scores.compute_scores(
        people.patient, risk_scores.measured_values(sql, people.patient.id, now), as_of=now
    )
    first_event = [o for o in outcomes if o.spec.first_event]
    assert len(first_event) == 3
    assert all(o.result is None for o in first_event)
    assert all(o.not_computed_reason == risk_scores.PRIOR_MI_REASON for o in first_event)
    what_if = risk_scores.what_if(
        people.patient,
        {"age_years": 60, "total_chol": 213.0, "hdl": 50.0, "sbp_mmhg": 140, **FLAGS,
         "history_of_mi": True},
    )  # fmt: skip
    assert [o.not_computed_reason for o in what_if if o.spec.first_event] == [
        risk_scores.PRIOR_MI_REASON
    ] * 3


def test_grace_reads_the_admission_entrys_rate_pressure_and_creatinine(
    app: Flask, people: People, sql: Session
) -> None:
    """A ward round's pressure of 150 and rate of 64 on day 3 had moved a GRACE score from
    6.7 % (high) to 2.4 %: GRACE is defined on the values at presentation (a risk audit)."""
    now = utcnow()
    admission = dict(systolic_bp_mmhg=105.0, heart_rate_bpm=96.0, creatinine=1.3, killip_class=2)
    flags = dict(cardiac_arrest_at_admission=False, st_deviation=True,
                 elevated_cardiac_enzymes=True)  # fmt: skip
    _add_input(sql, people, now - dt.timedelta(days=3), booleans=flags, **admission)

    def grace() -> float | None:
        measured = risk_scores.measured_values(sql, people.patient.id, now)
        outcomes = risk_scores.compute_scores(people.patient, measured, as_of=now)
        (found,) = [o for o in outcomes if o.spec.model == RiskModel.GRACE_IN_HOSPITAL]
        return found.result.risk_percent if found.result else None

    at_presentation = grace()
    assert at_presentation is not None
    _add_input(sql, people, now - dt.timedelta(days=1), systolic_bp_mmhg=150.0,
               heart_rate_bpm=64.0, creatinine=1.0)  # fmt: skip
    assert grace() == at_presentation


def test_a_later_pci_entry_does_not_replace_the_rate_and_pressure_at_presentation(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A man of 68 admitted 3 days before the ECG with HR 110, SBP 90, creatinine 1.5, Killip
    2, ST deviation (no depression) and raised enzymes, and a post-PCI ward round 1 day before
    it (PCI yes, HR 64, SBP 150): REST gave 157 points (4.5 %) and 90 at 6 months (1.6 %) from
    the ward round's 64/150, an entry holding PCI having counted as the admission's (a
    risk-score audit, 2026-12-07). The admission's 110/90 give 207 and 122 points; PCI counts."""
    people.patient.date_of_birth = dt.date.today() - dt.timedelta(days=round(68.5 * 365.25))
    sql.commit()
    now = utcnow()
    _add_input(
        sql, people, now - dt.timedelta(days=3), heart_rate_bpm=110.0, systolic_bp_mmhg=90.0,
        creatinine=1.5, killip_class=2,
        booleans=dict(cardiac_arrest_at_admission=False, st_deviation=True,
                      st_depression=False, elevated_cardiac_enzymes=True, history_of_mi=False,
                      history_of_heart_failure=False),
    )  # fmt: skip
    _add_input(sql, people, now - dt.timedelta(days=1), heart_rate_bpm=64.0,
               systolic_bp_mmhg=150.0, booleans={"in_hospital_pci": True})  # fmt: skip
    report = _analysed_report(app, people, sql, tmp_path)
    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.staff.username, ["reports:read"]))
    scores = {s["model"]: s for s in api.get(f"/reports/{report.id}").get_json()["risk_scores"]}
    in_hospital, six_month = scores["grace_in_hospital"], scores["grace_six_month"]
    for score in (in_hospital, six_month):
        used = score["inputs_used"]
        assert used is not None, score["not_computed_reason"]
        assert (used["heart_rate_bpm"], used["sbp_mmhg"]) == (110, 90), used
        sources = used["sources"]
        admission = sources["elevated_enzymes"]["clinical_input_id"]
        assert sources["heart_rate_bpm"]["clinical_input_id"] == admission
    assert (in_hospital["points"], round(in_hospital["value"], 1)) == (207, 16.2)
    assert six_month["inputs_used"]["in_hospital_pci"] is True  # the ward round's
    assert six_month["points"] == 122 and round(six_month["value"], 1) == 4.5
    assert six_month["category"] == "NSTE-ACS high, STEMI intermediate"  # 90: intermediate, low


def _grace_patient_of_82(app: Flask, people: People, sql: Session, tmp_path: Path) -> EcgReport:
    """The audit's patient: 82, HR 110, SBP 188, creatinine 0.91 mg/dL, Killip 1, no arrest,
    ST deviation, no raised enzymes, PCI in hospital, no history: GRACE 160 points in hospital
    (2.2 % by the continuous model), 123 at 6 months (4.7 % by the nomogram)."""
    people.patient.date_of_birth = dt.date.today() - dt.timedelta(days=round(82.5 * 365.25))
    admission = dict(cardiac_arrest_at_admission=False, st_deviation=True, st_depression=False,
                     elevated_cardiac_enzymes=False, in_hospital_pci=True, history_of_mi=False,
                     history_of_heart_failure=False)  # fmt: skip
    _add_input(sql, people, utcnow() - dt.timedelta(hours=2), heart_rate_bpm=110.0,
               systolic_bp_mmhg=188.0, creatinine=0.91, killip_class=1,
               booleans=admission)  # fmt: skip
    return _analysed_report(app, people, sql, tmp_path)


def test_a_grace_score_shows_its_points_and_their_band_beside_its_percentage(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The review page and clinician PDF read "GRACE death in hospital 2.2 % NSTE-ACS high,
    STEMI high" (high: over 3 % and 5 %; 160 points) and "4.7 % (NSTE-ACS high, ...)" at 6
    months (high: over 8 %), the band of the points beside a percentage it contradicts; and the
    points, which guidelines act on, were on the risk page only (an audit, 2026-12-07)."""
    from portal.services.documents import report_data
    from reports.render import html_for

    report = _grace_patient_of_82(app, people, sql, tmp_path)
    stored = {s.model: s for s in report.risk_scores}
    in_hospital = stored[RiskModel.GRACE_IN_HOSPITAL]
    six_month = stored[RiskModel.GRACE_SIX_MONTH]
    assert (sum(in_hospital.contributions.values()), round(in_hospital.value, 1)) == (160, 2.2)
    assert (sum(six_month.contributions.values()), round(six_month.value, 1)) == (123, 4.7)
    in_hospital_band = "NSTE-ACS high (≥ 141 points), STEMI high (≥ 155 points)"
    six_month_band = "NSTE-ACS high (≥ 119 points), STEMI intermediate (100-127 points)"

    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    table = page[page.index('id="risk-scores"') :].split("</table>")[0]
    assert "2.2 %</strong>" not in table and "4.7 %</strong>" not in table
    assert (
        f'<strong>160 points</strong> <span class="badge">{in_hospital_band}</span>; '
        "2.2 % (GRACE continuous model)" in table
    ), table
    assert (
        f'<strong>123 points</strong> <span class="badge">{six_month_band}</span>; '
        "4.7 % (Eagle 2004 nomogram)" in table
    )

    risk_page = html.unescape(
        doctor.get(f"/patients/{people.patient.id}/risk/").get_data(as_text=True)
    )
    card = risk_page[risk_page.index('id="score-grace_in_hospital"') :].split("</article>")[0]
    assert "<strong>160 points</strong>" in card and in_hospital_band in card
    assert "2.2 % (GRACE continuous model)" in card and "2.2 %</strong>" not in card

    settings = app.config["SETTINGS"]
    data = report_data(sql, report, report.versions[-1], settings, with_strips=False)
    clinician = html.unescape(html_for("clinician", data))
    assert (
        f"<strong>160 points</strong> ({in_hospital_band}); 2.2 % (GRACE continuous model)"
        in clinician
    )
    assert (
        f"<strong>123 points</strong> ({six_month_band}); 4.7 % (Eagle 2004 nomogram)" in clinician
    )

    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.doctor.username, ["reports:read"]))
    scores = {s["model"]: s for s in api.get(f"/reports/{report.id}").get_json()["risk_scores"]}
    assert (scores["grace_in_hospital"]["points"], scores["grace_six_month"]["points"]) == (
        160,
        123,
    )
    assert scores["framingham_general_cvd"]["points"] is None
    schema = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "points" in schema["RiskScore"]["properties"]
    assert "points" in schema["RiskScore"]["required"]


def test_grace_six_month_at_the_nomogram_floor_reads_as_a_bound_everywhere(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Eagle's nomogram gives "0.8 % or less" at 70 points or fewer; the portal stated 0.8 %
    as a fact (REST `value: 0.8`, FHIR without a comparator), and the what-if with only the
    age changed from 57 to 40 (70 -> 52 points) read "0.8 % -> 0.8 % ... +0.0 percentage
    points", as if age had no effect (an audit, 2026-12-07)."""
    from portal.services.documents import report_data
    from reports.render import html_for

    people.patient.date_of_birth = dt.date.today() - dt.timedelta(days=round(57.5 * 365.25))
    admission = dict(cardiac_arrest_at_admission=False, st_deviation=False, st_depression=False,
                     elevated_cardiac_enzymes=False, in_hospital_pci=True, history_of_mi=False,
                     history_of_heart_failure=False)  # fmt: skip
    _add_input(sql, people, utcnow() - dt.timedelta(hours=2), heart_rate_bpm=80.0,
               systolic_bp_mmhg=110.0, creatinine=1.3, killip_class=1,
               booleans=admission)  # fmt: skip
    report = _analysed_report(app, people, sql, tmp_path)
    six_month = next(s for s in report.risk_scores if s.model is RiskModel.GRACE_SIX_MONTH)
    assert (sum(six_month.contributions.values()), round(six_month.value, 1)) == (70, 0.8)
    floor = "≤ 0.8 % (Eagle 2004 nomogram)"

    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    row = page[page.index("GRACE death within 6 months") :].split("</tr>")[0]
    assert "<strong>70 points</strong>" in row and f"; {floor}" in row, row

    url = f"/patients/{people.patient.id}/risk/"
    risk_page = html.unescape(doctor.get(url).get_data(as_text=True))
    card = risk_page[risk_page.index('id="score-grace_six_month"') :].split("</article>")[0]
    assert floor in card
    form = _FormValues()
    form.feed(risk_page[risk_page.index('id="what-if"') :])
    younger = html.unescape(
        doctor.get(url, query_string=form.values | {"age_years": "40"}).get_data(as_text=True)
    )
    table = younger[younger.index('id="what-if-results"') :].split("</table>")[0]
    six_month_row = next(r for r in table.split("<tr>") if "GRACE 6-month" in r)
    cells = re.findall(r"<td>(.*?)</td>", six_month_row, flags=re.S)
    assert cells[1] == f"70 points, {floor}", cells
    assert cells[2].startswith(f"52 points, {floor}"), cells
    assert cells[3] == "both within the nomogram's floor (≤ 0.8 %), -18 points", cells

    settings = app.config["SETTINGS"]
    data = report_data(sql, report, report.versions[-1], settings, with_strips=False)
    assert "<strong>70 points</strong> (" in html.unescape(html_for("clinician", data))
    assert f"); {floor}" in html.unescape(html_for("clinician", data))

    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.doctor.username, ["reports:read"]))
    scores = {s["model"]: s for s in api.get(f"/reports/{report.id}").get_json()["risk_scores"]}
    assert (scores["grace_six_month"]["value"], scores["grace_six_month"]["comparator"]) == (
        pytest.approx(0.8),
        "<=",
    )
    assert scores["grace_in_hospital"]["comparator"] is None  # the continuous model's estimate
    schema = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "comparator" in schema["RiskScore"]["required"]


def test_rest_gives_each_input_a_score_used_with_its_offset_and_the_pdf_the_hospitals_day(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An interoperability audit (2026-12-07): REST's `inputs_used.sources.*.recorded_at` read
    "2026-12-07T09:20", with no offset, where every other REST time has one and FHIR gives the
    same input "2026-12-07T09:20:49+00:00": RFC 3339 reads it as local time, so an EHR in
    Paris dated the cholesterol an hour wrong. The clinician PDF still says the hospital's
    day of it."""
    from portal.services.documents import report_data
    from reports.render import html_for

    day = (utcnow() - dt.timedelta(days=3)).date()
    measured = dt.datetime.combine(day, dt.time(23, 20, 49))  # Paris: the next day
    _add_input(sql, people, measured, booleans=FLAGS, **LIPIDS)
    report = _analysed_report(app, people, sql, tmp_path)
    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.staff.username, ["reports:read",
                                                                      "fhir:read"]))  # fmt: skip
    scores = {s["model"]: s for s in api.get(f"/reports/{report.id}").get_json()["risk_scores"]}
    source = scores["framingham_general_cvd"]["inputs_used"]["sources"]["total_chol"]
    assert source["recorded_at"] == f"{day.isoformat()}T23:20:00+00:00"  # stored to the minute
    observation = api.client.get(
        f"/fhir/r4/Observation/input-{source['clinical_input_id']}-total-cholesterol",
        headers=api.headers,
    ).get_json()
    assert dt.datetime.fromisoformat(observation["effectiveDateTime"]).replace(
        second=0
    ) == dt.datetime.fromisoformat(source["recorded_at"])  # the same instant as FHIR's

    paris = dataclasses.replace(app.config["SETTINGS"], time_zone="Europe/Paris")
    data = report_data(sql, report, report.versions[-1], paris, with_strips=False)
    clinician = html.unescape(html_for("clinician", data))
    assert f"(recorded {(day + dt.timedelta(days=1)).isoformat()})" in clinician


def _grace_outcome(
    sql: Session, people: People, now: dt.datetime, model: RiskModel
) -> risk_scores.ScoreOutcome:
    measured = risk_scores.measured_values(sql, people.patient.id, now)
    outcomes = risk_scores.compute_scores(people.patient, measured, as_of=now)
    return next(o for o in outcomes if o.spec.model == model)


def test_st_depression_in_a_later_entry_is_a_deviation_for_grace_in_hospital(
    app: Flask, people: People, sql: Session
) -> None:
    """A woman of 76 (HR 88, SBP 135, creatinine 1.0, Killip 1, raised enzymes, no ST change)
    and a correction at the same time, "admission ECG shows ST depression V4-V6": the
    in-hospital score stayed at 139 points, "ST-segment deviation no", while the 6-month
    score counted the depression (a risk-score audit). Now 167 points, high."""
    now = utcnow()
    people.patient.date_of_birth = dt.date(now.year - 76, 1, 1)
    sql.commit()
    measured_at = now - dt.timedelta(hours=6)
    _add_input(
        sql, people, measured_at, heart_rate_bpm=88.0, systolic_bp_mmhg=135.0, creatinine=1.0,
        killip_class=1,
        booleans=dict(cardiac_arrest_at_admission=False, st_deviation=False,
                      st_depression=False, elevated_cardiac_enzymes=True, in_hospital_pci=False,
                      history_of_mi=False, history_of_heart_failure=False),
    )  # fmt: skip
    report = _scored_report(sql, people, now)
    stored = next(s for s in report.risk_scores if s.model == RiskModel.GRACE_IN_HOSPITAL)
    assert stored.inputs_used["st_deviation"] is False
    assert _grace_outcome(sql, people, now, RiskModel.GRACE_IN_HOSPITAL).result.points == 139

    _add_input(sql, people, measured_at, other_issues="Correction: admission ECG shows ST "
               "depression V4-V6", booleans={"st_depression": True})  # fmt: skip
    in_hospital = _grace_outcome(sql, people, now, RiskModel.GRACE_IN_HOSPITAL).result
    assert in_hospital is not None and in_hospital.inputs_used["st_deviation"] is True
    assert in_hospital.points == 167 and in_hospital.category == "NSTE-ACS high, STEMI high"
    six_month = _grace_outcome(sql, people, now, RiskModel.GRACE_SIX_MONTH).result
    assert six_month is not None and six_month.inputs_used["st_depression"] is True
    sql.expire_all()
    stale = risk_scores.stale_reason(stored, people.patient, now)
    assert stale is not None and "after the score was computed" in stale

    # An entry after it saying "no" to deviation is the clinician's latest word on it.
    _add_input(sql, people, measured_at + dt.timedelta(minutes=5),
               booleans={"st_deviation": False})  # fmt: skip
    assert _grace_outcome(sql, people, now, RiskModel.GRACE_IN_HOSPITAL).result.points == 139


def test_a_correction_of_the_admission_rate_and_pressure_is_graces(
    app: Flask, people: People, sql: Session
) -> None:
    """A man of 82 admitted with HR 110, SBP 188, creatinine 80.4 umol/L, Killip 1 and ST
    deviation (160 points), corrected at the same measured time to 40 bpm and 78 mmHg: the
    score kept 110/188, was not stale, and signing recomputed it so (a risk-score audit). The
    correction is GRACE's, 184 points; and the reverse, a typo corrected, too."""
    now = utcnow()
    people.patient.date_of_birth = dt.date(now.year - 82, 1, 1)
    sql.commit()
    measured_at = now - dt.timedelta(hours=6)
    _add_input(
        sql, people, measured_at, heart_rate_bpm=110.0, systolic_bp_mmhg=188.0, creatinine=80.4,
        creatinine_unit="umol/L", killip_class=1,
        booleans=dict(cardiac_arrest_at_admission=False, st_deviation=True,
                      elevated_cardiac_enzymes=False),
    )  # fmt: skip
    report = _scored_report(sql, people, now)
    stored = next(s for s in report.risk_scores if s.model == RiskModel.GRACE_IN_HOSPITAL)
    assert score_points(stored) == 160
    assert risk_scores.stale_reason(stored, people.patient, now) is None

    _add_input(sql, people, measured_at, heart_rate_bpm=40.0, systolic_bp_mmhg=78.0,
               other_issues="Correction: HR 40, SBP 78")  # fmt: skip
    corrected = _grace_outcome(sql, people, now, RiskModel.GRACE_IN_HOSPITAL).result
    assert corrected is not None and corrected.points == 184
    assert (corrected.inputs_used["heart_rate_bpm"], corrected.inputs_used["sbp_mmhg"]) == (40, 78)
    sql.expire_all()
    stale = risk_scores.stale_reason(stored, people.patient, now)
    assert stale is not None and "after the score was computed" in stale
    outcomes = risk_scores.report_outcomes(sql, report, ecg_heart_rate_bpm=None)  # at signing
    assert next(o for o in outcomes if o.spec.model == stored.model).result.points == 184

    # The reverse: the typo first, the right values entered later for the same time.
    _add_input(sql, people, measured_at, heart_rate_bpm=110.0, systolic_bp_mmhg=188.0)
    assert _grace_outcome(sql, people, now, RiskModel.GRACE_IN_HOSPITAL).result.points == 160
    # A ward round's values, measured later, are still not GRACE's.
    _add_input(sql, people, now - dt.timedelta(hours=1), heart_rate_bpm=64.0,
               systolic_bp_mmhg=150.0)  # fmt: skip
    assert _grace_outcome(sql, people, now, RiskModel.GRACE_IN_HOSPITAL).result.points == 160


def test_a_history_recorded_yes_does_not_expire_for_grace_six_month(
    app: Flask, people: People, sql: Session
) -> None:
    """A heart attack and heart failure recorded in 2024 had left GRACE 6-month "not computed:
    History of heart failure missing (last recorded 2024-05-01, over 12 months before);
    History of myocardial infarction missing" beside Framingham's "a previous heart attack is
    recorded" (a risk-score audit). A "yes" lasts; a "no" that old is asked again."""
    now = utcnow()
    people.patient.date_of_birth = dt.date(now.year - 68, 1, 1)
    sql.commit()
    _add_input(sql, people, now - dt.timedelta(days=1000),
               booleans=dict(history_of_mi=False, history_of_heart_failure=False))  # fmt: skip
    _add_input(
        sql, people, now - dt.timedelta(hours=3), heart_rate_bpm=80.0, systolic_bp_mmhg=130.0,
        creatinine=1.0, killip_class=1,
        booleans=dict(cardiac_arrest_at_admission=False, st_deviation=True, st_depression=True,
                      elevated_cardiac_enzymes=True, in_hospital_pci=True),
    )  # fmt: skip
    report = _scored_report(sql, people, now)
    stored = next(s for s in report.risk_scores if s.model == RiskModel.GRACE_SIX_MONTH)
    assert stored.value is None  # the old "no" is asked again
    assert "History of heart failure missing (last recorded" in stored.not_computed_reason
    assert "History of myocardial infarction missing (last" in stored.not_computed_reason

    _add_input(sql, people, now - dt.timedelta(days=950),
               booleans=dict(history_of_mi=True, history_of_heart_failure=True))  # fmt: skip
    six_month = _grace_outcome(sql, people, now, RiskModel.GRACE_SIX_MONTH)
    assert six_month.result is not None, six_month.not_computed_reason
    used = six_month.result.inputs_used
    assert used["history_of_mi"] is True and used["history_of_heart_failure"] is True
    sql.expire_all()
    stale = risk_scores.stale_reason(stored, people.patient, now)
    assert stale is not None and "after the score was computed" in stale


def test_beyond_the_calibrated_range_the_risk_page_ranks_factors_without_sizes(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """At "> 30 %" the risk page had sized each factor from the extrapolated figure ("Blood
    pressure +6.5 percentage points"), the what-if "-73.5 percentage points" from "> 30 %" (a
    risk-score audit, 2026-12-07): now the factors in order, the change from and to."""
    _add_input(
        sql, people, utcnow() - dt.timedelta(days=5), total_cholesterol=300.0, hdl=30.0,
        systolic_bp_mmhg=200.0, bmi_kg_m2=30.0,
        booleans=dict(smoker=True, diabetic=True, bp_treated=True),
    )  # fmt: skip
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    url = f"/patients/{people.patient.id}/risk/"
    for model in ("framingham_general_cvd", "framingham_general_cvd_bmi"):
        page = doctor.get(url).get_data(as_text=True)
        card = page[page.index(f'id="score-{model}"') :]
        card = card[: card.index("</article>")]
        assert "&gt; 30 %" in card and "What raises it most" in card
        assert "percentage points beyond" in card and "effect-bar" not in card, card
        assert '"effect-label">Blood pressure<' in card
    query = dict(
        what_if="1", age_years=str(people.patient.age_years(utcnow().date())),
        total_cholesterol="180", hdl="45", cholesterol_unit="mg/dL", systolic_bp_mmhg="120",
        smoker="no", diabetic="no", bp_treated="no", bmi_kg_m2="22",
    )  # fmt: skip
    text = doctor.get(url, query_string=query).get_data(as_text=True)
    table = text[text.index('id="what-if-results"') :]
    assert "from &gt; 30 % to " in table and "-7" not in table.split("GRACE")[0]

    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.doctor.username, ["reports:read"]))
    body = api.get(f"/reports/{report.id}").get_json()
    lipid = {s["model"]: s for s in body["risk_scores"]}["framingham_general_cvd"]
    assert lipid["more_than_percent"] == 30
    assert lipid["raised_most_by"] and all(
        e["change_percent_points"] is None for e in lipid["raised_most_by"]
    )
    review = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    row = review[review.index("Framingham 2008 general cardiovascular disease, 10 years") :]
    row = row[: row.index("</tr>")]
    assert "Blood pressure, " in row and "cannot be sized" in row and " +" not in row


def test_a_creatinine_entered_apart_from_the_admission_marks_grace_stale(
    app: Flask, people: People, sql: Session
) -> None:
    """An admission entry without creatinine and a separate creatinine of 1.0: GRACE reads the
    latest creatinine of any entry (`compute_scores`). A creatinine of 2.5 added later, measured
    before the ECG, left the stored score unmarked while the risk page gave more points, and
    so did 0.7 after signing: `_would_change` had counted only admission entries' (a
    risk-score audit, 2026-12-07: 173 points kept beside 187, then 187 beside 170)."""
    now = utcnow()
    admitted = now - dt.timedelta(hours=8)
    _add_input(
        sql, people, admitted, heart_rate_bpm=90.0, systolic_bp_mmhg=120.0, killip_class=1,
        booleans=dict(cardiac_arrest_at_admission=False, st_deviation=True,
                      elevated_cardiac_enzymes=True),
    )  # fmt: skip
    _add_input(sql, people, admitted + dt.timedelta(hours=1), creatinine=1.0)
    report = _scored_report(sql, people, now)
    stored = next(s for s in report.risk_scores if s.model == RiskModel.GRACE_IN_HOSPITAL)
    first_points = score_points(stored)
    assert first_points is not None
    assert risk_scores.stale_reason(stored, people.patient, now) is None

    _add_input(sql, people, admitted + dt.timedelta(hours=2), creatinine=2.5)
    recomputed = _grace_outcome(sql, people, now, RiskModel.GRACE_IN_HOSPITAL).result
    assert recomputed is not None and recomputed.points > first_points
    sql.expire_all()
    stale = risk_scores.stale_reason(stored, people.patient, now)
    assert stale is not None and "after the score was computed" in stale

    _rescore(sql, report)  # signing recomputes: 2.5 counted
    assert score_points(stored) == recomputed.points
    assert risk_scores.stale_reason(stored, people.patient, now) is None
    _add_input(sql, people, admitted + dt.timedelta(hours=3), creatinine=0.7)
    assert _grace_outcome(sql, people, now, RiskModel.GRACE_IN_HOSPITAL).result.points < (
        recomputed.points
    )
    sql.expire_all()
    assert risk_scores.stale_reason(stored, people.patient, now) is not None

    # The admission entry's own rate stays GRACE's: a ward round's rate changes nothing.
    _add_input(sql, people, admitted + dt.timedelta(hours=4), heart_rate_bpm=60.0)
    _rescore(sql, report)
    _add_input(sql, people, admitted + dt.timedelta(hours=5), heart_rate_bpm=130.0)
    sql.expire_all()
    assert risk_scores.stale_reason(stored, people.patient, now) is None


def _rescore(sql: Session, report: EcgReport) -> None:
    """The report's scores recomputed in place, as signing does."""
    outcomes = risk_scores.report_outcomes(sql, report, ecg_heart_rate_bpm=None)
    risk_scores.store_report_scores(report, outcomes)
    sql.commit()


def test_grace_without_an_acute_coronary_syndrome_leaves_the_patient_the_10_year_figure(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A woman of 66 with office values (TC 240, HDL 40, SBP 150 untreated, smoking) and a later
    entry of HR 80, SBP 130, creatinine 0.9, Killip 1 and every acute sign "no": the portal's
    own test finds no acute coronary syndrome and computes Framingham, > 30 % high, and GRACE
    too; her summary read "Your outlook: ... the months ahead" with no 10-year figure (a
    risk-score audit, 2026-12-07). GRACE stays computed for the clinician (unstable angina
    shows no sign either), said beside it; the patient reads her 10-year figure."""
    from portal.fhir.observation import _patient_scores
    from tests.conftest import signed_pdfs

    now = utcnow()
    people.patient.date_of_birth = dt.date(now.year - 67, 12, 31)  # 66
    sql.commit()
    _add_input(
        sql, people, now - dt.timedelta(days=30), total_cholesterol=240.0, hdl=40.0,
        systolic_bp_mmhg=150.0, booleans=dict(smoker=True, diabetic=False, bp_treated=False),
    )  # fmt: skip
    _add_input(
        sql, people, now - dt.timedelta(hours=6), heart_rate_bpm=80.0, systolic_bp_mmhg=130.0,
        creatinine=0.9, killip_class=1,
        booleans=dict(cardiac_arrest_at_admission=False, st_deviation=False, st_depression=False,
                      elevated_cardiac_enzymes=False, in_hospital_pci=False),
    )  # fmt: skip
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    from tests.conftest import sign_report
    from tests.test_sinus_rate_statement import _preselected

    sign_report(
        doctor, report, sql, rhythm_label=report.versions[0].rhythm_label,
        findings=_preselected(page), conclusion="Read as prefilled.", patient_comment="",
    )  # fmt: skip
    scores = {s.model: s for s in report.risk_scores}
    # 30.04 %, stored as shown: 30.0 % (`as_shown`), at the top of the calibrated range
    assert scores[RiskModel.FRAMINGHAM_GENERAL_CVD].value == 30.0
    assert scores[RiskModel.GRACE_IN_HOSPITAL].value is not None
    _, summary = signed_pdfs(app, people, doctor, report, tmp_path)
    said = " ".join(summary.split())
    assert "months ahead" not in said and "About 30 of 100 people" in said, said
    assert [s.model for s in _patient_scores(report.risk_scores)] == [
        RiskModel.FRAMINGHAM_GENERAL_CVD
    ]
    risk_page = html.unescape(
        doctor.get(f"/patients/{people.patient.id}/risk/").get_data(as_text=True)
    )
    card = risk_page[risk_page.index('id="score-grace_in_hospital"') :]
    assert risk_scores.NO_ACS_RECORDED in card[: card.index("</article>")]


def test_what_if_prefills_every_recorded_input_after_a_heart_attack(
    app: Flask, people: People, sql: Session
) -> None:
    """After a heart attack the first-event models are not computed, and the what-if had
    prefilled only the inputs of the scores computed: cholesterol 240, HDL 38, office 165
    mmHg, BMI 31 and smoking, diabetes and treatment "No", all entered today, stood empty
    ("Not recorded"), and Calculate with the history and the admission signs set to "No"
    answered Framingham "not computed: ... Total cholesterol missing" (an accessibility
    audit). Every latest recorded value the models use is prefilled, and Reset shows it."""
    client = client_for(app, people.staff)
    entry_url = f"/patients/{people.patient.id}/inputs/new"
    risk_factors = {
        "total_cholesterol": "240", "hdl": "38", "cholesterol_unit": "mg/dL",
        "systolic_bp_mmhg": "165", "bmi_kg_m2": "31", "smoker": "no", "diabetic": "no",
        "bp_treated": "no", "history_of_mi": "yes",
    }  # fmt: skip
    admission = {
        "heart_rate_bpm": "98", "systolic_bp_mmhg": "150", "creatinine": "1.1",
        "creatinine_unit": "mg/dL", "killip_class": "2", "cardiac_arrest_at_admission": "no",
        "st_deviation": "yes", "elevated_cardiac_enzymes": "yes",
    }  # fmt: skip
    for data in (risk_factors, admission):
        assert post_form(client, entry_url, data, token_page=entry_url).status_code == 302
    url = f"/patients/{people.patient.id}/risk/"
    page = client.get(url).get_data(as_text=True)  # also what "Reset" links to
    assert f'href="{url}">Reset to the patient' in page
    form = _FormValues()
    form.feed(page[page.index('id="what-if"') :])
    prefilled = {
        "total_cholesterol": "240", "hdl": "38", "systolic_bp_mmhg": "165", "bmi_kg_m2": "31",
        "smoker": "no", "diabetic": "no", "bp_treated": "no", "history_of_mi": "yes",
        "admission_sbp_mmhg": "150", "heart_rate_bpm": "98", "st_deviation": "yes",
    }  # fmt: skip
    assert {k: form.values[k] for k in prefilled} == prefilled, form.values
    no_event = dict.fromkeys(
        ("history_of_mi", "history_of_heart_failure", "cardiac_arrest_at_admission",
         "st_deviation", "st_depression", "elevated_cardiac_enzymes", "in_hospital_pci"),
        "no",
    )  # fmt: skip
    calculated = client.get(url, query_string=form.values | no_event).get_data(as_text=True)
    table = calculated[calculated.index('id="what-if-results"') :].split("</table>")[0]
    from portal import risk

    expected = risk.framingham_general_cvd(
        sex=Sex(people.patient.sex).value, age_years=int(form.values["age_years"]),
        total_chol=240, hdl=38, chol_unit="mg/dL", sbp_mmhg=165, bp_treated=False,
        smoker=False, diabetic=False,
    )  # fmt: skip
    row = table[table.index(risk_scores.SPECS[0].title) :].split("</tr>")[0]
    assert "missing" not in row and f"{expected.risk_percent:.1f} %" in row, row


def test_the_trend_charts_date_a_measurement_on_the_hospitals_day(
    app: Flask, people: People, sql: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A time-zone audit (Auckland): a pressure measured at 18:00 UTC, 07:00 NZDT the next
    day, was charted "2026-12-07: 140 mmHg" (UTC's date) beside "(recorded 2026-12-08)"."""
    auckland = dataclasses.replace(app.config["SETTINGS"], time_zone="Pacific/Auckland")
    monkeypatch.setitem(app.config, "SETTINGS", auckland)
    day = (utcnow() - dt.timedelta(days=3)).date()
    _add_input(sql, people, dt.datetime.combine(day, dt.time(18, 0)), systolic_bp_mmhg=140.0)
    text = client_for(app, people.doctor).get(f"/patients/{people.patient.id}/risk/").text
    chart = re.search(r'<svg class="trend" [^>]*Systolic blood pressure.*?</svg>', text).group()
    next_day = (day + dt.timedelta(days=1)).isoformat()
    assert f"<title>{next_day}: 140 mmHg</title>" in chart
    assert f">{next_day}</text>" in chart and day.isoformat() not in chart


def test_the_trend_charts_space_measurements_by_their_utc_instants(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stored times are naive UTC: a naive `timestamp()` read them in the server's zone, so
    across the server's change to summer time measurements an hour apart drew 0 or 2 h apart."""
    import time

    from portal.charts import trend_svg

    monkeypatch.setenv("TZ", "Europe/London")
    time.tzset()
    try:  # London's clocks went forward at 01:00 UTC on 29 March 2026
        hourly = [(dt.datetime(2026, 3, 29, hour, 30), 120.0 + hour) for hour in (0, 1, 2)]
        chart = trend_svg(hourly, label="Systolic blood pressure", unit="mmHg")
    finally:
        monkeypatch.undo()
        time.tzset()
    xs = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', str(chart))]
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1], abs=0.2)


def test_a_score_on_a_rounding_edge_reads_the_same_figure_and_band_everywhere(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A man of 30, cholesterol 244, HDL 43, an untreated 189 mmHg, a smoker: Framingham gives
    9.950004 %, stored as 9.95 (binary 9.9499...): the review page, clinician PDF and FHIR
    said "9.9 %" (REST 9.95) beside "intermediate", the risk page and CLI "10.0 %" (a
    risk-score audit, 2026-12-07). The figure as shown is stored: 10.0 % everywhere."""
    from click.testing import CliRunner

    from portal.risk.cli import risk_command
    from tests.conftest import signed_pdfs
    from tests.test_fhir import sign

    people.patient.date_of_birth = dt.date.today() - dt.timedelta(days=round(30.5 * 365.25))
    people.patient.sex = Sex.MALE
    sql.commit()
    _add_input(sql, people, utcnow() - dt.timedelta(days=5), total_cholesterol=244.0, hdl=43.0,
               systolic_bp_mmhg=189.0, bmi_kg_m2=27.0,
               booleans=FLAGS | {"smoker": True})  # fmt: skip
    report = _analysed_report(app, people, sql, tmp_path)
    sign(app, people, sql, report)
    stored = sql.scalar(
        select(RiskScore).where(RiskScore.model == RiskModel.FRAMINGHAM_GENERAL_CVD)
    )
    assert (stored.value, stored.category) == (10.0, "intermediate")

    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    row = page[page.index("Framingham 2008 general cardiovascular disease, 10 years") :]
    row = row[: row.index("</tr>")]
    nine_nine = re.compile(r"(?<![\d.])9\.9 %")  # not the quality line's "99.9 %"
    assert "10.0 %" in row and not nine_nine.search(row) and "intermediate" in row
    risk_page = html.unescape(
        doctor.get(f"/patients/{people.patient.id}/risk/").get_data(as_text=True)
    )
    card = risk_page[risk_page.index('id="score-framingham_general_cvd"') :]
    card = card[: card.index("</article>")]
    assert "10.0 %" in card and not nine_nine.search(card)
    clinician, _ = signed_pdfs(app, people, doctor, report, tmp_path)
    assert "10.0 % (intermediate" in clinician and not nine_nine.search(clinician)

    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.doctor.username,
                                       ["reports:read", "fhir:read"]))  # fmt: skip
    scores = {s["model"]: s for s in api.get(f"/reports/{report.id}").get_json()["risk_scores"]}
    rest = scores["framingham_general_cvd"]
    assert (rest["value"], rest["category"]) == (10.0, "intermediate")
    observation = api.client.get(
        f"/fhir/r4/Observation/{report.id}-risk-framingham-general-cvd", headers=api.headers
    ).get_json()
    assert observation["valueQuantity"]["value"] == 10.0

    args = ["framingham", "--sex", "male", "--age-years", "30", "--total-chol", "244", "--hdl",
            "43", "--sbp-mmhg", "189", "--no-bp-treated", "--smoker", "--no-diabetic"]  # fmt: skip
    assert "10.0 % (intermediate)" in CliRunner().invoke(risk_command, args).output


@pytest.mark.parametrize(
    ("model", "risk_percent", "value", "level", "figure"),
    [
        (RiskModel.FRAMINGHAM_GENERAL_CVD, 9.950004, 10.0, "intermediate", "10.0 %"),
        (RiskModel.FRAMINGHAM_GENERAL_CVD, 19.950004, 20.0, "high", "20.0 %"),
        (RiskModel.FRAMINGHAM_HARD_CHD_ATP3, 20.04, 20.0, "intermediate", "20.0 %"),
        (RiskModel.FRAMINGHAM_GENERAL_CVD, 30.00004, 30.0, "high", "30.0 %"),
        (RiskModel.FRAMINGHAM_GENERAL_CVD, 30.05, 30.1, "high", "> 30 %"),
    ],
)
def test_the_stored_figure_is_the_figure_shown_and_its_band_judged_on_it(
    model: RiskModel, risk_percent: float, value: float, level: str, figure: str
) -> None:
    """At 19.950004 % the report had said "19.9 % high"; at 30.00004 % the risk page "> 30 %
    (beyond the range ...)" beside the report's "30.0 %" (a risk-score audit, 2026-12-07)."""
    from portal import risk as models
    from portal.risk.atp3 import category_of as atp3_category
    from portal.risk.framingham import category_of
    from portal.risk_words import percent_text, risk_figure_text

    spec = risk_scores.SPEC_BY_MODEL[model]
    judged = atp3_category if model == RiskModel.FRAMINGHAM_HARD_CHD_ATP3 else category_of
    result = models.RiskResult(
        model=model.value, title="", predicts="", citation="", risk_percent=risk_percent,
        category=str(judged(risk_percent)), level=judged(risk_percent), inputs_used={},
        contributions={},
    )  # fmt: skip
    outcome = risk_scores.ScoreOutcome(spec, result, None)
    stored = risk_scores.score_values(outcome)
    assert (stored["value"], stored["category"]) == (value, level)
    for shown in (risk_figure_text(model.value, risk_percent), percent_text(model, value)):
        assert shown.startswith(figure), shown


def test_the_risk_page_and_clinician_pdf_say_each_bands_cut_offs_and_source(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Only "low / intermediate / high" was printed, Framingham's "20.0 % high" beside ATP
    III's "20.0 % intermediate" with nothing to say why, and the code called Framingham's bands
    the paper's, which defines none (a risk-score audit, 2026-12-07)."""
    from portal.services.documents import report_data
    from reports.render import html_for

    _add_input(sql, people, utcnow() - dt.timedelta(days=5), booleans=FLAGS, **LIPIDS)
    report = _analysed_report(app, people, sql, tmp_path)
    framingham = (
        "Framingham 2008 low < 10 %, intermediate 10-19.9 %, high >= 20 % (Canadian "
        "Cardiovascular Society 2016"
    )
    atp3 = "ATP III low < 10 %, intermediate 10-20 %, high > 20 %"
    doctor = client_for(app, people.doctor)
    risk_page = html.unescape(
        doctor.get(f"/patients/{people.patient.id}/risk/").get_data(as_text=True)
    )
    said = " ".join(risk_page.split())
    assert framingham in said and atp3 in said and "NCEP ATP III 2001" in said
    settings = app.config["SETTINGS"]
    data = report_data(sql, report, report.versions[-1], settings, with_strips=False)
    clinician = " ".join(html.unescape(html_for("clinician", data)).split())
    # beside each result, where the table's rows have room (a note under it had cost a page)
    assert (
        "(intermediate; bands < 10, 10-19.9, >= 20 %, Canadian Cardiovascular Society"
        in (clinician)
        or "(low; bands < 10, 10-19.9, >= 20 %, Canadian Cardiovascular Society" in clinician
    )
    assert "bands < 10, 10-20, > 20 %, NCEP ATP III 2001)" in clinician
