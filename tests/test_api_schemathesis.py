"""Schemathesis fuzzes the live REST API (a real werkzeug server on the loopback) from its own
OpenAPI document: every operation, with valid data and with invalid data, with a staff token
(every scope) and with a patient's token. No answer may be a 5xx, and every answer must
conform to the document: status code, content type and body schema.

Bounded for CI: a fixed number of examples per operation and mode (`EXAMPLES`), derandomised
so a run is repeatable; the figures of the run are printed and kept in
test-artifacts/api-fuzz-<backend>.json. Both databases: about 10 s of fuzzing on each.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from portal import create_app
from portal.models import EcgReport
from portal.services import api_tokens, reports
from portal.worker import Worker
from tests.conftest import PASSWORD, People, make_settings
from tests.support.ecg_files import synthetic, write_csv

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Examples per operation: valid data, invalid data (a patient's token: valid data only).
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}
PATIENT_EXAMPLES = 10
API_SCOPES = ["patients:read", "patients:write", "recordings:write", "reports:read"]


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The portal with a rate limit no fuzzing run reaches (the limit has its own test)."""
    fuzzed = dataclasses.replace(
        make_settings(database_url, tmp_path), api_rate_limit="100000 per minute"
    )
    application = create_app(fuzzed, TESTING=True)
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _seed(app: Flask, sql: Session, people: People, live_url: str, tmp_path: Path) -> dict:
    """Tokens, and a signed report of the patient (so reads and PDFs have something to find:
    ids 1 exist for patients, jobs, recordings and reports)."""
    secrets = {
        role: api_tokens.issue(sql, account, client_name=f"fuzz {role}", scopes=API_SCOPES,
                               days=1, actor=people.admin).secret
        for role, account in (("staff", people.staff), ("patient", people.patient_account))
    }  # fmt: skip
    sql.commit()
    csv = write_csv(tmp_path / "ecg.csv", synthetic(30, 250)).read_bytes()
    uploaded = requests.post(
        f"{live_url}/api/v1/patients/{people.patient.id}/recordings",
        files={"files": ("ecg.csv", io.BytesIO(csv))},
        headers={"Authorization": f"Bearer {secrets['staff']}"},
        timeout=60,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    assert report is not None
    reports.sign(
        sql, report, actor=people.doctor, password=PASSWORD,
        expected_row_version=report.row_version,
        read=reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Normal ECG."),
    )  # fmt: skip
    sql.commit()
    return secrets


def _fuzz_operation(
    operation: Any, mode: GenerationMode, count: int, call: Callable[[Any], Any], tally: dict
) -> None:
    """`count` cases of one operation in one mode, each sent and checked."""
    counted = tally["operations"][f"{operation.method.upper()} {operation.path}"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = call(case)
        tally["requests"] += 1
        tally["statuses"][response.status_code] += 1
        counted[mode.value] += 1

    run()


def _fuzz(
    schema: Any, live_url: str, secret: str, examples: dict[GenerationMode, int], tally: dict
) -> None:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {secret}"}

    def call(case: Any) -> Any:
        response = case.call(base_url=live_url, session=session, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        return response

    for result in schema.get_all_operations():
        for mode, count in examples.items():
            _fuzz_operation(result.ok(), mode, count, call, tally)


def test_schemathesis_finds_no_server_error_and_no_nonconforming_answer(
    app: Flask, sql: Session, people: People, live_url: str, tmp_path: Path,
    artifacts_dir: Path, database_url: str,
) -> None:  # fmt: skip
    secrets = _seed(app, sql, people, live_url, tmp_path)
    schema = schemathesis.openapi.from_url(f"{live_url}/api/v1/openapi.json")
    tally: dict[str, Any] = {
        "requests": 0,
        "statuses": collections.Counter(),
        "operations": collections.defaultdict(collections.Counter),
    }
    started = time.monotonic()
    _fuzz(schema, live_url, secrets["staff"], EXAMPLES, tally)
    _fuzz(schema, live_url, secrets["patient"], {GenerationMode.POSITIVE: PATIENT_EXAMPLES},
          tally)  # fmt: skip
    summary = {
        "seconds": round(time.monotonic() - started, 1),
        "requests": tally["requests"],
        "operations": len(tally["operations"]),
        "statuses": dict(sorted(tally["statuses"].items())),
        "per_operation": {k: dict(v) for k, v in sorted(tally["operations"].items())},
    }
    backend = "sqlite" if database_url.startswith("sqlite") else "mariadb"
    (artifacts_dir / f"api-fuzz-{backend}.json").write_text(json.dumps(summary, indent=2))
    print("schemathesis:", json.dumps(summary))
    assert summary["operations"] == 13
    assert not any(status >= 500 for status in summary["statuses"])
    assert summary["statuses"].get(200, 0) + summary["statuses"].get(201, 0) > 50


# The operations an integration audit found refusing schema-valid requests (schemathesis
# ST202): an upload without `files`, `status=` empty, `full_name: "0"`; and an
# interoperability audit (2026-12-07): `to=2294-08-27`, `fs_hz=0`, `name=` with a NUL
# character, a clinical input of nulls only.
ACCEPTANCE_OPERATIONS = {
    ("POST", "/api/v1/patients"),
    ("GET", "/api/v1/patients"),
    ("GET", "/api/v1/reports"),
    ("POST", "/api/v1/patients/{patient_id}/recordings"),
    ("POST", "/api/v1/patients/{patient_id}/clinical-inputs"),
}
STATED_FIELDS = {"full_name", "status", "from", "to", "fs_hz", "units", "name", "mrn"}
STATED_MESSAGES = ("Choose a recording file to upload.", "Nothing was entered")


def _refusal_the_document_allowed(response: Any) -> str | None:
    """A 422 on a field whose rule the document now states (the name's letters, the status
    list, a missing file, the years of a date, the sampling rate, a NUL in a search, an entry
    holding nothing): what was refused, else None. An upload's file content (random bytes are
    no ECG) is a rule no schema states; other fields are not this test's."""
    if response.status_code != 422:
        return None
    error = response.json()["error"]
    said = error["message"].startswith(STATED_MESSAGES)
    stated = error["field"] in STATED_FIELDS or said
    return f"{error['field']}: {error['message']}" if stated else None


def test_the_document_describes_what_the_api_accepts(
    app: Flask, sql: Session, people: People, live_url: str, tmp_path: Path
) -> None:
    """Requests valid by the document (schemathesis' positive mode) are not refused for a
    rule the document did not say: a name without letters, an empty status, no file, a date
    past 2100, a sampling rate of 0 Hz, a NUL in a search, an entry of nulls."""
    secrets = _seed(app, sql, people, live_url, tmp_path)
    schema = schemathesis.openapi.from_url(f"{live_url}/api/v1/openapi.json")
    session = requests.Session()
    headers = {"Authorization": f"Bearer {secrets['staff']}"}
    refused: list[str] = []

    def call(case: Any) -> Any:
        response = case.call(base_url=live_url, session=session, headers=headers)
        if (refusal := _refusal_the_document_allowed(response)) is not None:
            refused.append(f"{case.operation.label}: {refusal}")
        return response

    tally: dict[str, Any] = {
        "requests": 0,
        "statuses": collections.Counter(),
        "operations": collections.defaultdict(collections.Counter),
    }
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in ACCEPTANCE_OPERATIONS:
            _fuzz_operation(operation, GenerationMode.POSITIVE, 40, call, tally)
    print("schemathesis positive:", dict(tally["statuses"]))
    assert len(tally["operations"]) == len(ACCEPTANCE_OPERATIONS)
    assert tally["statuses"].get(200, 0) + tally["statuses"].get(201, 0) > 10
    assert not refused, sorted(set(refused))
