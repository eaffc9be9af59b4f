"""What a hospital system did through its token reads as that system's, for the person
whose token it holds, on the patient's "who has looked at my record" page; a change made
through FHIR is listed once, and reads and changes are said apart. An access audit: a staff
token's FHIR PUT of an address read twice, "Staff1 (hospital staff) | changed your details:
address" beside "Staff1 (hospital staff) | another hospital system, through the data
exchange, read or updated your record", and REST reads as the person's own."""

from __future__ import annotations

import html
import re

from flask import Flask
from sqlalchemy.orm import Session

from portal import access_words
from portal.services import myhealth
from tests.conftest import People, bearer_token, client_for

FHIR_JSON = "application/fhir+json"
SYSTEM = '"test client", a system acting for Staff1 (hospital staff)'


def _rows(app: Flask, people: People) -> list[tuple[str, str]]:
    """The (who, what) rows of the patient's access page, newest first."""
    page = client_for(app, people.patient_account).get("/my/access").get_data(as_text=True)
    test = r"(?:<br><span[^>]*>[^<]*</span>)?"  # the test a report's row names
    cells = re.findall(rf"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*){test}</td></tr>", page)
    return [(html.unescape(who), html.unescape(what)) for who, what in cells]


def test_a_fhir_change_is_listed_once_as_the_systems_and_reads_are_reads(
    app: Flask, people: People, sql: Session
) -> None:
    token = bearer_token(sql, people, people.staff, "fhir:read", "fhir:write", "patients:read")
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    url = f"/fhir/r4/Patient/{people.patient.id}"
    before = len(_rows(app, people))
    resource = client.get(url, headers=headers).get_json()
    resource["address"] = [{"text": "1 Navy Yard, Arlington"}]
    put = client.put(url, json=resource, headers=headers, content_type=FHIR_JSON)
    assert put.status_code == 200, put.data[:500]
    unchanged = client.put(url, json=resource, headers=headers, content_type=FHIR_JSON)
    assert unchanged.status_code == 200
    assert client.get(f"/api/v1/patients/{people.patient.id}", headers=headers).status_code == 200

    rows = _rows(app, people)
    assert rows[: len(rows) - before] == [
        (SYSTEM, "opened your record"),  # the REST read
        (SYSTEM, "sent your details, which were already up to date (nothing changed)"),
        (SYSTEM, "changed your details: address"),  # once
        (SYSTEM, "read your details"),
    ]
    assert not any("read or updated" in what for _, what in rows)

    # Closing the record through FHIR (the patient's login ends with it) is one row too.
    resource["active"] = False
    resource["telecom"] = [{"system": "phone", "value": "+1 555 0100"}]
    assert (
        client.put(url, json=resource, headers=headers, content_type=FHIR_JSON).status_code == 200
    )
    sql.expire_all()
    events = myhealth.access_events(sql, people.patient_account)
    names = myhealth.display_names(sql, events)
    said = [(access_words.who(e, names), access_words.what(e)) for e in events]
    assert said[:3] == [
        (SYSTEM, "closed your record"),
        (SYSTEM, "changed your details: phone"),
        (SYSTEM, "opened your record"),
    ]


def test_a_rest_change_is_listed_as_the_systems(app: Flask, people: People, sql: Session) -> None:
    """A review: a patient's details changed and a measurement entered through the REST API
    read "Staff1 (hospital staff) | changed your details: phone", as the token owner's own
    doing, where the same change through FHIR named the client."""
    token = bearer_token(sql, people, people.staff, "patients:read", "patients:write")
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    url = f"/api/v1/patients/{people.patient.id}"
    changed = client.patch(url, json={"phone": "+1 555 0199"}, headers=headers)
    assert changed.status_code == 200, changed.data[:500]
    entered = client.post(
        f"{url}/clinical-inputs", headers=headers,
        json={"systolic_bp_mmhg": 128, "cholesterol_unit": "mmol/L",
              "creatinine_unit": "umol/L"},
    )  # fmt: skip
    assert entered.status_code == 201, entered.data[:500]
    assert _rows(app, people)[:2] == [
        (SYSTEM, "recorded your measurements (such as blood pressure)"),
        (SYSTEM, "changed your details: phone"),
    ]
