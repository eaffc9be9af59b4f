"""The Holter summary on the review page and the clinician's PDF, for a recording of ten
minutes or more, and not for a strip (`ml.holter_summary`, a Holter audit)."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.conftest import People, client_for
from tests.support.ecg_files import synthetic
from tests.test_sinus_rate_statement import _read_by_the_portal, signed_as_prefilled


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_holter_has_its_summary_on_the_page_and_the_pdf(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _read_by_the_portal(app, people, sql, tmp_path / "long.csv", synthetic(620, 250))
    holter = report.versions[0].analysis["holter_summary"]
    beats = holter["total_beats"]
    page, _, clinician, _ = signed_as_prefilled(app, people, sql, report, tmp_path, "Sinus.")
    assert "<h3>Holter summary</h3>" in page
    assert f"0.2 h, {beats:,} beats. Pauses over 2 s: 0." in " ".join(page.split())
    assert "Atrial fibrillation/flutter: 0.0 min (0.0 % of the recording)" in page
    assert "Ventricular (V)" in page and "Runs of 3 or more" in page
    words = " ".join(clinician.split())
    assert "Holter summary" in words and f"{beats:,} beats" in words


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_strip_has_none(app: Flask, people: People, sql: Session, tmp_path: Path) -> None:
    report = _read_by_the_portal(app, people, sql, tmp_path / "strip.csv", synthetic(30, 250))
    page = html.unescape(client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(
        as_text=True))  # fmt: skip
    assert "Holter summary" not in page
