"""The clinician report's episode table lists the most significant episodes, as the review page
picks them (`ml.rhythm.overview`), on one clock, and counts the rest per rhythm. It had listed
the first 15 in time (MIT-BIH 208: mostly sinus rhythm and sinus tachycardia) and left the SVT
at 1183 s under "33 more episodes in the portal" (a clinician-eye audit)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ml import rhythm
from ml.analysis import analyze
from ml.research.synthetic import BeatTruth, synthetic_recording
from portal.models import EcgReport, ReportVersion, VersionKind
from portal.services.documents import report_data, withdrawn_episodes
from reports.render import render_pdf
from reports.strips import NOT_SIGNED, report_strips
from tests.conftest import People
from tests.support.pdf_text import pdf_words
from tests.test_pdf_render_race import signed  # noqa: F401 (fixture)

SINUS = [
    rhythm.Episode(rhythm.TACHY if i % 2 else rhythm.SINUS, 60.0 * i, 60.0 * i + 59.0, 70)
    for i in range(25)
]
SVT = rhythm.Episode(rhythm.SVT, 1183.2, 1186.0, 9)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_svt_of_a_holter_is_listed_and_the_rest_counted(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    data = report_data(sql, signed, signed.versions[-1], app.config["SETTINGS"])
    holter = dataclasses.replace(data, episodes=sorted([*SINUS, SVT], key=lambda e: e.start_s),
                                 duration_s=1800.0)  # fmt: skip
    listed, more = holter.listed_episodes
    assert SVT in [e for e, _ in listed] and len(listed) == 15
    assert [start for e, start in listed if e == SVT] == ["0:19:43"]
    assert sum(more.values()) == 26 - 15
    text = pdf_words(render_pdf("clinician", holter), tmp_path, "holter")
    # signed without SVT: the row says it is the machine's call
    assert f"Supraventricular tachycardia ({NOT_SIGNED}) 0:19:43 2.8 s 9" in text
    assert "the most significant are listed; all are in the portal" in text

    # AF before pauses and patterns (MIT-BIH 201's three AF episodes, its main finding, had
    # been left to the "Also ..." line), and the "Also" line keeps "AV" in capitals.
    af = [rhythm.Episode(rhythm.AF, 600.0 * k, 600.0 * k + 300.0, 400) for k in range(3)]
    pauses = [rhythm.Episode(rhythm.PAUSE, 320.0 + 20 * i, 322.0 + 20 * i, 2) for i in range(14)]
    dropped = [rhythm.Episode(rhythm.DROPPED, 1500.0 + 5 * i, 1501.5 + 5 * i, 2) for i in range(2)]
    record = dataclasses.replace(
        data, episodes=sorted([*af, *pauses, *dropped], key=lambda e: e.start_s),
        duration_s=1800.0,
    )  # fmt: skip
    listed, more = record.listed_episodes
    assert [e for e, _ in listed if e.label == rhythm.AF] == af
    text = pdf_words(render_pdf("clinician", record), tmp_path, "af")
    assert "1 × dropped beat (possible" in text and "AV block): the most significant" in text


def test_a_strip_of_a_withdrawn_finding_says_it_is_the_machines_call() -> None:
    """An amended report that withdrew the SVT as artefact still showed a strip titled
    "Supraventricular tachycardia at 1183.2 s" with nothing saying the doctor did not sign it
    (a clinician-eye audit)."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=72), duration_s=60, fs_hz=250,
                                       leads=("II", "V1"))  # fmt: skip
    analysis = dataclasses.replace(analyze(recording), episodes=[
        rhythm.Episode(rhythm.SINUS, 0.5, 59.0, 70), rhythm.Episode(rhythm.SVT, 20.0, 22.0, 6),
    ])  # fmt: skip
    titles = [s.title for s in report_strips(recording, analysis, frozenset({rhythm.SVT}))]
    assert f"Supraventricular tachycardia at 20.0 s, lead II ({NOT_SIGNED})" in titles
    titles = [s.title for s in report_strips(recording, analysis)]
    assert "Supraventricular tachycardia at 20.0 s, lead II" in titles
    amended = ReportVersion(kind=VersionKind.AMENDMENT, findings=["SINUS", "PVC"])
    assert rhythm.SVT in withdrawn_episodes(amended)
    assert rhythm.SVT not in withdrawn_episodes(
        ReportVersion(kind=VersionKind.PHYSICIAN, findings=["SINUS", "SVT"])
    )
    assert withdrawn_episodes(ReportVersion(kind=VersionKind.MACHINE, findings=[])) == set()
    # Sinus rhythm named by its rate: any of the three signed covers all three; none signed
    # (an atrial flutter signed as AF) withdraws them: its signed PDF had kept "Sinus
    # tachycardia 1.1-28.7 s" unmarked (a clinician audit).
    sinus = {rhythm.SINUS, rhythm.BRADY, rhythm.TACHY}
    for code in ("SINUS", "BRADY", "TACHY"):
        signed_sinus = ReportVersion(kind=VersionKind.PHYSICIAN, findings=[code])
        assert not sinus & withdrawn_episodes(signed_sinus)
    flutter = ReportVersion(kind=VersionKind.PHYSICIAN, findings=["AF"])
    assert sinus <= withdrawn_episodes(flutter) and rhythm.AF not in withdrawn_episodes(flutter)


def test_the_strips_show_the_longest_run_and_pause() -> None:
    """A 24-h Holter's VT strip showed its first run, of 3 beats, beside a finding saying
    "longest 70 s; up to 125 beats" (a Holter audit); the longest pause was shown already."""
    recording, _ = synthetic_recording(BeatTruth(hr_bpm=72), duration_s=60, fs_hz=250,
                                       leads=("II", "V1"))  # fmt: skip
    analysis = dataclasses.replace(analyze(recording), episodes=[
        rhythm.Episode(rhythm.VT, 5.0, 6.0, 3), rhythm.Episode(rhythm.PAUSE, 12.0, 14.5, 2),
        rhythm.Episode(rhythm.VT, 30.0, 38.0, 20), rhythm.Episode(rhythm.PAUSE, 44.0, 47.5, 2),
        rhythm.Episode(rhythm.AF, 50.0, 58.0, 12),
    ])  # fmt: skip
    titles = [s.title for s in report_strips(recording, analysis)]
    assert (
        "Ventricular tachycardia (the longest of 2: 20 beats, 8.0 s) at 30.0 s, lead II" in titles
    )
    assert "Pause (the longest of 2: 3.5 s) at 44.0 s, lead II" in titles
    assert any(t.startswith(f"{rhythm.AF} (from 50.0 s) at 50.0 s") for t in titles)  # one
    # With the file's start time, each strip says its clock time too (a Holter audit).
    started = dt.datetime(2026, 1, 15, 8, 15, tzinfo=ZoneInfo("Europe/Paris"))
    titles = [s.title for s in report_strips(recording, analysis, started=started)]
    assert "Pause (the longest of 2: 3.5 s) at 44.0 s (08:15:44), lead II" in titles


def test_the_episodes_a_signed_read_withdrew_say_so_in_every_list(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A consistency audit: signed without SVT, MIT-BIH 220's episode tables (review page and
    clinician PDF) and the chart's "Next finding" stops still listed its supraventricular
    tachycardia unqualified, while the PDF strips said "the machine's call"."""
    from portal.services.documents import report_data
    from tests.conftest import client_for, sign_report
    from tests.test_upload_and_review import _analysed_library_record

    report = _analysed_library_record(app, people, sql, "220")
    doctor = client_for(app, people.doctor)
    sign_report(doctor, report, sql, rhythm_label="Sinus rhythm", findings=["SINUS", "PAC"],
                conclusion="Runs were artefact.", patient_comment="")  # fmt: skip
    marked = f"{rhythm.SVT} ({NOT_SIGNED})"
    page = " ".join(
        html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True)).split()
    )
    assert f'{rhythm.SVT} <span class="muted">({NOT_SIGNED})</span>' in page
    assert 'Sinus rhythm <span class="muted">' not in page  # the signed rhythm stands
    overview = doctor.get(f"/reports/{report.id}/ecg.json?overview=1").get_json()
    svt = [s["label"] for s in overview["stops"] if s["kind"] == "SVT"]
    assert svt and all(label.endswith(f"({NOT_SIGNED})") for label in svt)
    # the chart's shading too: grey and dashed, as the key under the overview says
    shaded = {e["label"]: e["withdrawn"] for e in overview["episodes"]}
    assert shaded[rhythm.SVT] is True and shaded[rhythm.SINUS] is False
    assert "grey with a dashed outline, the machine's call, not in the signed read" in page
    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"])
    text = pdf_words(render_pdf("clinician", data), tmp_path, "withdrawn")
    assert marked in text
