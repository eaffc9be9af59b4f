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
