"""Tell the job workers that work is waiting: an analysis job, PDFs to render, a bulk export.

The work tables are the truth (portal/services/jobs.py); a message only says "look at row N
now", and a lost or duplicated message costs nothing: every task claims its row with the same
compare-and-set, and the Celery workers' sweep (portal/celery_app.py) sends again what has
waited too long. What `enqueue` does depends on JOB_WORKER:

- `celery`: send the Celery task of that kind, carrying only the row's id;
- `thread`: wake the web process's worker thread (which polls every second anyway);
- `none`: nothing (`cardio worker` polls the table).

Services call `enqueue_after_commit` beside the INSERT or UPDATE that queues the row, so the
message leaves only once the row is committed (a worker never looks for a row it cannot see
yet) and never for a transaction that rolls back. Celery is imported on the first message
only, so the default (thread) deployment never loads it.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

# kind -> Celery task name (the tasks are defined in portal/celery_app.py)
TASK_NAMES = {
    "analysis": "cardio.analysis",  # id: analysis_job.id
    "documents": "cardio.documents",  # id: report_version.id (render_pending takes them all)
    "export": "cardio.export",  # id: bulk_export_job.id
}
_AFTER_COMMIT = "tasks_after_commit"  # session.info key: what to send once it commits


def enqueue(kind: str, object_id: int | None = None) -> None:
    """Tell the workers now (the row must be committed already). Outside an app context,
    nothing: the workers find the row by themselves."""
    _check_kind(kind)
    if has_app_context():
        dispatch(current_app._get_current_object(), kind, object_id)  # type: ignore[attr-defined]


def enqueue_after_commit(session: Session, kind: str, object_id: int | None = None) -> None:
    """Tell the workers once `session` commits (never if it rolls back)."""
    _check_kind(kind)
    if not has_app_context():
        return
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["SETTINGS"].job_worker == "none":
        return
    if not session.in_transaction():
        session.begin()  # so that a rollback, which ends it, also forgets this
    session.info.setdefault(_AFTER_COMMIT, []).append((app, kind, object_id))


def dispatch(app: Flask, kind: str, object_id: int | None) -> None:
    """Send the task (celery) or wake the worker thread (thread). A broker that cannot be
    reached is logged, never raised: the row is committed, and the sweep sends it later."""
    mode = app.config["SETTINGS"].job_worker
    if mode == "celery":
        from portal import celery_app

        try:
            celery_app.send(app, kind, object_id)
        except Exception:
            log.warning(
                "could not send the %s task for %s to the broker; the workers' sweep will "
                "pick it up", kind, object_id, exc_info=True,
            )  # fmt: skip
            if has_request_context():
                g.work_queue_unreachable = True
    elif mode == "thread":
        worker = app.extensions.get("worker")
        if worker is not None:
            worker.wake()


QUEUE_DOWN_MESSAGE = (
    "The recording is saved, but the analysis service cannot be reached just now: the "
    "analysis starts by itself when it is back, and this page shows when. If it stays "
    "queued for long, tell IT."
)


def queue_unreachable() -> bool:
    """Whether this request's work could not be handed to the broker: staff had seen only
    "queued" with Redis down, not that the analysis waits for it (an operations audit)."""
    return has_request_context() and bool(g.get("work_queue_unreachable", False))


def _check_kind(kind: str) -> None:
    if kind not in TASK_NAMES:
        raise ValueError(f"unknown kind of work {kind!r}; one of {', '.join(TASK_NAMES)}")


@event.listens_for(Session, "after_commit")
def _send_committed(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT: the outer transaction may still roll back
        return
    for app, kind, object_id in session.info.pop(_AFTER_COMMIT, []):
        dispatch(app, kind, object_id)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back, or closed without a commit
        session.info.pop(_AFTER_COMMIT, None)
