"""Clinical inputs (risk factors): unit conversion, plausibility checks, storage.

Each entry is a new timestamped row; nothing is edited in place. Values arrive in the unit the
user chose and are stored in one canonical unit (mg/dL). A value outside the plausible range is
refused with a message naming the field, the value and the range, and a hint when the value
would be plausible in the other unit (the usual cause: mmol/L typed as mg/dL).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import units
from portal.local_time import UTC_ZONE, before_birth, hospital_zone, in_zone
from portal.models import Account, ClinicalInput, Patient
from portal.services import audit, patients
from portal.services.validation import InvalidInput, text_problem


@dataclass(frozen=True)
class PlausibleRange:
    label: str
    low: float
    high: float
    unit: str

    def describe(self) -> str:
        return f"{self.low:g}-{self.high:g} {self.unit}".strip()


# Ranges of values that can occur in a living adult; outside them the entry is a typo or a unit
# mix-up. (Not reference ranges: abnormal but real values must be accepted.)
PLAUSIBLE_RANGES: dict[str, PlausibleRange] = {
    "total_cholesterol_mg_dl": PlausibleRange("Total cholesterol", 50, 700, "mg/dL"),
    "hdl_mg_dl": PlausibleRange("HDL cholesterol", 5, 200, "mg/dL"),
    "systolic_bp_mmhg": PlausibleRange("Systolic blood pressure", 50, 300, "mmHg"),
    "heart_rate_bpm": PlausibleRange("Heart rate", 20, 300, "bpm"),
    "creatinine_mg_dl": PlausibleRange("Creatinine", 0.1, 25, "mg/dL"),
    "bmi_kg_m2": PlausibleRange("BMI", 10, 90, "kg/m2"),
    "killip_class": PlausibleRange("Killip class", 1, 4, ""),
}

# A measurement dated before this is a typo (0001-01-01 once made the risk page fail for good).
EARLIEST_MEASUREMENT = dt.datetime(1900, 1, 1)

ST_DEPRESSION_IS_A_DEVIATION = (
    'ST depression is an ST-segment deviation: answer "yes" here, or "no" to ST depression.'
)
BOOLEAN_FIELDS = (
    "smoker",
    "diabetic",
    "bp_treated",
    "cardiac_arrest_at_admission",
    "st_deviation",
    "st_depression",
    "elevated_cardiac_enzymes",
    "history_of_mi",
    "history_of_heart_failure",
    "in_hospital_pci",
)


@dataclass
class ClinicalInputForm:
    """What a user entered, in the units they chose. None means "not measured"."""

    total_cholesterol: float | None = None
    hdl: float | None = None
    cholesterol_unit: str = "mg/dL"
    creatinine: float | None = None
    creatinine_unit: str = "mg/dL"
    systolic_bp_mmhg: float | None = None
    heart_rate_bpm: float | None = None
    bmi_kg_m2: float | None = None
    killip_class: int | None = None
    recorded_at: dt.datetime | None = None
    other_issues: str | None = None
    booleans: dict[str, bool | None] | None = None


@dataclass(frozen=True)
class LabField:
    column: str
    unit_field: str
    to_mg_dl: Callable[[float, str], float]
    allowed_units: tuple[str, ...]
    places: str


LAB_FIELDS = {
    "total_cholesterol": LabField(
        "total_cholesterol_mg_dl",
        "cholesterol_unit",
        units.cholesterol_to_mg_dl,
        units.CHOLESTEROL_UNITS,
        "0.01",
    ),
    "hdl": LabField(
        "hdl_mg_dl", "cholesterol_unit", units.cholesterol_to_mg_dl, units.CHOLESTEROL_UNITS, "0.01"
    ),
    "creatinine": LabField(
        "creatinine_mg_dl",
        "creatinine_unit",
        units.creatinine_to_mg_dl,
        units.CREATININE_UNITS,
        "0.001",
    ),
}
# Unit-fixed fields: decimal places to keep, or None for whole numbers.
PLAIN_FIELDS: dict[str, str | None] = {
    "systolic_bp_mmhg": None,
    "heart_rate_bpm": None,
    "killip_class": None,
    "bmi_kg_m2": "0.1",
}


def _decimal(value: float, places: str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _lab_value(lab: LabField, raw: float, unit: str) -> Decimal:
    """The value in mg/dL, or ValueError with a message naming field, value and range."""
    if unit not in lab.allowed_units:
        raise ValueError(f"Choose a unit: {', '.join(lab.allowed_units)}.")
    allowed = PLAUSIBLE_RANGES[lab.column]
    mg_dl = lab.to_mg_dl(raw, unit)
    if allowed.low <= mg_dl <= allowed.high:
        return _decimal(mg_dl, lab.places)
    message = f"{allowed.label} {raw:g} {unit} is outside the plausible range {allowed.describe()}"
    if unit != allowed.unit and math.isfinite(mg_dl):  # 1e308 mmol/L had been "inf mg/dL"
        message += f" (it is {mg_dl:.3g} {allowed.unit})"
    message += "."
    for other_unit in lab.allowed_units:
        if other_unit != unit and allowed.low <= lab.to_mg_dl(raw, other_unit) <= allowed.high:
            message += f" Was it measured in {other_unit}?"
    raise ValueError(message)


def _plain_value(field: str, raw: float, places: str | None) -> Decimal | int:
    allowed = PLAUSIBLE_RANGES[field]
    if not allowed.low <= raw <= allowed.high:
        raise ValueError(
            f"{allowed.label} {raw:g} {allowed.unit} is outside the plausible range "
            f"{allowed.describe()}.".replace(" .", ".")
        )
    if places:
        return _decimal(raw, places)
    if float(raw) != int(raw):
        raise ValueError(f"{allowed.label} must be a whole number.")
    return int(raw)


def canonical_values(
    entry: ClinicalInputForm,
    *,
    now: dt.datetime,
    born_on: dt.date | None = None,
    zone: ZoneInfo = UTC_ZONE,
) -> dict[str, Any]:
    """Column values in canonical units, or InvalidInput naming every bad field: also a
    measurement dated before the patient was born (`born_on`), an entry holding nothing, and
    ST depression answered "yes" with ST-segment deviation "no" (depression is a deviation;
    GRACE reads the deviation). A clinician-eye audit saved all three. Dates are the hospital's
    (`zone`), as typed: UTC's had refused a measurement in Auckland on the day of birth."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for field, lab in LAB_FIELDS.items():
        raw = getattr(entry, field)
        try:
            values[lab.column] = (
                None if raw is None else _lab_value(lab, raw, getattr(entry, lab.unit_field))
            )
        except ValueError as problem:
            errors[field] = str(problem)
    for field, places in PLAIN_FIELDS.items():
        raw = getattr(entry, field)
        try:
            values[field] = None if raw is None else _plain_value(field, raw, places)
        except ValueError as problem:
            errors[field] = str(problem)

    total, hdl = values.get("total_cholesterol_mg_dl"), values.get("hdl_mg_dl")
    if total is not None and hdl is not None and hdl >= total:
        errors["hdl"] = "HDL cholesterol must be lower than total cholesterol."

    recorded_at = entry.recorded_at or now
    wall_clock = in_zone(recorded_at, zone).replace(tzinfo=None)  # as typed
    day = wall_clock.date().isoformat()  # `%Y` had said "1-01-01" for 0001-01-01
    if recorded_at > now + dt.timedelta(minutes=5):
        errors["recorded_at"] = "The measurement date cannot be in the future."
    elif wall_clock < EARLIEST_MEASUREMENT:
        errors["recorded_at"] = f"The measurement date {day} is before 1900: check the year."
    if (
        born_on is not None
        and "recorded_at" not in errors
        and before_birth(recorded_at, born_on, zone)
    ):
        errors["recorded_at"] = (
            f"The measurement date {day} is before the patient's birth "
            f"({born_on:%Y-%m-%d}): check the year."
        )
    values["recorded_at"] = recorded_at

    booleans = entry.booleans or {}
    unknown = set(booleans) - set(BOOLEAN_FIELDS)
    if unknown:
        raise ValueError(f"Unknown clinical flags: {sorted(unknown)}")
    values.update({name: booleans.get(name) for name in BOOLEAN_FIELDS})
    values["other_issues"] = (entry.other_issues or "").strip() or None
    if text_trouble := text_problem(values["other_issues"], lines=True):
        errors["other_issues"] = text_trouble
    if booleans.get("st_depression") is True and booleans.get("st_deviation") is False:
        errors["st_deviation"] = ST_DEPRESSION_IS_A_DEVIATION
    entered = [v for k, v in values.items() if k != "recorded_at" and v is not None]
    if not entered and not errors:
        errors["entry"] = (
            "Nothing was entered: fill in at least one measurement or answer. Nothing was saved."
        )

    if errors:
        raise InvalidInput(errors)
    return values


def record_clinical_input(
    session: Session,
    patient: Patient,
    entry: ClinicalInputForm,
    *,
    actor: Account,
    now: dt.datetime,
) -> ClinicalInput:
    """Validate and add a new clinical input row plus its audit event (caller commits)."""
    patients.require_still_active(session, patient, "entry", "clinical inputs")
    zone = hospital_zone() if has_app_context() else UTC_ZONE
    values = canonical_values(entry, now=now, born_on=patient.date_of_birth, zone=zone)
    row = ClinicalInput(
        patient=patient,
        entered_by_id=actor.id,
        responsible_doctor_id=patient.assigned_doctor_id,
        **values,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "clinical_input.create",
        actor=actor,
        patient_id=patient.id,
        object_type="clinical_input",
        object_id=row.id,
    )
    return row


def latest_inputs(session: Session, patient_id: int, *, limit: int = 20) -> list[ClinicalInput]:
    return list(
        session.scalars(
            select(ClinicalInput)
            .where(ClinicalInput.patient_id == patient_id)
            .order_by(ClinicalInput.recorded_at.desc(), ClinicalInput.id.desc())
            .limit(limit)
        )
    )
