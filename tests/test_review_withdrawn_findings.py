"""The review page's "Findings" box is the machine's read: after a doctor signs without one
of its findings, the box says so, as the episode table and the PDF strips do. Found by a
corrections audit: an amendment that withdrew a VT run as motion artefact left "high
Ventricular tachycardia" listed unmarked under a plain "Findings" heading."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from portal.models import ReportVersion, VersionKind
from portal.services.documents import withdrawn_findings
from reports.data import NOT_SIGNED
from tests.conftest import People, client_for, sign_report
from tests.support.ecg_files import synthetic, write_csv
from tests.test_reference_label import _analysed


def test_a_finding_the_signed_read_does_not_carry_is_marked_the_machines_call(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed(app, people, sql, write_csv(tmp_path / "a.csv", synthetic(30, 250, seed=3)))
    doctor = client_for(app, people.doctor)
    box = re.compile(r'<ul id="machine-findings">(.*?)</ul>', re.S)
    before = box.search(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    assert before is not None and "No significant arrhythmia" in before.group(1)
    assert NOT_SIGNED not in before.group(1)  # nothing signed yet: the machine's read alone
    sign_report(
        doctor, report, sql, rhythm_label="Sinus rhythm", findings=["SINUS", "T_INVERSION"],
        conclusion="Sinus rhythm with T-wave inversion.", patient_comment="",
    )  # fmt: skip
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'Findings <span class="muted">(the machine\'s read)</span>' in page
    listed = box.search(page)
    assert listed is not None
    assert re.search(r"No significant arrhythmia</strong>.*?\(" + re.escape(NOT_SIGNED) + r"\)",
                     html.unescape(listed.group(1)), re.S)  # fmt: skip


def test_withdrawn_findings_follow_the_signed_statements() -> None:
    codes = ["VT", "PVC", "TACHY", "NORMAL"]
    amended = ReportVersion(kind=VersionKind.AMENDMENT, findings=["AF", "PVC"])
    assert withdrawn_findings(amended, codes) == {"VT", "TACHY", "NORMAL"}
    sinus = ReportVersion(kind=VersionKind.PHYSICIAN, findings=["SINUS", "VT", "PVC", "NORMAL"])
    assert withdrawn_findings(sinus, codes) == set()  # sinus by any rate covers all three
    assert withdrawn_findings(ReportVersion(kind=VersionKind.MACHINE, findings=[]), codes) == set()
    assert withdrawn_findings(None, codes) == set()
    # "No significant arrhythmia" is not "Normal ECG": a sinus bradycardia signed as
    # prefilled (the form leaves "Normal ECG" out beside it) keeps it; a statement of
    # something the machine did not find withdraws it.
    brady = ReportVersion(kind=VersionKind.PHYSICIAN, findings=["BRADY"])
    assert withdrawn_findings(brady, ["NORMAL"]) == set()
    av_block = ReportVersion(kind=VersionKind.PHYSICIAN, findings=["SINUS", "AV_BLOCK_1"])
    assert withdrawn_findings(av_block, ["NORMAL"]) == {"NORMAL"}
    assert withdrawn_findings(av_block, ["NORMAL", "AV_BLOCK_1"]) == set()
