"""A report's risk scores follow what is signed: signing and amending recompute them from the
signed heart rate and every input dated up to the ECG; until then a late entry marks them stale;
a reference-library record lends no heart rate to a patient's GRACE score (a risk audit)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from portal import risk
from portal.models import EcgReport, RiskModel, RiskScore, utcnow
from portal.services import reports, risk_scores
from tests.conftest import PASSWORD, People
from tests.test_risk_page import _add_input
from tests.test_upload_and_review import _analysed_library_record, _analysed_report

FLAGS = dict(smoker=True, diabetic=True, bp_treated=False)
ADMISSION = dict(systolic_bp_mmhg=130.0, creatinine=1.1, killip_class=1)
ADMISSION_FLAGS = dict(
    cardiac_arrest_at_admission=False, st_deviation=True, elevated_cardiac_enzymes=True
)


def _score(report: EcgReport, model: RiskModel) -> RiskScore:
    return next(s for s in report.risk_scores if s.model == model)


def _sign(
    sql: Session,
    report: EcgReport,
    people: People,
    findings: tuple[str, ...] = ("SINUS",),
    **measurements: float | None,
) -> None:
    machine = report.versions[0]
    kept = {
        name: getattr(machine, name)
        for name in ("heart_rate_bpm", "pr_ms", "qrs_ms", "qt_ms", "qrs_axis_deg")
    }
    reports.sign(
        sql, report, actor=people.doctor, password=PASSWORD,
        expected_row_version=report.row_version,
        read=reports.PhysicianRead("Sinus rhythm", list(findings), "Read.",
                                   measurements=kept | measurements),
    )  # fmt: skip
    sql.commit()
    sql.expire_all()


def _amended(sql: Session, report: EcgReport, people: People, reason: str) -> EcgReport:
    """`report` amended as sinus rhythm at 70 bpm (which recomputes its scores), read again."""
    reports.amend(
        sql, report, actor=people.doctor, password=PASSWORD,
        expected_row_version=report.row_version,
        read=reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Read again.",
                                   measurements={"heart_rate_bpm": 70.0}),
        reason=reason,
    )  # fmt: skip
    sql.commit()
    sql.expire_all()
    amended = sql.get(EcgReport, report.id)
    assert amended is not None
    return amended


def test_a_corrected_entry_marks_the_score_stale_and_signing_recomputes_it(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    measured_at = utcnow() - dt.timedelta(days=2)
    lipids = dict(hdl=50.0, systolic_bp_mmhg=140.0)
    _add_input(sql, people, measured_at, booleans=FLAGS, total_cholesterol=380.0, **lipids)
    report = _analysed_report(app, people, sql, tmp_path)
    before = _score(report, RiskModel.FRAMINGHAM_GENERAL_CVD)
    assert risk_scores.stale_reason(before, report.patient, report.report_date) is None
    typo_value = before.value

    # The typo corrected by an entry dated when the value was measured.
    _add_input(sql, people, measured_at, booleans=FLAGS, total_cholesterol=180.0, **lipids)
    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    stale = risk_scores.stale_reason(
        _score(report, RiskModel.FRAMINGHAM_GENERAL_CVD), report.patient, report.report_date
    )
    assert stale is not None and "after the score was computed" in stale
    assert "recomputes" in stale

    # An entry that would change nothing (too old for any model, or older than the value
    # used) leaves the scores current: any back-dated entry had marked them all stale.
    _add_input(sql, people, measured_at - dt.timedelta(days=800), bmi_kg_m2=31.0)
    _add_input(sql, people, measured_at - dt.timedelta(days=10), systolic_bp_mmhg=150.0)
    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    bmi_model = _score(report, RiskModel.FRAMINGHAM_GENERAL_CVD_BMI)
    assert risk_scores.stale_reason(bmi_model, report.patient, report.report_date) is None

    _sign(sql, report, people)
    report = sql.get(EcgReport, report.id)
    after = _score(report, RiskModel.FRAMINGHAM_GENERAL_CVD)
    age = report.patient.age_years(report.report_date.date())
    expected = risk.framingham_general_cvd(
        sex=report.patient.sex.value, age_years=age, total_chol=180, hdl=50, sbp_mmhg=140,
        **FLAGS,
    )  # fmt: skip
    assert after.value == round(expected.risk_percent, 1) != typo_value
    assert risk_scores.stale_reason(after, report.patient, report.report_date) is None
    assert len(report.risk_scores) == len(risk_scores.SPECS)  # recomputed in place


def test_a_heart_rate_signed_not_measurable_is_no_grace_input(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    _add_input(sql, people, utcnow() - dt.timedelta(hours=1), booleans=ADMISSION_FLAGS, **ADMISSION)
    report = _analysed_report(app, people, sql, tmp_path)
    grace = _score(report, RiskModel.GRACE_IN_HOSPITAL)
    assert grace.value is not None
    assert grace.inputs_used["sources"]["heart_rate_bpm"]["from"] == "ECG"

    _sign(sql, report, people, heart_rate_bpm=None)
    grace = _score(sql.get(EcgReport, report.id), RiskModel.GRACE_IN_HOSPITAL)
    assert grace.value is None and grace.level is None
    assert "Heart rate missing" in (grace.not_computed_reason or "")

    amended_rate = 88
    report = sql.get(EcgReport, report.id)
    reports.amend(
        sql, report, actor=people.doctor, password=PASSWORD,
        expected_row_version=report.row_version,
        read=reports.PhysicianRead(
            "Sinus rhythm", ["SINUS"], "Rate measured by hand.",
            measurements={"heart_rate_bpm": amended_rate, "qt_ms": None},
        ),
        reason="Heart rate counted on the strip",
    )  # fmt: skip
    sql.commit()
    sql.expire_all()
    grace = _score(sql.get(EcgReport, report.id), RiskModel.GRACE_IN_HOSPITAL)
    assert grace.value is not None and grace.inputs_used["heart_rate_bpm"] == amended_rate


def test_a_reference_record_lends_no_heart_rate_to_the_patients_grace_score(
    app: Flask, people: People, sql: Session
) -> None:
    _add_input(sql, people, utcnow() - dt.timedelta(hours=1), booleans=ADMISSION_FLAGS, **ADMISSION)
    report = _analysed_library_record(app, people, sql, "100")
    grace = _score(report, RiskModel.GRACE_IN_HOSPITAL)
    assert grace.value is None
    assert "Heart rate missing" in (grace.not_computed_reason or "")


def test_a_signed_st_change_the_admission_values_deny_leaves_grace_not_computed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A signed STEMI stood beside a GRACE score computed with "no ST deviation" from the
    admission values, 2.0 % where counting it gives 4.6 % (a risk audit)."""
    no_st = ADMISSION_FLAGS | {"st_deviation": False, "st_depression": False}
    _add_input(sql, people, utcnow() - dt.timedelta(hours=1), booleans=no_st, **ADMISSION)
    report = _analysed_report(app, people, sql, tmp_path)
    assert _score(report, RiskModel.GRACE_IN_HOSPITAL).value is not None
    _sign(sql, report, people, findings=("SINUS", "ST_ELEVATION"))
    report = sql.get(EcgReport, report.id)
    grace = _score(report, RiskModel.GRACE_IN_HOSPITAL)
    assert grace.value is None and grace.not_computed_reason == (
        "not computed: the signed ECG shows ST elevation, and the admission values say no "
        "ST-segment deviation: correct the admission values, or amend the report"
    )
    six_month = _score(report, RiskModel.GRACE_SIX_MONTH)  # its input is ST depression only
    assert "the signed ECG shows" not in (six_month.not_computed_reason or "")
    # Corrected admission values make it stale, for an amendment to recompute.
    _add_input(sql, people, utcnow() - dt.timedelta(hours=1), booleans={"st_deviation": True})
    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    grace = _score(report, RiskModel.GRACE_IN_HOSPITAL)
    assert risk_scores.stale_reason(grace, report.patient, report.report_date) is not None


def test_a_heart_attack_recorded_after_the_ecg_ends_the_first_event_scores(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient summaries: "MI 2019, told today" entered after the ECG (its
    "Measured on" today) never counted for the report, which was amended twice and still told
    the patient "About 29 of 100 people ..."; a history is entered when it is learned."""
    measured_at = utcnow() - dt.timedelta(days=2)
    _add_input(sql, people, measured_at, booleans=FLAGS, total_cholesterol=220.0, hdl=45.0,
               systolic_bp_mmhg=140.0)  # fmt: skip
    report = _analysed_report(app, people, sql, tmp_path)
    _sign(sql, report, people)
    report = sql.get(EcgReport, report.id)
    framingham = _score(report, RiskModel.FRAMINGHAM_GENERAL_CVD)
    assert framingham.value is not None

    _add_input(sql, people, utcnow(), booleans={"history_of_mi": True})  # learned today
    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    stale = risk_scores.stale_reason(
        _score(report, RiskModel.FRAMINGHAM_GENERAL_CVD), report.patient, report.report_date
    )
    assert stale is not None and stale.startswith("a previous heart attack was recorded on")
    grace = [s for s in report.risk_scores if s.model.value.startswith("grace")]
    assert all(risk_scores.stale_reason(s, report.patient, report.report_date) is None
               for s in grace)  # fmt: skip

    report = _amended(sql, report, people, "History of MI learned.")
    for model in (RiskModel.FRAMINGHAM_GENERAL_CVD, RiskModel.FRAMINGHAM_HARD_CHD_ATP3):
        score = _score(report, model)
        assert score.value is None and score.not_computed_reason == risk_scores.PRIOR_MI_REASON
        assert risk_scores.stale_reason(score, report.patient, report.report_date) is None
    # Each signature keeps the figure its summary gave, and the amended summary says it
    # changed (the scores are recomputed in place; a patient holding both pages read two
    # figures with nothing between them: an audit).
    from portal.services.documents import report_data
    from reports.plain_language import AFTER_MI_WORDS, what_changed

    signed, amended = report.versions[1], report.versions[2]
    assert signed.patient_risk is not None and " of 100 people" in signed.patient_risk
    assert amended.patient_risk is not None and AFTER_MI_WORDS in amended.patient_risk
    data = report_data(sql, report, amended, app.config["SETTINGS"], with_strips=False)
    said = what_changed(data)
    # the earlier figure no longer applies, and is not repeated (a review)
    assert (
        f"The risk number the earlier page gave no longer applies to you: {AFTER_MI_WORDS}" in said
    )
    figure_then = signed.patient_risk.partition(": ")[2].split(". ")[0]
    assert not any(figure_then in sentence for sentence in said)


def test_no_first_event_score_during_an_acute_coronary_syndrome(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient summaries: raised enzymes on admission, the ECG signed with ST
    depression ("NSTEMI"), so both GRACE scores were not computed; the patient then read
    "About 14 of 100 people ... in the next 10 years", a first-event figure, where a computed
    GRACE score would have given them "Your outlook"."""
    from reports.data import Score
    from reports.plain_language import AFTER_ACS_TITLE, IN_ACS, patient_risk

    days_ago = utcnow() - dt.timedelta(days=3)
    _add_input(sql, people, days_ago - dt.timedelta(days=30), booleans=FLAGS,
               total_cholesterol=220.0, hdl=45.0, systolic_bp_mmhg=140.0)  # fmt: skip
    report = _analysed_report(app, people, sql, tmp_path)
    assert _score(report, RiskModel.FRAMINGHAM_GENERAL_CVD).value is not None
    # the admission's values, entered late but dated before the ECG: the score is stale
    _add_input(sql, people, days_ago, booleans={"elevated_cardiac_enzymes": True},
               killip_class=1)  # fmt: skip
    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    framingham = _score(report, RiskModel.FRAMINGHAM_GENERAL_CVD)
    assert risk_scores.stale_reason(framingham, report.patient, report.report_date)
    _sign(sql, report, people, findings=("SINUS", "ST_DEPRESSION"))
    report = sql.get(EcgReport, report.id)
    for model in (RiskModel.FRAMINGHAM_GENERAL_CVD, RiskModel.FRAMINGHAM_GENERAL_CVD_BMI,
                  RiskModel.FRAMINGHAM_HARD_CHD_ATP3):  # fmt: skip
        score = _score(report, model)
        assert score.value is None and IN_ACS in (score.not_computed_reason or "")
        assert "(raised cardiac enzymes)" in (score.not_computed_reason or "")
    scores = [
        Score(s.model.value, "", s.value, None, {}, model=s.model.value,
              not_computed_reason=s.not_computed_reason)
        for s in report.risk_scores
    ]  # fmt: skip
    assert (patient_risk(scores) or ("",))[0] == AFTER_ACS_TITLE


def test_a_report_missing_a_models_row_signs(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A review: a report stored without a row for one model (a seeded report, or a model
    added later) answered 500 at signing: the new row had no creation time yet when its
    staleness was read for the patient's risk sentence."""
    _add_input(sql, people, utcnow() - dt.timedelta(days=2), booleans=FLAGS,
               total_cholesterol=220.0, hdl=45.0, systolic_bp_mmhg=140.0)  # fmt: skip
    report = _analysed_report(app, people, sql, tmp_path)
    sql.delete(_score(report, RiskModel.FRAMINGHAM_GENERAL_CVD_BMI))
    sql.commit()
    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    _sign(sql, report, people)
    report = sql.get(EcgReport, report.id)
    assert len(report.risk_scores) == len(risk_scores.SPECS)
    assert report.versions[-1].patient_risk is not None


def test_a_superseded_version_issued_again_keeps_its_own_risk_figure(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A review: version 2's patient summary, issued again after its file was lost, printed
    version 3's recomputed "About 29 of 100" where it had said 57 (the scores are recomputed
    in place at every signature)."""
    from portal.models import DocumentKind
    from portal.services import documents
    from tests.test_pdf_reports import _text

    settings = app.config["SETTINGS"]
    measured_at = utcnow() - dt.timedelta(days=2)
    lipids = dict(hdl=50.0, systolic_bp_mmhg=140.0)
    _add_input(sql, people, measured_at, booleans=FLAGS, total_cholesterol=380.0, **lipids)
    report = _analysed_report(app, people, sql, tmp_path)
    _sign(sql, report, people)
    report = sql.get(EcgReport, report.id)
    first, path = documents.ensure_document(
        sql, report, report.versions[1], DocumentKind.PATIENT, settings
    )
    sql.commit()
    said_then = " ".join(_text(path.read_bytes(), tmp_path, "then").split())
    _add_input(sql, people, measured_at, booleans=FLAGS, total_cholesterol=180.0, **lipids)
    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    report = _amended(sql, report, people, "Cholesterol corrected.")
    then, now = (v.patient_risk or "" for v in report.versions[1:3])
    figure_then = then.partition(": ")[2].split(". ")[0]
    assert figure_then and figure_then in said_then and figure_then not in now
    path.unlink()
    _, again = documents.ensure_document(
        sql, report, report.versions[1], DocumentKind.PATIENT, settings
    )
    said_again = " ".join(_text(again.read_bytes(), tmp_path, "again").split())
    assert figure_then in said_again
    assert now.partition(": ")[2].split(". ")[0] not in said_again
