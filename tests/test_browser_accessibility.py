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


def test_the_chosen_statements_are_one_tab_stop_with_arrows_between_them(
    app: Flask,
    page,
    people: People,
    sql: Session,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """An accessibility audit: a keyboard tabbed through every chosen statement's ×, one Tab
    stop each. The chosen statements are one Tab stop; the arrows, Home and End move between
    them, and Delete removes the one focused, said as its × says it."""
    from playwright.sync_api import expect

    report_id, _, _ = _analysed_report(app, people, sql, tmp_path, LEADS)
    _open_review(page, app, report_id)
    search = page.locator("#sign .statement-search")
    for code in ("AV_BLOCK_1", "LONG_QT", "T_INVERSION"):
        search.fill(code)
        search.press("Enter")
    chips = page.locator("#sign .statement-chip")
    codes = chips.evaluate_all("cs => cs.map(c => c.dataset.code)")
    assert len(codes) >= 4, codes
    focused = "document.activeElement.closest('.statement-chip')?.dataset.code ?? null"
    stops = "#sign .statement-chip button[tabindex='0']"

    # From the search field back one Tab: the first chosen statement; back once more: out.
    search.focus()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused) == codes[0]
    assert page.locator(stops).count() == 1
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused) is None
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == codes[0]
    page.keyboard.press("ArrowRight")
    assert page.evaluate(focused) == codes[1]
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # stays on the first
    assert page.evaluate(focused) == codes[0]
    page.keyboard.press("End")
    assert page.evaluate(focused) == codes[-1]
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    # The Tab stop stays where the keyboard left it: one Tab on is the search field.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('statement-search')")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused) == codes[1]

    # Delete removes the one focused, says so, and the focus stays among the chips.
    name = chips.nth(1).inner_text().removesuffix("×").strip()
    page.keyboard.press("Delete")
    expect(page.locator("#sign .statement-announcement")).to_have_text(f"Removed: {name}.")
    assert chips.evaluate_all("cs => cs.map(c => c.dataset.code)") == [codes[0], *codes[2:]]
    assert page.evaluate(focused) == codes[2]
    page.keyboard.press("Backspace")
    assert chips.evaluate_all("cs => cs.map(c => c.dataset.code)") == [codes[0], *codes[3:]]
    assert page.locator(stops).count() == 1
