"""`make test` runs on pytest-xdist workers: each must get servers and databases of its own."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import redis
from sqlalchemy.engine import make_url

from tests.conftest import _redis_database_of_this_worker, _worker_number
from tests.support import mariadb
from tests.support.mariadb import MariaDBServer, MariaDBUnavailable, create_database
from tests.support.redis_server import RedisServer


def test_the_worker_number_comes_from_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert _worker_number() == 3
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert _worker_number() == 0


def test_workers_sharing_an_existing_redis_use_different_databases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    urls = []
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        urls.append(_redis_database_of_this_worker("redis://:secret@10.0.0.5:6380/4"))
    assert urls == [
        "redis://:secret@10.0.0.5:6380/4",
        "redis://:secret@10.0.0.5:6380/5",
        "redis://:secret@10.0.0.5:6380/6",
    ]
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert _redis_database_of_this_worker("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379/1"


@pytest.mark.mariadb
@pytest.mark.parametrize("database_url", ["mariadb"], indirect=True)
def test_this_workers_migrated_mariadb_database_is_its_own(database_url: str) -> None:
    """(SQLite's databases live in each worker's own temporary folder.)"""
    number = _worker_number()
    assert make_url(database_url).database == f"cardio_tests_{number}"


@pytest.mark.mariadb
def test_a_test_server_whose_port_was_taken_meanwhile_starts_on_another(tmp_path: Path) -> None:
    """Workers on a shared CI host pick free ports independently; losing the race to another
    process must not fail every MariaDB test of the worker (as one CI run did)."""
    server = MariaDBServer(tmp_path / "mariadb")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", server.port))
        taken = server.port
        server.start(timeout_s=30)
    try:
        assert server.port != taken
        create_database(server.host_url, "started")
    finally:
        server.stop()


@pytest.mark.mariadb
def test_a_test_server_that_cannot_bootstrap_says_what_the_server_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mariadb, "SERVER_IO_OPTIONS", ["--no-such-server-option=1"])
    with pytest.raises(MariaDBUnavailable) as refused:
        MariaDBServer(tmp_path / "mariadb").start(timeout_s=10, attempts=2)
    assert "after 2 attempts, mariadb-install-db failed" in str(refused.value)
    assert "no-such-server-option" in str(refused.value)


def test_a_test_redis_whose_port_was_taken_meanwhile_starts_on_another(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", server.port))
        taken = server.port
        server.start()
    try:
        assert server.port != taken
        assert redis.Redis.from_url(server.url).ping()
    finally:
        server.stop()
