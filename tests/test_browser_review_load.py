"""The review page's weight in a real headless Chromium: it loads the partial Plotly bundle
(scatter traces only are drawn), keeps it in the browser's cache on the next visit, and draws
the first strip of a 30-minute record with no console error and no CSP violation.

The time from navigation to the first strip is printed (run with -s), never asserted: it
depends on the machine. The README quotes it."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml.research.synthetic import BeatTruth, synthetic_recording
from portal.models import EcgReport
from portal.review.routes import PLOTLY_BUNDLE
from portal.worker import Worker
from tests import test_browser
from tests.conftest import PASSWORD, People, client_for, post_form
from tests.support.ecg_files import write_wfdb
from tests.support.two_step import browser_log_in

live_url = test_browser.live_url
page = test_browser.page

pytestmark = pytest.mark.browser

DURATION_S = 30 * 60
REPEAT_VISITS = 3
# performance.now() (ms since the navigation started) once a line of the strips is drawn.
FIRST_STRIP_MS = """() => document.querySelector('#ecg-detail .scatterlayer path.js-line')
                         ? performance.now() : false"""
PLOTLY_ENTRIES = """() => performance.getEntriesByType('resource')
    .filter(e => /plotly/.test(e.name))
    .map(e => ({name: e.name, transfer: e.transferSize, body: e.decodedBodySize,
                ms: e.responseEnd - e.startTime}))"""
# Playwright adds this before any page script (not subject to the page's CSP): it records
# every CSP violation the page reports, script or style, in its own words.
RECORD_CSP_VIOLATIONS = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"""


def _thirty_minute_report(app: Flask, people: People, sql: Session, tmp_path: Path) -> int:
    """A 30-min two-lead recording at 360 Hz (MIT-BIH's shape), uploaded as WFDB, analysed."""
    recording, _ = synthetic_recording(
        BeatTruth(hr_bpm=72), duration_s=DURATION_S, fs_hz=360.0, leads=("II", "V1"), seed=5
    )
    files = write_wfdb(tmp_path, recording, name="rec30")
    staff = client_for(app, people.staff)
    upload_page = f"/patients/{people.patient.id}/recordings/new"
    response = post_form(
        staff,
        upload_page,
        {"files": [(path.open("rb"), path.name) for path in files]},
        token_page=upload_page,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    assert report is not None
    return report.id


def _visit(page, url: str) -> tuple[float, list[dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """Navigate to `url`: ms from navigation start to the first strip drawn, Plotly's loads."""
    page.goto(url)
    first_strip_ms = page.wait_for_function(FIRST_STRIP_MS, polling="raf", timeout=60_000)
    return float(first_strip_ms.json_value()), page.evaluate(PLOTLY_ENTRIES)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_review_page_loads_the_partial_plotly_bundle_once_and_draws_cleanly(
    app: Flask,
    page,
    people: People,
    sql: Session,
    tmp_path: Path,
    artifacts_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    report_id = _thirty_minute_report(app, people, sql, tmp_path)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    bundle_headers: list[dict[str, str]] = []
    page.on(
        "response",
        lambda r: bundle_headers.append(r.headers) if r.url.endswith(PLOTLY_BUNDLE) else None,
    )
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.set_viewport_size({"width": 1280, "height": 1400})
    browser_log_in(page, app, "doctor1", PASSWORD)

    first_ms, first_loads = _visit(page, f"/reports/{report_id}")
    visits = [_visit(page, f"/reports/{report_id}") for _ in range(REPEAT_VISITS)]
    again_ms = statistics.median(ms for ms, _ in visits)
    print(
        f"\nreview page, 30-min record: first strip drawn {first_ms:.0f} ms after navigation"
        f" with an empty cache (Plotly {first_loads[0]['body'] / 1e6:.2f} MB, loaded in"
        f" {first_loads[0]['ms']:.0f} ms); on the next {REPEAT_VISITS} visits median"
        f" {again_ms:.0f} ms (Plotly bytes over the wire: {[v[1][0]['transfer'] for v in visits]})"
    )

    # Only the partial bundle, nothing of the full one; drawn with scatter (SVG) traces.
    assert [Path(e["name"]).name for e in first_loads] == [PLOTLY_BUNDLE]
    assert 0.5e6 < first_loads[0]["body"] < 1.5e6
    assert page.evaluate(
        "document.getElementById('ecg-detail').data.every(t => t.type === 'scatter')"
    )
    assert page.evaluate("document.getElementById('ecg-overview').data.length") == 2
    # Cached for a year under a versioned name: the next visit does not fetch it again.
    cache_control = bundle_headers[0]["cache-control"]
    assert "max-age=31536000" in cache_control and "immutable" in cache_control
    assert [[e["transfer"] for e in loads] for _, loads in visits] == [[0]] * REPEAT_VISITS

    assert problems == []
    assert page.evaluate("window.__cspViolations") == []
    page.screenshot(path=str(artifacts_dir / "browser-review-30-min.png"), full_page=False)
