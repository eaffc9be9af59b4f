"""The PDF queue (`documents.pending_versions`): the newest signed version of each report
without its PDFs, oldest first. A load audit (H15, MariaDB, 50,000 reports) found versions
replaced by an amendment before their PDFs were made kept at the front of the queue for ever:
once the 10 oldest were such, `render_pending` rendered nothing for anyone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session

from portal.models import EcgReport, ReportDocument, ReportVersion, WorkerHeartbeat, utcnow
from portal.services import documents
from portal.worker import Worker
from tests.conftest import PASSWORD, People, client_for, post_form, sign_report
from tests.support.ecg_files import synthetic, write_csv
from tests.test_upload_and_review import _upload

REPORTS = 11  # one more than `pending_versions` takes at a time


@pytest.fixture
def ten_amended_before_their_pdfs(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> list[EcgReport]:
    """11 signed reports, the first 10 amended before any PDF was rendered (the worker busy,
    or the broker down): 10 replaced versions and 11 newest ones, none with a PDF."""
    staff = client_for(app, people.staff)
    for i in range(REPORTS):
        path = tmp_path / f"sinus{i}.csv"
        write_csv(path, synthetic(duration_s=12.0, seed=100 + i))
        assert (
            _upload(staff, people.patient.id, [(path.read_bytes(), path.name)]).status_code == 302
        )
    Worker(app).run_pending()  # analyses them (nothing is signed yet: no PDF)
    reports = list(sql.scalars(select(EcgReport).order_by(EcgReport.id)))
    assert len(reports) == REPORTS
    doctor = client_for(app, people.doctor)
    for report in reports:
        sign_report(
            doctor, report, sql, rhythm_label="Sinus rhythm", findings=["SINUS"],
            conclusion="Normal.", patient_comment="",
        )  # fmt: skip
    for report in reports[:10]:
        sql.refresh(report)
        amended = post_form(
            doctor, f"/reports/{report.id}/amend",
            {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "conclusion": "Amended.",
             "reason": "typo", "password": PASSWORD, "row_version": str(report.row_version)},
            token_page=f"/reports/{report.id}",
        )  # fmt: skip
        assert amended.status_code == 302
    sql.expire_all()
    return reports


def test_replaced_versions_do_not_block_the_pdf_queue(
    app: Flask, sql: Session, ten_amended_before_their_pdfs: list[EcgReport]
) -> None:
    reports = ten_amended_before_their_pdfs
    pending = documents.pending_versions(sql)
    assert [v.id for v in pending] == sorted(r.versions[-1].id for r in reports)[:10]
    rendered = sum(documents.render_pending(sql, app.config["SETTINGS"], set()) for _ in range(2))
    assert rendered == REPORTS
    sql.expire_all()
    assert sql.scalar(select(func.count(ReportDocument.id))) == 2 * REPORTS
    assert documents.pending_versions(sql) == []


def test_versions_that_failed_in_this_worker_do_not_block_the_pdf_queue(
    app: Flask, sql: Session, ten_amended_before_their_pdfs: list[EcgReport]
) -> None:
    """Versions that failed to render in this worker (`render_pending`'s `skip`) were left out
    after the query's limit of 10, so ten of them at the front stalled the worker's queue as
    replaced versions had (a load audit's review)."""
    newest = sorted(r.versions[-1].id for r in ten_amended_before_their_pdfs)
    failed = set(newest[:10])
    assert [v.id for v in documents.pending_versions(sql, skip=failed)] == newest[10:]
    assert documents.render_pending(sql, app.config["SETTINGS"], failed) == REPORTS - 10


def test_health_counts_the_pdf_queue_in_one_query(
    app: Flask, sql: Session, ten_amended_before_their_pdfs: list[EcgReport]
) -> None:
    """With no worker beating, `/health` (`jobs._waiting_unserved`) loaded every pending
    version and lazily its report's versions: on 46,000 pending it had not answered after
    10 min, while docker-compose's health check allows 5 s. Now one query counts them, the
    10 replaced versions left out."""
    sql.execute(delete(WorkerHeartbeat))
    sql.execute(update(ReportVersion).values(signed_at=utcnow() - dt.timedelta(minutes=5)))
    sql.commit()
    engine = app.extensions["db_engine"]
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        health = app.test_client().get("/health")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert health.json["jobs"] == (
        f"no analysis worker is running: {REPORTS} signed report(s) wait for their PDFs, the "
        "oldest for 5 min (start `cardio worker` or the Celery workers)"
    )
    pdf_queue = [s for s in seen if "report_document" in s]
    assert len(pdf_queue) == 1, pdf_queue
    assert not [s for s in seen if s.lstrip().startswith("SELECT report_version.id")], seen
