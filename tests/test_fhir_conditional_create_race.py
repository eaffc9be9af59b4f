"""A conditional create sent again while the first is still running (an EHR retrying after a
time-out) answers 200 with the patient the first made, as R4's conditional create does when
its condition finds one: it had been told 409 "Patient/8 (MRN ...) has this name and birth
date: use it (If-None-Exist: ...)", the patient it had just created (a write-paths audit on
MariaDB: `POST /Patient` with If-None-Exist 8 of 8, and `PUT /Patient?identifier=...` alike).
Both requests are held here, after their searches found no patient, until the other has
searched too, as they were then."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.fhir import codes
from portal.models import Patient
from portal.services import patients
from tests.conftest import People
from tests.test_fhir import (  # noqa: F401  (the tokens fixture)
    FHIR_JSON,
    Tokens,
    call,
    luhn_mrn,
    new_patient_json,
    tokens,
)

HELD_S = 2.0  # how long a request waits, after its search, for the other's


def _both_held_after_their_searches(monkeypatch: pytest.MonkeyPatch) -> None:
    both_searched = threading.Barrier(2, timeout=HELD_S)
    register_as_before = patients.register_patient

    def held_register(*args: Any, **kwargs: Any) -> Patient:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_searched.wait()
        return register_as_before(*args, **kwargs)

    monkeypatch.setattr(patients, "register_patient", held_register)


@pytest.mark.parametrize("how", ["POST If-None-Exist", "PUT ?identifier="])
def test_a_conditional_create_sent_twice_at_once_answers_the_patient_it_made(
    app: Flask,
    people: People,
    sql: Session,
    tokens: Tokens,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    mrn = luhn_mrn("7312045")
    criterion = f"identifier={codes.MRN_SYSTEM}|{mrn}"
    body = new_patient_json("Rita Racer", identifier=[{"system": codes.MRN_SYSTEM, "value": mrn}])
    _both_held_after_their_searches(monkeypatch)

    def send() -> Any:
        client = app.test_client()
        if how.startswith("POST"):
            return call(client, "POST", "/Patient", tokens.staff, json=body,
                        content_type=FHIR_JSON, headers={"If-None-Exist": criterion})  # fmt: skip
        return call(client, "PUT", f"/Patient?{criterion}", tokens.staff, json=body,
                    content_type=FHIR_JSON)  # fmt: skip

    answers: list[Any] = []
    threads = [threading.Thread(target=lambda: answers.append(send())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 201], [answer.data[:400] for answer in answers]
    assert {answer.get_json()["id"] for answer in answers} == {
        str(sql.scalar(select(Patient.id).where(Patient.mrn == mrn)))
    }
    assert sql.scalar(select(func.count()).select_from(Patient).where(Patient.mrn == mrn)) == 1
