"""A PDF opened right after signing is rendered by the download while the job worker renders
the same version: whichever stores its row second keeps the first one's row and file. Before,
the second INSERT failed the unique key (report version, kind): the download answered 500
and the worker gave the version up (found by a clinician-eye audit of the demo portal,
2 of 3 downloads right after signing). The race is made certain here: the first render lets
a second request render and store the same document before it stores its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import DocumentKind, EcgReport, ReportDocument
from portal.services import documents
from portal.worker import Worker
from tests.conftest import People, client_for, sign_report
from tests.support.ecg_files import synthetic, write_csv
from tests.test_upload_and_review import _upload


@pytest.fixture
def signed(app: Flask, people: People, sql: Session, tmp_path: Path) -> EcgReport:
    path = tmp_path / "sinus.csv"
    write_csv(path, synthetic())
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, [(path.read_bytes(), path.name)]).status_code == 302
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    assert report is not None
    doctor = client_for(app, people.doctor)
    sign_report(
        doctor, report, sql, rhythm_label="Sinus rhythm", findings=["SINUS", "NORMAL"],
        conclusion="Normal ECG.", patient_comment="",
    )  # fmt: skip
    return report


@pytest.fixture
def raced(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The first render lets another session render and store that document first (only the
    first: on SQLite a rival in this thread would wait for the write lock its own render
    holds after storing a row)."""
    render = documents.render_pdf
    raced_kinds: list[str] = []

    def render_after_a_rival(kind: str, data: Any, **options: Any) -> bytes:
        if not raced_kinds:
            raced_kinds.append(kind)
            with app.extensions["db_sessionmaker"]() as rival:
                version = data_version(rival, data)
                documents.ensure_document(
                    rival, version.report, version, DocumentKind(kind), app.config["SETTINGS"]
                )
                rival.commit()
        return render(kind, data, **options)

    monkeypatch.setattr(documents, "render_pdf", render_after_a_rival)
    yield raced_kinds


def data_version(session: Session, data: Any) -> Any:
    """The report version a ReportData was made from (its report's latest)."""
    report = session.get(EcgReport, data.report_id)
    assert report is not None
    return report.versions[-1]


def test_a_download_that_loses_the_race_sends_the_stored_pdf(
    app: Flask, people: People, sql: Session, signed: EcgReport, raced: list[str]
) -> None:
    doctor = client_for(app, people.doctor)
    response = doctor.get(f"/reports/{signed.id}/report.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.data.startswith(b"%PDF")
    assert raced == [DocumentKind.CLINICIAN.value]
    sql.expire_all()
    version = signed.versions[-1]
    rows = sql.scalars(
        select(ReportDocument).where(ReportDocument.report_version_id == version.id)
    ).all()
    assert [r.kind for r in rows] == [DocumentKind.CLINICIAN]
    stored = documents.document_path(app.config["SETTINGS"].storage_dir, rows[0].sha256)
    assert stored.read_bytes() == response.data


def test_the_worker_that_loses_the_race_keeps_the_version_done(
    app: Flask, sql: Session, signed: EcgReport, raced: list[str]
) -> None:
    Worker(app).run_pending()  # renders both PDFs of the signed version
    assert len(raced) == 1
    sql.expire_all()
    version = signed.versions[-1]
    count = sql.scalar(
        select(func.count(ReportDocument.id)).where(ReportDocument.report_version_id == version.id)
    )
    assert count == len(DocumentKind)
    assert documents.pending_versions(sql) == []
