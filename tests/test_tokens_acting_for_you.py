"""A token acts as its account: the account's owner sees it on their security page and may
revoke it. A security audit: an admin issued a token for a doctor's account, which read
clinical data as that doctor past their second factor, and nothing of the doctor's said so."""

from __future__ import annotations

import re

from flask import Flask

from tests.conftest import People, client_for, post_form
from tests.test_api import Api, issue_on_admin_page


def test_the_owner_sees_and_revokes_a_token_that_acts_as_them(app: Flask, people: People) -> None:
    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.doctor.username, ["patients:read"]))
    assert api.get("/patients").status_code == 200

    doctor = client_for(app, people.doctor)
    page = doctor.get("/account/security").get_data(as_text=True)
    assert "Machine clients acting as you" in page
    assert people.admin.display_name in page and "patients:read" in page
    revoke = re.search(r'action="(/account/tokens/\d+/revoke)"', page)
    assert revoke
    other = client_for(app, people.other_doctor)
    other_page = other.get("/account/security").get_data(as_text=True)
    assert "None: no machine client holds a token for your account." in other_page
    refused = post_form(other, revoke[1], {}, token_page="/account/security")
    assert refused.status_code == 404 and api.get("/patients").status_code == 200

    revoked = post_form(doctor, revoke[1], {}, token_page="/account/security")
    assert revoked.status_code == 302
    assert "no longer acts as you" in doctor.get(revoked.location).get_data(as_text=True)
    assert api.get("/patients").status_code == 401
