"""The rhythm line a doctor signs holds 200 characters (`portal.models.RHYTHM_LABEL_CHARS`):
the machine's headline runs to 95 ("Complete AV block, escape rhythm (AV dissociation) with
ventricular flutter/fibrillation (10 s)") and 80 cut it mid-word; a longer line is refused in
words, nothing signed, never cut silently."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from ml import rhythm
from portal.models import RHYTHM_LABEL_CHARS, EcgReport, ReportStatus
from tests.conftest import PASSWORD, People, client_for, post_form
from tests.test_security_inputs import _flashes_or_list
from tests.test_upload_and_review import _analysed_report

HEADLINE = rhythm.headline(
    [
        rhythm.Episode(rhythm.COMPLETE_BLOCK, 0.0, 118.0, 80),
        rhythm.Episode(rhythm.VF, 50.0, 60.0, 0),
    ],
    rhythm.VF,
)


def _sign(app: Flask, people: People, report: EcgReport, line: str):  # type: ignore[no-untyped-def]
    doctor = client_for(app, people.doctor)
    page = f"/reports/{report.id}"
    form = {"rhythm_label": line, "findings": ["AV_BLOCK_3", "VF"], "conclusion": "See strip.",
            "password": PASSWORD, "row_version": str(report.row_version)}  # fmt: skip
    return post_form(doctor, f"{page}/sign", form, token_page=page)


def test_a_rhythm_line_over_80_characters_is_signed_whole(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    assert 80 < len(HEADLINE) <= RHYTHM_LABEL_CHARS
    report = _analysed_report(app, people, sql, tmp_path)
    assert _sign(app, people, report, HEADLINE).status_code == 302
    sql.expire_all()
    assert report.status is ReportStatus.FINAL
    assert report.versions[-1].rhythm_label == HEADLINE


def test_a_longer_rhythm_line_is_refused_in_words_and_nothing_is_signed(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _analysed_report(app, people, sql, tmp_path)
    line = HEADLINE + "; " + "x" * RHYTHM_LABEL_CHARS
    refused = _sign(app, people, report, line)
    assert refused.status_code == 400
    said = " ".join(_flashes_or_list(refused.get_data(as_text=True)))
    assert "The rhythm line holds at most 200 characters: put the rest in the conclusion." in said
    sql.expire_all()
    assert report.status is ReportStatus.PRELIMINARY and len(report.versions) == 1
