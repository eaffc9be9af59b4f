"""The review screen's ECG tools in a real headless Chromium: the paper 12-lead sheet (3 x 4 +
lead II rhythm strip), gain and speed, and calipers measuring a known RR interval."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml.recording import Recording
from ml.research.synthetic import BeatTruth, synthetic_recording
from portal.models import EcgReport
from portal.worker import Worker
from tests import test_browser
from tests.conftest import PASSWORD, People, client_for, post_form
from tests.support.ecg_files import write_csv
from tests.support.two_step import browser_log_in

# The live server and the Chromium page of tests/test_browser.py, shared as fixtures.
live_url = test_browser.live_url
page = test_browser.page

pytestmark = pytest.mark.browser

FS_HZ = 250.0
HR_BPM = 75.0  # RR 800 ms: exactly 200 samples at 250 Hz
TRUE_RR_MS = 60_000 / HR_BPM
GRID = [["I", "aVR", "V1", "V4"], ["II", "aVL", "V2", "V5"], ["III", "aVF", "V3", "V6"]]
TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
TRUTH = BeatTruth(hr_bpm=HR_BPM)
# The generator's R wave (in every lead that shows it upright) peaks here after QRS onset:
# the Q dip takes 22 % of the QRS, the R half-sine the next 48 %.
R_AFTER_ONSET_S = (0.22 + 0.48 / 2) * TRUTH.qrs_ms / 1000
READOUT = re.compile(r"Δt (\d+(?:\.\d)?) ms · (\d+) bpm · ΔV ([+−]\d+\.\d\d) mV")


def _backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "mariadb"


def _analysed_report(
    app: Flask, people: People, sql: Session, tmp_path: Path, leads: tuple[str, ...]
) -> tuple[int, Recording, np.ndarray]:
    """A synthetic recording (constant 75 bpm) uploaded as CSV by staff and analysed: the
    report's id, the recording as uploaded, and the true QRS-onset samples."""
    recording, onsets = synthetic_recording(TRUTH, duration_s=20, fs_hz=FS_HZ, leads=leads, seed=11)
    path = write_csv(tmp_path / "ecg.csv", recording)
    staff = client_for(app, people.staff)
    upload_page = f"/patients/{people.patient.id}/recordings/new"
    response = post_form(
        staff,
        upload_page,
        {"files": [(io.BytesIO(path.read_bytes()), "ecg.csv")]},
        token_page=upload_page,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    assert report is not None
    return report.id, recording, onsets


def _open_review(page, app: Flask, report_id: int) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1280, "height": 1400})
    browser_log_in(page, app, "doctor1", PASSWORD)
    page.goto(f"/reports/{report_id}")
    page.wait_for_selector("#ecg-detail .main-svg", timeout=30_000)
    page.wait_for_function("() => window.ecgView && window.ecgView().rows.length > 0")
    page.wait_for_function("() => document.getElementById('ecg-window').textContent.length > 0")


def _annotations_by_row(page) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The lead labels drawn on each row (y axis), left to right."""
    labels = page.evaluate(
        """() => document.getElementById('ecg-detail').layout.annotations
             .filter(a => a.name !== 'caliper')
             .map(a => [a.yref.split(' ')[0], a.x, a.text.replace(/<[^>]+>/g, '')])"""
    )
    rows: dict[str, list[tuple[float, str]]] = {}
    for axis, x, text in labels:
        rows.setdefault(axis, []).append((x, text))
    return {axis: [text for _, text in sorted(items)] for axis, items in sorted(rows.items())}


def _scale(page) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What Plotly actually drew: pixels per second on the x axis, pixels per mV on every row."""
    return page.evaluate(
        """() => {
          const full = document.getElementById('ecg-detail')._fullLayout, xa = full.xaxis;
          const span = xa.range[1] - xa.range[0];
          const out = {span_s: span, px_per_s: xa._length / span};
          const rows = window.ecgView().rows.map(r => full['yaxis' + r.axis.slice(1)]);
          out.px_per_mv = rows.map(ya => ya._length / (ya.range[1] - ya.range[0]));
          return out;
        }"""
    )


def _client_point(page, t_s: float, axis: str, fraction: float = 0.5) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Where on the screen time `t_s` is, `fraction` of the way down the row drawn on `axis`."""
    x, y = page.evaluate(
        """([t, axis, fraction]) => {
          const gd = document.getElementById('ecg-detail'), full = gd._fullLayout;
          const rect = gd.getBoundingClientRect(), ya = full['yaxis' + axis.slice(1)];
          return [rect.left + full.xaxis._offset + full.xaxis.l2p(t),
                  rect.top + ya._offset + fraction * ya._length];
        }""",
        [t_s, axis, fraction],
    )
    return x, y


def _drag(page, start: tuple[float, float], end: tuple[float, float]) -> dict:  # type: ignore[no-untyped-def]
    before = page.locator("#caliper-readout").inner_text()
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(end[0], end[1], steps=12)
    page.mouse.up()
    page.wait_for_function(
        "([before]) => { const t = document.getElementById('caliper-readout').textContent;"
        " return t.length > 0 && t !== before; }",
        arg=[before],
    )
    return page.evaluate("window.ecgCaliper()")


def _touch_drag(page, start: tuple[float, float], end: tuple[float, float]) -> dict:  # type: ignore[no-untyped-def]
    """A finger's drag as the browser reports it: touch pointer events, then touch events."""
    before = page.locator("#caliper-readout").inner_text()
    page.evaluate(
        """([start, end]) => {
          const at = (x, y) => ({ clientX: x, clientY: y, pointerId: 7, pointerType: 'touch',
                                  isPrimary: true, button: 0, bubbles: true, cancelable: true });
          const target = document.elementFromPoint(start[0], start[1]);
          target.dispatchEvent(new PointerEvent('pointerdown', at(...start)));
          target.dispatchEvent(new TouchEvent('touchstart', { bubbles: true, cancelable: true }));
          for (let i = 1; i <= 8; i++) {
            const f = i / 8, x = start[0] + (end[0] - start[0]) * f;
            const y = start[1] + (end[1] - start[1]) * f;
            target.dispatchEvent(new PointerEvent('pointermove', at(x, y)));
          }
          target.dispatchEvent(new PointerEvent('pointerup', at(...end)));
        }""",
        [list(start), list(end)],
    )
    page.wait_for_function(
        "([before]) => { const t = document.getElementById('caliper-readout').textContent;"
        " return t.length > 0 && t !== before; }",
        arg=[before],
    )
    return page.evaluate("window.ecgCaliper()")


def _bracket_ends(page, axis: str) -> list[float]:  # type: ignore[no-untyped-def]
    """The times of the calipers' vertical end lines drawn on the row of `axis`."""
    shapes = page.evaluate("document.getElementById('ecg-detail').layout.shapes")
    return sorted(
        s["x0"]
        for s in shapes
        if s["type"] == "line"
        and s["yref"] == f"{axis} domain"
        and s["x0"] == s["x1"]
        and s["line"]["color"] == "#1458a6"
    )


def test_a_12_lead_recording_opens_as_the_paper_sheet_with_a_rhythm_strip(
    app: Flask,
    page,
    people: People,
    sql: Session,
    artifacts_dir: Path,
    database_url: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    report_id, _, _ = _analysed_report(app, people, sql, tmp_path, TWELVE)
    _open_review(page, app, report_id)
    assert page.evaluate("window.ecgView().mode") == "twelve"
    assert page.locator("#ecg-layout").is_visible()
    assert page.locator("#ecg-layout-twelve").get_attribute("aria-pressed") == "true"
    assert page.locator("#ecg-paper-settings").inner_text() == "25 mm/s · 10 mm/mV"
    assert page.locator("#ecg-window").inner_text().startswith("0.0–10.0 s")

    # Three rows of four leads (so the columns read I-III, aVR-aVF, V1-V3, V4-V6), then the
    # rhythm strip; every label is drawn on the page, not only in the figure's data.
    by_row = _annotations_by_row(page)
    assert list(by_row.values()) == [*GRID, ["II rhythm"]]
    drawn = page.locator("#ecg-detail .annotation-text").all_text_contents()
    for name in [*TWELVE, "II rhythm"]:
        assert name in drawn
    assert [row["leads"] for row in page.evaluate("window.ecgView().rows")] == [*GRID, ["II"]]

    # Each lead shows its own consecutive 2.5 s; the rhythm strip the whole 10 s.
    extents = page.evaluate(
        """() => Object.fromEntries(document.getElementById('ecg-detail').data
             .filter(t => t.mode === 'lines').map(t => [t.name, [t.x[0], t.x[t.x.length - 1]]]))"""
    )
    dt = 1 / FS_HZ
    for row in GRID:
        for column, name in enumerate(row):
            first, last = extents[name]
            assert first == pytest.approx(2.5 * column, abs=dt)
            assert last == pytest.approx(2.5 * (column + 1), abs=dt)
    assert extents["II rhythm"][0] == pytest.approx(0, abs=dt)
    assert extents["II rhythm"][1] == pytest.approx(10, abs=2 * dt)
    # Beat markers ride on the rhythm strip: 75 bpm over 10 s.
    beats = page.evaluate(
        "document.getElementById('ecg-detail').data.filter(t => t.name.startsWith('beats'))"
        ".reduce((n, t) => n + t.x.length, 0)"
    )
    assert 11 <= beats <= 13
    page.locator("#ecg-detail").scroll_into_view_if_needed()
    page.screenshot(
        path=str(artifacts_dir / f"browser-12-lead-{_backend(database_url)}.png"), full_page=True
    )

    # The toggle switches to every lead stacked over the whole window, and back.
    page.click("#ecg-layout-stacked")
    page.wait_for_function("() => window.ecgView().mode === 'stacked'")
    assert [row["leads"] for row in page.evaluate("window.ecgView().rows")] == [
        [name] for name in TWELVE
    ]
    assert page.locator("#ecg-layout-stacked").get_attribute("aria-pressed") == "true"
    page.click("#ecg-layout-twelve")
    page.wait_for_function("() => window.ecgView().mode === 'twelve'")
    assert list(_annotations_by_row(page).values()) == [*GRID, ["II rhythm"]]


def test_a_3_lead_recording_keeps_the_stacked_view(
    app: Flask,
    page,
    people: People,
    sql: Session,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    report_id, _, _ = _analysed_report(app, people, sql, tmp_path, ("I", "II", "III"))
    _open_review(page, app, report_id)
    assert page.evaluate("window.ecgView().mode") == "stacked"
    assert not page.locator("#ecg-layout").is_visible()
    assert [row["leads"] for row in page.evaluate("window.ecgView().rows")] == [
        ["I"],
        ["II"],
        ["III"],
    ]


def test_calipers_measure_a_known_rr_interval_to_the_sample(
    app: Flask,
    page,
    people: People,
    sql: Session,
    artifacts_dir: Path,
    database_url: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    report_id, recording, onsets = _analysed_report(app, people, sql, tmp_path, TWELVE)
    lead_ii = recording.lead("II")
    r_peaks_s = onsets / FS_HZ + R_AFTER_ONSET_S
    first, second = r_peaks_s[2], r_peaks_s[3]  # two beats inside the first 10 s
    assert (second - first) * 1000 == pytest.approx(TRUE_RR_MS, abs=1e-6)
    _open_review(page, app, report_id)
    page.locator("#ecg-detail").scroll_into_view_if_needed()
    page.click("#ecg-calipers")
    assert page.locator("#ecg-calipers").get_attribute("aria-pressed") == "true"
    assert page.locator("#ecg-snap").is_checked()

    # A real drag on the rhythm strip (y4), pressed a little after one R peak and released a
    # little before the next (as a hand would): the ends snap to the peaks.
    rhythm = "y4"
    m = _drag(
        page,
        _client_point(page, first + 0.015, rhythm, 0.6),
        _client_point(page, second - 0.02, rhythm, 0.4),
    )
    sample_ms = 1000 / FS_HZ
    assert m["lead"] == "II" and m["snapped"] is True
    assert abs(m["dt_ms"] - TRUE_RR_MS) <= sample_ms
    assert abs(m["t0_s"] - first) <= 1 / FS_HZ and abs(m["t1_s"] - second) <= 1 / FS_HZ
    assert m["bpm"] == pytest.approx(60_000 / m["dt_ms"])
    # Amplitudes are the signal's own at the samples measured (the server rounds to 1 µV).
    k0, k1 = round(m["t0_s"] * FS_HZ), round(m["t1_s"] * FS_HZ)
    assert m["t0_s"] * FS_HZ == pytest.approx(k0, abs=1e-6)
    assert m["v0_mv"] == pytest.approx(lead_ii[k0], abs=0.0015)
    assert m["v1_mv"] == pytest.approx(lead_ii[k1], abs=0.0015)
    assert m["v0_mv"] > 1.0  # an R peak, not the baseline

    text = page.locator("#caliper-readout").inner_text()
    found = READOUT.search(text)
    assert found, text
    shown_ms, shown_bpm = float(found.group(1)), int(found.group(2))
    assert abs(shown_ms - TRUE_RR_MS) <= sample_ms
    assert shown_bpm == round(60_000 / TRUE_RR_MS) == round(m["bpm"])
    assert "lead II" in text
    # The bracket is on the strip: a line at each end on the rhythm row, and the label.
    assert _bracket_ends(page, rhythm) == pytest.approx([m["t0_s"], m["t1_s"]])
    labels = page.locator("#ecg-detail .annotation-text").all_text_contents()
    assert any(found.group(0) in label for label in labels)
    page.screenshot(
        path=str(artifacts_dir / f"browser-calipers-{_backend(database_url)}.png"),
        full_page=True,
    )

    # A new gain redraws the strips; the measurement stays on the rhythm strip.
    page.select_option("#ecg-gain", "20")
    page.wait_for_function(
        "() => document.getElementById('ecg-paper-settings').textContent === '25 mm/s · 20 mm/mV'"
    )
    assert _bracket_ends(page, rhythm) == pytest.approx([m["t0_s"], m["t1_s"]])
    page.select_option("#ecg-gain", "10")
    page.wait_for_function(
        "() => document.getElementById('ecg-paper-settings').textContent === '25 mm/s · 10 mm/mV'"
    )

    # Without snapping, the ends are where the mouse was, rounded to the nearest sample, and
    # measured on the lead pressed: here V2, in the sheet's middle row, third column.
    page.uncheck("#ecg-snap")
    start_t, end_t = 5.3, 6.1
    m = _drag(page, _client_point(page, start_t, "y2", 0.3), _client_point(page, end_t, "y2", 0.7))
    assert m["lead"] == "V2" and m["snapped"] is False
    px_s = 1 / _scale(page)["px_per_s"]  # one pixel, in seconds: the drag's own resolution
    for measured, meant in ((m["t0_s"], start_t), (m["t1_s"], end_t)):
        assert measured * FS_HZ == pytest.approx(round(measured * FS_HZ), abs=1e-6)
        assert abs(measured - meant) <= px_s + 0.5 / FS_HZ
    assert m["samples"] == round((m["t1_s"] - m["t0_s"]) * FS_HZ)
    assert m["dt_ms"] == pytest.approx(m["samples"] * sample_ms)
    v2 = recording.lead("V2")
    k0, k1 = round(m["t0_s"] * FS_HZ), round(m["t1_s"] * FS_HZ)
    assert m["dv_mv"] == pytest.approx(v2[k1] - v2[k0], abs=0.003)

    # A finger on a ward tablet measures too (it had panned the strip: mouse events only),
    # and leaves the window where it was.
    page.check("#ecg-snap")
    start_before = page.evaluate("window.ecgView().start")
    m = _touch_drag(
        page,
        _client_point(page, first + 0.015, rhythm, 0.6),
        _client_point(page, second - 0.02, rhythm, 0.4),
    )
    assert m["lead"] == "II" and abs(m["dt_ms"] - TRUE_RR_MS) <= sample_ms
    assert page.evaluate("window.ecgView().start") == start_before


def test_gain_and_speed_scale_the_paper(
    app: Flask,
    page,
    people: People,
    sql: Session,
    artifacts_dir: Path,
    database_url: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    report_id, _, _ = _analysed_report(app, people, sql, tmp_path, TWELVE)
    _open_review(page, app, report_id)
    at_10 = _scale(page)
    assert at_10["span_s"] == pytest.approx(10)
    # 10 mm/mV at 25 mm/s: 1 mV is 10 mm tall, 0.2 s is 5 mm wide.
    for px_per_mv in at_10["px_per_mv"]:
        assert px_per_mv / (0.2 * at_10["px_per_s"]) == pytest.approx(10 / 5, rel=0.03)

    page.select_option("#ecg-gain", "20")
    page.wait_for_function(
        "() => document.getElementById('ecg-paper-settings').textContent === '25 mm/s · 20 mm/mV'"
    )
    at_20 = _scale(page)
    assert at_20["span_s"] == pytest.approx(10)
    assert at_20["px_per_s"] == pytest.approx(at_10["px_per_s"], rel=0.01)
    for before, after in zip(at_10["px_per_mv"], at_20["px_per_mv"], strict=True):
        assert after == pytest.approx(2 * before, rel=0.03)

    page.select_option("#ecg-gain", "5")
    page.wait_for_function(
        "() => document.getElementById('ecg-paper-settings').textContent === '25 mm/s · 5 mm/mV'"
    )
    for before, after in zip(at_10["px_per_mv"], _scale(page)["px_per_mv"], strict=True):
        assert after == pytest.approx(before / 2, rel=0.03)

    page.select_option("#ecg-gain", "20")
    page.select_option("#ecg-speed", "50")
    page.wait_for_function(
        "() => document.getElementById('ecg-paper-settings').textContent === '50 mm/s · 20 mm/mV'"
    )
    at_50 = _scale(page)
    assert at_50["span_s"] == pytest.approx(5)  # half as many seconds across the strip
    assert at_50["px_per_s"] == pytest.approx(2 * at_10["px_per_s"], rel=0.01)
    assert page.locator("#ecg-window").inner_text().startswith("0.0–5.0 s")
    assert page.locator("#ecg-next").inner_text() == "5 s →"
    # 20 mm/mV at 50 mm/s: 1 mV is 20 mm tall, 0.2 s is 10 mm wide.
    for px_per_mv in at_50["px_per_mv"]:
        assert px_per_mv / (0.2 * at_50["px_per_s"]) == pytest.approx(20 / 10, rel=0.03)
    # The sheet's columns shrink with the window: 1.25 s per lead.
    extents = page.evaluate(
        """() => Object.fromEntries(document.getElementById('ecg-detail').data
             .filter(t => t.mode === 'lines').map(t => [t.name, [t.x[0], t.x[t.x.length - 1]]]))"""
    )
    assert extents["aVR"] == pytest.approx([1.25, 2.5], abs=1 / FS_HZ)
    assert extents["II rhythm"][1] == pytest.approx(5, abs=2 / FS_HZ)
    page.screenshot(
        path=str(artifacts_dir / f"browser-12-lead-50mm-20mm-{_backend(database_url)}.png"),
        full_page=True,
    )

    # Zooming the strips magnifies amplitude with time: the proportion holds.
    page.evaluate("Plotly.relayout('ecg-detail', {'xaxis.range': [1, 2]})")
    page.wait_for_function(
        "() => document.getElementById('ecg-paper-settings').textContent.includes('magnified ×5.0')"
    )
    zoomed = _scale(page)
    for px_per_mv in zoomed["px_per_mv"]:
        assert px_per_mv / (0.2 * zoomed["px_per_s"]) == pytest.approx(2, rel=0.03)


def test_the_chart_says_when_the_session_ended_in_another_tab(
    app: Flask,
    page,
    people: People,
    sql: Session,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """Logged out in another tab, the review chart's next window answered 401: the chart
    froze on its last window with a script error, said nothing, and told every tab the
    session was alive (an audit)."""
    from playwright.sync_api import expect

    report_id, _, _ = _analysed_report(app, people, sql, tmp_path, ("I", "II", "III"))
    _open_review(page, app, report_id)
    before = page.evaluate("window.localStorage.getItem('cardio-last-activity')")
    page.context.clear_cookies()  # logged out elsewhere
    page.click("#ecg-next")
    expect(page.locator("#ecg-window")).to_contain_text("Your session has ended")
    expect(page.locator("#session-timeout-text")).to_contain_text("Your session has ended")
    assert page.evaluate("window.localStorage.getItem('cardio-last-activity')") == before


def _boxes(page, selector: str) -> list[dict[str, float]]:  # type: ignore[no-untyped-def]
    """The screen boxes of the elements `selector` finds that show something."""
    return page.locator(selector).evaluate_all(
        """els => els.filter(e => e.textContent.trim() && e.getBoundingClientRect().width > 0)
             .map(e => { const r = e.getBoundingClientRect();
                         return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })"""
    )


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        min(a["right"], b["right"]) > max(a["left"], b["left"]) + 0.5
        and min(a["bottom"], b["bottom"]) > max(a["top"], b["top"]) + 0.5
    )


def test_the_strip_is_legible_on_a_phone(
    app: Flask,
    page,
    live_url: str,
    people: People,
    sql: Session,
    artifacts_dir: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """A doctor's-day audit on a 360-px phone (two leads, 50 mm/s): the chart was 283 x 107
    px, 10 s at 25 mm/s squeezed into ~250 px; the axis titles ran together, "V1 (mVMLII
    (mV)"; the mV labels printed on top of each other; Plotly's mode bar (always shown on
    touch) covered the whole MLII strip. The paper keeps a legible scale in a box that scrolls
    sideways, each lead is tall enough, no label covers another, and no mode bar covers a
    trace; calipers and the window's steps still work."""
    report_id, _, onsets = _analysed_report(app, people, sql, tmp_path, ("II", "V1"))
    phone = page.context.browser.new_context(
        base_url=live_url, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    mobile = phone.new_page()
    browser_log_in(mobile, app, "doctor1", PASSWORD)
    mobile.goto(f"/reports/{report_id}")
    mobile.wait_for_selector("#ecg-detail .main-svg", timeout=30_000)
    mobile.wait_for_function("() => window.ecgView && window.ecgView().rows.length === 2")
    for speed in ("25", "50"):
        mobile.select_option("#ecg-speed", speed)
        mobile.wait_for_function(
            f"() => document.getElementById('ecg-paper-settings').textContent === "
            f"'{speed} mm/s · 10 mm/mV'"
        )
        drawn = _scale(mobile)
        assert drawn["px_per_s"] >= 70 * int(speed) / 25, drawn  # 3 px a paper millimetre
        assert min(drawn["px_per_mv"]) >= 28, drawn
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 360  # the page stays
        box = mobile.locator(".ecg-scroll").evaluate("b => [b.scrollWidth, b.clientWidth]")
        assert box[0] > box[1], box  # the strip scrolls in its own box
        titles = _boxes(mobile, "#ecg-detail .g-ytitle text, #ecg-detail .g-y2title text")
        ticks = _boxes(mobile, "#ecg-detail .yaxislayer-above text")
        assert len(titles) == 2 and len(ticks) >= 4
        labels = titles + ticks
        crossed = [(a, b) for i, a in enumerate(labels) for b in labels[i + 1 :] if _overlap(a, b)]
        assert not crossed, crossed
        plot_areas = mobile.locator("#ecg-detail .nsewdrag").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().toJSON())"
        )
        buttons = mobile.locator("#ecg-detail .modebar-btn").evaluate_all(
            "els => els.filter(e => e.getBoundingClientRect().width > 0)"
            ".map(e => e.getBoundingClientRect().toJSON())"
        )
        assert plot_areas and not [b for b in buttons for p in plot_areas if _overlap(b, p)]
    mobile.locator("#ecg-detail").screenshot(path=str(artifacts_dir / "browser-strip-phone.png"))

    # Calipers by finger on the part of the strip in view; the step buttons move the window.
    mobile.select_option("#ecg-speed", "25")
    mobile.wait_for_function(
        "() => document.getElementById('ecg-paper-settings').textContent.startsWith('25 mm/s')"
    )
    r_peaks_s = onsets / FS_HZ + R_AFTER_ONSET_S
    first, second = r_peaks_s[1], r_peaks_s[2]
    mobile.locator(".ecg-scroll").evaluate(
        "(b, t) => { b.scrollLeft = t; }", int(first * _scale(mobile)["px_per_s"])
    )
    mobile.locator("#ecg-detail").scroll_into_view_if_needed()
    mobile.click("#ecg-calipers")
    m = _touch_drag(
        mobile,
        _client_point(mobile, first + 0.015, "y", 0.6),
        _client_point(mobile, second - 0.02, "y", 0.4),
    )
    assert m["lead"] == "II" and abs(m["dt_ms"] - TRUE_RR_MS) <= 1000 / FS_HZ
    mobile.click("#ecg-next")
    mobile.wait_for_function(
        "() => document.getElementById('ecg-window').textContent.startsWith('10.0')"
    )
    phone.close()


def test_calipers_place_both_ends_by_keyboard(
    app: Flask,
    page,
    people: People,
    sql: Session,
    artifacts_dir: Path,
    database_url: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """An accessibility audit (WCAG 2.1.1): the Calipers button could be pressed by keyboard,
    but the two ends were placed only by a click, tap or drag on the chart. With calipers on
    the strip is a Tab stop with a focus ring; the arrows move an end by a small box (40 ms,
    with Shift a large one, 200 ms), Enter fixes it, and the interval is announced in the
    pointer's words; Escape clears, and a pointer still measures."""
    report_id, _, onsets = _analysed_report(app, people, sql, tmp_path, TWELVE)
    _open_review(page, app, report_id)
    detail = page.locator("#ecg-detail")
    assert detail.get_attribute("tabindex") is None  # calipers off: no Tab stop
    keys = page.locator("#ecg-caliper-keys")
    assert keys.is_visible() and "Enter or Space" in keys.inner_text()
    assert page.locator("#ecg-calipers").get_attribute("aria-describedby") == "ecg-caliper-keys"

    def tab_to(element_id: str) -> None:
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    page.focus("#ecg-calipers")
    page.keyboard.press("Enter")
    assert page.locator("#ecg-calipers").get_attribute("aria-pressed") == "true"
    tab_to("ecg-snap")
    page.keyboard.press("Space")  # snapping off: the ends stay on the paper's boxes
    assert not page.locator("#ecg-snap").is_checked()
    tab_to("ecg-detail")
    ring = page.locator(".ecg-scroll").evaluate("b => getComputedStyle(b).outlineStyle")
    assert ring == "solid"  # the focus shows round the strip's box
    assert detail.get_attribute("role") == "application"

    # The first end starts on the first large box of the rhythm strip (0.2 s): 5 large and 2
    # small boxes on is 1.28 s; 4 large and 5 small boxes further is 1000 ms, 60 bpm.
    rhythm = "y4"
    for key, times in (("Shift+ArrowRight", 5), ("ArrowRight", 2)):
        for _ in range(times):
            page.keyboard.press(key)
    assert _bracket_ends(page, rhythm) == pytest.approx([1.28])
    page.keyboard.press("Enter")
    for key, times in (("Shift+ArrowRight", 4), ("ArrowRight", 5)):
        for _ in range(times):
            page.keyboard.press(key)
    assert page.locator("#caliper-readout").inner_text() == ""  # not fixed yet
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('caliper-readout').textContent")
    readout = page.locator("#caliper-readout")
    assert readout.get_attribute("aria-live") == "polite"
    found = READOUT.search(readout.inner_text())
    assert found and (found.group(1), found.group(2)) == ("1000", "60"), readout.inner_text()
    assert "lead II" in readout.inner_text()
    m = page.evaluate("window.ecgCaliper()")
    assert m["lead"] == "II" and m["samples"] == 250
    assert (m["t0_s"], m["t1_s"]) == pytest.approx((1.28, 2.28))
    # Drawn as a pointer's: an end line each on the rhythm strip, the label on the strip.
    assert _bracket_ends(page, rhythm) == pytest.approx([1.28, 2.28])
    labels = page.locator("#ecg-detail .annotation-text").all_text_contents()
    assert any(found.group(0) in label for label in labels)
    page.screenshot(
        path=str(artifacts_dir / f"browser-calipers-keyboard-{_backend(database_url)}.png"),
        full_page=True,
    )

    # Enter again moves the other end: one small box to the left is 1040 ms, 58 bpm.
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "() => document.getElementById('caliper-readout').textContent.includes('1040 ms')"
    )
    assert "58 bpm" in readout.inner_text()
    assert _bracket_ends(page, rhythm) == pytest.approx([1.24, 2.28])

    # Escape clears; a pointer's drag still measures (the ends snapping to two R peaks).
    page.keyboard.press("Escape")
    assert readout.inner_text() == "" and page.evaluate("window.ecgCaliper()") is None
    page.check("#ecg-snap")
    r_peaks_s = onsets / FS_HZ + R_AFTER_ONSET_S
    first, second = r_peaks_s[2], r_peaks_s[3]
    m = _drag(
        page,
        _client_point(page, first + 0.015, rhythm, 0.6),
        _client_point(page, second - 0.02, rhythm, 0.4),
    )
    assert m["lead"] == "II" and abs(m["dt_ms"] - TRUE_RR_MS) <= 1000 / FS_HZ
    assert _bracket_ends(page, rhythm) == pytest.approx([m["t0_s"], m["t1_s"]])
    # Calipers off: the strip is a figure again, out of the Tab order.
    page.click("#ecg-calipers")
    assert detail.get_attribute("tabindex") is None and detail.get_attribute("role") == "figure"
