"""One administrator posting a doctor's password reset and their two-step login reset at once
(two tabs, 50 ms apart): both were made (an access audit: `account.mfa_remove` and
`account.password_reset` 0.3 s apart), and the administrator logged in as the doctor with the
password they set, with no second factor. The two resets take turns on the account's row and
the second reads what the first committed: never both."""

from __future__ import annotations

import html
import threading
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import Account
from portal.services import accounts
from tests.conftest import People, client_for, csrf_token

BCRYPT_S = 0.25  # what a production hash takes (the tests hash with 4 rounds)
ROUNDS = 20


def _enrolled_again(sql: Session, account_id: int, secret: str) -> None:
    """The doctor as before a round: their own password, their phone enrolled."""
    sql.expire_all()
    account = sql.get(Account, account_id)
    assert account is not None
    account.totp_secret, account.must_change_password = secret, False
    sql.commit()


def _both_at_once(admin_tabs: tuple[FlaskClient, FlaskClient], doctor_id: int, gap_s: float):
    """The password reset posted, and the two-step reset `gap_s` later, from two tabs."""
    password_tab, mfa_tab = admin_tabs
    url = f"/admin/accounts/{doctor_id}"
    typed = {"password": "temporary pass 77", "confirm_password": "temporary pass 77",
             "csrf_token": csrf_token(password_tab, f"{url}/reset-password")}  # fmt: skip
    mfa_token = csrf_token(mfa_tab, "/admin/accounts")
    answers: dict[str, object] = {}

    def post_password() -> None:
        answers["password"] = password_tab.post(f"{url}/reset-password", data=typed)

    def post_mfa() -> None:
        time.sleep(gap_s)
        answers["mfa"] = mfa_tab.post(f"{url}/reset-mfa", data={"csrf_token": mfa_token})

    threads = [threading.Thread(target=post_password), threading.Thread(target=post_mfa)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers["password"], answers["mfa"]


def test_a_password_and_a_two_step_reset_posted_at_once_are_never_both_made(
    app: Flask, people: People, sql: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hash_quickly = accounts.hash_password

    def hash_as_in_production(password: str) -> str:
        time.sleep(BCRYPT_S)
        return hash_quickly(password)

    monkeypatch.setattr(accounts, "hash_password", hash_as_in_production)
    doctor = sql.get(Account, people.doctor.id)
    assert doctor is not None and doctor.totp_secret is not None
    secret = doctor.totp_secret
    tabs = (client_for(app, people.admin), client_for(app, people.admin))
    made = {"password": 0, "mfa": 0}
    for round_number in range(ROUNDS):
        _enrolled_again(sql, people.doctor.id, secret)
        gap_s = (0.05, 0.0, 0.15, 0.3)[round_number % 4]  # the audit's 50 ms, and either first
        password, mfa = _both_at_once(tabs, people.doctor.id, gap_s)
        password_made = password.status_code == 302  # type: ignore[attr-defined]
        mfa_said = " ".join(html.unescape(tabs[1].get("/admin/accounts").get_data(as_text=True))
                            .split())  # fmt: skip
        mfa_made = "Two-step login of doctor1 removed" in mfa_said
        assert mfa.status_code == 302  # type: ignore[attr-defined]
        assert not (password_made and mfa_made), f"round {round_number}: both resets made"
        if not password_made:
            said = " ".join(html.unescape(password.get_data(as_text=True)).split())  # type: ignore[attr-defined]
            assert "The two-step login of doctor1 was reset by you on " in said, said[:2000]
        if not mfa_made:
            assert "The password of doctor1 was reset by you on " in mfa_said
        sql.expire_all()
        stored = sql.get(Account, people.doctor.id)
        assert stored is not None
        assert not (stored.must_change_password and stored.totp_secret is None)
        made["password" if password_made else "mfa"] += 1
    assert made["password"] and made["mfa"], made  # each came first in some rounds
