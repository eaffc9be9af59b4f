"""Hostile uploads against the portal as it runs in production (issue 15): a real gunicorn
(docker/gunicorn.conf.py: 2 workers x 4 threads, portal.wsgi:app with its job-worker thread),
a staff member logged in over HTTP, each bomb of tests/test_upload_bombs.py posted through the
upload form with its CSRF token.

Each answer is a 422 with the message the in-process test expects (never a 5xx), no recording
or job row is written, no file is left in storage or in the server's temporary folder, no worker
died, and a normal page still opens. Memory is the workers' own: before each upload their
peak-RSS counters are reset (`/proc/<pid>/clear_refs`), during it their RSS is sampled every
few milliseconds, after it their kernel-kept peak (VmHWM) is read; the highest of these stays
under 1.5 GB. Figures are printed (`pytest -s`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests
from sqlalchemy.orm import Session

from portal import migrate
from portal.db import make_engine
from portal.models import AnalysisJob, EcgRecording, Role, Sex
from portal.services import patients
from tests.conftest import CSRF_PATTERN, PASSWORD, error_messages, make_account
from tests.support.gunicorn_server import LiveGunicorn, gunicorn_serving
from tests.support.upload_bombs import BOMB_KEYS, PEAK_RSS_LIMIT_MB, SERVER_PATH, Bomb, write_bombs
from tests.test_upload_and_review import _count

MB = 1024 * 1024
SAMPLE_EVERY_S = 0.005
PATIENT_NAME = "Ada Lovelace"


@dataclass(frozen=True)
class Portal:
    server: LiveGunicorn
    database_url: str
    storage_dir: Path
    server_tmp: Path  # the server's TMPDIR: werkzeug spools uploaded parts there
    patient_id: int


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Bomb]:
    return {bomb.key: bomb for bomb in write_bombs(tmp_path_factory.mktemp("bombs"))}


def _staff_and_patient(database_url: str) -> int:
    """A staff login (staff need no two-step code) and one patient; the patient's id."""
    engine = make_engine(database_url)
    with Session(engine) as sql:
        staff = make_account(sql, Role.STAFF, "staff1")
        details = patients.PatientDetails(PATIENT_NAME, dt.date(1960, 12, 10), Sex.FEMALE)
        patient = patients.register_patient(sql, details, actor=staff, today=dt.date.today())
        sql.commit()
        patient_id = patient.id
    engine.dispose()
    return patient_id


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    work = tmp_path_factory.mktemp("gunicorn")
    database_url = f"sqlite:///{work / 'cardio.db'}"
    migrate.upgrade(database_url)
    patient_id = _staff_and_patient(database_url)
    server_tmp = work / "tmp"
    server_tmp.mkdir()
    env = {
        **os.environ,
        "CARDIO_ENV": "development",  # production's Secure cookies need HTTPS
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(work / "instance"),
        "STORAGE_DIR": str(work / "storage"),
        "SECRET_KEY": "bomb-test-" + "k" * 40,
        "TMPDIR": str(server_tmp),
    }
    with gunicorn_serving(env, work / "gunicorn.log") as server:
        yield Portal(server, database_url, work / "storage", server_tmp, patient_id)


def _csrf(page: str) -> str:
    found = CSRF_PATTERN.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1) or found.group(2)


@pytest.fixture(scope="module")
def staff(portal: Portal) -> Iterator[requests.Session]:
    """A browser-like session of staff1, logged in with the login form."""
    session = requests.Session()
    login_page = session.get(f"{portal.server.url}/login", timeout=30).text
    answer = session.post(
        f"{portal.server.url}/login",
        data={"username": "staff1", "password": PASSWORD, "csrf_token": _csrf(login_page)},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:500]
    assert not answer.headers["Location"].endswith("/login/verify")
    yield session
    session.close()


@pytest.fixture(scope="module")
def database(portal: Portal) -> Iterator[Session]:
    """A session on the server's database, to see what the server wrote."""
    engine = make_engine(portal.database_url)
    with Session(engine) as sql:
        yield sql
    engine.dispose()


def _peak_rss_mb(pid: int) -> float:
    """The kernel's record of the process's highest RSS since its last reset (VmHWM)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for process {pid}")


def _reset_peak_rss(pid: int) -> None:
    """Set VmHWM back to the current RSS (Linux 4.0+), so it measures this upload alone."""
    with open(f"/proc/{pid}/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


@contextmanager
def sampling_rss(pids: list[int]) -> Iterator[dict[int, float]]:
    """Each process's highest RSS in MB seen while the block runs, sampled on a thread (a
    check on VmHWM, which the kernel keeps exactly)."""
    peak_mb = {pid: 0.0 for pid in pids}
    processes = [psutil.Process(pid) for pid in pids]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for process in processes:
                peak_mb[process.pid] = max(peak_mb[process.pid], process.memory_info().rss / MB)
            time.sleep(SAMPLE_EVERY_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak_mb
    finally:
        done.set()
        sampler.join(5)


def _upload(staff: requests.Session, portal: Portal, files: tuple[Path, ...]) -> requests.Response:
    """Post the files through the upload form, as a browser would."""
    url = f"{portal.server.url}/patients/{portal.patient_id}/recordings/new"
    form = staff.get(url, timeout=30)
    assert form.status_code == 200, form.status_code
    parts = [("files", (file.name, file.read_bytes())) for file in files]
    return staff.post(
        url, data={"csrf_token": _csrf(form.text)}, files=parts, allow_redirects=False, timeout=120
    )


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.mark.parametrize("key", BOMB_KEYS)
def test_each_bomb_over_http_is_refused_within_bounded_worker_memory(
    key: str, bombs: dict[str, Bomb], portal: Portal, staff: requests.Session, database: Session
) -> None:
    bomb = bombs[key]
    workers = portal.server.worker_pids()
    for pid in workers:
        _reset_peak_rss(pid)
    before_mb = {pid: psutil.Process(pid).memory_info().rss / MB for pid in workers}
    began = time.perf_counter()
    with sampling_rss(workers) as sampled_mb:
        answer = _upload(staff, portal, bomb.files)
    seconds = time.perf_counter() - began
    kernel_peak_mb = {pid: _peak_rss_mb(pid) for pid in workers}
    peak_mb = {pid: max(kernel_peak_mb[pid], sampled_mb[pid]) for pid in workers}
    after_mb = {pid: psutil.Process(pid).memory_info().rss / MB for pid in workers}
    messages = " ".join(error_messages(answer.text))
    on_disk_mb = sum(f.stat().st_size for f in bomb.files) / 1e6
    print(
        f"\n{bomb.label} ({on_disk_mb:.1f} MB): {answer.status_code} in {seconds:.2f} s; worker "
        f"peak RSS {max(peak_mb.values()):.0f} MB (VmHWM {max(kernel_peak_mb.values()):.0f}, "
        f"sampled {max(sampled_mb.values()):.0f}, before {max(before_mb.values()):.0f}, "
        f"after {max(after_mb.values()):.0f}): {messages}"
    )
    assert answer.status_code == 422, (answer.status_code, portal.server.log_tail())
    assert bomb.words.lower() in messages.lower(), messages
    assert SERVER_PATH.search(messages) is None, messages
    assert max(peak_mb.values()) < PEAK_RSS_LIMIT_MB, peak_mb
    assert portal.server.worker_pids() == workers  # no worker died or was replaced
    assert _count(database, EcgRecording) == 0 and _count(database, AnalysisJob) == 0
    assert _files_under(portal.storage_dir) == []
    assert _files_under(portal.server_tmp) == []
    _assert_the_portal_still_serves(staff, portal)


def _assert_the_portal_still_serves(staff: requests.Session, portal: Portal) -> None:
    page = staff.get(f"{portal.server.url}/patients/{portal.patient_id}", timeout=30)
    assert page.status_code == 200, page.status_code
    assert re.search(rf"<h1[^>]*>[^<]*{PATIENT_NAME}", page.text), page.text[:500]
