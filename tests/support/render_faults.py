"""A render function for tests of reports.pool: it renders like the portal's, except that a
document holding HANG never finishes and one holding CRASH kills its process (as a segfault
in WeasyPrint would)."""

from __future__ import annotations

import os
import resource
import signal
import time

from reports.render import pdf_bytes

TARGET = "tests.support.render_faults:render"


def render(html: str) -> bytes:
    if "HANG" in html:
        time.sleep(3600)
    if "CRASH" in html:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file left behind
        os.kill(os.getpid(), signal.SIGSEGV)
    return pdf_bytes(html)
