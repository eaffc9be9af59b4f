"""Flask-Limiter's counters in the portal's own database (`rate_limit_counter`), so every
server process counts the same login attempts and a restart forgets none.

A `limits` storage for the fixed-window strategy (the one portal/rate_limits.py uses):
`cardio-db://`, given the portal's engine. Each increment is one short transaction of its own
on its own connection, never the request's session: a throttle write neither commits nor rolls
back the request's work. The increment is one upsert (a new or expired row restarts at the
amount with a new expiry; a live one adds), so concurrent requests lose no count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from typing import Any, cast

from limits.errors import ConfigurationError
from limits.storage import Storage
from sqlalchemy import Connection, Engine, String, Table, case, delete, select, text
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.sql.dml import Insert

from portal.models import RateLimitCounter, utcnow

SCHEME = "cardio-db"
URI = f"{SCHEME}://"
SWEEP_EVERY_S = 60.0  # at most one delete of expired counters per process this often
DEADLOCK_RETRIES = 3
MYSQL_DEADLOCK = 1213  # InnoDB chose this transaction as a deadlock victim: run it again

counter = cast(Table, RateLimitCounter.__table__)
KEY_CHARS = cast(String, counter.c.key.type).length or 255


class DatabaseStorage(Storage):
    """Fixed-window counters in `rate_limit_counter` (SQLite, MySQL, MariaDB)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        engine: Engine | None = None,
        **options: Any,
    ) -> None:
        if engine is None:
            raise ConfigurationError(f"{URI} needs the portal's engine (storage_options).")
        if engine.dialect.name not in {"sqlite", "mysql", "mariadb"}:
            raise ConfigurationError(f"{URI} supports SQLite, MySQL and MariaDB only.")
        if engine.dialect.name != "sqlite":
            # No gap locks: two first attempts from new addresses do not block each other.
            engine = engine.execution_options(isolation_level="READ COMMITTED")
        self.engine = engine
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def storage(self) -> str:
        """What `cardio limiter config` shows as the storage's client (Flask-Limiter reads
        `.storage`, which limits' own storages have: the command crashed without it): the
        database, its password hidden."""
        return f"portal database {self.engine.url.render_as_string(hide_password=True)}"

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add `amount` to the key's count (a missing or expired key restarts at `amount`,
        expiring in `expiry` seconds) and return the new count."""
        self._sweep_now_and_then()
        stored_key = _stored_key(key)
        for attempt in range(DEADLOCK_RETRIES):
            try:
                with self.engine.begin() as connection:
                    return _add(connection, stored_key, dt.timedelta(seconds=expiry), amount)
            except OperationalError as problem:
                if not _is_deadlock(problem) or attempt == DEADLOCK_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises

    def get(self, key: str) -> int:
        with self.engine.connect() as connection:
            count = connection.scalar(
                select(counter.c.count).where(_live(_stored_key(key), utcnow()))
            )
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        """When the key's window ends (epoch seconds); now when it has none."""
        with self.engine.connect() as connection:
            expires_at = connection.scalar(
                select(counter.c.expires_at).where(_live(_stored_key(key), utcnow()))
            )
        if expires_at is None:
            return time.time()
        return float(expires_at.replace(tzinfo=dt.UTC).timestamp())

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(delete(counter)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(counter).where(counter.c.key == _stored_key(key)))

    def delete_expired(self) -> int:
        """Delete every counter past its window (they count as zero already)."""
        with self.engine.begin() as connection:
            return connection.execute(
                delete(counter).where(counter.c.expires_at <= utcnow())
            ).rowcount

    def _sweep_now_and_then(self) -> None:
        """Counters of addresses that never come back would pile up: one indexed delete a
        minute keeps the table to the live windows."""
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + SWEEP_EVERY_S
        self.delete_expired()


def _add(connection: Connection, key: str, expiry: dt.timedelta, amount: int) -> int:
    now = utcnow()
    live = counter.c.expires_at > now
    # Order matters on MySQL, which sets columns left to right: `count` reads the old expiry.
    on_conflict = [
        ("count", case((live, counter.c.count + amount), else_=amount)),
        ("expires_at", case((live, counter.c.expires_at), else_=now + expiry)),
    ]
    connection.execute(_upsert(connection, key, amount, now + expiry, on_conflict))
    # The row is ours (locked) until commit: this reads the count this increment made.
    return int(connection.scalar(select(counter.c.count).where(counter.c.key == key)) or 0)


def _upsert(
    connection: Connection,
    key: str,
    amount: int,
    expires_at: dt.datetime,
    on_conflict: list[tuple[str, Any]],
) -> Insert:
    values = {"key": key, "count": amount, "expires_at": expires_at}
    if connection.dialect.name == "sqlite":
        lite = sqlite.insert(counter).values(values)
        return lite.on_conflict_do_update(index_elements=[counter.c.key], set_=dict(on_conflict))
    return mysql.insert(counter).values(values).on_duplicate_key_update(on_conflict)


def _live(key: str, now: dt.datetime) -> Any:
    return (counter.c.key == key) & (counter.c.expires_at > now)


def _stored_key(key: str) -> str:
    """Flask-Limiter's key, or its digest when longer than the column (a long forwarded
    address must not turn a login into an error)."""
    if len(key) <= KEY_CHARS:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _is_deadlock(problem: OperationalError) -> bool:
    args: tuple[Any, ...] = getattr(problem.orig, "args", ())
    return args[:1] == (MYSQL_DEADLOCK,)
