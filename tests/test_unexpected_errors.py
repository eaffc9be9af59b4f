"""An error nobody planned for still gets the portal's own page, in words, and loses nothing:
the handler rolls back first, since the page loads the account through the session a failed
flush leaves unusable (an IntegrityError from two requests at once had ended in Werkzeug's
bare "Internal Server Error" page; a concurrency audit)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from portal.access import roles
from portal.db import db_session
from portal.errors import MESSAGES
from portal.models import Account, Role
from tests.conftest import People, client_for


def test_a_failed_flush_answers_with_the_portals_page_and_keeps_the_session_usable(
    app: Flask, people: People
) -> None:
    def duplicate_username() -> str:
        session = db_session()
        session.add(Account(username=people.staff.username, password_hash="x", role=Role.STAFF))
        session.flush()  # IntegrityError: the username is taken
        return "not reached"

    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered as in production
    app.add_url_rule("/test-duplicate", view_func=roles(Role.STAFF)(duplicate_username))
    staff = client_for(app, people.staff)
    answer = staff.get("/test-duplicate")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 500
    assert MESSAGES[500] in page and "Internal Server Error" not in page
    assert "Log out" in page  # drawn with the account: the session works again
    assert staff.get("/").status_code in (200, 302)
    with app.app_context():
        count = db_session().scalar(
            select(func.count()).where(Account.username == people.staff.username)
        )
    assert count == 1
