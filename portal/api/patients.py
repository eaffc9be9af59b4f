"""/api/v1/patients: search (MRN, name, birth date; paged), read, register, update.

The role rules are the web's (`services.patients.visible_patients`: staff all patients, a
doctor their own, anyone else none; another's patient is a 404), and registering and
updating go through the same service as the web forms, so validation, MRNs and the audit
trail are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import marshmallow as ma
from flask import request
from sqlalchemy import func, select

from portal.access import roles, scopes
from portal.api.core import (
    NO_NUL_PATTERN,
    PREFIX,
    Blueprint,
    JsonBoolean,
    PageArgs,
    PageMetaSchema,
    Text,
    UtcDateTime,
    actor,
    audited,
    location_header,
    one_of,
    row_id,
)
from portal.db import db_session
from portal.forms import PHONE
from portal.local_time import hospital_today
from portal.models import Patient, Role, Sex
from portal.services import patients
from portal.services.errors import DomainError

bp = Blueprint(
    "patients", __name__, tag="Patients",
    description="Search, read, register and update patients (the web's role rules apply).",
)  # fmt: skip
CLINICAL = (Role.STAFF, Role.DOCTOR)
SEXES = [s.value for s in Sex]


class PatientSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    mrn = ma.fields.String(required=True, metadata={"description": "medical record number"})
    full_name = ma.fields.String(required=True)
    date_of_birth = ma.fields.Date(required=True)
    sex = one_of(Sex, required=True)
    address = ma.fields.String(required=True, allow_none=True)
    email = ma.fields.String(required=True, allow_none=True)
    phone = ma.fields.String(required=True, allow_none=True)
    emergency_contact_name = ma.fields.String(required=True, allow_none=True)
    emergency_contact_phone = ma.fields.String(required=True, allow_none=True)
    assigned_doctor_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "a doctor profile id"}
    )
    is_active = ma.fields.Boolean(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class PatientUpdatedSchema(PatientSchema):
    warnings = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "what the update leaves to check, saved nonetheless: a new date of "
            "birth after some of the patient's clinical inputs or ECGs says how many and from "
            "when (`services.patients.dated_before_birth`); empty otherwise"
        },
    )


@dataclass
class UpdatedPatient:
    """A patient as updated, with what the update warns of (`PatientUpdatedSchema`)."""

    patient: Patient
    warnings: list[str]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.patient, name)


class PatientPageSchema(PageMetaSchema):
    items = ma.fields.List(ma.fields.Nested(PatientSchema), required=True)


class PatientSearchArgs(PageArgs):
    mrn = Text(
        validate=ma.validate.Length(max=16),
        metadata={"description": "exact MRN", "pattern": NO_NUL_PATTERN},
    )
    name = Text(
        validate=ma.validate.Length(max=120),
        metadata={"description": "part of the name (no NUL character)", "pattern": NO_NUL_PATTERN},
    )
    birth_date = ma.fields.Date(metadata={"description": "exact date of birth"})
    include_inactive = ma.fields.Boolean(load_default=False)


def _phone(**kwargs: Any) -> Text:
    return Text(
        allow_none=True,
        validate=ma.validate.Regexp(PHONE.regex, error=PHONE.message),
        **kwargs,
    )


# Invisible formatting characters the portal refuses in a name (`validation.text_problem`),
# besides \p{C}'s controls: written out, for tools that know \p{C} as the controls only.
_FORMAT_CHARACTERS = r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u08e2\u180e\u200b\u200e\u200f" + (
    r"\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
# A name as the API takes it, in the document: one line with at least one letter and no
# control or invisible character (it had said any text, "0" included, which the API refuses
# with "A name needs letters."; an integration audit's schemathesis run). The Hangul fillers
# are no letter to a reader (`validation.BLANK_LETTERS`).
_LETTER = r"[^\P{L}\u115f\u1160\u3164\uffa0]"
NAME_PATTERN = rf"^[^\p{{C}}{_FORMAT_CHARACTERS}]*{_LETTER}[^\p{{C}}{_FORMAT_CHARACTERS}]*$"


def _full_name(**kwargs: Any) -> Text:
    return Text(
        validate=ma.validate.Length(min=1, max=120),
        metadata={
            "description": "at least one letter; no control or invisible formatting character",
            "pattern": NAME_PATTERN,
        },
        **kwargs,
    )


class PatientUpdateSchema(ma.Schema):
    """What the web's patient form holds; every field optional (only those given change)."""

    full_name = _full_name()
    date_of_birth = ma.fields.Date()
    sex = ma.fields.String(validate=ma.validate.OneOf(SEXES))
    address = Text(allow_none=True, validate=ma.validate.Length(max=255))
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=254))
    phone = _phone()
    emergency_contact_name = Text(allow_none=True, validate=ma.validate.Length(max=120))
    emergency_contact_phone = _phone()
    assigned_doctor_id = row_id(
        strict=True,
        allow_none=True,
        metadata={"description": "an active doctor's profile id, or null"},
    )
    different_person = JsonBoolean(
        load_default=False,
        load_only=True,
        metadata={
            "description": "true keeps a new name or date of birth that another patient has "
            "(409 otherwise, naming that patient: a typo corrected is how duplicates arise)"
        },
    )

    @ma.validates_schema(pass_original=True)
    def _something_to_change(self, _data: Any, original: Any, **_kwargs: Any) -> None:
        """An empty PATCH (no body, or `{}`) had answered 200 with nothing changed, which a
        client reads as its change saved (an interoperability audit, 2026-12-07); so had one
        of flags alone (`{"different_person": true}`, an access/write-path audit)."""
        flags = {name for name, field in self.fields.items() if field.load_only}
        if not original or (isinstance(original, dict) and set(original) <= flags):
            raise ma.ValidationError(NOTHING_TO_CHANGE)


NOTHING_TO_CHANGE = (
    "Nothing to change: send a JSON object with the fields to change, e.g. "
    '{"phone": "+44 20 7946 0000"}.'
)


class PatientCreateSchema(PatientUpdateSchema):
    full_name = _full_name(required=True)
    date_of_birth = ma.fields.Date(required=True)
    sex = ma.fields.String(required=True, validate=ma.validate.OneOf(SEXES))
    different_person = JsonBoolean(
        load_default=False,
        load_only=True,
        metadata={
            "description": "true registers a patient whose name and date of birth another "
            "patient has (409 otherwise, naming that patient)"
        },
    )


def _details(values: dict[str, Any]) -> patients.PatientDetails:
    optional: dict[str, Any] = {f.name: values.get(f.name) for f in fields(patients.PatientDetails)}
    return patients.PatientDetails(**optional | {"sex": Sex(values["sex"])})


@bp.route("/patients", methods=["GET"])
@roles(*CLINICAL)
@scopes("patients:read")
@bp.arguments(PatientSearchArgs, location="query")
@bp.response(200, PatientPageSchema)
def search(args: dict[str, Any]) -> dict[str, Any]:
    """Search patients.

    By MRN, part of the name and date of birth (all given must match), alphabetical, a page
    at a time. Inactive patients only with include_inactive=true."""
    query = patients.visible_patients(actor())
    name = " ".join((args.get("name") or "").split())
    if name:
        query = query.where(patients.name_contains(name))
    mrn = (args.get("mrn") or "").strip().upper()
    if mrn:
        query = query.where(Patient.mrn == mrn)
    if args.get("birth_date") is not None:
        query = query.where(Patient.date_of_birth == args["birth_date"])
    if not args["include_inactive"]:
        query = query.where(Patient.is_active.is_(True))
    sql = db_session()
    total = sql.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, per_page = args["page"], args["per_page"]
    items = list(
        sql.scalars(
            query.order_by(Patient.name_folded, Patient.full_name, Patient.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    filters = {"mrn": mrn, "name": name[:100], "birth_date": str(args.get("birth_date") or "")}
    searched = any(filters.values())
    audited(
        "patient.search" if searched else "patient.list",
        details={"filters": filters, "page": page, "patient_ids": [p.id for p in items]},
    )
    # One row per patient listed, so a search by MRN and their own access page find it: the
    # list's row named them in its details only (an access audit).
    for patient in items:
        audited("patient.search.patient" if searched else "patient.list.patient",
                patient_id=patient.id, object_type="patient", object_id=patient.id)  # fmt: skip
    sql.commit()
    found = patients.Page(items, page, per_page, total)
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "pages": found.pages}  # fmt: skip


@bp.route("/patients", methods=["POST"])
@roles(Role.STAFF)
@scopes("patients:write")
@bp.arguments(PatientCreateSchema)
@bp.response(201, PatientSchema, headers=location_header("the new patient"))
def create(values: dict[str, Any]) -> tuple[Patient, int, dict[str, str]]:
    """Register a patient.

    As the web's "Register patient" form: the same checks and messages; a new MRN is given,
    and `Location` names the patient's URL.
    A name and date of birth a patient has already is a 409 naming that patient (a retry
    after a time-out had registered the patient twice), unless different_person is true.
    """
    sql = db_session()
    try:  # any other InvalidInput: 422 with its field
        patient = patients.register_patient(
            sql, _details(values), actor=actor(), today=hospital_today(),
            same_name_checked=values["different_person"],
        )  # fmt: skip
    except patients.RegisteredAlready as duplicate:
        sql.rollback()
        raise SamePatientConflict(duplicate.twin) from None
    sql.commit()
    return patient, 201, {"Location": f"{PREFIX}/patients/{patient.id}"}


class SamePatientConflict(DomainError):
    """409: a patient with this name and date of birth is registered already."""

    status = 409

    def __init__(self, twin: Patient, editing: bool = False) -> None:
        then = (
            'is this one a duplicate? Or send "different_person": true to keep the change.'
            if editing
            else 'use that patient, or send "different_person": true to register another.'
        )
        super().__init__(
            f"Patient {twin.id} ({twin.full_name}, born {twin.date_of_birth:%Y-%m-%d}, MRN "
            f"{twin.mrn}{'' if twin.is_active else ', deactivated'}) has this name and date of "
            f"birth: {then}"
        )


@bp.route("/patients/<id:patient_id>", methods=["GET"])
@roles(*CLINICAL)
@scopes("patients:read")
@bp.response(200, PatientSchema)
def read(patient_id: int) -> Patient:
    """Read a patient.

    404 when there is none, or when it is not this account's to see."""
    patient = patients.get_visible_patient(db_session(), actor(), patient_id)
    audited("patient.view", patient_id=patient.id, object_type="patient", object_id=patient.id)
    db_session().commit()
    return patient


class IfMatchNotChecked(DomainError):
    """400: an update's If-Match, which cannot be checked (patients are not versioned)."""

    default_message = (
        "If-Match, If-Unmodified-Since and If-None-Match cannot be checked: patients are not "
        "versioned here (no ETag). Read the patient again just before the update and send it "
        "without them."
    )


def _refuse_if_match() -> None:
    """If-Match had been ignored: a bogus value answered 200 with the change applied, and a
    client that meant "only if unchanged since I read it" overwrote another's update. Refused
    as FHIR's Patient update refuses it (`fhir.patient._refuse_if_match`; an
    interoperability audit, 2026-12-07). If-Unmodified-Since likewise (a review), and
    If-None-Match (`*` had answered 200 and applied the change to the patient that exists)."""
    if PRECONDITIONS & set(request.headers.keys()):
        raise IfMatchNotChecked()


PRECONDITIONS = {"If-Match", "If-Unmodified-Since", "If-None-Match"}  # as keys are spelt


@bp.route("/patients/<id:patient_id>", methods=["PATCH"])
@roles(Role.STAFF)
@scopes("patients:write")
@bp.arguments(PatientUpdateSchema)
@bp.response(200, PatientUpdatedSchema)
def update(changes: dict[str, Any], patient_id: int) -> UpdatedPatient:
    """Update a patient.

    As the web's edit form, the fields sent change and the others stay; a body with no field
    is a 422. Patients have no version here, so If-Match (or If-Unmodified-Since, or
    If-None-Match) cannot be checked: it is a 400 (read the patient again just before the
    update instead). A new date of birth after some of the patient's clinical inputs or ECGs
    is saved, and `warnings` says so, as the web's edit form does."""
    _refuse_if_match()
    sql = db_session()
    patient = patients.get_visible_patient(sql, actor(), patient_id)
    current = {f.name: getattr(patient, f.name) for f in fields(patients.PatientDetails)}
    try:  # audited by the service when something changed
        changed = patients.update_patient(
            sql, patient, _details(current | changes), actor=actor(), today=hospital_today(),
            same_name_checked=changes["different_person"],
        )  # fmt: skip
    except patients.RegisteredAlready as duplicate:
        sql.rollback()  # a PATCH made another patient's twin (the web's edit page refused it)
        raise SamePatientConflict(duplicate.twin, editing=True) from None
    sql.commit()
    before = patients.dated_before_birth(sql, patient) if "date_of_birth" in changed else None
    return UpdatedPatient(patient, [before] if before else [])
