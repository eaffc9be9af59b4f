"""ASVS V2.2.1: the login throttle counts per client address across every server process and
over a restart. Two apps on one database stand for two gunicorn workers; the counters live
in the database (the default, portal/rate_limit_storage.py) or in a real Redis."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from limits.storage import MemoryStorage, RedisStorage
from sqlalchemy import select

from portal import create_app
from portal.config import load_settings
from portal.db import db_session, make_engine
from portal.models import RateLimitCounter, WorkerHeartbeat
from portal.rate_limit_storage import DatabaseStorage
from tests.conftest import login, make_settings

LOGIN_LIMIT = "3 per minute"
WRONG = "not the password at all"
THREADS = 8


@pytest.fixture(params=["database", "redis"])
def storage_uri(request: pytest.FixtureRequest) -> str:
    """Where the counters live: the default (the database), or Redis when configured."""
    if request.param == "database":
        return "cardio-db://"
    url: str = request.getfixturevalue("redis_url")
    redis.Redis.from_url(url).flushdb()  # no count left over from another test
    return url


@pytest.fixture
def start_worker(
    database_url: str, tmp_path: Path, storage_uri: str
) -> Iterator[Callable[[], Flask]]:
    """Starts one more "server process" on the test's database and counter storage."""
    started: list[Flask] = []

    def start() -> Flask:
        settings = dataclasses.replace(
            make_settings(database_url, tmp_path),
            login_rate_limit=LOGIN_LIMIT,
            rate_limit_storage_uri=storage_uri,
        )
        started.append(create_app(settings, TESTING=True))
        return started[-1]

    yield start
    for app in started:
        app.extensions["db_engine"].dispose()


@pytest.fixture
def storage(database_url: str) -> Iterator[DatabaseStorage]:
    engine = make_engine(database_url)
    yield DatabaseStorage("cardio-db://", engine=engine)
    engine.dispose()


def wrong_login(app: Flask) -> int:
    return int(login(app.test_client(), "someone", WRONG).status_code)


# --- through the portal: two workers, a restart ---------------------------------------------


def test_v2_2_1_two_workers_share_one_count_per_address(
    start_worker: Callable[[], Flask],
) -> None:
    first, second = start_worker(), start_worker()
    answers = [wrong_login(worker) for worker in (first, second, first, second, first)]
    assert answers == [200, 200, 200, 429, 429]  # the limit of one process, not of each


def test_v2_2_1_the_count_survives_a_restart(start_worker: Callable[[], Flask]) -> None:
    before = start_worker()
    assert [wrong_login(before) for _ in range(3)] == [200, 200, 200]
    before.extensions["db_engine"].dispose()  # the process ends
    after = start_worker()
    refused = login(after.test_client(), "someone", WRONG)
    assert refused.status_code == 429
    assert "Too many attempts from this network" in refused.get_data(as_text=True)


def test_the_database_is_the_default_storage_and_memory_stays_accepted(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    monkeypatch.delenv("RATE_LIMIT_STORAGE_URI", raising=False)
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path / "instance"))
    assert load_settings().rate_limit_storage_uri == "cardio-db://"
    kinds = {}
    for uri in ("cardio-db://", "memory://", redis_url):
        settings = make_settings(database_url, tmp_path)
        app = create_app(dataclasses.replace(settings, rate_limit_storage_uri=uri))
        kinds[uri] = type(app.extensions["cardio_limiter"].storage)
        app.extensions["db_engine"].dispose()
    assert kinds == {
        "cardio-db://": DatabaseStorage,
        "memory://": MemoryStorage,
        redis_url: RedisStorage,
    }


@pytest.mark.parametrize("storage_uri", ["database"], indirect=True)
def test_a_throttle_write_leaves_the_requests_own_work_alone(
    start_worker: Callable[[], Flask],
) -> None:
    """The counter commits on its own connection: the request's unfinished change is
    neither committed with it nor rolled back by it."""
    app = start_worker()
    counters = app.extensions["cardio_limiter"].storage
    with app.app_context():
        session = db_session()
        session.add(WorkerHeartbeat(worker_id="unfinished", host="h", pid=1))
        if app.extensions["db_engine"].dialect.name != "sqlite":
            session.flush()  # SQLite would hold its one write lock: the portal never does this
        assert counters.incr("LIMITER/somewhere", 60) == 1
        session.rollback()
        assert session.get(WorkerHeartbeat, "unfinished") is None
    assert counters.get("LIMITER/somewhere") == 1


# --- the storage itself: windows, expiry, concurrency -----------------------------------------


def test_a_window_counts_then_expires_and_restarts(storage: DatabaseStorage) -> None:
    assert storage.get("k") == 0
    assert [storage.incr("k", 1) for _ in range(3)] == [1, 2, 3]
    ends_at = storage.get_expiry("k")
    assert time.time() < ends_at <= time.time() + 1
    assert storage.incr("k", 1, amount=2) == 5
    assert storage.get_expiry("k") == ends_at  # a hit does not stretch the window
    time.sleep(max(0.0, ends_at - time.time()) + 0.05)
    assert storage.get("k") == 0
    assert storage.incr("k", 30) == 1  # a new window, with its own end
    assert storage.get_expiry("k") > time.time() + 29


def test_clear_reset_and_the_sweep_of_expired_counters(
    storage: DatabaseStorage, database_url: str
) -> None:
    storage.incr("gone-soon", 1)
    storage.incr("live", 60)
    storage.incr("other", 60)
    storage.clear("other")
    assert storage.get("other") == 0
    time.sleep(1.05)
    assert storage.delete_expired() == 1
    engine = make_engine(database_url)
    with engine.connect() as connection:
        keys = connection.scalars(select(RateLimitCounter.key)).all()
    engine.dispose()
    assert keys == ["live"]
    assert storage.check() is True
    assert storage.reset() == 1
    assert storage.get("live") == 0


def test_a_key_longer_than_the_column_still_counts(storage: DatabaseStorage) -> None:
    long_key = "LIMITER/" + "x" * 400
    assert [storage.incr(long_key, 60) for _ in range(2)] == [1, 2]
    assert storage.get(long_key) == 2
    assert storage.get("LIMITER/" + "x" * 399) == 0


def run_together(work: Callable[[], list[int]], threads: int = THREADS) -> list[int]:
    """`work` in `threads` threads released at once; every value they returned."""
    start = threading.Barrier(threads)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            results.extend(work())
        except BaseException as problem:  # reported below, in the test's thread
            errors.append(problem)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    return results


def test_concurrent_increments_lose_no_count(storage: DatabaseStorage) -> None:
    per_thread = 25
    seen = run_together(lambda: [storage.incr("busy", 60) for _ in range(per_thread)])
    total = THREADS * per_thread
    assert storage.get("busy") == total
    assert sorted(seen) == list(range(1, total + 1))  # each increment saw its own count


def test_concurrent_first_attempts_from_a_new_address_lose_no_count(
    storage: DatabaseStorage,
) -> None:
    """The row does not exist yet: every thread tries to create it at the same moment."""
    for round_number in range(5):
        key = f"new-address-{round_number}"
        seen = run_together(lambda key=key: [storage.incr(key, 60)])
        assert sorted(seen) == list(range(1, THREADS + 1))
        assert storage.get(key) == THREADS


def test_concurrent_increments_of_an_expired_window_restart_it_once(
    storage: DatabaseStorage,
) -> None:
    storage.incr("stale", 1, amount=50)
    time.sleep(1.05)
    seen = run_together(lambda: [storage.incr("stale", 60)])
    assert sorted(seen) == list(range(1, THREADS + 1))
