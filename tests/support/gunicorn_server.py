"""The portal served as in production: gunicorn with docker/gunicorn.conf.py (2 workers x 4
threads) loading portal.wsgi:app, on a free loopback port, for tests that need real worker
processes (their memory, their crashes) rather than the in-process test client."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONFIG = PROJECT_ROOT / "docker" / "gunicorn.conf.py"


@dataclass(frozen=True)
class LiveGunicorn:
    url: str
    master_pid: int
    log_path: Path

    def worker_pids(self) -> list[int]:
        return sorted(child.pid for child in psutil.Process(self.master_pid).children())

    def log_tail(self, n_chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-n_chars:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_answering(server: LiveGunicorn, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{server.log_tail()}") from None
            time.sleep(0.2)


def _wait_for_workers(server: LiveGunicorn, n_workers: int) -> None:
    """Every worker booted (the first answer proves only one did)."""
    deadline = time.monotonic() + 60
    while len(server.worker_pids()) < n_workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn started fewer than {n_workers} workers")
        time.sleep(0.2)


@contextmanager
def gunicorn_serving(
    env: dict[str, str], log_path: Path, n_workers: int = 2
) -> Iterator[LiveGunicorn]:
    """gunicorn running with `env` until the block ends, then stopped as systemd or Docker
    would stop it (SIGTERM, then SIGKILL after 20 s)."""
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG),
             "--bind", f"127.0.0.1:{port}", "--workers", str(n_workers), "portal.wsgi:app"],
            env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = LiveGunicorn(f"http://127.0.0.1:{port}", process.pid, log_path)
    try:
        _wait_until_answering(server, process)
        _wait_for_workers(server, n_workers)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
