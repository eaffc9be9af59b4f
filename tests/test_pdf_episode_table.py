"""The clinician report's episode table lists the most significant episodes, as the review page
picks them (`ml.rhythm.overview`), on one clock, and counts the rest per rhythm. It had listed
the first 15 in time (MIT-BIH 208: mostly sinus rhythm and sinus tachycardia) and left the SVT
at 1183 s under "33 more episodes in the portal" (a clinician-eye audit)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ml import rhythm
from portal.models import EcgReport
from portal.services.documents import report_data
from reports.render import render_pdf
from tests.conftest import People
from tests.support.pdf_text import pdf_words
from tests.test_pdf_render_race import signed  # noqa: F401 (fixture)

SINUS = [
    rhythm.Episode(rhythm.TACHY if i % 2 else rhythm.SINUS, 60.0 * i, 60.0 * i + 59.0, 70)
    for i in range(25)
]
SVT = rhythm.Episode(rhythm.SVT, 1183.2, 1186.0, 9)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_svt_of_a_holter_is_listed_and_the_rest_counted(
    app: Flask,
    people: People,
    sql: Session,
    signed: EcgReport,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    data = report_data(sql, signed, signed.versions[-1], app.config["SETTINGS"])
    holter = dataclasses.replace(data, episodes=sorted([*SINUS, SVT], key=lambda e: e.start_s),
                                 duration_s=1800.0)  # fmt: skip
    listed, more = holter.listed_episodes
    assert SVT in [e for e, _ in listed] and len(listed) == 15
    assert [start for e, start in listed if e == SVT] == ["0:19:43"]
    assert sum(more.values()) == 26 - 15
    text = pdf_words(render_pdf("clinician", holter), tmp_path, "holter")
    assert "Supraventricular tachycardia 0:19:43 2.8 s 9" in text
    assert "the most significant are listed; all are in the portal" in text
