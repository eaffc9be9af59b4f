"""PDFs through the pool of pre-started render processes (reports/pool.py): a valid PDF, read
back; a render over its time limit is killed and the next one works; a crashed render process
is replaced and the caller gets a RenderError, never a crash; renders in parallel."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from reports.pool import RenderPool, shared_pool
from reports.render import RenderError, html_for, render_pdf
from tests.conftest import People
from tests.support import render_faults
from tests.test_pdf_reports import _pages, _signed, _text

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def faulty_pool() -> Iterator[RenderPool]:
    with RenderPool(render_faults.TARGET) as pool:
        yield pool


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_report_rendered_through_the_pool_reads_back(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    from portal.services.documents import report_data

    report = _signed(app, people, sql, tmp_path)
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"])
    with RenderPool() as pool:
        assert pool.pids() == []  # nothing starts before the first render
        clinician = pool.render(html_for("clinician", data), 60)
        (first_pid,) = pool.pids()
        summary = pool.render(html_for("patient", data), 60)
        assert pool.pids() == [first_pid]  # the same process, kept warm
    assert not _alive(first_pid)  # closing the pool ends its processes
    text = _text(clinician, tmp_path, "clinician")
    for expected in (people.patient.full_name, people.patient.mrn, f"ECG report {report.id}",
                     "Sinus rhythm with rare early beats.", "Page 1 of"):  # fmt: skip
        assert expected in text, expected
    assert _pages(clinician, tmp_path) >= 3
    assert "Your heart test results" in _text(summary, tmp_path, "summary")
    # The portal's path: render_pdf goes through this process's shared pool.
    assert "Your heart test results" in _text(render_pdf("patient", data), tmp_path, "shared")
    assert shared_pool().pids()


def test_a_render_over_its_time_limit_is_killed_and_the_next_one_works(
    faulty_pool: RenderPool, tmp_path: Path
) -> None:
    faulty_pool.render("<p>warm</p>", 60)
    (hung_pid,) = faulty_pool.pids()
    started = time.monotonic()
    with pytest.raises(RenderError, match="longer than 1 s and was stopped"):
        faulty_pool.render("<p>HANG</p>", 1.0)
    assert time.monotonic() - started < 5
    assert not _alive(hung_pid)
    (fresh_pid,) = faulty_pool.pids()  # the pool started its successor at once
    assert fresh_pid != hung_pid
    assert "after the hang" in _text(faulty_pool.render("<p>after the hang</p>", 60), tmp_path)
    assert faulty_pool.pids() == [fresh_pid]


def test_the_pool_survives_a_crashed_render_process(
    faulty_pool: RenderPool, tmp_path: Path
) -> None:
    faulty_pool.render("<p>warm</p>", 60)
    (crashed_pid,) = faulty_pool.pids()
    with pytest.raises(RenderError, match=r"stopped unexpectedly \(exit code -11\)"):
        faulty_pool.render("<p>CRASH</p>", 60)
    assert not _alive(crashed_pid)
    assert "after the crash" in _text(faulty_pool.render("<p>after the crash</p>", 60), tmp_path)
    assert crashed_pid not in faulty_pool.pids()
    # A process that dies while idle (the kernel's OOM killer) is replaced before it is used.
    (idle_pid,) = faulty_pool.pids()
    os.kill(idle_pid, 9)
    time.sleep(0.2)
    assert "after an idle death" in _text(faulty_pool.render("<p>after an idle death</p>", 60),
                                          tmp_path)  # fmt: skip


def test_parallel_renders_share_at_most_max_processes() -> None:
    results: list[bytes] = []
    with RenderPool(max_processes=2) as pool:
        threads = [
            threading.Thread(target=lambda n=n: results.append(pool.render(f"<p>{n}</p>", 60)))
            for n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(results) == 4 and all(pdf.startswith(b"%PDF-") for pdf in results)
        assert 1 <= len(pool.pids()) <= 2


def test_a_process_is_replaced_after_its_share_of_renders() -> None:
    with RenderPool(max_processes=1, renders_per_process=2) as pool:
        pool.render("<p>one</p>", 60)
        (first,) = pool.pids()
        pool.render("<p>two</p>", 60)  # its second and last: a successor takes its place
        (second,) = pool.pids()
        assert second != first and not _alive(first)
        pool.render("<p>three</p>", 60)
        assert pool.pids() == [second]


def test_a_forked_child_gets_a_pool_of_its_own() -> None:
    parent_pool = shared_pool()
    pid = os.fork()
    if pid == 0:  # the child (a prefork worker): it must not talk to the parent's processes
        os._exit(0 if shared_pool() is not parent_pool else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert shared_pool() is parent_pool
