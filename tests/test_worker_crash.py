"""Crash recovery: a worker killed mid-job is seen dead after 30 s without a heartbeat; its job is
requeued by any live worker (at start-up and before each claim), finishes exactly once, and
the job page offers Retry meanwhile. The last test SIGKILLs a real `cardio worker` process."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.models import AnalysisJob, EcgReport, JobState, WorkerHeartbeat, utcnow
from portal.services import jobs
from portal.worker import Worker
from tests.conftest import People, client_for, post_form
from tests.support.ecg_files import synthetic, write_csv

CARDIO = Path(sys.executable).with_name("cardio")


def _queue_job(app: Flask, people: People, sql: Session, tmp_path: Path, seconds: int = 30) -> int:
    staff = client_for(app, people.staff)
    csv = write_csv(tmp_path / f"ecg-{seconds}.csv", synthetic(seconds, 250)).read_bytes()
    response = post_form(
        staff,
        f"/patients/{people.patient.id}/recordings/new",
        {"files": [(io.BytesIO(csv), "ecg.csv")]},
        token_page=f"/patients/{people.patient.id}/recordings/new",
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    job_id = sql.scalar(select(AnalysisJob.id).order_by(AnalysisJob.id.desc()))
    assert job_id is not None
    return job_id


def _claimed_by(sql: Session, job_id: int, worker_id: str, beat_at: dt.datetime | None) -> None:
    """The job as a worker left it when it claimed it; its heartbeat last at `beat_at`."""
    now = utcnow()
    job = sql.get(AnalysisJob, job_id)
    assert job is not None
    job.state, job.worker_id, job.attempts = JobState.RUNNING, worker_id, 1
    job.started_at = job.heartbeat_at = now - dt.timedelta(seconds=40)
    if beat_at is not None:
        sql.add(WorkerHeartbeat(worker_id=worker_id, host="elsewhere", pid=1, beat_at=beat_at))
    sql.commit()


@pytest.mark.parametrize(
    ("silent_for_s", "requeued"), [(31, True), (10, False), (None, True)], ids=str
)
def test_a_job_of_a_worker_silent_for_30_s_is_requeued_at_once(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    silent_for_s: int | None,
    requeued: bool,
) -> None:
    """Silent 31 s: dead, requeued (long before JOB_TIMEOUT_MINUTES). Silent 10 s: alive,
    left alone. No heartbeat row at all: dead."""
    job_id = _queue_job(app, people, sql, tmp_path)
    beat_at = None if silent_for_s is None else utcnow() - dt.timedelta(seconds=silent_for_s)
    _claimed_by(sql, job_id, "other-host:4242:1", beat_at)
    job = sql.get(AnalysisJob, job_id)
    assert job is not None
    assert jobs.worker_is_dead(sql, job) is requeued
    job.progress_pct, job.progress_message = 31.1, "Judging signal quality"
    sql.commit()
    touched = jobs.requeue_stuck(sql, utcnow(), dt.timedelta(minutes=15))
    sql.refresh(job)
    assert touched == int(requeued)
    assert job.state is (JobState.QUEUED if requeued else JobState.RUNNING)
    # Requeued, it starts again from nothing (the bar had stayed at 31 %).
    assert job.progress_pct == (0.0 if requeued else 31.1)


def test_a_failed_job_says_its_error_not_the_step_it_was_at(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    job_id = _queue_job(app, people, sql, tmp_path)
    _claimed_by(sql, job_id, "other-host:4242:1", None)
    job = sql.get(AnalysisJob, job_id)
    assert job is not None
    job.attempts = job.max_attempts
    job.progress_pct, job.progress_message = 30.4, "Judging signal quality"
    sql.commit()
    assert jobs.requeue_stuck(sql, utcnow(), dt.timedelta(minutes=15)) == 1
    status = client_for(app, people.staff).get(f"/jobs/{job_id}/status.json").get_json()
    assert status["state"] == "failed" and status["message"] is None
    assert "giving up" in status["error"]


def test_the_job_page_offers_retry_when_the_worker_is_dead(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    job_id = _queue_job(app, people, sql, tmp_path)
    _claimed_by(sql, job_id, "other-host:4242:1", utcnow())  # alive
    staff = client_for(app, people.staff)
    page = staff.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert '<div id="job-worker-dead" hidden>' in page  # drawn, not shown
    assert staff.get(f"/jobs/{job_id}/status.json").get_json()["worker_dead"] is False
    refused = post_form(staff, f"/jobs/{job_id}/retry", {}, token_page=f"/jobs/{job_id}")
    assert refused.status_code == 409  # a live worker is on it

    heartbeat = sql.get(WorkerHeartbeat, "other-host:4242:1")
    assert heartbeat is not None
    heartbeat.beat_at = utcnow() - dt.timedelta(seconds=45)  # then it died
    sql.commit()
    page = staff.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "has not answered for 30 seconds" in page and "Retry the analysis" in page
    assert '<div id="job-worker-dead" >' in page  # shown
    # The open page learns it from its poll (only a reload had said it; an operations audit).
    assert staff.get(f"/jobs/{job_id}/status.json").get_json()["worker_dead"] is True
    retried = post_form(staff, f"/jobs/{job_id}/retry", {}, token_page=f"/jobs/{job_id}")
    assert retried.status_code == 302
    job = sql.get(AnalysisJob, job_id)
    assert job is not None
    sql.refresh(job)
    assert job.state is JobState.QUEUED
    assert Worker(app).run_pending() == 1
    sql.refresh(job)
    assert job.state is JobState.SUCCEEDED


@pytest.mark.parametrize("commits_lost", [3, 9], ids=["back-in-seconds", "away-a-minute"])
def test_a_database_outage_as_a_job_crashes_does_not_leave_it_running(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    commits_lost: int,
) -> None:
    """The database goes away as the analysis crashes, so the first commits marking the job
    failed are lost (MariaDB 2013). Back within the retries: the job is failed at once. Away
    longer than the retries (8, about a minute): the worker's next sweep fails it. Before an
    operations audit the job stayed RUNNING under a live worker for 15 min, with no Retry."""
    job_id = _queue_job(app, people, sql, tmp_path)
    lost = {"commits": 0}
    real_commit = Session.commit

    def commit(session: Session) -> None:
        if lost["commits"] > 0:
            lost["commits"] -= 1
            raise OperationalError("COMMIT", {}, Exception(2013, "Lost connection during query"))
        real_commit(session)

    def crashing(*_args: object, **_kwargs: object) -> None:
        lost["commits"] = commits_lost  # the database goes away as the analysis crashes
        raise RuntimeError("the analysis crashed")

    monkeypatch.setattr(Session, "commit", commit)
    monkeypatch.setattr(jobs, "FAIL_RETRY_DELAYS_S", (0.0,) * 8)
    assert jobs.claim(sql, job_id, "this-host:1:1", utcnow()) is not None
    sessions = app.extensions["db_sessionmaker"]
    storage_dir = app.config["SETTINGS"].storage_dir
    state = jobs.run(sessions, job_id, storage_dir=storage_dir, analyzer=crashing)
    assert state is JobState.FAILED and lost["commits"] == 0
    job = sql.get(AnalysisJob, job_id)
    assert job is not None
    sql.refresh(job)
    if commits_lost > len(jobs.FAIL_RETRY_DELAYS_S):  # still away after the retries
        assert job.state is JobState.RUNNING
        jobs.requeue_stuck(sql, utcnow(), dt.timedelta(minutes=15))  # the next sweep
        sql.refresh(job)
    assert job.state is JobState.FAILED and job.error_message == jobs.INTERNAL_ERROR
    assert not jobs._unwritten_failures


def test_a_worker_beats_and_a_clean_stop_removes_its_heartbeat(app: Flask, sql: Session) -> None:
    worker = Worker(app)
    worker.start_heartbeat()  # a thread that beats at once, then every HEARTBEAT_SECONDS
    try:
        deadline = time.monotonic() + 10
        while (beat := sql.get(WorkerHeartbeat, worker.worker_id)) is None:
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.05)
            sql.expire_all()
        assert beat.pid == os.getpid() and beat.beat_at > utcnow() - dt.timedelta(seconds=10)
    finally:
        worker.stop_heartbeat()
    sql.expire_all()
    assert sql.get(WorkerHeartbeat, worker.worker_id) is None


# --------------------------------------------------------------------------- a real crash

SLOW_ANALYSIS = textwrap.dedent(
    '''
    """Loaded by the crash test's first worker (PYTHONPATH): the analysis says so, then
    sleeps before running, so the test can kill the process mid-job."""
    import os
    import time

    if os.environ.get("CARDIO_TEST_SLOW_ANALYSIS_S"):
        import ml.analysis

        _real = ml.analysis.analyze

        def _slow(recording, classifier=None, progress=None, pacemaker=False):
            if progress is not None:
                progress(0.15, "Analysing slowly (crash test)")
            time.sleep(float(os.environ["CARDIO_TEST_SLOW_ANALYSIS_S"]))
            return _real(recording, classifier, progress, pacemaker)

        ml.analysis.analyze = _slow
    '''
)


def _start_worker(
    database_url: str,
    app: Flask,
    tmp_path: Path,
    name: str,
    slow: bool,
    ignore_sigint: bool = False,
) -> subprocess.Popen[bytes]:
    """A real `cardio worker`. `ignore_sigint`: started as a script's background job is, with
    SIGINT ignored (inherited), which the worker must overrule."""
    settings = app.config["SETTINGS"]
    hooks = tmp_path / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(SLOW_ANALYSIS)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STORAGE_DIR": str(settings.storage_dir),
        "INSTANCE_DIR": str(tmp_path / f"instance-{name}"),
        "CARDIO_ENV": "development",
        "JOB_WORKER": "none",
        "PYTHONPATH": os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("CARDIO_TEST_SLOW_ANALYSIS_S", None)
    if slow:
        env["CARDIO_TEST_SLOW_ANALYSIS_S"] = "300"
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (lives with the process)
    ignored = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    return subprocess.Popen(
        [str(CARDIO), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
        preexec_fn=ignored,
    )  # fmt: skip


def _wait_for(condition, timeout_s: float, what: str, logs: list[Path]) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    output = "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-3000:] if p.exists() else '(not started)'}"
        for p in logs
    )
    raise AssertionError(f"{what} did not happen within {timeout_s} s\n{output}")


def test_a_worker_killed_mid_job_is_replaced_and_the_job_finishes_once(
    app: Flask, people: People, sql: Session, tmp_path: Path, database_url: str
) -> None:
    """SIGKILL a real `cardio worker` while it analyses; a second worker (on this host, but
    it judges the first by its heartbeat alone) requeues the job once 30 s have passed without
    a beat, and finishes it: one report, two attempts."""
    job_id = _queue_job(app, people, sql, tmp_path)
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    processes: list[subprocess.Popen[bytes]] = []

    def job() -> AnalysisJob:
        sql.expire_all()
        found = sql.get(AnalysisJob, job_id)
        assert found is not None
        return found

    try:
        first = _start_worker(database_url, app, tmp_path, "first", slow=True)
        processes.append(first)
        _wait_for(
            lambda: job().progress_message == "Analysing slowly (crash test)",
            60, "the first worker's claim", logs,
        )  # fmt: skip
        claimed = job()
        assert claimed.state is JobState.RUNNING and claimed.attempts == 1
        first_worker = claimed.worker_id
        assert first_worker is not None and f":{first.pid}:" in first_worker
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()

        second = _start_worker(database_url, app, tmp_path, "second", slow=False)
        processes.append(second)
        requeued_s = _wait_for(lambda: job().attempts == 2, 40, "the requeue", logs)
        _wait_for(lambda: job().state is JobState.SUCCEEDED, 30, "the second run", logs)
        finished_s = time.monotonic() - killed_at
        backend = database_url.split(":")[0]
        print(f"\ncrash ({backend}): requeued {requeued_s:.1f} s, done {finished_s:.1f} s after")
        done = job()
        assert done.attempts == 2 and done.worker_id not in (None, first_worker)
        assert f":{second.pid}:" in str(done.worker_id)
        assert sql.scalar(select(func.count()).where(EcgReport.job_id == job_id)) == 1
        assert sql.scalar(select(func.count()).select_from(EcgReport)) == 1
        assert requeued_s <= 33, requeued_s  # the last beat was at most 5 s before the kill
        assert finished_s <= 45, finished_s

        second.send_signal(signal.SIGINT)  # a clean stop removes its heartbeat
        _wait_for(lambda: second.poll() is not None, 30, "the second worker's clean stop", logs)
        sql.expire_all()
        assert sql.get(WorkerHeartbeat, str(done.worker_id)) is None
        stale = sql.get(WorkerHeartbeat, first_worker)  # the dead one's beat stays, stale
        assert stale is not None and stale.beat_at < utcnow() - dt.timedelta(seconds=25)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_worker_stops_cleanly_on_ctrl_c_or_sigterm_even_if_started_ignoring_ctrl_c(
    app: Flask, sql: Session, tmp_path: Path, database_url: str, stop_signal: signal.Signals
) -> None:
    """`nohup cardio worker &` in a script starts it with SIGINT ignored, and `docker stop` or
    systemd send SIGTERM: either way the worker stops at once and removes its heartbeat (so a
    job it held is requeued at once, not after 30 s)."""
    logs = [tmp_path / "stopping.log"]
    worker = _start_worker(database_url, app, tmp_path, "stopping", False, ignore_sigint=True)
    try:

        def heartbeat_pids() -> list[int]:
            sql.expire_all()
            return [b.pid for b in sql.scalars(select(WorkerHeartbeat))]

        _wait_for(lambda: worker.pid in heartbeat_pids(), 60, "the worker's first beat", logs)
        worker.send_signal(stop_signal)
        _wait_for(lambda: worker.poll() is not None, 20, "the worker's clean stop", logs)
        assert worker.pid not in heartbeat_pids()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)


def test_a_run_whose_job_was_requeued_and_claimed_again_stops(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An operations audit: a worker whose host clock was behind was thought dead, its job
    requeued and run again by another worker while it still ran; both wrote progress, and the
    job ended "succeeded" at "95 %: Writing the report". A run that no longer holds the job's
    claim stops at its next progress and leaves the job to the run that does."""
    job_id = _queue_job(app, people, sql, tmp_path)
    assert jobs.claim(sql, job_id, "slow-clock:1:1", utcnow()) is not None
    sessions = app.extensions["db_sessionmaker"]

    def requeued_midway(*_args: object, progress, **_kwargs: object) -> None:  # type: ignore[no-untyped-def]
        with sessions() as other:  # the sweep requeues it; another worker claims it
            other.execute(
                update(AnalysisJob).where(AnalysisJob.id == job_id)
                .values(state=JobState.QUEUED, worker_id=None)
            )  # fmt: skip
            other.commit()
            assert jobs.claim(other, job_id, "other-host:2:1", utcnow()) is not None
        progress(0.5, "Classifying beats")
        raise AssertionError("the run went on after losing its claim")

    storage_dir = app.config["SETTINGS"].storage_dir
    state = jobs.run(sessions, job_id, storage_dir=storage_dir, analyzer=requeued_midway)
    assert state is JobState.RUNNING  # the other run's
    job = sql.get(AnalysisJob, job_id)
    assert job is not None
    sql.refresh(job)
    assert job.worker_id == "other-host:2:1" and job.progress_message != "Classifying beats"


def test_a_job_that_meets_a_locked_sqlite_database_is_queued_again_and_then_succeeds(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A load audit on SQLite: 2 of 54 jobs failed after one attempt, "an internal error",
    because a web request held the database's write lock a few seconds as the worker wrote
    its progress ("database is locked"). Here another connection holds a real write
    transaction on the file while the worker writes: the job goes back to the queue (the
    attempt counted) and its next run succeeds."""
    engine = app.extensions["db_engine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("the SQLite file lock; MariaDB's lock waits are covered by their codes")
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _short_busy_timeout(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=200")  # type: ignore[attr-defined]

    job_id = _queue_job(app, people, sql, tmp_path)
    sql.close()
    assert jobs.claim(sql, job_id, "this-host:1:1", utcnow()) is not None
    sql.close()

    def meets_a_lock(*_args: object, progress, **_kwargs: object) -> None:  # type: ignore[no-untyped-def]
        holder = sqlite3.connect(engine.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # a web request's write transaction
        try:
            progress(0.15, "Detecting heartbeats")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        raise AssertionError("the progress was written under another writer's lock")

    sessions = app.extensions["db_sessionmaker"]
    storage_dir = app.config["SETTINGS"].storage_dir
    state = jobs.run(sessions, job_id, storage_dir=storage_dir, analyzer=meets_a_lock)
    assert state is JobState.QUEUED
    job = sql.get(AnalysisJob, job_id)
    assert job is not None
    assert (job.attempts, job.error_message) == (1, None)
    assert job.progress_message == jobs.REQUEUED_MESSAGE
    assert Worker(app).run_pending() == 1  # the next claim: the real analysis
    sql.refresh(job)
    assert (job.state, job.attempts) == (JobState.SUCCEEDED, 2)
    assert sql.scalar(select(func.count(EcgReport.id)).where(EcgReport.job_id == job_id)) == 1


def test_a_job_out_of_attempts_fails_on_a_locked_database(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The requeue stays within the job's attempts: on its last one it fails, with Retry."""
    job_id = _queue_job(app, people, sql, tmp_path)
    job = sql.get(AnalysisJob, job_id)
    assert job is not None
    job.attempts = job.max_attempts - 1
    sql.commit()
    assert jobs.claim(sql, job_id, "this-host:1:1", utcnow()) is not None

    def locked(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))

    sessions = app.extensions["db_sessionmaker"]
    storage_dir = app.config["SETTINGS"].storage_dir
    assert jobs.run(sessions, job_id, storage_dir=storage_dir, analyzer=locked) is JobState.FAILED
    sql.refresh(job)
    assert job.state is JobState.FAILED and job.error_message == jobs.INTERNAL_ERROR
