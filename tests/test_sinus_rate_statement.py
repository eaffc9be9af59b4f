"""Sinus rhythm is named by its rate on a strip as on a long recording, and a slow rhythm comes
to the doctor as a read that can be signed as it is: "Normal ECG" (the statement of "No
significant arrhythmia") stands only with sinus rhythm, so it is not preselected beside sinus
bradycardia; and a strip called another rhythm says its marked bradycardia in that call's
finding, not as a second rhythm statement (sinus bradycardia) beside it."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml.research.synthetic import BeatTruth, synthetic_recording
from portal.models import EcgReport, ReportStatus
from portal.worker import Worker
from tests.conftest import PASSWORD, People, client_for, post_form
from tests.support.ecg_files import write_csv
from tests.test_upload_and_review import _upload

SIGN_FORM = re.compile(r'<form[^>]*action="[^"]*/sign(?:#sign)?"[^>]*>.*?</form>', re.S)
SELECTED = re.compile(r'<option (?:selected )?value="([A-Z0-9_]+)"(?: selected)?', re.S)


def _preselected(page: str) -> list[str]:
    form = SIGN_FORM.search(page)
    assert form is not None, "no sign form on the review page"
    return [m.group(1) for m in SELECTED.finditer(form.group(0)) if "selected" in m.group(0)]


OTHER_LINE = "Other rhythm (not normal sinus rhythm, not atrial fibrillation)"


@pytest.mark.parametrize(
    ("duration_s", "hr_bpm", "rhythm_line", "statements"),
    [
        (30.0, 55.0, "Sinus bradycardia", ["BRADY"]),  # a strip
        (90.0, 55.0, "Sinus bradycardia", ["BRADY"]),  # a recording read as episodes
        # A strip under 50 bpm is another rhythm by the strip rule; its marked bradycardia is
        # said in that call's finding, not as a sinus bradycardia beside it.
        (30.0, 42.0, OTHER_LINE, ["OTHER_RHYTHM"]),
    ],
)
def test_a_slow_rhythm_is_named_and_signable_as_prefilled(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    duration_s: float,
    hr_bpm: float,
    rhythm_line: str,
    statements: list[str],
) -> None:
    recording = synthetic_recording(
        BeatTruth(hr_bpm=hr_bpm), duration_s=duration_s, fs_hz=250.0, leads=("I", "II", "III")
    )[0]
    path = write_csv(tmp_path / "slow.csv", recording)
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, [(path.read_bytes(), "slow.csv")]).status_code == 302
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    assert report is not None
    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert rhythm_line in html.unescape(page)
    chosen = _preselected(page)
    assert chosen == statements, chosen
    form = {"rhythm_label": rhythm_line, "findings": chosen,
            "conclusion": "Slow rhythm, otherwise normal.", "patient_comment": "",
            "password": PASSWORD, "row_version": str(report.row_version)}  # fmt: skip
    signed = post_form(doctor, f"/reports/{report.id}/sign", form,
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302, signed.get_data(as_text=True)[:2000]
    sql.expire_all()
    assert report.status is ReportStatus.FINAL
