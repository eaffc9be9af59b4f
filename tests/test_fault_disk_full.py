"""Fault test (issue 15): the storage disk fills up.

STORAGE_DIR is made really full, two ways (each test runs with both):

- `tmpfs`: a 2 MB tmpfs mounted on STORAGE_DIR (needs root or CAP_SYS_ADMIN; skipped, saying
  so, where mounting is not permitted), filled by a file until a few KB are left, or its
  inodes used up. Writes fail with ENOSPC, as on a full disk.
- `rlimit`: where no file system can be mounted (CI), the portal request or worker round runs
  in a forked child process with RLIMIT_FSIZE small and SIGXFSZ ignored: writes past the limit
  fail with EFBIG. It runs everywhere on Linux, so the fallback is tested too.

Then: an upload through the real endpoint answers 507 with the upload form and the sentence
"The server's storage is full...", leaves no file (temporary or kept) and no database change;
after freeing space the same upload is accepted. A signed report's PDF that cannot be stored:
the download answers 503 with a sentence, the report, its documents and the audit trail stay
as they were; the worker's `render_pending` logs, does not give the version up, waits
STORAGE_FULL_RETRY_SECONDS and renders it once there is room. Timings: `pytest -s`.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import resource
import shutil
import signal
import subprocess
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from portal import create_app
from portal.models import AnalysisJob, EcgRecording, EcgReport, JobState, ReportDocument
from portal.services import documents
from portal.storage import STORAGE_FULL_MESSAGE
from portal.worker import Worker
from tests.conftest import (
    PASSWORD,
    People,
    client_for,
    csrf_token,
    error_messages,
    make_settings,
    post_form,
)
from tests.support.ecg_files import synthetic, write_csv

DISK_BYTES = 2 * 1024 * 1024
DISK_INODES = 256
FILLER = "filler"  # the file (or folder of empty files) that fills the disk, at its top
METHODS = ["tmpfs", "rlimit"]
PDF_MESSAGE = "The server's storage is full, so the PDF could not be kept."


class SmallDisk:
    """STORAGE_DIR that can be filled and freed; `call` runs a request or worker round on it."""

    method = ""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.app: Flask | None = None  # set by the app fixture

    def fill(self, leave_bytes: int) -> None:
        raise NotImplementedError

    def fill_inodes(self, leave: int) -> None:
        raise NotImplementedError

    def free(self) -> None:
        raise NotImplementedError

    def call(self, action: Callable[[], Any]) -> Any:
        return action()

    def close(self) -> None:
        pass


class TmpfsDisk(SmallDisk):
    """A real tmpfs of DISK_BYTES and DISK_INODES: full is full for everyone."""

    method = "tmpfs"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        root.mkdir(mode=0o700)
        if shutil.which("mount") is None:
            pytest.skip("no mount command here to make a small tmpfs")
        options = f"size={DISK_BYTES},nr_inodes={DISK_INODES},mode=0700"
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(root)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if mounted.returncode != 0:
            pytest.skip(f"mounting a tmpfs is not permitted here: {mounted.stderr.strip()}")

    def available(self) -> os.statvfs_result:
        return os.statvfs(self.root)

    def fill(self, leave_bytes: int) -> None:
        status = self.available()
        size = status.f_bavail * status.f_frsize - leave_bytes
        with open(self.root / FILLER, "ab") as filler:
            block = bytes(64 * 1024)
            while size > 0:
                size -= filler.write(block[: min(size, len(block))])
        free = self.available().f_bavail * self.available().f_frsize
        assert free <= leave_bytes, free

    def fill_inodes(self, leave: int) -> None:
        folder = self.root / FILLER
        folder.mkdir(exist_ok=True)
        for number in range(self.available().f_favail - leave):
            (folder / str(number)).touch()
        assert self.available().f_favail == leave

    def free(self) -> None:
        target = self.root / FILLER
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)

    def close(self) -> None:
        if subprocess.run(["umount", str(self.root)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(self.root)], check=False)


class RlimitDisk(SmallDisk):
    """No mount: `call` runs in a forked child whose files cannot grow past the limit."""

    method = "rlimit"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.limit: int | None = None

    def fill(self, leave_bytes: int) -> None:
        self.limit = leave_bytes

    def fill_inodes(self, leave: int) -> None:
        pytest.skip("inodes can only run out on a real file system (tmpfs)")

    def free(self) -> None:
        self.limit = None

    def call(self, action: Callable[[], Any]) -> Any:
        if self.limit is None:
            return action()
        reading, writing = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: its own database connections, files capped at the limit
            os.close(reading)
            try:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a core dump
                _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
                resource.setrlimit(resource.RLIMIT_FSIZE, (self.limit, hard))
                assert self.app is not None
                self.app.extensions["db_engine"].dispose(close=False)
                outcome: tuple[str, Any] = ("ok", action())
            except BaseException:  # noqa: B036 - sent back to the test, which fails with it
                outcome = ("error", traceback.format_exc())
            with os.fdopen(writing, "wb") as pipe:
                pickle.dump(outcome, pipe)
            os._exit(0)
        os.close(writing)
        with os.fdopen(reading, "rb") as pipe:
            status, payload = pickle.load(pipe)
        os.waitpid(pid, 0)
        assert status == "ok", payload
        return payload


@pytest.fixture(params=METHODS)
def disk(
    request: pytest.FixtureRequest, tmp_path: Path, record_property: Callable[[str, Any], None]
) -> Iterator[SmallDisk]:
    root = tmp_path / "storage"  # STORAGE_DIR in make_settings
    small: SmallDisk
    if request.param == "tmpfs":
        small = TmpfsDisk(root)
    else:
        if not hasattr(os, "fork"):
            pytest.skip("the RLIMIT_FSIZE fallback needs fork (POSIX)")
        small = RlimitDisk(root)
    record_property("full_disk_method", small.method)
    print(f"\nfull disk by {small.method}")
    try:
        yield small
    finally:
        small.close()


@pytest.fixture
def app(database_url: str, tmp_path: Path, disk: SmallDisk) -> Iterator[Flask]:
    """The portal with STORAGE_DIR on the small disk (mounted before the app starts)."""
    application = create_app(make_settings(database_url, tmp_path), TESTING=True)
    disk.app = application
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The documents module's monotonic clock, moved by hand (the worker's pause)."""
    now = [1000.0]
    monkeypatch.setattr(documents, "monotonic", lambda: now[0])
    return now


@contextmanager
def _logged() -> Iterator[list[str]]:
    """The portal's warnings and errors while inside (works in the forked child too)."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")

    handler = Collect(logging.WARNING)
    portal_log = logging.getLogger("portal")
    portal_log.addHandler(handler)
    try:
        yield lines
    finally:
        portal_log.removeHandler(handler)


def _database(sql: Session, leave_out: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every row of every table, as committed now."""
    sql.commit()
    tables = sorted(set(inspect(sql.get_bind()).get_table_names()) - set(leave_out))
    return {
        name: sorted(repr(tuple(row)) for row in sql.execute(text(f"SELECT * FROM {name}")))
        for name in tables
    }


def _stored(disk: SmallDisk) -> list[str]:
    """Every file under STORAGE_DIR (but the filler) and every staging folder (tmp/upload-*);
    empty folders of the layout (tmp, recordings/ab) may stay."""
    return sorted(
        str(p.relative_to(disk.root))
        for p in disk.root.rglob("*")
        if p.relative_to(disk.root).parts[0] != FILLER and (p.is_file() or p.parent.name == "tmp")
    )


def _upload(client: FlaskClient, url: str, csv: bytes) -> tuple[int, str]:
    token = csrf_token(client, url)
    response = client.post(
        url, data={"files": [(io.BytesIO(csv), "ecg.csv")], "csrf_token": token},
        content_type="multipart/form-data",
    )  # fmt: skip
    return response.status_code, response.get_data(as_text=True)


def test_an_upload_to_a_full_disk_is_refused_and_accepted_once_there_is_room(
    app: Flask, people: People, sql: Session, tmp_path: Path, disk: SmallDisk
) -> None:
    # About 280 KB: under werkzeug's 500 KB, above which a request body is spooled to a
    # temporary file (which RLIMIT_FSIZE would refuse too), yet far more than is left.
    content = write_csv(tmp_path / "ecg.csv", synthetic(30, 250)).read_bytes()
    staff = client_for(app, people.staff)
    url = f"/patients/{people.patient.id}/recordings/new"
    disk.fill(leave_bytes=64 * 1024)
    files_before, database_before = _stored(disk), _database(sql)

    began = time.perf_counter()
    with _logged() as lines:
        status, page = disk.call(lambda: _upload(staff, url, content))
    print(f"upload to the full disk: {status} in {time.perf_counter() - began:.2f} s")
    assert status == 507, page[:2000]
    assert STORAGE_FULL_MESSAGE in error_messages(page)  # beside the file field of the form
    assert 'enctype="multipart/form-data"' in page  # the upload form, to try again
    assert str(disk.root) not in page and "Errno" not in page
    assert _stored(disk) == files_before  # no half-written, temporary or kept file
    assert _database(sql) == database_before  # no recording, no job, no audit row
    if disk.method == "tmpfs":  # (the forked child's log stays in the child)
        assert any("ERROR portal.storage: storage full" in line for line in lines), lines

    disk.free()
    began = time.perf_counter()
    status, page = _upload(staff, url, content)
    print(f"the same upload after freeing space: {status} in {time.perf_counter() - began:.2f} s")
    assert status == 302, error_messages(page)
    recording = sql.scalar(select(EcgRecording))
    assert recording is not None and recording.size_bytes == len(content)
    assert sql.scalar(select(AnalysisJob.state)) is JobState.QUEUED
    assert any(name.endswith("ecg.csv") for name in _stored(disk))
    assert not any(name.startswith("tmp/upload-") for name in _stored(disk))


def test_no_inode_left_for_the_kept_folder_refuses_the_upload_and_removes_the_staged_files(
    app: Flask, people: People, sql: Session, tmp_path: Path, disk: SmallDisk
) -> None:
    """Staging fits (its folder and file take the last two inodes); keeping needs one more
    folder (recordings/<first two hex digits>) and finds the disk full."""
    content = write_csv(tmp_path / "ecg.csv", synthetic(10, 250)).read_bytes()
    staff = client_for(app, people.staff)
    url = f"/patients/{people.patient.id}/recordings/new"
    for folder in ("tmp", "recordings"):
        (disk.root / folder).mkdir(mode=0o700, parents=True, exist_ok=True)
    disk.fill_inodes(leave=2)
    files_before, database_before = _stored(disk), _database(sql)

    status, page = disk.call(lambda: _upload(staff, url, content))
    assert status == 507 and STORAGE_FULL_MESSAGE in error_messages(page), page[:2000]
    assert _stored(disk) == files_before and _database(sql) == database_before

    disk.free()
    status, page = _upload(staff, url, content)
    assert status == 302, error_messages(page)
    assert sql.scalar(select(func.count(EcgRecording.id))) == 1


def _signed_report(app: Flask, people: People, sql: Session, tmp_path: Path) -> EcgReport:
    staff = client_for(app, people.staff)
    csv = write_csv(tmp_path / "signed.csv", synthetic(30, 250)).read_bytes()
    url = f"/patients/{people.patient.id}/recordings/new"
    assert _upload(staff, url, csv)[0] == 302
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    assert report is not None
    doctor = client_for(app, people.doctor)
    signed = post_form(doctor, f"/reports/{report.id}/sign",
                       {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
                        "conclusion": "Sinus rhythm.", "password": PASSWORD,
                        "row_version": str(report.row_version)},
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302
    sql.expire_all()
    return report


def test_a_pdf_that_cannot_be_stored_answers_503_and_the_worker_tries_again_later(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    disk: SmallDisk,
    clock: list[float],
) -> None:
    report = _signed_report(app, people, sql, tmp_path)
    version_id = report.versions[-1].id
    doctor = client_for(app, people.doctor)
    worker = Worker(app)
    disk.fill(leave_bytes=8 * 1024)  # a PDF is far larger
    files_before = _stored(disk)
    database_before = _database(sql, leave_out=("worker_heartbeat",))  # the worker beats

    def render_round() -> int:
        """What the worker does after its jobs (`Worker.run_pending`), without its heartbeat:
        RLIMIT_FSIZE caps every file the process writes, a SQLite database's too."""
        with worker._sessions() as session:
            return documents.render_pending(session, app.config["SETTINGS"], worker._failed_renders)

    def worker_rounds() -> dict[str, Any]:
        """Three rounds: the full disk is met, then the pause, then a try after it."""
        with _logged() as lines:
            done = [render_round()]
            after_first = len(lines)
            done.append(render_round())  # within the pause: nothing is rendered
            after_second = len(lines)
            clock[0] += documents.STORAGE_FULL_RETRY_SECONDS + 1
            done.append(render_round())
        return {"done": done, "lines": lines, "counts": (after_first, after_second),
                "skipped": sorted(worker._failed_renders)}  # fmt: skip

    began = time.perf_counter()
    rounds = disk.call(worker_rounds)
    print(f"three worker rounds on the full disk: {time.perf_counter() - began:.2f} s")
    assert rounds["done"] == [0, 0, 0]
    full = [line for line in rounds["lines"] if "storage is full" in line]
    assert len(full) == 2 and f"report version {version_id}" in full[0], rounds["lines"]
    assert rounds["counts"][0] == rounds["counts"][1]  # the second round tried nothing
    assert not any("Traceback" in line or "failed" in line for line in full)
    assert rounds["skipped"] == []  # not given up: tried again once there is room

    began = time.perf_counter()
    response = disk.call(
        lambda: (lambda r: (r.status_code, r.get_data(as_text=True), r.mimetype))(
            doctor.get(f"/reports/{report.id}/report.pdf")
        )
    )
    status, page, mimetype = response
    print(f"PDF download on the full disk: {status} in {time.perf_counter() - began:.2f} s")
    assert status == 503 and mimetype == "text/html", page[:2000]
    assert PDF_MESSAGE in page.replace("&#39;", "'") and "IT team" in page
    assert str(disk.root) not in page and "Errno" not in page
    assert _stored(disk) == files_before  # no PDF, no .part- file
    assert _database(sql, leave_out=("worker_heartbeat",)) == database_before

    disk.free()
    began = time.perf_counter()
    download = doctor.get(f"/reports/{report.id}/report.pdf")
    print(f"PDF download after freeing space: {time.perf_counter() - began:.2f} s")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    clock[0] += documents.STORAGE_FULL_RETRY_SECONDS + 1  # the pause set in this process
    worker.run_pending()  # the same worker: the patient summary, the clinician one is stored
    sql.expire_all()
    stored = {d.kind.value: d.size_bytes for d in sql.scalars(select(ReportDocument))}
    print(f"PDFs stored once there was room: {stored} bytes")
    assert sorted(stored) == ["clinician", "patient"]
    assert not any(".part-" in name for name in _stored(disk))
