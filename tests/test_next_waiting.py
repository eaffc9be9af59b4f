"""A signed report's page links the most urgent report still waiting (`reports.next_waiting`):
the only way on had been the worklist, one more step per report at night (an on-call audit)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import EcgReport
from portal.worker import Worker
from tests.conftest import PASSWORD, People, client_for, post_form
from tests.test_upload_and_review import _csv_bytes, _upload


def test_a_signed_report_links_the_next_one_waiting(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    staff = client_for(app, people.staff)
    for seed in (3, 4):
        response = _upload(staff, people.patient.id, [(_csv_bytes(tmp_path, seed), f"{seed}.csv")])
        assert response.status_code == 302
    assert Worker(app).run_pending() == 2
    first, second = sql.scalars(select(EcgReport).order_by(EcgReport.id)).all()
    doctor = client_for(app, people.doctor)
    assert 'id="next-waiting"' not in doctor.get(f"/reports/{first.id}").get_data(as_text=True)
    signed = post_form(doctor, f"/reports/{first.id}/sign",
                       {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
                        "conclusion": "Normal.", "next_steps": ["ROUTINE"], "password": PASSWORD,
                        "row_version": str(first.row_version)},
                       token_page=f"/reports/{first.id}")  # fmt: skip
    assert signed.status_code == 302
    page = doctor.get(signed.location).get_data(as_text=True)
    assert f'id="next-waiting" href="/reports/{second.id}"' in page
    # Offered from the doctor's own reports only: the other doctor, whose list it is not on,
    # is offered nothing from it and cannot open it.
    other = client_for(app, people.other_doctor)
    assert other.get(f"/reports/{first.id}").status_code == 404
    assert f"/reports/{second.id}" not in other.get("/worklist").get_data(as_text=True)
