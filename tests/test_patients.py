"""Patient registration, search, view, edit, deactivation, portal logins: through the web."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.forms import PHONE_MESSAGE
from portal.models import AuditEvent, ClinicalInput, EcgRecording, Patient, Sex
from portal.services import api_tokens, patients
from tests.conftest import People, client_for, error_messages, login, post_form

VALID = {
    "full_name": "Grace Hopper",
    "date_of_birth": "1956-12-09",
    "sex": "female",
    "address": "1 Harbour Road",
    "email": "grace@example.org",
    "phone": "+44 20 7946 0958",
    "emergency_contact_name": "Vincent Hopper",
    "emergency_contact_phone": "020 7946 0000",
    "assigned_doctor_id": "",
}


def _patient_count(sql: Session) -> int:
    sql.expire_all()
    return sql.scalar(select(func.count()).select_from(Patient)) or 0


def test_staff_registers_a_patient_with_a_generated_mrn(
    app: Flask, people: People, sql: Session
) -> None:
    client = client_for(app, people.staff)
    form = {**VALID, "assigned_doctor_id": str(people.doctor.doctor_profile.id)}
    response = post_form(client, "/patients/new", form)
    assert response.status_code == 302
    patient = sql.scalar(select(Patient).where(Patient.full_name == "Grace Hopper"))
    assert patient is not None
    assert re.fullmatch(r"CP\d{8}", patient.mrn)
    assert patients.luhn_check_digit(patient.mrn[2:9]) == patient.mrn[9]
    assert patient.date_of_birth == dt.date(1956, 12, 9)
    assert patient.sex == Sex.FEMALE
    assert patient.created_by_id == people.staff.id
    assert patient.assigned_doctor_id == people.doctor.doctor_profile.id
    page = client.get(response.location).get_data(as_text=True)
    assert patient.mrn in page and "Grace Hopper" in page
    actions = sql.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id))
    assert sorted(actions) == ["patient.create", "patient.view"]


def test_a_phone_with_its_extension_is_saved_as_written(
    app: Flask, people: People, sql: Session
) -> None:
    """ "+44 20 7946 0000 ext. 12" had been refused, told of digits, spaces and + ( ) - only."""
    client = client_for(app, people.staff)
    form = {**VALID, "phone": "+44 20 7946 0000 ext. 12", "emergency_contact_phone": "555 0199 x7"}
    assert post_form(client, "/patients/new", form).status_code == 302
    patient = sql.scalar(select(Patient).where(Patient.full_name == "Grace Hopper"))
    assert (patient.phone, patient.emergency_contact_phone) == (
        "+44 20 7946 0000 ext. 12",
        "555 0199 x7",
    )


def test_empty_optional_fields_are_stored_as_not_given(
    app: Flask, people: People, sql: Session
) -> None:
    client = client_for(app, people.staff)
    form = {**VALID, "address": "", "email": "", "phone": "  "}
    assert post_form(client, "/patients/new", form).status_code == 302
    patient = sql.scalar(select(Patient).where(Patient.full_name == "Grace Hopper"))
    assert (patient.address, patient.email, patient.phone) == (None, None, None)


BAD_FORMS = [
    ({"full_name": ""}, "full_name", "This field is required."),
    ({"date_of_birth": ""}, "date_of_birth", "Enter the date of birth."),
    ({"date_of_birth": "31/02/1950"}, "date_of_birth", "Enter a real date as year-month-day"),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth", "cannot be in the future"),
    ({"date_of_birth": "1850-01-01"}, "date_of_birth", "age over 125 years"),
    ({"email": "not-an-email"}, "email", "Invalid email address."),
    ({"phone": "call me maybe"}, "phone", PHONE_MESSAGE),
    ({"phone": "((((("}, "phone", PHONE_MESSAGE),  # no digit: it had been saved
    ({"emergency_contact_phone": "1-2-3"}, "emergency_contact_phone", PHONE_MESSAGE),
    ({"sex": "robot"}, "sex", "Not a valid choice."),
    ({"assigned_doctor_id": "999999"}, "assigned_doctor_id", "Not a valid choice."),
    ({"full_name": "x" * 500}, "full_name", "Field cannot be longer than 120 characters."),
    ({"full_name": "Ada \u202eecalevol"}, "full_name", "(right-to-left override)"),
    ({"full_name": "\u200b"}, "full_name", "(zero width space)"),
    ({"full_name": "12345"}, "full_name", "A name needs letters."),
    ({"address": "1 Road\x07"}, "address", "Remove the invisible character (U+0007)."),
]


def test_names_as_people_write_them_are_accepted() -> None:
    """Letters of any script, and the joiners Persian and Indic names need."""
    from portal.services.validation import text_problem

    for name in ("Zoë O'Brien-Łukasz", "محمد\u200cرضا", "José María", "李小龍"):
        assert text_problem(name, name=True) is None, name
    assert text_problem("line one\nline two", lines=True) is None
    # A line break or a tab is no invisible character to its writer: an address sent over the
    # REST API on two lines read "Remove the invisible character (U+000A)" (an audit).
    one_line = "Write it on one line (a comma where a line would break)."
    assert text_problem("line one\nline two") == one_line
    assert text_problem("1 Road\r\nTown") == one_line
    assert text_problem("1 Road\tTown") == "Replace the tab with a space."


def test_bad_registration_forms_show_the_message_and_save_nothing(
    app: Flask, people: People, sql: Session
) -> None:
    client = client_for(app, people.staff)
    before = _patient_count(sql)
    for change, field, message in BAD_FORMS:
        response = post_form(client, "/patients/new", {**VALID, **change})
        html = response.get_data(as_text=True)
        assert response.status_code == 200, change
        assert any(message in m for m in error_messages(html)), (change, error_messages(html))
        assert f'id="{field}-error"' in html, field
        assert "Nothing was saved" in html
    assert _patient_count(sql) == before


def test_a_registration_without_a_sex_chosen_is_refused_not_saved_as_female(
    app: Flask, people: People, sql: Session
) -> None:
    """The select had no empty option, so the browser sent its first, "Female": a man
    registered with his name and birth date only was scored with the women's equations."""
    client = client_for(app, people.staff)
    page = client.get("/patients/new").get_data(as_text=True)
    first = re.search(r'<select[^>]*id="sex"[^>]*>\s*<option([^>]*)>([^<]*)<', page)
    assert first is not None and 'value=""' in first[1] and first[2] == "Choose..."
    before = _patient_count(sql)
    hurried = {"full_name": "Alan Turing", "date_of_birth": "1970-06-23"}
    for sent in ({**hurried, "sex": ""}, hurried):
        response = post_form(client, "/patients/new", sent)
        assert response.status_code == 200
        assert "Choose the patient's sex." in error_messages(response.get_data(as_text=True))
    assert _patient_count(sql) == before
    edit = client.get(f"/patients/{people.patient.id}/edit").get_data(as_text=True)
    stored = people.patient.sex.value
    assert re.search(rf'<option selected value="{stored}">', edit), stored


def test_deactivated_doctor_cannot_be_assigned(app: Flask, people: People, sql: Session) -> None:
    doctor_id = people.other_doctor.doctor_profile.id
    people.other_doctor.is_active = False
    sql.commit()
    client = client_for(app, people.staff)
    response = post_form(client, "/patients/new", {**VALID, "assigned_doctor_id": str(doctor_id)})
    assert response.status_code == 200
    assert "Not a valid choice." in error_messages(response.get_data(as_text=True))


def test_search_by_name_or_mrn_with_pagination(app: Flask, people: People, sql: Session) -> None:
    for number in range(45):
        patients.register_patient(
            sql,
            patients.PatientDetails(f"Zed Tester {number:02d}", dt.date(1980, 1, 1), Sex.MALE),
            actor=people.staff,
            today=dt.date.today(),
        )
    sql.commit()
    client = client_for(app, people.staff)
    page1 = client.get("/patients/?q=zed+tester").get_data(as_text=True)
    assert "45 patients" in page1 and "Page 1 of 3" in page1
    assert "Zed Tester 00" in page1 and "Zed Tester 20" not in page1
    page3 = client.get("/patients/?q=zed+tester&page=3").get_data(as_text=True)
    assert "Zed Tester 44" in page3 and "Zed Tester 39" not in page3
    beyond = client.get("/patients/?q=zed+tester&page=99").get_data(as_text=True)
    assert "Page 3 of 3" in beyond
    by_mrn = client.get(f"/patients/?q={people.patient.mrn.lower()}").get_data(as_text=True)
    assert "1 patient " in by_mrn and people.patient.full_name in by_mrn
    # "%" and "_" are characters searched for, not wildcards that match every patient.
    for typed in ("%25", "_", "Zed%25Tester", "Zed_Tester"):
        found = client.get(f"/patients/?q={typed}").get_data(as_text=True)
        assert "No patients found." in found and "Zed Tester" not in found, typed


NAMES = ["José María Núñez", "O’Brien-Smith", "Müller", "Сергей Иванов", "Γιώργος Παπάς",
         "Rene\u0301e Dube\u0301", "王小明"]  # fmt: skip


def test_search_ignores_case_accents_and_name_separators(
    app: Flask, people: People, sql: Session
) -> None:
    """On SQLite "сергей" missed "Сергей Иванов", "jose" missed "José", "Smith" missed
    "O'Brien-Smith" in FHIR, and a name stored decomposed missed its composed spelling (an
    audit of names and languages): every database now searches the folded name."""
    for name in NAMES:
        patients.register_patient(sql, patients.PatientDetails(name, dt.date(1970, 1, 1), Sex.MALE),
                                  actor=people.staff, today=dt.date.today())  # fmt: skip
    sql.commit()
    client = client_for(app, people.staff)
    for typed, found in [("jose", "José María Núñez"), ("NUNEZ", "José María Núñez"),
                         ("o'brien", "O’Brien-Smith"), ("MÜLLER", "Müller"),
                         ("muller", "Müller"), ("сергей", "Сергей Иванов"),
                         ("γιώργος", "Γιώργος Παπάς"), ("Renée", "Ren\u00e9e Dub\u00e9"),
                         ("小明", "王小明")]:  # fmt: skip
        # "Rene\u0301e Dube\u0301" is stored composed, NFC (since 2026-12-07).
        page = client.get("/patients/", query_string={"q": typed}).get_data(as_text=True)
        assert "1 patient " in page and found in page, typed
    # In the folded name's order: "d'Artagnan" among the Ds, not after "Zoë" (code points).
    for name in ("Zoë Adams", "d'Artagnan Charles", "Émile Zola"):
        patients.register_patient(sql, patients.PatientDetails(name, dt.date(1970, 1, 1), Sex.MALE),
                                  actor=people.staff, today=dt.date.today())  # fmt: skip
    sql.commit()
    listed = patients.search_patients(sql, people.staff, per_page=100).items
    names = [p.full_name for p in listed]
    assert names.index("d'Artagnan Charles") < names.index("Émile Zola") < names.index("Zoë Adams")
    for name in ("Łukasz Żółć", "Øyvind Ærø"):  # letters NFKD leaves as they are
        patients.register_patient(sql, patients.PatientDetails(name, dt.date(1970, 1, 1), Sex.MALE),
                                  actor=people.staff, today=dt.date.today())  # fmt: skip
    sql.commit()
    for typed, found in (("lukasz zolc", "Łukasz Żółć"), ("oyvind aero", "Øyvind Ærø")):
        page = client.get("/patients/", query_string={"q": typed}).get_data(as_text=True)
        assert "1 patient " in page and found in page, typed
    for separators in ("-", "'", " - "):  # "-" had listed every patient
        page = client.get("/patients/", query_string={"q": separators}).get_data(as_text=True)
        assert "No patients found." in page, separators
    staff_token = _fhir_token(sql, people)
    for typed, found in [("smith", "O’Brien-Smith"), ("jose", "José María Núñez"),
                         ("maria", "José María Núñez"), ("сергей", "Сергей Иванов")]:  # fmt: skip
        bearer = {"Authorization": f"Bearer {staff_token}"}
        bundle = client.get("/fhir/r4/Patient", query_string={"name": typed}, headers=bearer)
        bundle = bundle.get_json()
        assert [e["resource"]["name"][0]["text"] for e in bundle.get("entry", [])] == [found], typed
        # The REST API's ?name= searches the same way (it had kept SQLite's ASCII case only).
        listed = client.get("/api/v1/patients", query_string={"name": typed}, headers=bearer)
        assert [p["full_name"] for p in listed.get_json()["items"]] == [found], typed
    assert (
        client.get("/fhir/r4/Patient", query_string={"name": "-"}, headers=bearer).get_json()[
            "total"
        ]
        == 0
    )


def _fhir_token(sql: Session, people: People) -> str:
    issued = api_tokens.issue(
        sql, people.staff, client_name="search test", scopes=sorted(api_tokens.SCOPES), days=1,
        actor=people.admin,
    )  # fmt: skip
    sql.commit()
    return issued.secret


def test_a_patient_registered_twice_is_caught(app: Flask, people: People, sql: Session) -> None:
    """The registration sent again (Back, then Register) made three "Double Click Patient"s,
    each with its own MRN (an audit). The same name (as searched) and date of birth now names
    the registered patient; another person of that name and birth is registered once ticked."""
    client = client_for(app, people.staff)
    assert post_form(client, "/patients/new", VALID).status_code == 302
    first = sql.scalar(select(Patient).where(Patient.full_name == "Grace Hopper"))
    assert first is not None
    count = _patient_count(sql)
    again = post_form(client, "/patients/new", {**VALID, "full_name": "grace  HOPPER"})
    assert again.status_code == 200 and _patient_count(sql) == count
    messages = " ".join(error_messages(again.get_data(as_text=True)))
    assert f"is already registered (MRN {first.mrn}): open their record instead" in messages
    assert "register them anyway" in again.get_data(as_text=True)  # the box is shown
    # The summary at the top takes the focus and links the reason to its box (it said only
    # "Please correct the fields marked below", the reason 22 Tab stops down; an audit).
    summary = again.get_data(as_text=True).split('class="flash flash-error form-errors"', 1)[1]
    summary = html.unescape(summary.split("</div>", 1)[0])
    assert "autofocus" in summary and '<a href="#different_person">' in summary
    assert f"is already registered (MRN {first.mrn})" in summary
    other = post_form(client, "/patients/new", {**VALID, "different_person": "y"})
    assert other.status_code == 302 and _patient_count(sql) == count + 1
    born_later = post_form(client, "/patients/new", {**VALID, "date_of_birth": "1957-12-09"})
    assert born_later.status_code == 302
    # A deactivated patient (hidden from the list) is caught too, and said to be so.
    patients.set_patient_active(sql, first, False, actor=people.staff)
    sql.query(Patient).filter(Patient.full_name == "Grace Hopper", Patient.id != first.id).update(
        {"is_active": False}
    )
    sql.commit()
    hidden = post_form(client, "/patients/new", VALID)
    assert hidden.status_code == 200
    assert "deactivated: reactivate them" in " ".join(error_messages(hidden.get_data(as_text=True)))


def test_a_duplicate_made_surname_first_or_by_a_correction_is_caught(
    app: Flask, people: People, sql: Session
) -> None:
    """An audit: "Garcia, Maria" beside "Maria Garcia" of the same birth date passed the
    check; and a typo corrected on the edit page (a date of birth, a name) made an exact
    second record of a registered patient, without a word."""
    client = client_for(app, people.staff)
    assert post_form(client, "/patients/new", VALID).status_code == 302
    first = sql.scalar(select(Patient).where(Patient.full_name == "Grace Hopper"))
    assert first is not None
    count = _patient_count(sql)
    turned = post_form(client, "/patients/new", {**VALID, "full_name": "HOPPER, Grace"})
    assert turned.status_code == 200 and _patient_count(sql) == count
    assert f"(MRN {first.mrn}): open their record instead" in " ".join(
        error_messages(turned.get_data(as_text=True))
    )

    typo = post_form(client, "/patients/new", {**VALID, "full_name": "Grace Hoper"})
    assert typo.status_code == 302
    second = sql.scalar(select(Patient).where(Patient.full_name == "Grace Hoper"))
    assert second is not None
    url = f"/patients/{second.id}/edit"
    corrected = post_form(client, url, {**VALID, "full_name": "Grace Hopper"})
    assert corrected.status_code == 200
    said = " ".join(error_messages(corrected.get_data(as_text=True)))
    assert f"(MRN {first.mrn}): with this correction this record would be a second" in said
    assert "same name and date of birth: save anyway" in corrected.get_data(as_text=True)
    sql.expire_all()
    assert sql.get(Patient, second.id).full_name == "Grace Hoper"  # nothing saved
    ticked = post_form(client, url, {**VALID, "full_name": "Grace Hopper", "different_person": "y"})
    assert ticked.status_code == 302
    # Other details of a namesake change without the question (name and birth unchanged).
    phone = post_form(client, url, {**VALID, "phone": "+44 20 7946 0000"})
    assert phone.status_code == 302


def test_edit_records_who_and_which_fields(app: Flask, people: People, sql: Session) -> None:
    client = client_for(app, people.staff)
    url = f"/patients/{people.patient.id}/edit"
    form = {
        **VALID,
        "full_name": "Ada King",
        "date_of_birth": "1960-12-10",
        "assigned_doctor_id": str(people.doctor.doctor_profile.id),
    }
    assert post_form(client, url, form).status_code == 302
    sql.expire_all()
    patient = sql.get(Patient, people.patient.id)
    assert patient.full_name == "Ada King" and patient.updated_by_id == people.staff.id
    event = sql.scalar(select(AuditEvent).where(AuditEvent.action == "patient.update"))
    assert set(event.details["fields"]) >= {"full_name", "address", "email"}
    bad = post_form(client, url, {**form, "date_of_birth": "2999-01-01"})
    assert bad.status_code == 200
    sql.expire_all()
    assert sql.get(Patient, people.patient.id).date_of_birth == dt.date(1960, 12, 10)


def test_deactivate_keeps_the_record_and_hides_it_from_the_list(
    app: Flask, people: People, sql: Session
) -> None:
    client = client_for(app, people.staff)
    response = post_form(client, f"/patients/{people.patient.id}/deactivate", {})
    assert response.status_code == 302
    sql.expire_all()
    patient = sql.get(Patient, people.patient.id)
    assert patient is not None and not patient.is_active
    assert not patient.account.is_active  # their portal login stops too
    assert "their records are kept" in client.get(response.location).get_data(as_text=True)
    listing = client.get("/patients/").get_data(as_text=True)
    assert "Ada Lovelace" not in listing
    assert "Ada Lovelace" in client.get("/patients/?inactive=1").get_data(as_text=True)
    assert post_form(client, f"/patients/{people.patient.id}/reactivate", {}).status_code == 302
    sql.expire_all()
    assert sql.get(Patient, people.patient.id).is_active


def test_portal_login_for_a_patient_lands_on_my_reports(
    app: Flask, people: People, sql: Session
) -> None:
    client = client_for(app, people.staff)
    page = post_form(client, f"/patients/{people.other_patient.id}/portal-account", {})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    username = people.other_patient.mrn.lower()
    password = re.search(r'id="temporary-password">([^<]+)<', html).group(1)
    assert username in html
    again = post_form(client, f"/patients/{people.other_patient.id}/portal-account", {})
    assert "already has a portal login" in client.get(again.location).get_data(as_text=True)

    patient_client = app.test_client()
    assert login(patient_client, username, password).status_code == 302
    assert patient_client.get("/my/reports").location == "/account/password"
    post_form(
        patient_client,
        "/account/password",
        {
            "current_password": password,
            "password": "my very own passphrase",
            "confirm_password": "my very own passphrase",
        },
    )
    reports = patient_client.get("/my/reports")
    assert reports.status_code == 200
    text = reports.get_data(as_text=True)
    assert "No reports yet" in text and "Blaise Pascal" in text
    assert "Ada Lovelace" not in text


def test_patient_sees_no_other_patient_pages(app: Flask, people: People) -> None:
    client = client_for(app, people.patient_account)
    for url in (
        "/patients/",
        f"/patients/{people.patient.id}",
        f"/patients/{people.other_patient.id}",
        "/admin/accounts",
    ):
        assert client.get(url).status_code == 403, url


def test_a_deactivated_patient_takes_no_new_ecg_or_inputs(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A deactivated patient's page hides "Upload ECG", but a direct request added a recording,
    and a preliminary report reached the doctor's worklist (a records audit); clinical inputs
    too. Now the web, the reference library and the REST API refuse, and nothing is stored."""
    from tests.test_api import csv_bytes

    client = client_for(app, people.staff)
    patient_id = people.patient.id
    upload_page = f"/patients/{patient_id}/recordings/new"
    content = csv_bytes(tmp_path)
    assert post_form(client, f"/patients/{patient_id}/deactivate", {}).status_code == 302
    before = (_count(sql, EcgRecording), _count(sql, ClinicalInput))

    said = "Ada Lovelace is deactivated: reactivate the patient before adding an ECG."
    page = client.get(upload_page)
    assert page.status_code == 302 and page.location == f"/patients/{patient_id}"
    assert said in client.get(page.location).get_data(as_text=True)
    refused = post_form(
        client, upload_page, {"files": [(io.BytesIO(content), "ecg.csv")]},
        token_page=f"/patients/{patient_id}", content_type="multipart/form-data",
    )  # fmt: skip
    assert refused.status_code == 422
    assert f"{said} Nothing was saved." in error_messages(refused.get_data(as_text=True))
    library = post_form(
        client, f"/patients/{patient_id}/recordings/library", {"library-record": "100"},
        token_page=f"/patients/{patient_id}",
    )  # fmt: skip
    assert said in client.get(library.location).get_data(as_text=True)
    inputs = post_form(
        client, f"/patients/{patient_id}/inputs/new", {"systolic_bp_mmhg": "141"},
        token_page=f"/patients/{patient_id}",
    )  # fmt: skip
    assert inputs.status_code == 200
    assert "deactivated: reactivate the patient before adding clinical inputs" in inputs.get_data(
        as_text=True
    )
    bearer = {"Authorization": f"Bearer {_fhir_token(sql, people)}"}
    api_upload = client.post(
        f"/api/v1/patients/{patient_id}/recordings", headers=bearer,
        data={"files": [(io.BytesIO(content), "ecg.csv")]}, content_type="multipart/form-data",
    )  # fmt: skip
    assert api_upload.status_code == 422, api_upload.get_data(as_text=True)
    assert said in api_upload.get_json()["error"]["message"]
    api_input = client.post(f"/api/v1/patients/{patient_id}/clinical-inputs", headers=bearer,
                            json={"systolic_bp_mmhg": 141})  # fmt: skip
    assert api_input.status_code == 422, api_input.get_data(as_text=True)
    sql.expire_all()
    assert (_count(sql, EcgRecording), _count(sql, ClinicalInput)) == before
    assert post_form(client, f"/patients/{patient_id}/reactivate", {}).status_code == 302
    assert client.get(upload_page).status_code == 200


def _count(sql: Session, model: type) -> int:
    return sql.scalar(select(func.count()).select_from(model)) or 0


def test_a_change_of_details_is_audited_with_the_values_before_and_after(
    app: Flask, people: People, sql: Session
) -> None:
    """The audit kept only the names of the fields changed: a date of birth corrected by
    mistake, or the phone an EHR's update cleared, could be neither told nor restored."""
    client = client_for(app, people.staff)
    patient = people.patient
    page = f"/patients/{patient.id}/edit"
    form = {"full_name": "Ada King", "date_of_birth": "1960-12-11", "sex": "female",
            "phone": "+44 20 7946 0958",
            "assigned_doctor_id": str(patient.assigned_doctor_id)}  # fmt: skip
    assert post_form(client, page, form, token_page=page).status_code == 302
    event = sql.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.update").order_by(AuditEvent.id)
    ).all()[-1]
    details = event.details or {}
    assert details["fields"] == ["full_name", "date_of_birth", "phone"]
    assert details["was"] == {"full_name": "Ada Lovelace", "date_of_birth": "1960-12-10",
                              "phone": None}  # fmt: skip
    assert details["now"] == {"full_name": "Ada King", "date_of_birth": "1960-12-11",
                              "phone": "+44 20 7946 0958"}  # fmt: skip


def test_an_edit_page_opened_before_another_save_saves_nothing(
    app: Flask, people: People, sql: Session
) -> None:
    """Tab 1 opened the edit page, tab 2 reassigned the doctor and changed the phone, then tab
    1 saved an address: the doctor and phone went back, silently (a concurrency audit)."""
    url = f"/patients/{people.patient.id}/edit"
    first_tab, second_tab = client_for(app, people.staff), client_for(app, people.staff)

    def opened_version(client) -> str:  # type: ignore[no-untyped-def]
        page = client.get(url).get_data(as_text=True)
        found = re.search(r'name="opened_version" type="hidden" value="([^"]+)"', page)
        assert found, page[:500]
        return found.group(1)

    stale = opened_version(first_tab)
    doctor_id = str(people.doctor.doctor_profile.id)
    fields = {"full_name": people.patient.full_name, "date_of_birth": "1960-12-10",
              "sex": "female", "assigned_doctor_id": doctor_id}  # fmt: skip
    newer = {**fields, "phone": "+44 20 7946 0958", "opened_version": opened_version(second_tab)}
    assert post_form(second_tab, url, newer, token_page=url).status_code == 302
    old_page = {**fields, "address": "1 New Street", "opened_version": stale}
    refused = post_form(first_tab, url, old_page, token_page=url)
    assert refused.status_code == 302 and refused.location.endswith(url)
    said = first_tab.get(refused.location).get_data(as_text=True)
    assert "changed by someone else since you opened this page; nothing was saved" in said
    sql.expire_all()
    patient = sql.get(Patient, people.patient.id)
    assert patient.phone == "+44 20 7946 0958" and patient.address is None
