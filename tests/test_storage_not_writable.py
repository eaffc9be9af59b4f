"""Storage that cannot be written (mounted read-only after a file-system error, or folders the
portal's user may not write: EROFS, EACCES, EPERM) is the server's fault, said in words: an
upload answers 503 with the form and "The server's storage cannot be written ...", saving
nothing, and a PDF download 503 with the same words. An operations audit found both answered
a bare 500, where a full disk (tests/test_fault_disk_full.py) said what happened.

The write is made to fail where the storage module first touches the disk (`private_dir`,
which every staging, keeping and PDF write goes through): the tests may run as root, where a
chmod does not stop writes.
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import storage
from portal.models import EcgRecording, ReportDocument
from tests.conftest import People, client_for, csrf_token, error_messages
from tests.support.ecg_files import synthetic, write_csv
from tests.test_fault_disk_full import _signed_report

NOT_WRITABLE = [errno.EROFS, errno.EACCES, errno.EPERM]


def _storage_refuses_writes(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def refused(storage_dir: Path, *_parts: str) -> Path:
        raise OSError(code, os.strerror(code), str(storage_dir))

    monkeypatch.setattr(storage, "private_dir", refused)


@pytest.mark.parametrize("code", NOT_WRITABLE, ids=errno.errorcode.get)
def test_an_upload_to_storage_that_cannot_be_written_answers_503_in_words(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    content = write_csv(tmp_path / "ecg.csv", synthetic(10, 250)).read_bytes()
    staff = client_for(app, people.staff)
    url = f"/patients/{people.patient.id}/recordings/new"
    token = csrf_token(staff, url)
    _storage_refuses_writes(monkeypatch, code)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered as in production
    answer = staff.post(
        url, data={"files": [(io.BytesIO(content), "ecg.csv")], "csrf_token": token},
        content_type="multipart/form-data",
    )  # fmt: skip
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503, page[:2000]
    assert storage.STORAGE_NOT_WRITABLE_MESSAGE in error_messages(page)
    assert 'enctype="multipart/form-data"' in page  # the upload form, to try again
    assert "Errno" not in page and str(app.config["SETTINGS"].storage_dir) not in page
    assert sql.scalar(select(func.count(EcgRecording.id))) == 0  # nothing was saved


@pytest.mark.parametrize("code", [errno.EROFS], ids=errno.errorcode.get)
def test_a_pdf_that_storage_cannot_take_answers_503_in_words(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    report = _signed_report(app, people, sql, tmp_path)
    _storage_refuses_writes(monkeypatch, code)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    answer = client_for(app, people.doctor).get(f"/reports/{report.id}/report.pdf")
    page = answer.get_data(as_text=True).replace("&#39;", "'")
    assert answer.status_code == 503 and answer.mimetype == "text/html", page[:2000]
    assert "storage cannot be written" in page and "IT team" in page
    assert "Errno" not in page
    assert sql.scalar(select(func.count(ReportDocument.id))) == 0
