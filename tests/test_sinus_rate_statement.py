"""Sinus rhythm is named by its rate on a strip as on a long recording, and a slow rhythm comes
to the doctor as a read that can be signed as it is: "Normal ECG" (the statement of "No
significant arrhythmia") stands only with sinus rhythm, so it is not preselected beside sinus
bradycardia; and a strip called another rhythm says its marked bradycardia in that call's
finding, not as a second rhythm statement (sinus bradycardia) beside it; nor does the slow
ventricular rate of 2:1 conduction."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ml import rhythm, vocabulary
from ml.recording import Recording
from ml.research.databases import data_root
from ml.research.synthetic import (
    BeatTruth,
    sinus_or_af_mv,
    synthetic_recording,
    synthetic_rhythm_mv,
)
from portal.models import EcgReport, ReportVersion
from portal.services.machine_read import machine_summary
from portal.worker import Worker
from reports.data import NOT_SIGNED
from tests.conftest import People, client_for, post_form, sign_report, signed_pdfs
from tests.support.ecg_files import write_csv
from tests.test_upload_and_review import _analysed_report, _upload

SIGN_FORM = re.compile(r'<form[^>]*action="[^"]*/sign(?:#sign)?"[^>]*>.*?</form>', re.S)
SELECTED = re.compile(r'<option (?:selected )?value="([A-Z0-9_]+)"(?: selected)?', re.S)


def signed_as_prefilled(
    app: Flask, people: People, sql: Session, report: EcgReport, tmp_path: Path, conclusion: str
) -> tuple[str, list[str], str, str]:
    """A doctor opens the machine read, signs the statements the form preselects as they are,
    and the two PDFs are read back: (review page, statements signed, clinician's PDF text,
    patient's summary text)."""
    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    chosen = _preselected(page)
    sign_report(
        doctor, report, sql, rhythm_label=report.versions[0].rhythm_label, findings=chosen,
        conclusion=conclusion, patient_comment="",
    )  # fmt: skip
    if "Release to the patient now" in doctor.get(f"/reports/{report.id}").get_data(as_text=True):
        # A dangerous finding is held from the patient until the doctor has talked with them
        # (tests/test_patient_hold.py): here they have.
        released = post_form(doctor, f"/reports/{report.id}/release", {"version_no": "2"},
                             token_page=f"/reports/{report.id}")  # fmt: skip
        assert released.status_code == 302
    clinician, summary = signed_pdfs(app, people, doctor, report, tmp_path)
    return page, chosen, clinician, summary


def _preselected(page: str) -> list[str]:
    form = SIGN_FORM.search(page)
    assert form is not None, "no sign form on the review page"
    return [m.group(1) for m in SELECTED.finditer(form.group(0)) if "selected" in m.group(0)]


OTHER_LINE = "Other rhythm (not normal sinus rhythm, not atrial fibrillation)"


def _read_by_the_portal(
    app: Flask, people: People, sql: Session, path: Path, recording: Recording
) -> EcgReport:
    """`recording` uploaded as a CSV at `path` by staff and analysed: its report."""
    write_csv(path, recording)
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, [(path.read_bytes(), path.name)]).status_code == 302
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    assert report is not None
    return report


def _one_lead(signal_mv: np.ndarray) -> Recording:
    return Recording(250.0, ("II",), signal_mv[:, None], source_format="synthetic")


@pytest.mark.parametrize(
    ("duration_s", "hr_bpm", "rhythm_line", "statements"),
    [
        (30.0, 55.0, "Sinus bradycardia", ["BRADY"]),  # a strip
        (90.0, 55.0, "Sinus bradycardia", ["BRADY"]),  # a recording read as episodes
        # A strip under 50 bpm or over 100 is another rhythm by the strip rule, but with a P
        # wave before every QRS it is sinus bradycardia or tachycardia (`ml.sinus_strip`).
        (30.0, 42.0, "Sinus bradycardia", ["BRADY"]),
        (10.0, 125.0, "Sinus tachycardia", ["TACHY"]),
    ],
)
def test_a_slow_or_fast_sinus_rhythm_is_named_and_signable_as_prefilled(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    duration_s: float,
    hr_bpm: float,
    rhythm_line: str,
    statements: list[str],
) -> None:
    qt_ms = 400.0 * np.sqrt(60.0 / hr_bpm)  # QTc 400 ms: the T wave ends before the P wave
    truth = BeatTruth(hr_bpm=hr_bpm, qt_ms=qt_ms, t_duration_ms=min(180.0, qt_ms - 130.0))
    recording = synthetic_recording(
        truth, duration_s=duration_s, fs_hz=250.0, leads=("I", "II", "III")
    )[0]
    report = _read_by_the_portal(app, people, sql, tmp_path / "slow.csv", recording)
    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    assert rhythm_line in html.unescape(page)
    chosen = _preselected(page)
    assert chosen == statements, chosen
    sign_report(
        doctor, report, sql, rhythm_label=rhythm_line, findings=chosen,
        conclusion="Sinus rhythm at its rate, otherwise normal.", patient_comment="",
    )  # fmt: skip
    # The episode table names the rhythm as its line does (a 10-s strip's had read "Sinus
    # rhythm" under "Sinus tachycardia"), and signed as prefilled, none is the machine's alone.
    assert {e.label for e in machine_summary(report).episodes} == {rhythm_line}
    clinician, _ = signed_pdfs(app, people, doctor, report, tmp_path)
    assert rhythm_line in clinician and NOT_SIGNED not in clinician


def test_the_slow_rate_of_2_to_1_conduction_is_said_in_its_finding(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Sinus rhythm at 75 bpm, then every other beat dropped for 4.5 min (QT Database sel231's
    picture): the mean rate is under 50 bpm, and its "Marked bradycardia" finding, whose
    statement is sinus bradycardia, stood beside a rhythm line saying sinus rhythm; the sign
    form was refused as prefilled. The block's finding now carries the slow rate."""
    rr_s = np.concatenate([np.full(60, 0.8), np.full(170, 1.6)])
    signal_mv, _ = sinus_or_af_mv(rr_s, af=False, fs_hz=250.0)
    report = _read_by_the_portal(app, people, sql, tmp_path / "halved.csv", _one_lead(signal_mv))
    machine = report.versions[0]
    assert machine.rhythm_label.startswith("Sinus rhythm with 2:1 conduction")
    assert "BRADY" not in (machine.findings or [])
    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    assert re.search(r"every other beat dropped.*; marked bradycardia, mean 4\d bpm", page)
    chosen = _preselected(page)
    assert "SINUS" in chosen and "AV_BLOCK_2" in chosen and "BRADY" not in chosen, chosen
    sign_report(
        doctor, report, sql, rhythm_label=machine.rhythm_label, findings=chosen,
        conclusion="2:1 AV block.", patient_comment="",
    )  # fmt: skip


def test_a_long_junctional_rhythm_is_not_called_sinus_and_signs_as_prefilled(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Two minutes of a regular rhythm at 45 bpm without P waves (a junctional escape rhythm)
    read "Sinus bradycardia" on a long recording, where a strip of it reads another rhythm.
    Now its rhythm line names a junctional or ectopic rhythm, the finding says why and carries
    the marked bradycardia, and the form signs as prefilled (`rhythm._without_p_waves`)."""
    onsets_s = np.arange(0.5, 119.0, 60 / 45)
    signal_mv = synthetic_rhythm_mv(
        onsets_s, duration_s=120.0, fs_hz=250.0, p_waves=False, noise_mv=0.02
    )
    path = tmp_path / "junctional.csv"
    report = _read_by_the_portal(app, people, sql, path, _one_lead(signal_mv))
    machine = report.versions[0]
    assert machine.rhythm_label == rhythm.NO_P_WAVES
    assert "BRADY" not in (machine.findings or []) and report.main_finding == "OTHER_RHYTHM"
    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    said = r"no consistent P wave before the QRS over 1\.\d min, at a mean of 4\d bpm"
    assert re.search(said, page)
    assert "or P waves unrelated to the QRS in complete AV block" in page  # its causes
    assert "marked bradycardia, mean 4" in page
    chosen = _preselected(page)
    assert chosen == ["OTHER_RHYTHM"], chosen
    sign_report(
        doctor, report, sql, rhythm_label=machine.rhythm_label, findings=chosen,
        conclusion="Junctional escape rhythm.", patient_comment="",
    )  # fmt: skip


def test_a_long_narrow_complex_tachycardia_is_not_called_sinus_and_signs_as_prefilled(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Two minutes of a regular narrow-complex rhythm at 160 bpm without P waves (AV nodal
    re-entry) read "Sinus tachycardia". Now its rhythm line names a narrow-complex tachycardia,
    the finding says what it may be (sinus tachycardia with hidden P waves among them) and
    carries the marked tachycardia, and the form signs as prefilled
    (`rhythm._without_p_waves`, `ml.narrow_tachycardia`)."""
    onsets_s = np.arange(0.5, 119.0, 60 / 160)
    truth = BeatTruth(hr_bpm=160.0, qt_ms=280.0, t_duration_ms=140.0)
    signal_mv = synthetic_rhythm_mv(
        onsets_s, duration_s=120.0, fs_hz=250.0, truth=truth, p_waves=False, noise_mv=0.02
    )
    path = tmp_path / "reentry.csv"
    report = _read_by_the_portal(app, people, sql, path, _one_lead(signal_mv))
    machine = report.versions[0]
    assert machine.rhythm_label == rhythm.NARROW_TACHYCARDIA
    assert "TACHY" not in (machine.findings or []) and report.main_finding == "OTHER_RHYTHM"
    page, chosen, clinician, summary = signed_as_prefilled(
        app, people, sql, report, tmp_path, "AV nodal re-entrant tachycardia."
    )
    said = "no consistent P wave before it over 2.0 min, at a mean of 160 bpm"
    assert said in " ".join(page.split())
    assert "or sinus tachycardia with its P waves hidden in the T waves" in " ".join(page.split())
    assert "marked tachycardia, mean 16" in page
    assert chosen == ["OTHER_RHYTHM"], chosen
    assert rhythm.NARROW_TACHYCARDIA in " ".join(clinician.split())
    assert "did not follow its usual pattern" in " ".join(summary.split())


def test_a_long_ectopic_atrial_rhythm_is_not_called_sinus_and_signs_as_prefilled(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Two minutes of leads II and V1 at 80 bpm, a P wave inverted in II before every QRS (an
    ectopic atrial rhythm), read "Sinus rhythm" and "No significant arrhythmia". Now its rhythm
    line names an ectopic atrial or junctional rhythm, the finding says why, and the form
    signs as prefilled (`rhythm._with_inverted_p_waves`); the patient is not told the rhythm
    was normal."""
    truth = BeatTruth(hr_bpm=80.0, p_mv=-0.15, qt_ms=380.0, t_duration_ms=150.0)
    recording = synthetic_recording(truth, duration_s=120.0, fs_hz=250.0, leads=("II", "V1"))[0]
    report = _read_by_the_portal(app, people, sql, tmp_path / "ectopic.csv", recording)
    machine = report.versions[0]
    assert machine.rhythm_label == rhythm.INVERTED_P_WAVES
    assert report.main_finding == "OTHER_RHYTHM"
    page, chosen, clinician, summary = signed_as_prefilled(
        app, people, sql, report, tmp_path, "Ectopic atrial rhythm."
    )
    assert "a P wave before every QRS, inverted in lead II, over 2.0 min, at a mean of 80" in page
    assert chosen == ["OTHER_RHYTHM"], chosen
    assert rhythm.INVERTED_P_WAVES in clinician
    assert "did not follow its usual pattern" in " ".join(summary.split())


def test_a_one_lead_long_qt_withheld_is_not_prefilled_as_a_normal_ecg(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """30 s of lead II at 72 bpm with a QTc of 540 ms: one lead's T end is of low confidence,
    so the QT is withheld and "No significant arrhythmia" says why; the form came prefilled
    "Normal ECG", and signed so the patient read "Your heart test looked normal.". Now sinus
    rhythm alone is preselected: the normal ECG is the doctor's call once the T wave is seen."""
    rr_s = 60.0 / 72.0
    truth = BeatTruth(hr_bpm=72.0, qt_ms=540.0 * np.sqrt(rr_s), t_duration_ms=200.0)
    recording = synthetic_recording(truth, duration_s=30.0, fs_hz=500.0, leads=("II",), seed=3)[0]
    report = _read_by_the_portal(app, people, sql, tmp_path / "long_qt.csv", recording)
    assert report.versions[0].findings == ["NORMAL"]
    page, chosen, _, summary = signed_as_prefilled(
        app, people, sql, report, tmp_path, "Sinus rhythm; QT to be measured by hand."
    )
    assert "QT not measurable: the QT found" in page and "would be a long QT" in page
    assert chosen == ["SINUS"], chosen
    words = " ".join(summary.split())
    assert vocabulary.STATEMENTS["SINUS"].plain in words
    assert vocabulary.STATEMENTS["NORMAL"].plain not in words


MITDB = data_root() / "mitdb"


@pytest.mark.skipif(not (MITDB / "212.hea").is_file(), reason="mitdb not found")
def test_a_strip_whose_qrs_is_not_measurable_is_not_prefilled_as_a_normal_ecg(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A clinician audit: 10 s of MIT-BIH 212 (5 of 15 beats with a right bundle branch
    block) read "QRS not measurable (the QRS found (56 ms) is outside 60-200 ms ...)" beside
    "No significant arrhythmia", and "Normal ECG" came preselected."""
    import wfdb

    record = wfdb.rdrecord(str(MITDB / "212"), sampfrom=60 * 360, sampto=70 * 360)
    recording = Recording(360.0, tuple(record.sig_name), record.p_signal)
    report = _read_by_the_portal(app, people, sql, tmp_path / "212.csv", recording)
    assert report.versions[0].findings == ["NORMAL"]
    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    assert "QRS not measurable" in page
    assert "NORMAL" not in _preselected(page), _preselected(page)


def test_a_strip_read_stored_with_vf_beside_sinus_rhythm_prefills_a_line_naming_it(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A strip read stored before 2026-12-07 with 11 s of VF under a sinus call (MIT-BIH 205,
    290-350 s, an audit) kept "Sinus rhythm" as its line, and the form prefilled it beside the
    VF statement; the line prefilled now names the VF, as reads since store it."""
    report = _analysed_report(app, people, sql, tmp_path)
    machine = report.versions[0]
    assert machine.analysis["strip"]["label"] == "sinus"
    vf = {"label": rhythm.VF, "start_s": 7.0, "end_s": 18.0, "n_beats": 0, "duration_s": 11.0}
    main = {"code": "VF", "label": rhythm.VF, "risk": "high", "confidence": None, "detail": ""}
    stored = {
        **machine.analysis, "episodes": [*machine.analysis["episodes"], vf],
        "main_finding": main, "findings": [main],
    }  # fmt: skip
    rows = ReportVersion.__table__  # as a read made before 2026-12-07 (versions are immutable)
    sql.execute(
        update(rows).where(rows.c.id == machine.id)
        .values(analysis=stored, rhythm_label="Sinus rhythm", findings=["VF"])
    )  # fmt: skip
    sql.commit()
    sql.expire_all()
    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    form = SIGN_FORM.search(page)
    assert form is not None
    line = "Sinus rhythm with ventricular flutter/fibrillation (11 s)"
    assert f'value="{line}"' in form.group(0)
    assert _preselected(page) == ["VF"]
    assert not vocabulary.contradictions(["VF"], line, episodes=False)
