"""Every endpoint requires login and an allowed role, unless explicitly public.

Walks app.url_map, so a new page without a declaration fails here before it ships. Machine
endpoints (/api/, /fhir/) take a bearer token only: without one, a browser's session included,
they answer 401 (tests/test_api.py walks them with each role's token).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.access import API_PREFIXES, PUBLIC, endpoint_access
from portal.models import EcgReport, Role
from tests.conftest import People, client_for
from tests.test_fhir import signed  # noqa: F401  (the signed report fixture)

# auth.verify: the second step of a login (it answers only to a session that passed step 1).
EXPECTED_PUBLIC = {"static", "auth.login", "auth.verify", "main.health"}
# The REST API's OpenAPI document and docs page (Swagger UI's files and its initializer).
EXPECTED_PUBLIC |= {
    "api_v1_docs.openapi_json", "api_v1_docs.swagger_ui", "api_v1_docs.swagger_ui_css",
    "api_v1_docs.swagger_ui_js", "api_v1_docs.initializer",
}  # fmt: skip


def _urls(app: Flask, people: People) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule, with ids of rows that exist."""
    ids = {
        "patient_id": people.patient.id,
        "account_id": people.staff.id,
        "job_id": 1,
        "report_id": 1,
        "token_id": 1,
        "resource_type": "Patient",  # FHIR's `<type>/_search`
    }
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        # Another row id the walk does not name (e.g. a FHIR resource's): 1.
        values = {name: ids.get(name, 1) for name in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    return out


def test_every_endpoint_declares_who_may_use_it(app: Flask) -> None:
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if endpoint_access(app, rule.endpoint) is None
    ]
    assert undeclared == []
    public = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if endpoint_access(app, rule.endpoint) == PUBLIC
    }
    assert public == EXPECTED_PUBLIC


def test_anonymous_requests_are_sent_to_login(app: Flask, people: People) -> None:
    client = app.test_client()
    checked = 0
    for endpoint, method, url in _urls(app, people):
        if endpoint_access(app, endpoint) == PUBLIC:
            continue
        response = client.open(url, method=method)
        if url.startswith(API_PREFIXES):  # a machine endpoint: no login page, a 401
            assert response.status_code == 401, (endpoint, method, response.status_code)
            assert "text/html" not in response.content_type, endpoint
            continue
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert response.location.startswith("/login"), (endpoint, response.location)
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_its_endpoints(app: Flask, people: People, role: Role) -> None:
    client = client_for(app, people.by_role(role))
    allowed_seen = refused_seen = 0
    for endpoint, method, url in _urls(app, people):
        access = endpoint_access(app, endpoint)
        if access == PUBLIC or endpoint == "auth.logout":
            continue  # logging out would end this walk
        response = client.open(url, method=method)
        if url.startswith(API_PREFIXES):  # the session cookie is no credential there
            assert response.status_code == 401, (role, endpoint, method, response.status_code)
            continue
        if role in access:
            # Allowed: never refused. (A POST without its form's CSRF token answers 400.)
            assert response.status_code not in (401, 403), (endpoint, method)
            assert not (response.location or "").startswith("/login"), (endpoint, method)
            allowed_seen += 1
        else:
            assert response.status_code == 403, (role, endpoint, method, response.status_code)
            refused_seen += 1
    assert allowed_seen > 0 and refused_seen > 0


def test_doctor_sees_only_assigned_patients(app: Flask, people: People) -> None:
    client = client_for(app, people.doctor)
    assert client.get(f"/patients/{people.patient.id}").status_code == 200
    assert client.get(f"/patients/{people.other_patient.id}").status_code == 404
    listing = client.get("/patients/").get_data(as_text=True)
    assert people.patient.full_name in listing
    assert people.other_patient.full_name not in listing
    form = client.get(f"/patients/{people.other_patient.id}/inputs/new")
    assert form.status_code == 404


def test_staff_sees_every_patient(app: Flask, people: People) -> None:
    listing = client_for(app, people.staff).get("/patients/").get_data(as_text=True)
    assert people.patient.full_name in listing and people.other_patient.full_name in listing


def test_unknown_url_is_404_not_a_login_loop(app: Flask) -> None:
    assert app.test_client().get("/no-such-page").status_code == 404


def test_health_is_public_and_checks_the_database(app: Flask) -> None:
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok", "database": "ok", "throttle": "ok", "jobs": "ok", "queue": "ok",
        "storage": "ok",
    }  # fmt: skip


def test_health_warns_when_the_storage_disk_is_nearly_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk was found only by the uploads it failed (an operations audit)."""
    import shutil

    from portal.main import routes

    assert routes.storage_space(tmp_path / "storage") == "ok"  # this disk has room
    monkeypatch.setattr(routes, "STORAGE_LOW_MB", shutil.disk_usage(tmp_path).free / 1e6 + 1e4)
    said = routes.storage_space(tmp_path / "storage")  # as if 10 GB short of the threshold
    assert re.fullmatch(
        rf"only \d+ MB free on the disk of STORAGE_DIR {re.escape(str(tmp_path))}/storage: "
        "uploads and PDFs fail when it is full; free space or move STORAGE_DIR",
        said,
    ), said


def test_health_says_when_no_worker_serves_the_queue(
    app: Flask, people: People, tmp_path: Path
) -> None:
    """An operations audit stopped every worker and uploaded an ECG: `/health` kept answering
    ok while nothing was analysed. It says so (still 200: the portal itself works)."""
    import datetime as dt

    from sqlalchemy import update

    from portal.db import db_session
    from portal.models import AnalysisJob, WorkerHeartbeat, utcnow
    from tests.conftest import upload_file
    from tests.support.ecg_files import synthetic, write_csv

    staff = client_for(app, people.staff)
    content = write_csv(tmp_path / "ecg.csv", synthetic(10.0, 250.0)).read_bytes()
    assert upload_file(staff, people.patient.id, content, "ecg.csv").status_code == 302
    with app.app_context():
        sql = db_session()
        sql.execute(update(AnalysisJob).values(created_at=utcnow() - dt.timedelta(minutes=5)))
        sql.commit()
        health = app.test_client().get("/health")
        assert health.status_code == 200
        assert health.json["jobs"] == (
            "no analysis worker is running: 1 recording(s) wait to be analysed, the oldest for "
            "5 min (start `cardio worker` or the Celery workers)"
        )
        sql.add(WorkerHeartbeat(worker_id="w1", host="here", pid=1, beat_at=utcnow()))
        sql.commit()
        assert app.test_client().get("/health").json["jobs"] == "ok"


def test_health_says_when_a_job_is_left_running_under_a_stopped_worker(
    app: Flask, people: People, tmp_path: Path
) -> None:
    """An operations audit killed both Celery workers during a 10-h upload: 75 s later
    `/health` said "jobs": "ok" while the job read "running", "worker_dead": true, and nothing
    requeued it (only a live worker's sweep does). It says so; a live worker's sweep requeues
    such a job, so with one beating it is ok."""
    import datetime as dt

    from sqlalchemy import update

    from portal.db import db_session
    from portal.models import AnalysisJob, JobState, WorkerHeartbeat, utcnow
    from tests.conftest import upload_file
    from tests.support.ecg_files import synthetic, write_csv

    staff = client_for(app, people.staff)
    content = write_csv(tmp_path / "ecg.csv", synthetic(10.0, 250.0)).read_bytes()
    assert upload_file(staff, people.patient.id, content, "ecg.csv").status_code == 302
    with app.app_context():
        sql = db_session()
        long_ago = utcnow() - dt.timedelta(minutes=5)
        sql.add(WorkerHeartbeat(worker_id="w1", host="here", pid=1, beat_at=long_ago))
        sql.execute(
            update(AnalysisJob).values(
                state=JobState.RUNNING, worker_id="w1", attempts=1, started_at=long_ago
            )
        )
        sql.commit()
        health = app.test_client().get("/health")
        assert health.status_code == 200
        assert health.json["jobs"] == (
            "no analysis worker is running: 1 analysis job(s) wait under a stopped worker "
            "(start `cardio worker` or the Celery workers)"
        )
        away = app.test_client().get("/health", environ_base={"REMOTE_ADDR": "203.0.113.7"})
        assert away.json["jobs"].startswith("no analysis worker is running: recordings wait")
        sql.add(WorkerHeartbeat(worker_id="w2", host="here", pid=2, beat_at=utcnow()))
        sql.commit()
        assert app.test_client().get("/health").json["jobs"] == "ok"


def test_health_tells_a_caller_off_the_server_no_paths_or_workload(
    app: Flask, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operations audit: `curl /health` with no login, on the published port 8000, read
    "only 3 MB free on the disk of STORAGE_DIR /tmp/.../storage", "STORAGE_DIR ... is not
    writable by the portal" and "1 recording(s) wait to be analysed, the oldest for 1 min".
    Off the server the status and its problem words stay; the paths and figures do not."""
    import dataclasses
    import datetime as dt
    import shutil

    from sqlalchemy import update

    from portal.db import db_session
    from portal.main import routes
    from portal.models import AnalysisJob, utcnow
    from tests.conftest import upload_file
    from tests.support.ecg_files import synthetic, write_csv

    staff = client_for(app, people.staff)
    content = write_csv(tmp_path / "ecg.csv", synthetic(10.0, 250.0)).read_bytes()
    assert upload_file(staff, people.patient.id, content, "ecg.csv").status_code == 302
    storage = app.config["SETTINGS"].storage_dir
    monkeypatch.setattr(routes, "STORAGE_LOW_MB", shutil.disk_usage(storage).free / 1e6 + 1e4)
    away = {"REMOTE_ADDR": "203.0.113.7"}
    with app.app_context():
        sql = db_session()
        sql.execute(update(AnalysisJob).values(created_at=utcnow() - dt.timedelta(minutes=5)))
        sql.commit()
        remote = app.test_client().get("/health", environ_base=away)
        local = app.test_client().get("/health")  # the test client asks from 127.0.0.1
    assert remote.status_code == local.status_code == 200
    said = remote.get_data(as_text=True)
    assert str(tmp_path) not in said and "MB free" not in said and "1 recording(s)" not in said
    assert remote.json["storage"].startswith("little free space on the disk of STORAGE_DIR")
    assert remote.json["jobs"].startswith("no analysis worker is running: recordings wait")
    assert f"STORAGE_DIR {storage}" in local.json["storage"]
    assert "1 recording(s) wait to be analysed" in local.json["jobs"]

    plain = tmp_path / "afile"
    plain.write_text("x")
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = dataclasses.replace(settings, storage_dir=plain / "storage")
    try:
        remote = app.test_client().get("/health", environ_base=away)
        local = app.test_client().get("/health")
    finally:
        app.config["SETTINGS"] = settings
    assert remote.status_code == local.status_code == 503
    assert remote.json == {"status": "error", "database": "ok",
                           "storage": routes.STORAGE_PROBLEM_BRIEF}  # fmt: skip
    assert str(plain) in local.json["storage"]


def test_health_fails_on_a_database_of_an_older_schema(app: Flask) -> None:
    """A database restored from an older backup answered "ok" while every login failed on a
    missing table (an ops audit): the schema's revision must be the code's."""
    engine = app.extensions["db_engine"]
    with engine.begin() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        connection.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    try:
        response = app.test_client().get("/health")
        assert response.status_code == 503
        assert response.json == {
            "status": "error",
            "database": f"schema 0002, this version needs {head}: run `cardio init-db`",
        }
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert app.test_client().get("/health").status_code == 200


def test_health_fails_when_the_storage_cannot_be_written(tmp_path: Path) -> None:
    """STORAGE_DIR below a plain file passed every check and failed each upload with a 500
    (an ops audit)."""
    from portal.main.routes import storage_problem

    assert storage_problem(tmp_path / "storage" / "not-yet") is None  # made at the first upload
    plain = tmp_path / "afile"
    plain.write_text("x")
    assert storage_problem(plain / "storage") == (
        f"STORAGE_DIR {plain / 'storage'} cannot be made: {plain} is not a folder"
    )


def test_health_says_when_signed_reports_wait_for_their_pdfs_with_no_worker(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811
) -> None:
    """An operations audit: with every worker stopped, a signed report's PDFs waited and
    `/health` said "jobs": "ok" (only analysis jobs were counted). The PDFs count too."""
    import datetime as dt

    from sqlalchemy import delete, update

    from portal.models import ReportVersion, WorkerHeartbeat, utcnow

    sql.execute(delete(WorkerHeartbeat))  # the worker that analysed it has stopped
    sql.execute(update(ReportVersion).values(signed_at=utcnow() - dt.timedelta(minutes=5)))
    sql.commit()
    health = app.test_client().get("/health")
    assert health.status_code == 200
    assert health.json["jobs"] == (
        "no analysis worker is running: 1 signed report(s) wait for their PDFs, the oldest "
        "for 5 min (start `cardio worker` or the Celery workers)"
    )
    away = app.test_client().get("/health", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert away.json["jobs"] == (
        "no analysis worker is running: signed reports wait for their PDFs (start `cardio "
        "worker` or the Celery workers; ask /health on the server for details)"
    )
    sql.add(WorkerHeartbeat(worker_id="w2", host="here", pid=2, beat_at=utcnow()))
    sql.commit()
    assert app.test_client().get("/health").json["jobs"] == "ok"


def test_health_says_when_fhir_exports_wait_or_are_left_running_with_no_worker(
    app: Flask, people: People, sql: Session
) -> None:
    """An operations audit: with every worker stopped, a FHIR `$export` queued 5 minutes before
    and one left running by a killed worker read "jobs": "ok". Both count now."""
    import datetime as dt

    from portal.models import BulkExportJob, JobState, WorkerHeartbeat, utcnow

    long_ago = utcnow() - dt.timedelta(minutes=5)
    base = "http://localhost/fhir/r4"
    asked = {"requested_by_id": people.doctor.id, "request_url": f"{base}/$export",
             "base_url": base, "resource_types": ["Patient"]}  # fmt: skip
    sql.add(BulkExportJob(**asked, created_at=long_ago))
    sql.add(WorkerHeartbeat(worker_id="w1", host="here", pid=1, beat_at=long_ago))
    sql.add(BulkExportJob(**asked, created_at=long_ago, state=JobState.RUNNING, worker_id="w1",
                          attempts=1, started_at=long_ago))  # fmt: skip
    sql.commit()
    health = app.test_client().get("/health")
    assert health.status_code == 200
    assert health.json["jobs"] == (
        "no analysis worker is running: 1 FHIR bulk export(s) wait to be run, the oldest for "
        "5 min; 1 FHIR bulk export(s) wait under a stopped worker (start `cardio worker` or "
        "the Celery workers)"
    )
    away = app.test_client().get("/health", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert away.json["jobs"] == (
        "no analysis worker is running: FHIR bulk exports wait to be run (start `cardio "
        "worker` or the Celery workers; ask /health on the server for details)"
    )
    sql.add(WorkerHeartbeat(worker_id="w2", host="here", pid=2, beat_at=utcnow()))
    sql.commit()
    assert app.test_client().get("/health").json["jobs"] == "ok"
