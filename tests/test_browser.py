"""The main flow in a real headless Chromium (Debian's), against a live server."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from portal.finding_stops import finding_stops
from portal.models import ClinicalInput, EcgReport
from portal.services.machine_read import machine_read
from tests.conftest import PASSWORD, People, client_for, post_form
from tests.support.af_pvc_recording import af_pvc_av_block_recording
from tests.support.ecg_files import write_csv
from tests.support.two_step import browser_log_in

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium must not phone home: this machine (and many hospital networks) has no internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def page(live_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium (make test does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_url, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        # The Content-Security-Policy must never block the portal's own pages (a blocked
        # script or eval shows in the console): every browser test checks it.
        refused: list[str] = []
        page.on(
            "console",
            lambda message: (
                refused.append(message.text)
                if "Content Security Policy" in message.text
                or "Content-Security-Policy" in message.text
                else None
            ),
        )
        yield page
        browser.close()
        assert refused == [], refused


def test_staff_logs_in_registers_a_patient_and_finds_them(
    page,
    app: Flask,
    people: People,
    artifacts_dir: Path,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    backend = "sqlite" if database_url.startswith("sqlite") else "mariadb"
    page.goto("/patients/")
    assert "/login" in page.url
    browser_log_in(page, app, "staff1", PASSWORD)
    page.wait_for_url("**/patients/")

    page.click("text=Register patient")
    page.fill("#full_name", "Katherine Johnson")
    page.fill("#date_of_birth", "1958-08-26")
    page.select_option("#sex", "female")
    page.select_option("#assigned_doctor_id", label="Doctor1")
    page.fill("#phone", "+1 757 555 0100")
    page.fill("#email", "not an email")
    page.click("main button[type=submit]")
    assert page.locator("#email-error").inner_text() == "Invalid email address."
    page.fill("#email", "kj@example.org")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=registered with MRN")
    mrn = page.locator("dd.mono").first.inner_text()

    page.click("nav >> text=Patients")
    page.wait_for_url("**/patients/")
    page.fill("#q", "kathe")
    page.click("form.search button")
    page.wait_for_url("**/patients/?q=kathe")
    row = page.locator("table tbody tr", has_text="Katherine Johnson")
    expect(row).to_have_count(1)  # waits: the results page may still be loading
    assert mrn in row.inner_text() and "Doctor1" in row.inner_text()
    page.screenshot(
        path=str(artifacts_dir / f"browser-patient-search-{backend}.png"), full_page=True
    )
    row.locator("a").click()
    assert "Katherine Johnson" in page.locator("h1").inner_text()


def test_doctor_enters_risk_factors_and_tries_a_what_if(
    page,
    app: Flask,
    people: People,
    sql: Session,
    artifacts_dir: Path,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "mariadb"
    browser_log_in(page, app, "doctor1", PASSWORD)
    page.goto(f"/patients/{people.patient.id}/inputs/new")
    page.fill("#total_cholesterol", "5.5")
    # Typed with a decimal comma, key by key: Chromium's number box had deleted the comma as
    # it was typed, and creatinine "1,2" mg/dL was saved as 12 (a browser audit).
    page.locator("#hdl").press_sequentially("1,3")
    page.locator("#creatinine").press_sequentially("1,2")
    page.select_option("#cholesterol_unit", "mmol/L")
    page.fill("#systolic_bp_mmhg", "150")
    page.select_option("#smoker", "yes")
    page.select_option("#diabetic", "no")
    page.select_option("#bp_treated", "no")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Clinical input saved.")
    sql.expire_all()
    saved = sql.scalars(select(ClinicalInput).where(ClinicalInput.patient_id == people.patient.id))
    latest = max(saved, key=lambda row: row.id)
    assert (float(latest.creatinine_mg_dl), round(float(latest.hdl_mg_dl))) == (1.2, 50)  # type: ignore[arg-type]

    page.click("text=Risk scores")
    card = page.locator("#score-framingham_general_cvd")
    assert "What raises it most" in card.inner_text() and "Smoking" in card.inner_text()
    now = float(card.locator(".score-value strong").inner_text().rstrip(" %"))

    page.select_option("#smoker", "no")
    page.click("button:has-text('Calculate')")
    page.wait_for_selector("#what-if-results")
    row = page.locator("#what-if-results tr", has_text="Framingham 2008 general CVD (lipids)")
    cells = row.locator("td").all_inner_texts()
    assert float(cells[1].rstrip(" %")) == now
    assert float(cells[2].split(" %")[0]) < now  # stopping smoking lowers the risk
    page.screenshot(path=str(artifacts_dir / f"browser-risk-{backend}.png"), full_page=True)


def test_staff_uploads_doctor_reviews_on_the_chart_and_signs(
    app: Flask,
    page,
    people: People,
    artifacts_dir: Path,
    database_url: str,
    tmp_path: Path,
    sql: Session,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    from portal.demo import write_demo_recordings
    from portal.worker import Worker

    backend = "sqlite" if database_url.startswith("sqlite") else "mariadb"
    demo_file = write_demo_recordings(tmp_path / "demo") / "tachycardia-3-lead-60s.csv"
    worker = Worker(app)
    worker.start()
    try:
        browser_log_in(page, app, "staff1", PASSWORD)
        page.goto(f"/patients/{people.patient.id}")
        page.click("text=Upload ECG")
        page.set_input_files("#files", str(demo_file))
        page.click("main button[type=submit]")
        page.wait_for_selector("#job-report:not([hidden])", timeout=60_000)
        assert page.locator("#job-progress").get_attribute("value") in ("100", "100.0")
        page.screenshot(path=str(artifacts_dir / f"browser-job-{backend}.png"), full_page=True)
        page.click("text=Log out")
    finally:
        worker.stop()

    browser_log_in(page, app, "doctor1", PASSWORD)
    page.click("nav >> text=Worklist")
    page.click("#worklist >> text=Review")
    page.wait_for_selector("#ecg-detail .main-svg", timeout=30_000)
    page.wait_for_function("() => document.getElementById('ecg-window').textContent.length > 0")
    assert page.locator("#ecg-window").inner_text().startswith("0.0–10.0 s")
    # Zoom to 2 s with Plotly's own API (as a drag would), then step to the next window.
    page.evaluate("Plotly.relayout('ecg-detail', {'xaxis.range': [3, 5]})")
    zoomed = page.evaluate("document.getElementById('ecg-detail').layout.xaxis.range")
    assert zoomed == [3, 5]
    page.click("#ecg-next")
    page.wait_for_function(
        "() => document.getElementById('ecg-window').textContent.startsWith('10.0')"
    )
    beats = page.evaluate(
        "document.getElementById('ecg-detail').data.filter(t => t.name.startsWith('beats'))"
        ".reduce((n, t) => n + t.x.length, 0)"
    )
    assert 15 <= beats <= 25  # 118 bpm over 10 s
    page.screenshot(path=str(artifacts_dir / f"browser-review-{backend}.png"), full_page=True)

    # "Go to" a time into the recording puts it in the middle of the strip; a time past the
    # end says so beside the field and leaves the strip where it was. This file gave no start
    # time, so there is no time-of-day choice.
    assert page.locator("#ecg-go-to-kind").count() == 0
    page.fill("#ecg-go-to-time", "0:45")
    page.click("#ecg-go-to button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('ecg-window').textContent.startsWith('40.0–50.0 s')"
    )
    expect(page.locator("#ecg-go-to-message")).to_have_text("Showing 45.0 s")
    page.fill("#ecg-go-to-time", "2:00")
    page.press("#ecg-go-to-time", "Enter")
    expect(page.locator("#ecg-go-to-message")).to_have_text(
        "The recording is 0:01:00 long (h:mm:ss); 0:02:00 is past its end."
    )
    assert page.locator("#ecg-go-to-time").get_attribute("aria-invalid") == "true"
    assert page.locator("#ecg-window").inner_text().startswith("40.0–50.0 s")
    # Moving the window another way ends what "Go to" said (its error had stayed, the box
    # marked invalid, beside a strip showing another time: an audit).
    page.click("#ecg-prev")
    page.wait_for_function(
        "() => document.getElementById('ecg-window').textContent.startsWith('30.0–40.0 s')"
    )
    expect(page.locator("#ecg-go-to-message")).to_have_text("")
    assert page.locator("#ecg-go-to-time").get_attribute("aria-invalid") is None
    page.fill("#ecg-go-to-time", "0:45")  # and a change of speed (a browser audit)
    page.press("#ecg-go-to-time", "Enter")
    expect(page.locator("#ecg-go-to-message")).to_have_text("Showing 45.0 s")
    page.select_option("#ecg-speed", "50")
    expect(page.locator("#ecg-go-to-message")).to_have_text("")
    page.select_option("#ecg-speed", "25")
    # A click on the overview shows the window around it (it did nothing: a browser audit).
    plot_area = page.locator("#ecg-overview .nsewdrag").first
    box = plot_area.bounding_box()
    assert box is not None
    plot_area.click(position={"x": box["width"] * 0.25, "y": box["height"] / 2})
    page.wait_for_function(
        "() => /^(9|10|11)\\.\\d–(19|20|21)\\.\\d s/.test("
        "document.getElementById('ecg-window').textContent)"
    )

    # The machine called the strip sinus tachycardia (the demo file's P waves clear of its T
    # waves since 2026-12-06: it had read "other rhythm", its PR not measurable, beside an
    # episode table saying sinus tachycardia): that statement comes preselected; the doctor
    # takes it away, tries the others, and signs it.
    warnings = page.locator(".statement-warnings")
    expect(warnings).to_have_text("")
    chosen = page.locator(".statement-chip").evaluate_all("cs => cs.map(c => c.dataset.code)")
    assert "TACHY" in chosen and "OTHER_RHYTHM" not in chosen
    page.click(".statement-chip[data-code=TACHY] button")
    expect(warnings).to_have_text("Choose exactly one rhythm statement (now 0).")
    # The focus stays in the picker (a chip's button, or the search), never on the page.
    focused = page.evaluate("document.activeElement.closest('.statement-picker') !== null")
    assert focused, page.evaluate("document.activeElement.outerHTML")
    # "Unclassifiable: too noisy" stands in place of a rhythm statement, never beside one.
    page.fill(".statement-search", "too noisy")
    page.click(".statement-option[data-code=NOISY_STRIP]:visible")
    expect(warnings).to_have_text("")
    page.fill(".statement-search", "sinus tachycardia")
    # A statement the search leaves out is out of sight and of the Tab order: the rhythm
    # group's style had kept all ten shown, and Tab then Space after typing "sinus rhythm"
    # added "Ventricular fibrillation" (an accessibility audit).
    expect(page.locator(".statement-option[data-code=VF]")).to_be_hidden()
    page.click(".statement-option[data-code=TACHY]:visible")
    expect(warnings).to_contain_text('"Unclassifiable: too noisy" says no rhythm can be read')
    page.click(".statement-chip[data-code=NOISY_STRIP] button")
    expect(warnings).to_have_text("")
    page.fill("#rhythm_label", "Sinus tachycardia")
    page.fill("#password", PASSWORD)
    page.fill("#conclusion", "Sinus tachycardia, otherwise normal.")
    page.click("#sign button[type=submit]")
    page.wait_for_selector("text=Report signed.")
    # The message is where the page opens and has the focus (the form's "#sign" had stayed:
    # the page sat at an empty amend form, the message off screen, unannounced).
    assert page.url.endswith("#messages")
    # Waited for: the page's script moves the focus after load (read at once, a loaded CI
    # machine once found it not moved yet).
    expect(page.locator("#messages")).to_be_focused()
    # The sign form's statements label names its field (an id the machine's list shared).
    assert page.evaluate("document.querySelectorAll('[id=findings]').length") == 1
    assert page.evaluate("document.querySelector('label[for=findings]').control.tagName") == (
        "SELECT"
    )
    assert page.locator("#report-status").inner_text() == "final"
    sql.expire_all()
    signed = sql.scalar(select(EcgReport)).versions[-1]
    assert signed.findings[0] == "TACHY" and "AF" not in signed.findings, signed.findings
    assert "Physician read" in page.locator(".reads").inner_text()
    page.screenshot(path=str(artifacts_dir / f"browser-signed-{backend}.png"), full_page=True)

    # On a phone (375 px, or 200 % zoom) the page reflows: tables scroll in their own box,
    # the page never sideways (the report's two columns and the worklist had been 435-666 px
    # wide; an accessibility audit, WCAG 1.4.10).
    report_url = page.url.split("#")[0]
    page.set_viewport_size({"width": 375, "height": 800})
    for url in (report_url, report_url.rsplit("/reports/", 1)[0] + "/worklist?status=all"):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (url, width)


def _clock(t_s: float) -> str:
    whole = int(t_s)
    return f"{whole // 3600:02}:{whole // 60 % 60:02}:{whole % 60:02}"


def test_next_finding_steps_through_every_finding_in_order_and_wraps(
    app: Flask,
    page,
    people: People,
    sql: Session,
    artifacts_dir: Path,
    database_url: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    from portal.worker import Worker

    backend = "sqlite" if database_url.startswith("sqlite") else "mariadb"
    # 80 s with AF, PVCs (one couplet), a first-degree AV block and a long QT, uploaded by staff.
    recording, _ = af_pvc_av_block_recording(qt_ms=480.0, couplet=True)
    csv = write_csv(tmp_path / "ecg.csv", recording).read_bytes()
    upload_page = f"/patients/{people.patient.id}/recordings/new"
    response = post_form(
        client_for(app, people.staff), upload_page, {"files": [(io.BytesIO(csv), "ecg.csv")]},
        token_page=upload_page, content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    assert report is not None
    stops = finding_stops(machine_read(report))
    kinds = [s.kind for s in stops]
    assert {"AF", "PVC", "PVC couplet", "AV_BLOCK_1", "LONG_QT"} <= set(kinds), kinds
    same_time = [i for i in range(1, len(stops)) if stops[i].t_s == stops[i - 1].t_s]
    assert same_time, "two stops at the same time (the AV block and the long QT)"

    browser_log_in(page, app, "doctor1", PASSWORD)
    page.goto(f"/reports/{report.id}")
    page.wait_for_selector("#ecg-detail .main-svg", timeout=60_000)
    label = page.locator("#ecg-finding")
    assert label.inner_text() == f"{len(stops)} findings to step through"
    duration_s, span_s = recording.duration_s, 10.0

    def lands_on(index: int) -> None:
        stop = stops[index]
        start_s = max(0.0, min(stop.t_s - 1, duration_s - span_s))  # 1 s before, within the record
        page.wait_for_function(
            """([index, start]) => {
              const d = document.getElementById('ecg-detail');
              return d.dataset.stop === String(index) && d.dataset.start === start;
            }""",
            arg=[index, f"{start_s:.3f}"],
            timeout=30_000,
        )
        said = f"{index + 1} of {len(stops)}: {stop.label} at {_clock(stop.t_s)} into the recording"
        assert label.inner_text() == said
        marked = page.evaluate(
            "document.getElementById('ecg-detail').layout.shapes"
            ".filter(s => s.type === 'line' && s.line.dash === 'dash').map(s => s.x0)"
        )
        assert marked == [stop.t_s]  # the stop itself is marked inside the window
        assert start_s <= stop.t_s <= start_s + span_s

    next_finding = page.get_by_role("button", name="Next finding")
    shapes: dict[str, str] = {}
    for index in [*range(len(stops)), 0]:  # every stop in order, then the first again
        next_finding.click()
        lands_on(index)
        shapes |= page.evaluate(
            "Object.fromEntries(document.getElementById('ecg-detail').data"
            ".filter(t => t.name.startsWith('beats')).map(t => [t.name, t.marker.symbol]))"
        )
        if index == same_time[0]:
            page.locator(".ecg-card").screenshot(
                path=str(artifacts_dir / f"browser-next-finding-{backend}.png")
            )
    # Each beat class has a shape of its own, not a colour alone (an accessibility look):
    # the PVCs' markers had the normal beats' triangle.
    assert {"beats N", "beats V"} <= set(shapes) and shapes["beats N"] != shapes["beats V"]
    page.get_by_role("button", name="Previous finding").click()
    lands_on(len(stops) - 1)  # back past the first: the last
    page.get_by_role("button", name="Previous finding").click()
    lands_on(len(stops) - 2)
    # Panning leaves the stop (its count said once) and is announced by the window's own live
    # line; a second pan leaves the finding line alone (it had said the count on every pan).
    window = page.locator("#ecg-window")
    assert window.get_attribute("aria-live") == "polite"
    page.click("#ecg-next")
    expect(label).to_have_text(f"{len(stops)} findings to step through")
    page.evaluate("document.getElementById('ecg-finding').textContent = 'unchanged'")
    before = window.inner_text()
    page.click("#ecg-next")
    expect(window).not_to_have_text(before)
    assert label.inner_text() == "unchanged"
    # An episode's start in the table shows it on the strip, a second before it (a Holter's
    # longest pause had been reachable only by typing its time: a browser audit).
    af = next(e for e in machine_read(report).episodes if e.label.startswith("Atrial fib"))
    page.get_by_role("button", name=f"Show the {af.label} from").first.click()
    start_s = max(0.0, min(af.start_s - 1, duration_s - span_s))
    page.wait_for_function(
        "start => document.getElementById('ecg-detail').dataset.start === start",
        arg=f"{start_s:.3f}",
    )


def test_a_form_sent_after_the_session_ended_comes_back_to_its_page(
    page,
    app: Flask,
    people: People,  # type: ignore[no-untyped-def]
) -> None:
    """In a real browser the page a form was sent from came back after login only if the
    browser said where it was sent from: with Referrer-Policy no-referrer it never did, and
    the staff member landed on the patient list with the entry lost (an audit)."""
    browser_log_in(page, app, "staff1", PASSWORD)
    form_page = f"/patients/{people.patient.id}/inputs/new"
    page.goto(form_page)
    page.fill("#systolic_bp_mmhg", "141")
    # The page's last fetches (favicon, stylesheet) refresh the session cookie on answer:
    # one arriving after the cookies are cleared would bring the session back.
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()  # the session ends (idle, or logged out elsewhere)
    page.click("main button[type=submit]")
    page.wait_for_url("**/login**")
    assert "so what you sent was not saved" in page.content()
    browser_log_in(page, app, "staff1", PASSWORD)
    page.wait_for_url(f"**{form_page}")


def test_the_idle_time_out_is_announced_before_and_can_be_put_off(
    page,
    app: Flask,
    people: People,  # type: ignore[no-untyped-def]
) -> None:
    """The 30-minute idle time-out came unwarned: a doctor slow over a read lost what they had
    typed (an accessibility audit, WCAG 2.2.1). Here the lifetime is 4 s: the warning comes
    at half of it, takes the focus, and "Stay logged in" starts the lifetime again."""
    from playwright.sync_api import expect

    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(seconds=4)
    browser_log_in(page, app, "staff1", PASSWORD)
    page.goto(f"/patients/{people.patient.id}/inputs/new")
    page.fill("#systolic_bp_mmhg", "141")
    warning = page.locator("#session-timeout")
    expect(warning).to_be_visible(timeout=10_000)
    expect(warning).to_have_attribute("role", "alertdialog")
    assert page.evaluate("document.activeElement.textContent") == "Stay logged in"
    with page.expect_response("**/account/keep-alive") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 204
    expect(warning).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "systolic_bp_mmhg"  # back where it was
    # Left alone, the warning says the session has ended, and what to do.
    expect(page.locator("#session-timeout-text")).to_contain_text(
        "Your session has ended", timeout=10_000
    )


def test_the_time_out_warning_follows_every_tab_and_a_dead_session(
    page,
    app: Flask,
    people: People,  # type: ignore[no-untyped-def]
) -> None:
    """An audit: a tab left open said "Your session has ended" while another tab's use kept
    the session alive; and "Stay logged in" after the session had ended (logged out in another
    tab) hid the warning as if it had worked, the keep-alive's redirect to the login page read
    as success. Lifetime 6 s here: the warning comes at 3 s."""
    import time

    from playwright.sync_api import expect

    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(seconds=6)
    browser_log_in(page, app, "staff1", PASSWORD)
    page.goto(f"/patients/{people.patient.id}")
    expect(page.locator("#session-timeout-text")).to_contain_text("ends in 3 seconds")
    other = page.context.new_page()
    for _ in range(4):  # the other tab is used every 2 s for 8 s
        time.sleep(2)
        other.goto(f"/patients/{people.patient.id}")
    assert page.locator("#session-timeout").is_hidden()  # neither warned nor ended
    other.close()

    page.context.clear_cookies()  # the session ends (logged out elsewhere)
    expect(page.locator("#session-timeout button")).to_be_visible(timeout=10_000)
    page.click("#session-timeout button")
    expect(page.locator("#session-timeout-text")).to_contain_text("Your session has ended")
    assert page.locator("#session-timeout button").is_hidden()


def test_a_patient_reads_their_reports_on_a_phone(
    page,
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    artifacts_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    """An audit on a 360-px phone with text at 200 %: "My reports" was 708 px wide, "Log out"
    cut off, links 18-22 px tall; eleven rows all read "6 December 2026". Now nothing runs
    sideways at 360 px nor at 180 px (200 % zoom), the header's links, the download button
    and the fields are 44 px tall, and each row says the time and what kind of test it was."""
    from tests.test_pdf_reports import _signed

    _signed(app, people, sql, tmp_path)
    browser_log_in(page, app, people.patient_account.username, PASSWORD)
    for width in (360, 180):
        page.set_viewport_size({"width": width, "height": 740})
        # the two-step login page with its QR code, 285 px wide, had run sideways at 320 px
        for path in ("/my/reports", "/my/access", "/account/password", "/account/security"):
            page.goto(path)
            scrolled = page.evaluate("document.documentElement.scrollWidth")
            assert scrolled <= width, (path, width, scrolled)
        page.goto("/my/reports")
        targets = page.locator(
            ".topbar nav a, .who a, .who button, #my-reports a.button"
        ).evaluate_all(
            "els => els.map(e => [e.textContent.trim(), e.getBoundingClientRect().height])"
        )
        small = [(name, height) for name, height in targets if height < 44]
        assert targets and not small, small
        # One line: its words for a screen reader had made an empty second line, 60 px tall
        # at 360 px (an audit of the patient's side).
        buttons = page.locator("#my-reports a.button").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().height)"
        )
        page.screenshot(path=str(artifacts_dir / f"browser-patient-reports-{width}px.png"))
        assert buttons and max(buttons) < 50, (width, buttons)
    row = page.locator("#my-reports tbody tr").first.inner_text()
    assert "Heart test (ECG), 30 seconds" in row and ", " in row.split("\n")[0]
    page.screenshot(path=str(artifacts_dir / "browser-patient-phone-180px.png"), full_page=True)


def test_staff_and_admin_pages_reflow_on_a_phone(
    page,
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """A browser audit at 360 px: the patient list (413 px), a patient's recordings (420),
    the accounts (537), tokens (411), model (616) and audit trail (1,319 px, at 200 % zoom
    too) ran sideways, header and all (WCAG 1.4.10). Their tables now scroll in their own
    box; the confusion matrices' numbers keep a contrast of 4.5:1 on the darkest cell."""
    for account, paths in (
        (people.staff, ("/patients/", f"/patients/{people.patient.id}")),
        (people.doctor, ("/model",)),
        (people.admin, ("/admin/accounts", "/admin/tokens", "/admin/audit")),
    ):
        page.context.clear_cookies()
        page.set_viewport_size({"width": 1200, "height": 800})
        page.goto("/login")
        browser_log_in(page, app, account.username, PASSWORD)
        for width in (360, 320):  # a phone; 1280 px at 400 % (WCAG 1.4.10)
            page.set_viewport_size({"width": width, "height": 740})
            for path in paths:
                page.goto(path)
                scrolled = page.evaluate("document.documentElement.scrollWidth")
                assert scrolled <= width, (path, width, scrolled)


def test_deactivating_an_account_asks_first_naming_it(
    page,
    app: Flask,
    people: People,
    sql: Session,  # type: ignore[no-untyped-def]
) -> None:
    """A browser audit: "Deactivate" acted at one click and named no account, so a screen
    reader's list of buttons read "Deactivate" nine times. It asks first, naming the account,
    and its button is named "Deactivate <username>"."""
    from playwright.sync_api import expect

    page.goto("/login")
    browser_log_in(page, app, people.admin.username, PASSWORD)
    page.goto("/admin/accounts")
    button = page.get_by_role("button", name=f"Deactivate {people.staff.username}", exact=True)
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    button.click()
    page.wait_for_timeout(300)  # a dismissed question sends nothing
    sql.refresh(people.staff)
    assert people.staff.is_active and page.url.endswith("/admin/accounts")
    page.once("dialog", lambda dialog: answer(dialog, True))
    button.click()
    expect(page.get_by_role("button", name=f"Reactivate {people.staff.username}")).to_be_visible()
    sql.refresh(people.staff)
    assert not people.staff.is_active
    assert asked == 2 * [
        f"Deactivate the account {people.staff.username} ({people.staff.display_name})? They "
        "are logged out and can no longer log in, and their API tokens are revoked. An "
        "administrator can reactivate the account; revoked tokens stay revoked (issue new ones "
        "if still needed)."
    ]
