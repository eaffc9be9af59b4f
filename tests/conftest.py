"""Test fixtures: real databases (SQLite and a throwaway MariaDB), a fresh app per test."""

from __future__ import annotations

import html
import io
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

os.environ.setdefault("BCRYPT_ROUNDS", "4")  # real bcrypt, fewer rounds: tests stay fast

from portal import create_app, migrate  # noqa: E402
from portal.access import MFA_REQUIRED_ROLES  # noqa: E402
from portal.config import Settings  # noqa: E402
from portal.db import make_engine  # noqa: E402
from portal.models import (  # noqa: E402
    Account,
    Base,
    EcgReport,
    Patient,
    ReportStatus,
    Role,
    Sex,
    utcnow,
)
from portal.services import accounts, api_tokens, patients  # noqa: E402
from tests.support import two_step  # noqa: E402
from tests.support.mariadb import MariaDBServer, create_database  # noqa: E402
from tests.support.pdf_text import pdf_words  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"
BACKENDS = ["sqlite", "mariadb"]
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on a loopback port (Celery's broker, the throttles' Redis
    storage), or CARDIO_TEST_REDIS_URL's server."""
    external = os.environ.get("CARDIO_TEST_REDIS_URL")
    if external:
        yield _redis_database_of_this_worker(external)
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _worker_number() -> int:
    """Which pytest-xdist worker runs this session (gw0 -> 0; 0 without xdist)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def _redis_database_of_this_worker(url: str) -> str:
    """An existing Redis server is shared by the pytest workers: each uses its own database
    (the URL's number plus the worker's), so no worker's Celery reads another's queue."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + _worker_number()
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def mariadb_host_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("CARDIO_TEST_MARIADB_URL")
    if external:
        yield external.rstrip("/")
        return
    server = MariaDBServer(tmp_path_factory.mktemp("mariadb"))
    server.start()
    try:
        yield server.host_url
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database (no tables) of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    host_url = request.getfixturevalue("mariadb_host_url")
    return create_database(host_url, f"cardio_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def migrated_databases() -> dict[str, str]:
    """backend -> URL of the session's migrated test database, filled on first use."""
    return {}


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest,
    migrated_databases: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """A migrated database of each backend, emptied before each test (schema made once)."""
    backend = request.param
    if backend not in migrated_databases:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'cardio.db'}"
        else:
            url = create_database(
                request.getfixturevalue("mariadb_host_url"), f"cardio_tests_{_worker_number()}"
            )
        migrate.upgrade(url)
        migrated_databases[backend] = url
    url = migrated_databases[backend]
    _empty_all_tables(url)
    return url


def _empty_all_tables(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("PRAGMA foreign_keys=OFF"))
        else:
            connection.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == "named_lock":
                continue  # its rows are its migration's, as in every real database
            if table.name == "audit_event" and engine.dialect.name != "sqlite":
                # Its triggers refuse DELETE; TRUNCATE fires no trigger (the chain head row is
                # deleted below and rebuilt by the next audit write).
                connection.execute(text("SET SESSION lock_wait_timeout=30"))
                connection.execute(text("TRUNCATE TABLE audit_event"))
                continue
            connection.execute(table.delete())
        if engine.dialect.name != "sqlite":
            connection.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


def make_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 32,
        storage_dir=tmp_path / "storage",
        instance_dir=tmp_path / "instance",
        job_worker="none",  # tests run jobs explicitly with Worker(app).run_pending()
    )


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = create_app(make_settings(database_url, tmp_path), TESTING=True)
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture
def sql(app: Flask) -> Iterator[Session]:
    """The test's own session (not a request's): arrange data, then check what was stored."""
    engine = app.extensions["db_engine"]
    if engine.dialect.name != "sqlite":  # see what the app committed since the last query
        engine = engine.execution_options(isolation_level="READ COMMITTED")
    session = Session(engine, expire_on_commit=False)
    yield session
    session.close()


@dataclass
class People:
    """One account of each role, plus two doctors' patients, committed."""

    admin: Account
    staff: Account
    doctor: Account
    other_doctor: Account
    patient_account: Account
    patient: Patient  # assigned to `doctor`, has the portal login `patient_account`
    other_patient: Patient  # assigned to `other_doctor`

    def by_role(self, role: Role) -> Account:
        return {
            Role.ADMIN: self.admin,
            Role.STAFF: self.staff,
            Role.DOCTOR: self.doctor,
            Role.PATIENT: self.patient_account,
        }[role]


def make_account(sql: Session, role: Role, username: str) -> Account:
    """An account ready to log in; admins and doctors are enrolled in two-step login (their
    role requires it) with the test secret of tests/support/two_step.py."""
    account = accounts.create_account(
        sql,
        role=role,
        username=username,
        password=PASSWORD,
        full_name=username.title(),
        actor=None,
        must_change_password=False,
    )
    if role in MFA_REQUIRED_ROLES:
        account.totp_secret = two_step.SECRET
        account.mfa_enabled_at = utcnow()
    return account


@pytest.fixture
def people(sql: Session) -> People:
    import datetime as dt

    admin = make_account(sql, Role.ADMIN, "admin1")
    staff = make_account(sql, Role.STAFF, "staff1")
    doctor = make_account(sql, Role.DOCTOR, "doctor1")
    other_doctor = make_account(sql, Role.DOCTOR, "doctor2")
    patient = patients.register_patient(
        sql,
        patients.PatientDetails(
            "Ada Lovelace",
            dt.date(1960, 12, 10),
            Sex.FEMALE,
            assigned_doctor_id=doctor.doctor_profile.id,
        ),
        actor=staff,
        today=dt.date.today(),
    )
    other = patients.register_patient(
        sql,
        patients.PatientDetails(
            "Blaise Pascal",
            dt.date(1955, 6, 19),
            Sex.MALE,
            assigned_doctor_id=other_doctor.doctor_profile.id,
        ),
        actor=staff,
        today=dt.date.today(),
    )
    patient_account = patients.create_portal_account(sql, patient, actor=staff).account
    patient_account.password_hash = accounts.hash_password(PASSWORD)
    patient_account.must_change_password = False
    sql.commit()
    return People(admin, staff, doctor, other_doctor, patient_account, patient, other)


CSRF_PATTERN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, page: str = "/login") -> str:
    html = client.get(page).get_data(as_text=True)
    match = CSRF_PATTERN.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1) or match.group(2)


def post_form(
    client: FlaskClient,
    url: str,
    data: dict[str, object],
    *,
    token_page: str | None = None,
    **kwargs: object,
):  # type: ignore[no-untyped-def]
    """POST like a browser: with the CSRF token the portal put in its own form."""
    token = csrf_token(client, token_page or "/account/password")
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def upload_file(client: FlaskClient, patient_id: int, content: bytes, name: str):  # type: ignore[no-untyped-def]
    """Upload one recording file for a patient as staff do, from the patient's upload page."""
    page = f"/patients/{patient_id}/recordings/new"
    files = {"files": [(io.BytesIO(content), name)]}
    return post_form(client, page, files, token_page=page, content_type="multipart/form-data")


def sign_report(doctor: FlaskClient, report: EcgReport, sql: Session, **statements: object) -> None:
    """Sign `report` as the doctor logged in on `doctor`, with these statements (rhythm_label,
    findings, conclusion, ...) and the right password and row version; it must then be final."""
    form = {**statements, "password": PASSWORD, "row_version": str(report.row_version)}
    signed = post_form(doctor, f"/reports/{report.id}/sign", form,
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302, error_messages(signed.get_data(as_text=True))
    sql.expire_all()
    assert report.status is ReportStatus.FINAL


def bearer_token(sql: Session, people: People, account: Account, *scopes: str) -> str:
    """A 30-day API token of `account` with `scopes`, issued by the admin (committed)."""
    issued = api_tokens.issue(sql, account, client_name="test client", scopes=list(scopes),
                              days=30, actor=people.admin)  # fmt: skip
    sql.commit()
    return issued.secret


def login(client: FlaskClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """Log in like a user: the password, then the second step when the account has one."""
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    if response.status_code == 302 and response.location.endswith("/login/verify"):
        code = two_step.next_code(client.application, username)
        token = csrf_token(client, "/login/verify")
        response = client.post("/login/verify", data={"code": code, "csrf_token": token})
    return response


def client_for(app: Flask, account: Account) -> FlaskClient:
    client = app.test_client()
    response = login(client, account.username)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def signed_pdfs(
    app: Flask, people: People, doctor: FlaskClient, report: EcgReport, tmp_path: Path
) -> tuple[str, str]:
    """The words of a signed report's clinician PDF (read by `doctor`) and of its patient
    summary (read by the patient, logged in here)."""
    clinician = pdf_words(doctor.get(f"/reports/{report.id}/report.pdf").data, tmp_path, "c")
    patient = client_for(app, people.patient_account)
    summary = pdf_words(patient.get(f"/my/reports/{report.id}/summary.pdf").data, tmp_path, "p")
    return clinician, summary


def error_messages(page: str) -> list[str]:
    """The messages shown beside form fields, as the user reads them."""
    return [html.unescape(m) for m in re.findall(r'<p class="error"[^>]*>([^<]+)</p>', page)]


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR
