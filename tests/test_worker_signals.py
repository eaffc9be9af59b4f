"""A stop signal is raised in the worker's own code, never inside database code."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import pytest

from portal.worker_signals import in_database_code, stop_cleanly_on_signals


def _frame_of_module(module: str) -> FrameType:
    """A live frame whose code belongs to `module` (as a frame of that library's code would)."""
    namespace: dict[str, object] = {"__name__": module, "sys": sys}
    exec("def here():\n    return sys._getframe()\n", namespace)  # noqa: S102 (a fixed snippet)
    return namespace["here"]()  # type: ignore[operator,no-any-return]


def test_frames_inside_the_database_layer_are_recognised() -> None:
    assert in_database_code(_frame_of_module("sqlalchemy.engine.base"))
    assert in_database_code(_frame_of_module("pymysql.connections"))
    assert not in_database_code(_frame_of_module("portal.services.jobs"))
    assert not in_database_code(_frame_of_module("ml.analysis"))
    assert not in_database_code(sys._getframe())
    assert not in_database_code(None)


def test_a_stop_inside_database_code_waits_until_it_is_out() -> None:
    """The handlers `cardio worker` installs: Ctrl+C or SIGTERM inside SQLAlchemy's code is put
    off (a timer looks again); the next look, outside it, raises the stop."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}
    try:
        stop_cleanly_on_signals()
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler) and handler is signal.getsignal(signal.SIGINT)
        handler(signal.SIGTERM, _frame_of_module("sqlalchemy.orm.session"))  # put off
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0  # a look again is due
        signal.setitimer(signal.ITIMER_REAL, 0)  # this test looks again itself
        handler(signal.SIGALRM, _frame_of_module("sqlalchemy.pool.base"))  # still inside
        signal.setitimer(signal.ITIMER_REAL, 0)
        with pytest.raises(KeyboardInterrupt):
            handler(signal.SIGALRM, _frame_of_module("portal.worker"))
        handler(signal.SIGALRM, _frame_of_module("portal.worker"))  # nothing pending: no stop
        with pytest.raises(KeyboardInterrupt):
            handler(signal.SIGINT, _frame_of_module("ml.analysis"))  # outside: at once
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, previous in saved.items():
            signal.signal(signum, previous)


def test_a_repeated_failure_is_logged_once_then_a_line_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A worker logged 24 tracebacks in 12 s while the database was down (an ops audit)."""
    from portal.worker import FailureLog

    now = [0.0]
    failing = FailureLog("analysis worker loop failed; retrying", clock=lambda: now[0])
    with caplog.at_level("INFO", logger="portal.worker"):
        for second in range(0, 125, 5):  # a failure every 5 s for two minutes
            now[0] = float(second)
            try:
                raise ConnectionError("database down")
            except ConnectionError:
                failing.failed()
        failing.recovered()
    records = [r for r in caplog.records if r.name == "portal.worker"]
    assert [r.exc_info is not None for r in records] == [True, False, False, False]
    assert "still failing, 13 times so far" in records[1].getMessage()
    assert "working again after 25 failures" in records[-1].getMessage()
