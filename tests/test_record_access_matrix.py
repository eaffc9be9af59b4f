"""Role x endpoint x record: nobody reaches another patient's ECG data by guessing ids."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AnalysisJob, EcgReport
from portal.worker import Worker
from tests.conftest import People, client_for, post_form
from tests.support.ecg_files import synthetic, write_csv

GETS = [
    "/reports/{report}",
    "/reports/{report}/ecg.json?overview=1",
    "/reports/{report}/ecg.json?start_s=0&end_s=5",
    "/reports/{report}/ecg-time.json?into=0:05",
    "/jobs/{job}",
    "/jobs/{job}/status.json",
    "/patients/{patient}/risk/",
    "/patients/{patient}",
]
POSTS = ["/reports/{report}/sign", "/reports/{report}/amend", "/jobs/{job}/retry"]


@pytest.fixture
def records(app: Flask, people: People, sql: Session, tmp_path: Path) -> dict[str, dict[str, int]]:
    staff = client_for(app, people.staff)
    for n, patient in enumerate((people.patient, people.other_patient)):
        path = write_csv(tmp_path / f"{n}.csv", synthetic(20, 250, seed=10 + n))
        post_form(
            staff,
            f"/patients/{patient.id}/recordings/new",
            {"files": [(io.BytesIO(path.read_bytes()), "ecg.csv")]},
            token_page=f"/patients/{patient.id}/recordings/new",
            content_type="multipart/form-data",
        )
    Worker(app).run_pending()
    out = {}
    for key, patient in (("mine", people.patient), ("other", people.other_patient)):
        report = sql.scalar(select(EcgReport).where(EcgReport.patient_id == patient.id))
        job = sql.scalar(select(AnalysisJob).where(AnalysisJob.id == report.job_id))
        out[key] = {"patient": patient.id, "report": report.id, "job": job.id}
    return out


def _expected(role: str, owner: str, method: str) -> set[int]:
    """Allowed answers for `role` on `owner`'s record ("mine" = people.patient's)."""
    if role in ("admin", "patient"):
        return {403}
    if role == "staff":
        return {403} if method == "POST" and "sign" in owner else {200, 302, 400}
    visible = (role == "doctor" and owner == "mine") or (
        role == "other_doctor" and owner == "other"
    )
    if visible:
        return {200, 302, 400, 409}
    # A POST without a CSRF token stops at 400 before any lookup (so it reveals nothing);
    # with a valid token it is 404 (checked below).
    return {404, 400} if method == "POST" else {404}


def test_every_role_on_every_record(app: Flask, people: People, records) -> None:  # type: ignore[no-untyped-def]
    accounts = {
        "admin": people.admin,
        "staff": people.staff,
        "doctor": people.doctor,
        "other_doctor": people.other_doctor,
        "patient": people.patient_account,
    }
    checked = 0
    for role, account in accounts.items():
        client = client_for(app, account)
        for owner, ids in records.items():
            for template in GETS:
                url = template.format(**ids)
                status = client.get(url).status_code
                assert status in _expected(role, owner, "GET"), (role, owner, url, status)
                checked += 1
            for template in POSTS:
                url = template.format(**ids)
                status = client.post(url, data={}).status_code
                expected = _expected(role, owner, "POST")
                if role == "staff" and "/reports/" in url:
                    expected = {403}  # only doctors sign or amend
                assert status in expected, (role, owner, url, status)
                checked += 1
    assert checked == 5 * 2 * (len(GETS) + len(POSTS))
    # And the signature itself cannot be forged on someone else's report with a valid token.
    doctor = client_for(app, people.doctor)
    forged = post_form(
        doctor,
        f"/reports/{records['other']['report']}/sign",
        {"rhythm_label": "x", "conclusion": "x", "password": "x", "row_version": "1"},
        token_page=f"/reports/{records['mine']['report']}",
    )
    assert forged.status_code == 404
