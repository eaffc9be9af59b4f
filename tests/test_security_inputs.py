"""Issue 15, "six causes of 500": each input that crashed a page is now refused in words.

Each test names the finding it proves. (The zip with a wrong declared size or CRC and CR/LF in
`next` are tested beside their fixes, in the upload and authentication tests.)
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from portal.converters import MAX_ID
from portal.models import ClinicalInput, EcgReport, Patient, ReportStatus
from tests.conftest import PASSWORD, People, client_for, error_messages, post_form
from tests.test_upload_and_review import _analysed_report

HUGE_IDS = (2**31, 2**63 - 1, 2**63, 2**64, 10**30)


def _flashes(page: str) -> list[str]:
    return re.findall(r'<div class="flash flash-error"[^>]*>([^<]+)</div>', page)


def _flashes_or_list(page: str) -> list[str]:
    """The messages of a refused signature: the list above the button and the flashes."""
    items = re.findall(r"<li>(?:<a [^>]*>[^<]*</a>: )?([^<]+)</li>", page)
    return [html.unescape(m) for m in items + _flashes(page)]


# FHIR Observation and Binary ids are composite ("12-hr", "12-v2-clinician"), parsed by
# regexes that bound the report id (portal/fhir/), not a number alone; a stale risk score's
# version is "<signed>-stale-<12 hex>" (`observation.stale_meta`).
COMPOSITE_IDS = {"observation_id", "binary_id", "resource_type", "version_id"}  # not plain ids


def _urls_with_ids(app: Flask, value: int) -> list[tuple[str, str]]:
    """(method, url) of every page route with an id in its path, the id being `value`.
    Machine routes (/api/, /fhir/) answer 401 to these browser clients; their ids are
    tried with tokens in tests/test_api.py and tests/test_fhir.py."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint == "static":
            continue
        if rule.rule.startswith(("/api/", "/fhir/")):
            continue
        path = re.sub(r"<[^>]+>", str(value), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, path))
    return out


# --- finding 1: ids >= 2^63 on any <int:> route ----------------------------------------------


def test_finding_1_every_id_route_uses_the_bounded_converter(app: Flask) -> None:
    with_ids = [r for r in app.url_map.iter_rules() if r.arguments and r.endpoint != "static"]
    assert with_ids
    for rule in with_ids:
        for name, converter in rule._converters.items():
            if name in COMPOSITE_IDS:
                continue
            assert type(converter).__name__ == "IdConverter", (rule.rule, name)


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_finding_1_an_id_past_the_column_range_is_a_plain_404(
    app: Flask, people: People, huge: int
) -> None:
    clients = {
        role: client_for(app, account)
        for role, account in (
            ("admin", people.admin),
            ("staff", people.staff),
            ("doctor", people.doctor),
            ("patient", people.patient_account),
        )
    }
    for method, url in _urls_with_ids(app, huge):
        for role, client in clients.items():
            response = client.open(url, method=method)
            assert response.status_code == 404, (role, method, url, response.status_code)


def test_finding_1_ids_inside_the_range_still_route(app: Flask, people: People) -> None:
    urls = app.url_map.bind("localhost")
    assert urls.match(f"/patients/{MAX_ID}") == ("patients.view", {"patient_id": MAX_ID})
    assert urls.match("/reports/1/sign", method="POST") == ("review.sign", {"report_id": 1})
    for bad in (str(MAX_ID + 1), "0", "-1", "01", "+1", "1.0", " 1", "١", "99999999999"):
        with pytest.raises(NotFound):
            urls.match(f"/patients/{bad}")
    assert url_for_patient(app, people.patient.id) == f"/patients/{people.patient.id}"
    client = client_for(app, people.staff)
    assert client.get(f"/patients/{people.patient.id}").status_code == 200
    assert client.get(f"/patients/{MAX_ID}").status_code == 404  # routed; no such patient


def url_for_patient(app: Flask, patient_id: int) -> str:
    with app.test_request_context():
        return url_for("patients.view", patient_id=patient_id)


# --- finding 2: absurd dates on /worklist and /admin/audit -----------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "to=9999-12-31",
        "from=9999-12-31",
        "from=0001-01-01&to=0001-01-01",
        "to=1899-12-31",
        "from=2101-01-01",
        "to=not-a-date",
        "from=2024-02-30",
    ],
)
def test_finding_2_absurd_filter_dates_are_refused_in_words(
    app: Flask, people: People, query: str
) -> None:
    for account, url in ((people.doctor, "/worklist"), (people.admin, "/admin/audit")):
        response = client_for(app, account).get(f"{url}?{query}")
        assert response.status_code == 200, (url, query)
        messages = _flashes(response.get_data(as_text=True))
        assert any("year-month-day" in m or "between 1900" in m for m in messages), messages


def test_finding_2_sensible_dates_filter_without_a_message(app: Flask, people: People) -> None:
    for account, url in ((people.doctor, "/worklist"), (people.admin, "/admin/audit")):
        response = client_for(app, account).get(f"{url}?from=1900-01-01&to=2100-12-31")
        assert response.status_code == 200
        assert _flashes(response.get_data(as_text=True)) == []
    admin = client_for(app, people.admin).get("/admin/audit?from=2000-01-01&to=2100-12-31")
    assert "login.success" in admin.get_data(as_text=True)  # the filter still finds rows


# --- finding 3: a non-integer row_version on sign and amend ----------------------------------


@pytest.mark.parametrize(
    "row_version", ["abc", "1.5", "", " ", "-1", "0", "1e3", "²", "99999999999999999999999"]
)
def test_finding_3_a_bad_row_version_is_refused_in_words_and_nothing_is_signed(
    app: Flask, people: People, sql: Session, tmp_path: Path, row_version: str
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    page = f"/reports/{report.id}"
    form = {
        "rhythm_label": "Sinus rhythm",
        "findings": ["SINUS"],
        "conclusion": "Normal ECG.",
        "password": PASSWORD,
        "reason": "re-read",
    }

    def versions() -> int:
        sql.expire_all()
        return len(sql.get(EcgReport, report.id).versions)

    refused = post_form(
        doctor, f"{page}/sign", form | {"row_version": row_version}, token_page=page
    )
    assert refused.status_code == 400
    assert any("reload the report" in m for m in _flashes_or_list(refused.get_data(as_text=True)))
    assert versions() == 1 and sql.get(EcgReport, report.id).status is ReportStatus.PRELIMINARY

    current = str(sql.get(EcgReport, report.id).row_version)
    shown = re.search(r'name="row_version" type="hidden" value="(\d+)"', doctor.get(page).text)
    assert shown and shown.group(1) == current  # the page still carries the version it shows
    signed = post_form(doctor, f"{page}/sign", form | {"row_version": current}, token_page=page)
    assert signed.status_code == 302 and versions() == 2
    amend = form | {"row_version": row_version}
    refused = post_form(doctor, f"{page}/amend", amend, token_page=page)
    assert refused.status_code == 400
    assert any("reload the report" in m for m in _flashes_or_list(refused.get_data(as_text=True)))
    assert versions() == 2


def test_finding_3_a_missing_row_version_is_refused_too(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    form = {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "conclusion": "Normal ECG.",
            "password": PASSWORD}  # fmt: skip
    page = f"/reports/{report.id}"
    refused = post_form(doctor, f"{page}/sign", form, token_page=page)
    assert refused.status_code == 400
    sql.expire_all()
    assert sql.get(EcgReport, report.id).status is ReportStatus.PRELIMINARY


# --- finding 6: a clinical input dated 0001-01-01 --------------------------------------------


@pytest.mark.parametrize(
    "recorded_at",
    ["0001-01-01T00:00", "1899-12-31T23:59", "2999-01-01T00:00", "9999-12-31T23:59"],
)
def test_finding_6_a_measurement_date_before_1900_or_in_the_future_is_refused(
    app: Flask, people: People, sql: Session, recorded_at: str
) -> None:
    client = client_for(app, people.staff)
    url = f"/patients/{people.patient.id}/inputs/new"
    response = post_form(client, url, {"recorded_at": recorded_at, "systolic_bp_mmhg": "130"})
    assert response.status_code == 200
    messages = error_messages(response.get_data(as_text=True))
    assert any("1900" in m or "future" in m for m in messages), messages
    assert (sql.scalar(select(func.count()).select_from(ClinicalInput)) or 0) == 0
    assert client.get(f"/patients/{people.patient.id}/risk/").status_code == 200


@pytest.mark.parametrize("date_of_birth", ["0001-01-01", "1899-12-31", "9999-12-31"])
def test_finding_6_a_date_of_birth_before_1900_or_in_the_future_is_refused(
    app: Flask, people: People, date_of_birth: str
) -> None:
    client = client_for(app, people.staff)
    response = post_form(
        client,
        "/patients/new",
        {"full_name": "Old Timer", "date_of_birth": date_of_birth, "sex": "female"},
    )
    assert response.status_code == 200
    assert error_messages(response.get_data(as_text=True))


@pytest.mark.parametrize("year", [1, 1000, 1899])
def test_finding_6_the_risk_page_survives_an_old_row_already_stored(
    app: Flask, people: People, sql: Session, year: int
) -> None:
    """Rows written before the fix: the risk and patient pages show, never a 500."""
    for when, sbp in ((dt.datetime(year, 1, 1), 120), (dt.datetime(2024, 5, 1, 9, 30), 135)):
        sql.add(
            ClinicalInput(
                patient_id=people.patient.id,
                entered_by_id=people.staff.id,
                recorded_at=when,
                systolic_bp_mmhg=sbp,
            )
        )
    sql.commit()
    client = client_for(app, people.doctor)
    risk = client.get(f"/patients/{people.patient.id}/risk/")
    assert risk.status_code == 200
    assert "Systolic blood pressure (mmHg), 1 measurement" in risk.get_data(as_text=True)
    assert client.get(f"/patients/{people.patient.id}/risk/?what_if=1").status_code == 200
    assert client.get(f"/patients/{people.patient.id}").status_code == 200
    # The chart failed on the server's local clock (a naive time's timestamp is local time):
    # year 1 is out of range west of UTC. The chart leaves such a row out, on any clock.
    saved_tz = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        assert client.get(f"/patients/{people.patient.id}/risk/").status_code == 200
    finally:
        if saved_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved_tz
        time.tzset()


@pytest.mark.parametrize("recorded_at", ["10000-01-01T00:00", "2024-02-30T08:00", "yesterday"])
def test_finding_6_a_measurement_date_that_is_no_date_is_said_in_words(
    app: Flask, people: People, recorded_at: str
) -> None:
    client = client_for(app, people.staff)
    url = f"/patients/{people.patient.id}/inputs/new"
    response = post_form(client, url, {"recorded_at": recorded_at, "systolic_bp_mmhg": "130"})
    assert response.status_code == 200
    assert any(
        "Enter a real date and time" in m for m in error_messages(response.get_data(as_text=True))
    )


# --- "Wrong clinical read from bad input" (the issue's medium row), end to end ---------------


def _csv_with(tmp_path: Path, value: str) -> bytes:
    """A 20-s 2-lead synthetic CSV with one sample of lead II replaced by `value`."""
    from tests.support.ecg_files import synthetic, write_csv

    lines = write_csv(tmp_path / "ecg.csv", synthetic(20.0, 250.0, ("II", "V1"))).read_text()
    rows = lines.splitlines()
    cells = rows[2500].split(",")
    cells[1] = value
    rows[2500] = ",".join(cells)
    return ("\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("value", ["1e308", "inf", "-inf", "nan"])
def test_finding_bad_input_an_impossible_sample_is_a_gap_never_a_flat_normal_ecg(
    app: Flask, people: People, sql: Session, tmp_path: Path, value: str
) -> None:
    """One sample of 1e308 (or inf) once gave 0 beats, "No significant arrhythmia" and the
    lowest urgency; inf killed the job with "internal error". Now it is a gap of missing
    signal, said in the notes, and the rest of the strip is read."""
    from portal.services.machine_read import machine_read
    from portal.worker import Worker
    from tests.test_upload_and_review import _upload

    staff = client_for(app, people.staff)
    assert (
        _upload(staff, people.patient.id, [(_csv_with(tmp_path, value), "ecg.csv")]).status_code
        == 302
    )
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    assert report is not None, "the job failed instead of reading around the bad sample"
    read = machine_read(report)
    assert read.beats.samples.size >= 20  # about 24 beats in 20 s at 72 bpm
    assert any("missing" in note.lower() or "gap" in note.lower() for note in read.notes), (
        read.notes
    )


def test_finding_bad_input_a_header_with_a_negative_rate_is_refused_never_defaulted(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    from tests.support.ecg_files import synthetic, write_wfdb
    from tests.test_upload_and_review import _upload

    hea, dat = write_wfdb(tmp_path, synthetic(20.0, 360.0, ("MLII", "V1")))
    header = hea.read_text().splitlines()
    fields = header[0].split()
    fields[2] = "-360"
    hea.write_text("\n".join([" ".join(fields), *header[1:]]) + "\n")
    staff = client_for(app, people.staff)
    answer = _upload(
        staff, people.patient.id, [(hea.read_bytes(), "rec.hea"), (dat.read_bytes(), "rec.dat")]
    )
    assert answer.status_code == 422
    message = " ".join(error_messages(answer.get_data(as_text=True)))
    assert "sampling" in message.lower() and "-360" in message, message
    assert sql.scalar(select(func.count()).select_from(EcgReport)) == 0


# --- found by the machine-route fuzz (tests/test_fuzz.py, with Bearer tokens) ------------


def _staff_token_headers(sql: Session, people: People) -> dict[str, str]:
    from portal.services import api_tokens

    issued = api_tokens.issue(
        sql, people.staff, client_name="regression", scopes=sorted(api_tokens.SCOPES), days=1,
        actor=people.admin,
    )  # fmt: skip
    sql.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


def _diagnostics(answer: Any, status: int) -> tuple[str, list[str]]:
    assert answer.status_code == status, (answer.status_code, answer.get_data(as_text=True)[:300])
    issue = answer.get_json()["issue"][0]
    assert answer.get_json()["resourceType"] == "OperationOutcome"
    return issue["diagnostics"], issue.get("expression", [])


def test_finding_fuzz_superscript_digits_in_a_fhir_number_are_refused_in_words(
    app: Flask, people: People, sql: Session
) -> None:
    """`_count=²`, `_offset=²`, `patient=²`, `_id=²` were a 500: "²" passes str.isdigit,
    which the FHIR parameters trusted, and int() refuses it. So did 5000 digits (past int()'s
    limit) and an `_id` past 2**63 (SQLite's integers)."""
    client, headers = app.test_client(), _staff_token_headers(sql, people)
    patient = people.patient.id
    for url, name in [("/fhir/r4/Patient?_count=²", "_count"),
                      (f"/fhir/r4/Patient/{patient}/$everything?_offset=²", "_offset"),
                      ("/fhir/r4/DiagnosticReport?_count=" + "9" * 5000, "_count")]:  # fmt: skip
        message, where = _diagnostics(client.get(url, headers=headers), 400)
        assert message.startswith(f"{name} must be a whole number from 0") and where == [name]
    message, where = _diagnostics(
        client.get("/fhir/r4/Observation?patient=²", headers=headers), 400
    )
    assert message == "patient is one Patient id (e.g. patient=Patient/123)." and where == [
        "patient"
    ]
    for search in ["Patient?_id=²", "DiagnosticReport?_id=²", "Patient?_id=" + "9" * 30]:
        bundle = client.get(f"/fhir/r4/{search}", headers=headers)
        assert bundle.status_code == 200 and bundle.get_json()["total"] == 0, search
    own = client.get(f"/fhir/r4/Patient?_id=²,{patient}", headers=headers).get_json()
    assert [e["resource"]["id"] for e in own["entry"]] == [
        str(patient)
    ]  # the valid id still counts


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_finding_fuzz_a_fhir_patient_identifier_that_is_no_list_is_a_400_naming_it(
    app: Flask, people: People, sql: Session, method: str
) -> None:
    """`"identifier": 5` in a Patient was a 500 (the MRN was looked for before the structure
    check, by iterating the number). Now the structure check names the element."""
    client, headers = app.test_client(), _staff_token_headers(sql, people)
    url = "/fhir/r4/Patient" + (f"/{people.patient.id}" if method == "PUT" else "")
    for junk in (5, 10**400, True, 1.5):
        resource = {"resourceType": "Patient", "name": [{"text": "Grace Hopper"}],
                    "gender": "female", "birthDate": "1946-12-09", "identifier": junk}  # fmt: skip
        if method == "PUT":
            resource["id"] = str(people.patient.id)
        answer = client.open(url, method=method, json=resource, headers=headers)
        message, where = _diagnostics(answer, 400)
        assert message.startswith("Patient.identifier: ") and where == ["Patient.identifier"]
    assert sql.scalar(select(func.count()).select_from(Patient)) == 2  # nothing registered


@pytest.mark.parametrize(
    "body",
    [b"9" * 5000, b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000],
    ids=["5000-digit number", "nested 100000 deep", "objects nested 50000 deep"],
)
def test_finding_fuzz_json_past_the_parsers_limits_is_a_400_not_a_500(
    app: Flask, people: People, sql: Session, body: bytes
) -> None:
    """JSON that Python's parser refuses past syntax errors (a number of more than 4300
    digits: ValueError; nesting past the recursion limit: RecursionError) was a 500 on every
    /api/v1 write and, when nested, on FHIR's. Now it is refused like any unreadable JSON."""
    client, headers = app.test_client(), _staff_token_headers(sql, people)
    for url in ("/api/v1/patients", f"/api/v1/patients/{people.patient.id}/clinical-inputs"):
        answer = client.post(url, data=body, content_type="application/json", headers=headers)
        assert answer.status_code == 400, (url, answer.status_code)
        assert answer.get_json()["error"]["message"] == "Invalid JSON body."
    patch = client.patch(f"/api/v1/patients/{people.patient.id}", data=body,
                         content_type="application/json", headers=headers)  # fmt: skip
    assert patch.status_code == 400
    answer = client.post("/fhir/r4/Patient", data=body, content_type="application/fhir+json",
                         headers=headers)  # fmt: skip
    message, _ = _diagnostics(answer, 400)
    assert message.startswith("The body is not JSON")


def test_a_fhir_body_that_is_not_utf8_is_refused_not_stored_with_replaced_letters(
    app: Flask, people: People, sql: Session
) -> None:
    """A Latin-1 body had stored "Ren\ufffde" for Renée, for good; the REST API refused it
    (an integrator's audit). FHIR JSON is UTF-8."""
    client, headers = app.test_client(), _staff_token_headers(sql, people)
    body = ('{"resourceType": "Patient", "name": [{"text": "Renée Latin"}], '
            '"birthDate": "1960-01-02", "gender": "female"}').encode("latin-1")  # fmt: skip
    answer = client.post("/fhir/r4/Patient", data=body, content_type="application/fhir+json",
                         headers=headers)  # fmt: skip
    message, _ = _diagnostics(answer, 400)
    assert "not UTF-8" in message
    assert client.get("/fhir/r4/Patient?name=Latin", headers=headers).get_json()["total"] == 0
