"""Fault test (issue 15): the MariaDB server dies (SIGKILL, or a clean shutdown) and comes back
on the same port and data directory while staff upload ECGs and doctors sign reports, from
several threads at once; one upload and one signature are held at their commit until the
server is down, so every run also fails requests in the middle of a transaction.

Every request answers either success or the 503 page "The database is not reachable just now;
nothing was saved" (never a 500, never a stack trace); afterwards every upload that succeeded
has its recording row, its job row and its stored file, every one that failed left neither
row nor file; every signature that succeeded is final with exactly one physician version,
every one that failed left the report preliminary with its machine read only; the audit chain
still verifies; and the portal works again at once (the pool replaces dead connections).

The test runs its own MariaDB server (the suite's shared one is never restarted)."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import create_app, migrate
from portal.errors import COMMIT_UNKNOWN_MESSAGE, DATABASE_DOWN_MESSAGE
from portal.models import (
    AnalysisJob,
    AuditEvent,
    EcgRecording,
    EcgReport,
    JobState,
    ReportStatus,
    Role,
    Sex,
    VersionKind,
    utcnow,
)
from portal.services import audit, jobs, patients
from portal.storage import recording_folder
from portal.worker import Worker
from tests.conftest import PASSWORD, client_for, csrf_token, make_account, make_settings
from tests.support.ecg_files import synthetic, write_csv
from tests.support.mariadb import (
    MariaDBServer,
    MariaDBUnavailable,
    _free_port,
    create_database,
)

UPLOAD_THREADS = 3
SIGN_THREADS = 2
REPORTS_TO_SIGN = 40  # prepared (uploaded and analysed) before the fault
BEFORE_FAULT_S = 2.0  # traffic before the kill ...
DOWN_S = 2.0  # ... the server stays dead this long (then the restart, ~1-2 s more) ...
AFTER_RESTART_S = 2.5  # ... and traffic goes on this long after it answers again
UPLOAD_PAUSE_S = 0.05  # between one thread's requests (after a 503: RETRY_PAUSE_S)
SIGN_PAUSE_S = 0.15
RETRY_PAUSE_S = 0.25
JOB_LOCATION = re.compile(r"/jobs/(\d+)$")


@dataclass
class Attempt:
    kind: str  # "upload" | "sign"
    key: str  # the upload's SHA-256 | the report's id
    started: float  # time.monotonic()
    ended: float
    status: int
    location: str
    body: str
    error: str = ""  # an exception the client raised instead of answering

    @property
    def succeeded(self) -> bool:
        if self.kind == "upload":
            return self.status == 302 and JOB_LOCATION.search(self.location) is not None
        # (at the page's message: "/reports/2#messages")
        return self.status == 302 and self.location.split("#")[0].endswith(f"/reports/{self.key}")

    @property
    def failed_cleanly(self) -> bool:
        return self._answered_503(DATABASE_DOWN_MESSAGE)

    @property
    def outcome_unknown(self) -> bool:
        """The connection was lost after its COMMIT went out: saved or not, whole either way."""
        return self._answered_503(COMMIT_UNKNOWN_MESSAGE)

    def _answered_503(self, message: str) -> bool:
        text = html.unescape(self.body)
        return (
            self.status == 503
            and message in text
            and "Traceback" not in text
            and "sqlalchemy" not in text.lower()
            and "pymysql" not in text.lower()
        )


@pytest.fixture
def dedicated_server(tmp_path: Path) -> Iterator[MariaDBServer]:
    server = MariaDBServer(tmp_path / "mariadb")
    try:
        server.start()
    except MariaDBUnavailable as missing:
        pytest.skip(f"needs a MariaDB server binary it may restart: {missing}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def app_on_it(dedicated_server: MariaDBServer, tmp_path: Path) -> Iterator[Flask]:
    url = create_database(dedicated_server.host_url, "cardio_fault")
    migrate.upgrade(url)
    application = create_app(replace(make_settings(url, tmp_path), job_worker="none"))
    yield application
    application.extensions["db_engine"].dispose()


def _csv_variants(tmp_path: Path, count: int) -> list[bytes]:
    """`count` distinct valid CSV recordings (10 s, 3 leads, 250 Hz): one synthetic ECG with
    one sample nudged by a microvolt per variant, so each has its own SHA-256."""
    base = write_csv(tmp_path / "base.csv", synthetic(10, 250)).read_text().splitlines()
    header, first, rest = base[0], base[1].split(","), base[2:]
    variants = []
    for i in range(count):
        nudged = [first[0], f"{float(first[1]) + i * 1e-3:.6f}", *first[2:]]
        variants.append("\n".join([header, ",".join(nudged), *rest, ""]).encode())
    return variants


def _upload(client: FlaskClient, patient_id: int, token: str, content: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        f"/patients/{patient_id}/recordings/new",
        data={"files": [(io.BytesIO(content), "ecg.csv")], "csrf_token": token},
        content_type="multipart/form-data",
    )


def _sign(client: FlaskClient, report_id: int, row_version: int, token: str):  # type: ignore[no-untyped-def]
    form = {
        "rhythm_label": "Sinus rhythm",
        "findings": ["SINUS"],
        "conclusion": "Normal ECG.",
        "row_version": str(row_version),
        "password": PASSWORD,
        "csrf_token": token,
    }
    return client.post(f"/reports/{report_id}/sign", data=form)


def _attempt(kind: str, key: str, send) -> Attempt:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    try:
        response = send()
    except Exception as error:  # the client raised: the portal did not answer at all
        return Attempt(kind, key, started, time.monotonic(), 0, "", "", repr(error))
    return Attempt(
        kind, key, started, time.monotonic(), response.status_code,
        response.headers.get("Location", ""), response.get_data(as_text=True),
    )  # fmt: skip


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class HoldAtCommit:
    """Holds one upload and one signature at their commit (their rows flushed, their audit
    rows about to be chained) until the server is down, so that every run catches requests
    in the middle of a transaction, not only requests that cannot connect."""

    ACTIONS = {"recording.upload": "upload", "report.sign": "sign"}

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.armed = False
        self.held: dict[str, str] = {}  # kind -> key (SHA-256 or report id)
        self.all_held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._append = audit._append
        monkeypatch.setattr(audit, "_append", self._held_append)

    def _held_append(self, session: Session, events: list[AuditEvent]) -> None:
        kind = next((self.ACTIONS[e.action] for e in events if e.action in self.ACTIONS), None)
        with self._lock:
            hold = self.armed and kind is not None and kind not in self.held
            if hold:
                event = next(e for e in events if e.action in self.ACTIONS)
                key = (event.details or {}).get("sha256") or str(event.object_id)
                self.held[kind] = key  # type: ignore[index]
                if len(self.held) == len(self.ACTIONS):
                    self.all_held.set()
        if hold:
            self.release.wait(60)
        self._append(session, events)


def test_an_unreachable_database_answers_503_in_words(tmp_path: Path) -> None:
    """No server at all (nothing listens on the port): the login, which reads the account,
    answers the 503 page with Retry-After, not a 500; pages that need no database still work."""
    url = f"mysql+pymysql://cardio:pw@127.0.0.1:{_free_port()}/cardio"
    app = create_app(make_settings(url, tmp_path))
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"username": "staff1", "password": PASSWORD, "csrf_token": token}
    )
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert DATABASE_DOWN_MESSAGE in page and "Traceback" not in page and "pymysql" not in page
    assert client.get("/login").status_code == 200


@pytest.mark.mariadb
@pytest.mark.parametrize("how", ["kill", "shutdown"])
def test_a_database_restart_during_uploads_and_signing_loses_nothing_and_half_writes_nothing(
    app_on_it: Flask,
    dedicated_server: MariaDBServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """`kill`: SIGKILL, as a crash or the OOM killer does; `shutdown`: SIGTERM, a clean stop
    (an upgrade, a failover), which ends every client connection first."""
    app = app_on_it
    began = time.monotonic()
    engine = app.extensions["db_engine"].execution_options(isolation_level="READ COMMITTED")
    storage_dir: Path = app.config["SETTINGS"].storage_dir

    # Arrange: a staff member, a doctor with one patient, and reports analysed before the fault.
    with Session(engine, expire_on_commit=False) as sql:
        staff = make_account(sql, Role.STAFF, "staff1")
        doctor = make_account(sql, Role.DOCTOR, "doctor1")
        patient = patients.register_patient(
            sql,
            patients.PatientDetails(
                "Ada Lovelace", dt.date(1960, 12, 10), Sex.FEMALE,
                assigned_doctor_id=doctor.doctor_profile.id,
            ),
            actor=staff,
            today=dt.date.today(),
        )  # fmt: skip
        sql.commit()
    variants = iter(_csv_variants(tmp_path, 600))
    preparer = client_for(app, staff)
    token = csrf_token(preparer, f"/patients/{patient.id}/recordings/new")
    for _ in range(REPORTS_TO_SIGN + 1):
        assert _upload(preparer, patient.id, token, next(variants)).status_code == 302
    assert Worker(app).run_pending() == REPORTS_TO_SIGN + 1
    with Session(engine) as sql:
        prepared = [(r.id, r.row_version) for r in sql.scalars(select(EcgReport))]
    assert len(prepared) == REPORTS_TO_SIGN + 1
    spare_report, to_sign = prepared[-1], prepared[:-1]
    prepared_at = time.monotonic()

    # Act: uploads and signatures from several threads; the server is killed and restarted.
    staff_clients = [client_for(app, staff) for _ in range(UPLOAD_THREADS)]
    doctor_clients = [client_for(app, doctor) for _ in range(SIGN_THREADS)]
    tokens = {id(c): csrf_token(c, "/account/password") for c in staff_clients + doctor_clients}
    hold = HoldAtCommit(monkeypatch)
    attempts: list[Attempt] = []
    lock = threading.Lock()
    stop = threading.Event()

    def next_variant() -> bytes | None:
        with lock:
            return next(variants, None)

    def next_report() -> tuple[int, int] | None:
        with lock:
            return to_sign.pop(0) if to_sign else None

    def uploader(client: FlaskClient) -> None:
        while not stop.is_set() and (content := next_variant()) is not None:
            send = partial(_upload, client, patient.id, tokens[id(client)], content)
            done = _attempt("upload", _sha256(content), send)
            with lock:
                attempts.append(done)
            time.sleep(UPLOAD_PAUSE_S if done.succeeded else RETRY_PAUSE_S)

    def signer(client: FlaskClient) -> None:
        while not stop.is_set() and (report := next_report()) is not None:
            report_id, row_version = report
            send = partial(_sign, client, report_id, row_version, tokens[id(client)])
            done = _attempt("sign", str(report_id), send)
            with lock:
                attempts.append(done)
            time.sleep(SIGN_PAUSE_S if done.succeeded else RETRY_PAUSE_S)

    threads = [threading.Thread(target=uploader, args=(c,)) for c in staff_clients]
    threads += [threading.Thread(target=signer, args=(c,)) for c in doctor_clients]
    for thread in threads:
        thread.start()
    try:
        time.sleep(BEFORE_FAULT_S)
        hold.armed = True
        assert hold.all_held.wait(30), f"no upload or signature reached its commit: {hold.held}"
        fault_at = time.monotonic()
        dedicated_server.kill() if how == "kill" else dedicated_server.stop()
        hold.release.set()  # the held requests go on, against a dead server
        time.sleep(DOWN_S)
        dedicated_server.restart()
        back_at = time.monotonic()
        time.sleep(AFTER_RESTART_S)
    finally:
        hold.release.set()
        stop.set()
        for thread in threads:
            thread.join(60)
    traffic_ended = time.monotonic()

    # Every request answered: success, or the clean 503 page.
    outcome = Counter(
        (a.kind, "ok" if a.succeeded else "503" if a.failed_cleanly or a.outcome_unknown else "bad")
        for a in attempts
    )
    statuses = Counter((a.kind, a.status) for a in attempts)
    in_flight = Counter(a.kind for a in attempts if a.started < fault_at < a.ended)
    print(
        f"\n{how}: outage {back_at - fault_at:.1f} s (down {DOWN_S:.0f} s, then the restart); "
        f"in flight at the {how}: {dict(in_flight)}; "
        f"uploads {outcome['upload', 'ok']} succeeded / {outcome['upload', '503']} failed; "
        f"signatures {outcome['sign', 'ok']} succeeded / {outcome['sign', '503']} failed; "
        f"statuses {dict(sorted(statuses.items()))}"
    )
    bad = [a for a in attempts if not (a.succeeded or a.failed_cleanly or a.outcome_unknown)]
    assert not bad, [
        (a.kind, a.key, a.status, a.location, a.error, re.sub(r"\s+", " ", a.body)[:600])
        for a in bad[:5]
    ]
    for kind in ("upload", "sign"):  # the fault struck both kinds of request, not just one
        assert outcome[kind, "ok"] > 0 and outcome[kind, "503"] > 0, outcome
        held = [a for a in attempts if (a.kind, a.key) == (kind, hold.held[kind])]
        assert len(held) == 1 and held[0].failed_cleanly, "a held request must fail cleanly"
    before_fault = [a for a in attempts if a.ended < fault_at]
    after_restart = [a for a in attempts if a.started > back_at]
    assert before_fault and all(a.succeeded for a in before_fault)
    # The pool replaces its dead connections: the first request after the restart succeeds.
    assert after_restart and all(a.succeeded for a in after_restart), [
        (a.kind, a.status) for a in after_restart if not a.succeeded
    ]
    failure_window = [a for a in attempts if not a.succeeded]
    assert all(a.ended >= fault_at and a.started <= back_at for a in failure_window)

    # Nothing lost, nothing half-written.
    with Session(engine) as sql:
        rows = {r.sha256: r for r in sql.scalars(select(EcgRecording))}
        unknown = {a.key for a in attempts if a.kind == "upload" and a.outcome_unknown}
        for upload in (a for a in attempts if a.kind == "upload"):
            row = rows.get(upload.key)
            if upload.succeeded or (upload.outcome_unknown and row is not None):
                assert row is not None, f"upload {upload.key[:12]} answered 302 but has no row"
                assert row.jobs, f"upload {upload.key[:12]} has a row without its job"
                if upload.succeeded:
                    job_id = int(JOB_LOCATION.search(upload.location).group(1))  # type: ignore[union-attr]
                    job = sql.get(AnalysisJob, job_id)
                    assert job is not None and job.recording_id == row.id
                files = sorted(recording_folder(storage_dir, upload.key).iterdir())
                assert [_sha256(f.read_bytes()) for f in files] == [upload.key]
            elif not upload.outcome_unknown:
                assert row is None, f"upload {upload.key[:12]} answered 503 but has a row"
                assert not recording_folder(storage_dir, upload.key).exists()
        stored = {p.name for p in (storage_dir / "recordings").glob("*/*") if p.is_dir()}
        # Every row has its files; a folder without a row only where the answer was lost.
        assert set(rows) <= stored, "rows without their stored files"
        assert stored - set(rows) <= unknown, "stored folders without a row"
        leftovers = list((storage_dir / "tmp").iterdir()) if (storage_dir / "tmp").exists() else []
        assert leftovers == [], "temporary upload files were left behind"
        assert all(r.jobs for r in rows.values())

        signed_events = Counter(
            sql.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "report.sign"))
        )
        for signature in (a for a in attempts if a.kind == "sign"):
            report = sql.get(EcgReport, int(signature.key))
            assert report is not None
            kinds = [v.kind for v in report.versions]
            signed = report.status is ReportStatus.FINAL
            if signature.succeeded or (signature.outcome_unknown and signed):
                assert report.status is ReportStatus.FINAL
                assert kinds == [VersionKind.MACHINE, VersionKind.PHYSICIAN]
                assert signed_events[report.id] == 1
            else:
                assert report.status is ReportStatus.PRELIMINARY
                assert kinds == [VersionKind.MACHINE]
                assert signed_events[report.id] == 0

        chain = audit.verify_chain(sql)
        assert chain.ok, chain

    # And the portal works as before: a new upload and a new signature.
    staff_client, doctor_client = staff_clients[0], doctor_clients[0]
    fresh = next(variants)
    uploaded = _upload(staff_client, patient.id, tokens[id(staff_client)], fresh)
    assert uploaded.status_code == 302 and JOB_LOCATION.search(uploaded.headers["Location"])
    signed = _sign(doctor_client, *spare_report, tokens[id(doctor_client)])
    assert signed.status_code == 302
    with Session(engine) as sql:
        assert sql.scalar(select(EcgRecording).where(EcgRecording.sha256 == _sha256(fresh)))
        report = sql.get(EcgReport, spare_report[0])
        assert report is not None and report.status is ReportStatus.FINAL
        assert audit.verify_chain(sql).ok
    print(
        f"timings: setup and {REPORTS_TO_SIGN + 1} reports {prepared_at - began:.1f} s, "
        f"traffic {traffic_ended - prepared_at:.1f} s, checks "
        f"{time.monotonic() - traffic_ended:.1f} s; {len(rows)} recordings stored"
    )


@pytest.mark.mariadb
def test_a_job_that_meets_a_database_restart_goes_back_to_the_queue(
    app_on_it: Flask, dedicated_server: MariaDBServer, tmp_path: Path
) -> None:
    """An operations audit killed mariadbd during an analysis and restarted it 20 s later:
    the job failed "because of an internal error" after 1 of its 3 attempts, the worker's
    log reading (2003, "Can't connect to MySQL server"): its next progress write opened a new
    connection while the server was down. A restart is not the job's failure: it goes back
    to the queue within its attempts, and runs to the end once the server is back."""
    app = app_on_it
    engine = app.extensions["db_engine"]
    with Session(engine, expire_on_commit=False) as sql:
        staff = make_account(sql, Role.STAFF, "staff1")
        patient = patients.register_patient(
            sql, patients.PatientDetails("Ada Lovelace", dt.date(1960, 12, 10), Sex.FEMALE),
            actor=staff, today=dt.date.today(),
        )  # fmt: skip
        sql.commit()
    client = client_for(app, staff)
    token = csrf_token(client, f"/patients/{patient.id}/recordings/new")
    assert _upload(client, patient.id, token, _csv_variants(tmp_path, 1)[0]).status_code == 302
    with Session(engine) as sql:
        job_id = sql.scalars(select(AnalysisJob.id)).one()
        assert jobs.claim(sql, job_id, "this-host:1:1", utcnow()) is not None

    def server_restarts(*_args: object, progress, **_kwargs: object) -> None:  # type: ignore[no-untyped-def]
        dedicated_server.kill()
        threading.Timer(2.0, dedicated_server.restart).start()  # back while the failure is retried
        progress(0.5, "Classifying beats")
        raise AssertionError("the progress was written with the server down")

    sessions = app.extensions["db_sessionmaker"]
    storage_dir = app.config["SETTINGS"].storage_dir
    state = jobs.run(sessions, job_id, storage_dir=storage_dir, analyzer=server_restarts)
    assert state is JobState.QUEUED
    with Session(engine) as sql:
        job = sql.get(AnalysisJob, job_id)
        assert job is not None
        assert (job.state, job.attempts, job.error_message) == (JobState.QUEUED, 1, None)
        assert job.progress_message == jobs.REQUEUED_MESSAGE
    assert Worker(app).run_pending() == 1
    with Session(engine) as sql:
        job = sql.get(AnalysisJob, job_id)
        assert job is not None and (job.state, job.attempts) == (JobState.SUCCEEDED, 2)


@pytest.mark.parametrize(
    "code, words",
    [
        (1053, "Server shutdown in progress"),
        (2002, "Can't connect to local server through socket"),
        (2003, "Can't connect to MySQL server on '127.0.0.1'"),
    ],
)
def test_what_a_restarting_server_answers_is_transient(code: int, words: str) -> None:
    """What else a restart raises, besides the lost connection (2006, 2013) already counted."""
    import pymysql
    from sqlalchemy.exc import OperationalError

    from portal.db import transient_database_error

    error = OperationalError("UPDATE", {}, pymysql.err.OperationalError(code, words))
    assert transient_database_error(error)
    refused = OperationalError("UPDATE", {}, pymysql.err.OperationalError(1045, "Access denied"))
    assert not transient_database_error(refused)
