"""An account deactivated while its signature is in flight signs nothing: the signature locks
the account and reads it as committed. A doctor's signature had been saved 220 ms after an
administrator was told "demo-doctor2 is deactivated" (a concurrency audit, on MariaDB)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from portal.models import Account, EcgReport
from portal.services import accounts, reports
from portal.services.errors import AccountDeactivated
from tests.conftest import PASSWORD, People
from tests.support.races import second_while_first_is_open
from tests.test_upload_and_review import _analysed_report


def test_a_signature_waits_for_a_deactivation_in_flight_and_is_refused(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report_id = _analysed_report(app, people, sql, tmp_path).id
    sql.commit()
    engine = sql.get_bind()
    admin_session = Session(engine)
    accounts.set_active(
        admin_session, admin_session.get(Account, people.doctor.id), False,
        actor=admin_session.get(Account, people.admin.id),
    )  # fmt: skip
    admin_session.flush()  # the deactivation is mid-way, not committed

    def sign(doctor_session: Session) -> str:
        report = doctor_session.get(EcgReport, report_id)
        assert report is not None
        try:
            reports.sign(
                doctor_session, report, actor=doctor_session.get(Account, people.doctor.id),
                password=PASSWORD, expected_row_version=report.row_version,
                read=reports.PhysicianRead("Sinus rhythm", ["SINUS"], "Read."),
            )  # fmt: skip
            doctor_session.commit()
            return "signed"
        except AccountDeactivated as refused:
            return refused.message

    said, _ = second_while_first_is_open(engine, admin_session, sign, wait_s=1.5)
    assert said.startswith("Your account was deactivated while this was being saved")
    sql.expire_all()
    assert len(sql.get(EcgReport, report_id).versions) == 1
