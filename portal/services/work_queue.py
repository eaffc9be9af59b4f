"""The claim both work tables share (`analysis_job`, `bulk_export_job`): a queued row becomes
this worker's with one compare-and-set UPDATE, so any number of workers, threads or Celery
processes can race for it and exactly one wins."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.models import AnalysisJob, BulkExportJob, JobState

Work = TypeVar("Work", AnalysisJob, BulkExportJob)


def claim(
    session: Session, model: type[Work], row_id: int, worker_id: str, now: dt.datetime
) -> Work | None:
    """Take this row for this worker if it is still queued, else None (done, running
    elsewhere or gone). Commits."""
    claimed = session.execute(
        update(model)
        .where(model.id == row_id, model.state == JobState.QUEUED)
        .values(
            state=JobState.RUNNING,
            worker_id=worker_id,
            started_at=now,
            heartbeat_at=now,
            attempts=model.attempts + 1,
            progress_pct=0.0,
            progress_message="Starting",
            error_message=None,
        )  # fmt: skip
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if claimed.rowcount == 1:  # type: ignore[attr-defined]
        return session.get(model, row_id, populate_existing=True)
    return None


def claim_oldest(
    session: Session, model: type[Work], worker_id: str, now: dt.datetime
) -> Work | None:
    """Take the oldest queued row for this worker, or None. Commits."""
    candidates = session.scalars(
        select(model.id)
        .where(model.state == JobState.QUEUED)
        .order_by(model.created_at, model.id)
        .limit(5)
    ).all()
    for row_id in candidates:
        row = claim(session, model, row_id, worker_id, now)
        if row is not None:
            return row
    return None
