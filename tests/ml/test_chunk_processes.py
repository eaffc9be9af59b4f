"""A chunk process dies with the analysis that forked it: a Celery worker killed with SIGKILL
mid-analysis had left its chunk processes asleep for ever, about 290 MB each (an operations
audit)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portal.config import PROJECT_ROOT

# An analysis stand-in: a pool of chunk processes that write their PIDs, then sleep.
SCRIPT = """
import os, sys, time
from ml.chunked import _chunk_pool
out = sys.argv[1]

def step(index):
    with open(f"{out}/{os.getpid()}", "w"):
        pass
    time.sleep(120)

with _chunk_pool(step, 2) as (pool, call):
    list(pool.map(call, range(2)))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\tZ" in status.read_text())  # a zombie is dead


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_chunk_processes_die_when_the_analysis_process_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=PROJECT_ROOT)
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    children = [int(p.name) for p in tmp_path.iterdir()]
    assert len(children) == 2 and all(_alive(pid) for pid in children)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children)
