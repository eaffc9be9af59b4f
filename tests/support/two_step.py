"""Two-step login for tests: admins and doctors made by the fixtures are enrolled with one
known TOTP secret, and every login (test client or browser) takes a fresh code from here.

A code is accepted once (its time step must be newer than the last one used), and the portal
accepts the previous, current and next step. So logins of one account get consecutive steps;
a fourth login within one 30-s step waits for the next step. The previous step is not used
in a step's last 10 s (it would expire before the server reads it; a CI run failed so)."""

from __future__ import annotations

import time
import weakref

import pyotp
from flask import Flask

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
STEP_S = 30
_last_step: weakref.WeakKeyDictionary[Flask, dict[str, int]] = weakref.WeakKeyDictionary()


def next_code(app: Flask, username: str) -> str:
    """A code of a step the portal has not seen used for this account, and accepts now."""
    used = _last_step.setdefault(app, {})
    while True:
        now_s = time.time()
        now_step = int(now_s // STEP_S)
        # The previous step only while it stays accepted for a while: a code taken in a step's
        # last seconds would be two steps old by the time the server checks it.
        oldest_safe = now_step - 1 if now_s - now_step * STEP_S < STEP_S - 10 else now_step
        step = max(oldest_safe, used.get(username, -1) + 1)
        if step <= now_step + 1:
            used[username] = step
            return pyotp.TOTP(SECRET).at(step * STEP_S)
        time.sleep((now_step + 1) * STEP_S - time.time() + 0.05)


def browser_log_in(page, app: Flask, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Log in through the pages, with the second step when the account has it."""
    if "/login" not in page.url:
        page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if "/login/verify" in page.url:
        page.fill("#code", next_code(app, username))
        page.click("main button[type=submit]")
        page.wait_for_load_state()
