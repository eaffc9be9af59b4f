"""/patients: register, list and search, view, edit, deactivate; clinical inputs; portal logins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.access import roles
from portal.db import db_session
from portal.forms import options, save
from portal.local_time import before_birth_here, hospital_today, hospital_zone, typed_utc
from portal.models import Account, Patient, Role, utcnow
from portal.patients.forms import BOOLEAN_LABELS, ClinicalInputEntryForm, ConfirmForm, PatientForm
from portal.services import (
    accounts,
    api_tokens,
    audit,
    clinical_inputs,
    entered_in_error,
    patients,
    recordings,
    reports,
)  # fmt: skip
from portal.services.clinical_inputs import BOOLEAN_FIELDS, ClinicalInputForm
from portal.services.validation import InvalidInput

bp = Blueprint("patients", __name__, url_prefix="/patients")
CLINICAL = (Role.STAFF, Role.DOCTOR)


def _actor() -> Account:
    return current_user._get_current_object()


def _patient_or_404(patient_id: int) -> Patient:
    return patients.get_visible_patient(db_session(), _actor(), patient_id)


def _patient_form(patient: Patient | None = None) -> PatientForm:
    form = PatientForm(obj=patient)
    labels = _doctor_labels()
    doctors = [(str(doctor_id), label) for doctor_id, label in labels.items()]
    current = patient.assigned_doctor if patient is not None else None
    if current is not None and not current.account.is_active:
        # Kept as it is until someone chooses another: it had silently become "Not assigned".
        doctors.insert(0, (str(current.id), f"{current.full_name} (deactivated: choose another)"))
    form.assigned_doctor_id.choices = options(("", "Not assigned"), *doctors)
    if patient is not None and request.method == "GET":
        form.assigned_doctor_id.data = str(patient.assigned_doctor_id or "")
        form.opened_version.data = patient.updated_at.isoformat()
    return form


# A save from an edit page opened before another save changed the patient (`opened_version`).
CHANGED_MEANWHILE = (
    "This patient's details were changed by someone else since you opened this page; nothing "
    "was saved. The page now shows them as they are: make your change again."
)


def _doctor_labels() -> dict[int, str]:
    """Each doctor as the pickers name them: where two share a name, the list and the
    patient's page said "Dr. Dana Doctor" of either (a review of `doctor_choice_labels`)."""
    return accounts.doctor_choice_labels(accounts.active_doctors(db_session()))


@bp.route("/")
@roles(*CLINICAL)
def index() -> str:
    page = patients.search_patients(
        db_session(),
        _actor(),
        text=request.args.get("q", ""),
        page=request.args.get("page", 1, type=int),
        include_inactive=request.args.get("inactive") == "1",
    )
    query = request.args.get("q", "").strip()
    audit.record(
        db_session(), "patient.search" if query else "patient.list", actor=_actor(),
        details={"q": query[:100], "page": page.page, "patient_ids": [p.id for p in page.items]},
    )  # fmt: skip
    db_session().commit()
    return render_template(
        "patients/index.html",
        page=page,
        doctor_labels=_doctor_labels(),
        q=request.args.get("q", ""),
        inactive=request.args.get("inactive") == "1",
    )


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.STAFF)
def new() -> str | Response:
    form = _patient_form()
    if form.validate_on_submit():
        saved, patient = save(
            form,
            lambda: patients.register_patient(
                db_session(),
                form.details(),
                actor=_actor(),
                today=hospital_today(),
                same_name_checked=form.different_person.data,
            ),
        )
        if saved and patient is not None:
            flash(f"{patient.full_name} registered with MRN {patient.mrn}.", "success")
            return redirect(url_for("patients.view", patient_id=patient.id))
    return render_template("patients/form.html", form=form, patient=None)


@bp.route("/<id:patient_id>")
@roles(*CLINICAL)
def view(patient_id: int) -> str:
    sql = db_session()
    patient = _patient_or_404(patient_id)
    audit.record(
        sql,
        "patient.view",
        actor=_actor(),
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
    )
    sql.commit()
    return render_template(
        "patients/view.html",
        patient=patient,
        doctor_labels=_doctor_labels(),
        confirm=ConfirmForm(),
        inputs=clinical_inputs.latest_inputs(sql, patient.id),
        # An entry dated before a date of birth corrected since is not theirs at that age:
        # marked, as the review page marks a recording, and no risk score uses it.
        before_birth=lambda when: before_birth_here(when, patient.date_of_birth),
        recordings=recordings.for_patient(sql, patient.id),
        boolean_labels=BOOLEAN_LABELS,
        today=hospital_today(),
        # Each report's state in words, so staff answering a patient's call ("I can't see my
        # result") can tell (a browser audit: the table said only "succeeded amended").
        main_finding_label=reports.main_finding_label,
        latest_signed=reports.latest_signed,
        held_from_patient=lambda report: reports.held_from_patient(report, utcnow()),
        withdrawn_words=lambda report: entered_in_error.FOR_STAFF[entered_in_error.kind_of(report)],
        apps_acting=_apps_acting_as(patient),
    )


def _apps_acting_as(patient: Patient) -> list[str]:
    """The client names of the working API tokens acting as the patient, for staff: a new
    temporary password cuts them off, and the page says so before it is pressed."""
    if patient.account is None or _actor().role is not Role.STAFF:
        return []
    return [token.client_name for token, _ in api_tokens.acting_for(db_session(), patient.account)]


@bp.route("/<id:patient_id>/edit", methods=["GET", "POST"])
@roles(Role.STAFF)
def edit(patient_id: int) -> str | Response:
    patient = _patient_or_404(patient_id)
    form = _patient_form(patient)
    form.different_person.label.text = (
        "Another person with the same name and date of birth: save anyway"
    )
    if form.validate_on_submit():
        opened = form.opened_version.data  # every page sends it; a bare request may not
        patients.lock_for_update(db_session(), patient)  # a save at the same moment goes first
        if opened and opened != patient.updated_at.isoformat():
            flash(CHANGED_MEANWHILE, "error")
            return redirect(url_for("patients.edit", patient_id=patient.id))
        saved, changed = save(
            form,
            lambda: patients.update_patient(
                db_session(),
                patient,
                form.details(),
                actor=_actor(),
                today=hospital_today(),
                same_name_checked=form.different_person.data,
            ),  # fmt: skip
        )
        if saved:
            flash("Saved." if changed else "Nothing changed.", "success")
            if (
                changed
                and "date_of_birth" in changed
                and (before := patients.dated_before_birth(db_session(), patient))
            ):
                flash(before + ".", "error")
            return redirect(url_for("patients.view", patient_id=patient.id))
    if request.method == "GET":  # the form shows the patient's details: a read
        audit.record(
            db_session(), "patient.edit_form", actor=_actor(), patient_id=patient.id,
            object_type="patient", object_id=patient.id,
        )  # fmt: skip
        db_session().commit()
    return render_template("patients/form.html", form=form, patient=patient)


@bp.route("/<id:patient_id>/deactivate", methods=["POST"])
@roles(Role.STAFF)
def deactivate(patient_id: int) -> Response:
    return _set_active(patient_id, False)


@bp.route("/<id:patient_id>/reactivate", methods=["POST"])
@roles(Role.STAFF)
def reactivate(patient_id: int) -> Response:
    return _set_active(patient_id, True)


def _set_active(patient_id: int, active: bool) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sql = db_session()
    patient = _patient_or_404(patient_id)
    patients.set_patient_active(sql, patient, active, actor=_actor())
    sql.commit()
    flash(
        f"{patient.full_name} is {'active again' if active else 'deactivated'}; "
        "their records are kept.",
        "success",
    )
    return redirect(url_for("patients.view", patient_id=patient.id))


def _tri_state(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _entry(form: ClinicalInputEntryForm) -> ClinicalInputForm:
    """The entry as the service takes it; a field the form could not read is left empty."""

    def read(field: Any) -> Any:
        return None if field.errors else field.data

    killip = read(form.killip_class)
    return ClinicalInputForm(
        total_cholesterol=read(form.total_cholesterol),
        hdl=read(form.hdl),
        cholesterol_unit=form.cholesterol_unit.data,
        creatinine=read(form.creatinine),
        creatinine_unit=form.creatinine_unit.data,
        systolic_bp_mmhg=read(form.systolic_bp_mmhg),
        heart_rate_bpm=read(form.heart_rate_bpm),
        bmi_kg_m2=read(form.bmi_kg_m2),
        killip_class=int(killip) if killip else None,
        recorded_at=typed_utc(read(form.recorded_at), hospital_zone()),
        other_issues=read(form.other_issues),
        booleans={name: _tri_state(read(getattr(form, name))) for name in BOOLEAN_FIELDS},
    )


def _show_the_services_errors_too(form: ClinicalInputEntryForm, patient: Patient) -> None:
    """Beside a form refused for a field it could not read, what the service refuses in the
    others (plausible ranges, HDL above total, dates), so every problem shows at once: "abc"
    in total cholesterol had hidden "Systolic blood pressure 999 mmHg is outside the plausible
    range 50-300 mmHg" until a second submission (an accessibility audit)."""
    try:
        clinical_inputs.canonical_values(
            _entry(form), now=utcnow(), born_on=patient.date_of_birth, zone=hospital_zone()
        )
    except InvalidInput as problem:
        for name, message in problem.errors.items():
            field = getattr(form, name, None)
            if field is not None and not field.errors:  # not "Nothing was entered"
                field.errors = [message]


@bp.route("/<id:patient_id>/inputs/new", methods=["GET", "POST"])
@roles(*CLINICAL)
def new_input(patient_id: int) -> str | Response:
    patient = _patient_or_404(patient_id)
    if request.method != "POST" and not patient.is_active:
        flash(patients.deactivated_message(patient, "clinical inputs"), "error")
        return redirect(url_for("patients.view", patient_id=patient.id))
    form = ClinicalInputEntryForm()
    if form.validate_on_submit():
        entry = _entry(form)
        saved, _ = save(
            form,
            lambda: clinical_inputs.record_clinical_input(
                db_session(), patient, entry, actor=_actor(), now=utcnow()
            ),
        )
        if saved:
            flash("Clinical input saved.", "success")
            return redirect(url_for("patients.view", patient_id=patient.id))
    elif form.is_submitted():
        _show_the_services_errors_too(form, patient)
    return render_template(
        "patients/input_form.html", form=form, patient=patient, boolean_fields=BOOLEAN_FIELDS
    )


@bp.route("/<id:patient_id>/portal-account", methods=["POST"])
@roles(Role.STAFF)
def portal_account(patient_id: int) -> str | Response:
    return _hand_over_login(patient_id, patients.create_portal_account)


@bp.route("/<id:patient_id>/portal-password", methods=["POST"])
@roles(Role.STAFF)
def portal_password(patient_id: int) -> str | Response:
    """A new temporary password for the patient's login (`patients.new_portal_password`)."""
    return _hand_over_login(patient_id, patients.new_portal_password, reset=True)


def _hand_over_login(
    patient_id: int, issue: Callable[..., patients.HandedOverLogin], *, reset: bool = False
) -> str | Response:
    """The page that shows the patient's username and a temporary password once, or the
    patient's page with why none was made. After a `reset`, what else ended."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sql = db_session()
    patient = _patient_or_404(patient_id)
    try:
        handed = issue(sql, patient, actor=_actor())
    except InvalidInput as problem:
        sql.rollback()
        flash(" ".join(problem.errors.values()), "error")
        return redirect(url_for("patients.view", patient_id=patient.id))
    sql.commit()
    if reset:
        flash(_access_ended_message(handed.apps_cut_off), "success")
    return render_template(
        "patients/portal_account.html",
        patient=patient,
        account=handed.account,
        temporary_password=handed.temporary_password,
    )


def _access_ended_message(apps_cut_off: tuple[str, ...]) -> str:
    """What a new temporary password ended, in staff's words: after a compromised login staff
    expect the patient's apps cut off too, and nothing had said whether they were (an access
    audit, 2026-12-07)."""
    if not apps_cut_off:
        return "The patient's sessions on this portal have ended; no app was acting as them."
    names = ", ".join(apps_cut_off)
    apps = (
        f"the app acting as them through an API token ({names}) is"
        if len(apps_cut_off) == 1
        else f"the {len(apps_cut_off)} apps acting as them through API tokens ({names}) are"
    )
    return (
        f"The patient's sessions on this portal have ended, and {apps} cut off. If an app "
        "should still reach their record, an administrator issues it a new token (API tokens)."
    )
