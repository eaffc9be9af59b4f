"""Pre-started PDF render processes: WeasyPrint imported and warmed once, then one render
after another, each with its time limit.

A fresh interpreter per render spent more time starting (imports, fonts) than rendering; a
render process kept between renders pays that once. Isolation stays: each render process is a
separate program (`python -P -m reports.pool`) that reads documents from its stdin and answers on
its stdout, so a crash in WeasyPrint (or a document that makes it eat memory) ends that
process alone, and the pool starts another. A render over its time limit is killed the same
way. A process is also replaced after `renders_per_process` renders, so nothing a document
leaves behind in WeasyPrint's caches lives long.

Nothing starts until the first render (`shared_pool()` is lazy): starting the web process or
a `cardio` command costs nothing. A forked child (a prefork worker) gets a pool of its own.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from reports.render import RenderError

DEFAULT_TARGET = "reports.render:pdf_bytes"
WARM_UP_HTML = "<p>CardioPortal</p>"  # loads WeasyPrint's fonts and caches before real work
READY, PDF, FAILED = b"R", b"P", b"E"  # the first byte of every answer from a render process
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _TimedOut(Exception):
    pass


class RenderProcess:
    """One render process and the two pipes to it."""

    def __init__(self, target: str) -> None:
        env = dict(os.environ)
        paths = [str(PROJECT_ROOT), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
        self.popen = subprocess.Popen(
            # -P: the working directory is not on the path, so no other `reports` shadows ours.
            [sys.executable, "-P", "-m", "reports.pool", target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self.popen.stdin is not None and self.popen.stdout is not None
        self._to = Connection(os.dup(self.popen.stdin.fileno()), readable=False)
        self._from = Connection(os.dup(self.popen.stdout.fileno()), writable=False)
        self.popen.stdin.close()
        self.popen.stdout.close()
        self.ready = False
        self.renders = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def render(self, document: bytes, deadline: float) -> bytes:
        """The PDF of `document` (UTF-8 HTML), or RenderError for one WeasyPrint refused;
        _TimedOut past the deadline; EOFError or OSError when the process died."""
        if not self.ready:  # still importing WeasyPrint (a process started moments ago)
            if self._receive(deadline) != READY:
                raise EOFError("the render process did not start")
            self.ready = True
        self.renders += 1
        self._to.send_bytes(document)
        answer = self._receive(deadline)
        if answer[:1] == PDF:
            return answer[1:]
        raise RenderError(answer[1:].decode(errors="replace"))

    def _receive(self, deadline: float) -> bytes:
        if not self._from.poll(max(0.0, deadline - time.monotonic())):
            raise _TimedOut
        return self._from.recv_bytes()

    def stop(self, *, kill: bool = False) -> int | None:
        """End the process (politely: end of its input; or at once) and return its exit code."""
        for connection in (self._to, self._from):
            connection.close()
        if kill:
            self.popen.kill()
        try:
            return self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


class RenderPool:
    """Up to `max_processes` render processes, started when renders need them.

    `target` ("module:function", str -> PDF bytes) is what a render process runs; tests
    pass one that hangs or crashes on request."""

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        max_processes: int = 2,
        renders_per_process: int = 100,
    ) -> None:
        self.target = target
        self.max_processes = max_processes
        self.renders_per_process = renders_per_process
        self.owner_pid = os.getpid()
        self._idle: list[RenderProcess] = []
        self._busy: set[RenderProcess] = set()
        self._changed = threading.Condition()
        self._closed = False

    def render(self, html: str, time_limit_s: float) -> bytes:
        """`html` as PDF bytes, or RenderError (refused, over `time_limit_s`, crashed). The
        time limit counts from this call: waiting for a free process and its start included."""
        deadline = time.monotonic() + time_limit_s
        document = html.encode()
        process = self._acquire(deadline, time_limit_s)
        try:
            pdf = process.render(document, deadline)
        except _TimedOut:
            self._replace(process)
            raise RenderError(
                f"rendering took longer than {time_limit_s:g} s and was stopped"
            ) from None
        except (EOFError, OSError):
            code = self._replace(process)
            raise RenderError(
                f"the PDF render process stopped unexpectedly (exit code {code})"
            ) from None
        except RenderError:  # WeasyPrint refused this document: the process is fine
            self._release(process)
            raise
        except BaseException:  # interrupted here: the process may still be busy with it
            self._replace(process)
            raise
        self._release(process)
        return pdf

    def start(self) -> None:
        """Start one render process now, if none runs (benchmarks; a server may call it)."""
        with self._changed:
            if not self._idle and not self._busy and not self._closed:
                self._idle.append(RenderProcess(self.target))

    def pids(self) -> list[int]:
        with self._changed:
            return [p.pid for p in [*self._idle, *self._busy]]

    def close(self) -> None:
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            self._changed.notify_all()
        for process in idle:
            process.stop()

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _acquire(self, deadline: float, time_limit_s: float) -> RenderProcess:
        with self._changed:
            while True:
                if self._closed:
                    raise RenderError("the PDF render pool is closed")
                while self._idle:
                    process = self._idle.pop()
                    if process.alive():
                        self._busy.add(process)
                        return process
                    process.stop()  # died while idle (e.g. the kernel's OOM killer)
                if len(self._busy) < self.max_processes:
                    process = RenderProcess(self.target)
                    self._busy.add(process)
                    return process
                if not self._changed.wait(max(0.0, deadline - time.monotonic())):
                    raise RenderError(
                        f"rendering took longer than {time_limit_s:g} s and was stopped "
                        "(every render process was busy)"
                    )

    def _release(self, process: RenderProcess) -> None:
        if process.renders >= self.renders_per_process:
            self._replace(process, kill=False)
            return
        with self._changed:
            self._busy.discard(process)
            if self._closed:
                process.stop()
            else:
                self._idle.append(process)
            self._changed.notify()

    def _replace(self, process: RenderProcess, *, kill: bool = True) -> int | None:
        """Stop `process` and start its successor at once, to be warm by the next render."""
        code = process.stop(kill=kill)
        with self._changed:
            self._busy.discard(process)
            if not self._closed:
                self._idle.append(RenderProcess(self.target))
            self._changed.notify()
        return code


_shared: RenderPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> RenderPool:
    """This process's pool, made on first use (no render process starts before a render)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.owner_pid != os.getpid():
            _shared = RenderPool()
        return _shared


def _close_shared() -> None:
    if _shared is not None and _shared.owner_pid == os.getpid():
        _shared.close()


def _forget_shared_after_fork() -> None:
    """A forked child must not talk to its parent's render processes: it makes its own."""
    global _shared, _shared_lock
    _shared, _shared_lock = None, threading.Lock()


atexit.register(_close_shared)
os.register_at_fork(after_in_child=_forget_shared_after_fork)


# The render process itself: `python -m reports.pool MODULE:FUNCTION`.


def _resolve(target: str) -> Callable[[str], bytes]:
    module, _, name = target.partition(":")
    function: Callable[[str], bytes] = getattr(importlib.import_module(module), name)
    return function


def serve(target: str) -> None:
    """Render each document read from stdin until stdin ends; answers go to stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; it ends us by EOF
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a library that prints must not corrupt the answers: its text goes to stderr
    documents = Connection(os.dup(0), writable=False)
    render = _resolve(target)
    with contextlib.suppress(Exception):  # a real document will report the same problem
        render(WARM_UP_HTML)
    answers.send_bytes(READY)
    while True:
        try:
            html = documents.recv_bytes().decode()
        except EOFError:  # the pool closed us, or its process ended
            return
        try:
            answer = PDF + render(html)
        except Exception as problem:  # sent to the parent, which raises RenderError
            answer = FAILED + f"{type(problem).__name__}: {problem}".encode()
        try:
            answers.send_bytes(answer)
        except BrokenPipeError:  # the parent gave up on this render (or ended) meanwhile
            return


if __name__ == "__main__":
    serve(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_TARGET)
