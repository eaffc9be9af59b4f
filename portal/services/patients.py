"""Patients: registration, search, who may see whom, portal logins. Clinical data is never
hard-deleted; a patient is deactivated instead."""

from __future__ import annotations

import datetime as dt
import math
import secrets
import unicodedata
from dataclasses import dataclass, fields
from typing import Any, Generic, NoReturn, TypeVar

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from portal.db import lock_row
from portal.local_time import before_birth_here, hospital_day
from portal.models import (
    REGISTRATION_LOCK_ID,
    Account,
    AuditEvent,
    ClinicalInput,
    DoctorProfile,
    EcgRecording,
    Patient,
    Role,
    Sex,
    utcnow,
)  # fmt: skip
from portal.name_search import folded, name_key, name_words
from portal.passwords import generate_temporary_password, hash_password
from portal.services import accounts, audit
from portal.services.errors import NotAllowed
from portal.services.validation import InvalidInput, text_problem

MAX_AGE_YEARS = 125
T = TypeVar("T")


def require_active(patient: Patient, field: str, adding: str) -> None:
    """Refuse new clinical data for a deactivated patient (a closed or duplicate record): the
    page hides the buttons, but a direct request had added an ECG to the doctor's worklist."""
    if not patient.is_active:
        _refuse_for_deactivated(patient, field, adding)


def require_still_active(session: Session, patient: Patient, field: str, adding: str) -> None:
    """`require_active` on the patient's row locked and read as committed, just before the
    new data is written: a deactivation in flight waits for it, or refuses it if it came
    first (on MariaDB, ECGs had landed on a record 17-57 ms after it was deactivated, their
    reports on the worklist; a concurrency audit)."""
    active = session.scalar(
        select(Patient.is_active).where(Patient.id == patient.id).with_for_update(read=True)
    )
    if not active:
        _refuse_for_deactivated(patient, field, adding)


def _refuse_for_deactivated(patient: Patient, field: str, adding: str) -> NoReturn:
    raise InvalidInput({field: deactivated_message(patient, adding) + " Nothing was saved."})


def deactivated_message(patient: Patient, adding: str) -> str:
    return f"{patient.full_name} is deactivated: reactivate the patient before adding {adding}."


@dataclass
class PatientDetails:
    full_name: str
    date_of_birth: dt.date
    sex: Sex
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    emergency_contact_name: str | None = None
    emergency_contact_phone: str | None = None
    assigned_doctor_id: int | None = None


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def luhn_check_digit(digits: str) -> str:
    """The Luhn digit that makes `digits + it` valid: catches one mistyped or swapped digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def generate_mrn(session: Session) -> str:
    """A new medical record number "CP" + 7 random digits + a Luhn digit, unused so far.

    Random rather than sequential, so MRNs do not reveal how many patients a clinic has.
    """
    while True:
        body = f"{secrets.randbelow(10**7):07d}"
        mrn = f"CP{body}{luhn_check_digit(body)}"
        if session.scalar(select(Patient.id).where(Patient.mrn == mrn)) is None:
            return mrn


def composed(name: str) -> str:
    """A name in Unicode's composed form (NFC), as stored and as FHIR's name:exact compares it:
    "Rene\u0301e Dubois" sent decomposed had been stored so, and an exact search for "Renée
    Dubois" missed it (an interoperability audit, 2026-12-07)."""
    return unicodedata.normalize("NFC", name)


def _validated(
    session: Session, details: PatientDetails, today: dt.date, kept_doctor_id: int | None = None
) -> PatientDetails:
    """`details` checked; `kept_doctor_id` (the patient's doctor now) may stay assigned though
    deactivated: saving a phone number had silently unassigned such a doctor's patients."""
    errors = {}
    details.full_name = " ".join(composed(details.full_name).split())
    if details.emergency_contact_name:
        details.emergency_contact_name = composed(details.emergency_contact_name)
    if not details.full_name:
        errors["full_name"] = "Enter the patient's name."
    for text_field, is_name in (
        ("full_name", True),
        ("address", False),
        ("emergency_contact_name", True),
    ):
        if problem := text_problem(getattr(details, text_field), name=is_name):
            errors.setdefault(text_field, problem)
    if details.date_of_birth > today:
        errors["date_of_birth"] = "The date of birth cannot be in the future."
    elif today.year - details.date_of_birth.year > MAX_AGE_YEARS:
        errors["date_of_birth"] = f"The date of birth gives an age over {MAX_AGE_YEARS} years."
    if details.assigned_doctor_id not in (None, kept_doctor_id):
        doctor = session.get(DoctorProfile, details.assigned_doctor_id)
        if doctor is None or not doctor.account.is_active:
            errors["assigned_doctor_id"] = "Choose an active doctor."
    if errors:
        raise InvalidInput(errors)
    for field in fields(details):  # empty optional text fields are "not given", not ""
        value = getattr(details, field.name)
        if isinstance(value, str):
            setattr(details, field.name, value.strip() or None)
    return details


class RegisteredAlready(InvalidInput):
    """A patient with this name and date of birth is registered already (`twin`); `editing`:
    a correction of another record would make it a second record of them."""

    def __init__(self, twin: Patient, *, editing: bool = False) -> None:
        self.twin = twin
        already = (
            f"{twin.full_name}, born {twin.date_of_birth:%Y-%m-%d}, is already registered "
            f"(MRN {twin.mrn}" + ("" if twin.is_active else ", deactivated: reactivate them")
        )
        if editing:
            said = (
                f"{already}): with this correction this record would be a second record of "
                "them. If this is another person with the same name and date of birth, tick "
                "the box and save again."
            )
        else:
            said = (
                f"{already}): open their record instead. If this is another person with the "
                "same name and date of birth, tick the box and register again."
            )
        super().__init__({"different_person": said})


def register_patient(
    session: Session,
    details: PatientDetails,
    *,
    actor: Account,
    today: dt.date,
    same_name_checked: bool = True,
    via: dict[str, Any] | None = None,
) -> Patient:
    """A new patient. `same_name_checked=False` refuses one whose name and date of birth a
    patient has (`RegisteredAlready`), until the user says it is another person: the web's
    registration page, and the REST API and FHIR unless their client says so (an EHR
    retrying after a time-out had registered the patient twice, each with an MRN). `via`:
    the API client it came through (`client`, `token_id`), kept on the audit row."""
    details = _validated(session, details, today)
    if not same_name_checked:
        # Registrations one after another, each checking what the one before committed: a
        # double click, or a client retrying after a time-out, sent two at once, and on
        # MariaDB both found no twin and both registered (a concurrency audit). One lock for
        # every account: two staff registering at the same moment had deadlocked on the
        # twin check's share locks, one told the database was down (a working-day audit).
        lock_row(session, "named_lock", REGISTRATION_LOCK_ID, "name")
        if twin := _registered_already(session, details, latest=True):
            raise RegisteredAlready(twin)
    patient = Patient(mrn=generate_mrn(session), created_by_id=actor.id, **vars(details))
    session.add(patient)
    session.flush()
    audit.record(
        session,
        "patient.create",
        actor=actor,
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
        details=via or None,
    )
    return patient


def _registered_already(
    session: Session,
    details: PatientDetails,
    *,
    other_than: int | None = None,
    latest: bool = False,
) -> Patient | None:
    """A patient (other than `other_than`) with this name (as searched, `portal.name_search`,
    its parts in any order) and date of birth, an active one first: a registration sent
    twice (Back, then Register again) made three "Double Click Patient"s with their own MRNs
    (an audit), and staff who did not find a patient by an accent, or a deactivated one
    (hidden from the list), register them again. `latest`: a locking read, which sees what
    was committed since this transaction's first read (MariaDB's repeatable read would not)."""
    key = name_key(details.full_name)
    query = (
        select(Patient)
        .where(Patient.date_of_birth == details.date_of_birth, Patient.id != (other_than or 0))
        .order_by(Patient.is_active.desc(), Patient.id)
    )
    born_that_day = session.scalars(query.with_for_update(read=True) if latest else query)
    return next((p for p in born_that_day if name_key(p.full_name) == key), None)


def update_patient(
    session: Session,
    patient: Patient,
    details: PatientDetails,
    *,
    actor: Account,
    today: dt.date,
    same_name_checked: bool = True,
    via: dict[str, Any] | None = None,
) -> list[str]:
    """Apply the changes; return the names of the fields that changed. The audit keeps each
    changed field's value before and after: it had kept only the names, so a date of birth
    corrected by mistake, or a next of kin's phone cleared by an EHR's update, could not be
    told nor restored (a records audit). `same_name_checked=False` (the web's edit page)
    refuses a new name or date of birth another patient has (`RegisteredAlready`): a typo
    corrected at registration is how duplicates arise (an audit). `via`: as
    `register_patient`'s."""
    details = _validated(session, details, today, kept_doctor_id=patient.assigned_doctor_id)
    changed = [name for name, value in vars(details).items() if getattr(patient, name) != value]
    identity_changed = "date_of_birth" in changed or _renamed(patient, details)
    if (
        identity_changed
        and not same_name_checked
        and (twin := _registered_already(session, details, other_than=patient.id))
    ):
        raise RegisteredAlready(twin, editing=True)
    was = {name: _audited_value(getattr(patient, name)) for name in changed}
    for name in changed:
        setattr(patient, name, getattr(details, name))
    if changed:
        patient.updated_by_id = actor.id
        audit.record(
            session,
            "patient.update",
            actor=actor,
            patient_id=patient.id,
            object_type="patient",
            object_id=patient.id,
            details={
                "fields": changed,
                "was": was,
                "now": {name: _audited_value(getattr(patient, name)) for name in changed},
            }
            | (via or {}),
        )
    return changed


def lock_for_update(session: Session, patient: Patient) -> None:
    """Hold the patient's row until this transaction ends and read it again as committed, so
    that a save's check of the version it was sent on sees a save that came just before: two
    saves at once had both checked before either wrote, and one change was lost with both
    told "Saved." (a write-paths audit, web and FHIR)."""
    lock_row(session, "patient", patient.id, "is_active")
    session.refresh(patient, with_for_update=True)  # a locking read: MariaDB's latest row


def dated_before_birth(session: Session, patient: Patient) -> str | None:
    """What the patient's clinical inputs and ECGs dated before their date of birth are, in a
    sentence to check them, or None. The change is saved nonetheless (an EHR's update cannot
    be refused for good, and which date is wrong is for a person to tell), but a date of
    birth moved to 2010 had left a 2001 blood pressure on the record unsaid (a bad-input
    audit, 2026-12-07). The web's edit form, the REST API's PATCH say it."""
    inputs = session.scalars(
        select(ClinicalInput.recorded_at)
        .where(ClinicalInput.patient_id == patient.id)
        .order_by(ClinicalInput.recorded_at)
    )
    ecgs = session.scalars(
        select(EcgRecording.acquired_at)
        .where(EcgRecording.patient_id == patient.id, EcgRecording.acquired_at.is_not(None))
        .order_by(EcgRecording.acquired_at)
    )
    born = patient.date_of_birth
    found = [
        _counted([t for t in times if before_birth_here(t, born)], what)
        for times, what in ((inputs, "clinical input"), (ecgs, "ECG"))
    ]
    said = [words for words in found if words]
    if not said:
        return None
    one = len(said) == 1 and said[0].startswith("1 ")
    return (
        f"{' and '.join(said)} {'is' if one else 'are'} dated before the new date of birth "
        f"{born:%Y-%m-%d}: the date of birth or those records are wrong; check them"
    )


def _counted(times: list[Any], what: str) -> str:
    """ "2 clinical inputs (from 2001-05-05)", "1 ECG (recorded 2009-03-01)", or "" for none."""
    if not times:
        return ""
    if len(times) == 1:
        return f"1 {what} (recorded {hospital_day(times[0])})"
    return f"{len(times)} {what}s (from {hospital_day(times[0])})"


def _renamed(patient: Patient, details: PatientDetails) -> bool:
    """Whether the name is another one, to check again for a twin. Case, accents and spacing
    are the same name: an EHR sending "CASEY TWIN" for a patient with a confirmed same-name
    twin could no longer update even a phone number (a review). Word order is not: "María
    José" and "José María" are two people, and comparing the order-free `name_key` had
    renamed a record into its twin's name unchecked (an identity audit, 2026-12-07)."""
    return name_words(details.full_name) != name_words(patient.full_name)


def _audited_value(value: object) -> str | int | None:
    """A patient field's value as the audit's JSON keeps it (dates ISO, enums by value)."""
    if value is None or isinstance(value, int | str):
        return value  # a StrEnum is a str
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def set_patient_active(
    session: Session,
    patient: Patient,
    active: bool,
    *,
    actor: Account,
    via: dict[str, Any] | None = None,
) -> None:
    """`via`: as `register_patient`'s."""
    patient.is_active = active
    patient.updated_by_id = actor.id
    if patient.account is not None and not active:
        accounts.end_access(session, patient.account, actor=actor)
    audit.record(
        session,
        "patient.reactivate" if active else "patient.deactivate",
        actor=actor,
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
        details=via or None,
    )


def mine_or_pooled(doctor_id: int) -> ColumnElement[bool]:
    """A doctor's patients, and the department's pool: patients assigned to no doctor. A VF
    recording of a patient registered with "Not assigned" had reached no doctor's worklist,
    and nothing said so (an on-call audit)."""
    return or_(Patient.assigned_doctor_id == doctor_id, Patient.assigned_doctor_id.is_(None))


def visible_patients(actor: Account) -> Select[tuple[Patient]]:
    """Staff see every patient; a doctor the patients assigned to them and those assigned to
    no one (`mine_or_pooled`); others none."""
    query = select(Patient)
    if actor.role == Role.STAFF:
        return query
    if actor.role == Role.DOCTOR and actor.doctor_profile is not None:
        return query.where(mine_or_pooled(actor.doctor_profile.id))
    return query.where(false())


def get_visible_patient(session: Session, actor: Account, patient_id: int) -> Patient:
    patient = session.scalar(visible_patients(actor).where(Patient.id == patient_id))
    if patient is None:
        raise NotAllowed()
    return patient


LIKE_ESCAPE = "/"


def like_literal(text: str) -> str:
    """`text` to match as typed inside a LIKE pattern (with `escape=LIKE_ESCAPE`): "%" and "_"
    are characters of a name, not wildcards. Stripping them had made the search "%" or "_"
    an empty one, which every patient matched (an integration audit)."""
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return text


def search_patients(
    session: Session,
    actor: Account,
    *,
    text: str = "",
    page: int = 1,
    per_page: int = 20,
    include_inactive: bool = False,
) -> Page[Patient]:
    """Patients matching a name fragment or an MRN prefix, alphabetical, one page of them."""
    query = visible_patients(actor)
    text = " ".join(text.split())
    if text:
        literal = like_literal(text)
        query = query.where(
            or_(name_contains(text), Patient.mrn.like(f"{literal.upper()}%", escape=LIKE_ESCAPE))
        )
    if not include_inactive:
        # `= true` (not `IS TRUE`): MySQL reads the active patients' part of the index.
        query = query.where(Patient.is_active == true())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    items = session.scalars(
        # Name, then MRN (unique): the order of the search index, so no sort (migration 0009).
        # The rows' doctors in one query (the list shows their names), not one per doctor.
        query.order_by(Patient.name_folded, Patient.full_name, Patient.mrn)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(selectinload(Patient.assigned_doctor).load_only(DoctorProfile.full_name))
    )
    return Page(list(items), page, per_page, total)


def name_contains(text: str) -> ColumnElement[bool]:
    """Patients whose name holds `text`, as searched (`portal.name_search`: no case, accents
    or separators, on SQLite too); none for text of separators alone ("-" had listed every
    patient: an audit). The web list, the REST API and FHIR's name:contains search so."""
    words = folded(text)
    if not words:
        return false()
    return Patient.name_folded.like(f"%{like_literal(words)}%", escape=LIKE_ESCAPE)


@dataclass(frozen=True)
class HandedOverLogin:
    """A patient's login with a temporary password to hand over once; `apps_cut_off`: the
    client names of the API tokens that acted as the patient and were revoked with it."""

    account: Account
    temporary_password: str
    apps_cut_off: tuple[str, ...] = ()


# How long one staff member's new temporary password for a patient refuses their next.
PASSWORD_AGAIN_WINDOW = dt.timedelta(seconds=10)


def _issued_a_moment_ago(session: Session, patient: Patient, actor: Account) -> bool:
    """Whether `actor` issued the patient a temporary password within `PASSWORD_AGAIN_WINDOW`,
    as committed (read on a connection of its own, after the patient's row was locked). Sent
    twice 0-100 ms apart (a double click), both had issued one and shown it, and only the
    last committed worked: the one the browser showed could be refused (an access audit)."""
    issued = (
        select(AuditEvent.id)
        .where(
            AuditEvent.action == "patient.portal_password_reset",
            AuditEvent.patient_id == patient.id,
            AuditEvent.actor_id == actor.id,
            AuditEvent.occurred_at >= utcnow() - PASSWORD_AGAIN_WINDOW,
        )
        .limit(1)
    )
    with session.get_bind().engine.connect() as connection:
        return connection.scalar(issued) is not None


def new_portal_password(session: Session, patient: Patient, *, actor: Account) -> HandedOverLogin:
    """A new temporary password for the patient's login (forgotten, or locked out), to hand
    over in person; the patient chooses their own at the next login. Staff could not help a
    patient who forgot theirs: only an administrator could, whom a patient has no way to
    reach (an audit). Unlocks the login, ends its sessions and revokes the API tokens acting
    as the patient, as deactivation does (`accounts.end_access`): after a compromised login
    an app acting as the patient had kept reading their record (an access audit,
    2026-12-07). One staff member's second within `PASSWORD_AGAIN_WINDOW` is refused
    (`_issued_a_moment_ago`)."""
    account = patient.account
    if account is None:
        raise InvalidInput({"account": "This patient has no portal login yet: give them one."})
    if not patient.is_active or not account.is_active:
        raise InvalidInput({"account": "The patient's login is deactivated: reactivate it first."})
    lock_row(session, "patient", patient.id, "is_active")  # one new password at a time
    if _issued_a_moment_ago(session, patient, actor):
        raise InvalidInput(
            {
                "account": "A temporary password was issued a moment ago (if you clicked "
                "twice): use the one shown in the other window, or issue a new one again after "
                f"{PASSWORD_AGAIN_WINDOW.seconds} seconds."
            }
        )
    temporary_password = generate_temporary_password()
    account.password_hash = hash_password(temporary_password)
    account.must_change_password = True
    account.session_epoch += 1
    account.failed_logins, account.locked_until = 0, None
    # A patient who lost the phone of their (optional) two-step login could not be helped:
    # only an administrator could remove it (a security audit). Handed over in person, the
    # new password removes it too; the patient may set it up again.
    two_step_removed = account.totp_secret is not None
    account.totp_secret = account.totp_last_step = account.mfa_recovery_hashes = None
    account.mfa_enabled_at = None
    apps_cut_off = accounts.revoke_api_tokens(session, account, actor=actor)
    audit.record(
        session, "patient.portal_password_reset", actor=actor, patient_id=patient.id,
        object_type="account", object_id=account.id,
        details={"two_step_login_removed": two_step_removed,
                 "api_tokens_revoked": len(apps_cut_off)},
    )  # fmt: skip
    return HandedOverLogin(account, temporary_password, tuple(apps_cut_off))


def create_portal_account(session: Session, patient: Patient, *, actor: Account) -> HandedOverLogin:
    """Give a patient a login; returns it with a temporary password to hand over once.
    The patient's row is locked and read as committed first: a double click on MariaDB had
    answered the second click with a 500 (the username taken meanwhile), the page the browser
    shows, and the temporary password on the first answer was lost (a concurrency audit)."""
    lock_row(session, "patient", patient.id, "is_active")
    made_meanwhile = session.scalar(select(Patient.account_id).where(Patient.id == patient.id))
    if patient.account is not None or made_meanwhile is not None:
        raise InvalidInput(
            {
                "account": "This patient already has a portal login (given a moment ago, if "
                'you clicked twice): use "New temporary password" to hand them one.'
            }
        )
    if not patient.is_active:
        raise InvalidInput({"account": "Reactivate the patient before giving them a login."})
    temporary_password = generate_temporary_password()
    account = accounts.create_account(
        session,
        role=Role.PATIENT,
        username=patient.mrn.lower(),
        password=temporary_password,
        full_name=patient.full_name,
        actor=actor,
    )
    patient.account = account
    session.flush()
    audit.record(
        session,
        "patient.portal_account_create",
        actor=actor,
        patient_id=patient.id,
        object_type="account",
        object_id=account.id,
    )
    return HandedOverLogin(account, temporary_password)
