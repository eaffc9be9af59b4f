"""`make test` runs on pytest-xdist workers: each must get servers and databases of its own."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import _redis_database_of_this_worker, _worker_number


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
