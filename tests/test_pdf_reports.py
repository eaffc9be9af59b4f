"""PDFs read back: text (pdftotext), pages (pdfinfo), the paper grid's true size (pdftoppm at a
known resolution), hostile patient fields, storage by version, the patient portal."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from flask import Flask
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import AuditEvent, EcgReport, ReportDocument, utcnow
from portal.services.documents import report_data
from portal.worker import Worker
from reports.data import Score
from reports.plain_language import patient_risk
from reports.readability import grade_level
from reports.render import RenderError, pdf_bytes, render_pdf, safe_fetcher
from tests.conftest import PASSWORD, People, client_for, post_form
from tests.support.ecg_files import synthetic, write_csv

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")


def _text(pdf: bytes, tmp_path: Path, name: str = "doc") -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip


def _pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(
        next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages"))
    )


def _pngs(pdf: bytes, out_dir: Path, stem: str, dpi: int = 80) -> list[Path]:
    path = out_dir / f"{stem}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path), str(out_dir / stem)], check=True)
    return sorted(out_dir.glob(f"{stem}-*.png"))


def _read_by_the_machine(app: Flask, people: People, sql: Session, tmp_path: Path) -> EcgReport:
    """A 30-s synthetic ECG uploaded by staff for the patient and read, not yet signed."""
    staff = client_for(app, people.staff)
    path = write_csv(tmp_path / "ecg.csv", synthetic(30, 250))
    post_form(staff, f"/patients/{people.patient.id}/recordings/new",
              {"files": [(io.BytesIO(path.read_bytes()), "ecg.csv")]},
              token_page=f"/patients/{people.patient.id}/recordings/new",
              content_type="multipart/form-data")  # fmt: skip
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    assert report is not None
    return report


def _signed(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    *,
    name: str | None = None,
    findings: tuple[str, ...] = ("SINUS", "PAC"),
) -> EcgReport:
    if name is not None:
        people.patient.full_name = name
        sql.commit()
    report = _read_by_the_machine(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    signed = post_form(doctor, f"/reports/{report.id}/sign",
                       {"rhythm_label": "Sinus rhythm", "findings": list(findings),
                        "conclusion": "Sinus rhythm with rare early beats.",
                        "patient_comment": "Your heart looks healthy. See me in a year.",
                        "next_steps": ["ROUTINE", "ECHO"],
                        "next_steps_note": "Walk for half an hour each day.",
                        "password": PASSWORD, "row_version": str(report.row_version)},
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302
    sql.expire_all()
    return report


def test_signing_produces_both_pdfs_which_read_back_correctly(
    app: Flask, people: People, sql: Session, tmp_path: Path, artifacts_dir: Path
) -> None:
    report = _signed(app, people, sql, tmp_path)
    # Signing returns at once; the job worker renders both PDFs of the new version.
    assert sql.scalars(select(ReportDocument)).all() == []
    Worker(app).run_pending()
    sql.expire_all()
    documents = sql.scalars(select(ReportDocument)).all()
    assert sorted(d.kind.value for d in documents) == ["clinician", "patient"]
    assert all(d.report_version_id == report.versions[1].id for d in documents)

    doctor = client_for(app, people.doctor)
    clinician = doctor.get(f"/reports/{report.id}/report.pdf")
    assert clinician.status_code == 200 and clinician.mimetype == "application/pdf"
    text = _text(clinician.data, tmp_path, "clinician")
    machine = report.versions[0]
    for expected in (people.patient.full_name, people.patient.mrn, "1960-12-10",
                     f"{machine.heart_rate_bpm:.0f} bpm", f"{machine.qrs_ms:.0f} ms",
                     "Sinus rhythm with rare early beats.", "Signed by Doctor1",
                     f"ECG report {report.id}", "version 2", "Page 1 of", "Machine read",
                     "Framingham", "GRACE", "not computed",
                     "Rhythm strip, lead II", "for research use"):  # fmt: skip
        assert expected in text, expected
    assert "{{" not in text and "{%" not in text and "None" not in text
    # Inputs in words with units, never code names or Python values.
    assert "mg dl" not in text and "True" not in text and "False" not in text
    assert _pages(clinician.data, tmp_path) >= 3
    for png in _pngs(clinician.data, artifacts_dir, f"clinician-{report.id}"):
        assert png.stat().st_size > 10_000

    summary = client_for(app, people.patient_account).get(f"/my/reports/{report.id}/summary.pdf")
    assert summary.status_code == 200
    plain = _text(summary.data, tmp_path, "summary")
    assert "Your heart test results" in plain and "Doctor1 checked and signed" in plain
    assert "Some extra beats came from the top parts of your heart" in plain
    # Signed results: no "for research use" beside "your doctor checked and signed" (an audit).
    said = " ".join(plain.split())
    assert "research use" not in said and "checked and signed by your" in said
    # Dates as people write them: "6 December 2026", not "06 December 2026" (an audit).
    tested = re.search(r"Test (?:done|received) on (\d+) [A-Z][a-z]+ \d{4}", said)
    assert tested and not tested.group(1).startswith("0"), said[:300]
    assert "questions to ask your doctor" in plain.lower()
    # The doctor's note for the patient, never the clinical conclusion.
    assert "See me in a year." in plain and "rare early beats" not in plain
    # The doctor's next steps, in order, and no generic step beside them.
    steps = " ".join(plain.split("What to do next", 1)[1].split())
    assert steps.index("next usual visit") < steps.index("ultrasound scan of your heart")
    assert "Walk for half an hour each day." in steps
    # ... and after them what always holds: keep taking the medicines, bring this page.
    assert steps.index("Walk for half") < steps.index("Keep taking your medicines as usual")
    # One risk figure, with a plain title (not two Framingham variants).
    flat = " ".join(plain.split())  # no inputs recorded: no risk figure, and it says why
    assert "We did not have all the values we need to work out your risk number" in flat
    assert "Framingham" not in flat and "GRACE" not in flat
    assert "Next steps: Discuss at the next routine visit; Echocardiogram; Walk" in " ".join(
        text.split()
    )
    body = plain.split("Your heart test results", 1)[1]
    body = "\n".join(line for line in body.splitlines() if "ECG report" not in line)
    assert grade_level(body) <= 8.0, grade_level(body)
    _pngs(summary.data, artifacts_dir, f"patient-summary-{report.id}")


def test_the_paper_grid_measures_true_millimetres(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _signed(app, people, sql, tmp_path)
    pdf = client_for(app, people.doctor).get(f"/reports/{report.id}/report.pdf").data
    dpi = 254  # 10 pixels per millimetre
    pages = _pngs(pdf, tmp_path, "grid", dpi=dpi)
    strip_page = next(p for p in pages if _has_grid(Image.open(p)))
    pixels = np.asarray(Image.open(strip_page).convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    major = (r > 200) & (g < 170) & (b < 170)  # the 5 mm lines (#e48a8a)
    row = int(np.argmax(major.sum(axis=1)))  # a horizontal major line runs along this row
    columns = np.flatnonzero(major[row + 20])  # 2 mm lower: only the vertical lines
    starts = columns[np.flatnonzero(np.diff(columns, prepend=-10) > 3)]
    spacing_px = np.median(np.diff(starts))
    assert spacing_px == pytest.approx(50, abs=1)  # 5 mm at 10 px/mm


def _has_grid(image: Image.Image) -> bool:
    pixels = np.asarray(image.convert("RGB")).astype(int)
    return bool(
        ((pixels[..., 0] > 200) & (pixels[..., 1] < 170) & (pixels[..., 2] < 170)).sum() > 10_000
    )


def test_hostile_patient_fields_render_as_text_and_fetch_nothing(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    hostile = '<img src="file:///etc/passwd"><style>*{display:none}</style>Eve'
    report = _signed(app, people, sql, tmp_path, name=hostile)
    pdf = client_for(app, people.doctor).get(f"/reports/{report.id}/report.pdf").data
    text = _text(pdf, tmp_path, "hostile")
    assert '<img src="file:///etc/passwd">' in text.replace("\n", "")
    assert "root:x:0:0" not in text

    fetcher = safe_fetcher()  # and if a template ever let markup through, nothing is fetched:
    raw = pdf_bytes('<p>x</p><img src="file:///etc/passwd"><img src="http://example.org/a.png">',
                    fetcher)  # fmt: skip
    assert fetcher.refused == ["file:///etc/passwd", "http://example.org/a.png"]
    assert "root:x" not in _text(raw, tmp_path, "raw")


@pytest.mark.parametrize(
    ("name", "font"),
    [("王小明", "Droid-Sans-Fallback"), ("ஸ்ரீனிவாசன் Kumar", "Noto-Sans-Tamil"),
     ("राजेश शर्मा", "Noto-Sans-Devanagari")],
)  # fmt: skip
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_names_in_every_script_are_printed_not_boxes(
    app: Flask, people: People, sql: Session, tmp_path: Path, name: str, font: str
) -> None:
    """Chinese and Tamil names printed as empty boxes on both PDFs (DejaVu, the only font
    installed, has no such glyphs; an audit of names and languages): the system packages now
    bring fonts that do, which the PDF uses for them."""
    report = _signed(app, people, sql, tmp_path, name=name)
    documents = [(people.doctor, f"/reports/{report.id}/report.pdf"),
                 (people.patient_account, f"/my/reports/{report.id}/summary.pdf")]  # fmt: skip
    for reader, url in documents:
        pdf = client_for(app, reader).get(url).data
        assert name.split()[0] in _text(pdf, tmp_path, "named")
        (tmp_path / "named.pdf").write_bytes(pdf)
        fonts = subprocess.run(["pdffonts", str(tmp_path / "named.pdf")], capture_output=True,
                               text=True, check=True).stdout  # fmt: skip
        assert font in fonts, fonts


def test_documents_are_rendered_once_per_version(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _signed(app, people, sql, tmp_path)
    Worker(app).run_pending()
    doctor = client_for(app, people.doctor)
    first = doctor.get(f"/reports/{report.id}/report.pdf").data
    again = doctor.get(f"/reports/{report.id}/report.pdf").data
    assert first == again and sql.scalar(select(func.count(ReportDocument.id))) == 2
    amended = post_form(doctor, f"/reports/{report.id}/amend",
                        {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
                         "conclusion": "Amended text.", "reason": "A typo.", "password": PASSWORD,
                         "row_version": str(report.row_version)},
                        token_page=f"/reports/{report.id}")  # fmt: skip
    assert amended.status_code == 302
    newest = doctor.get(f"/reports/{report.id}/report.pdf").data  # not rendered yet: now
    assert newest != first and "Amended text." in _text(newest, tmp_path)
    assert "Reason: A typo." in _text(newest, tmp_path)
    Worker(app).run_pending()  # the patient summary of the amendment
    assert sql.scalar(select(func.count(ReportDocument.id))) == 4
    downloads = sql.scalar(select(func.count()).where(AuditEvent.action == "report.download"))
    assert downloads == 3
    # The patient's summary of the amendment says it replaces the earlier one (only its
    # footer's version number had told them apart; an audit).
    summary = client_for(app, people.patient_account).get(f"/my/reports/{report.id}/summary.pdf")
    said = " ".join(_text(summary.data, tmp_path, "summary").split())
    assert "Your doctor updated this report on" in said
    assert "This page replaces any earlier one you may have." in said
    # ... and what changed: the early beats signed in version 2 are no longer said.
    assert "It no longer says: Some extra beats came from the top parts of your heart." in said
    assert "It now says" not in said
    assert "Your doctor updated" not in " ".join(_text(first, tmp_path, "first").split())
    # An earlier version rendered again (its stored file lost) says it was superseded: it had
    # carried the report's current status, "amended", for the signature of version 2.
    sql.expire_all()
    settings = app.config["SETTINGS"]
    statuses = [report_data(sql, report, v, settings, with_strips=False).status
                for v in report.versions]  # fmt: skip
    assert statuses == [
        "preliminary, superseded by version 3",
        "final, superseded by version 3",
        "amended",
    ]

    # A stored PDF lost from disk is issued again, saying so at its top, audited with both
    # hashes, and its row names the new file; an altered one likewise, never served as it
    # stands (an ops audit: re-rendered silently, the first issue's hash overwritten).
    stored = app.config["SETTINGS"].storage_dir
    for damage in ("missing", "altered or damaged"):
        sql.expire_all()
        latest = max(sql.scalars(select(ReportDocument)).all(), key=lambda d: d.id)
        first_sha = latest.sha256
        file = next(p for p in stored.rglob(f"{first_sha}*"))
        if damage == "missing":
            file.unlink()
        else:
            file.write_bytes(file.read_bytes() + b"%% altered\n")  # still a readable PDF
        url = "report.pdf" if latest.kind.value == "clinician" else "summary.pdf"
        base = f"/reports/{report.id}/" if url == "report.pdf" else f"/my/reports/{report.id}/"
        who = doctor if url == "report.pdf" else client_for(app, people.patient_account)
        served = who.get(base + url)
        assert served.status_code == 200
        said = " ".join(_text(served.data, tmp_path, "reissued").split())
        if url == "report.pdf":
            assert f"(SHA-256 {first_sha[:16]}...) was {damage} in the portal's storage" in said
        else:  # the patient's words: no hash (a review)
            assert "This copy was printed again on" in said and "SHA-256" not in said
        sql.expire_all()
        renewed = sql.get(ReportDocument, latest.id)
        # whole again (a patient's copy may be the same bytes as its last issue)
        file = next(stored.rglob(f"{renewed.sha256}*"))
        assert hashlib.sha256(file.read_bytes()).hexdigest() == renewed.sha256
        event = sql.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.reissued")
            .order_by(AuditEvent.id.desc())
        ).first()  # fmt: skip
        assert event is not None and event.details["was_sha256"] == first_sha
        assert event.details["sha256"] == renewed.sha256 and event.details["reason"] == damage
    # The patient's list says the portal did it, and why (it had read "hospital staff | looked
    # at or changed your record"; an access audit).
    patient = client_for(app, people.patient_account)
    access = html.unescape(patient.get("/my/access").get_data(as_text=True))
    for damage in ("missing", "altered or damaged"):
        reissued = f"made an ECG report's PDF again (the stored copy was {damage})"
        assert f"<td>the portal</td><td>{reissued}<br>" in access  # then the test's date


def test_patient_portal_only_own_signed_reports(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _signed(app, people, sql, tmp_path)
    patient = client_for(app, people.patient_account)
    listing = patient.get("/my/reports").get_data(as_text=True)
    # The headline is the most serious signed statement: the early beats, not the sinus rhythm.
    assert "Summary (PDF)" in listing and "Some extra beats came from the top parts" in listing
    assert "Full report (PDF)" not in listing
    assert patient.get(f"/my/reports/{report.id}/report.pdf").status_code == 404  # not allowed here
    assert patient.get(f"/my/reports/{report.id + 1}/summary.pdf").status_code == 404
    assert patient.get(f"/reports/{report.id}/report.pdf").status_code == 403
    access = html.unescape(patient.get("/my/access").get_data(as_text=True))
    # In words, with names (it had shown "doctor1" and "report sign"; an audit).
    assert "Doctor1 (doctor)" in access and "checked and signed an ECG report" in access
    assert "the computer read an ECG" in access and "report sign" not in access
    assert "Ask the clinic for the full list" not in access  # all of it is shown
    from portal import access_words
    from portal.models import AuditEvent as Event

    exchange = Event(action="fhir.report.read", actor_username="ehr", actor_role="staff",
                     details={"client": "EHR", "token_id": 3})  # fmt: skip
    assert access_words.what(exchange) == "read an ECG report"  # not "read or updated"
    assert access_words.who(exchange, {}) == '"EHR", a system acting for hospital staff'
    assert access_words.who(Event(action="report.create", actor_username="analysis worker"),
                            {}) == access_words.SYSTEM_ACTOR  # fmt: skip
    # The patient's own app reads through the API: that is not "another hospital system"
    # (it read "you: another hospital system ... read or updated your record"; an audit).
    own = Event(action="api.report.read", actor_username=people.patient_account.username,
                actor_role="patient")  # fmt: skip
    assert access_words.what(own) == access_words.OWN_APP
    changed = Event(action="patient.update", details={"fields": ["full_name", "date_of_birth"]})
    assert access_words.what(changed) == "changed your details: name, date of birth"

    app.config["SETTINGS"].patients_get_clinician_pdf = True
    assert patient.get(f"/my/reports/{report.id}/report.pdf").status_code == 200
    # Staff use the clinician route, not the patient portal.
    stranger = client_for(app, people.staff)
    assert stranger.get(f"/my/reports/{report.id}/summary.pdf").status_code == 403


def test_the_list_says_received_on_of_a_file_without_a_clock_as_its_summary_does(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient's side: a CSV (no clock) was listed under "Date of the test" at
    its upload time, and its summary said "Test received on" the same day; a Holter uploaded
    days later read as tested on the upload day."""
    from portal.services.reports import latest_signed
    from reports.render import html_for

    report = _signed(app, people, sql, tmp_path)
    patient = client_for(app, people.patient_account)

    def listed() -> str:
        page = html.unescape(patient.get("/my/reports").get_data(as_text=True))
        return " ".join(page[page.index('id="my-reports"') :].split())

    def summary() -> str:
        version = latest_signed(report)
        assert version is not None
        with app.app_context():
            data = report_data(sql, report, version, app.config["SETTINGS"], with_strips=False)
            return " ".join(html.unescape(html_for("patient", data)).split())

    day = f"{report.report_date:%-d %B %Y}"  # the tests' hospital time is UTC
    assert f"Test received on {day}, {report.report_date:%H:%M}" in listed()
    assert "Date of the test" not in listed() and "Test done on" not in listed()
    assert f"Test received on {day}." in summary()
    # A file with its own clock: "done on", on both.
    recorded = dt.datetime(2026, 11, 30, 8, 15)
    report.recording.acquired_at = report.report_date = recorded
    sql.commit()
    assert "Test done on 30 November 2026, 08:15" in listed() and "received" not in listed()
    assert "Test done on 30 November 2026." in summary()


def test_each_download_link_names_its_test_to_a_screen_reader(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An accessibility audit (WCAG 2.4.4): a screen reader tabbing "My reports" with seven
    reports heard "Summary (PDF)" seven times. Each link's text now goes on, for it alone,
    with the test's date and kind; what is seen still starts its name."""
    report = _signed(app, people, sql, tmp_path)
    app.config["SETTINGS"].patients_get_clinician_pdf = True
    page = client_for(app, people.patient_account).get("/my/reports").get_data(as_text=True)
    links = re.findall(r'<a class="button[^"]*" href="/my/reports/\d+/[a-z]+\.pdf">(.*?)</a>', page)
    names = [" ".join(html.unescape(re.sub(r"<[^>]+>", "", link)).split()) for link in links]
    when = f"{report.report_date:%-d %B %Y, %H:%M}"  # the tests' hospital time is UTC
    assert names == [
        f"Summary (PDF), report number {report.id}, test received on {when}, Heart test (ECG), "
        "30 seconds",
        f"Full report (PDF), report number {report.id}, test received on {when}, Heart test "
        "(ECG), 30 seconds",
    ]
    assert all('<span class="sr-only">' in link for link in links)


def test_cli_render_report_and_time_limit(
    app: Flask, people: People, sql: Session, tmp_path: Path, database_url: str
) -> None:
    from portal.cli import main
    from portal.services.documents import report_data

    report = _signed(app, people, sql, tmp_path)
    out = tmp_path / "cli.pdf"
    env = {"DATABASE_URL": database_url, "STORAGE_DIR": str(app.config["SETTINGS"].storage_dir),
           "INSTANCE_DIR": str(tmp_path), "JOB_WORKER": "none", "CARDIO_ENV": "test"}  # fmt: skip
    result = CliRunner().invoke(main, ["render-report", str(report.id), "--kind", "patient",
                                       "--out", str(out)], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Your heart test results" in _text(out.read_bytes(), tmp_path)
    # A PDF written to a file is a download: audited as one (it left no row: an ops audit).
    sql.expire_all()
    row = sql.scalars(select(AuditEvent).where(AuditEvent.action == "report.download")).one()
    assert row.actor_username.startswith("cli:") and row.patient_id == report.patient_id
    assert row.details["via"] == "cardio render-report"
    nowhere = CliRunner().invoke(main, ["render-report", str(report.id), "--out",
                                        str(tmp_path / "no" / "x.pdf")], env=env)  # fmt: skip
    assert nowhere.exit_code == 2 and "does not exist" in nowhere.output
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"])
    with pytest.raises(RenderError, match="longer than"):
        render_pdf("clinician", data, time_limit_s=0.01)
    with pytest.raises(RenderError, match="page size"):
        render_pdf("clinician", data, page_size="A3")
    letter = render_pdf("patient", data, page_size="Letter")
    info = subprocess.run(["pdfinfo", "-"], input=letter, capture_output=True, check=True)
    assert b"612 x 792 pts (letter)" in info.stdout


def test_cli_render_report_onto_a_full_disk_leaves_no_file_and_no_download(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An operations audit: `cardio render-report 2 --out /full/x.pdf` printed a 30-line
    traceback ending "No space left on device", left x.pdf cut off at 24,576 of 51,564 bytes
    and had already audited the download. Now: one sentence, exit 1, no file at --out (nor
    its temporary file), no `report.download` row."""
    import errno

    from portal.cli import main

    report = _signed(app, people, sql, tmp_path)
    real_copyfile = shutil.copyfile
    out_dir = tmp_path / "full"
    out_dir.mkdir()
    out = out_dir / "x.pdf"

    def disk_full(source: Path, target: Path) -> Path:
        if Path(target).parent != out_dir:
            return real_copyfile(source, target)
        Path(target).write_bytes(b"%PDF" + b"\0" * 24_572)  # part of it written, then no room
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(shutil, "copyfile", disk_full)
    env = {"DATABASE_URL": database_url, "STORAGE_DIR": str(app.config["SETTINGS"].storage_dir),
           "INSTANCE_DIR": str(tmp_path), "JOB_WORKER": "none", "CARDIO_ENV": "test"}  # fmt: skip
    result = CliRunner().invoke(main, ["render-report", str(report.id), "--out", str(out)], env=env)
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"Error: The report's PDF could not be written to {out} (No space left on device); "
        "nothing was kept."
    ]
    assert list(out_dir.iterdir()) == []
    sql.expire_all()
    assert sql.scalar(select(func.count()).where(AuditEvent.action == "report.download")) == 0


def test_cli_render_report_audits_the_download_only_once_the_file_has_its_name(
    app: Flask,
    people: People,
    sql: Session,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An operations audit: `cardio render-report 2 --out x.pdf` committed its
    `report.download` row while the copy was still under its temporary name, so a rename that
    then failed (permissions changed) left an audit row for a file never delivered. Now the
    row is committed once the file has its name: a failed rename leaves no row (one sentence,
    exit 1), and a commit that fails after the rename takes the file away again."""
    import errno

    from sqlalchemy.exc import OperationalError

    from portal.cli import main

    report = _signed(app, people, sql, tmp_path)
    out = tmp_path / "x.pdf"
    env = {"DATABASE_URL": database_url, "STORAGE_DIR": str(app.config["SETTINGS"].storage_dir),
           "INSTANCE_DIR": str(tmp_path), "JOB_WORKER": "none", "CARDIO_ENV": "test"}  # fmt: skip

    def downloads() -> int:
        sql.expire_all()
        return sql.scalar(select(func.count()).where(AuditEvent.action == "report.download"))

    def refused(self: Path, target: Path) -> Path:
        raise PermissionError(errno.EACCES, "Permission denied", str(target))

    with monkeypatch.context() as patched:
        patched.setattr(Path, "replace", refused)
        result = CliRunner().invoke(main, ["render-report", str(report.id), "--out", str(out)],
                                    env=env)  # fmt: skip
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"Error: The report's PDF could not be written to {out} (Permission denied); "
        "nothing was kept."
    ]
    assert not out.exists() and downloads() == 0

    def database_gone(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("server has gone away"))

    with monkeypatch.context() as patched:
        patched.setattr(Session, "commit", database_gone)
        result = CliRunner().invoke(main, ["render-report", str(report.id), "--out", str(out)],
                                    env=env)  # fmt: skip
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"Error: The download of {out} could not be audited (server has gone away); nothing "
        "was kept."
    ]
    assert not out.exists() and downloads() == 0

    result = CliRunner().invoke(main, ["render-report", str(report.id), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and downloads() == 1
    assert [p.name for p in tmp_path.glob(".x.pdf.*")] == []


def test_cli_writes_no_patient_summary_of_an_unsigned_or_held_report(
    app: Flask, people: People, sql: Session, tmp_path: Path, database_url: str
) -> None:
    """An operations audit: `cardio render-report 3 --kind patient` on a preliminary report
    exited 0 with a PDF saying "Your doctor checked and signed this result." and stored it,
    where the REST API answers 409. The CLI refuses in the API's words (exit 2) and stores
    nothing, as `documents.ensure_document` refuses any path; a summary held from the patient
    for a talk first is not written either. The clinician PDF of the machine read still is."""
    from portal.cli import main
    from portal.models import DocumentKind
    from portal.services import documents
    from portal.services.errors import NotSignedYet

    report = _read_by_the_machine(app, people, sql, tmp_path)
    assert report is not None and report.versions[-1].signed_at is None
    env = {"DATABASE_URL": database_url, "STORAGE_DIR": str(app.config["SETTINGS"].storage_dir),
           "INSTANCE_DIR": str(tmp_path), "JOB_WORKER": "none", "CARDIO_ENV": "test"}  # fmt: skip

    def render(kind: str) -> tuple[int, str]:
        out = tmp_path / f"{kind}.pdf"
        result = CliRunner().invoke(
            main, ["render-report", str(report.id), "--kind", kind, "--out", str(out)], env=env
        )
        return result.exit_code, result.output

    code, said = render("patient")
    assert code == 2 and "The patient summary is made once a doctor has signed the report." in said
    assert not (tmp_path / "patient.pdf").exists()
    sql.expire_all()
    assert sql.scalar(select(func.count(ReportDocument.id))) == 0
    with pytest.raises(NotSignedYet):
        documents.ensure_document(
            sql, report, report.versions[-1], DocumentKind.PATIENT, app.config["SETTINGS"]
        )
    sql.rollback()
    assert render("clinician")[0] == 0

    signed = _signed(app, people, sql, tmp_path)
    signed.patient_release_at = utcnow() + dt.timedelta(hours=72)  # held for a talk first
    sql.commit()
    code, said = render("patient")
    assert code == 2 and f"report {signed.id} is held from the patient until" in said
    signed.patient_release_at = utcnow()
    sql.commit()
    assert render("patient")[0] == 0


def test_the_patient_reads_one_risk_figure_that_fits_their_situation() -> None:
    def score(model: str, percent: float | None) -> Score:
        return Score(model.replace("_", " "), "", percent, None, {}, model=model)

    both_framingham = [score("framingham_general_cvd", 11.2),
                       score("framingham_general_cvd_bmi", 12.9)]  # fmt: skip
    title, words = patient_risk(both_framingham) or ("", "")
    assert title == "Your chance of a heart or blood vessel problem in 10 years"
    assert words.startswith("About 11 of 100 people with the same values")
    from portal.services.risk_scores import _acs_reason

    in_acs = [replace(s, risk_percent=None, not_computed_reason=_acs_reason(["raised enzymes"]))
              for s in both_framingham]  # fmt: skip
    after_acs = [*in_acs, score("grace_in_hospital", 3.0), score("grace_six_month", 8.4)]
    title, words = patient_risk(after_acs) or ("", "")
    # Not a 10-year risk after a heart attack, nor a chance of dying read first at home.
    assert title == "Your outlook" and "Your doctor will talk with you" in words
    assert "100" not in words and "survive" not in words
    # GRACE computed without an acute coronary syndrome recorded: the 10-year figure (an
    # audit had read "the months ahead" beside Framingham > 30 % high, 2026-12-07).
    without_acs = [*both_framingham, score("grace_in_hospital", 3.0)]
    assert (patient_risk(without_acs) or ("", ""))[1].startswith("About 11 of 100 people")
    assert patient_risk([score("framingham_general_cvd", None)]) is None
    # After a recorded heart attack the first-event models are not computed: the patient is
    # told why, not that tests are missing (an audit).
    from portal.services.risk_scores import PRIOR_MI_REASON
    from reports.plain_language import AFTER_A_HEART_ATTACK, AFTER_MI_TITLE

    assert AFTER_A_HEART_ATTACK in PRIOR_MI_REASON
    after_mi = [replace(s, risk_percent=None, not_computed_reason=PRIOR_MI_REASON)
                for s in both_framingham]  # fmt: skip
    title, words = patient_risk(after_mi) or ("", "")
    assert title == AFTER_MI_TITLE and "not had a heart attack" in words and "100" not in words
    # Outside the models' ages (82): why none is given, not "tests are missing" (an audit).
    from reports.plain_language import AGE_RANGE_WORDS

    too_old = [replace(s, risk_percent=None, not_computed_reason=(
        "not computed: Age 82 years is outside the range the Framingham model was developed "
        "for (30-74 years); the model does not apply.")) for s in both_framingham]  # fmt: skip
    assert patient_risk(too_old) == (AFTER_MI_TITLE, AGE_RANGE_WORDS)
    missing = [too_old[0], replace(too_old[1], not_computed_reason="not computed: HDL missing")]
    assert patient_risk(missing) is None  # a test missing: the usual sentence
    # Which measurements it uses: reports of one day had said 24 and 79 of 100 (an audit).
    days = (dt.date(2026, 12, 3), dt.date(2026, 12, 6))
    dated = [replace(both_framingham[0], measured_on=days)]
    assert (patient_risk(dated) or ("", ""))[1].endswith(
        " It uses your measurements from 3 December 2026 to 6 December 2026."
    )
    one_day = [replace(both_framingham[0], measured_on=(days[0], days[0]))]
    assert (patient_risk(one_day) or ("", ""))[1].endswith(
        " It uses your measurements from 3 December 2026."
    )


def test_a_dangerous_rhythm_summary_says_when_to_call_and_what_the_mean_rate_hides(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient summaries: VF read "a very fast and dangerous rhythm" beside
    "about 98 times a minute. At rest, 60 to 100 is usual."; the ambulance line gave no stroke
    signs beside AF nor a racing heart beside VT, and no number; "call the clinic now" gave
    no number; after a heart attack "This number comes from large studies" pointed at none."""
    report = _signed(app, people, sql, tmp_path)
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"])
    assert data.physician is not None
    read = replace(data.physician, findings=["VT", "AF", "PVC"], next_steps=["SEE_TODAY"],
                   next_steps_note="Bring {your} diary")  # fmt: skip
    from portal.services.risk_scores import _acs_reason

    in_acs = _acs_reason(["raised cardiac enzymes"])  # the first-event models refused for it
    grace = Score("GRACE", "", 8.4, None, {}, model="grace_six_month")
    refused = Score("Framingham", "", None, None, {}, in_acs, model="framingham_general_cvd")
    from ml import rhythm

    run = [rhythm.Episode(rhythm.VT, 10.0, 14.0, 8)]  # the machine's: part of the recording
    pdf = render_pdf("patient", replace(data, physician=read, emergency_number="112",
                                        scores=[refused, grace], episodes=run))  # fmt: skip
    said = " ".join(_text(pdf, tmp_path, "vt").split())
    assert "During the fast rhythm it beat much faster." in said
    assert "At rest, 60 to 100 is usual" not in said
    assert "Call 112 for an ambulance at once if you have chest pain" in said
    assert "suddenly feels weak or numb" in said  # AF: a stroke's signs
    assert "your heart races and does not slow down" in said  # VT
    assert f"call the clinic now ({data.clinic_contact})" in said
    assert "Bring {your} diary" in said  # the doctor's own words, never formatted
    assert "Keep taking your medicines as usual" in said
    assert "Your outlook" in said and "This number comes from large studies" not in said
    # A heading that fits: no number follows (a risk-score audit, 2026-12-07).
    assert "About your heart risk Your outlook:" in said
    assert "What your risk number means" not in said
    # VT over (nearly) the whole strip: its mean is the fast rhythm's (MIT-BIH 223, an audit).
    sustained = [rhythm.Episode(rhythm.VT, 0.5, 29.5, 50)]
    pdf = render_pdf("patient", replace(data, physician=read, episodes=sustained))
    whole = " ".join(_text(pdf, tmp_path, "sustained").split())
    assert "much faster" not in whole and "most of that time in the fast rhythm" in whole

    # A plain sinus read: the general line only, "an ambulance" without a number.
    plain = " ".join(_text(render_pdf("patient", data), tmp_path, "sinus").split())
    assert "Call an ambulance at once if you have chest pain" in plain
    assert "weak or numb" not in plain and "races" not in plain


def test_an_amended_summary_says_what_it_adds(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    from reports.plain_language import what_changed

    report = _signed(app, people, sql, tmp_path)
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"], with_strips=False)
    assert data.physician is not None and what_changed(data) == []
    amendment = replace(data.physician, kind="amendment", findings=["SINUS", "PAC", "LONG_QT"],
                        next_steps=["ROUTINE", "ECHO", "MEDICATION_REVIEW"])  # fmt: skip
    said = what_changed(replace(data, amendments=[amendment]))
    assert said[0].startswith("It now says: Your heart took longer than usual to recover")
    assert said[1].startswith("New next steps: Your doctor will go over your medicines")
    same = replace(data.physician, kind="amendment")
    assert what_changed(replace(data, amendments=[same])) == [
        "The findings and next steps are the same as before."
    ]
    # A changed heart rate is said, and a statement dropped is quoted as its version printed
    # it (a consistency audit: "the same as before" beside a rate gone from 76 to 80, and
    # AF quoted without the "For part of the recording" its Holter summary had said).
    from reports.plain_language import PAROXYSMAL_AF

    holter = replace(data, duration_s=1800.0)
    then = replace(data.physician, findings=["SINUS", "AF"], heart_rate_bpm=76.0)
    rate_only = replace(then, kind="amendment", heart_rate_bpm=80.4)
    assert what_changed(replace(holter, physician=then, amendments=[rate_only])) == [
        "Your heart rate now reads about 80 times a minute; it said about 76."
    ]
    no_af = replace(then, kind="amendment", findings=["SINUS"], heart_rate_bpm=None)
    said = what_changed(replace(holter, physician=then, amendments=[no_af]))
    assert said == [
        f"It no longer says: {PAROXYSMAL_AF}",
        "It no longer gives your heart rate: your doctor could not measure it.",
    ]
    back = replace(then, kind="amendment", heart_rate_bpm=75.0)
    without_rate = replace(then, heart_rate_bpm=None)
    assert what_changed(replace(holter, physician=without_rate, amendments=[back])) == [
        "It now gives your heart rate: about 75 times a minute."
    ]
    # New next steps name the clinic's number, as the body does (an audit).
    call = replace(then, kind="amendment", next_steps=["SEE_SOON"])
    said = what_changed(replace(holter, physician=then, amendments=[call]))
    new_steps = next(s for s in said if s.startswith("New next steps"))
    assert data.clinic_contact and data.clinic_contact in new_steps


def test_an_amended_summary_says_a_step_taken_back_and_a_changed_note(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient's side: signed with an echo, amended to the routine visit
    alone ("Echo not needed"), the summary read "The findings and next steps are the same as
    before."; so did a reworded free-text step and a changed note for the patient."""
    from reports.plain_language import NOTE_CHANGED, what_changed

    report = _signed(app, people, sql, tmp_path)
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"], with_strips=False)
    assert data.physician is not None
    no_echo = replace(data.physician, kind="amendment", version_no=3, next_steps=["ROUTINE"])
    said = what_changed(replace(data, amendments=[no_echo]))
    assert said == [
        "You no longer need these next steps: You will have an ultrasound scan of your heart. "
        "It shows how well your heart pumps."
    ]
    pdf = render_pdf("patient", replace(data, amendments=[no_echo]))
    words = " ".join(_text(pdf, tmp_path, "no-echo").split())
    assert "same as before" not in words and "You no longer need these next steps" in words
    sotalol = replace(data.physician, next_steps_note="Stop taking sotalol until you see us.")
    faint = "Stop taking sotalol today and call us if you feel faint."
    reworded = replace(sotalol, kind="amendment", version_no=3, next_steps_note=faint)
    assert what_changed(replace(data, physician=sotalol, amendments=[reworded])) == [
        "Your doctor's own next step has changed. It now reads: Stop taking sotalol today and "
        "call us if you feel faint."
    ]
    note = replace(data.physician, kind="amendment", version_no=3,
                   patient_comment="Please stop driving until we have seen you.")  # fmt: skip
    assert what_changed(replace(data, amendments=[note])) == [NOTE_CHANGED]
    # A note's line breaks alone change nothing the patient reads.
    spaced = replace(data.physician, kind="amendment", version_no=3,
                     patient_comment="Your heart looks healthy.\nSee me in a year.")  # fmt: skip
    assert what_changed(replace(data, amendments=[spaced])) == [
        "The findings and next steps are the same as before."
    ]


def test_the_doctors_note_keeps_its_lines(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient's side: a numbered note of three lines printed on one, "Two
    things: 1. Do not take ... morning 2. Come back ...". Escaped all the same."""
    report = _signed(app, people, sql, tmp_path)
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"], with_strips=False)
    assert data.physician is not None
    note = (
        "Two things:\r\n1. Do not take your water tablet tomorrow morning\n"
        "2. Come back on Monday for a new ECG <b>"
    )
    pdf = render_pdf(
        "patient", replace(data, physician=replace(data.physician, patient_comment=note))
    )
    lines = [" ".join(line.split()) for line in _text(pdf, tmp_path, "note").splitlines()]
    assert "Two things:" in lines
    assert "1. Do not take your water tablet tomorrow morning" in lines
    assert "2. Come back on Monday for a new ECG <b>" in lines


def test_a_rate_signed_not_measurable_is_said_to_the_patient(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient summaries: a heart rate the doctor signed as not measurable
    left the summary silent about the rate (only a later amendment said so)."""
    from reports.plain_language import NO_HEART_RATE

    report = _signed(app, people, sql, tmp_path)
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"], with_strips=False)
    cleared = replace(data, measurements={**data.measurements, "heart_rate_bpm": None})
    said = " ".join(_text(render_pdf("patient", cleared), tmp_path, "no-rate").split())
    assert NO_HEART_RATE in said and "times a minute" not in said
    kept = " ".join(_text(render_pdf("patient", data), tmp_path, "rate").split())
    assert NO_HEART_RATE not in kept and "times a minute" in kept


def test_an_amendment_adding_vt_asks_to_be_seen_soon_and_names_its_signer(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient summaries: an amendment adding VT, no next step chosen, read
    "Talk about this result at your next visit" (the advice came from the first signed
    version), and "Who checked this" named the first signer, not the doctor who amended."""
    from reports.plain_language import next_steps

    report = _signed(app, people, sql, tmp_path)
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"], with_strips=False)
    assert data.physician is not None
    first = replace(data.physician, next_steps=[], next_steps_note="")
    signed_at = data.physician.signed_at + dt.timedelta(days=1)  # type: ignore[operator]
    vt = replace(first, kind="amendment", version_no=3, findings=["SINUS", "VT"],
                 signed_by="Dr Lee Second", signed_at=signed_at, reason="VT seen.")  # fmt: skip
    amended = replace(data, physician=first, amendments=[vt], version_no=3)
    assert next_steps(amended)[0].startswith("Your doctor wants to see you soon.")
    withdrawn = replace(vt, findings=["SINUS"])
    urgent_first = replace(first, findings=["SINUS", "VT"])
    calm = replace(amended, physician=urgent_first, amendments=[withdrawn])
    assert next_steps(calm)[0] == "Talk about this result at your next visit."
    said = " ".join(_text(render_pdf("patient", amended), tmp_path, "vt-amended").split())
    assert (
        f"{first.signed_by} checked and signed this result on "
        f"{first.signed_at:%-d %B %Y}, and Dr Lee Second updated it on {signed_at:%-d %B %Y}."
    ) in said


def test_a_vt_summary_gives_one_deadline_to_call(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient's side: VT, sinus tachycardia and PVCs signed with "Review
    within a week" and a Holter, released after the talk, read "If your doctor has not already
    talked with you about them, call the clinic today." and "Your doctor wants to see you
    within a week. If nobody calls you in 2 days, call us ..." on one page. The finding's
    sentence is the one deadline to call; the week's review is said without its own."""
    from reports.plain_language import next_steps, what_changed
    from reports.render import html_for

    report = _signed(app, people, sql, tmp_path)
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"], with_strips=False)
    assert data.physician is not None
    vt = replace(data.physician, findings=["VT", "TACHY", "PVC"], next_steps=["SEE_SOON", "HOLTER"],
                 next_steps_note="")  # fmt: skip
    held = replace(data, physician=vt)
    with app.app_context():
        page = " ".join(html.unescape(html_for("patient", held)).split())
    assert "talked with you about them, call the clinic today." in page
    assert "Your doctor wants to see you within a week.</li>" in page
    assert "in 2 days" not in page
    # Without such a finding the week's review keeps its own deadline.
    calm = replace(vt, findings=["TACHY", "PVC"])
    assert next_steps(replace(data, physician=calm))[0].startswith(
        "Your doctor wants to see you within a week. If nobody calls you in 2 days, call us"
    )
    # An amendment adding the week's review to a VT read says it the same way.
    routine = replace(vt, next_steps=["ROUTINE"])
    later = replace(vt, kind="amendment", version_no=3)
    amended = replace(data, physician=routine, amendments=[later], version_no=3)
    assert "New next steps: Your doctor wants to see you within a week. You will wear" in (
        " ".join(what_changed(amended))
    )


def test_the_summarys_footer_and_signers_are_in_the_patients_words(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """An audit of the patient's side: every summary's footer read "ECG report 1 · version 3
    (amended) · generated 2026-12-07 09:28 UTC · ...", where every other date is "7 December
    2026", and an amendment by the signer read "Dr. Dana Doctor checked and signed this result
    on 7 December 2026, and Dr. Dana Doctor updated it on 7 December 2026."."""
    import dataclasses

    from reports.render import html_for

    report = _signed(app, people, sql, tmp_path)
    settings = dataclasses.replace(app.config["SETTINGS"], time_zone="Europe/Paris")
    data = report_data(sql, report, report.versions[-1], settings, with_strips=False)
    assert data.physician is not None and data.physician.signed_at is not None
    signed_on = f"{data.physician.signed_at:%-d %B %Y}"
    update = replace(data.physician, kind="amendment", version_no=3, reason="A typo.")
    amended = replace(data, amendments=[update], version_no=3, status="amended")
    with app.app_context():
        page = " ".join(html.unescape(html_for("patient", amended)).split())
    made = f"{amended.generated_at:%-d %B %Y, %H:%M}"
    assert amended.generated_at.utcoffset() != dt.timedelta(0)  # the hospital's time, not UTC
    footer = page[page.index('<div class="footer">') :].split("</div>")[0]
    assert footer == (
        f'<div class="footer">{data.institution} · Report number {report.id} · Made on {made} · '
        "checked and signed by your doctor"
    )
    assert "version" not in page and "UTC" not in page
    assert (
        f"{data.physician.signed_by} checked and signed this result on {signed_on} and updated "
        f"it on {signed_on}."
    ) in page
    # Another doctor's amendment names them.
    other = replace(amended, amendments=[replace(update, signed_by="Dr Lee Second")])
    with app.app_context():
        page = " ".join(html.unescape(html_for("patient", other)).split())
    assert f"on {signed_on}, and Dr Lee Second updated it on {signed_on}." in page
    # The clinician report keeps its footer.
    with app.app_context():
        clinician = " ".join(html.unescape(html_for("clinician", amended)).split())
    assert f"ECG report {report.id} · version 3 (amended) · generated " in clinician


def test_the_clinician_pdf_lists_the_machine_notes_such_as_a_lead_off(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The signed PDF of a recording whose lead III was off for 70 s said "100 % of the
    recording is of good quality" and nothing of the lead; the review page's machine notes
    said it (an audit of the lead-off notes)."""
    recording = synthetic(150, 250, seed=5)
    signal = recording.signal_mv.copy()
    signal[250 * 40 : 250 * 110, 2] = np.random.default_rng(2).normal(0, 0.01, 250 * 70)
    path = write_csv(tmp_path / "off.csv", replace(recording, signal_mv=signal))
    staff = client_for(app, people.staff)
    post_form(staff, f"/patients/{people.patient.id}/recordings/new",
              {"files": [(io.BytesIO(path.read_bytes()), "off.csv")]},
              token_page=f"/patients/{people.patient.id}/recordings/new",
              content_type="multipart/form-data")  # fmt: skip
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    doctor = client_for(app, people.doctor)
    pdf = doctor.get(f"/reports/{report.id}/report.pdf")
    assert pdf.status_code == 200
    said = " ".join(_text(pdf.data, tmp_path, "notes").split())
    assert "Machine notes" in said
    assert "Lead III is a flat line from 40.0 s for 1.2 min" in said  # under a minute: seconds


def test_storage_verify_names_what_a_restore_left_out(
    app: Flask, people: People, sql: Session, database_url: str, tmp_path: Path
) -> None:
    """An ops audit: a restore whose storage was older than its database answered 500 on the
    ECG pages while /health, `cardio init-db` and `cardio audit verify` all passed."""
    from click.testing import CliRunner

    from portal.cli import main
    from portal.models import EcgRecording
    from portal.storage import recording_folder

    report = _signed(app, people, sql, tmp_path)
    client_for(app, people.doctor).get(f"/reports/{report.id}/report.pdf")
    stored = app.config["SETTINGS"].storage_dir
    env = {"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path / "cli"),
           "STORAGE_DIR": str(stored)}  # fmt: skip
    intact = CliRunner().invoke(main, ["storage", "verify"], env=env)
    assert intact.exit_code == 0 and "Storage intact: " in intact.output, intact.output
    sql.expire_all()
    document = max(sql.scalars(select(ReportDocument)).all(), key=lambda d: d.id)
    next(stored.rglob(f"{document.sha256}*")).write_bytes(b"%PDF-1.4 damaged")
    recording = sql.get(EcgRecording, report.recording_id)
    assert recording is not None
    files = list(recording_folder(stored, recording.sha256).iterdir())
    files[0].write_bytes(files[0].read_bytes()[:100])  # truncated (a review: it passed)
    broken = CliRunner().invoke(main, ["storage", "verify"], env=env)
    assert broken.exit_code == 1
    assert f"recording {recording.id}: altered or damaged" in broken.output
    assert f"document {document.id}: altered or damaged" in broken.output
    assert "Storage INCOMPLETE: 2 problem(s)" in broken.output
    for path in files:
        path.unlink()
    gone = CliRunner().invoke(main, ["storage", "verify"], env=env)
    assert f"recording {recording.id}: its files are missing" in gone.output


def test_a_pattern_over_part_of_a_strip_is_said_for_part_of_it(
    app: Flask, people: People, sql: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cardiologist's audit: nstdb 119e06's 60-s strip, 6.8 s of ventricular trigeminy among
    scattered PVCs, signed as prefilled, told the patient "Every third beat was an extra
    beat." (MIT-BIH 213's 2.6 s of bigeminy in 30 s, "Every second beat"): on a strip the
    whole-recording sentence is said only where the machine's episodes cover 80 % of it."""
    from ml import rhythm, vocabulary
    from portal.services import myhealth, reports

    report = _signed(app, people, sql, tmp_path, findings=("SINUS", "TRIGEMINY"))
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"], with_strips=False)
    assert not data.read_as_episodes
    few_s = [rhythm.Episode(rhythm.TRIGEMINY, 7.4, 14.2, 7)]
    most_s = [rhythm.Episode(rhythm.TRIGEMINY, 1.0, 29.5, 30)]
    part = _text(render_pdf("patient", replace(data, episodes=few_s)), tmp_path)
    said = " ".join(part.split())
    said_for_part = "For part of the recording, every third beat was an extra beat."
    said_for_all = vocabulary.STATEMENTS["TRIGEMINY"].plain
    assert said_for_part in said and said_for_all not in said
    whole = _text(render_pdf("patient", replace(data, episodes=most_s)), tmp_path)
    assert said_for_all in " ".join(whole.split())

    # The patient's list and FHIR read the stored machine read's episodes alike.
    summary = reports.machine_summary(report)
    for episodes, sentence in ((few_s, said_for_part), (most_s, said_for_all)):
        monkeypatch.setattr(
            reports, "machine_summary", lambda _r, e=episodes: replace(summary, episodes=e)
        )
        assert myhealth.plain_finding(report) == sentence


def test_frequent_pacs_read_many_on_the_patients_summary_and_list(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """svdb 822's atrial bigeminy (38 S of 77 beats), signed sinus rhythm with PACs, read
    "Some extra beats ... often harmless" (a cardiologist's audit)."""
    from portal.services import myhealth
    from reports.plain_language import MANY_PACS

    report = _signed(app, people, sql, tmp_path)  # sinus rhythm and PACs
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"], with_strips=False)
    bigeminy = {"N": 39, "S": 38, "V": 0, "F": 0, "Q": 0}
    pdf = render_pdf("patient", replace(data, beat_counts=bigeminy))
    said = " ".join(_text(pdf, tmp_path).split())
    assert MANY_PACS in said and "often harmless" not in said
    # The patient's list (and FHIR) read the machine version's counts alike (in memory only:
    # a version is never updated).
    with sql.no_autoflush:
        report.versions[0].beat_counts = bigeminy
        assert myhealth.plain_finding(report) == MANY_PACS
    sql.rollback()


def test_the_patients_share_of_extra_beats_leaves_out_the_vf_waves(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The patient's "Many extra beats" divided by every detection, VF waves read Q included,
    where the clinician's PAC finding leaves them out (`ml.holter_summary.vf_waves`): S calls
    10 % of the beats outside VF read "Some extra beats" (an audit of the patient's side)."""
    from ml import rhythm
    from portal.services import myhealth
    from portal.services.machine_read import machine_read, vf_waves_in
    from reports.plain_language import MANY_PACS

    report = _signed(app, people, sql, tmp_path)  # sinus rhythm and PACs
    machine = report.versions[0]
    read = machine_read(report)
    beat_s = read.beats.samples / read.fs_hz
    waves = int(np.sum((beat_s >= 10.0) & (beat_s <= 20.0)))
    beats = len(beat_s) - waves
    pacs = -(-beats // 10)  # 10 % of the beats outside VF, fewer of every detection
    assert waves and pacs / len(beat_s) < 0.10
    counts = {"N": beats - pacs, "S": pacs, "V": 0, "F": 0, "Q": waves}
    vf = {"label": rhythm.VF, "start_s": 10.0, "end_s": 20.0, "n_beats": 0, "duration_s": 10.0}
    with sql.no_autoflush:  # in memory only: a version is never updated
        machine.analysis = {**machine.analysis, "episodes": [vf], "beat_counts": counts}
        machine.beat_counts = counts
        data = report_data(
            sql, report, report.versions[-1], app.config["SETTINGS"], with_strips=False
        )
        assert data.vf_waves == waves == vf_waves_in(report)
        said = " ".join(_text(render_pdf("patient", data), tmp_path).split())
        assert MANY_PACS in said and "often harmless" not in said
        assert myhealth.plain_finding(report) == MANY_PACS  # the patient's list, FHIR alike
    sql.rollback()


def test_the_clinician_pdf_dates_each_risk_input(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """The clinician PDF's "Inputs used" gave no dates, though they may be 12 months old (the
    risk page says "recorded YYYY-MM-DD", the summary "It uses your measurements from ...";
    a risk audit). Each now says the hospital's day it was recorded, or that it came from
    the ECG."""
    import dataclasses

    from portal.services.reports import latest_signed
    from reports.render import html_for
    from tests.test_risk_page import FLAGS, _add_input

    noon = dt.datetime.combine(dt.date.today(), dt.time(12)) - dt.timedelta(days=200)
    _add_input(sql, people, noon, booleans=FLAGS, total_cholesterol=213.0, hdl=50.0,
               systolic_bp_mmhg=140.0, bmi_kg_m2=27.0)  # fmt: skip
    report = _signed(app, people, sql, tmp_path)
    version = latest_signed(report)
    assert version is not None
    settings = dataclasses.replace(app.config["SETTINGS"], time_zone="Pacific/Kiritimati")
    with app.app_context():
        page = html.unescape(html_for("clinician", report_data(sql, report, version, settings)))
    table = page[page.index('id="risk-scores"') :].split("</table>")[0]
    day = (noon + dt.timedelta(hours=14)).date()  # UTC+14: the next day there
    assert f"total cholesterol 213 mg/dL (recorded {day:%Y-%m-%d})" in table, table
    assert f"systolic blood pressure 140 mmHg (recorded {day:%Y-%m-%d})" in table
    assert f"BMI 27.0 kg/m² (recorded {day:%Y-%m-%d})" in table


def test_a_diabetic_too_old_for_the_2008_model_is_told_why_no_figure_is_given(
    app: Flask, people: People
) -> None:
    """A man of 77 with diabetes, every value recorded: both Framingham forms are refused for
    his age (30-74), ATP III for his diabetes (a coronary heart disease risk equivalent there),
    and his summary read "We did not have all the values we need ... which tests are missing"
    (a risk audit). He is now told why, and never that a test is missing."""
    from portal.services import risk_scores
    from reports.plain_language import AFTER_MI_TITLE, DIABETES_AND_AGE_WORDS

    values = {"age_years": 77, "total_chol": 213.0, "hdl": 50.0, "sbp_mmhg": 140,
              "bmi_kg_m2": 27.0, "smoker": False, "diabetic": True,
              "bp_treated": False}  # fmt: skip
    outcomes = risk_scores.what_if(people.other_patient, values)
    scores = [
        Score(o.spec.title, "", None, None, {}, o.not_computed_reason, model=o.spec.model.value)
        for o in outcomes
    ]
    assert all(s.not_computed_reason for s in scores[:3])  # none computed
    assert patient_risk(scores) == (AFTER_MI_TITLE, DIABETES_AND_AGE_WORDS)
    assert "missing" not in DIABETES_AND_AGE_WORDS and "74" in DIABETES_AND_AGE_WORDS
    # HDL missing as well: the usual "tests are missing" sentence, which is then true.
    without_hdl = risk_scores.what_if(
        people.other_patient, {k: v for k, v in values.items() if k != "hdl"}
    )
    assert patient_risk([
        Score(o.spec.title, "", None, None, {}, o.not_computed_reason, model=o.spec.model.value)
        for o in without_hdl
    ]) is None  # fmt: skip


def test_values_measured_after_the_ecg_are_said_so_not_that_tests_are_missing(
    app: Flask, people: People, sql: Session
) -> None:
    """An audit of the patient's side: every value recorded an hour after the ECG (and, alike,
    after a file dated 2000), none usable for it, and the summary said "We did not have all the
    values we need ... Your doctor can tell you which tests are missing."."""
    from portal.services import risk_scores
    from portal.services.documents import patient_risk_words
    from tests.test_risk_page import _add_input, _report

    report = _report(sql, people)
    report.report_date = utcnow() - dt.timedelta(hours=1)
    sql.commit()
    flags = {"smoker": False, "diabetic": False, "bp_treated": True}
    _add_input(sql, people, utcnow() - dt.timedelta(minutes=10), booleans=flags,
               total_cholesterol=220.0, hdl=50.0, systolic_bp_mmhg=150.0,
               bmi_kg_m2=27.0)  # fmt: skip

    def said() -> str | None:
        sql.expire_all()
        outcomes = risk_scores.report_outcomes(sql, report, ecg_heart_rate_bpm=None)
        risk_scores.store_report_scores(report, outcomes)
        sql.flush()
        return patient_risk_words(report)

    words = (
        "Your heart risk: Values we need to work out your risk number were measured after this "
        "heart test, so this result has no risk number. Your doctor will talk with you about "
        "what your heart tests mean for you."
    )
    assert said() == words
    # An older HDL too, over 12 months before the ECG ("... measured again after this ECG").
    _add_input(sql, people, report.report_date - dt.timedelta(days=500), hdl=45.0)
    assert said() == words
    # One value truly missing beside them: the usual sentence, which is then true.
    scores = [Score("", "", None, None, {}, "not computed: BMI missing; Smoking status missing "
                    "(measured after this ECG, 2026-12-07, not used for it)",
                    model="framingham_general_cvd")]  # fmt: skip
    assert patient_risk(scores) is None


def test_a_risk_beyond_the_models_calibrated_range_is_said_as_more_than_it(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Cholesterol 300, HDL 30, a treated 200 mmHg, a smoker with diabetes: the Cox equation
    extrapolates far beyond the risks it was built on (99.9 % for a man of 70), and the summary
    said "About 100 of 100 people ... The other 0 will not.", the clinician PDF "99.9 %
    (high)" (a risk audit). Above the highest figure the model states (30 %) the patient
    reads "More than 30 of 100 people ...", the clinician "> 30 % (beyond the range the model
    was built on)", and the REST API keeps the value beside `more_than_percent`."""
    from portal.services.reports import latest_signed
    from reports.plain_language import risk_in_plain_words
    from reports.render import html_for
    from tests.test_api import Api, issue_on_admin_page
    from tests.test_risk_page import _add_input

    extreme = Score("", "", 99.9, "high", {}, model="framingham_general_cvd")
    assert risk_in_plain_words(extreme) == (
        "More than 30 of 100 people with the same values will have a heart attack, a stroke or "
        "another heart or blood vessel problem in the next 10 years."
    )
    assert risk_in_plain_words(replace(extreme, risk_percent=29.6)) == (
        "About 30 of 100 people with the same values will have a heart attack, a stroke or "
        "another heart or blood vessel problem in the next 10 years. The other 70 will not."
    )
    _add_input(sql, people, utcnow() - dt.timedelta(days=5), total_cholesterol=300.0, hdl=30.0,
               systolic_bp_mmhg=200.0, bmi_kg_m2=30.0,
               booleans={"smoker": True, "diabetic": True, "bp_treated": True})  # fmt: skip
    report = _signed(app, people, sql, tmp_path)
    version = latest_signed(report)
    assert version is not None
    with app.app_context():
        data = report_data(sql, report, version, app.config["SETTINGS"])
        clinician = html.unescape(html_for("clinician", data))
        summary = " ".join(html.unescape(html_for("patient", data)).split())
    table = clinician[clinician.index('id="risk-scores"') :].split("</table>")[0]
    assert "> 30 % (beyond the range the model was built on)</strong> (high; bands" in table, table
    assert not re.search(r"\b9\d\.\d %", table)
    assert "More than 30 of 100 people with the same values" in summary
    assert "The other" not in summary and "About 9" not in summary
    doctor = client_for(app, people.doctor)  # the review page and the risk page alike
    for page in (f"/reports/{report.id}", f"/patients/{people.patient.id}/risk/"):
        shown = html.unescape(doctor.get(page).get_data(as_text=True))
        assert "> 30 % (beyond the range the model was built on)" in shown, page
        assert not re.search(r"\b9\d\.\d %", shown), page
    admin = client_for(app, people.admin)
    api = Api(app, issue_on_admin_page(admin, people.doctor.username, ["reports:read"]))
    scores = {s["model"]: s for s in api.get(f"/reports/{report.id}").get_json()["risk_scores"]}
    lipid = scores["framingham_general_cvd"]
    assert lipid["value"] > 90 and lipid["more_than_percent"] == 30.0
    assert all(s["more_than_percent"] is None for s in scores.values() if not s["value"])


def test_a_patient_of_sex_other_is_told_why_no_risk_number_is_given(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Sex "other", every Framingham value recorded, a signed report: the clinician reads "not
    computed: Sex 'other': the model has equations for male and female only", and the patient
    read "We did not have all the values we need ... which tests are missing" (a risk-score
    audit, 2026-12-07): no test would mend it."""
    from portal.models import Sex
    from portal.services.clinical_inputs import ClinicalInputForm, record_clinical_input
    from reports.plain_language import SEX_WORDS

    people.patient.sex = Sex.OTHER
    record_clinical_input(
        sql, people.patient,
        ClinicalInputForm(
            recorded_at=utcnow() - dt.timedelta(days=3), total_cholesterol=213.0, hdl=50.0,
            systolic_bp_mmhg=140.0, bmi_kg_m2=27.0,
            booleans=dict(smoker=False, diabetic=False, bp_treated=False),
        ),
        actor=people.staff, now=utcnow(),
    )  # fmt: skip
    sql.commit()
    report = _signed(app, people, sql, tmp_path)
    Worker(app).run_pending()
    assert all(
        "equations for male and female only" in (s.not_computed_reason or "")
        for s in report.risk_scores
        if s.model.value.startswith("framingham")
    )
    summary = client_for(app, people.patient_account).get(f"/my/reports/{report.id}/summary.pdf")
    said = " ".join(_text(summary.data, tmp_path, "summary").split())
    assert " ".join(SEX_WORDS.split()) in said, said
    assert "tests are missing" not in said and "About your heart risk" in said
    assert grade_level(SEX_WORDS) <= 8.0


def test_long_unbroken_signed_text_is_printed_in_full_beside_the_machine_read(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """A bad-input audit signed a conclusion holding a 300-character word with no break
    point: the clinician PDF printed 79 of its characters, ran off the right edge and pushed
    the "Machine read" column off the page; the patient summary printed 48 of a 200-character
    note. Both now wrap it anywhere."""
    report = _signed(app, people, sql, tmp_path)
    data = report_data(sql, report, report.versions[-1], app.config["SETTINGS"], with_strips=False)
    assert data.physician is not None
    word = "".join(f"ID{i:03d}" for i in range(60))  # 300 characters, no break point
    rhythm = "=" * 120
    note = word[:200]
    signed = replace(data.physician, conclusion=word, rhythm=rhythm, patient_comment=note)
    data = replace(data, physician=signed)

    def read_back(kind: str) -> str:
        path = tmp_path / f"{kind}-long.pdf"
        path.write_bytes(render_pdf(kind, data))
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout  # fmt: skip
        return "".join(text.split())

    clinician = read_back("clinician")
    assert word in clinician and rhythm in clinician and "Machinerea" in clinician
    assert note in read_back("patient")
