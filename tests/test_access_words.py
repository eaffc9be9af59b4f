"""Every action the portal audits on a patient's record reads in plain words on the patient's
"who has looked at my record" page (`portal.access_words`). An audit: a staff member's new
temporary password and a doctor's release of a held report read "looked at or changed your
record"."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access_words import ACTIONS, SYSTEM_ACTOR, what, who
from portal.models import AuditEvent, utcnow
from tests.conftest import People, client_for, post_form

PORTAL = Path(__file__).resolve().parents[1] / "portal"
# Actions on patients' records written as a literal beside `patient_id=` in an audit call.
AUDITED = re.compile(r'"((?:patient|report|recording|clinical_input|job)\.[a-z_]+)"')


def test_every_audited_action_on_a_record_has_plain_words() -> None:
    actions = {
        action
        for path in PORTAL.rglob("*.py")
        for action in AUDITED.findall(path.read_text(encoding="utf-8"))
        if not action.endswith((".id", "_id"))
    }
    assert {"report.release", "patient.portal_password_reset"} <= actions
    missing = sorted(actions - set(ACTIONS))
    assert missing == [], f"no plain words for {missing} in portal/access_words.py"


# The audit calls, and which keyword names the patient in each.
AUDIT_CALLS = {"record": "patient_id", "record_at_most_every": "patient_id",
               "audited": "patient_id", "audit_read": "patient_ids"}  # fmt: skip
ACTION = re.compile(r"[a-z_]+(?:\.[a-z_]+)+")
VAGUE = "looked at or changed your record"  # what an action without words of its own reads


def _actions_audited_with_a_patient() -> set[str]:
    """Every action literal an audit call is made with where the call names a patient (its
    `patient_id` is not None, or `patient_ids` not an empty list)."""
    found = set()
    for path in PORTAL.rglob("*.py"):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(call, ast.Call):
                continue
            name = getattr(call.func, "attr", getattr(call.func, "id", None))
            keyword = next((k for k in call.keywords if k.arg == AUDIT_CALLS.get(name or "")), None)
            if keyword is None or ast.unparse(keyword.value) in ("None", "[]"):
                continue
            found |= {
                node.value
                for arg in call.args
                for node in ast.walk(arg)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and ACTION.fullmatch(node.value)
            }
    return found


def test_every_action_audited_on_a_patient_has_words_of_its_own() -> None:
    """An access audit: a PDF the portal issued again (`document.reissued`) read "hospital
    staff | looked at or changed your record"."""
    actions = _actions_audited_with_a_patient() - {"access.refused"}  # not on the page
    assert {"document.reissued", "report.sign", "fhir.waveform.read"} <= actions
    vague = sorted(a for a in actions if what(AuditEvent(action=a, details={})) == VAGUE)
    assert vague == [], f"no plain words for {vague} in portal/access_words.py"


def test_a_pdf_the_portal_issued_again_is_the_portals_and_says_why() -> None:
    reissued = AuditEvent(action="document.reissued", actor_username="system",
                          details={"reason": "missing", "kind": "patient"})  # fmt: skip
    assert who(reissued, {}) == "the portal"
    assert what(reissued) == "made an ECG report's PDF again (the stored copy was missing)"
    # an account a person took the name "system" for is still that person
    staff = AuditEvent(action="patient.view", actor_username="system", actor_role="staff")
    assert who(staff, {"system": "Sys Tem"}) == "Sys Tem (hospital staff)"
    worker = AuditEvent(action="report.create", actor_username="analysis worker")
    assert who(worker, {}) == SYSTEM_ACTOR


def test_turning_a_patients_login_off_and_on_is_on_their_list(
    app: Flask, people: People, sql: Session
) -> None:
    """An access audit: an administrator's reactivation of a patient's login was audited
    `account.activate` with no patient, so the patient's list never said it."""
    admin = client_for(app, people.admin)
    login = f"/admin/accounts/{people.patient_account.id}"
    for step in ("deactivate", "activate"):
        assert (
            post_form(admin, f"{login}/{step}", {}, token_page="/admin/accounts").status_code == 302
        )
    page = client_for(app, people.patient_account).get("/my/access").get_data(as_text=True)
    assert (
        "<td>Admin1 (administrator)</td><td>turned your login to this portal back on</td>"
    ) in page
    assert "<td>Admin1 (administrator)</td><td>turned off your login to this portal</td>" in page
    # a staff member's login stays off every patient's list
    assert post_form(admin, f"/admin/accounts/{people.staff.id}/deactivate", {},
                     token_page="/admin/accounts").status_code == 302  # fmt: skip
    sql.expire_all()
    staff_rows = select(AuditEvent.patient_id).where(
        AuditEvent.action == "account.deactivate", AuditEvent.object_id == people.staff.id
    )
    assert list(sql.scalars(staff_rows)) == [None]


def test_an_unlock_of_a_patients_login_is_on_their_list(
    app: Flask, people: People, sql: Session
) -> None:
    """A review: an administrator's unlock of a patient's login (and any other change to that
    login: its password, its two-step login) named no patient, so the patient's list never
    said it, though turning the login off and on did."""
    account = people.patient_account
    account.locked_until = utcnow() + dt.timedelta(minutes=15)
    sql.commit()
    admin = client_for(app, people.admin)
    unlock = f"/admin/accounts/{account.id}/unlock"
    assert post_form(admin, unlock, {}, token_page="/admin/accounts").status_code == 302
    page = client_for(app, account).get("/my/access").get_data(as_text=True)
    assert (
        "<td>Admin1 (administrator)</td><td>unlocked your login to this portal (locked after "
        "wrong passwords)</td>"
    ) in page
    # a staff member's unlock stays off every patient's list
    assert post_form(
        admin, f"/admin/accounts/{people.staff.id}/unlock", {}, token_page="/admin/accounts"
    ).status_code == 302  # fmt: skip
    sql.expire_all()
    rows = select(AuditEvent.object_id, AuditEvent.patient_id).where(
        AuditEvent.action == "account.unlock"
    )
    assert sorted(sql.execute(rows).tuples()) == sorted(
        [(account.id, people.patient.id), (people.staff.id, None)]
    )


def test_each_row_about_a_report_names_its_test_as_the_list_of_reports_does(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient's side read 14 identical rows "7 December 2026, 15:30 · you ·
    downloaded an ECG report": which report was downloaded, not said."""
    from tests.test_entered_in_error import _signed

    report = _signed(app, people, sql, tmp_path)
    patient = client_for(app, people.patient_account)
    listed = patient.get("/my/reports").get_data(as_text=True)
    test = re.search(r"<tr><td>(Test (?:done|received) on [^<]+)<br>", listed)
    assert test is not None, listed
    for _ in range(2):
        assert patient.get(f"/my/reports/{report.id}/summary.pdf").status_code == 200
    page = patient.get("/my/access").get_data(as_text=True)
    rows = re.findall(r"<tr>.*?</tr>", page, flags=re.S)
    downloads = [row for row in rows if "downloaded an ECG report" in row]
    signed = [row for row in rows if "checked and signed an ECG report" in row]
    assert len(downloads) == 2 and len(signed) == 1, rows
    for row in [*downloads, *signed]:
        assert f'<span class="muted small which-test">{test.group(1)}</span>' in row, row
    # A row about no report names none.
    registered = [row for row in rows if "registered you as a patient" in row]
    assert registered and not any("which-test" in row for row in registered)
