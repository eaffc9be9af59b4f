"""The doctor's review page for a keyboard, a screen reader and Windows high contrast, in a
real headless Chromium (an accessibility audit of the doctor's pages)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests import test_browser
from tests.conftest import People
from tests.test_browser_review_tools import _analysed_report, _open_review

# The live server and the Chromium page of tests/test_browser.py, shared as fixtures.
live_url = test_browser.live_url
page = test_browser.page

pytestmark = pytest.mark.browser

LEADS = ("I", "II", "III")


def test_enter_in_the_statement_picker_adds_only_what_the_text_names_and_says_so(
    app: Flask,
    page,
    people: People,
    sql: Session,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    report_id, _, _ = _analysed_report(app, people, sql, tmp_path, LEADS)
    _open_review(page, app, report_id)
    said = page.locator(".statement-announcement")
    expect(said).to_have_attribute("aria-live", "polite")
    chips = ".statement-chip"
    before = page.locator(chips).evaluate_all("cs => cs.map(c => c.dataset.code)")
    # Three statements match: Enter adds none of them (it had added "Complete heart block").
    page.fill(".statement-search", "av block")
    expect(said).to_have_text('3 statements match "av block": Tab to them, or type more.')
    page.press(".statement-search", "Enter")
    assert page.locator(chips).evaluate_all("cs => cs.map(c => c.dataset.code)") == before
    expect(said).to_have_text('3 statements match "av block": Tab to them, or type more.')
    # A code typed in full names one statement: Enter adds it, and says so.
    page.fill(".statement-search", "AV_BLOCK_1")
    page.press(".statement-search", "Enter")
    expect(said).to_have_text("Added: First-degree AV block.")
    expect(page.locator(f"{chips}[data-code=AV_BLOCK_1]")).to_have_count(1)
    page.click(f"{chips}[data-code=AV_BLOCK_1] button")
    expect(said).to_have_text("Removed: First-degree AV block.")


# What forced colours leave of a control's look: Windows high contrast replaces colours and
# backgrounds with the system's, so a state shown by background alone is lost.
FORCED_LOOK = """el => {
  const s = getComputedStyle(el), mark = getComputedStyle(el, "::before").content;
  return [s.color, s.backgroundColor, s.outlineStyle, s.outlineWidth, s.borderWidth, mark];
}"""


def test_forced_colours_keep_chosen_statements_the_pressed_calipers_and_the_legend_visible(
    app: Flask,
    page,
    people: People,
    sql: Session,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    report_id, _, _ = _analysed_report(app, people, sql, tmp_path, LEADS)
    _open_review(page, app, report_id)
    page.emulate_media(forced_colors="active")
    assert page.evaluate("matchMedia('(forced-colors: active)').matches")
    chosen = page.locator(".statement-option[aria-pressed=true]").first
    other = page.locator(".statement-option[aria-pressed=false]").first
    assert chosen.evaluate(FORCED_LOOK) != other.evaluate(FORCED_LOOK)
    calipers = page.locator("#ecg-calipers")
    off = calipers.evaluate(FORCED_LOOK)
    calipers.click()
    assert calipers.get_attribute("aria-pressed") == "true"
    assert calipers.evaluate(FORCED_LOOK) != off
    # Each legend swatch keeps its own colour, none the page's background.
    page_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    swatches = page.locator(".legend .beat-mark").evaluate_all(
        "ds => ds.map(d => getComputedStyle(d).color)"
    )
    assert len(swatches) == 5 and len(set(swatches)) == 5, swatches
    assert page_background not in swatches
