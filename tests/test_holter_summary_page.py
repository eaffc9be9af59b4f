"""The Holter summary on the review page and the clinician's PDF, for a recording of ten
minutes or more, and not for a strip (`ml.holter_summary`, a Holter audit)."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ml import rhythm
from portal.services.documents import report_data
from reports.data import NOT_SIGNED
from reports.render import html_for
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
    assert '<h3>Holter summary <span class="muted">(the machine\'s count)</span></h3>' in page
    assert f"0.2 h, {beats:,} beats. Pauses over 2 s: 0." in " ".join(page.split())
    assert "Atrial fibrillation/flutter: 0.0 min (0.0 % of the recording)" in page
    assert "Ventricular (V)" in page and "3 or more in a row (any rate)" in page
    words = " ".join(clinician.split())
    assert "Holter summary (the machine's count)" in words and f"{beats:,} beats" in words
    assert "Rhythm episodes" in words and "Signal quality" in words  # not cut off page 1
    assert "(0.0 % of the recording)." in words  # no AF: nothing withdrawn to say


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_strip_has_none(app: Flask, people: People, sql: Session, tmp_path: Path) -> None:
    report = _read_by_the_portal(app, people, sql, tmp_path / "strip.csv", synthetic(30, 250))
    page = html.unescape(client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(
        as_text=True))  # fmt: skip
    assert "Holter summary" not in page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_af_time_the_signed_read_withdrew_says_so(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An amendment "No atrial fibrillation" printed "AF 13.2 min (44 %)" unqualified beside a
    strip marked the machine's call (a records audit)."""
    report = _read_by_the_portal(app, people, sql, tmp_path / "long.csv", synthetic(620, 250))
    signed_as_prefilled(app, people, sql, report, tmp_path, "Sinus.")
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"])
    assert data.holter is not None
    with_af = dataclasses.replace(data.holter, af_minutes=13.2, af_percent=44.0)
    withdrawn = dataclasses.replace(data, holter=with_af, withdrawn_episodes=frozenset({rhythm.AF}))
    page = " ".join(html.unescape(html_for("clinician", withdrawn)).split())
    assert f"13.2 min (44.0 % of the recording) ({NOT_SIGNED})" in page
    kept = " ".join(html.unescape(html_for("clinician", dataclasses.replace(withdrawn,
                    withdrawn_episodes=frozenset()))).split())  # fmt: skip
    assert "13.2 min (44.0 % of the recording)." in kept
