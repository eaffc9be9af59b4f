"""The audit trail is append-only and records who, what, which patient, when, from where."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.app import create_app
from portal.models import AuditEvent, ImmutableRowError
from portal.services import audit
from tests.conftest import People, client_for, make_settings


def test_viewing_a_patient_is_audited_with_actor_and_address(
    app: Flask, people: People, sql: Session
) -> None:
    client = client_for(app, people.doctor)
    client.get(f"/patients/{people.patient.id}", headers={"User-Agent": "ward-pc-7"})
    event = sql.scalar(select(AuditEvent).where(AuditEvent.action == "patient.view"))
    assert event.actor_id == people.doctor.id and event.actor_role == "doctor"
    assert event.patient_id == people.patient.id
    assert event.ip_address == "127.0.0.1" and event.user_agent == "ward-pc-7"
    assert event.occurred_at is not None


def test_audit_rows_cannot_be_updated_or_deleted(people: People, sql: Session) -> None:
    event = sql.scalars(select(AuditEvent)).first()
    event.action = "tampered"
    with pytest.raises(ImmutableRowError):
        sql.flush()
    sql.rollback()
    event = sql.scalars(select(AuditEvent)).first()
    sql.delete(event)
    with pytest.raises(ImmutableRowError):
        sql.flush()
    sql.rollback()
    assert sql.scalar(select(AuditEvent.action).where(AuditEvent.id == event.id)) != "tampered"


def test_admin_audit_page_filters_and_is_admin_only(app, people, sql) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import client_for

    staff = client_for(app, people.staff)
    staff.get(f"/patients/{people.patient.id}")
    staff.get(f"/patients/{people.other_patient.id}")
    admin = client_for(app, people.admin)
    everything = admin.get("/admin/audit").get_data(as_text=True)
    assert "patient.view" in everything and "login.success" in everything
    only_one = admin.get(
        "/admin/audit", query_string={"mrn": people.patient.mrn, "action": "patient.view"}
    ).get_data(as_text=True)
    assert only_one.count('<td class="mono">patient.view</td>') == 1
    # The patient is named by MRN, as the filter asks for one (it showed the internal id).
    assert f"<td>{people.patient.mrn}</td>" in only_one
    by_user = admin.get("/admin/audit", query_string={"user": "nobody"}).get_data(as_text=True)
    assert "No events match." in by_user
    for account in (people.staff, people.doctor, people.patient_account):
        assert client_for(app, account).get("/admin/audit").status_code == 403


def test_reading_the_audit_trail_is_audited_with_the_patients_shown(
    app,
    people,
    sql,  # type: ignore[no-untyped-def]
) -> None:
    """A security audit: an administrator's search of the trail by a patient's MRN, which
    shows their address and phone as changed, left no row."""
    from sqlalchemy import select

    from portal.models import AuditEvent
    from tests.conftest import client_for

    client_for(app, people.staff).get(f"/patients/{people.patient.id}")
    admin = client_for(app, people.admin)
    admin.get("/admin/audit", query_string={"mrn": people.patient.mrn})
    sql.expire_all()
    row = sql.scalars(select(AuditEvent).where(AuditEvent.action == "audit.view")).one()
    assert row.actor_username == people.admin.username
    assert row.patient_id == people.patient.id
    assert row.details == {"filters": {"mrn": people.patient.mrn},
                           "patient_ids": [people.patient.id]}  # fmt: skip


@pytest.fixture
def los_angeles_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    settings = make_settings(database_url, tmp_path)
    application = create_app(
        dataclasses.replace(settings, time_zone="America/Los_Angeles"), TESTING=True
    )
    yield application
    application.extensions["db_engine"].dispose()


def test_the_audit_pages_dates_are_the_hospitals_days(
    los_angeles_app: Flask, people: People, sql: Session
) -> None:
    """A data-protection audit: with TIME_ZONE=America/Los_Angeles a row shown "2026-12-06
    22:20:41 PST" (06:20 UTC on the 7th) was not found by from=to=2026-12-06, and was by
    from=to=2026-12-07: the filter's days were UTC days."""
    late = audit.record(sql, "patient.view", actor=people.staff, patient_id=people.patient.id)
    late.occurred_at = dt.datetime(2026, 12, 7, 6, 20, 41)  # chained as written at the commit
    sql.commit()
    admin = client_for(los_angeles_app, people.admin)

    def shown_on(day: str) -> bool:
        page = admin.get(
            "/admin/audit", query_string={"from": day, "to": day, "user": people.staff.username}
        )
        return "2026-12-06 22:20:41 PST" in page.get_data(as_text=True)

    assert shown_on("2026-12-06") and not shown_on("2026-12-07")
    assert not shown_on("2026-12-05")


@pytest.mark.parametrize("filters", [{}, {"action": "test."}], ids=["all", "filtered"])
def test_audit_pages_do_not_repeat_rows_written_since_the_first_page(
    app: Flask, people: People, sql: Session, filters: dict[str, str]
) -> None:
    """A records audit: page 1's last row was page 2's first, as each page view writes its own
    `audit.view` at the top (and others' events do too) and the pages were offsets from the
    newest row."""

    def write_events(numbers: range) -> None:
        for n in numbers:
            audit.record(sql, "test.event", actor=people.staff, object_type="test", object_id=n)
            sql.commit()

    def listed(page: str) -> list[int]:
        return [int(n) for n in re.findall(r"<td>test (\d+)</td>", page)]

    def next_link(page: str) -> str:
        found = re.search(r'<a href="([^"]+)">Next</a>', page)
        assert found is not None, "no Next link"
        return html.unescape(found.group(1))

    write_events(range(1, 61))
    admin = client_for(app, people.admin)
    first = admin.get("/admin/audit", query_string=filters).get_data(as_text=True)
    write_events(range(61, 66))  # written while the admin reads page 1
    second = admin.get(next_link(first)).get_data(as_text=True)
    pages = [listed(first), listed(second)]
    if len(pages[0]) + len(pages[1]) < 60:  # unfiltered: the logins and views fill pages too
        pages.append(listed(admin.get(next_link(second)).get_data(as_text=True)))
    assert not set(pages[0]) & set(pages[1]), "a row shown on two pages"
    assert [n for page in pages for n in page] == list(range(60, 0, -1))
    assert "Page 2 of" in second
