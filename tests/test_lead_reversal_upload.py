"""A 12-lead ECG recorded with the arm electrodes swapped, end to end: the review page, the
machine notes and the clinician's PDF say the QRS axis is not measurable and why, where the
read gave a false extreme right axis (`ml.lead_reversal`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml.lead_reversal import ARMS_SWAPPED
from ml.research.synthetic import BeatTruth, synthetic_recording
from portal.models import EcgReport
from portal.services.reports import MEDIUM_URGENCY, ROUTINE, urgency_reason
from tests.conftest import People, client_for
from tests.ml.test_lead_reversal import _arms_swapped
from tests.test_sinus_rate_statement import _read_by_the_portal, signed_as_prefilled


def test_swapped_arm_electrodes_are_said_on_the_page_and_in_the_pdf(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=70, axis_deg=40), duration_s=10.0)
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", _arms_swapped(recording))
    assert report.versions[0].qrs_axis_deg is None
    page, _, clinician, _ = signed_as_prefilled(app, people, sql, report, tmp_path, "Repeat.")
    assert f"not measurable ({ARMS_SWAPPED})" in page  # the QRS axis row
    assert f"QRS axis not measurable: {ARMS_SWAPPED}." in page  # the machine notes
    assert "arm electrodes look swapped" in " ".join(clinician.split())


def test_a_holter_pair_says_why_it_has_no_axis(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """MLII and V1 (a Holter's pair) do not span the frontal plane: the axis row and the PDF
    say "not measurable" and why, where they showed a bare dash, read as an omission."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=70), duration_s=20.0, leads=("II", "V1"))
    holter = dataclasses.replace(recording, lead_names=("MLII", "V1"))
    report = _read_by_the_portal(app, people, sql, tmp_path / "ecg.csv", holter)
    assert report.versions[0].qrs_axis_deg is None
    page, _, clinician, _ = signed_as_prefilled(app, people, sql, report, tmp_path, "Sinus.")
    reason = (
        "the frontal axis needs two limb leads (I and aVF, I and II, or II and III); this "
        "recording has II, V1"
    )
    assert f"not measurable ({reason})" in page
    assert reason in " ".join(clinician.split())


def test_swapped_arm_electrodes_rank_before_the_routine_reads(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The read asks for the ECG to be repeated, so the worklist ranks it medium and says
    why, while the patient may still be in the department: it had sat among the routine
    reads as "No significant arrhythmia". The same ECG with its electrodes right stays
    routine."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=70, axis_deg=40), duration_s=10.0)
    swapped = _read_by_the_portal(app, people, sql, tmp_path / "a.csv", _arms_swapped(recording))
    _read_by_the_portal(app, people, sql, tmp_path / "b.csv", recording)
    right = sql.scalars(select(EcgReport).order_by(EcgReport.id.desc())).first()
    assert right is not None and right.id != swapped.id
    assert (swapped.main_finding, right.main_finding) == ("NORMAL", "NORMAL")
    assert (swapped.urgency, right.urgency) == (MEDIUM_URGENCY, ROUTINE)
    assert urgency_reason(swapped) == "No significant arrhythmia; repeat the ECG (electrodes)"
    assert urgency_reason(right) == "No significant arrhythmia"
    worklist = client_for(app, people.doctor).get("/worklist").get_data(as_text=True)
    assert "repeat the ECG (electrodes)" in worklist


def test_a_repeat_is_asked_for_whatever_the_read_and_only_when_the_arms_look_swapped(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A review: a first-degree AV block (a low finding) with the arms swapped ranked
    routine, its "repeat the ECG" on the review page only; and a normal read ranked medium by
    a risk score since recomputed was told to "repeat the ECG (electrodes)", its electrodes
    right."""
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=70, pr_ms=240, axis_deg=40), duration_s=10.0
    )
    swapped = _read_by_the_portal(app, people, sql, tmp_path / "a.csv", _arms_swapped(recording))
    assert swapped.main_finding == "AV_BLOCK_1" and swapped.urgency == MEDIUM_URGENCY
    assert urgency_reason(swapped) == "First-degree AV block; repeat the ECG (electrodes)"
    calm, _ = synthetic_recording(BeatTruth(hr_bpm=70, axis_deg=40), duration_s=10.0)
    _read_by_the_portal(app, people, sql, tmp_path / "b.csv", calm)
    right = sql.scalars(select(EcgReport).order_by(EcgReport.id.desc())).first()
    assert right is not None and right.urgency == ROUTINE
    right.urgency = MEDIUM_URGENCY  # as a high risk score, recomputed since, had left it
    assert urgency_reason(right) == "No significant arrhythmia"
    sql.rollback()
