"""A throwaway MariaDB server for the tests: private data directory, loopback port.

Started once per test session (per pytest-xdist worker). Set CARDIO_TEST_MARIADB_URL
(mysql+pymysql://user:pw@host:port) to use an existing server instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pymysql

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
TEST_USER, TEST_PASSWORD = "cardio_test", "cardio-test-password"
# Synchronous file I/O: io_uring and libaio draw on per-host kernel limits (locked memory,
# aio-max-nr) that other servers on a shared CI machine may have used up.
SERVER_IO_OPTIONS = ["--innodb-use-native-aio=0"]
MYSQL8_SQL_MODE = (
    "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
)


class MariaDBUnavailable(RuntimeError):
    pass


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name, path=SEARCH_PATH)
        if found:
            return found
    raise MariaDBUnavailable(
        f"None of {', '.join(names)} is installed. Install Debian's mariadb-server "
        "(`sudo apt-get install mariadb-server`, which `make test` does when run as root) "
        "or set CARDIO_TEST_MARIADB_URL to an existing server."
    )


def _tail(output: bytes, chars: int = 2000) -> str:
    return output.decode(errors="replace")[-chars:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MariaDBServer:
    def __init__(self, base_dir: Path):
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.socket_path = base_dir / "mysqld.sock"
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def host_url(self) -> str:
        return f"mysql+pymysql://{TEST_USER}:{TEST_PASSWORD}@127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60, attempts: int = 3) -> None:
        """Make a data directory and start the server on it. A shared CI host can refuse
        a bootstrap now and then (a busy port, a full kernel AIO table), so each step is
        tried again on a fresh directory before the run is failed, and the failure names
        what the server printed."""
        install_db = _binary("mariadb-install-db", "mysql_install_db")
        _binary("mariadbd", "mysqld")
        for attempt in range(1, attempts + 1):
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir.mkdir(parents=True)
            installed = subprocess.run(
                [
                    install_db,
                    "--no-defaults",
                    f"--datadir={self.data_dir}",
                    *self._as_root(),
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    *SERVER_IO_OPTIONS,
                ],
                capture_output=True,
            )
            if installed.returncode != 0:
                failure = "mariadb-install-db failed: " + _tail(installed.stdout + installed.stderr)
            else:
                try:
                    self._launch(timeout_s)
                    return
                except MariaDBUnavailable as error:
                    failure = str(error)
                    self.port = _free_port()
            if attempt == attempts:
                raise MariaDBUnavailable(f"after {attempts} attempts, {failure}")
            time.sleep(attempt)

    def kill(self) -> None:
        """SIGKILL the server, as a crash or an OOM kill would (no clean shutdown)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def restart(self, timeout_s: float = 60) -> None:
        """Start the server again on the same port and data directory (after `kill` or
        `stop`); InnoDB recovers what was committed."""
        assert self.process is not None and self.process.poll() is not None, "still running"
        self._launch(timeout_s)

    @staticmethod
    def _as_root() -> list[str]:
        return ["--user=root"] if os.geteuid() == 0 else []

    def _launch(self, timeout_s: float) -> None:
        server = _binary("mariadbd", "mysqld")
        log = open(self.base_dir / "server.log", "ab")  # noqa: SIM115 (lives with the process)
        self.process = subprocess.Popen(
            [
                server,
                "--no-defaults",
                f"--datadir={self.data_dir}",
                *self._as_root(),
                f"--socket={self.socket_path}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--pid-file={self.base_dir / 'mysqld.pid'}",
                "--skip-log-bin",
                "--skip-name-resolve",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                f"--sql-mode={MYSQL8_SQL_MODE}",
                "--innodb-buffer-pool-size=128M",
                "--innodb-flush-log-at-trx-commit=2",
                "--innodb-doublewrite=0",
                "--max-connections=200",
                *SERVER_IO_OPTIONS,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._root_sql(
                    f"CREATE USER IF NOT EXISTS '{TEST_USER}'@'127.0.0.1' "
                    f"IDENTIFIED BY '{TEST_PASSWORD}'",
                    f"GRANT ALL PRIVILEGES ON *.* TO '{TEST_USER}'@'127.0.0.1'",
                )
                return
            except pymysql.err.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise MariaDBUnavailable(
                        "MariaDB did not start: "
                        + _tail((self.base_dir / "server.log").read_bytes())
                    ) from None
                time.sleep(0.2)

    def _root_sql(self, *statements: str) -> None:
        _execute(pymysql.connect(unix_socket=str(self.socket_path), user="root"), statements)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def create_database(host_url: str, name: str) -> str:
    """Create an empty utf8mb4 database on the server and return its URL."""
    _admin_sql(
        host_url,
        f"DROP DATABASE IF EXISTS `{name}`",
        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
    )
    return f"{host_url}/{name}?charset=utf8mb4"


def _admin_sql(host_url: str, *statements: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(host_url)
    connection = pymysql.connect(
        host=url.host, port=url.port or 3306, user=url.username, password=url.password or ""
    )
    _execute(connection, statements)


def _execute(connection: pymysql.Connection, statements: tuple[str, ...]) -> None:
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()
