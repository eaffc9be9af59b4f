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

from ml import vocabulary
from ml.strip_rhythm import OTHER_AF_NOT_RULED_OUT_TEXT
from portal.fhir.codes import statement_concept
from portal.models import (
    EcgRecording,
    EcgReport,
    ReportStatus,
    ReportVersion,
    RiskLevel,
    RiskModel,
    RiskScore,
)
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
    # Nor the conclusion, which names the machine's call (a signed AF kept it; a review).
    conclusion = re.search(r'<textarea[^>]*name="conclusion"[^>]*>(.*?)</textarea>', page, re.S)
    assert conclusion is not None and conclusion.group(1).strip() == ""
    assert reports.latest_signed(report) is None


def test_a_rhythm_line_leaving_af_open_is_not_signed() -> None:
    """The machine's line pasted with the other-rhythm statement signed both "not AF/flutter"
    and "AF not ruled out" (a review): a signed read says what the rhythm is."""
    problems = vocabulary.contradictions(["OTHER_RHYTHM"], OTHER_AF_NOT_RULED_OUT_TEXT)
    assert any("leaves the rhythm open" in p for p in problems)
    assert vocabulary.contradictions(["AF"], "Atrial fibrillation") == []


def test_an_unsigned_other_rhythm_is_not_said_to_be_not_af_to_other_systems() -> None:
    """FHIR's text of an unsigned other rhythm said "not AF/flutter" beside a conclusion
    saying AF was not ruled out (a review); the worklist already said the machine's words."""
    machine = statement_concept("OTHER_RHYTHM", machine_read=True)
    assert machine["text"] == "Other rhythm (not normal sinus rhythm)"
    signed = statement_concept("OTHER_RHYTHM")
    assert signed["text"] == "Other rhythm (not normal sinus rhythm, not AF/flutter)"


def test_the_worklist_names_an_other_rhythm_beside_a_high_risk_score() -> None:
    """cinc2017 A00015 unsigned, its "AF not ruled out" at medium risk, read "high risk score;
    no urgent ECG finding" for a patient with a high score (a review)."""
    report = EcgReport(
        status=ReportStatus.PRELIMINARY, main_finding="OTHER_RHYTHM",
        urgency=reports.MEDIUM_URGENCY,
        recording=EcgRecording(reference_record=None, lead_names=["II"]),
        risk_scores=[RiskScore(model=RiskModel.GRACE_IN_HOSPITAL, level=RiskLevel.HIGH)],
    )  # fmt: skip
    assert (
        reports.urgency_reason(report) == "Other rhythm (not normal sinus rhythm); high risk score"
    )
