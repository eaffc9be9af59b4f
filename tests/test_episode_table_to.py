"""The episode table's "To" covers the episode: an episode's end rounds up to the whole second
on the h:mm:ss clock, its start stays as every note says it. Whole MIT-BIH 201 read "Dropped
beat 0:25:46 -> 0:25:47" beside "2.0 s" for 1546.04-1547.99 s (`ml.gaps.clock` cuts to the
second; a words audit)."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from ml import rhythm
from portal.models import ReportVersion
from portal.services.documents import report_data
from tests.conftest import People, client_for
from tests.test_upload_and_review import _analysed_report

DROPPED = {"label": rhythm.DROPPED, "start_s": 1546.04, "end_s": 1547.99, "n_beats": 2,
           "duration_s": 1.95}  # fmt: skip


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_episodes_to_covers_it_on_the_page_and_its_from_stays(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    machine = report.versions[0]
    stored = {**machine.analysis, "episodes": [DROPPED], "duration_s": 1800.0}
    rows = ReportVersion.__table__  # the read of a Holter (versions are immutable)
    sql.execute(update(rows).where(rows.c.id == machine.id).values(analysis=stored))
    sql.commit()
    sql.expire_all()
    doctor = client_for(app, people.doctor)
    page = html.unescape(doctor.get(f"/reports/{report.id}").get_data(as_text=True))
    table = page[page.index('id="episodes"') : page.index("</table>", page.index('id="episodes"'))]
    row = re.search(r">(\d:\d\d:\d\d)</button></td><td>([^<]*)</td><td>([^<]*)</td>", table)
    assert row is not None, table
    assert row.groups() == ("0:25:46", "0:25:48", "2.0 s")

    # The clinician PDF's table gives the start and the duration, as the page does.
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"])
    dropped = rhythm.Episode(rhythm.DROPPED, 1546.04, 1547.99, 2)
    holter = dataclasses.replace(data, episodes=[dropped], duration_s=1800.0)
    listed, _ = holter.listed_episodes
    assert [start for _, start in listed] == ["0:25:46"]
