"""Two administrators deactivating each other at the same moment had left the portal with no
active administrator: each request checked only that its target was not its actor, and the
second committed 26 ms after its own actor had been deactivated (an access audit,
2026-12-07). An admin action now locks its actor and reads it as committed, and the last
active administrator cannot be deactivated."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.admin.forms import ConfirmForm
from portal.models import Account, AuditEvent, Role
from portal.services import accounts
from portal.services.errors import AccountDeactivated
from portal.services.validation import InvalidInput
from tests.conftest import People, client_for, csrf_token, make_account
from tests.support.races import second_while_first_is_open


@pytest.fixture
def second_admin(sql: Session, people: People) -> Account:
    admin = make_account(sql, Role.ADMIN, "adminb")
    sql.commit()
    return admin


def test_deactivating_each_other_at_once_leaves_one_admin_active(
    app: Flask, people: People, sql: Session, second_admin: Account
) -> None:
    engine = sql.get_bind()
    first = Session(engine)
    accounts.set_active(first, first.get(Account, second_admin.id), False,
                        actor=first.get(Account, people.admin.id))  # fmt: skip
    first.flush()  # admin1's deactivation of adminb is mid-way, not committed

    def adminb_deactivates_admin1(own: Session) -> str:
        try:
            accounts.set_active(own, own.get(Account, people.admin.id), False,
                                actor=own.get(Account, second_admin.id))  # fmt: skip
            own.commit()
            return "deactivated"
        except AccountDeactivated as refused:
            return refused.message

    said, _ = second_while_first_is_open(engine, first, adminb_deactivates_admin1, wait_s=1.5)
    assert said.startswith("Your account was deactivated while this was being saved"), said
    sql.expire_all()
    assert sql.get(Account, people.admin.id).is_active  # type: ignore[union-attr]
    assert not sql.get(Account, second_admin.id).is_active  # type: ignore[union-attr]


@pytest.mark.parametrize("action", ["deactivate", "unlock"])
def test_an_admin_deactivated_while_posting_saves_nothing(
    app: Flask, people: People, sql: Session, second_admin: Account,
    monkeypatch: pytest.MonkeyPatch, action: str,
) -> None:  # fmt: skip
    """adminb's post has passed the login check when admin1's deactivation of adminb commits:
    it is refused in words, admin1 stays active and no row says adminb acted."""
    adminb = client_for(app, second_admin)
    token = csrf_token(adminb, "/admin/accounts")
    validate = ConfirmForm.validate_on_submit

    def deactivated_meanwhile(form: ConfirmForm, *args: Any, **kwargs: Any) -> bool:
        with Session(sql.get_bind()) as other:
            accounts.set_active(other, other.get(Account, second_admin.id), False,
                                actor=other.get(Account, people.admin.id))  # fmt: skip
            other.commit()
        return bool(validate(form, *args, **kwargs))

    monkeypatch.setattr(ConfirmForm, "validate_on_submit", deactivated_meanwhile)
    response = adminb.post(f"/admin/accounts/{people.admin.id}/{action}",
                           data={"csrf_token": token})  # fmt: skip
    assert response.status_code == 403
    assert "Your account was deactivated while this was being saved" in response.get_data(
        as_text=True
    )
    sql.expire_all()
    assert sql.get(Account, people.admin.id).is_active  # type: ignore[union-attr]
    acted = sql.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == second_admin.id))
    assert not [a for a in acted if a.startswith("account.")]


def test_the_last_active_admin_cannot_be_deactivated(
    app: Flask, people: People, sql: Session, second_admin: Account
) -> None:
    accounts.set_active(sql, second_admin, False, actor=people.admin)
    sql.commit()
    client = client_for(app, people.admin)
    response = client.post(f"/admin/accounts/{people.admin.id}/deactivate",
                           data={"csrf_token": csrf_token(client, "/admin/accounts")})  # fmt: skip
    page = client.get(response.location).get_data(as_text=True)
    assert "You cannot deactivate your own account." in page
    assert "last active administrator" in page
    with pytest.raises(InvalidInput) as refused:  # by anyone else (here a script's)
        accounts.set_active(sql, people.admin, False, actor=people.staff)
    sql.rollback()
    assert "admin1 is the portal's last active administrator" in refused.value.errors["account"]
    sql.expire_all()
    assert sql.get(Account, people.admin.id).is_active  # type: ignore[union-attr]
