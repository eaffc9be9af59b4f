"""FHIR Patient: read, search (identifier, name, birthdate, gender, active, _id), create,
update, and conditional update by identifier (`PUT /Patient?identifier=<system>|<MRN>`: an
upsert), so an EHR can register patients. Input is checked by the web form's own rules
(portal/patients/forms.py PatientForm, then services/patients.py), and a refusal names the
element (`Patient.birthDate: The date of birth cannot be in the future.`)."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from typing import Any
from urllib.parse import unquote

from flask import request
from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_date
from werkzeug.wrappers import Response

from portal.access import roles, scopes
from portal.converters import whole_number
from portal.db import db_session
from portal.fhir import codes
from portal.fhir.bundle import date_range, paging, searchset
from portal.fhir.http import (
    FhirError,
    actor,
    audit_read,
    base_url,
    bp,
    instant,
    json_body,
    resource_response,
    search_args,
)
from portal.forms import options
from portal.models import Account, DoctorProfile, Patient, Role, Sex
from portal.name_search import folded
from portal.patients.forms import PatientForm
from portal.services import accounts, audit, patients
from portal.services.validation import InvalidInput

READERS = (Role.STAFF, Role.DOCTOR, Role.PATIENT)
SEARCH_PARAMETERS = {"_id", "identifier", "name", "name:contains", "name:exact", "birthdate",
                     "gender", "active"}  # fmt: skip
# Where each field of the web form lives in a Patient resource (OperationOutcome.expression).
FIELD_PATHS = {
    "full_name": "Patient.name",
    "date_of_birth": "Patient.birthDate",
    "sex": "Patient.gender",
    "address": "Patient.address",
    "email": "Patient.telecom.where(system='email')",
    "phone": "Patient.telecom.where(system='phone')",
    "emergency_contact_name": "Patient.contact.name",
    "emergency_contact_phone": "Patient.contact.telecom",
    "assigned_doctor_id": "Patient.generalPractitioner",
    "mrn": "Patient.identifier",
}
MRN_PATTERN = re.compile(r"^CP\d{8}$")
PATIENT_BOOLEANS = ("active", "deceasedBoolean", "multipleBirthBoolean")  # JSON true or false
# The string elements `_form_data` and `_mrn_in` read (a JSON string each, `_strict_strings`).
PATIENT_STRINGS = (
    "name.use", "name.text", "name.given", "name.family", "birthDate", "gender",
    "telecom.system", "telecom.value", "address.text", "address.line", "address.city",
    "address.state", "address.postalCode", "address.country", "contact.relationship.coding.code",
    "contact.name.text", "contact.name.given", "contact.name.family", "contact.telecom.system",
    "contact.telecom.value", "generalPractitioner.identifier.system",
    "generalPractitioner.identifier.value", "identifier.system", "identifier.value",
)  # fmt: skip


# --------------------------------------------------------------------------- resource


def visible(account: Account) -> Select[tuple[Patient]]:
    """Staff: every patient; a doctor: their own; a patient: themselves (the web portal's
    rules, plus a patient's own Patient record for patient-facing apps)."""
    if account.role == Role.PATIENT:
        own = account.patient.id if account.patient is not None else None
        return select(Patient).where(Patient.id == own if own else false())
    return patients.visible_patients(account)


def reference(patient: Patient) -> dict[str, str]:
    return {"reference": f"Patient/{patient.id}", "display": patient.full_name}


def patient_resource(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "meta": {"lastUpdated": instant(patient.updated_at)},
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [codes.MRN_TYPE.as_fhir()], "text": "MRN"},
                "system": codes.MRN_SYSTEM,
                "value": patient.mrn,
            }
        ],
        "active": patient.is_active,
        "name": [{"use": "official", "text": patient.full_name}],
        "gender": Sex(patient.sex).value,
        "birthDate": patient.date_of_birth.isoformat(),
    }
    telecom = [{"system": "phone", "value": patient.phone}] if patient.phone else []
    telecom += [{"system": "email", "value": patient.email}] if patient.email else []
    if telecom:
        resource["telecom"] = telecom
    if patient.address:
        resource["address"] = [{"text": patient.address}]
    if patient.emergency_contact_name or patient.emergency_contact_phone:
        contact: dict[str, Any] = {
            "relationship": [{"coding": [codes.EMERGENCY_CONTACT.as_fhir()]}]
        }
        if patient.emergency_contact_name:
            contact["name"] = {"text": patient.emergency_contact_name}
        if patient.emergency_contact_phone:
            contact["telecom"] = [{"system": "phone", "value": patient.emergency_contact_phone}]
        resource["contact"] = [contact]
    doctor = patient.assigned_doctor
    if doctor is not None:
        resource["generalPractitioner"] = [
            {
                "identifier": {"system": codes.DOCTOR_SYSTEM, "value": str(doctor.id)},
                "display": doctor.full_name,
            }
        ]
    return resource


def not_found(what: str) -> FhirError:
    """404 for a record that does not exist or is not this account's (the two look the
    same), audited as a refused access like the web portal's."""
    audit.refused_access(db_session(), actor(), 404)
    return FhirError(404, f"{what} does not exist, or this token's account may not see it.",
                     "not-found")  # fmt: skip


# --------------------------------------------------------------------------- read, search


@bp.route("/Patient/<id:patient_id>", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def patient_read(patient_id: int) -> Response:
    patient = db_session().scalar(visible(actor()).where(Patient.id == patient_id))
    if patient is None:
        raise not_found(f"Patient/{patient_id}")
    audit_read("fhir.patient.read", patient_ids=[patient.id], object_type="patient",
               object_id=patient.id)  # fmt: skip
    return resource_response(patient_resource(patient))


def _identifier_values(name: str, text: str) -> list[str]:
    """MRNs named by `identifier` values (`system|value`, `value`; comma = or). A system
    other than the portal's MRN names no patient here."""
    values = []
    for item in text.split(","):
        system, bar, value = item.partition("|")
        if not bar:
            system, value = "", item
        elif system != codes.MRN_SYSTEM:
            continue  # another system (or "|value": no system): nobody here has it
        if value.strip():
            values.append(value.strip().upper())
    return values


def _names_any_mrn(text: str) -> bool:
    """Whether an `identifier` search names the MRN system with no value (`<system>|`): in
    FHIR, any identifier of that system, so every patient. It had matched none, and an EHR
    reads "0 matches" as "not registered" (an interoperability audit, 2026-12-07). Searches
    only: a conditional write still needs the MRN itself."""
    return any(item.strip() == f"{codes.MRN_SYSTEM}|" for item in text.split(","))


def _identifier_matches(text: str) -> ColumnElement[bool]:
    """The patients an `identifier` search value names (`_identifier_values`, or all of
    them for `<MRN system>|`)."""
    if _names_any_mrn(text):
        return true()
    return Patient.mrn.in_(_identifier_values("identifier", text))


def _string_alternatives(text: str) -> list[str]:
    r"""A string search value's alternatives (comma = or; `\,` a comma of the name), each
    with its spaces collapsed and in NFC: "Aisha,Maria" had been searched as one name and
    matched nobody, and a name sent decomposed ("Rene\u0301e") missed one stored composed
    (an interoperability audit, 2026-12-07)."""
    parts = re.split(r"(?<!\\),", text)
    return [" ".join(patients.composed(part.replace("\\,", ",")).split()) for part in parts]


def _name_starts_a_word(words: str) -> ColumnElement[bool]:
    """FHIR's default name search: a name part starts with it, any case or accent
    (`portal.name_search`: "Smith" finds "O'Brien-Smith")."""
    safe, escape = patients.like_literal(folded(words)), patients.LIKE_ESCAPE
    if not safe:
        return false()
    return or_(
        Patient.name_folded.like(f"{safe}%", escape=escape),
        Patient.name_folded.like(f"% {safe}%", escape=escape),
    )


def _name_is_exactly(words: str) -> ColumnElement[bool]:
    """`name:exact`: the name as stored, composed (NFC, as `services.patients` stores it) or
    fully decomposed (a name stored before names were composed)."""
    return Patient.full_name.in_({words, unicodedata.normalize("NFD", words)})


NAME_MATCHERS = {
    "name": _name_starts_a_word,
    "name:contains": patients.name_contains,
    "name:exact": _name_is_exactly,
}


def _apply_search(query: Select[tuple[Patient]], args: dict[str, list[str]]) -> Any:
    for name, values in args.items():
        for text in values:
            if name == "_id":
                ids = [n for v in text.split(",") if (n := whole_number(v)) is not None]
                query = query.where(Patient.id.in_(ids))
            elif name == "identifier":
                query = query.where(_identifier_matches(text))
            elif name in NAME_MATCHERS:
                matcher = NAME_MATCHERS[name]
                alternatives = [w for w in _string_alternatives(text) if w]
                query = query.where(or_(false(), *(matcher(w) for w in alternatives)))
            elif name == "birthdate":
                query = query.where(
                    date_range(name, text, zone_utc()).sql(Patient.date_of_birth, as_date=True)
                )
            elif name == "gender":
                genders = [g.strip() for g in text.split(",")]
                if not set(genders) <= {s.value for s in Sex}:
                    raise FhirError(400, "gender is one of female, male, other, unknown.",
                                    "invalid", name)  # fmt: skip
                query = query.where(Patient.sex.in_([Sex(g) for g in genders]))
            elif name == "active":
                if text not in ("true", "false"):
                    raise FhirError(400, "active is true or false.", "invalid", name)
                query = query.where(Patient.is_active.is_(text == "true"))
    return query


def _zone() -> Any:
    from flask import current_app

    return current_app.config["SETTINGS"].zone


def zone_utc() -> Any:
    from portal.local_time import UTC_ZONE

    return UTC_ZONE  # a birth date is a calendar date, not a moment


@bp.route("/Patient", methods=["GET"])
@roles(*READERS)
@scopes("fhir:read")
def patient_search() -> Response:
    args = search_args(SEARCH_PARAMETERS)
    where = paging()
    sql = db_session()
    query = _apply_search(visible(actor()), args)
    total = sql.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        sql.scalars(
            query.order_by(Patient.name_folded, Patient.full_name, Patient.id)
            .offset(where.offset)
            .limit(where.count)
        )
    )
    audit_read("fhir.patient.search", patient_ids=[p.id for p in rows],
               details={"total": total}, each_patient="fhir.patient.search.patient")  # fmt: skip
    return resource_response(searchset([patient_resource(p) for p in rows], total, where))


# --------------------------------------------------------------------------- writes


def _structure(body: dict[str, Any]) -> None:
    """FHIR R4 structure first (fhir.resources' R4B Patient model): a wrong type or an
    unknown element is a 400 naming it."""
    from fhir.resources.R4B.patient import Patient as FhirPatient
    from pydantic.v1 import ValidationError

    _strict_booleans(body)
    _strict_strings(body)
    try:
        FhirPatient.parse_obj(body)
    except ValidationError as problem:
        issues: list[tuple[str, str | None]] = [
            (
                f"Patient.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}",
                "Patient." + ".".join(str(p) for p in error["loc"] if not isinstance(p, int)),
            )
            for error in problem.errors()
        ]
        first, *rest = issues or [("The resource is not a valid Patient.", None)]
        raise FhirError(400, first[0], "structure", first[1], rest) from None


def _strict_booleans(body: dict[str, Any]) -> None:
    """A boolean element is JSON true or false: the model takes "false", 0 and null as
    booleans or absent, and `"active": "false"` had answered 200 with the patient left active
    (an interoperability audit; the REST API's `JsonBoolean` likewise)."""
    for element in PATIENT_BOOLEANS:
        if element in body and not isinstance(body[element], bool):
            raise FhirError(
                400, f"Patient.{element}: {json.dumps(body[element])[:40]} is not a boolean; send "
                "true or false (JSON has them unquoted, and FHIR JSON no null).", "structure",
                f"Patient.{element}",
            )  # fmt: skip


def _strict_strings(body: dict[str, Any]) -> None:
    """A string element the portal reads is a JSON string: the model turns a number into
    one, so `"value": 5551234` reached the form's checks and answered 500, and
    `"city": 5` was saved as "5" (an access/write-path audit). A null inside a repeating
    element (`"given": ["Anna", null]` beside `"_given": [null, {...}]`) is FHIR JSON's way to
    align the values with their extensions: skipped, not refused (a review)."""
    for element in PATIENT_STRINGS:
        for path, value in _values_at(body, element.split("."), "Patient"):
            if value is None and path.endswith("]"):
                continue  # a repeating primitive's null, aligned with its `_given`-style extension
            if not isinstance(value, str):
                raise FhirError(
                    400, f"{path}: {json.dumps(value)[:40]} is not a string; a FHIR string "
                    "element is a JSON string (in quotes).", "structure", path,
                )  # fmt: skip


def _values_at(node: Any, names: list[str], path: str) -> list[tuple[str, Any]]:
    """Each value at `names` under `node` with its path (`Patient.telecom[0].value`); what is
    not shaped as FHIR there is left to the model's check."""
    if isinstance(node, list):
        return [
            found
            for i, item in enumerate(node)
            for found in _values_at(item, names, f"{path}[{i}]")
        ]
    if not names:
        return [(path, node)]
    if not isinstance(node, dict) or names[0] not in node:
        return []
    return _values_at(node[names[0]], names[1:], f"{path}.{names[0]}")


def _nothing_that_would_be_lost(body: dict[str, Any]) -> None:
    """A 422 for what the portal cannot keep and must not silently drop: a death (a dead
    patient had been registered as alive and active, and would be recalled) and a link (a
    merge in the EHR, lost). An integrator's audit."""
    deceased = body.get("deceasedBoolean") is True or "deceasedDateTime" in body
    if deceased:
        raise FhirError(
            422, "Patient.deceased: this portal does not record a death. Send the patient with "
            "active: false (their record and reports are kept) and record the death in the "
            "EHR.", "not-supported", "Patient.deceased",
        )  # fmt: skip
    if body.get("link"):
        raise FhirError(
            422, "Patient.link: this portal does not merge or link patients: send each patient on "
            "its own, and ask the portal's staff to correct a duplicate record.", "not-supported",
            "Patient.link",
        )  # fmt: skip


def _first(items: Any, where: Any = None) -> dict[str, Any]:
    """The first object of a list element (nothing when the element is no list: the
    structure check then names it)."""
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and (where is None or where(item)):
            return item
    return {}


def _name_text(name: dict[str, Any]) -> str:
    if name.get("text"):
        return str(name["text"])
    given = [part for part in name.get("given") or [] if part is not None]
    return " ".join([*given, name.get("family") or ""]).strip()


def _form_data(body: dict[str, Any]) -> dict[str, str]:
    """The resource as the web form's fields."""
    name = _first(body.get("name"), lambda n: n.get("use") == "official") or _first(
        body.get("name")
    )
    telecom = body.get("telecom")
    address = _first(body.get("address"))
    contact = _first(
        body.get("contact"),
        lambda c: any(
            coding.get("code") == "C"
            for concept in c.get("relationship") or []
            for coding in concept.get("coding") or []
        ),
    ) or _first(body.get("contact"))
    doctor = _first(
        body.get("generalPractitioner"),
        lambda r: (r.get("identifier") or {}).get("system") == codes.DOCTOR_SYSTEM,
    )
    if body.get("generalPractitioner") and not doctor:
        raise FhirError(
            422, "Patient.generalPractitioner: name the assigned doctor by identifier "
            f"(system {codes.DOCTOR_SYSTEM}, value: the doctor's id).", "processing",
            "Patient.generalPractitioner",
        )  # fmt: skip
    address_text = address.get("text") or ", ".join(
        str(part)
        for part in [*(address.get("line") or []), address.get("city"), address.get("state"),
                     address.get("postalCode"), address.get("country")]
        if part
    )  # fmt: skip
    return {
        "full_name": _name_text(name),
        "date_of_birth": str(body.get("birthDate") or ""),
        "sex": str(body.get("gender") or "unknown"),
        "address": address_text,
        "email": _first(telecom, lambda t: t.get("system") == "email").get("value", ""),
        "phone": _first(telecom, lambda t: t.get("system") == "phone").get("value", ""),
        "emergency_contact_name": _name_text(contact.get("name") or {}),
        "emergency_contact_phone": _first(
            contact.get("telecom"), lambda t: t.get("system") == "phone"
        ).get("value", ""),
        "assigned_doctor_id": str((doctor.get("identifier") or {}).get("value") or ""),
    }


def _refused(errors: dict[str, str], form: PatientForm | None = None) -> FhirError:
    issues: list[tuple[str, str | None]] = []
    for field, message in errors.items():
        path = FIELD_PATHS.get(field, "Patient")
        label = getattr(getattr(form, field, None), "label", None)
        named = f" ({label.text})" if label is not None else ""
        issues.append((f"{path}{named}: {message}", path))
    (first, where), *rest = issues
    return FhirError(422, first, "processing", where, rest)


def _details(
    body: dict[str, Any], kept_doctor: DoctorProfile | None = None
) -> patients.PatientDetails:
    """The resource checked as the web form checks it (then the service checks again);
    `kept_doctor`, the patient's doctor now, may stay named though deactivated."""
    _structure(body)
    _nothing_that_would_be_lost(body)
    _full_birth_date(body)
    form = PatientForm(formdata=MultiDict(_form_data(body)), meta={"csrf": False})
    doctors = accounts.active_doctors(db_session())
    if kept_doctor is not None and kept_doctor not in doctors:
        doctors.append(kept_doctor)
    form.assigned_doctor_id.choices = options(
        ("", "Not assigned"), *((str(d.id), d.full_name) for d in doctors)
    )
    if not form.validate():
        errors = {name: " ".join(messages) for name, messages in form.errors.items()}
        if "assigned_doctor_id" in errors:
            errors["assigned_doctor_id"] = "Name an active doctor of this portal."
        if "sex" in errors:
            errors["sex"] = "gender is one of female, male, other, unknown."
        raise _refused(errors, form)
    return form.details()


# A year or a year and month: valid R4 dates, which had been refused as "Enter a real date as
# year-month-day" (a bad-input audit). Still refused: the risk scores need the age.
PARTIAL_DATE = re.compile(r"\d{4}(-\d{2})?")


def _full_birth_date(body: dict[str, Any]) -> None:
    """Refuse a partial birthDate saying so: the portal needs the full date of birth."""
    given = body.get("birthDate")
    if isinstance(given, str) and (partial := PARTIAL_DATE.fullmatch(given)):
        gives = "the year and month only" if partial[1] else "the year only"
        raise _refused({"date_of_birth": (
            f"the portal needs the full date of birth (year-month-day); '{given}' gives {gives}."
        )})  # fmt: skip


def _mrn_in(body: dict[str, Any]) -> str | None:
    found = _first(body.get("identifier"), lambda i: i.get("system") == codes.MRN_SYSTEM)
    value = found.get("value")
    return str(value).strip().upper() if value else None


def _check_mrn(mrn: str) -> str:
    body = mrn[2:9]
    if not MRN_PATTERN.match(mrn) or patients.luhn_check_digit(body) != mrn[-1]:
        raise FhirError(
            422, f"Patient.identifier: “{mrn[:20]}” is not a CardioPortal MRN (CP, 7 digits and "
            "a check digit). Leave the MRN out and the portal assigns one.", "processing",
            "Patient.identifier",
        )  # fmt: skip
    return mrn


def _today() -> Any:
    from portal.local_time import hospital_today

    return hospital_today()


def _create(body: dict[str, Any], mrn: str | None) -> Patient:
    """Register the patient of `body`, with `mrn` when given (an upsert's). Without an MRN, a
    patient with this name and birth date is a 409 naming them: an EHR retrying a create
    after a time-out had registered the patient twice, each with their own MRN."""
    sql = db_session()
    details = _details(body)
    if mrn is not None:
        _check_mrn(mrn)
        existing = sql.scalar(select(Patient.id).where(Patient.mrn == mrn))
        if existing is not None:
            raise FhirError(409, f"Patient/{existing} already has the MRN {mrn}; update it "
                            "with PUT.", "duplicate", "Patient.identifier")  # fmt: skip
    try:
        # Checked with an MRN too: an upsert naming a new MRN had registered a second record
        # of a patient staff had registered on the web (an integrator's audit).
        patient = patients.register_patient(
            sql, details, actor=actor(), today=_today(), same_name_checked=False, via=_client()
        )
    except patients.RegisteredAlready as duplicate:
        raise _twin_conflict(duplicate.twin) from None
    except InvalidInput as problem:
        raise _refused(problem.errors) from None
    if mrn is not None:
        patient.mrn = mrn
    if body.get("active") is False:  # registered inactive, as sent (it had come back active)
        patients.set_patient_active(sql, patient, False, actor=actor(), via=_client())
    audit.record(
        sql, "fhir.patient.create", actor=actor(), patient_id=patient.id,
        object_type="patient", object_id=patient.id, details=_client(),
    )  # fmt: skip
    _commit()
    return patient


def _update(patient: Patient, body: dict[str, Any]) -> Patient:
    sql = db_session()
    mrn = _mrn_in(body)
    if mrn is not None and mrn != patient.mrn:
        raise FhirError(422, f"Patient.identifier: the MRN of Patient/{patient.id} is "
                        f"{patient.mrn}; it cannot change.", "processing",
                        "Patient.identifier")  # fmt: skip
    details = _details(body, kept_doctor=patient.assigned_doctor)
    if "generalPractitioner" not in body:
        # An EHR does not know the portal's doctors: its demographics update keeps the patient
        # on their doctor's worklist (it had left them unassigned, their ECGs unreviewed).
        details.assigned_doctor_id = patient.assigned_doctor_id
    try:
        changed = patients.update_patient(
            sql, patient, details, actor=actor(), today=_today(), same_name_checked=False,
            via=_client(),
        )  # fmt: skip
    except patients.RegisteredAlready as duplicate:
        # An update making this record another patient's twin (the web's edit page refused
        # it; an integrator's audit made two "John Smith, 1969-11-02" so).
        raise _twin_conflict(duplicate.twin) from None
    except InvalidInput as problem:
        raise _refused(problem.errors) from None
    active = body.get("active")
    if isinstance(active, bool) and active != patient.is_active:
        patients.set_patient_active(sql, patient, active, actor=actor(), via=_client())
        changed.append("active")
    # The rows of the change name the client too: the patient's list shows them, this row once
    # nothing changed (`myhealth._said_just_before`).
    audit.record(
        sql, "fhir.patient.update", actor=actor(), patient_id=patient.id,
        object_type="patient", object_id=patient.id, details=_client() | {"fields": changed},
    )  # fmt: skip
    _commit()
    return patient


def _twin_conflict(twin: Patient) -> FhirError:
    return FhirError(
        409, f"Patient/{twin.id} (MRN {twin.mrn}) has this name and birth date: use it "
        f"(If-None-Exist: identifier={codes.MRN_SYSTEM}|{twin.mrn}), or register or rename "
        "a person of the same name and birth date through the REST API (different_person).",
        "duplicate", "Patient.name",
    )  # fmt: skip


def _commit() -> None:
    try:
        db_session().commit()
    except IntegrityError:  # two clients registering one MRN at the same moment
        db_session().rollback()
        raise FhirError(409, "Another request changed this patient at the same moment; "
                        "read it again.", "conflict") from None  # fmt: skip


def _client() -> dict[str, Any]:
    from flask import g

    token = g.get("api_token")
    return {"client": token.client_name, "token_id": token.id} if token is not None else {}


def _written(patient: Patient, status: int) -> Response:
    db_session().refresh(patient)
    location = f"{base_url()}/Patient/{patient.id}"
    return resource_response(patient_resource(patient), status, {"Location": location})


def _condition_mrns(criteria: str) -> list[str]:
    """The MRNs named by `identifier=...`, the only criterion of conditional writes."""
    name, _, value = criteria.partition("=")
    if name.strip() != "identifier" or not value.strip():
        raise FhirError(400, "Conditional writes take one criterion: identifier=<system>|<MRN> "
                        f"(system {codes.MRN_SYSTEM}).", "invalid")  # fmt: skip
    return _identifier_values("identifier", unquote(value.strip()))


def _matches(criteria: str) -> list[Patient]:
    """Patients named by a conditional write's criterion (`_condition_mrns`)."""
    mrns = _condition_mrns(criteria)
    if not mrns:
        return []
    return list(db_session().scalars(visible(actor()).where(Patient.mrn.in_(mrns))))


@bp.route("/Patient", methods=["POST"])
@roles(Role.STAFF)
@scopes("fhir:write")
def patient_create() -> Response:
    """Create; with `If-None-Exist: identifier=<system>|<MRN>`, only when no patient has it."""
    body = json_body("Patient")
    condition = request.headers.get("If-None-Exist", "").strip()
    mrn = _mrn_in(body)
    if condition:
        found = _matches(condition)
        if len(found) > 1:
            raise FhirError(412, "If-None-Exist matches several patients.", "multiple-matches")
        if not found:
            _check_condition_holds(condition, mrn)
            try:
                return _written(_create(body, mrn), 201)
            except FhirError as conflict:
                found = [_created_meanwhile(condition, conflict)]
        audit_read("fhir.patient.read", patient_ids=[found[0].id], object_type="patient",
                   object_id=found[0].id)  # fmt: skip
        return resource_response(patient_resource(found[0]), 200)
    return _written(_create(body, mrn), 201)


def _created_meanwhile(criteria: str, conflict: FhirError) -> Patient:
    """The one patient a conditional write's `criteria` match now that its create ended in
    `conflict` (a 409: a twin, or the MRN taken), read afresh; else `conflict`. The same
    create sent again while the first was still running (an EHR retrying after a time-out)
    had been told 409 to use the patient the first had just made (a write-paths audit)."""
    if conflict.status != 409:
        raise conflict
    db_session().rollback()  # a new snapshot: MariaDB's repeatable read had kept the old one
    found = _matches(criteria)
    if len(found) != 1:
        raise conflict
    return found[0]


def _check_condition_holds(condition: str, mrn: str | None) -> None:
    """The patient a conditional create registers must meet its condition, or a retry
    registers them again: the portal keeps no identifier but its MRN, and "identifier=<the
    EHR's system>|EHR-778899" had made a new patient on every try (an integrator's audit)."""
    if mrn is None or mrn not in _condition_mrns(condition):
        raise FhirError(
            400, "If-None-Exist: the portal keeps no identifier but its MRN, so the Patient "
            f"created must carry the MRN the condition names (identifier={codes.MRN_SYSTEM}|"
            "<MRN>); a retry would otherwise register the patient again.",
            "not-supported", "Patient.identifier",
        )  # fmt: skip


def _refuse_if_match() -> None:
    """Patient resources have no versions here (CapabilityStatement: no-version), so an
    update's If-Match cannot be checked: refused, where it had been ignored and one client's
    update silently overwrote another's (an integrator's audit); an If-None-Match naming a
    version likewise (`*` is checked: `_check_preconditions`)."""
    if "If-Match" in request.headers:
        raise FhirError(
            400, "If-Match cannot be checked: Patient resources are not versioned here. Read "
            "the Patient again just before the update and send it without If-Match.",
            "not-supported",
        )  # fmt: skip
    if request.headers.get("If-None-Match", "*").strip() != "*":
        raise FhirError(
            400, "If-None-Match names no version here (Patient resources are not versioned): "
            "only If-None-Match: * (update only if the patient does not exist) is checked.",
            "not-supported",
        )  # fmt: skip


def _check_preconditions(patient: Patient) -> None:
    """An update of an existing patient under If-None-Match: * or an If-Unmodified-Since
    before its meta.lastUpdated is a 412 (RFC 9110 13.1.2, 13.1.4): both had been ignored and
    the update applied, one client's update overwriting another's (an interoperability
    audit). To the second, as meta.lastUpdated and the HTTP date say it."""
    if "If-None-Match" in request.headers:
        raise FhirError(412, f"If-None-Match: * updates only a patient that does not exist, "
                        f"and Patient/{patient.id} does.", "conflict")  # fmt: skip
    sent = request.headers.get("If-Unmodified-Since")
    if sent is None:
        return
    since = parse_date(sent)
    if since is None:
        raise FhirError(400, f"If-Unmodified-Since: {sent!r} is not an HTTP date (e.g. "
                        "'Mon, 07 Dec 2026 09:12:00 GMT').", "invalid")  # fmt: skip
    last_updated = patient.updated_at.replace(microsecond=0, tzinfo=dt.UTC)
    if last_updated > since:
        raise FhirError(
            412, f"Patient/{patient.id} changed at {instant(patient.updated_at)} "
            f"(meta.lastUpdated), after If-Unmodified-Since {sent}: read it again and send "
            "the update on what it holds now.", "conflict",
        )  # fmt: skip


@bp.route("/Patient/<id:patient_id>", methods=["PUT"])
@roles(Role.STAFF)
@scopes("fhir:write")
def patient_update(patient_id: int) -> Response:
    _refuse_if_match()
    body = json_body("Patient")
    if str(body.get("id", "")) != str(patient_id):
        raise FhirError(400, f"The resource's id must be {patient_id}, as in the URL.",
                        "invalid", "Patient.id")  # fmt: skip
    patient = db_session().scalar(visible(actor()).where(Patient.id == patient_id))
    if patient is None:
        raise not_found(f"Patient/{patient_id}")
    patients.lock_for_update(db_session(), patient)  # an update at the same moment goes first
    _check_preconditions(patient)
    return _written(_update(patient, body), 200)


@bp.route("/Patient", methods=["PUT"])
@roles(Role.STAFF)
@scopes("fhir:write")
def patient_upsert() -> Response:
    """Conditional update `PUT /Patient?identifier=<system>|<MRN>`: update the patient with
    that MRN, or register one with it (an upsert)."""
    _refuse_if_match()
    extra = sorted(set(request.args) - {"identifier", "_format", "_pretty"})
    if extra or len(request.args.getlist("identifier")) != 1:
        raise FhirError(400, "Conditional update takes one criterion: identifier=<system>|<MRN> "
                        f"(system {codes.MRN_SYSTEM}).", "invalid")  # fmt: skip
    criterion = request.args["identifier"]
    body = json_body("Patient")
    found = _matches(f"identifier={criterion}")
    if len(found) > 1:
        raise FhirError(412, "The identifier matches several patients.", "multiple-matches")
    if found:
        return _update_found(found[0], body)
    mrns = _identifier_values("identifier", criterion)
    if len(mrns) != 1 or "|" not in criterion:
        raise FhirError(400, f"Name the MRN with its system: identifier={codes.MRN_SYSTEM}|CP...",
                        "invalid")  # fmt: skip
    in_body = _mrn_in(body)
    if in_body is not None and in_body != mrns[0]:
        raise FhirError(400, "The resource's MRN differs from the one in the URL.", "invalid",
                        "Patient.identifier")  # fmt: skip
    if body.get("id") is not None:
        raise FhirError(400, "A new patient gets its id from the server: leave id out.",
                        "invalid", "Patient.id")  # fmt: skip
    taken = db_session().scalar(select(Patient.id).where(Patient.mrn == mrns[0]))
    if taken is not None:  # exists, but this account may not see it (not for staff)
        raise not_found(f"Patient with MRN {mrns[0]}")
    try:
        return _written(_create(body, mrns[0]), 201)
    except FhirError as conflict:  # the same upsert at the same moment registered them
        return _update_found(_created_meanwhile(f"identifier={criterion}", conflict), body)


def _update_found(patient: Patient, body: dict[str, Any]) -> Response:
    """The conditional update of the patient its identifier names."""
    if body.get("id") not in (None, str(patient.id)):
        raise FhirError(400, f"The identifier names Patient/{patient.id}, not "
                        f"Patient/{body.get('id')}.", "invalid", "Patient.id")  # fmt: skip
    patients.lock_for_update(db_session(), patient)
    _check_preconditions(patient)
    return _written(_update(patient, body), 200)
