"""A signed report cannot contradict its own measurements: a rate-named rhythm or "Normal ECG"
against the heart rate signed on a strip, "Long QT" against the QTc its QT and heart rate
give (`ml.vocabulary.measurement_contradictions`). A clinician-eye audit signed "Sinus
tachycardia" and "Long QT" with a heart rate of 40 bpm (QTc recomputed 274 ms), and "Normal
ECG" at 150 bpm: the patient read "Your heart beat faster than usual" beside "about 40 times a
minute". Refused with the reason, nothing signed; the form keeps what was typed."""

from __future__ import annotations

import html
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ml import vocabulary
from portal.models import EcgReport, ReportStatus, ReportVersion
from portal.services import reports
from tests.conftest import PASSWORD, People, client_for, error_messages, post_form
from tests.test_upload_and_review import _analysed_report


def test_the_rules_in_words() -> None:
    def said(
        codes: list[str], bpm: float | None, qtc: float | None = None, strip: bool = True,
        **intervals: float,
    ) -> list[str]:  # fmt: skip
        signed = {"heart_rate_bpm": bpm, "qtc_bazett_ms": qtc, **intervals}
        return vocabulary.measurement_contradictions(codes, signed, strip)

    assert said(["TACHY"], 40) == [
        '"Sinus tachycardia" is a rate over 100 bpm, and the heart rate signed is 40 bpm.'
    ]
    assert said(["BRADY"], 72) and not said(["BRADY"], 55) and not said(["BRADY"], 60.4)
    assert not said(["TACHY"], 99.6)  # signed as the form shows it, 100
    assert said(["NORMAL"], 150) and said(["NORMAL"], 45) and not said(["NORMAL", "SINUS"], 72)
    assert not said(["TACHY"], 40, strip=False)  # a Holter's mean rate is not its rhythm's
    assert said(["LONG_QT"], 72, 274.0, strip=False) and not said(["LONG_QT"], 72, 480.0)
    assert not said(["SINUS"], None)
    # Statements defined by an interval, and "Normal ECG" beside an abnormal one (a second
    # audit signed each of these).
    assert said(["AV_BLOCK_1"], 70, pr_ms=120) == [
        '"First-degree AV block" is a PR over 200 ms, and the PR signed is 120 ms.'
    ]
    assert not said(["AV_BLOCK_1"], 70, pr_ms=240)
    assert said(["LBBB"], 70, qrs_ms=80) == [
        '"Left bundle branch block" needs a QRS of 120 ms or more, and the QRS signed is 80 ms.'
    ]
    assert said(["WIDE_QRS"], 70, qrs_ms=80) and said(["RBBB"], 70, qrs_ms=119.4)
    assert not said(["RBBB"], 70, qrs_ms=130)
    assert said(["NORMAL"], 70, 562.0) and not said(["NORMAL"], 70, 430.0)
    assert said(["NORMAL"], 70, pr_ms=400) and said(["NORMAL"], 70, qrs_ms=200)
    assert not said(["NORMAL"], 70, 440.0, pr_ms=180, qrs_ms=96)
    assert not said(["LBBB", "AV_BLOCK_1"], 70)  # not measurable: nothing to compare
    # A QTc of 500 ms or more signed without "Long QT" (a browser audit: QT 360 ms at 118 bpm,
    # QTc 505, signed under "Sinus tachycardia" alone, ranked routine).
    assert said(["TACHY"], 118, 505.0, qtc_fridericia_ms=451.0) == [
        "The QT and heart rate signed give a QTc of 505 ms (Bazett; Fridericia 451 ms): 500 ms "
        'or more is a long QT, with a risk of torsades. Add "Long QT", or correct the QT or the '
        "heart rate (empty if not measurable)."
    ]
    assert not said(["TACHY", "LONG_QT"], 118, 505.0, qtc_fridericia_ms=451.0)
    assert not said(["TACHY"], 130, 505.0, qtc_fridericia_ms=430.0)  # Bazett overcorrects
    assert said(["SINUS"], 70, 499.6) and not said(["SINUS"], 70, 499.4)  # as the page shows it
    assert not said(["SINUS", "LBBB"], 70, 520.0) and not said(["PACED"], 70, 520.0)


@pytest.mark.parametrize(
    ("findings", "heart_rate", "qt", "message"),
    [
        (["TACHY", "LONG_QT"], "40", None, '"Sinus tachycardia" is a rate over 100 bpm'),
        (["TACHY", "LONG_QT"], "40", None, '"Long QT" with a QTc of'),
        (["SINUS", "NORMAL"], "150", None, '"Normal ECG" needs a heart rate of 50-100 bpm'),
        (["SINUS", "NORMAL"], "70", "520", '"Normal ECG" with a QTc of'),
        (["SINUS", "AV_BLOCK_1"], "70", None, '"First-degree AV block" is a PR over 200 ms'),
        (["SINUS", "LBBB"], "70", None, '"Left bundle branch block" needs a QRS of 120 ms'),
        (["TACHY"], "118", "360", "give a QTc of 505 ms (Bazett; Fridericia 451 ms)"),
        # A working-day audit signed 250 bpm with a QT of 690 ms (QTc 1408 ms), and the
        # patient read "about 250 times a minute".
        (
            ["SINUS"],
            "250",
            "690",
            "A QT of 690 ms is longer than the interval between beats at "
            "250 bpm (240 ms): check both",
        ),
    ],
)
def test_signing_a_contradiction_is_refused_and_nothing_is_signed(
    app: Flask, people: People, sql: Session, tmp_path: Path,
    findings: list[str], heart_rate: str, qt: str | None, message: str,
) -> None:  # fmt: skip
    report = _analysed_report(app, people, sql, tmp_path)
    machine = report.versions[0]
    doctor = client_for(app, people.doctor)
    rhythm = "Sinus tachycardia" if "TACHY" in findings else "Sinus rhythm"
    form = {
        "rhythm_label": rhythm, "findings": findings, "conclusion": "Read.", "patient_comment": "",
        "heart_rate_bpm": heart_rate, "pr_ms": str(round(machine.pr_ms)),
        "qrs_ms": str(round(machine.qrs_ms)), "qt_ms": qt or str(round(machine.qt_ms)),
        "qrs_axis_deg": str(round(machine.qrs_axis_deg)),
        "password": PASSWORD, "row_version": str(report.row_version),
    }  # fmt: skip
    url = f"/reports/{report.id}"
    response = post_form(doctor, f"{url}/sign", form, token_page=url)
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert any(message in m for m in error_messages(page)), error_messages(page)
    assert f'value="{heart_rate}"' in page  # what was typed is kept
    sql.expire_all()
    assert report.status is ReportStatus.PRELIMINARY and len(report.versions) == 1


def _sinus_read(report: EcgReport, **changes: str) -> dict[str, object]:
    """A plain sinus-rhythm read as the sign (or amend) form sends it, with `changes`."""
    return {
        "rhythm_label": "Sinus rhythm", "findings": ["SINUS"], "conclusion": "Read.",
        "patient_comment": "", "password": PASSWORD, "row_version": str(report.row_version),
        **changes,
    }  # fmt: skip


def test_invisible_characters_are_refused_in_what_is_signed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A NUL in an amendment reason was stored (the audit trail showed "over\\u0000read") and
    dropped from the PDF without a word; a right-to-left override shows text reversed."""
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    url = f"/reports/{report.id}"
    form = _sinus_read(report, conclusion="Normal \u202eread")
    refused = post_form(doctor, f"{url}/sign", form, token_page=url)
    assert refused.status_code == 400
    messages = error_messages(html.unescape(refused.get_data(as_text=True)))
    assert "Remove the invisible character (right-to-left override)." in messages, messages
    signed = post_form(doctor, f"{url}/sign", {**form, "conclusion": "Sinus rhythm.\nRead."},
                       token_page=url)  # fmt: skip
    assert signed.status_code == 302
    sql.expire_all()
    amend = {**form, "conclusion": "Sinus rhythm.", "reason": "over\x00read",
             "row_version": str(report.row_version)}  # fmt: skip
    refused = post_form(doctor, f"{url}/amend", amend, token_page=url)
    assert refused.status_code == 400
    messages = error_messages(html.unescape(refused.get_data(as_text=True)))
    assert "Remove the invisible character (U+0000)." in messages, messages
    sql.expire_all()
    assert len(report.versions) == 2  # the machine's and the signed one, nothing amended


def test_amending_an_unsigned_report_says_to_sign_it(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The amend form is not on an unsigned report's page: its refusal had come back as a
    bare 400 with no message (an audit)."""
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    url = f"/reports/{report.id}"
    form = _sinus_read(report, reason="Remeasured.")
    response = post_form(doctor, f"{url}/amend", form, token_page=url)
    assert response.status_code == 302 and response.location == url
    page = html.unescape(doctor.get(url).get_data(as_text=True))
    assert "Only a signed report can be amended; sign it instead." in page
    sql.expire_all()
    assert len(report.versions) == 1


def test_typed_measurements_are_signed_as_whole_numbers(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An integrator's audit: a PR typed 150.5 was 150.5 through the REST API and 150 (half
    to even) on the PDF, the review page and FHIR. Signed as whole numbers, half up."""
    report = _analysed_report(app, people, sql, tmp_path)
    machine = report.versions[0]
    doctor = client_for(app, people.doctor)
    url = f"/reports/{report.id}"
    form = _sinus_read(
        report, heart_rate_bpm=str(round(machine.heart_rate_bpm)), pr_ms="150.5",
        qrs_ms="99.5", qt_ms=str(round(machine.qt_ms)), qrs_axis_deg="30.4",
    )  # fmt: skip
    assert post_form(doctor, f"{url}/sign", form, token_page=url).status_code == 302
    sql.expire_all()
    signed = sql.get(EcgReport, report.id).versions[-1]
    assert (signed.pr_ms, signed.qrs_ms, signed.qrs_axis_deg) == (151.0, 100.0, 30.0)


def test_measurements_are_read_as_doctors_type_them(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An input audit: "160 ms", "440ms" and "0,16" were "Not a valid float value.", and a PR
    typed in seconds ("0.16") only "Between 60 and 500"."""
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    url = f"/reports/{report.id}"
    refused = post_form(doctor, f"{url}/sign", _sinus_read(report, pr_ms="0,16"), token_page=url)
    assert refused.status_code == 400
    messages = error_messages(html.unescape(refused.get_data(as_text=True)))
    assert "0,16 looks like seconds: type milliseconds (160)." in messages, messages
    machine = report.versions[0]
    typed = _sinus_read(
        report, heart_rate_bpm=f"{round(machine.heart_rate_bpm)} bpm", pr_ms="160 ms",
        qrs_ms=f"{round(machine.qrs_ms)}ms", qt_ms=f"{round(machine.qt_ms)} ms",
    )  # fmt: skip
    signed = post_form(doctor, f"{url}/sign", typed, token_page=url)
    assert signed.status_code == 302, error_messages(signed.get_data(as_text=True))
    sql.expire_all()
    assert report.versions[-1].pr_ms == 160 and report.status is ReportStatus.FINAL


def test_an_absurd_measurement_gets_one_message_that_can_be_followed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A doctor's-day audit: a QT of "2.9" read "2.9 looks like seconds: type milliseconds
    (2900)." then "Between 200 and 700; ...", refusing what it had just suggested; a PR of
    "0.16" got both messages too, and "nan" or "inf" "Enter a number" and the range. One
    message a field: milliseconds suggested only when in range, a non-number only said so."""
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    url = f"/reports/{report.id}"
    typed = _sinus_read(report, pr_ms="0.16", qt_ms="2.9", qrs_ms="nan", heart_rate_bpm="inf")
    refused = post_form(doctor, f"{url}/sign", typed, token_page=url)
    assert refused.status_code == 400
    messages = error_messages(html.unescape(refused.get_data(as_text=True)))
    assert sorted(messages) == sorted([
        "0.16 looks like seconds: type milliseconds (160).",
        "Between 200 and 700; leave it empty if it cannot be measured.",
        "Enter a number, for example 5.2.",
        "Enter a number, for example 5.2.",
    ]), messages  # fmt: skip


def test_typed_intervals_and_sinus_rate_must_fit_together() -> None:
    """An audit signed MIT-BIH 230 (machine 79 bpm) as "Sinus rhythm" with a wide QRS at 180
    bpm, PR 450, QRS 240, QT 210: a QRS longer than the QT that contains it, a PR longer than
    the whole beat, and the patient read "Your heart beat in its normal, steady pattern."
    beside "about 180 times a minute". The doctor's values are judged, not the machine's."""
    machine = cast(
        ReportVersion,
        SimpleNamespace(heart_rate_bpm=103.6, pr_ms=150.0, qrs_ms=300.0, qt_ms=280.0),
    )

    def signed(**typed: float) -> dict[str, float | None]:
        return {"heart_rate_bpm": 180.0, "pr_ms": 450.0, "qrs_ms": 240.0, "qt_ms": 210.0} | typed

    assert reports._qrs_beyond_the_qt(signed(), machine) == (
        "A QRS of 240 ms is not shorter than the QT of 210 ms, which contains it: check both "
        "(a value in another unit?)."
    )
    assert not reports._qrs_beyond_the_qt(signed(qt_ms=340.0), machine)
    assert not reports._qrs_beyond_the_qt(signed(qrs_ms=300.0, qt_ms=280.0), machine)  # its own
    assert reports._pr_beyond_the_beat(signed(), machine) == (
        "A PR of 450 ms is as long as the interval between beats at 180 bpm (333 ms) or longer: "
        "check both (a value in another unit?)."
    )
    assert not reports._pr_beyond_the_beat(signed(pr_ms=160.0, qrs_ms=100.0), machine)
    # A marked first-degree block at a fast rate: the P wave sits in the previous beat (a
    # review: PR + QRS over the interval had been refused).
    skipped_p = signed(heart_rate_bpm=140.0, pr_ms=400.0, qrs_ms=90.0, qt_ms=300.0)
    assert not reports._pr_beyond_the_beat(skipped_p, machine)
    own = signed(heart_rate_bpm=104.0, pr_ms=150.0, qrs_ms=300.0)
    assert not reports._pr_beyond_the_beat(own, machine)  # the machine's own three
    assert reports._sinus_beyond_its_rates(["SINUS", "WIDE_QRS"], signed(), machine) == [
        '"Sinus rhythm" at the 180 bpm signed: over 100 bpm it is "Sinus tachycardia", under '
        '50 "Sinus bradycardia". Choose "Sinus tachycardia" (or the rhythm you see), or check '
        "the heart rate (a value in another unit?)."
    ]
    slow = reports._sinus_beyond_its_rates(["SINUS"], signed(heart_rate_bpm=45.0), machine)
    assert 'Choose "Sinus bradycardia"' in slow[0]
    assert not reports._sinus_beyond_its_rates(["SINUS"], signed(heart_rate_bpm=50.0), machine)
    assert not reports._sinus_beyond_its_rates(["TACHY"], signed(), machine)
    # The machine's own 101-104 bpm beside its sinus rhythm (by the median rate) is signed so.
    kept = signed(heart_rate_bpm=104.0)
    assert not reports._sinus_beyond_its_rates(["SINUS"], kept, machine)
    assert reports._sinus_beyond_its_rates(["SINUS"], signed(heart_rate_bpm=105.0), machine)
    # The ventricles beat slower than the sinus node in a 2:1 block (a review: "Sinus rhythm
    # with 2:1 AV block" at 37 bpm, P waves at 73/min, was pointed at "Sinus bradycardia").
    blocked = signed(heart_rate_bpm=37.0)
    assert not reports._sinus_beyond_its_rates(["SINUS", "AV_BLOCK_2"], blocked, machine)
    assert not reports._sinus_beyond_its_rates(["SINUS", "AV_BLOCK_3"], blocked, machine)
    assert not reports._sinus_beyond_its_rates(["SINUS", "BIGEMINY"], signed(), machine)


def test_the_audits_impossible_read_is_refused_in_three_places(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    url = f"/reports/{report.id}"
    form = _sinus_read(
        report, findings=["SINUS", "WIDE_QRS"], heart_rate_bpm="180", pr_ms="450", qrs_ms="240",
        qt_ms="210",
    )  # fmt: skip
    response = post_form(doctor, f"{url}/sign", form, token_page=url)
    assert response.status_code == 400
    messages = error_messages(html.unescape(response.get_data(as_text=True)))
    for said in (
        "A QRS of 240 ms is not shorter than the QT of 210 ms",
        "A PR of 450 ms is as long as the interval between beats at 180 bpm (333 ms)",
        '"Sinus rhythm" at the 180 bpm signed: over 100 bpm it is "Sinus tachycardia"',
    ):
        assert any(said in m for m in messages), (said, messages)
    sql.expire_all()
    assert report.status is ReportStatus.PRELIMINARY and len(report.versions) == 1
    machine = report.versions[0]
    as_read = _sinus_read(
        report, heart_rate_bpm=str(round(machine.heart_rate_bpm)),
        pr_ms=str(round(machine.pr_ms)), qrs_ms=str(round(machine.qrs_ms)),
        qt_ms=str(round(machine.qt_ms)),
    )  # fmt: skip
    signed = post_form(doctor, f"{url}/sign", as_read, token_page=url)
    assert signed.status_code == 302, error_messages(signed.get_data(as_text=True))
