"""Issue 14's acceptance walk, end to end in a real headless Chromium against a live server.

A machine read with atrial fibrillation, ventricular ectopic beats and a first-degree AV block
(a synthetic recording uploaded by staff through the form), then the doctor's review: a
corrected QT, statements picked with the type-ahead picker, a contradictory pick warned about
live and refused on submit, the fixed read signed (the page comes back at once: the PDFs are
rendered later by the worker), an amendment the worklist follows, and the patient's summary
PDF read back: the headline first, the findings in severity order, the doctor's next steps and
no sentence that contradicts another. Screenshots: test-artifacts/walkthrough-<step>-<backend>.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml import rhythm
from ml.vocabulary import STATEMENTS, by_severity
from portal.models import EcgReport, VersionKind
from portal.services.machine_read import machine_read
from portal.worker import Worker
from reports.next_steps import in_plain_words
from tests import test_browser
from tests.conftest import PASSWORD, People
from tests.support import two_step
from tests.support.af_pvc_recording import AF_S, PR_MS, af_pvc_av_block_recording
from tests.support.ecg_files import write_csv
from tests.support.pdf_text import pdf_words

# The live server and the Chromium page of tests/test_browser.py, shared as fixtures.
live_url = test_browser.live_url
page = test_browser.page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils"),
]

DOCTOR_QT_MS = 400  # the doctor measures the generator's true QT by hand (the machine: 408)
SIGN_BUDGET_S = 1.0  # click on "Sign report" -> the signed page

NEXT_STEPS_SIGNED = ["SEE_SOON", "HOLTER", "ECHO"]
NEXT_STEPS_AMENDED = [*NEXT_STEPS_SIGNED, "STROKE_PREVENTION"]


def _log_in(page, app: Flask, username: str) -> None:  # type: ignore[no-untyped-def]
    """Every browser login of the walk, in one place: the password, then the second step for
    the roles that have one (the fixtures' accounts, tests/support/two_step.py)."""
    page.goto("/login")
    two_step.browser_log_in(page, app, username, PASSWORD)
    assert "/login" not in page.url, page.url


def _log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login**")


def _backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "mariadb"


def _chips(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(".statement-chip").evaluate_all("chips => chips.map(c => c.dataset.code)")


def _pick(page, words: str, code: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Type words into the picker; Enter takes the one match, or click the option `code`."""
    page.fill(".statement-search", words)
    if code is None:
        page.press(".statement-search", "Enter")
    else:
        page.click(f".statement-option[data-code={code}]:visible")


def _remove_chip(page, code: str) -> None:  # type: ignore[no-untyped-def]
    page.click(f".statement-chip[data-code={code}] button")


def _set_next_steps(page, codes: list[str]) -> None:  # type: ignore[no-untyped-def]
    for box in page.locator("input[name=next_steps]").all():
        box.set_checked(box.get_attribute("value") in codes)


def _worklist_row(page, status: str):  # type: ignore[no-untyped-def]
    page.click("nav >> text=Worklist")
    page.select_option("select[name=status]", status)
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**status={status}**")
    return page.locator("#worklist tbody tr", has_text="Ada Lovelace")


def test_issue_14_walkthrough_machine_read_to_patient_summary(
    app: Flask,
    page,
    people: People,
    sql: Session,
    artifacts_dir: Path,
    database_url: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    backend = _backend(database_url)

    def shot(step: str, element: str | None = None) -> None:
        path = str(artifacts_dir / f"walkthrough-{step}-{backend}.png")
        if element is None:
            page.screenshot(path=path, full_page=True)
        else:
            page.locator(element).screenshot(path=path)

    # 1. Staff upload the recording through the form; the worker analyses it.
    recording, pvc_s = af_pvc_av_block_recording()
    n_pvcs = pvc_s.size
    csv = write_csv(tmp_path / "walkthrough.csv", recording)
    _log_in(page, app, people.staff.username)
    page.goto(f"/patients/{people.patient.id}")
    page.click("text=Upload ECG")
    page.set_input_files("#files", str(csv))
    page.click("main button[type=submit]")
    page.wait_for_url("**/jobs/*")
    assert Worker(app).run_pending() == 1
    expect(page.locator("#job-report")).to_be_visible(timeout=10_000)
    shot("1-analysed")

    report = sql.scalar(select(EcgReport).where(EcgReport.patient_id == people.patient.id))
    assert report is not None
    read = machine_read(report)
    machine_codes = [f.code for f in read.findings]
    # What the machine itself says (never faked): AF, the PVCs and the first-degree AV block.
    assert {"AF", "PVC", "AV_BLOCK_1"} <= set(machine_codes), machine_codes
    assert read.main_finding.code == "AF"
    assert read.beat_counts["V"] == n_pvcs
    assert read.intervals.pr_ms == pytest.approx(PR_MS, abs=12)
    assert read.intervals.confidence["pr"] == "high"
    assert round(read.intervals.qt_ms) != DOCTOR_QT_MS  # so the PDF shows whose QT it is
    af_s = sum(e.duration_s for e in read.episodes if e.label == rhythm.AF)
    assert af_s == pytest.approx(AF_S, abs=10)
    _log_out(page)

    # 2. The doctor opens it from the worklist; the machine's findings are on the page.
    _log_in(page, app, people.doctor.username)
    row = _worklist_row(page, "preliminary")
    expect(row).to_have_count(1)
    expect(row.locator(".urgency")).to_have_text("AF")
    row.locator("text=Review").click()
    page.wait_for_url(f"**/reports/{report.id}")
    shown = page.locator("#machine-findings li strong").all_inner_texts()
    for code in ("AF", "PVC", "AV_BLOCK_1"):
        label = next(f.label for f in read.findings if f.code == code)
        assert label in shown, (label, shown)
    expect(page.locator(".statement-search")).to_be_visible()
    # The machine's statements come preselected as chips, with its rhythm line's sinus rhythm
    # beside the AF (paroxysmal AF on this 80-s recording): signable as they stand.
    assert read.rhythm_summary.startswith("Sinus rhythm with atrial fibrillation")
    assert set(_chips(page)) == {*machine_codes, "SINUS"}
    expect(page.locator(".statement-warnings")).to_have_text("")

    # A contradictory pick with the type-ahead: start again from nothing, then AF (Enter takes
    # the only match), first-degree AV block, sinus rhythm, ventricular ectopic beats and
    # sinus bradycardia. On this 80-s recording AF beside sinus rhythm is paroxysmal AF (and
    # the AV block belongs to the sinus stretch), but sinus rhythm and sinus bradycardia are
    # two underlying rhythms.
    for code in _chips(page):
        _remove_chip(page, code)
    expect(page.locator(".chosen-statements")).to_have_text("No statement chosen yet.")
    warnings = page.locator(".statement-warnings")
    expect(warnings).to_have_text("Choose exactly one rhythm statement (now 0).")
    _pick(page, "atrial fib")
    assert _chips(page) == ["AF"]
    expect(warnings).to_have_text("")
    _pick(page, "av block", "AV_BLOCK_1")
    _pick(page, "sinus rhythm", "SINUS")
    _pick(page, "PVC", "PVC")
    assert sorted(_chips(page)) == ["AF", "AV_BLOCK_1", "PVC", "SINUS"]
    expect(warnings).to_have_text("")  # paroxysmal AF with a long PR in sinus rhythm
    _pick(page, "bradycardia", "BRADY")
    expect(warnings).to_have_text("Choose exactly one rhythm statement (now 2).")
    af, avb1 = STATEMENTS["AF"].label, STATEMENTS["AV_BLOCK_1"].label

    # The doctor's measurement: QT measured by hand; next steps ticked; the password.
    page.fill("#rhythm_label", "Sinus rhythm with first-degree AV block")
    page.fill("#conclusion", "Sinus rhythm, PR 256 ms. Isolated PVCs. QT measured by hand.")
    page.fill("#qt_ms", str(DOCTOR_QT_MS))
    heart_rate = float(page.input_value("#heart_rate_bpm"))  # the machine's, kept
    # The QTc as it will be signed shows as the QT is typed (it had been unseen before
    # signing; a browser audit): the doctor's QT, for the machine's cycle.
    machine = sql.get(EcgReport, report.id).versions[0]  # type: ignore[union-attr]
    cycle_s = (machine.qt_ms / machine.qtc_bazett_ms) ** 2  # type: ignore[operator]
    page.fill("#qt_ms", "0,4")  # seconds: said as the form will refuse it (a review)
    expect(page.locator("#live-qtc")).to_have_text(
        "QTc as signed: the QT looks like seconds; type milliseconds (400)"
    )
    # Only what the form signs: 2.9 s is no QT in milliseconds either, and 900 ms is beyond
    # the form's range (the line had said "type milliseconds (2900)" and given 900 a QTc).
    for beyond in ("2,9", "900"):
        page.fill("#qt_ms", beyond)
        expect(page.locator("#live-qtc")).to_have_text(
            "QTc as signed: none (the QT must be between 200 and 700 ms)"
        )
    page.fill("#qt_ms", str(DOCTOR_QT_MS))
    expect(page.locator("#live-qtc")).to_have_text(
        f"QTc as signed: Bazett {round(DOCTOR_QT_MS / cycle_s**0.5)} ms, Fridericia "
        f"{round(DOCTOR_QT_MS / cycle_s ** (1 / 3))} ms (for the machine's RR of "
        f"{round(cycle_s * 1000)} ms between normal beats)"
    )
    # A rate typed with decimals is signed whole, half up, as the server does: 0.4 over the
    # machine's rate is its rate (the live line had said "your heart rate of 72.4 bpm" and a
    # QTc 42 ms from the one signed; a review), and 10.6 over is the next whole rate.
    prefilled_rate = page.input_value("#heart_rate_bpm")
    page.fill("#heart_rate_bpm", f"{prefilled_rate},4")
    expect(page.locator("#live-qtc")).to_contain_text("for the machine's RR of")
    faster = int(prefilled_rate) + 11
    page.fill("#heart_rate_bpm", f"{faster - 1}.6")
    rr_s = 60 / faster
    expect(page.locator("#live-qtc")).to_have_text(
        f"QTc as signed: Bazett {round(DOCTOR_QT_MS / rr_s**0.5)} ms, Fridericia "
        f"{round(DOCTOR_QT_MS / rr_s ** (1 / 3))} ms (for your heart rate of {faster} bpm)"
    )
    page.fill("#heart_rate_bpm", prefilled_rate)
    _set_next_steps(page, NEXT_STEPS_SIGNED)
    page.fill("#password", PASSWORD)
    shot("2-live-warning", "#sign")
    page.click("#sign button[type=submit]")

    # Refused: every reason again above the button, focused; nothing signed.
    errors = page.locator("#sign-errors")
    expect(errors).to_be_visible()
    expect(errors).to_be_focused(timeout=15_000)  # the page script runs after the chart loads
    expect(errors).to_contain_text("Not signed.")
    expect(errors).to_contain_text("Choose exactly one rhythm statement")
    expect(errors).to_contain_text("AF/flutter or VF may also stand beside one of the others")
    assert errors.evaluate(  # right above the button (one layout, read at once)
        """e => e.nextElementSibling.matches('button[type=submit]')
                && e.getBoundingClientRect().bottom <= e.nextElementSibling
                                                        .getBoundingClientRect().top"""
    )
    expect(page.locator("#report-status")).to_have_text("preliminary")
    shot("3-refused", "#sign")
    sql.expire_all()
    assert [v.kind for v in sql.get(EcgReport, report.id).versions] == [VersionKind.MACHINE]

    # Fixed: exactly one rhythm statement (bradycardia goes, and so does the AF: the doctor
    # reads sinus rhythm with a long PR and PVCs). The typed values came back with the form.
    assert sorted(_chips(page)) == ["AF", "AV_BLOCK_1", "BRADY", "PVC", "SINUS"]
    assert float(page.input_value("#qt_ms")) == DOCTOR_QT_MS
    _remove_chip(page, "BRADY")
    _remove_chip(page, "AF")
    expect(warnings).to_have_text("")
    assert _chips(page) == ["SINUS", "AV_BLOCK_1", "PVC"]
    _set_next_steps(page, NEXT_STEPS_SIGNED)
    page.fill("#password", PASSWORD)
    started = time.perf_counter()
    page.click("#sign button[type=submit]")
    page.locator("#report-status", has_text="final").wait_for()  # event-driven, not polled
    sign_s = time.perf_counter() - started
    expect(page.get_by_text("Report signed.")).to_be_visible()
    page.wait_for_load_state("load")  # for the record: the browser's own clock, from the click
    navigation = page.evaluate(
        """() => { const n = performance.getEntriesByType('navigation')[0];
                   const paint = performance.getEntriesByName('first-contentful-paint')[0];
                   return {response_ms: Math.round(n.responseEnd),
                           first_paint_ms: paint ? Math.round(paint.startTime) : null,
                           dom_content_loaded_ms: Math.round(n.domContentLoadedEventEnd),
                           load_ms: Math.round(n.loadEventEnd)}; }"""
    )
    expect(page.locator("#pdf-status")).to_contain_text("PDFs of version 2 being prepared")
    shot("4-signed")
    assert sign_s < SIGN_BUDGET_S, f"signing took {sign_s:.3f} s"

    sql.expire_all()
    report = sql.get(EcgReport, report.id)
    signed = report.versions[-1]
    assert signed.kind is VersionKind.PHYSICIAN and signed.version_no == 2
    assert signed.findings == ["SINUS", "AV_BLOCK_1", "PVC"]
    assert signed.next_steps == NEXT_STEPS_SIGNED
    assert signed.qt_ms == DOCTOR_QT_MS and signed.heart_rate_bpm == heart_rate
    machine = report.versions[0]  # the rate kept: the doctor's QT, the machine's cycle
    rr_s = (machine.qt_ms / machine.qtc_bazett_ms) ** 2  # type: ignore[operator]
    qtc_bazett, qtc_fridericia = DOCTOR_QT_MS / rr_s**0.5, DOCTOR_QT_MS / rr_s ** (1 / 3)
    assert signed.qtc_bazett_ms == pytest.approx(qtc_bazett)
    assert signed.qtc_fridericia_ms == pytest.approx(qtc_fridericia)
    row = _worklist_row(page, "final")
    expect(row.locator(".urgency")).to_have_text("Routine")
    expect(row.locator("td").nth(3)).to_contain_text(avb1)

    # 3. Amend: on a second look the irregular stretch is AF (sinus rhythm and the AV block go,
    # AF comes in), and stroke prevention joins the next steps.
    page.goto(f"/reports/{report.id}")
    expect(page.locator(".statement-search")).to_be_visible()
    assert _chips(page) == ["SINUS", "AV_BLOCK_1", "PVC"]  # the signed read, to amend
    assert float(page.input_value("#qt_ms")) == DOCTOR_QT_MS  # the doctor's QT stays
    _remove_chip(page, "SINUS")
    _remove_chip(page, "AV_BLOCK_1")
    _pick(page, "atrial fib")
    expect(warnings).to_have_text("")
    assert _chips(page) == ["AF", "PVC"]
    page.fill("#rhythm_label", "Sinus rhythm with paroxysmal atrial fibrillation")
    page.fill("#conclusion", "Paroxysmal atrial fibrillation from 50 s. Isolated PVCs.")
    _set_next_steps(page, NEXT_STEPS_AMENDED)
    page.fill("#reason", "The irregular stretch from 50 s has no P waves: atrial fibrillation.")
    page.fill("#password", PASSWORD)
    page.click("#sign button[type=submit]")
    expect(page.locator("#report-status")).to_have_text("amended")
    expect(page.get_by_text("Amendment signed.")).to_be_visible()
    shot("5-amended")
    sql.expire_all()
    amended = sql.get(EcgReport, report.id).versions[-1]
    assert amended.kind is VersionKind.AMENDMENT and amended.findings == ["AF", "PVC"]
    assert amended.qt_ms == DOCTOR_QT_MS and amended.next_steps == NEXT_STEPS_AMENDED

    # The worklist follows the amendment: AF is now the main finding and the urgency.
    assert _worklist_row(page, "final").count() == 0
    row = _worklist_row(page, "amended")
    expect(row).to_have_count(1)
    expect(row.locator(".urgency")).to_have_text("AF")
    expect(row.locator(".urgency-reason")).to_have_text(af)
    expect(row.locator("td").nth(3)).to_contain_text(af)
    shot("6-worklist")

    # 4. The worker renders the amendment's PDFs; the open page notices by itself.
    page.goto(f"/reports/{report.id}")
    pdf_status = page.locator("#pdf-status")
    expect(pdf_status).to_contain_text("PDFs of version 3 being prepared")
    Worker(app).run_pending()
    expect(pdf_status).to_have_text("PDFs of version 3 ready")
    clinician = page.request.get(f"/reports/{report.id}/report.pdf")
    assert clinician.ok and clinician.headers["content-type"] == "application/pdf"
    clinician_text = pdf_words(clinician.body(), tmp_path, "clinician")
    # The doctor's QT (and the QTc from it) on the clinician report, not the machine's.
    qt_row = f"{DOCTOR_QT_MS} ms {qtc_bazett:.0f} ms {qtc_fridericia:.0f} ms"  # QT, QTc B, QTc F
    assert qt_row in clinician_text, clinician_text[:1500]
    assert "version 3" in clinician_text and "no P waves: atrial fibrillation" in clinician_text
    _log_out(page)

    # The patient: "My reports" headlines the most serious signed statement.
    _log_in(page, app, people.patient_account.username)
    page.goto("/my/reports")
    mine = page.locator("#my-reports tbody tr")
    expect(mine).to_have_count(1)
    expect(mine.locator("td").nth(1)).to_have_text(STATEMENTS["AF"].plain)
    shot("7-my-reports")
    # The patient clicks the link: Chromium opens the PDF in its viewer (so the page holds
    # the viewer, not the file); the same file fetched with the browser's own session.
    link = mine.get_by_role("link", name="Summary (PDF)")
    href = link.get_attribute("href")
    with page.expect_response(lambda r: r.url.endswith("/summary.pdf")) as response:
        link.click()
    assert response.value.ok and response.value.headers["content-type"] == "application/pdf"
    fetched = page.request.get(href)
    assert fetched.ok and fetched.headers["content-type"] == "application/pdf"
    summary = fetched.body()
    plain = pdf_words(summary, tmp_path, "summary")

    png = artifacts_dir / f"walkthrough-8-summary-{backend}"  # page 1, for the record
    pdf = tmp_path / "summary.pdf"
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", pdf, png], check=True)
    found = plain.split("What we found", 1)[1].split("What your risk number means", 1)[0].strip()
    # The signed statements' sentences, the headline (most serious) first, then by severity,
    # and nothing else before the heart rate.
    sentences = [STATEMENTS[code].plain for code in by_severity(amended.findings)]
    assert sentences[0] == STATEMENTS["AF"].plain
    # (A recording read as episodes: its rate is the whole recording's mean, and says so.)
    heart_rate = " Over the whole recording your heart beat on average about"
    assert found.startswith(" ".join(sentences) + heart_rate), found[:400]
    # Nothing the amendment took back among the findings, nothing that contradicts the AF;
    # what it took back is said as such under "updated" (`plain_language.what_changed`).
    for code in ("NORMAL", "SINUS", "AV_BLOCK_1"):
        assert STATEMENTS[code].plain not in found, code
    changed = plain.split("What was tested", 1)[0]
    assert "It no longer says: " in " ".join(changed.split())
    steps = plain.split("What to do next", 1)[1]
    contact = app.config["SETTINGS"].clinic_contact  # "call us (...)" names the clinic
    positions = [steps.find(in_plain_words([code], "", contact)[0]) for code in NEXT_STEPS_AMENDED]
    assert -1 not in positions and positions == sorted(positions), positions
    assert "Doctor1 checked and signed" in plain

    timings = {"sign_click_to_page_s": round(sign_s, 3), "navigation": navigation}
    (artifacts_dir / f"walkthrough-timings-{backend}.json").write_text(json.dumps(timings))
    print(f"walkthrough {backend}: machine {machine_codes}; {timings}")
