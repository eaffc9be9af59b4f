"""Risk scores for a patient at a date: which inputs, how fresh, and the stored result.

Inputs are the latest measured value of each field as of the date (one entry need not hold
them all), as long as it is recent enough for the model: risk-factor values (lipids, BMI,
blood pressure, smoking, diabetes, a "no" to a history) within 12 months, a "yes" to a history
of heart attack or heart failure however old (`_lasts`); GRACE's admission values
(heart rate, blood pressure, creatinine, Killip class, arrest, ST changes, enzymes, PCI)
within 14 days. Heart rate comes from the ECG when no recent entry has one. A missing or stale
input gives "not computed: <what> missing", never a number computed from a default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from ml import vocabulary
from portal import risk
from portal.local_time import before_birth_here, hospital_date, hospital_day
from portal.models import (
    AuditEvent,
    ClinicalInput,
    EcgReport,
    Patient,
    RiskModel,
    RiskScore,
    Sex,
    utcnow,
)
from portal.risk.result import as_shown
from portal.risk_words import points_banded, score_points
from reports.plain_language import IN_ACS  # the patient is told of it as "Your outlook"

RISK_FACTOR_WINDOW = dt.timedelta(days=365)
ADMISSION_WINDOW = dt.timedelta(days=14)

LABELS = {
    "total_cholesterol_mg_dl": "Total cholesterol",
    "hdl_mg_dl": "HDL cholesterol",
    "systolic_bp_mmhg": "Systolic blood pressure",
    "bp_treated": "Blood-pressure treatment",
    "bmi_kg_m2": "BMI",
    "smoker": "Smoking status",
    "diabetic": "Diabetes status",
    "heart_rate_bpm": "Heart rate",
    "creatinine_mg_dl": "Creatinine",
    "killip_class": "Killip class",
    "cardiac_arrest_at_admission": "Cardiac arrest at admission",
    "st_deviation": "ST-segment deviation",
    "st_depression": "ST-segment depression",
    "elevated_cardiac_enzymes": "Cardiac enzymes",
    "history_of_mi": "History of myocardial infarction",
    "history_of_heart_failure": "History of heart failure",
    "in_hospital_pci": "PCI during this admission",
}

# Framingham and ATP III were built on office blood pressures: a systolic pressure entered with
# an acute admission's values (Killip class, ST changes, enzymes, ...) is GRACE's, taken in
# shock or pain. An admission's 95 mmHg had moved a 10-year risk from 13.5 % to 6.6 % (an
# audit). `measured_values` keeps the latest pressure outside such an entry apart.
ADMISSION_ONLY = (
    "killip_class", "cardiac_arrest_at_admission", "st_deviation", "st_depression",
    "elevated_cardiac_enzymes", "in_hospital_pci",
)  # fmt: skip
# The values that make an entry the presentation entry (`_admission_entry`): not PCI, done
# later in the stay, nor ST depression, also recorded from a repeat ECG; both are still read
# as the latest of each. An entry holding only PCI (a post-PCI ward round's) had given GRACE
# its rate of 64 and pressure of 150 for the admission's 110 and 90, 157 points where they
# give 207 (a risk-score audit, 2026-12-07).
PRESENTATION_VALUES = (
    "killip_class", "cardiac_arrest_at_admission", "st_deviation", "elevated_cardiac_enzymes",
)  # fmt: skip
OFFICE_SBP = "office_systolic_bp_mmhg"
# GRACE reads the heart rate and pressure at presentation and the initial creatinine (Granger
# 2003): those of the latest entry holding values taken at presentation (`measured_values`),
# else the latest of each. A ward round's pressure of 150 and rate of 64 on day 3 had moved a
# GRACE score from 6.7 % (high) to 2.4 % and off the worklist's high-risk flag (a risk audit).
AT_PRESENTATION = {
    column: f"{column}_at_presentation"
    for column in ("heart_rate_bpm", "systolic_bp_mmhg", "creatinine_mg_dl")
}
MISSING_LABELS = (
    LABELS
    | {OFFICE_SBP: "Systolic blood pressure (outside an acute admission)"}
    | {key: LABELS[column] for column, key in AT_PRESENTATION.items()}
)


@dataclass(frozen=True)
class Measured:
    value: Any
    recorded_at: dt.datetime
    clinical_input_id: int | None  # None: taken from the ECG


@dataclass(frozen=True)
class ModelSpec:
    """How one model's keyword arguments come from a patient's measured values."""

    model: RiskModel
    title: str
    function: Callable[..., risk.RiskResult]
    # keyword -> (clinical_input column, freshness window)
    fields: dict[str, tuple[str, dt.timedelta]]
    uses_sex: bool = True
    # For people without known cardiovascular disease (D'Agostino 2008, ATP III): not
    # computed once a heart attack is recorded (`PRIOR_MI_REASON`).
    first_event: bool = False


def _window(columns: dict[str, str], window: dt.timedelta) -> dict[str, tuple[str, dt.timedelta]]:
    return {keyword: (column, window) for keyword, column in columns.items()}


_FRAMINGHAM_COMMON = {
    "sbp_mmhg": OFFICE_SBP,
    "bp_treated": "bp_treated",
    "smoker": "smoker",
    "diabetic": "diabetic",
}
_LIPIDS = {"total_chol": "total_cholesterol_mg_dl", "hdl": "hdl_mg_dl"}
_GRACE_ADMISSION = {
    "heart_rate_bpm": AT_PRESENTATION["heart_rate_bpm"],
    "sbp_mmhg": AT_PRESENTATION["systolic_bp_mmhg"],
    "creatinine": AT_PRESENTATION["creatinine_mg_dl"],
    "elevated_enzymes": "elevated_cardiac_enzymes",
}
SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        RiskModel.FRAMINGHAM_GENERAL_CVD,
        "Framingham 2008 general CVD (lipids)",
        risk.framingham_general_cvd,
        _window(_FRAMINGHAM_COMMON | _LIPIDS, RISK_FACTOR_WINDOW),
        first_event=True,
    ),
    ModelSpec(
        RiskModel.FRAMINGHAM_GENERAL_CVD_BMI,
        "Framingham 2008 general CVD (BMI)",
        risk.framingham_general_cvd_bmi,
        _window(_FRAMINGHAM_COMMON | {"bmi_kg_m2": "bmi_kg_m2"}, RISK_FACTOR_WINDOW),
        first_event=True,
    ),
    ModelSpec(
        RiskModel.FRAMINGHAM_HARD_CHD_ATP3,
        "ATP III hard coronary heart disease",
        risk.framingham_hard_chd_atp3,
        _window(_FRAMINGHAM_COMMON | _LIPIDS, RISK_FACTOR_WINDOW),
        first_event=True,
    ),
    ModelSpec(
        RiskModel.GRACE_IN_HOSPITAL,
        "GRACE in-hospital death",
        risk.grace_in_hospital,
        _window(
            _GRACE_ADMISSION
            | {
                "killip_class": "killip_class",
                "cardiac_arrest": "cardiac_arrest_at_admission",
                "st_deviation": "st_deviation",
            },
            ADMISSION_WINDOW,
        ),
        uses_sex=False,
    ),
    ModelSpec(
        RiskModel.GRACE_SIX_MONTH,
        "GRACE 6-month death after discharge",
        risk.grace_six_month,
        _window(
            _GRACE_ADMISSION
            | {"st_depression": "st_depression", "in_hospital_pci": "in_hospital_pci"},
            ADMISSION_WINDOW,
        )
        | _window(
            {
                "history_of_heart_failure": "history_of_heart_failure",
                "history_of_mi": "history_of_mi",
            },
            RISK_FACTOR_WINDOW,
        ),
        uses_sex=False,
    ),
)
SPEC_BY_MODEL = {spec.model: spec for spec in SPECS}
# A history recorded "yes" does not expire (as `_history_of_mi` reads it for the first-event
# models); a "no" does after `RISK_FACTOR_WINDOW`, and is asked again, as one may have become
# a "yes" since. A 2024 "yes" to both had left GRACE 6-month "not computed: History of heart
# failure missing (last recorded 2024-05-01, over 12 months before)" beside Framingham's "a
# previous heart attack is recorded" (a risk-score audit).
LASTING_HISTORY = ("history_of_mi", "history_of_heart_failure")
# A first-event model's answer once a heart attack is on record (in any entry, however old: a
# history does not expire; and whatever its date, `_history_of_mi`). A post-MI patient had
# read a 10-year risk "of a first cardiovascular event" of 48.4 %, the patient told "About 48
# of 100 people ..." (a risk audit).
PRIOR_MI_REASON = (
    "not computed: the model is for people without known cardiovascular disease, and a "
    "previous heart attack is recorded"
)

# ... and during an acute coronary syndrome: admission values within the GRACE window showing
# one. A patient signed with ST depression and "NSTEMI", raised enzymes on admission, read
# "About 14 of 100 people ... in the next 10 years" once the GRACE scores were not computed
# (an audit of the patient summaries).
ACS_SIGNS = {
    "elevated_cardiac_enzymes": "raised cardiac enzymes",
    "st_deviation": "ST-segment deviation",
    "st_depression": "ST-segment depression",
}


@dataclass(frozen=True)
class ScoreOutcome:
    """A computed result, or the reason there is none."""

    spec: ModelSpec
    result: risk.RiskResult | None
    not_computed_reason: str | None
    sources: dict[str, Measured] = field(default_factory=dict)
    latest_input_id: int | None = None
    error_field: str | None = None  # the keyword a refused input came from


def measured_values(session: Session, patient_id: int, as_of: dt.datetime) -> dict[str, Measured]:
    """The latest non-empty value of every clinical-input column recorded up to `as_of`, the
    latest systolic pressure of an entry holding no admission value (`OFFICE_SBP`), and the
    heart rate, pressure and creatinine of the latest entry holding admission values, as
    corrected at the same time (`AT_PRESENTATION`, `_at_presentation`; `compute_scores` falls
    back to the latest of each)."""
    rows = list(
        session.scalars(
            select(ClinicalInput)
            .where(ClinicalInput.patient_id == patient_id, ClinicalInput.recorded_at <= as_of)
            .order_by(ClinicalInput.recorded_at.desc(), ClinicalInput.id.desc())
        )
    )
    latest: dict[str, Measured] = {}
    for row in rows:
        for column in LABELS:
            value = getattr(row, column)
            if value is not None and column not in latest:
                latest[column] = Measured(_plain(value), row.recorded_at, row.id)
        if _office_entry(row) and row.systolic_bp_mmhg is not None and OFFICE_SBP not in latest:
            latest[OFFICE_SBP] = Measured(_plain(row.systolic_bp_mmhg), row.recorded_at, row.id)
        if _admission_entry(row) and not any(k in latest for k in AT_PRESENTATION.values()):
            latest |= _at_presentation(row, rows)
        if len(latest) == len(MISSING_LABELS):
            break
    _depression_is_a_deviation(latest)
    history = _history_of_mi(session, patient_id)
    if history is not None and history.recorded_at > as_of:
        latest["history_of_mi"] = history
    return latest


def _at_presentation(admission: ClinicalInput, rows: list[ClinicalInput]) -> dict[str, Measured]:
    """The heart rate, pressure and creatinine of `admission` (`AT_PRESENTATION`), each the
    latest of the entries measured at the same time (`rows`, latest first): a correction is an
    entry dated when the value was measured, and one holding no admission value had been
    ignored, a GRACE score kept at 160 points from a typed 110 bpm and 188 mmHg corrected to
    40 and 78 (184 points; a risk-score audit)."""
    found: dict[str, Measured] = {}
    for row in rows:
        if row.recorded_at != admission.recorded_at:
            continue
        for column, key in AT_PRESENTATION.items():
            if key not in found and (value := getattr(row, column)) is not None:
                found[key] = Measured(_plain(value), row.recorded_at, row.id)
    return found


def _depression_is_a_deviation(latest: dict[str, Measured]) -> None:
    """ST depression is an ST-segment deviation (`clinical_inputs.ST_DEPRESSION_IS_A_DEVIATION`)
    across entries too: a "yes" to depression is GRACE in-hospital's "yes" to deviation unless
    an entry after it (measured later, or at the same time and entered later) says "no" to
    deviation. A correction entry of ST depression alone had left the in-hospital score at
    139 points, "ST-segment deviation no", beside a 6-month score counting the depression
    (a risk-score audit)."""
    depression, deviation = latest.get("st_depression"), latest.get("st_deviation")
    if depression is None or depression.value is not True:
        return
    if deviation is None or (deviation.value is False and _order(deviation) <= _order(depression)):
        latest["st_deviation"] = depression


def _order(found: Measured) -> tuple[dt.datetime, int]:
    """Which of two entries' values is the later: as `measured_values` orders the entries."""
    return found.recorded_at, found.clinical_input_id or 0


def measured_after(session: Session, patient_id: int, after: dt.datetime) -> dict[str, Measured]:
    """The first value of every input (as `measured_values` keys them) recorded after
    `after`: what a score of an ECG of that time could not use, though the patient has it."""
    rows = session.scalars(
        select(ClinicalInput)
        .where(ClinicalInput.patient_id == patient_id, ClinicalInput.recorded_at > after)
        .order_by(ClinicalInput.recorded_at, ClinicalInput.id)
    )
    first: dict[str, Measured] = {}
    for row in rows:
        keyed = {column: getattr(row, column) for column in LABELS}
        if _office_entry(row):
            keyed[OFFICE_SBP] = row.systolic_bp_mmhg
        if _admission_entry(row):
            keyed |= {key: getattr(row, column) for column, key in AT_PRESENTATION.items()}
        for key, value in keyed.items():
            if value is not None and key not in first:
                first[key] = Measured(_plain(value), row.recorded_at, row.id)
    for column, key in AT_PRESENTATION.items():  # as `compute_scores` falls back to the latest
        if key not in first and column in first:
            first[key] = first[column]
    return first


def _office_entry(row: ClinicalInput) -> bool:
    """An entry holding no admission value: its pressure is an office one (`OFFICE_SBP`). A
    Killip class (1-4) or a "yes" makes it an admission's; a "no" alone does not."""
    return not any(getattr(row, column) for column in ADMISSION_ONLY)


def _history_of_mi(session: Session, patient_id: int) -> Measured | None:
    """The latest answer to "a previous heart attack?", whatever its date: a history is
    entered when it is learned, often after the ECG ("MI 2019, told today"), and read only up
    to the ECG's date it had left a post-MI patient's signed report, amended twice since, at
    "About 29 of 100 people ..." (an audit of the patient summaries)."""
    row = session.scalars(
        select(ClinicalInput)
        .where(ClinicalInput.patient_id == patient_id, ClinicalInput.history_of_mi.is_not(None))
        .order_by(ClinicalInput.recorded_at.desc(), ClinicalInput.id.desc())
        .limit(1)
    ).first()
    return None if row is None else Measured(row.history_of_mi, row.recorded_at, row.id)


def _admission_entry(row: ClinicalInput) -> bool:
    """An entry holding any value taken at presentation, yes or no (Killip class, arrest, ST
    deviation, enzymes: `PRESENTATION_VALUES`): the admission's, whose rate, pressure and
    creatinine are GRACE's. Not one holding only PCI or ST depression, recorded later too."""
    return any(getattr(row, column) is not None for column in PRESENTATION_VALUES)


def _measured_at_admission(entry: ClinicalInput) -> bool:
    """An admission entry, or one measured at the same time as one: its correction, whose
    rate, pressure and creatinine are GRACE's (`_at_presentation`)."""
    return _admission_entry(entry) or any(
        _admission_entry(other) and other.recorded_at == entry.recorded_at
        for other in entry.patient.clinical_inputs
    )


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def compute_scores(
    patient: Patient,
    measured: dict[str, Measured],
    *,
    as_of: dt.datetime,
    ecg_heart_rate_bpm: float | None = None,
    age_on: dt.date | None = None,
    later: Mapping[str, Measured] | None = None,
    every_model: bool = False,
) -> list[ScoreOutcome]:
    """Every model's outcome for `patient` at `as_of` from recent enough measured values.

    `ecg_heart_rate_bpm` stands in when no recent entry has a heart rate. `age_on`: the date
    the age is counted on (the hospital's today on the risk page, which shows the age; by
    default `as_of`'s UTC date: the page said "Age 65" above a GRACE score of age 66 near
    midnight in Anchorage, an audit). `later`: each input's first value recorded after
    `as_of` (`measured_after`), named beside a missing input (`_missing_text`). A value
    measured before the patient's date of birth is missing (`_before_birth_text`).
    `every_model`: the first-event models read their inputs after a heart attack and during
    an acute coronary syndrome too (the what-if's prefill, `scores.forms.prefill`).
    """
    born = patient.date_of_birth
    values = {k: m for k, m in measured.items() if not before_birth_here(m.recorded_at, born)}
    unborn = {k: m for k, m in measured.items() if k not in values}  # `_before_birth_text`
    for column, key in AT_PRESENTATION.items():  # no admission entry holds it: the latest
        if key not in values and column in values:
            values[key] = values[column]
        if key not in unborn and column in unborn:
            unborn[key] = unborn[column]
    at_presentation = AT_PRESENTATION["heart_rate_bpm"]
    if ecg_heart_rate_bpm is not None and not _fresh(
        values.get(at_presentation), as_of, ADMISSION_WINDOW
    ):
        values[at_presentation] = Measured(round(ecg_heart_rate_bpm), as_of, None)
    latest_id = max(
        (m.clinical_input_id for m in measured.values() if m.clinical_input_id), default=None
    )
    prior_mi = (found := values.get("history_of_mi")) is not None and found.value is True
    acs_reason = _acute_coronary_syndrome(values, as_of)
    outcomes = []
    for spec in SPECS:
        if spec.first_event and (prior_mi or acs_reason) and not every_model:
            reason = PRIOR_MI_REASON if prior_mi else acs_reason
            outcomes.append(ScoreOutcome(spec, None, reason, {}, latest_id))
            continue
        kwargs: dict[str, Any] = {"age_years": patient.age_years(age_on or as_of.date())}
        if spec.uses_sex:
            kwargs["sex"] = Sex(patient.sex).value
        sources: dict[str, Measured] = {}
        missing = []
        for keyword, (column, window) in spec.fields.items():
            found = values.get(column)
            if _fresh(found, as_of, window) or (found is not None and _lasts(column, found.value)):
                assert found is not None
                kwargs[keyword] = found.value
                sources[keyword] = found
            elif found is None and column in unborn:
                missing.append(_before_birth_text(column, unborn[column], born))
            else:
                missing.append(_missing_text(column, found, window, (later or {}).get(column)))
        outcome = _run(spec, kwargs, missing, sources, latest_id)
        outcomes.append(_without_acs_noted(outcome) if acs_reason is None else outcome)
    return outcomes


# GRACE is computed from admission values whether or not they show an acute coronary
# syndrome (unstable angina raises no enzyme and may change no ST segment: whether there is
# one is the clinician's call), but said beside it when none is recorded: a woman with HR 80,
# Killip 1 and every sign "no" read GRACE 108/97 points, and her summary "the months ahead"
# instead of her 10-year figure (a risk-score audit, 2026-12-07).
NO_ACS_RECORDED = (
    "No acute coronary syndrome recorded (no raised cardiac enzymes, ST-segment deviation or "
    "depression in the admission values): GRACE is for patients with one, and the patient's "
    "summary gives the 10-year figure."
)


def _without_acs_noted(outcome: ScoreOutcome) -> ScoreOutcome:
    """A computed GRACE outcome with `NO_ACS_RECORDED` among its notes (the risk page's)."""
    result = outcome.result
    if result is None or not points_banded(outcome.spec.model):
        return outcome
    noted = dataclasses.replace(result, notes=[*result.notes, NO_ACS_RECORDED])
    return dataclasses.replace(outcome, result=noted)


def _acute_coronary_syndrome(values: dict[str, Measured], as_of: dt.datetime) -> str | None:
    """Why a first-event model does not apply during an acute coronary syndrome (admission
    values within `ADMISSION_WINDOW` showing one), or None."""
    signs = [
        words
        for column, words in ACS_SIGNS.items()
        if (found := values.get(column)) is not None
        and found.value is True
        and _fresh(found, as_of, ADMISSION_WINDOW)
    ]
    return _acs_reason(signs)


def _acs_reason(signs: list[str]) -> str | None:
    """The first-event models' answer when `signs` of an acute coronary syndrome are shown."""
    if not signs:
        return None
    return (
        "not computed: the model is for people without known cardiovascular disease, and "
        f"{IN_ACS} ({', '.join(signs)})"
    )


# The what-if calculator's keyword for each sign of `ACS_SIGNS` (GRACE's keywords).
ACS_SIGN_KEYWORDS = {
    column: keyword
    for spec in SPECS
    for keyword, (column, _) in spec.fields.items()
    if column in ACS_SIGNS
}


# The what-if calculator's keyword for GRACE's pressure (at presentation), beside `sbp_mmhg`,
# the office pressure of the first-event models: one field for both had prefilled an
# admission's 160 mmHg where Framingham uses the office 120, and Calculate with nothing changed
# showed "+10.7 percentage points" (an input audit).
ADMISSION_SBP = "admission_sbp_mmhg"


def reads_admission_pressure(spec: ModelSpec) -> bool:
    """Whether the model's `sbp_mmhg` is the pressure at presentation (GRACE's)."""
    return spec.fields.get("sbp_mmhg", ("", None))[0] == AT_PRESENTATION["systolic_bp_mmhg"]


def _what_if_keywords(spec: ModelSpec, chosen: dict[str, Any]) -> dict[str, Any]:
    """`chosen` as the model reads it: GRACE's `sbp_mmhg` is the admission pressure."""
    if not reads_admission_pressure(spec):
        return chosen
    values = {k: v for k, v in chosen.items() if k not in ("sbp_mmhg", ADMISSION_SBP)}
    if chosen.get(ADMISSION_SBP) is not None:
        values["sbp_mmhg"] = chosen[ADMISSION_SBP]
    return values


def what_if(patient: Patient, chosen: dict[str, Any]) -> list[ScoreOutcome]:
    """Every model's outcome from `chosen` keyword values alone (the what-if calculator).

    Nothing is looked up or stored; a keyword a model needs but `chosen` lacks is missing.
    GRACE takes its pressure from `ADMISSION_SBP`, the others from `sbp_mmhg`. The first-event
    models refuse as the current scores do, after a heart attack and during an acute coronary
    syndrome (`_acute_coronary_syndrome`): ST deviation prefilled beside a cholesterol added
    had read "Framingham ... 13.5 % intermediate" where the scores now said not computed.
    """
    acs_reason = _acs_reason(
        [
            words
            for column, words in ACS_SIGNS.items()
            if chosen.get(ACS_SIGN_KEYWORDS[column]) is True
        ]
    )
    outcomes = []
    for spec in SPECS:
        if spec.first_event and (chosen.get("history_of_mi") is True or acs_reason):
            reason = PRIOR_MI_REASON if chosen.get("history_of_mi") is True else acs_reason
            outcomes.append(ScoreOutcome(spec, None, reason, {}, None))
            continue
        accepted = inspect.signature(spec.function).parameters
        kwargs = {k: v for k, v in _what_if_keywords(spec, chosen).items() if k in accepted}
        if spec.uses_sex:
            kwargs["sex"] = Sex(patient.sex).value
        missing = [
            f"{MISSING_LABELS[column]} missing"
            for keyword, (column, _) in spec.fields.items()
            if keyword not in kwargs
        ]
        if "age_years" not in kwargs:
            missing.insert(0, "Age missing")
        outcomes.append(_run(spec, kwargs, missing, {}, None))
    return outcomes


def _run(
    spec: ModelSpec,
    kwargs: dict[str, Any],
    missing: list[str],
    sources: dict[str, Measured],
    latest_id: int | None,
) -> ScoreOutcome:
    if missing:
        reason = "not computed: " + "; ".join(missing)
        return ScoreOutcome(spec, None, reason, sources, latest_id)
    try:
        result = spec.function(**kwargs)
    except risk.RiskInputError as problem:
        return ScoreOutcome(
            spec, None, f"not computed: {problem}", sources, latest_id, problem.field
        )
    return ScoreOutcome(spec, result, None, sources, latest_id)


def _lasts(column: str, value: Any) -> bool:
    """Whether a value is used however old: a history recorded "yes" (`LASTING_HISTORY`)."""
    return column in LASTING_HISTORY and value is True


def _fresh(found: Measured | None, as_of: dt.datetime, window: dt.timedelta) -> bool:
    return found is not None and as_of - found.recorded_at <= window


def _missing_text(
    column: str, found: Measured | None, window: dt.timedelta, later: Measured | None = None
) -> str:
    """Why an input is missing, in place among the others; with `later` (its first value
    recorded after the ECG), that it exists but came after: an ECG whose file is dated 2000
    read "Smoking status missing" beside a patient page listing it, entered that day (a
    working-day audit)."""
    label = MISSING_LABELS[column]
    after = (
        f"measured after this ECG, {hospital_day(later.recorded_at)}, not used for it"
        if later
        else ""
    )
    if found is None:
        return f"{label} missing ({after})" if after else f"{label} missing"
    months = "12 months" if window >= RISK_FACTOR_WINDOW else f"{window.days} days"
    again = f"; {after.replace('measured', 'measured again', 1)}" if after else ""
    last = hospital_day(found.recorded_at)
    return f"{label} missing (last recorded {last}, over {months} before{again})"


def _before_birth_text(column: str, found: Measured, born: dt.date) -> str:
    """An input measured before the patient's date of birth is not theirs at that age (the
    date of birth or the entry is wrong): missing, and why. A date of birth changed to
    2010-01-01 had left the risk page scoring "Age 16" beside "last recorded 2001-05-05"
    (a bad-input audit, 2026-12-07)."""
    last = hospital_day(found.recorded_at)
    return (
        f"{MISSING_LABELS[column]} missing (last recorded {last}, measured before the date "
        f"of birth {born:%Y-%m-%d})"
    )


def report_outcomes(
    session: Session,
    report: EcgReport,
    *,
    ecg_heart_rate_bpm: float | None,
    signed_codes: frozenset[str] = frozenset(),
) -> list[ScoreOutcome]:
    """Every model's outcome for `report`, from the inputs recorded up to its date and the
    heart rate of its ECG (`report_heart_rate_bpm`); a GRACE score whose ST input the signed
    statements (`signed_codes`) contradict is not computed (`_contradicted_by_the_ecg`).
    The age is the patient's on the ECG's date in the hospital's zone, as the report's header
    prints it (`documents.age_at`): UTC's date had put "age 64 years" under a header of
    "age 65" for an ECG taken at 09:00 in Auckland on the 65th birthday (a time-zone audit).
    Reads only: call it before changing anything the same flush would write."""
    measured = measured_values(session, report.patient_id, report.report_date)
    outcomes = compute_scores(
        report.patient, measured, as_of=report.report_date,
        age_on=hospital_date(report.report_date), ecg_heart_rate_bpm=ecg_heart_rate_bpm,
        later=measured_after(session, report.patient_id, report.report_date),
    )  # fmt: skip
    return [_contradicted_by_the_ecg(o, signed_codes) for o in outcomes]


REASON_CHARS = 255  # `risk_score.not_computed_reason`


def _fitted(reason: str) -> str:
    """The reason within the column, cut after a whole item ("; ...") rather than mid-word."""
    if len(reason) <= REASON_CHARS:
        return reason
    cut = reason.rfind("; ", 0, REASON_CHARS - 5)
    return reason[: cut if cut > 0 else REASON_CHARS - 5] + "; ..."


# GRACE's ST input, and the signed statements that contradict a "no" there.
ST_INPUTS = {
    RiskModel.GRACE_IN_HOSPITAL: ("st_deviation", {"ST_ELEVATION", "ST_DEPRESSION"}),
    RiskModel.GRACE_SIX_MONTH: ("st_depression", {"ST_DEPRESSION"}),
}


def _contradicted_by_the_ecg(outcome: ScoreOutcome, signed_codes: frozenset[str]) -> ScoreOutcome:
    """Not computed when the admission values say no ST change and the doctor signs one on
    this ECG: GRACE's ST input is the presenting ECG's, and a signed STEMI had stood beside a
    GRACE score computed with "no ST deviation", 2.0 % where counting it gives 4.6 % (a risk
    audit). Which is right, the entry or this ECG, is the clinician's call: the reason says so."""
    st_input = ST_INPUTS.get(outcome.spec.model)
    if outcome.result is None or st_input is None:
        return outcome
    keyword, contradicting = st_input
    signed = sorted(contradicting & signed_codes)
    if not signed or outcome.result.inputs_used.get(keyword) is not False:
        return outcome
    change = " and ".join(vocabulary.STATEMENTS[c].label for c in signed)
    reason = (
        f"not computed: the signed ECG shows {change}, and the admission values say no "
        f"{LABELS[keyword]}: correct the admission values, or amend the report"
    )
    return ScoreOutcome(outcome.spec, None, reason, outcome.sources, outcome.latest_input_id)


def report_heart_rate_bpm(report: EcgReport, heart_rate_bpm: float | None) -> float | None:
    """The ECG's heart rate as a GRACE input: none from a reference-library record, which is
    not this patient's ECG (MIT-BIH 100's 76 bpm had been scored as a patient's admission
    rate), and none where the signed read says the rate is not measurable (None)."""
    return None if report.recording.reference_record else heart_rate_bpm


def store_report_scores(report: EcgReport, outcomes: list[ScoreOutcome]) -> list[RiskScore]:
    """The report's score rows set to `outcomes`, one per model: added, or recomputed in
    place (created_at then says when; caller commits). Signing and amending recompute, so the
    signed scores read the signed heart rate and every input dated up to the ECG, a late
    correction included (a cholesterol typo of 380 corrected to 180 had left 48.4 % on the
    signed report, and the patient, where the inputs give 23.5 %; an audit)."""
    existing = {row.model: row for row in report.risk_scores}
    rows = []
    for outcome in outcomes:
        row = existing.get(outcome.spec.model)
        if row is None:  # created_at now, not at the flush: stale_reason reads it before
            rows.append(
                RiskScore(
                    report=report,
                    model=outcome.spec.model,
                    created_at=utcnow(),
                    **score_values(outcome),
                )  # fmt: skip
            )
            continue
        for column, value in score_values(outcome).items():
            setattr(row, column, value)
        row.created_at = utcnow()
        rows.append(row)
    return rows


def signed_figures(scores: list[RiskScore]) -> dict[str, dict[str, Any]]:
    """The scores as a signature computed them, by model (`ReportVersion.risk_figures`): they
    are recomputed in place at the next signature, and FHIR serves each signature's own
    figure and withdraws one a later signature could not compute (an interoperability
    audit, 2026-12-07); a GRACE score with its points."""
    return {
        score.model.value: {
            "value": score.value,
            "unit": score.unit,
            "points": score_points(score),
            "category": score.category,
            "not_computed_reason": score.not_computed_reason,
        }
        for score in scores
    }


REFUSED_AGE = re.compile(r"\bAge (\d+) years is outside the range")
REFUSED_SEX = re.compile(r"\bSex '([^']*)': the model has equations for male and female only")


def _refused_for(reason: str) -> dict[str, Any]:
    """The age and sex a score was not computed for, as its reason names them (a refused
    score stores no inputs): a date of birth corrected from 2001 to 1961 had left "not
    computed: Age 25 years is outside the range ..." beside a patient of 65, with no word
    of the correction (a working-day audit)."""
    named: dict[str, Any] = {}
    if age := REFUSED_AGE.search(reason):
        named["age_years"] = int(age.group(1))
    if sex := REFUSED_SEX.search(reason):
        named["sex"] = sex.group(1)
    return named


def stale_reason(score: RiskScore, patient: Patient, as_of: dt.datetime) -> str | None:
    """Why a stored score no longer fits the patient (computed at `as_of` before an entry
    dated up to `as_of` was added that would change it, `_would_change`, or for an age or
    sex their details since corrected), in words; None when it fits. A date of birth
    corrected from 1958 to 1988 had left "23.5 % (high), female, age 68" beside a header of
    "age 38, male", and the worklist flagging the report (a records audit). Not recomputed:
    the risk page computes today's."""
    staleness = _staleness(score, patient, as_of)
    return staleness[0] if staleness else None


def stale_since(
    score: RiskScore, patient: Patient, as_of: dt.datetime
) -> tuple[str, dt.datetime] | None:
    """Why and since when a stored score stopped fitting the patient (`stale_reason`): the
    first entry that made it say so was added (`_first_of_the_day`), or their details were
    corrected so (`_corrected_at`); None when it fits. FHIR serves the stale score as a
    version of its own (`observation.stale_meta`), whose time must never move."""
    staleness = _staleness(score, patient, as_of)
    if staleness is None:
        return None
    reason, since = staleness
    return reason, since or _corrected_at(score, patient, as_of, reason)


def _corrected_at(
    score: RiskScore, patient: Patient, as_of: dt.datetime, reason: str
) -> dt.datetime:
    """When the patient's details were corrected so that the score reads `reason`: the
    earliest of their edits since it was computed after which it has read so, from the
    audit's values before each edit (`patients.update_patient`). Their record's last edit,
    `updated_at`, had moved with a later phone number under the same FHIR version (a review,
    2026-12-07); that remains the answer only for a record edited without an audit."""
    session = object_session(patient)
    if session is None:
        return patient.updated_at
    edits = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "patient.update", AuditEvent.patient_id == patient.id,
               AuditEvent.occurred_at > score.created_at)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )  # fmt: skip
    born, sex, since = patient.date_of_birth, Sex(patient.sex), patient.updated_at
    for edit in edits:
        was = (edit.details or {}).get("was", {})
        born = dt.date.fromisoformat(was["date_of_birth"]) if "date_of_birth" in was else born
        sex = Sex(was["sex"]) if "sex" in was else sex
        before = Patient(date_of_birth=born, sex=sex)  # not added: its details, no entries
        if _staleness(score, before, as_of) != (reason, None):
            return edit.occurred_at
        since = edit.occurred_at
    return since


def _staleness(
    score: RiskScore, patient: Patient, as_of: dt.datetime
) -> tuple[str, dt.datetime | None] | None:
    """`stale_reason` and the time its entry was added, None for a correction of the patient's
    details (their `updated_at`, read by `stale_since` alone: the worklist loads no such
    column, and reading it here had cost a query per row, 35 statements for 25 rows)."""
    added = [e for e in patient.clinical_inputs if e.created_at > score.created_at]
    if history := [e.created_at for e in added if _tells_of_a_heart_attack(score, e)]:
        return (
            f"a previous heart attack was recorded on {hospital_day(max(history))} after the score "
            "was computed (this model is for people without one): signing or amending the "
            "report recomputes it"
        ), _first_of_the_day(history)
    late = [
        entry.created_at
        for entry in added
        if entry.recorded_at <= as_of and _would_change(score, entry, as_of)
    ]
    if late:
        return (
            f"an entry measured on or before this ECG was added on {hospital_day(max(late))} "
            "after the score was computed: signing or amending the report recomputes it; see "
            "the risk page for today's score"
        ), _first_of_the_day(late)
    used = score.inputs_used or _refused_for(score.not_computed_reason or "")
    then_age = used.get("age_years")
    then_sex = used.get("sex")
    ages = {  # the hospital's date (`report_outcomes`), and UTC's for scores stored before it
        patient.age_years(hospital_date(as_of)),
        patient.age_years(as_of.date()),
        patient.age_years(as_of.date() - dt.timedelta(days=1)),
    }
    changed = []
    if then_age is not None and int(then_age) not in ages:
        changed.append(f"age {int(then_age)}")
    if then_sex is not None and then_sex != Sex(patient.sex).value:
        changed.append(f"sex {then_sex}")
    if not changed:
        return None
    computed = "computed" if score.inputs_used else "not computed"
    return (
        f"{computed} for {' and '.join(changed)}; the patient's details have been corrected "
        "since: see the risk page for today's score"
    ), None


def _first_of_the_day(added: list[dt.datetime]) -> dt.datetime:
    """The earliest of the entries added on the day the newest was (the day the reason names):
    a second entry that day says the same, and had moved the time of FHIR's stale version
    under the same versionId, 16:06:05 read 16:06:12 (a review, 2026-12-07)."""
    day = hospital_day(max(added))
    return min(when for when in added if hospital_day(when) == day)


def _tells_of_a_heart_attack(score: RiskScore, entry: ClinicalInput) -> bool:
    """`entry` records a previous heart attack, which a computed first-event `score` did not
    know of (whatever the entry's date: `_history_of_mi`)."""
    spec = SPEC_BY_MODEL.get(score.model)
    return (
        spec is not None
        and spec.first_event
        and score.value is not None
        and bool(entry.history_of_mi)
    )


def _would_change(score: RiskScore, entry: ClinicalInput, as_of: dt.datetime) -> bool:
    """Whether `entry`, added after `score` was computed, would change it: a value of an
    input the model reads, fresh enough at `as_of` and at least as recent as the one used
    (for a score not computed, an input its reason names), or a heart attack for a
    first-event model. Any back-dated entry had marked every score stale, a BMI of 2024
    beside a 2026 GRACE score, and lifted the report off the worklist's high-risk flag (an
    audit)."""
    spec = SPEC_BY_MODEL.get(score.model)
    if spec is None:
        return False
    if spec.first_event and entry.history_of_mi:
        return True
    acs = any(getattr(entry, column) is True for column in ACS_SIGNS)
    if spec.first_event and acs and as_of - entry.recorded_at <= ADMISSION_WINDOW:
        return score.value is not None  # now in an acute coronary syndrome

    sources = (score.inputs_used or {}).get("sources", {})
    for keyword, (column, window) in spec.fields.items():
        if column == OFFICE_SBP:
            value = entry.systolic_bp_mmhg if _office_entry(entry) else None
        elif column in AT_PRESENTATION.values():  # an admission entry's (a ward round's not)
            plain = column.removesuffix("_at_presentation")
            replaces = _measured_at_admission(entry) or not _from_an_admission(
                sources.get(keyword), entry.patient
            )
            value = getattr(entry, plain) if replaces else None
        elif column == "st_deviation":  # depression is a deviation (`_depression_is_a_deviation`)
            value = True if entry.st_depression is True else entry.st_deviation
        else:
            value = getattr(entry, column)
        if value is None or (as_of - entry.recorded_at > window and not _lasts(column, value)):
            continue
        if score.value is None:  # not computed: only an input its reason names changes that
            if MISSING_LABELS[column] in (score.not_computed_reason or ""):
                return True  # missing, or contradicted by the signed ECG
            continue
        used = sources.get(keyword)
        if used is None or used.get("from") == "ECG":
            return True
        if entry.recorded_at >= dt.datetime.fromisoformat(used["recorded_at"]):
            return True
    return False


def _from_an_admission(used: dict[str, Any] | None, patient: Patient) -> bool:
    """Whether a stored score's rate, pressure or creatinine came from an admission entry (or
    its correction). If not, `compute_scores` fell back to the latest of any entry, which any
    later entry replaces: a creatinine of 2.5 entered apart had left a GRACE score of 173
    points from 1.0 unmarked, where a recompute gives 187 (a risk-score audit)."""
    if used is None or used.get("clinical_input_id") is None:
        return False
    return any(
        entry.id == used["clinical_input_id"] and _measured_at_admission(entry)
        for entry in patient.clinical_inputs
    )


def score_values(outcome: ScoreOutcome) -> dict[str, Any]:
    """The stored form of an outcome, a score row's columns: the value with the exact inputs
    used and their sources."""
    sources = {
        keyword: {
            "recorded_at": m.recorded_at.isoformat(timespec="minutes"),
            "clinical_input_id": m.clinical_input_id,
            "from": "ECG" if m.clinical_input_id is None else "clinical input",
        }
        for keyword, m in outcome.sources.items()
    }
    result = outcome.result
    return dict(
        clinical_input_id=outcome.latest_input_id,
        # The figure as shown, on which the band is judged (`as_shown`): stored at four
        # decimals, 9.950004 % was 9.95 (binary 9.9499...), "9.9 % intermediate" on the report,
        # REST and FHIR beside the risk page's "10.0 %" (a risk-score audit, 2026-12-07).
        value=None if result is None else as_shown(result.risk_percent),
        unit=None if result is None else "%",
        category=None if result is None else result.category,
        level=None if result is None else result.level,
        not_computed_reason=_fitted(outcome.not_computed_reason or "") or None,
        inputs_used=None if result is None else {**result.inputs_used, "sources": sources},
        contributions=None
        if result is None
        else {k: round(v, 5) for k, v in result.contributions.items()},
        raised_most_by=None if result is None or not result.effects else raised_most_by(result),
    )


def raised_most_by(result: risk.RiskResult) -> list[dict[str, Any]]:
    """The factors that raise `result` most, largest first, as the risk page ranks them (the
    risk with that factor alone at a healthy level): what the review page names. Unrounded,
    so each page rounds once: stored at two decimals, ATP III's 1.0486 read "+1.1" there (1.05)
    and "+1.0" on the risk page (a risk audit)."""
    return [
        {
            "factor": e.factor,
            "label": e.label,
            "change_percent_points": e.change_percent_points,
        }
        for e in result.largest_effects(n=len(result.effects))
    ]
