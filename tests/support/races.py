"""Two requests at the same moment, made deterministic: the first has written and not yet
committed, the second runs in a thread on its own session, then the first commits. MariaDB
only where a test says so (SQLite runs one writer at a time)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session


def mariadb_only(database_url: str) -> None:
    if not database_url.startswith("mysql"):
        pytest.skip("SQLite runs one writer at a time: the race is MariaDB's")


def second_while_first_is_open(
    engine: Engine, first: Session, second: Callable[[Session], str], wait_s: float = 1.0
) -> tuple[str, bool]:
    """What `second` (on a session of its own) returned, having started while `first` held
    its uncommitted writes, which are committed after `wait_s`; and whether it was still
    waiting then (a lock held it)."""
    outcome: dict[str, str] = {}

    def run() -> None:
        with Session(engine) as own:
            outcome["result"] = second(own)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=wait_s)
    waited = thread.is_alive()
    first.commit()
    first.close()
    thread.join(timeout=30)
    return outcome["result"], waited
