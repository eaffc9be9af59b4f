"""Two saves of one patient at the same moment: the second is refused, as a save from a page
opened before another save is, and nothing of it is written. Both had checked the version
they were sent on before either wrote, so both were told "Saved." and one change was lost,
its audit row saying `was:` a value already gone (a write-paths audit: the web's edit page
6 of 6 on SQLite and MariaDB, FHIR's `PUT /Patient/<id>` with If-Unmodified-Since 3 of 3 on
MariaDB). Both requests are held here, after their checks, until the other has made its own,
as they were then; the saves now take turns on the patient's row."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AuditEvent, Patient
from portal.services import patients
from tests.conftest import People, client_for, csrf_token
from tests.test_fhir import FHIR_JSON, Tokens, call, tokens  # noqa: F401  (the tokens fixture)

HELD_S = 2.0  # how long a request waits, after its check, for the other's

CHANGED_MEANWHILE = "changed by someone else since you opened this page; nothing was saved"


def _both_held_after_their_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each save waits, once checked, until the other has checked too (or `HELD_S`)."""
    both_checked = threading.Barrier(2, timeout=HELD_S)
    update_as_before = patients.update_patient

    def held_update(*args: Any, **kwargs: Any) -> list[str]:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait()
        return update_as_before(*args, **kwargs)

    monkeypatch.setattr(patients, "update_patient", held_update)


def _at_once(requests: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    answers: dict[str, Any] = {}

    def run(name: str) -> None:
        answers[name] = requests[name]()

    threads = [threading.Thread(target=run, args=(name,)) for name in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _updates(sql: Session, patient_id: int, action: str) -> list[dict[str, Any]]:
    sql.expire_all()
    rows = sql.scalars(
        select(AuditEvent).where(AuditEvent.action == action, AuditEvent.patient_id == patient_id)
    )
    return [row.details or {} for row in rows]


def test_two_edit_pages_saved_at_once_save_one_and_tell_the_other(
    app: Flask, people: People, sql: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id = people.patient.id
    url = f"/patients/{patient_id}/edit"
    phone_before = sql.get(Patient, patient_id).phone  # type: ignore[union-attr]
    tabs = {"A": client_for(app, people.staff), "B": client_for(app, people.staff)}
    typed: dict[str, dict[str, str]] = {}
    for name, phone in (("A", "+1 555 3001"), ("B", "+1 555 4001")):
        page = tabs[name].get(url).get_data(as_text=True)
        opened = re.search(r'name="opened_version" type="hidden" value="([^"]+)"', page)
        assert opened, page[:500]
        typed[name] = {
            "full_name": people.patient.full_name, "date_of_birth": "1960-12-10",
            "sex": "female", "assigned_doctor_id": str(people.doctor.doctor_profile.id),
            "phone": phone, "opened_version": opened.group(1),
            "csrf_token": csrf_token(tabs[name], url),
        }  # fmt: skip
    _both_held_after_their_checks(monkeypatch)

    answers = _at_once({name: (lambda n=name: tabs[n].post(url, data=typed[n])) for name in tabs})

    said = {}
    for name, answer in answers.items():
        assert answer.status_code == 302, answer.get_data(as_text=True)[:800]
        said[name] = " ".join(tabs[name].get(answer.location).get_data(as_text=True).split())
    saved = [name for name in said if "Saved." in said[name]]
    refused = [name for name in said if CHANGED_MEANWHILE in said[name]]
    assert len(saved) == 1 and len(refused) == 1, {n: a.location for n, a in answers.items()}
    assert answers[refused[0]].location.endswith(url)
    sql.expire_all()
    assert sql.get(Patient, patient_id).phone == typed[saved[0]]["phone"]  # type: ignore[union-attr]
    updates = _updates(sql, patient_id, "patient.update")
    assert [u["was"] for u in updates] == [{"phone": phone_before}]
    assert [u["now"] for u in updates] == [{"phone": typed[saved[0]]["phone"]}]


def test_two_fhir_updates_at_once_under_if_unmodified_since_apply_one(
    app: Flask,
    people: People,
    sql: Session,
    tokens: Tokens,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RFC 9110 13.1.4: the second update's If-Unmodified-Since is older than the patient's
    meta.lastUpdated once the first is saved, so it is a 412."""
    patient_id = people.patient.id
    stored = sql.get(Patient, patient_id)
    assert stored is not None
    stored.updated_at = dt.datetime(2026, 12, 1, 9, 0, 0)  # read by the EHR a while ago
    sql.commit()
    url = f"/Patient/{patient_id}"
    read = call(app.test_client(), "GET", url, tokens.staff).get_json()
    since = dt.datetime.fromisoformat(read["meta"]["lastUpdated"])
    headers = {"If-Unmodified-Since": since.strftime("%a, %d %b %Y %H:%M:%S GMT")}
    bodies = {}
    for name, phone in (("A", "+1 555 1111"), ("B", "+1 555 2222")):
        others = [t for t in read.get("telecom", []) if t.get("system") != "phone"]
        bodies[name] = dict(read, telecom=[*others, {"system": "phone", "value": phone}])
    _both_held_after_their_checks(monkeypatch)

    answers = _at_once({
        name: (lambda n=name: call(app.test_client(), "PUT", url, tokens.staff, json=bodies[n],
                                   content_type=FHIR_JSON, headers=headers))
        for name in bodies
    })  # fmt: skip

    statuses = sorted(answer.status_code for answer in answers.values())
    assert statuses == [200, 412], {n: a.data[:400] for n, a in answers.items()}
    saved = next(name for name, answer in answers.items() if answer.status_code == 200)
    refused = answers["B" if saved == "A" else "A"].get_json()
    assert refused["issue"][0]["code"] == "conflict"
    assert "after If-Unmodified-Since" in refused["issue"][0]["diagnostics"]
    sql.expire_all()
    phone = bodies[saved]["telecom"][-1]["value"]
    assert sql.get(Patient, patient_id).phone == phone  # type: ignore[union-attr]
    assert len(_updates(sql, patient_id, "fhir.patient.update")) == 1
