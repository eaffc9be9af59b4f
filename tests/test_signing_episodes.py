"""Signing a Holter's episodes: on a recording read as episodes (over 60 s), a doctor may sign
AF/flutter beside the underlying rhythm (paroxysmal AF), with what belongs to the sinus
stretches (a first-degree AV block, a dropped beat), and bigeminy beside trigeminy; on a strip
they still contradict. And the machine's rhythm line preselects only a rhythm it names."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml import vocabulary
from ml.io import read_recording
from ml.research.databases import data_root
from ml.strip_rhythm import LABEL_TEXT, OTHER
from portal.models import EcgReport, ReportVersion
from portal.worker import Worker
from reports.plain_language import (
    PAROXYSMAL_AF,
    SINUS_BESIDE_FINDINGS_AND_EXTRA_BEATS,
    findings_in_plain_words,
)
from tests.conftest import PASSWORD, People, client_for, error_messages, post_form
from tests.support.ecg_files import synthetic, write_csv, write_wfdb
from tests.support.pdf_text import pdf_words
from tests.test_sinus_rate_statement import _preselected
from tests.test_upload_and_review import _upload

HOLTER = ["SINUS", "AF", "AV_BLOCK_1", "PVC"]
# Its sinus rhythm, the rest of the time: never "normal" beside AF and a first-degree block.
REST_BESIDE_EXTRA_BEATS = "The rest of the time, a" + SINUS_BESIDE_FINDINGS_AND_EXTRA_BEATS[1:]


def test_af_beside_sinus_rhythm_is_paroxysmal_only_on_a_recording_read_as_episodes() -> None:
    line = "Sinus rhythm with paroxysmal atrial fibrillation"
    assert vocabulary.contradictions(HOLTER, line, episodes=True) == []
    assert vocabulary.contradictions(["SINUS", "AF", "DROPPED_BEAT"], line, episodes=True) == []
    on_a_strip = " ".join(vocabulary.contradictions(HOLTER, line, episodes=False))
    assert "exactly one rhythm statement" in on_a_strip and "exclude each other" in on_a_strip


def test_what_stays_contradictory_on_a_long_recording() -> None:
    def refused(codes: list[str], line: str) -> str:
        return " ".join(vocabulary.contradictions(codes, line, episodes=True))

    # Two underlying rhythms, with or without AF beside them.
    assert "exactly one rhythm statement" in refused(["SINUS", "BRADY", "AF"], "Sinus rhythm")
    assert "AF/flutter or VF may also stand beside one of the others" in refused(
        ["SINUS", "BRADY"], "Sinus rhythm"
    )
    # AF as the underlying rhythm still excludes a first-degree block; not a dropped beat,
    # which lies outside AF (a Holter audit: 64 % AF and a dropped beat between two of its
    # episodes was refused as prefilled). On a strip it does.
    assert "exclude each other" in refused(["AF", "AV_BLOCK_1"], "Atrial fibrillation")
    assert refused(["AF", "DROPPED_BEAT"], "Atrial fibrillation/flutter") == ""
    on_a_strip = vocabulary.contradictions(["AF", "DROPPED_BEAT"], "Atrial fibrillation/flutter")
    assert any("exclude each other" in p for p in on_a_strip)
    # The rhythm line names the underlying rhythm, not the paroxysmal AF.
    assert "does not say" in refused(["SINUS", "AF"], "Atrial fibrillation")
    # "Normal ECG" never stands beside AF.
    assert "cannot be signed with abnormal" in refused(["NORMAL", "SINUS", "AF"], "Sinus rhythm")


def test_the_patient_reads_which_part_of_the_recording_each_rhythm_describes() -> None:
    sentences = findings_in_plain_words(HOLTER)
    assert sentences[:2] == [
        PAROXYSMAL_AF,
        REST_BESIDE_EXTRA_BEATS,  # its PVCs: "normal, steady" beside them read as a contradiction
    ]
    assert len(sentences) == 4 and len(set(sentences)) == 4
    assert vocabulary.STATEMENTS["SINUS"].plain not in sentences  # never "normal" unqualified
    # AF alone keeps its own sentence.
    assert findings_in_plain_words(["AF"]) == [vocabulary.STATEMENTS["AF"].plain]


def test_ventricular_fibrillation_is_never_the_rest_of_a_holters_time() -> None:
    """24 h with 11 h of AF and 15 min of VF, signed as prefilled (VF as the rhythm statement,
    AF beside it): the patient read "The rest of the time your heart had a very fast and
    dangerous rhythm", the VF sentence twice (a Holter audit)."""
    sentences = findings_in_plain_words(["VF", "AF", "VT", "PVC"], episodes=True)
    vf = vocabulary.STATEMENTS["VF"].plain
    assert sentences[0] == vf and PAROXYSMAL_AF in sentences
    assert len(sentences) == 4 and len(set(sentences)) == 4
    assert not any(s.startswith("The rest of the time") for s in sentences)


def test_a_run_of_vf_may_stand_beside_the_underlying_rhythm_of_a_long_recording() -> None:
    """An electrophysiologist's audit could not sign MIT-BIH 207's 101 s of VF between its
    other rhythms ("Choose exactly one rhythm statement ... this read has 2"): VF had to be
    the rhythm, or be left out. On a recording read as episodes it stands beside one, as AF
    does; on a strip the two still contradict. The patient reads the rest as the rest."""
    line = "Other rhythm: idioventricular, with ventricular fibrillation"
    assert not vocabulary.contradictions(["OTHER_RHYTHM", "VF", "PAUSE"], line, episodes=True)
    assert vocabulary.contradictions(["OTHER_RHYTHM", "VF"], line, episodes=False)
    assert not vocabulary.contradictions(["AF", "VF"], "Atrial fibrillation", episodes=True)
    too_many = vocabulary.contradictions(["SINUS", "OTHER_RHYTHM", "VF"], "Sinus", episodes=True)
    assert too_many and "AF/flutter or VF may also stand beside" in too_many[0]
    sentences = findings_in_plain_words(["SINUS", "VF"], episodes=True)
    assert sentences == [
        vocabulary.STATEMENTS["VF"].plain,
        "The rest of the time your heartbeat started in its usual place and kept a steady "
        "pattern.",  # not "normal, steady" beside VF (an audit of the patient's side)
    ]


def _report_of(app: Flask, people: People, sql: Session, tmp_path: Path, seconds: int) -> EcgReport:
    staff = client_for(app, people.staff)
    path = write_csv(tmp_path / f"ecg-{seconds}s.csv", synthetic(seconds, 250, seed=4))
    response = _upload(staff, people.patient.id, [(path.read_bytes(), path.name)])
    assert response.status_code == 302
    assert Worker(app).run_pending() == 1
    report = sql.scalars(select(EcgReport).order_by(EcgReport.id.desc())).first()
    assert report is not None
    return report


def _measurements_with_pr(machine: ReportVersion, pr_ms: int) -> dict[str, str]:
    """The machine's measurements as the form shows them, with the PR a first-degree AV block
    is signed with (over 200 ms: `ml.vocabulary.measurement_contradictions`)."""
    shown = {
        name: str(round(getattr(machine, name)))
        for name in ("heart_rate_bpm", "qrs_ms", "qt_ms", "qrs_axis_deg")
        if getattr(machine, name) is not None
    }
    return {**shown, "pr_ms": str(pr_ms)}


@pytest.mark.parametrize(("seconds", "signed"), [(90, True), (30, False)])
def test_signing_paroxysmal_af_follows_the_recording_length(
    app: Flask, people: People, sql: Session, tmp_path: Path, seconds: int, signed: bool
) -> None:
    report = _report_of(app, people, sql, tmp_path, seconds)
    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    rules = re.search(r'<script type="application/json" id="statement-rules">(.*?)</script>', page)
    assert rules is not None and json.loads(rules.group(1))["episodes"] is signed
    assert ("AF/flutter may stand beside it (paroxysmal AF)" in page) is signed
    response = post_form(
        doctor,
        f"/reports/{report.id}/sign",
        {
            "rhythm_label": "Sinus rhythm with paroxysmal atrial fibrillation",
            "findings": HOLTER,
            "conclusion": "Paroxysmal AF; first-degree AV block in sinus rhythm.",
            **_measurements_with_pr(report.versions[0], pr_ms=240),
            "password": PASSWORD,
            "row_version": str(report.row_version),
        },
        token_page=f"/reports/{report.id}",
    )
    sql.expire_all()
    versions = sql.get(EcgReport, report.id).versions
    if signed:
        assert response.status_code == 302
        assert versions[-1].findings == HOLTER
        page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
        assert 'id="report-status">final</span>' in page
        # The patient's own summary, read back from the PDF: which part each rhythm describes.
        patient = client_for(app, people.patient_account)
        pdf = patient.get(f"/my/reports/{report.id}/summary.pdf").data
        summary = pdf_words(pdf, tmp_path, "summary")
        assert PAROXYSMAL_AF in summary
        assert REST_BESIDE_EXTRA_BEATS in summary
        assert vocabulary.STATEMENTS["SINUS"].plain not in summary
        assert "Over the whole recording your heart beat on average about " in summary
    else:
        assert response.status_code in (400, 422)
        messages = " ".join(error_messages(response.get_data(as_text=True)))
        assert "exactly one rhythm statement" in messages and "exclude each other" in messages
        assert len(versions) == 1  # nothing signed


def test_bigeminy_and_trigeminy_are_episodes_of_a_holter_but_exclude_each_other_on_a_strip() -> (
    None
):
    codes = ["SINUS", "BIGEMINY", "TRIGEMINY", "FREQUENT_PVC"]
    assert vocabulary.contradictions(codes, "Sinus rhythm", episodes=True) == []
    assert "exclude each other" in " ".join(vocabulary.contradictions(codes, "Sinus rhythm"))


def test_a_rhythm_line_saying_what_the_rhythm_is_not_preselects_what_it_is() -> None:
    # The strip call "Other rhythm (not sinus, not atrial fibrillation)" was read as AF, so
    # the sign form of 23 + 35 + 4 cinc2017 "other rhythm" strips came with AF preselected;
    # then with no rhythm; now with the other-rhythm statement, which the call is.
    other = LABEL_TEXT[OTHER]
    assert "atrial fibrillation" in other
    assert vocabulary.rhythm_code_of(other) == "OTHER_RHYTHM"
    assert vocabulary.rhythm_code_of("Junctional rhythm") == "OTHER_RHYTHM"
    assert vocabulary.rhythm_code_of("Accelerated idioventricular rhythm") == "OTHER_RHYTHM"
    assert vocabulary.rhythm_code_of("Unclassifiable: too noisy") is None
    assert vocabulary.rhythm_code_of("Sinus rhythm with atrial fibrillation/flutter (1.2 min)") == (
        "SINUS"
    )
    assert vocabulary.rhythm_code_of("Paced rhythm (pacemaker noted at upload)") == "PACED"


def test_a_rhythm_line_names_the_rhythm_af_stands_beside_whichever_comes_first() -> None:
    assert vocabulary.rhythm_codes_of("Sinus rhythm with atrial fibrillation/flutter (9 min)") == [
        "SINUS",
        "AF",
    ]
    assert vocabulary.rhythm_codes_of("Atrial fibrillation/flutter with sinus rhythm (4 min)") == [
        "AF",
        "SINUS",
    ]
    # What follows "with" names a finding, not a second rhythm.
    assert vocabulary.rhythm_codes_of(
        "Atrial fibrillation/flutter with ventricular tachycardia (3 s)"
    ) == ["AF"]
    assert vocabulary.rhythm_codes_of("Sinus rhythm with pause") == ["SINUS"]
    assert vocabulary.rhythm_codes_of("Unclassifiable: too noisy") == []


MIT_219 = data_root() / "mitdb" / "219.hea"


@pytest.mark.skipif(not MIT_219.is_file(), reason="mitdb not found")
def test_mostly_af_with_sinus_stretches_comes_to_the_doctor_signable_as_prefilled(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """MIT-BIH 219, minutes 10-20: AF, then sinus stretches holding dropped beats. Read as
    "Atrial fibrillation/flutter", its dropped beats contradicted AF as the one rhythm and
    the doctor could not sign the read as it came; now the line names the sinus rhythm too,
    and both rhythms are preselected (paroxysmal AF)."""
    record = read_recording(MIT_219)
    start, stop = (round(minute * 60 * record.fs_hz) for minute in (10, 20))
    segment = dataclasses.replace(record, signal_mv=record.signal_mv[start:stop])
    files = write_wfdb(tmp_path, segment, "mit219")
    staff = client_for(app, people.staff)
    uploaded = [(path.read_bytes(), path.name) for path in files]
    assert _upload(staff, people.patient.id, uploaded).status_code == 302
    assert Worker(app).run_pending() == 1
    report = sql.scalars(select(EcgReport).order_by(EcgReport.id.desc())).first()
    assert report is not None
    machine = report.versions[0]
    assert machine.rhythm_label.startswith("Atrial fibrillation/flutter with sinus rhythm (")
    assert "DROPPED_BEAT" in (machine.findings or [])
    doctor = client_for(app, people.doctor)
    page = doctor.get(f"/reports/{report.id}").get_data(as_text=True)
    chosen = _preselected(page)
    assert {"SINUS", "AF", "DROPPED_BEAT"} <= set(chosen), chosen
    # The episode table on the notes' clock (a clinician-eye audit: "1786.8 s" beside
    # "0:29:46" in the notes): every From and To cell reads h:mm:ss on a 10-minute recording.
    table = page[page.index('id="episodes"') : page.index("</table>", page.index('id="episodes"'))]
    cells = re.findall(  # the From cell a button that shows the episode on the strip
        r"<tr><td>[^<]*</td><td>(?:<button[^>]*>)?([^<]*)(?:</button>)?</td><td>([^<]*)</td>",
        table,
    )
    assert cells and all(re.fullmatch(r"0:\d\d:\d\d", c) for pair in cells for c in pair)
    form = {"rhythm_label": machine.rhythm_label, "findings": chosen,
            "conclusion": "Paroxysmal AF; dropped beats in the sinus stretches.",
            "password": PASSWORD, "row_version": str(report.row_version)}  # fmt: skip
    signed = post_form(doctor, f"/reports/{report.id}/sign", form,
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302, error_messages(signed.get_data(as_text=True))
    sql.expire_all()
    assert sql.get(EcgReport, report.id).versions[-1].findings == chosen


def test_another_rhythm_is_signed_as_the_one_rhythm_statement_and_never_as_normal() -> None:
    assert vocabulary.contradictions(["OTHER_RHYTHM", "PVC"], "Junctional rhythm") == []
    assert vocabulary.contradictions(["OTHER_RHYTHM"], "Ectopic atrial rhythm at 60 bpm") == []
    problems = " ".join(vocabulary.contradictions(["OTHER_RHYTHM", "SINUS"], "Junctional"))
    assert "Choose exactly one rhythm statement" in problems
    normal = " ".join(vocabulary.contradictions(["OTHER_RHYTHM", "NORMAL"], "Other rhythm"))
    assert '"Normal ECG" cannot be signed with abnormal statements' in normal
    wrong_line = " ".join(vocabulary.contradictions(["OTHER_RHYTHM"], "Sinus rhythm"))
    assert "does not say" in wrong_line


def test_af_beside_a_rhythm_line_naming_another_finding_is_signable_as_prefilled() -> None:
    """A Holter audit: "Sinus rhythm with ventricular tachycardia (5.9 min)" with 72 min of AF
    and dropped beats came to the doctor refused as prefilled ("'Atrial fibrillation /
    flutter' and 'Dropped beat' exclude each other"; the line "does not say atrial
    fibrillation"), and the quickest way on was to delete the AF."""
    from portal.review.routes import with_the_rhythm_line

    line = "Sinus rhythm with ventricular tachycardia (5.9 min)"
    machine = ["AF", "VT", "DROPPED_BEAT", "PVC"]
    holter = with_the_rhythm_line(machine, line, episodes=True)
    assert holter[0] == "SINUS" and set(machine) <= set(holter)
    assert vocabulary.contradictions(holter, line, episodes=True) == []
    # On a strip AF is the strip's one rhythm: nothing is added beside it.
    assert with_the_rhythm_line(["AF", "PVC"], "Atrial fibrillation/flutter", False) == [
        "AF",
        "PVC",
    ]
