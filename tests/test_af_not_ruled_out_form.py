"""A machine read that cannot rule out AF (an "other rhythm" strip with irregular RR
intervals and no consistent P wave) leaves the rhythm to the doctor: its sign form comes
with no rhythm line and no rhythm statement chosen. A review, 2026-12-07: MIT-BIH 221's 10 s
of AF came prefilled "Other rhythm (not normal sinus rhythm, not atrial fibrillation)",
signable as offered, under a finding saying AF was not ruled out."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from ml.strip_rhythm import OTHER_AF_NOT_RULED_OUT_TEXT
from portal.models import ReportVersion
from portal.services import reports
from tests.conftest import People, client_for
from tests.support.ecg_files import synthetic, write_csv
from tests.test_reference_label import _analysed


def _selected(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return re.findall(
        r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', select.group(1)
    )


def test_the_doctor_chooses_the_rhythm_where_the_machine_cannot_rule_out_af(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed(app, people, sql, write_csv(tmp_path / "r.csv", synthetic(20, 250, seed=4)))
    versions = ReportVersion.__table__  # rows are immutable to the ORM: a machine read as 221's
    sql.execute(
        update(versions)
        .where(versions.c.id == report.versions[0].id)
        .values(rhythm_label=OTHER_AF_NOT_RULED_OUT_TEXT, findings=["OTHER_RHYTHM", "FREQUENT_PVC"])
    )
    sql.commit()
    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    line = re.search(r'<input[^>]*name="rhythm_label"[^>]*>', page)
    assert line is not None and re.search(r'value="[^"]', line.group(0)) is None
    assert "The machine could not rule out atrial fibrillation on this strip" in page
    chosen = {a or b for a, b in _selected(page, "findings")}
    assert "FREQUENT_PVC" in chosen and "OTHER_RHYTHM" not in chosen
    assert reports.latest_signed(report) is None
