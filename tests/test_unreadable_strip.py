"""A strip drowned in noise is signed as what it is: "Unclassifiable: too noisy" stands in place
of a rhythm statement (the doctor reports that no rhythm can be read, and the recording is
repeated), never beside one. Before, the signing rule asked for exactly one rhythm statement,
so the machine's own read of 69 of cinc2017's 1,500 strips could not be signed as it came."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml import vocabulary
from ml.recording import Recording
from ml.research.synthetic import sinus_or_af_mv
from portal.models import EcgReport, ReportStatus
from tests.conftest import PASSWORD, People, client_for, error_messages, post_form
from tests.support.ecg_files import write_csv
from tests.support.pdf_text import pdf_words
from tests.test_sinus_rate_statement import _preselected
from tests.test_upload_and_review import _upload

TOO_NOISY = vocabulary.STATEMENTS["NOISY_STRIP"].label


def test_too_noisy_stands_in_place_of_a_rhythm_statement_and_never_beside_one() -> None:
    assert vocabulary.contradictions(["NOISY_STRIP"], TOO_NOISY) == []
    assert vocabulary.contradictions(["NOISY_STRIP", "ARTIFACT"], "") == []
    beside = " ".join(vocabulary.contradictions(["NOISY_STRIP", "SINUS"], "Sinus rhythm"))
    assert f'"{TOO_NOISY}" says no rhythm can be read' in beside
    named = " ".join(vocabulary.contradictions(["NOISY_STRIP"], "Sinus rhythm"))
    assert "names a rhythm" in named
    # Poor quality in parts of a recording is no reason to leave its rhythm unsaid.
    partly = " ".join(vocabulary.contradictions(["ARTIFACT"], ""))
    assert "Choose exactly one rhythm statement" in partly and TOO_NOISY in partly
    assert "Normal ECG" in " ".join(vocabulary.contradictions(["NORMAL", "NOISY_STRIP"], ""))


def _noisy_recording(seconds: int = 30, intervals: int = 40) -> Recording:
    """Sinus rhythm drowned in noise: a 30-s strip, or (over 60 s) a recording read as
    episodes, whose every stretch signal quality finds unusable."""
    rng = np.random.default_rng(0)
    rr_s = 0.85 + rng.normal(0, 0.01, intervals)
    signal_mv, _ = sinus_or_af_mv(rr_s, af=False, fs_hz=300.0, seed=3)
    signal_mv = signal_mv[: seconds * 300]
    signal_mv = signal_mv + np.cumsum(rng.normal(0, 0.4, signal_mv.size)) * 0.05
    signal_mv = signal_mv + rng.normal(0, 1.0, signal_mv.size)
    return Recording(300.0, ("I",), signal_mv[:, None])


def _uploaded_and_read(
    app: Flask, people: People, sql: Session, path: Path
) -> tuple[EcgReport, FlaskClient, str]:
    """The report of `path` once uploaded and analysed, the doctor's client and review page."""
    staff = client_for(app, people.staff)
    assert _upload(staff, people.patient.id, [(path.read_bytes(), path.name)]).status_code == 302
    from portal.worker import Worker

    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    assert report is not None
    assert report.versions[0].rhythm_label == TOO_NOISY
    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    return report, doctor, page


def test_a_strip_too_noisy_to_read_is_signed_as_it_comes_and_the_patient_told_so(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "noisy.csv", _noisy_recording())
    report, doctor, page = _uploaded_and_read(app, people, sql, path)
    machine = report.versions[0]
    # "Beats" found in noise give no rate: not a number beside "too noisy" (it said 124 bpm).
    assert machine.heart_rate_bpm is None
    assert "not measurable (the beats are hidden by noise or artefact)" in page
    assert "Heart rate not measurable: the beats are hidden by noise or artefact." in page
    worklist = doctor.get("/worklist").get_data(as_text=True)
    assert f'href="/reports/{report.id}"' in worklist and "— bpm" not in worklist  # "—" alone
    beats = page[page.index('id="beat-counts"') :]
    assert "Classifier's mean probability, all beats" in beats[: beats.index("</table>")]
    chosen = _preselected(page)
    assert chosen == ["NOISY_STRIP"], chosen

    def sign(findings: list[str], rhythm_label: str):  # type: ignore[no-untyped-def]
        form = {"rhythm_label": rhythm_label, "findings": findings,
                "conclusion": "Uninterpretable: too noisy; repeat the recording.",
                "patient_comment": "", "password": PASSWORD,
                "row_version": str(report.row_version)}  # fmt: skip
        return post_form(doctor, f"/reports/{report.id}/sign", form,
                         token_page=f"/reports/{report.id}")  # fmt: skip

    refused = sign(["NOISY_STRIP", "SINUS"], "Sinus rhythm")
    assert refused.status_code in (400, 422)
    assert "says no rhythm can be read" in " ".join(error_messages(refused.get_data(as_text=True)))
    signed = sign(chosen, machine.rhythm_label)
    assert signed.status_code == 302, error_messages(signed.get_data(as_text=True))
    sql.expire_all()
    assert report.status is ReportStatus.FINAL
    assert report.versions[-1].findings == ["NOISY_STRIP"]
    patient = client_for(app, people.patient_account)
    summary = pdf_words(patient.get(f"/my/reports/{report.id}/summary.pdf").data, tmp_path, "s")
    assert vocabulary.STATEMENTS["NOISY_STRIP"].plain in summary
    assert "times a minute" not in summary
    clinician = doctor.get(f"/reports/{report.id}/report.pdf")
    assert clinician.status_code == 200
    assert "the beats are hidden by noise or artefact" in pdf_words(clinician.data, tmp_path, "c")


def test_a_longer_recording_with_no_usable_stretch_is_unreadable_not_normal() -> None:
    """It read "Undetermined" with "No significant arrhythmia" at low risk: the machine's
    word that nothing was wrong, about a recording in which it could read no beat."""
    from ml.analysis import analyze

    analysis = analyze(_noisy_recording(120, 150))
    assert analysis.strip is None  # not a strip: the episodes' read
    assert {segment.level for segment in analysis.quality} == {"unusable"}
    assert analysis.rhythm_summary == TOO_NOISY
    assert [f.code for f in analysis.findings] == ["NOISY_STRIP"]
    assert analysis.main_finding.detail == (
        "heavy artefact throughout: no stretch of usable signal; repeat the recording"
    )
    assert analysis.heart_rate.mean_bpm is None


def test_a_longer_unreadable_recording_is_signed_as_it_comes(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "noisy-2min.csv", _noisy_recording(120, 150))
    report, doctor, page = _uploaded_and_read(app, people, sql, path)
    machine = report.versions[0]
    assert "No significant arrhythmia" not in page
    assert "no stretch of usable signal; repeat the recording" in page
    chosen = _preselected(page)
    assert chosen == ["NOISY_STRIP"], chosen
    form = {"rhythm_label": machine.rhythm_label, "findings": chosen,
            "conclusion": "Uninterpretable: too noisy; repeat the recording.",
            "patient_comment": "", "password": PASSWORD,
            "row_version": str(report.row_version)}  # fmt: skip
    signed = post_form(doctor, f"/reports/{report.id}/sign", form,
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302, error_messages(signed.get_data(as_text=True))
    sql.expire_all()
    assert report.status is ReportStatus.FINAL
    assert report.versions[-1].findings == ["NOISY_STRIP"]
