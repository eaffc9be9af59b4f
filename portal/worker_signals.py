"""Ctrl+C and SIGTERM stop `cardio worker` cleanly, but never in the middle of database code.

Python raises a signal's exception wherever the main thread is. Landing inside SQLAlchemy's
own code (a commit's bookkeeping, a connection going back to its pool), it can leave a
connection holding SQLite's write lock that nothing closes, and the clean stop then cannot
remove the worker's heartbeat row ("database is locked" three times, in two CI runs out of
many). So the stop is raised at once where the main thread is in the portal's or the
analysis's own code (a job in progress still stops at once: its session closes on the way
out), and while it is inside the database driver or SQLAlchemy it is put off and looked at
again every `RETRY_S` until it is out.
"""

from __future__ import annotations

import signal
from types import FrameType

RETRY_S = 0.05
DATABASE_MODULES = ("sqlalchemy", "pymysql", "sqlite3")  # a stop is put off inside these


def in_database_code(frame: FrameType | None) -> bool:
    """True when `frame` or any frame that called it runs code of `DATABASE_MODULES`."""
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if module.split(".")[0] in DATABASE_MODULES:
            return True
        frame = frame.f_back
    return False


def stop_cleanly_on_signals() -> None:
    """Ctrl+C and SIGTERM (`kill`, `docker stop`, systemd) raise KeyboardInterrupt, so the
    worker ends through its clean stop (its heartbeat row goes, and a job it was running is
    requeued at once), outside database code (module docstring). Set here because a process
    started in the background of a script inherits SIGINT ignored, and Python's default
    SIGTERM ends it without running any cleanup."""
    pending = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal pending
        if signum != signal.SIGALRM:
            pending = True
        if not pending:
            return
        if in_database_code(frame):
            signal.setitimer(signal.ITIMER_REAL, RETRY_S)  # look again soon (SIGALRM)
            return
        pending = False
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        signal.signal(signum, stop)
