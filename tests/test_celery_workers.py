"""Distributed analysis (JOB_WORKER=celery): real `cardio celery-worker` processes, a real
Redis broker (tests/support/redis_server.py) and the throwaway MariaDB.

Two workers share 20 uploads; one is SIGKILLed mid-job: every job still ends SUCCEEDED with
exactly one report, the killed worker's job is requeued by the heartbeat rule and re-run by
the other, and the jobs name both workers. A job whose message never reached the broker is
run anyway (the workers' sweep), and a signature's PDFs are rendered by a worker's task.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import html
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal import create_app, tasks
from portal.celery_app import QUEUE
from portal.cli import main as cardio
from portal.config import ConfigError, load_settings
from portal.models import AnalysisJob, BulkExportJob, EcgReport, JobState, ReportDocument
from portal.services import bulk_export, reports
from portal.worker import Worker
from tests.conftest import PASSWORD, People, client_for, make_settings, post_form
from tests.support.ecg_files import synthetic, write_csv
from tests.support.mariadb import _free_port

pytestmark = [pytest.mark.mariadb, pytest.mark.redis]
CARDIO = Path(sys.executable).with_name("cardio")
MARIADB_ONLY = pytest.mark.parametrize("database_url", ["mariadb"], indirect=True)
SWEEP_SECONDS = 2
HANG_MESSAGE = "Hanging until killed (test)"

HANG_HOOK = textwrap.dedent(
    '''
    """Loaded by a test worker (PYTHONPATH): after CARDIO_TEST_HANG_AFTER_JOBS analyses, the
    next one says so and hangs, so the test can kill the worker mid-job."""
    import os
    import time

    if os.environ.get("CARDIO_TEST_HANG_AFTER_JOBS"):
        import ml.analysis

        _real = ml.analysis.analyze
        _done = [0]

        def _analyze(recording, *args, **kwargs):
            if _done[0] >= int(os.environ["CARDIO_TEST_HANG_AFTER_JOBS"]):
                if kwargs.get("progress") is not None:
                    kwargs["progress"](0.15, "Hanging until killed (test)")
                time.sleep(600)
            _done[0] += 1
            return _real(recording, *args, **kwargs)

        ml.analysis.analyze = _analyze
    '''
)


@pytest.fixture
def app(database_url: str, tmp_path: Path, redis_url: str) -> Iterator[Flask]:
    """The web process as JOB_WORKER=celery runs it (overrides conftest's `app`)."""
    redis.Redis.from_url(redis_url).delete(QUEUE)  # nothing left over from another test
    settings = dataclasses.replace(
        make_settings(database_url, tmp_path), job_worker="celery", celery_broker_url=redis_url
    )
    application = create_app(settings, TESTING=True)
    yield application
    application.extensions["db_engine"].dispose()


class Workers:
    """`cardio celery-worker` processes against the test's database, storage and broker."""

    def __init__(self, app: Flask, database_url: str, redis_url: str, tmp_path: Path) -> None:
        self.app, self.database_url, self.redis_url = app, database_url, redis_url
        self.tmp_path = tmp_path
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        hooks = tmp_path / "hooks"
        hooks.mkdir(exist_ok=True)
        (hooks / "sitecustomize.py").write_text(HANG_HOOK)
        self.hooks = hooks

    def log(self, name: str) -> Path:
        return self.tmp_path / f"{name}.log"

    def start(
        self, name: str, hang_after_jobs: int | None = None, database_url: str | None = None
    ) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DATABASE_URL": database_url or self.database_url,
            "STORAGE_DIR": str(self.app.config["SETTINGS"].storage_dir),
            "INSTANCE_DIR": str(self.tmp_path / f"instance-{name}"),
            "CARDIO_ENV": "development",
            "JOB_WORKER": "celery",
            "CELERY_BROKER_URL": self.redis_url,
            "JOB_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "PYTHONPATH": os.pathsep.join([str(self.hooks), os.environ.get("PYTHONPATH", "")]),
        }
        env.pop("CARDIO_TEST_HANG_AFTER_JOBS", None)
        if hang_after_jobs is not None:
            env["CARDIO_TEST_HANG_AFTER_JOBS"] = str(hang_after_jobs)
        log = open(self.log(name), "wb")  # noqa: SIM115 (lives with the process)
        process = subprocess.Popen(
            [str(CARDIO), "celery-worker", "-n", f"{name}@%h", "--loglevel", "INFO"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp_path,
        )  # fmt: skip
        self.processes[name] = process
        return process

    def wait_ready(self, *names: str, timeout_s: float = 60) -> None:
        """Until each worker consumes from the broker (Celery logs 'NAME@host ready.')."""
        wait_for(
            lambda: all(" ready." in self.log(n).read_text(errors="replace") for n in names),
            timeout_s, f"workers {', '.join(names)} ready", self,
        )  # fmt: skip

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # warm shutdown: removes its heartbeat
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {name}\n{self.log(name).read_text(errors='replace')[-4000:]}"
            for name in self.processes
        )


@pytest.fixture
def workers(app: Flask, database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(app, database_url, redis_url, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, workers: Workers) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if condition():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout_s} s\n{workers.logs()}")


def upload(app: Flask, people: People, tmp_path: Path, seed: int) -> None:
    """A 10-s synthetic strip (a new file for each seed), uploaded by staff on the web form."""
    staff = client_for(app, people.staff)
    csv = write_csv(tmp_path / f"ecg-{seed}.csv", synthetic(10, 250, seed=seed)).read_bytes()
    page = f"/patients/{people.patient.id}/recordings/new"
    response = post_form(
        staff, page, {"files": [(io.BytesIO(csv), f"ecg-{seed}.csv")]},
        token_page=page, content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def all_jobs(sql: Session) -> list[AnalysisJob]:
    sql.expire_all()
    return list(sql.scalars(select(AnalysisJob).order_by(AnalysisJob.id)))


@MARIADB_ONLY
def test_two_workers_share_20_jobs_and_a_killed_workers_job_runs_again_once(
    app: Flask, people: People, sql: Session, tmp_path: Path, workers: Workers, database_url: str
) -> None:
    first = workers.start("w1", hang_after_jobs=2)  # its third analysis hangs until killed
    workers.start("w2")
    workers.wait_ready("w1", "w2")

    started = time.monotonic()
    for seed in range(1, 21):
        upload(app, people, tmp_path, seed)
    uploaded_s = time.monotonic() - started

    def hung() -> AnalysisJob | None:
        return next((j for j in all_jobs(sql) if j.progress_message == HANG_MESSAGE), None)

    wait_for(lambda: hung() is not None, 90, "w1's third job", workers)
    victim = hung()
    assert victim is not None and victim.state is JobState.RUNNING
    assert str(victim.worker_id).startswith("w1@"), victim.worker_id
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed = time.monotonic()

    wait_for(
        lambda: all(j.state is JobState.SUCCEEDED for j in all_jobs(sql)), 120,
        "all 20 jobs succeeded", workers,
    )  # fmt: skip
    after_kill_s = time.monotonic() - killed
    done = all_jobs(sql)
    assert len(done) == 20
    report_jobs = sql.scalars(select(EcgReport.job_id)).all()
    assert sorted(report_jobs) == [j.id for j in done]  # one report per job, none twice
    rerun = next(j for j in done if j.id == victim.id)
    assert rerun.attempts == 2 and str(rerun.worker_id).startswith("w2@"), rerun.worker_id
    assert all(j.attempts == 1 for j in done if j.id != victim.id)
    by_worker = {
        name: sum(1 for j in done if str(j.worker_id).startswith(f"{name}@"))
        for name in ("w1", "w2")
    }
    assert by_worker["w1"] == 2 and by_worker["w2"] == 18, by_worker  # spread over both
    listing = CliRunner().invoke(
        cardio, ["jobs", "--limit", "5"],
        env={"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path / "cli"),
             "CARDIO_ENV": "development", "JOB_WORKER": "none"},
    )  # fmt: skip
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert any(line.startswith("w1@") and line.split()[1] == "2" for line in lines), lines
    assert any(line.startswith("w2@") and line.split()[1] == "18" for line in lines), lines
    print(
        f"\ncelery: 20 uploads in {uploaded_s:.1f} s; w1 ran {by_worker['w1']}, w2 "
        f"{by_worker['w2']}; all done {after_kill_s:.1f} s after w1 was killed, "
        f"{time.monotonic() - started:.1f} s after the first upload"
    )


def _closed_port_url() -> str:
    return f"redis://127.0.0.1:{_free_port()}/0"


class Forwarder:
    """A local port that forwards to the test MariaDB until `close` (which also cuts the
    connections through it), and again after `open`: the database as a worker sees it, taken
    away and given back on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = _free_port()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._server: threading.Thread | None = None
        self.open()

    def open(self) -> None:
        self._stop.clear()
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: same port
        listener.settimeout(0.2)
        self._server = threading.Thread(target=self._serve, args=(listener,), daemon=True)
        self._server.start()

    def close(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.join(5)
        for connection in self._sockets:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self._sockets.clear()

    def _serve(self, listener: socket.socket) -> None:
        with listener:
            while not self._stop.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                server = socket.create_connection(self.target)
                self._sockets += [client, server]
                for source, sink in ((client, server), (server, client)):
                    threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@MARIADB_ONLY
def test_a_worker_that_cannot_reach_the_database_exits_and_leaves_the_tasks(
    app: Flask, people: People, sql: Session, tmp_path: Path, workers: Workers, redis_url: str,
    database_url: str,
) -> None:  # fmt: skip
    """An operations audit started a worker with a wrong DATABASE_URL: it took the analysis
    task and failed it, where a worker that reaches the database would have run it. It now
    exits at start, naming the database without the password, and the task stays queued."""
    upload(app, people, tmp_path, seed=9)
    assert redis.Redis.from_url(redis_url).llen(QUEUE) == 1
    wrong = make_url(database_url).set(port=_free_port(), password="Wr0ngPassw0rd")
    process = workers.start("w1", database_url=wrong.render_as_string(hide_password=False))
    assert process.wait(60) == 1
    said = workers.log("w1").read_text(errors="replace")
    assert f"Error: the worker cannot reach the database {wrong!r}: (2003, " in said, said
    assert "Wr0ngPassw0rd" not in said and " ready." not in said
    assert "check DATABASE_URL and that the database is up, then start it again." in said
    assert redis.Redis.from_url(redis_url).llen(QUEUE) == 1  # left for a worker that can
    (job,) = all_jobs(sql)
    assert job.state is JobState.QUEUED and job.attempts == 0


@MARIADB_ONLY
def test_a_task_that_meets_the_database_unreachable_is_retried_not_failed(
    app: Flask, people: People, sql: Session, tmp_path: Path, workers: Workers,
    database_url: str,
) -> None:  # fmt: skip
    """The database goes away after the worker started (a restart, a network cut): the task
    that meets it unreachable goes back to the broker for later (it had "raised unexpected"
    and waited for a sweep), and runs once the database is back."""
    url = make_url(database_url)
    forwarder = Forwarder(url.host or "127.0.0.1", url.port or 3306)
    try:
        through = url.set(host="127.0.0.1", port=forwarder.port)
        workers.start("w1", database_url=through.render_as_string(hide_password=False))
        workers.wait_ready("w1")
        forwarder.close()
        upload(app, people, tmp_path, seed=10)
        log = workers.log("w1")
        wait_for(lambda: "retry: Retry in" in log.read_text(errors="replace"), 60,
                 "the task retried", workers)  # fmt: skip
        assert "raised unexpected" not in log.read_text(errors="replace")
        (job,) = all_jobs(sql)
        assert job.state is JobState.QUEUED and job.attempts == 0
        forwarder.open()
        wait_for(lambda: all_jobs(sql)[0].state is JobState.SUCCEEDED, 90, "the job", workers)
    finally:
        forwarder.close()


@MARIADB_ONLY
def test_a_lost_message_is_made_up_by_the_sweep_and_pdfs_and_exports_run_on_a_worker(
    app: Flask, people: People, sql: Session, tmp_path: Path, workers: Workers, redis_url: str
) -> None:
    """The broker is down when the upload is saved: the upload succeeds and no message exists.
    A worker started afterwards finds the queue empty and the job waiting, and sends it again.
    Then a signature's PDFs and a FHIR bulk export are tasks run by that worker."""
    offline = create_app(
        dataclasses.replace(app.config["SETTINGS"], celery_broker_url=_closed_port_url()),
        TESTING=True,
    )
    started = time.monotonic()
    upload(offline, people, tmp_path, seed=7)
    upload_s = time.monotonic() - started
    offline.extensions["db_engine"].dispose()
    assert upload_s < 10, upload_s  # the broker being down does not hang the upload
    (job,) = all_jobs(sql)
    assert job.state is JobState.QUEUED
    assert redis.Redis.from_url(redis_url).llen(QUEUE) == 0  # its message was lost

    workers.start("w1")
    workers.wait_ready("w1")
    ready = time.monotonic()
    wait_for(lambda: all_jobs(sql)[0].state is JobState.SUCCEEDED, 60, "the lost job", workers)
    print(f"\ncelery: a lost message's job done {time.monotonic() - ready:.1f} s after ready")
    assert "sent 1 task(s) again" in workers.log("w1").read_text(errors="replace")

    report = sql.scalars(select(EcgReport)).one()
    with app.app_context():  # the web process's signature: the PDFs are a task after commit
        reports.sign(
            sql, report, actor=people.doctor, password=PASSWORD,
            expected_row_version=report.row_version,
            read=reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Normal sinus rhythm."),
        )  # fmt: skip
        sql.commit()
    signed = time.monotonic()

    def documents() -> int:
        sql.expire_all()
        return int(sql.scalar(select(func.count()).select_from(ReportDocument)) or 0)

    wait_for(lambda: documents() == 2, 60, "the PDFs of the signature", workers)
    rendered_s = time.monotonic() - signed
    print(f"celery: the signature's two PDFs stored {rendered_s:.1f} s after the commit")
    assert rendered_s < SWEEP_SECONDS + 20  # sent at the commit, not found by a later sweep

    with app.app_context():  # as portal/fhir/bulk.py starts one
        export = bulk_export.start(
            sql, people.doctor, client_name=None, request_url="http://localhost/fhir/r4/$export",
            base_url="http://localhost/", resource_types=list(bulk_export.RESOURCE_TYPES),
            since=None,
        )  # fmt: skip
        sql.commit()
        tasks.enqueue("export", export.id)

    def export_state() -> JobState:
        sql.expire_all()
        found = sql.get(BulkExportJob, export.id)
        assert found is not None
        return found.state

    wait_for(lambda: export_state() is JobState.SUCCEEDED, 60, "the bulk export", workers)
    assert str(sql.get(BulkExportJob, export.id).worker_id).startswith("w1@")  # type: ignore[union-attr]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_task_logs_its_job_and_celery_task_id_at_start_and_end(
    app: Flask, people: People, sql: Session, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An operations audit: the worker logged only "Task cardio.analysis[91d71f8f-...]
    received" and "succeeded in 13.81s: True", no job id, and the task id was stored
    nowhere, so no one could tell which upload's job a task was. Each task now logs a line
    at its start and one at its end naming its row and its Celery task id, no patient data."""
    from portal.celery_app import make_celery
    from portal.tasks import TASK_NAMES

    celery = make_celery(app.config["SETTINGS"], app)
    upload(app, people, tmp_path, seed=11)
    (job,) = all_jobs(sql)
    with app.app_context():  # as portal/fhir/bulk.py starts one
        export = bulk_export.start(
            sql, people.doctor, client_name=None, request_url="http://localhost/fhir/r4/$export",
            base_url="http://localhost/", resource_types=["Patient"], since=None,
        )  # fmt: skip
        sql.commit()
    caplog.set_level("INFO", logger="portal.celery_app")
    for kind, object_id, task_id in [
        ("analysis", job.id, "91d71f8f-aaaa"), ("documents", 7, "0c1e-bbbb"),
        ("export", export.id, "5e2d-cccc"),
    ]:  # fmt: skip
        celery.tasks[TASK_NAMES[kind]].apply(args=[object_id], task_id=task_id, throw=True)
    said = [r.getMessage() for r in caplog.records if r.name == "portal.celery_app"]
    assert said[0] == f"analysis job {job.id} (task 91d71f8f-aaaa) started"
    assert re.fullmatch(
        rf"analysis job {job.id} \(task 91d71f8f-aaaa\) finished: succeeded in \d+\.\d s", said[1]
    ), said
    assert said[2] == "PDFs of report version 7 (task 0c1e-bbbb) started"
    assert re.fullmatch(
        r"PDFs of report version 7 \(task 0c1e-bbbb\) finished: 0 version\(s\) rendered in "
        r"\d+\.\d s", said[3]
    ), said  # fmt: skip
    assert said[4] == f"bulk export {export.id} (task 5e2d-cccc) started"
    assert re.fullmatch(
        rf"bulk export {export.id} \(task 5e2d-cccc\) finished: 1 export\(s\) run, export "
        rf"{export.id} succeeded in \d+\.\d s", said[5]
    ), said  # fmt: skip
    assert len(said) == 6
    assert people.patient.full_name not in "\n".join(said) and people.patient.mrn not in str(said)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_task_leaves_after_the_commit_only_and_carries_only_the_id(
    app: Flask, sql: Session, redis_url: str
) -> None:
    broker = redis.Redis.from_url(redis_url)
    with app.app_context():
        tasks.enqueue_after_commit(sql, "analysis", 41)
        sql.rollback()
        tasks.enqueue_after_commit(sql, "analysis", 42)
        assert broker.llen(QUEUE) == 0  # not before the commit, never for the rolled back
        sql.commit()
        with pytest.raises(ValueError, match="unknown kind"):
            tasks.enqueue("analyses", 1)
    assert broker.llen(QUEUE) == 1
    message = json.loads(broker.rpop(QUEUE) or b"{}")
    assert message["headers"]["task"] == "cardio.analysis"
    args, kwargs, _options = json.loads(base64.b64decode(message["body"]))
    assert args == [42] and kwargs == {}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_in_thread_mode_a_commit_wakes_the_worker_thread(database_url: str, tmp_path: Path) -> None:
    settings = dataclasses.replace(make_settings(database_url, tmp_path), job_worker="thread")
    application = create_app(settings, TESTING=True)
    worker = Worker(application)  # not started: only its wake-up is looked at
    application.extensions["worker"] = worker
    with application.app_context(), application.extensions["db_sessionmaker"]() as session:
        tasks.enqueue_after_commit(session, "analysis", 1)
        assert not worker._wake.is_set()
        session.commit()
    assert worker._wake.is_set()
    application.extensions["db_engine"].dispose()


def test_celery_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CARDIO_ENV", "development")
    monkeypatch.setenv("JOB_WORKER", "celery")
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/2")
    settings = load_settings()
    assert settings.job_worker == "celery"
    assert settings.celery_broker_url == "redis://cache:6379/2"
    assert settings.job_sweep_seconds == 15
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://broker:6379/0")  # the more specific wins
    monkeypatch.setenv("JOB_SWEEP_SECONDS", "5")
    settings = load_settings()
    assert settings.celery_broker_url == "redis://broker:6379/0"
    assert settings.job_sweep_seconds == 5
    monkeypatch.setenv("JOB_WORKER", "rq")
    with pytest.raises(ConfigError, match="thread, none, celery"):
        load_settings()


def test_a_worker_waits_out_a_broker_outage_however_long(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Celery's default of 100 reconnection attempts made every worker exit after about 45
    minutes of Redis down (an operations audit); the README promises the analysis starts by
    itself when the broker is back, so the workers retry for as long as it takes."""
    from portal.celery_app import make_celery

    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CARDIO_ENV", "development")
    monkeypatch.setenv("JOB_WORKER", "celery")
    celery = make_celery(load_settings(), flask_app=None)
    assert celery.conf.broker_connection_max_retries is None  # Celery: None retries forever
    assert celery.conf.broker_connection_retry_on_startup is True


def test_the_default_web_process_never_imports_celery(tmp_path: Path) -> None:
    """JOB_WORKER=thread (the default): building the app and telling it of new work (which
    wakes its thread) load no Celery."""
    code = textwrap.dedent(
        """
        import sys
        from portal import create_app, tasks
        app = create_app()
        with app.app_context():
            tasks.enqueue("analysis", 1)
        assert "celery" not in sys.modules and "kombu" not in sys.modules, "celery imported"
        print("ok")
        """
    )
    env = {**os.environ, "INSTANCE_DIR": str(tmp_path), "CARDIO_ENV": "development"}
    env.pop("DATABASE_URL", None)
    env.pop("JOB_WORKER", None)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]


def test_staff_are_told_when_the_analysis_queue_cannot_be_reached(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """With Redis down the upload was saved and its job page said only "queued" (an
    operations audit): it now says the analysis waits for the service, nothing lost."""
    offline = create_app(
        dataclasses.replace(app.config["SETTINGS"], celery_broker_url=_closed_port_url()),
        TESTING=True,
    )
    try:
        staff = client_for(offline, people.staff)
        csv = write_csv(tmp_path / "ecg.csv", synthetic(10, 250, seed=8)).read_bytes()
        page = f"/patients/{people.patient.id}/recordings/new"
        response = post_form(
            staff, page, {"files": [(io.BytesIO(csv), "ecg.csv")]},
            token_page=page, content_type="multipart/form-data",
        )  # fmt: skip
        assert response.status_code == 302 and "/jobs/" in response.location
        said = html.unescape(staff.get(response.location).get_data(as_text=True))
        assert "the analysis service cannot be reached just now" in said
        (job,) = all_jobs(sql)
        assert job.state is JobState.QUEUED  # saved, waiting
    finally:
        offline.extensions["db_engine"].dispose()
