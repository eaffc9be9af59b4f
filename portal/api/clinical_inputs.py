"""/api/v1/patients/<id>/clinical-inputs: the risk-factor entries of a patient (newest first)
and a new entry, through the web form's service (`services.clinical_inputs`): the same
units, plausible ranges and messages; values are stored in canonical units."""

from __future__ import annotations

import math
from typing import Any

import marshmallow as ma

from portal import units
from portal.access import roles, scopes
from portal.api.core import (
    PREFIX,
    Blueprint,
    JsonBoolean,
    Text,
    UtcDateTime,
    actor,
    audited,
    location_header,
)
from portal.db import db_session
from portal.models import ClinicalInput, Role, utcnow
from portal.patients.forms import DOT_THOUSANDS, WHOLE_NUMBER_UNITS, thousands_or_decimal
from portal.services import clinical_inputs, patients
from portal.services.clinical_inputs import (
    BOOLEAN_FIELDS,
    LAB_FIELDS,
    PLAUSIBLE_RANGES,
    ClinicalInputForm,
    LabField,
)

bp = Blueprint(
    "clinical_inputs", __name__, tag="Clinical inputs",
    description="Risk-factor measurements of a patient, in the units they were taken.",
)  # fmt: skip
CLINICAL = (Role.STAFF, Role.DOCTOR)
MAX_LIST = 200


def _flag(**kwargs: Any) -> ma.fields.Boolean:
    return JsonBoolean(allow_none=True, **kwargs)


class _StoredValues(ma.Schema):
    """A stored entry, in canonical units (mg/dL); null is "not measured"."""

    id = ma.fields.Integer(required=True)
    patient_id = ma.fields.Integer(required=True)
    recorded_at = UtcDateTime(required=True)
    entered_by_id = ma.fields.Integer(required=True)
    total_cholesterol_mg_dl = ma.fields.Float(required=True, allow_none=True)
    hdl_mg_dl = ma.fields.Float(required=True, allow_none=True)
    creatinine_mg_dl = ma.fields.Float(required=True, allow_none=True)
    systolic_bp_mmhg = ma.fields.Integer(required=True, allow_none=True)
    heart_rate_bpm = ma.fields.Integer(required=True, allow_none=True)
    bmi_kg_m2 = ma.fields.Float(required=True, allow_none=True)
    killip_class = ma.fields.Integer(required=True, allow_none=True)
    other_issues = ma.fields.String(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)


ClinicalInputSchema = type(
    "ClinicalInputSchema",
    (_StoredValues,),
    {"__doc__": _StoredValues.__doc__} | {n: _flag(required=True) for n in BOOLEAN_FIELDS},
)


class ClinicalInputListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ClinicalInputSchema), required=True)


class ClinicalInputListArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, MAX_LIST))


def _measurement(description: str) -> ma.fields.Float:
    return ma.fields.Float(allow_none=True, metadata={"description": description})


def _plain_measurement(column: str, description: str) -> ma.fields.Float:
    """A unit-fixed measurement with the plausible range `canonical_values` refuses outside
    of, in the document (it had said no range; an interoperability audit)."""
    allowed = PLAUSIBLE_RANGES[column]
    return ma.fields.Float(
        allow_none=True,
        metadata={"description": description, "minimum": allowed.low, "maximum": allowed.high},
    )


def _edge_in_unit(lab: LabField, unit: str, *, low: bool) -> float:
    """The last value in `unit` that `_lab_value` accepts at this edge of its mg/dL range:
    the division's float, moved by the least step until it is exactly the edge."""
    allowed = PLAUSIBLE_RANGES[lab.column]

    def accepted(value: float) -> bool:
        return allowed.low <= lab.to_mg_dl(value, unit) <= allowed.high

    value = (allowed.low if low else allowed.high) / lab.to_mg_dl(1.0, unit)
    inward, outward = (math.inf, -math.inf) if low else (-math.inf, math.inf)
    while not accepted(value):
        value = math.nextafter(value, inward)
    while accepted(math.nextafter(value, outward)):
        value = math.nextafter(value, outward)
    return value


def lab_ranges() -> list[dict[str, Any]]:
    """The document's plausible ranges of the lab values, in the unit the entry names: for
    each unit field an `anyOf` of one branch per unit, its values' `minimum`/`maximum` there
    (no unit is the default, mg/dL), as `_lab_value` refuses outside of after conversion
    (the document had said no range; an interoperability audit). No `if`/`not`: schemathesis
    cannot generate from them."""
    rules = []
    unit_fields = {lab.unit_field: lab.allowed_units for lab in LAB_FIELDS.values()}
    for unit_field, allowed_units in unit_fields.items():
        branches = []
        for unit in allowed_units:
            ranges: dict[str, Any] = {
                field: {
                    "minimum": _edge_in_unit(lab, unit, low=True),
                    "maximum": _edge_in_unit(lab, unit, low=False),
                }
                for field, lab in LAB_FIELDS.items()
                if lab.unit_field == unit_field
            }
            branch: dict[str, Any] = {"properties": {unit_field: {"const": unit}, **ranges}}
            if unit != _EnteredValues._declared_fields[unit_field].load_default:
                branch["required"] = [unit_field]
            branches.append(branch)
        rules.append({"anyOf": branches})
    return rules


def _lab_description(field: str) -> str:
    lab = LAB_FIELDS[field]
    in_units = "; ".join(
        f"{_edge_in_unit(lab, unit, low=True):.4g}-{_edge_in_unit(lab, unit, low=False):.4g} {unit}"
        for unit in lab.allowed_units
    )
    return f"in {lab.unit_field}; plausible {in_units}"


class _EnteredValues(ma.Schema):
    """What the web's "Clinical input" form holds. Values in the unit named (the plausible
    ranges are checked after conversion, with the web form's messages)."""

    recorded_at = UtcDateTime(
        allow_none=True, metadata={"description": "when measured (ISO 8601; no zone = UTC)"}
    )
    total_cholesterol = _measurement(_lab_description("total_cholesterol"))
    hdl = _measurement(_lab_description("hdl"))
    cholesterol_unit = ma.fields.String(
        load_default="mg/dL", validate=ma.validate.OneOf(units.CHOLESTEROL_UNITS)
    )
    creatinine = _measurement(_lab_description("creatinine"))
    creatinine_unit = ma.fields.String(
        load_default="mg/dL", validate=ma.validate.OneOf(units.CREATININE_UNITS)
    )
    systolic_bp_mmhg = _plain_measurement("systolic_bp_mmhg", "mmHg, whole number")
    heart_rate_bpm = _plain_measurement("heart_rate_bpm", "beats per minute, whole number")
    bmi_kg_m2 = _plain_measurement("bmi_kg_m2", "kg/m2")
    # strict: 3.9 had been stored as Killip class 3 (an input audit)
    killip_class = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(
            PLAUSIBLE_RANGES["killip_class"].low, PLAUSIBLE_RANGES["killip_class"].high
        ),
    )
    other_issues = Text(allow_none=True, validate=ma.validate.Length(max=4000))

    @ma.validates_schema(pass_original=True)
    def _no_dot_thousands(self, data: dict[str, Any], original: Any, **_kwargs: Any) -> None:
        """Creatinine sent as the string "1.200" umol/L is asked about as on the web form
        (`patients.forms.NoDotThousands`): it had been read as 1.2."""
        typed = original.get("creatinine") if isinstance(original, dict) else None
        if (
            isinstance(typed, str)
            and data.get("creatinine_unit") in WHOLE_NUMBER_UNITS
            and DOT_THOUSANDS.fullmatch(typed.strip())
        ):
            message = thousands_or_decimal(typed.strip(), float(typed))
            raise ma.ValidationError(message, "creatinine")


ClinicalInputCreateSchema = type(
    "ClinicalInputCreateSchema",
    (_EnteredValues,),
    {"__doc__": _EnteredValues.__doc__}
    | {n: _flag(metadata={"description": "true, false or null (not recorded)"})
       for n in BOOLEAN_FIELDS},
)  # fmt: skip

NOT_ENTERED = ("recorded_at", "cholesterol_unit", "creatinine_unit", "other_issues")


def something_entered() -> list[dict[str, Any]]:
    """The document's rule that an entry holds something (`anyOf`): a measurement or answer
    not null, or a note with more than spaces, as `canonical_values` refuses "Nothing was
    entered" (every field null had been valid by the document and a 422; an interoperability
    audit's schemathesis run)."""
    given = [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
        for name in [*_EnteredValues._declared_fields, *BOOLEAN_FIELDS]
        if name not in NOT_ENTERED
    ]
    note = {"other_issues": {"type": "string", "pattern": r"\S"}}
    return [*given, {"required": ["other_issues"], "properties": note}]


@bp.route("/patients/<id:patient_id>/clinical-inputs", methods=["GET"])
@roles(*CLINICAL)
@scopes("patients:read")
@bp.arguments(ClinicalInputListArgs, location="query")
@bp.response(200, ClinicalInputListSchema)
def list_inputs(args: dict[str, Any], patient_id: int) -> dict[str, Any]:
    """List a patient's clinical inputs.

    Newest measurement first, in canonical units."""
    sql = db_session()
    patient = patients.get_visible_patient(sql, actor(), patient_id)
    items = clinical_inputs.latest_inputs(sql, patient.id, limit=args["limit"])
    audited(
        "clinical_input.list", patient_id=patient.id, object_type="patient",
        object_id=patient.id, details={"clinical_input_ids": [i.id for i in items]},
    )  # fmt: skip
    sql.commit()
    return {"items": items}


@bp.route("/patients/<id:patient_id>/clinical-inputs", methods=["POST"])
@roles(*CLINICAL)
@scopes("patients:write")
@bp.arguments(ClinicalInputCreateSchema)
@bp.response(
    201, ClinicalInputSchema,
    headers=location_header("the patient's clinical inputs, newest first (no URL serves one)"),
)  # fmt: skip
def create(values: dict[str, Any], patient_id: int) -> tuple[ClinicalInput, int, dict[str, str]]:
    """Record a clinical input.

    A new entry (nothing is edited in place); `Location` names the patient's clinical-input
    list, where it is (the API serves no URL of one entry). An implausible value is a 422
    naming the field, the value and the range, as on the web form."""
    sql = db_session()
    patient = patients.get_visible_patient(sql, actor(), patient_id)
    entry = ClinicalInputForm(
        total_cholesterol=values.get("total_cholesterol"),
        hdl=values.get("hdl"),
        cholesterol_unit=values["cholesterol_unit"],
        creatinine=values.get("creatinine"),
        creatinine_unit=values["creatinine_unit"],
        systolic_bp_mmhg=values.get("systolic_bp_mmhg"),
        heart_rate_bpm=values.get("heart_rate_bpm"),
        bmi_kg_m2=values.get("bmi_kg_m2"),
        killip_class=values.get("killip_class"),
        recorded_at=values.get("recorded_at"),
        other_issues=values.get("other_issues"),
        booleans={name: values.get(name) for name in BOOLEAN_FIELDS},
    )
    row = clinical_inputs.record_clinical_input(sql, patient, entry, actor=actor(), now=utcnow())
    sql.commit()
    return row, 201, {"Location": f"{PREFIX}/patients/{patient.id}/clinical-inputs"}
