"""A throwaway Redis server for the tests: private directory, loopback port, nothing saved.

Started once per test session (per pytest-xdist worker) by the `redis_url` fixture in
tests/conftest.py. Set CARDIO_TEST_REDIS_URL (redis://host:port/db) to use an existing server
instead (each pytest worker uses its own database number on it).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from tests.support.mariadb import SEARCH_PATH, _free_port


class RedisUnavailable(RuntimeError):
    pass


class RedisServer:
    def __init__(self, base_dir: Path):
        self.base_dir = base_dir
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 20, attempts: int = 3) -> None:
        """Start the server; a port taken meanwhile by another process on a shared CI host
        is given up for another free one before the run is failed."""
        for attempt in range(1, attempts + 1):
            try:
                self._launch(timeout_s)
                return
            except RedisUnavailable:
                if attempt == attempts:
                    raise
                self.port = _free_port()

    def _launch(self, timeout_s: float) -> None:
        server = shutil.which("redis-server", path=SEARCH_PATH)
        if server is None:
            raise RedisUnavailable(
                "redis-server is not installed. Install Debian's redis-server "
                "(`sudo apt-get install redis-server`, which `make test` does when run as root) "
                "or set CARDIO_TEST_REDIS_URL to an existing server."
            )
        self.base_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.base_dir / "redis.log", "ab")  # noqa: SIM115 (lives with the process)
        self.process = subprocess.Popen(
            [
                server,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.base_dir),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--protected-mode", "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RedisUnavailable(
                            "Redis did not start: "
                            + (self.base_dir / "redis.log").read_text(errors="replace")[-2000:]
                        ) from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
