"""The in-process job worker: a daemon thread that runs queued analysis jobs, then renders the
PDFs of new signatures (signing itself returns at once).

The same loop runs as its own process with `cardio worker` (JOB_WORKER=none in the web
process), and tests call `run_pending` directly. Celery workers (JOB_WORKER=celery,
portal/celery_app.py) use the same object: `run_job` for the one job a task names,
`render_documents` for the PDFs, and the same heartbeat.

Each worker beats in `worker_heartbeat` every HEARTBEAT_SECONDS from a thread of its own (so a
long analysis does not silence it); at start-up and before each claim it requeues jobs whose
worker has not beaten for 30 s (or made no progress for JOB_TIMEOUT_MINUTES), so a worker
killed mid-job loses nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from portal.models import utcnow
from portal.services import bulk_export, documents, jobs

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 5.0  # well under jobs.WORKER_DEAD_AFTER (30 s)
# A clean stop removes the heartbeat row; the stop may land while a write holds SQLite's lock
# (one CI run out of many could not remove it), so it tries again before leaving it stale.
FORGET_ATTEMPTS, FORGET_RETRY_S = 3, 1.0


class Worker:
    def __init__(
        self,
        app: Flask,
        analyzer: Callable[..., Any] | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.app = app
        self.analyzer = analyzer
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.worker_id = (worker_id or f"{self.host}:{self.pid}:{threading.get_ident()}")[:64]
        self.started_at = utcnow()
        self._stop = threading.Event()
        self._wake = threading.Event()  # new work was committed: poll now, not in a second
        self._thread: threading.Thread | None = None
        self._beat_stop = threading.Event()
        self._beat_thread: threading.Thread | None = None
        self._last_beat = 0.0  # time.monotonic() of the last beat
        # The heartbeat thread and a claim may beat at once; two INSERTs of one new row from
        # two connections deadlock on MariaDB (1213) rather than failing as a duplicate.
        self._beat_lock = threading.Lock()
        self._failed_renders: set[int] = set()  # report versions whose PDFs failed here

    def _sessions(self) -> Any:
        return self.app.extensions["db_sessionmaker"]()

    @property
    def _timeout(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.app.config["SETTINGS"].job_timeout_minutes)

    def run_pending(self, max_jobs: int | None = None) -> int:
        """Requeue stuck jobs, run queued jobs until none is left, render pending PDFs; how
        many jobs ran."""
        done = 0
        while max_jobs is None or done < max_jobs:
            if not self._claim_and_run(lambda s: jobs.claim_next(s, self.worker_id, utcnow())):
                break
            done += 1
        self.render_documents()  # then the PDFs of new signatures
        bulk_export.run_pending(self.app, self.worker_id)  # then FHIR bulk exports
        return done

    def run_job(self, job_id: int) -> bool:
        """Run this job if it is still queued (what a Celery task naming it does); whether it
        ran. Requeues stuck jobs first, as `run_pending` does before each claim."""
        return self._claim_and_run(lambda s: jobs.claim(s, job_id, self.worker_id, utcnow()))

    def render_documents(self) -> int:
        """Render and store the PDFs of new signatures; how many versions."""
        with self._sessions() as session:
            return documents.render_pending(
                session, self.app.config["SETTINGS"], self._failed_renders
            )

    def unrendered(self, signed_before: dt.datetime) -> list[int]:
        """Ids of signed versions still without PDFs, signed before `signed_before`, leaving
        out those whose rendering failed in this worker (it is not tried again and again)."""
        with self._sessions() as session:
            return [
                version.id
                for version in documents.pending_versions(session)
                if version.signed_at is not None
                and version.signed_at < signed_before
                and version.id not in self._failed_renders
            ]

    def _claim_and_run(self, claim: Callable[[Any], Any]) -> bool:
        settings = self.app.config["SETTINGS"]
        if time.monotonic() - self._last_beat > HEARTBEAT_SECONDS / 2:
            self.beat()  # alive before claiming, so no other worker's sweep takes it back
        self.requeue_stuck()
        with self._sessions() as session:
            job = claim(session)
        if job is None:
            return False
        with self.app.app_context():  # the hospital's zone, as a page has it (risk reasons)
            jobs.run(
                self._sessions,
                job.id,
                storage_dir=settings.storage_dir,
                analyzer=self.analyzer,
                reference_dir=settings.mitdb_dir,
                memory_limit_mb=settings.job_memory_limit_mb,
            )
        return True

    def requeue_stuck(self) -> int:
        """Requeue the jobs of dead workers and hung jobs (see jobs.requeue_stuck); how many."""
        with self._sessions() as session:
            return jobs.requeue_stuck(session, utcnow(), self._timeout)

    def wake(self) -> None:
        """New work was committed: the loop polls at once instead of after POLL_SECONDS."""
        self._wake.set()

    def beat(self) -> None:
        """Say this worker is alive (its heartbeat row)."""
        with self._beat_lock, self._sessions() as session:
            jobs.beat(
                session, self.worker_id, host=self.host, pid=self.pid,
                started_at=self.started_at, now=utcnow(),
            )  # fmt: skip
            self._last_beat = time.monotonic()

    def start_heartbeat(self) -> None:
        """Beat every HEARTBEAT_SECONDS from a daemon thread until `stop_heartbeat`."""
        if self._beat_thread is not None:
            return
        self._beat_stop.clear()
        self._beat_thread = threading.Thread(
            target=self._beat_loop, name="analysis-worker-heartbeat", daemon=True
        )
        self._beat_thread.start()

    def stop_heartbeat(self) -> None:
        """Stop beating and remove the heartbeat row (a clean stop: nothing is in progress,
        or what is will be requeued at once)."""
        self._beat_stop.set()
        if self._beat_thread is not None:
            self._beat_thread.join(2 * HEARTBEAT_SECONDS)
            self._beat_thread = None
        for attempt in range(1, FORGET_ATTEMPTS + 1):
            try:
                with self._sessions() as session:
                    jobs.forget_worker(session, self.worker_id)
                return
            except Exception:  # locked for a moment, or gone: the row then just goes stale
                if attempt == FORGET_ATTEMPTS:
                    log.warning(
                        "could not remove the heartbeat of worker %s", self.worker_id, exc_info=True
                    )
                else:
                    time.sleep(FORGET_RETRY_S)

    def _beat_loop(self) -> None:
        failing = FailureLog("analysis worker heartbeat failed; retrying")
        try:
            with self._beat_lock, self._sessions() as session:
                jobs.forget_stale_workers(session, utcnow())
        except Exception:  # housekeeping only
            log.exception("could not drop the heartbeats of long-gone workers")
        while True:
            try:
                self.beat()
                failing.recovered()
            except Exception:  # the database may be briefly unavailable; keep beating
                failing.failed()
            if self._beat_stop.wait(HEARTBEAT_SECONDS):
                return

    def start(self) -> None:
        """Run forever in a daemon thread (the default, embedded deployment), beating."""
        if self._thread is not None:
            return
        self.start_heartbeat()
        self._thread = threading.Thread(target=self._loop, name="analysis-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the loop to end and wait for it (a job in progress finishes first), so no
        thread is left polling a database that is about to go away."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self.stop_heartbeat()

    def _loop(self) -> None:
        failing = FailureLog("analysis worker loop failed; retrying")
        while not self._stop.is_set():
            try:
                self._wake.clear()  # a wake during this round makes the wait below return
                if self.run_pending() == 0:
                    self._wake.wait(POLL_SECONDS)
                failing.recovered()
            except Exception:  # the database may be briefly unavailable; keep serving
                failing.failed()
                self._stop.wait(5 * POLL_SECONDS)


class FailureLog:
    """A failure that repeats while the database is down, logged once with its traceback,
    then one line a minute, then "recovered": a worker logged 24 tracebacks in 12 s, 734
    lines for `cardio worker --once` (an ops audit)."""

    def __init__(self, what: str, every_s: float = 60.0, clock: Any = time.monotonic) -> None:
        self.what, self.every_s, self.clock = what, every_s, clock
        self.count, self.last_said = 0, 0.0

    def failed(self) -> None:
        """Call from an `except` block."""
        self.count += 1
        now = self.clock()
        if self.count == 1:
            log.exception(self.what)
            self.last_said = now
        elif now - self.last_said >= self.every_s:
            error = sys.exc_info()[1]
            log.error("%s (still failing, %d times so far): %r", self.what, self.count, error)
            self.last_said = now

    def recovered(self) -> None:
        if self.count:
            log.warning("%s: working again after %d failures", self.what, self.count)
            self.count = 0
