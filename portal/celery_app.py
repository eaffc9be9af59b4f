"""Analysis jobs, PDF rendering and bulk exports on Celery workers (JOB_WORKER=celery).

    cardio celery-worker -n worker1@%h                    # one worker process (solo pool)
    celery -A portal.celery_app worker --pool solo --concurrency 1 -n worker1@%h   # the same

The tables stay the truth (portal/services/jobs.py). The web process sends a task carrying
only a row's id once that row is committed (portal/tasks.py); the task claims the row with the
same compare-and-set as the thread worker and runs it with the same code (portal/worker.py's
`Worker.run_job`), so a duplicated message is a no-op and a lost one is only late:

- acks_late with a prefetch of 1: a message is acknowledged when its task has finished, so a
  worker that dies holds at most the message of the job it was running, which the broker
  hands out again (Redis: after `VISIBILITY_TIMEOUT_S`);
- each worker process beats in `worker_heartbeat` every 5 s, as the thread worker does, and
  every JOB_SWEEP_SECONDS each worker sweeps: it requeues the jobs of workers silent for 30 s
  (and hung ones), and when the broker's queue is empty it sends again the task of every job,
  export or signed version still waiting after JOB_SWEEP_SECONDS (its message was lost: the
  broker was down when the web process sent it, or a worker died holding it).

One job at a time per worker process (solo pool): an analysis takes a core and up to a few GB,
so more throughput is more worker processes (`docker compose up --scale worker=N`). A prefork
pool works too (each child beats with its own id), but solo is what the tests run.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from portal.config import Settings
from portal.db import make_engine, transient_database_error
from portal.models import AnalysisJob, BulkExportJob, JobState, utcnow
from portal.services import bulk_export, jobs
from portal.tasks import TASK_NAMES
from portal.worker import FailureLog, Worker

if TYPE_CHECKING:
    from celery import Celery, Task

log = logging.getLogger(__name__)
T = TypeVar("T")
QUEUE = "cardio"
# Redis hands a message that was delivered but never acknowledged (its worker died) to
# another worker after this long. The heartbeat sweep requeues such a job after 30 s anyway;
# this only has to be longer than the longest job, or a job still running gets a second
# (harmless: its claim finds it running) delivery.
VISIBILITY_TIMEOUT_S = 6 * 3600


def make_celery(settings: Settings, flask_app: Flask | None = None) -> Celery:
    """The Celery application for these settings, with the portal's tasks. In a worker,
    `flask_app` (default: one built from `settings`) gives the database and settings."""
    from celery import Celery, signals

    celery = Celery("cardioportal", broker=settings.celery_broker_url, set_as_current=False)
    celery.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,  # acknowledged after the task: a killed worker's message returns
        task_reject_on_worker_lost=True,  # ... also when a prefork child dies
        worker_prefetch_multiplier=1,  # a worker holds no message it is not running
        task_ignore_result=True,  # the tables hold the results; no result backend
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        broker_connection_retry_on_startup=True,
        # A worker waits out a broker outage however long it lasts: Celery's default of 100
        # retries made every worker exit after roughly 45 minutes of Redis down, and without a
        # supervisor the analysis never started "by itself" again (an operations audit).
        broker_connection_max_retries=None,
        broker_connection_timeout=3,
        # An upload must not hang on a broker that is down: the sweep sends it later.
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0.2},
        worker_hijack_root_logger=False,
        enable_utc=True,
    )
    runtime = WorkerRuntime(celery, settings, flask_app)
    # shared=False: each Celery app runs its own tasks with its own runtime; Celery's default
    # gives every app made later the first app's tasks (another database, in one process).

    @celery.task(name=TASK_NAMES["analysis"], bind=True, max_retries=None, shared=False)
    def analysis(task: Task, job_id: int) -> bool:
        """Run analysis job `job_id` if it is still queued."""

        def outcome(ran: bool) -> str:
            state = _state_of(runtime.worker(), AnalysisJob, int(job_id))
            return state if ran else f"not run (the job is {state})"

        return logged(
            task, f"analysis job {job_id}",
            lambda: later_if_database_away(task, lambda: runtime.worker().run_job(int(job_id))),
            outcome,
        )  # fmt: skip

    @celery.task(name=TASK_NAMES["documents"], bind=True, max_retries=None, shared=False)
    def render_documents(task: Task, version_id: int | None = None) -> int:
        """Render the PDFs of every new signature (`version_id` is the one that asked)."""
        return logged(
            task, "PDFs of new signatures" if version_id is None else
            f"PDFs of report version {version_id}",
            lambda: later_if_database_away(task, lambda: runtime.worker().render_documents()),
            lambda rendered: f"{rendered} version(s) rendered",
        )  # fmt: skip

    @celery.task(name=TASK_NAMES["export"], bind=True, max_retries=None, shared=False)
    def export(task: Task, export_id: int | None = None) -> int:
        """Run the oldest queued bulk export (one message, one export)."""

        def run_one() -> int:
            worker = runtime.worker()
            return bulk_export.run_pending(worker.app, worker.worker_id, max_exports=1)

        def outcome(ran: int) -> str:
            if export_id is None:
                return f"{ran} export(s) run"
            state = _state_of(runtime.worker(), BulkExportJob, int(export_id))
            return f"{ran} export(s) run, export {export_id} {state}"

        return logged(
            task, "the oldest bulk export" if export_id is None else f"bulk export {export_id}",
            lambda: later_if_database_away(task, run_one), outcome,
        )  # fmt: skip

    def ours(sender: Any) -> bool:
        return getattr(sender, "app", None) is celery

    def on_worker_init(sender: Any = None, **_: Any) -> None:
        if ours(sender):
            runtime.nodename = str(sender.hostname)
            stop_unless_the_database_answers(settings.database_url)

    def on_process_init(**_: Any) -> None:  # the process that runs tasks (solo: the worker)
        if runtime.nodename is not None:
            runtime.worker().start_heartbeat()

    def on_ready(sender: Any = None, **_: Any) -> None:
        if ours(sender):
            runtime.start_sweeping()

    def on_shutdown(sender: Any = None, **_: Any) -> None:
        if ours(sender):
            runtime.stop()

    def on_process_shutdown(**_: Any) -> None:  # a prefork child ending
        if runtime.nodename is not None:
            runtime.stop()

    signals.worker_init.connect(on_worker_init, weak=False)
    signals.worker_process_init.connect(on_process_init, weak=False)
    signals.worker_ready.connect(on_ready, weak=False)
    signals.worker_shutdown.connect(on_shutdown, weak=False)
    signals.worker_process_shutdown.connect(on_process_shutdown, weak=False)
    return celery


# A task that met the database unreachable goes back to the broker for this long, to this
# worker or another; it had failed ("raised unexpected"), and waited for the sweep.
DATABASE_RETRY_S = 10


def later_if_database_away(task: Task, work: Callable[[], T]) -> T:
    """`work()`, or the task retried in DATABASE_RETRY_S when the database was unreachable
    (`db.transient_database_error`: a restart, a lost connection, a lock), not failed."""
    try:
        return work()
    except Exception as error:
        if not transient_database_error(error):
            raise
        log.warning("the database cannot be reached: task retried in %s s", DATABASE_RETRY_S)
        raise task.retry(exc=error, countdown=DATABASE_RETRY_S) from error


def logged(task: Task, what: str, work: Callable[[], T], outcome: Callable[[T], str]) -> T:
    """`work()` between a line at its start and one at its end naming the row (`what`) and
    the Celery task id, and no patient data: the worker's log said only "Task
    cardio.analysis[91d71f8f-...] received" and "succeeded in 13.81s: True", so no one could
    tell which job a task was (an operations audit)."""
    from celery.exceptions import Retry

    said = f"{what} (task {task.request.id}{_sent_by(task)})"
    log.info("%s started", said)
    started = time.monotonic()
    try:
        result = work()
    except Retry:
        took = time.monotonic() - started
        log.info("%s finished: the database away, to be retried, after %.1f s", said, took)
        raise
    except Exception as error:
        took = time.monotonic() - started
        log.warning("%s finished: failed (%s) in %.1f s", said, type(error).__name__, took)
        raise
    log.info("%s finished: %s in %.1f s", said, outcome(result), time.monotonic() - started)
    return result


def _sent_by(task: Task) -> str:
    """The id of the web request that sent the task (`request_ids`) as ", request <id>", so
    IT can follow a request into the worker's log; "" for a task the sweep sent."""
    from portal.request_ids import TASK_HEADER, safe_or_none

    request_id = safe_or_none((task.request.headers or {}).get(TASK_HEADER))
    return f", request {request_id}" if request_id else ""


def _state_of(worker: Worker, model: type[AnalysisJob] | type[BulkExportJob], row_id: int) -> str:
    """The state of a job or export for the log ("succeeded", "failed"), or "gone"; a
    database lost meanwhile fails no task whose work is done."""
    try:
        with worker.app.extensions["db_sessionmaker"]() as session:
            row = session.get(model, row_id)
            return row.state.value if row is not None else "gone"
    except SQLAlchemyError:
        return "in a state the database did not say"


def stop_unless_the_database_answers(database_url: str) -> None:
    """Exit (1) before taking any task when the database does not answer: a worker started
    with a wrong DATABASE_URL, or while MariaDB was down, took the analysis tasks and failed
    them while other workers could have run them (an operations audit). Its message names the
    database without the password."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        shown = make_url(database_url).render_as_string(hide_password=True)
        raise SystemExit(
            f"Error: the worker cannot reach the database {shown}: "
            f"{getattr(error, 'orig', None) or error}. It takes no task until it can: check "
            "DATABASE_URL and that the database is up, then start it again."
        ) from error
    finally:
        engine.dispose()


class WorkerRuntime:
    """What a Celery worker process holds: the portal app (database sessions, settings), its
    `Worker` (heartbeat, claim and run) and the sweep timer. One `Worker` per process, so a
    prefork child beats under its own id."""

    def __init__(self, celery: Celery, settings: Settings, flask_app: Flask | None) -> None:
        self.celery = celery
        self.settings = settings
        self.nodename: str | None = None  # the Celery node name (`-n worker1@%h`)
        self._given_app = flask_app
        self._given_app_pid = os.getpid()
        self._worker: Worker | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def worker(self) -> Worker:
        """This process's Worker (made on first use)."""
        with self._lock:
            if self._worker is None or self._worker.pid != os.getpid():
                self._worker = Worker(self._app(), worker_id=self._worker_id())
            return self._worker

    def _app(self) -> Flask:
        if self._given_app is not None and self._given_app_pid == os.getpid():
            return self._given_app
        from portal import create_app

        return create_app(self.settings)

    def _worker_id(self) -> str:
        return f"{self.nodename or 'celery'}:{os.getpid()}"

    def start_sweeping(self) -> None:
        """Sweep every JOB_SWEEP_SECONDS from a daemon thread (the first sweep at once)."""
        if self._sweeper is not None:
            return
        self._sweeper = threading.Thread(target=self._sweep_loop, name="cardio-sweep", daemon=True)
        self._sweeper.start()

    def stop(self) -> None:
        """A clean stop: no more sweeps, and the heartbeat row goes (see Worker)."""
        self._stop.set()
        if self._worker is not None and self._worker.pid == os.getpid():
            self._worker.stop_heartbeat()

    def _sweep_loop(self) -> None:
        failing = FailureLog("the job sweep failed; trying again later")  # once, then a minute
        while not self._stop.is_set():
            try:
                sent = sweep(self.celery, self.worker(), self.settings)
                if sent:
                    log.warning("sweep: sent %s task(s) again whose message was lost", sent)
                failing.recovered()
            except Exception:  # the database or the broker may be briefly unavailable
                failing.failed()
            self._stop.wait(self.settings.job_sweep_seconds)


def sweep(celery: Celery, worker: Worker, settings: Settings) -> int:
    """Requeue the jobs and exports nobody works on any more (and delete expired exports);
    then, if the broker's queue is empty, send again the task of what has waited longer than
    JOB_SWEEP_SECONDS. How many tasks it sent."""
    now = utcnow()
    worker.requeue_stuck()
    sessions = worker.app.extensions["db_sessionmaker"]
    with sessions() as session:
        bulk_export.requeue_stuck(session, now)
        bulk_export.remove_expired(session, settings.storage_dir, now)  # as run_pending does
    if queue_length(celery) > 0:  # messages are waiting: none of them is lost (yet)
        return 0
    cutoff = now - dt.timedelta(seconds=settings.job_sweep_seconds)
    with sessions() as session:
        waiting = [("analysis", job_id) for job_id in jobs.queued_before(session, cutoff)]
        waiting += [
            ("export", export_id)
            for export_id in session.scalars(
                select(BulkExportJob.id)
                .where(BulkExportJob.state == JobState.QUEUED, BulkExportJob.created_at < cutoff)
                .order_by(BulkExportJob.id)
            )
        ]
    unrendered = worker.unrendered(signed_before=cutoff)
    if unrendered:
        waiting.append(("documents", unrendered[0]))  # one task renders them all
    for kind, object_id in waiting:
        celery.send_task(TASK_NAMES[kind], args=[object_id], queue=QUEUE)
    return len(waiting)


def queue_length(celery: Celery) -> int:
    """Messages waiting in the broker's queue (not those a worker holds)."""
    from kombu.exceptions import ChannelError

    with celery.connection_for_write() as connection:
        try:
            declared = connection.default_channel.queue_declare(queue=QUEUE, passive=True)
        except ChannelError:  # Redis: an empty queue does not exist
            return 0
        return int(declared.message_count)


def broker_state(app: Flask) -> str:
    """Whether the web process can hand work to the broker, for `/health`: "ok", or what is
    wrong in words. With Redis down the workers kept beating, so `/health` said ok while every
    upload waited unanalysed (an operations audit). Said, still 200, like the throttle's."""
    celery = _celery_of(app)
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0, timeout=BROKER_PROBE_S)
    except Exception:
        return (
            f"{_broker_kind(app.config['SETTINGS'].celery_broker_url)} unreachable: uploads are "
            "saved and wait; their analysis starts by itself when the broker is back"
        )
    return "ok"


def _broker_kind(url: str) -> str:
    """The broker's kind, "redis broker", or "the broker": never text of the URL, which /health
    shows to anyone (a scheme typo, "redis//:PASSWORD@...", had shown it whole; an ops audit)."""
    from kombu.transport import TRANSPORT_ALIASES

    scheme, separator, _ = url.partition("://")
    transport = scheme.partition("+")[0]
    return f"{transport} broker" if separator and transport in TRANSPORT_ALIASES else "the broker"


BROKER_PROBE_S = 2  # a broker on a host that drops packets must not hold /health longer


def _celery_of(app: Flask) -> Celery:
    celery = app.extensions.get("celery")
    if celery is None:
        celery = app.extensions["celery"] = make_celery(app.config["SETTINGS"])
    return celery


def send(app: Flask, kind: str, object_id: int | None) -> None:
    """Send the task of `kind` for this row (portal/tasks.py calls it after the commit), with
    the id of the request that sent it, if one did, for the task's log lines."""
    from flask import has_request_context

    from portal import request_ids

    headers = {request_ids.TASK_HEADER: request_ids.current()} if has_request_context() else None
    _celery_of(app).send_task(TASK_NAMES[kind], args=[object_id], queue=QUEUE, headers=headers)


_cli_app: Celery | None = None


def __getattr__(name: str) -> Any:
    """`celery -A portal.celery_app worker` looks up `app` here: built on first use from the
    environment (so importing this module, as the web process does, reads no settings)."""
    global _cli_app
    if name not in ("app", "celery"):
        raise AttributeError(name)
    if _cli_app is None:
        from portal.config import load_settings

        _cli_app = make_celery(load_settings())
    return _cli_app
