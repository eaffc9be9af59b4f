"""The in-process job worker: a daemon thread that runs queued analysis jobs, then renders the
PDFs of new signatures (signing itself returns at once).

The same loop runs as its own process with `cardio worker` (JOB_WORKER=none in the web
process), and tests call `run_pending` directly. At start-up it first requeues jobs left
'running' by a process that died, so nothing is lost across restarts.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from portal.models import utcnow
from portal.services import documents, jobs

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0


class Worker:
    def __init__(self, app: Flask, analyzer: Callable[..., Any] | None = None) -> None:
        self.app = app
        self.analyzer = analyzer
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:64]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed_renders: set[int] = set()  # report versions whose PDFs failed here

    def _sessions(self) -> Any:
        return self.app.extensions["db_sessionmaker"]()

    @property
    def _timeout(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.app.config["SETTINGS"].job_timeout_minutes)

    def run_pending(self, max_jobs: int | None = None) -> int:
        """Requeue stuck jobs, run queued jobs until none is left, render pending PDFs; how
        many jobs ran."""
        settings = self.app.config["SETTINGS"]
        done = 0
        with self._sessions() as session:
            jobs.requeue_stuck(session, utcnow(), self._timeout)
        while max_jobs is None or done < max_jobs:
            with self._sessions() as session:
                job = jobs.claim_next(session, self.worker_id, utcnow())
            if job is None:
                break
            jobs.run(
                self._sessions,
                job.id,
                storage_dir=settings.storage_dir,
                analyzer=self.analyzer,
                reference_dir=settings.mitdb_dir,
            )
            done += 1
        with self._sessions() as session:  # then the PDFs of new signatures
            documents.render_pending(session, settings, self._failed_renders)
        return done

    def start(self) -> None:
        """Run forever in a daemon thread (the default, embedded deployment)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="analysis-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the loop to end and wait for it (a job in progress finishes first), so no
        thread is left polling a database that is about to go away."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_pending() == 0:
                    self._stop.wait(POLL_SECONDS)
            except Exception:  # the database may be briefly unavailable; keep serving
                log.exception("analysis worker loop failed; retrying")
                self._stop.wait(5 * POLL_SECONDS)
