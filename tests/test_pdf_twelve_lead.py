"""The clinician PDF of a 12-lead recording, MUSE-style: page 1 holds the patient, the
measurements, the statements and the classic 3 x 4 grid with a lead II rhythm strip on true
millimetre paper (read back with pdftotext and measured in pdftoppm's pixels); strips grow to
hold tall waves and mark what they still clip; the PDF is shorter than the 10 s-per-lead stack."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml.analysis import Beats, EcgAnalysis, analyze
from ml.recording import STANDARD_LEADS, Recording
from ml.research.synthetic import BeatTruth, synthetic_recording
from portal.models import EcgReport
from portal.worker import Worker
from reports import twelve_lead
from reports.paper import MM_PER_S, STRIP_MAX_MM, TRACE_LEFT_MM, strip_svg
from reports.render import input_words
from reports.strips import report_strips
from tests.conftest import PASSWORD, People, client_for, post_form
from tests.support.ecg_files import synthetic, write_csv
from tests.test_fhir import risk_inputs

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")

# The clinician PDF of this 30 s 12-lead recording before the 3 x 4 page (issue 14, item 7):
# 2 portrait pages, then 4 landscape pages of strips (12 leads x 10 s, 3 rhythm strips).
PAGES_BEFORE = 6
DPI = 150
PX_PER_MM = DPI / 25.4  # 5 mm = 29.5 px


def _recording() -> Recording:
    return synthetic(30, 250, leads=STANDARD_LEADS)


def _twelve_lead_pdf(
    app: Flask, people: People, sql: Session, tmp_path: Path, pacemaker: bool = False
) -> tuple[EcgReport, bytes]:
    """A signed report of a 12-lead recording, with risk-factor inputs, and its clinician PDF
    (with `pacemaker`, staff noted one at upload and the doctor signs a paced rhythm)."""
    risk_inputs(sql, people)  # an office entry and an admission's: every model computed
    staff = client_for(app, people.staff)
    path = write_csv(tmp_path / "ecg12.csv", _recording())
    post_form(staff, f"/patients/{people.patient.id}/recordings/new",
              {"files": [(io.BytesIO(path.read_bytes()), "ecg12.csv")],
               **({"pacemaker": "y"} if pacemaker else {})},
              token_page=f"/patients/{people.patient.id}/recordings/new",
              content_type="multipart/form-data")  # fmt: skip
    Worker(app).run_pending()
    report = sql.scalar(select(EcgReport))
    assert report is not None
    doctor = client_for(app, people.doctor)
    read = (
        {"rhythm_label": "Paced rhythm", "findings": ["PACED"], "conclusion": "Paced rhythm."}
        if pacemaker
        else {"rhythm_label": "Sinus rhythm", "findings": ["SINUS", "PAC"],
              "conclusion": "Sinus rhythm with rare early beats."}
    )  # fmt: skip
    signed = post_form(doctor, f"/reports/{report.id}/sign",
                       {**read,
                        "patient_comment": "Your heart looks healthy.",
                        "password": PASSWORD, "row_version": str(report.row_version)},
                       token_page=f"/reports/{report.id}")  # fmt: skip
    assert signed.status_code == 302
    sql.expire_all()
    pdf = doctor.get(f"/reports/{report.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    return report, pdf.data


def _pdftotext(path: Path, *pages: str) -> str:
    return subprocess.run(["pdftotext", *pages, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def _pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1))  # type: ignore[union-attr]


def _line_centres(mask: np.ndarray) -> np.ndarray:
    """Centres of the runs of True in a 1-d mask (one per grid line crossed)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return (edges[0::2] + edges[1::2] - 1) / 2


def test_page_one_holds_the_patient_statements_and_the_twelve_leads_on_true_paper(
    app: Flask, people: People, sql: Session, tmp_path: Path, artifacts_dir: Path
) -> None:
    report, pdf = _twelve_lead_pdf(app, people, sql, tmp_path)
    backend = {"mysql": "mariadb"}.get(app.extensions["db_engine"].dialect.name, "sqlite")
    stem = f"clinician-12-lead-{backend}"
    path = artifacts_dir / f"{stem}.pdf"
    path.write_bytes(pdf)

    # (a) Page 1: patient, measurements, statements, every lead's name, the rhythm strip.
    page1 = _pdftotext(path, "-f", "1", "-l", "1")
    machine = report.versions[0]
    for expected in (people.patient.full_name, people.patient.mrn, "1960-12-10",
                     f"{machine.heart_rate_bpm:.0f} bpm", f"{machine.pr_ms:.0f} ms",
                     f"{machine.qrs_ms:.0f} ms", f"{machine.qtc_bazett_ms:.0f} ms",
                     "Physician's read", "Sinus rhythm with rare early beats.",
                     "Supraventricular ectopic beats", "Signed by Doctor1", "Machine read",
                     "Rhythm strip, lead II", "25 mm/s, 10 mm/mV", "Page 1 of"):  # fmt: skip
        assert expected in page1, expected
    words = set(page1.split())
    assert set(STANDARD_LEADS) <= words, set(STANDARD_LEADS) - words
    assert "Risk scores" not in page1  # the details follow on page 2

    # The later pages: the details, then rhythm strips; no 10 s stack of each lead any more.
    rest = _pdftotext(path, "-f", "2")
    for expected in ("Risk scores", "Rhythm episodes", "Rhythm strip, lead II, 0-10 s",
                     "Rhythm strip, lead II, 20-30 s"):  # fmt: skip
        assert expected in rest, expected
    assert "Lead V1, 0-10 s" not in rest and "Lead I, 0-10 s" not in rest
    # Risk inputs in words with units at clinical precision (5.8 mmol/L = 224.29 mg/dL).
    flowing = " ".join(rest.split())  # an input dated "(recorded ...)" may wrap mid-name
    assert "total cholesterol 224 mg/dL" in flowing and "224.29" not in flowing
    assert "ST-segment depression no" in flowing and "PCI in hospital no" in flowing
    assert "st depression" not in rest and "in hospital pci" not in rest

    # (d) Shorter than the 10 s-per-lead stack made it.
    pages = _pages(path)
    assert pages < PAGES_BEFORE and pages == 3, pages

    # (b) Page 1 in pixels at 150 dpi: the major squares measure 5 mm; every lead is drawn.
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", str(DPI), "-png", str(path),
                    str(artifacts_dir / stem)], check=True)  # fmt: skip
    png = next(artifacts_dir.glob(f"{stem}-*1.png"))
    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    major = (r > 180) & (r - g > 60) & (r - b > 60)  # the 5 mm lines (#e48a8a), not the 1 mm
    black = (r < 90) & (g < 90) & (b < 90)
    width_px = twelve_lead.WIDTH_MM * PX_PER_MM
    rows = np.flatnonzero(major.sum(axis=1) > 0.8 * width_px)  # horizontal major lines
    assert rows.size, "no ECG grid on page 1"
    horizontal = _line_centres(np.isin(np.arange(rgb.shape[0]), rows))
    top, bottom = horizontal[0], horizontal[-1]
    between = int(horizontal[0] + 2.5 * PX_PER_MM)  # 2.5 mm under a line: only vertical ones
    vertical = _line_centres(major[between])
    assert np.median(np.diff(horizontal)) == pytest.approx(5 * PX_PER_MM, abs=1)
    assert np.median(np.diff(vertical)) == pytest.approx(5 * PX_PER_MM, abs=1)
    left, right = vertical[0], vertical[-1]
    assert right - left == pytest.approx(width_px, abs=3)  # 260 mm wide, true size
    plan = twelve_lead.layout(_recording())
    assert bottom - top == pytest.approx(plan.height_mm * PX_PER_MM, abs=3)

    def traced(x0_mm: float, x1_mm: float, row: int) -> int:
        """Black pixels in row `row` between x0 and x1 (mm from the grid's left edge), clear
        of the lead names (the first 8 mm of each lead)."""
        y0 = int(top + plan.top_mm(row) * PX_PER_MM)
        y1 = int(top + (plan.top_mm(row) + plan.lanes[row].height_mm) * PX_PER_MM)
        return int(
            black[y0:y1, int(left + x0_mm * PX_PER_MM) : int(left + x1_mm * PX_PER_MM)].sum()
        )

    column_mm = twelve_lead.COLUMN_S * MM_PER_S
    for column, leads in enumerate(twelve_lead.COLUMNS):
        x0 = TRACE_LEFT_MM + column * column_mm
        for row, lead in enumerate(leads):
            assert traced(x0 + 8, x0 + column_mm - 1, row) > 100, f"no trace for lead {lead}"
    for quarter in range(4):  # the rhythm strip runs the full 10 s
        x0 = TRACE_LEFT_MM + quarter * column_mm
        assert traced(x0 + 8, x0 + column_mm - 1, 3) > 100, f"rhythm strip, quarter {quarter}"


def test_the_pacemaker_banner_leaves_the_twelve_leads_on_page_one(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    # The banner adds a paragraph above the grid: page 1 must still hold the grid and the
    # rhythm strip, and the report keeps its three pages.
    _, pdf = _twelve_lead_pdf(app, people, sql, tmp_path, pacemaker=True)
    path = tmp_path / "paced.pdf"
    path.write_bytes(pdf)
    page1 = _pdftotext(path, "-f", "1", "-l", "1")
    for expected in ("Pacemaker noted by staff at upload", "Paced rhythm",
                     "Rhythm strip, lead II", "25 mm/s, 10 mm/mV", "Page 1 of"):  # fmt: skip
        assert expected in page1, expected
    assert set(STANDARD_LEADS) <= set(page1.split())
    assert "Risk scores" not in page1
    assert _pages(path) == 3


def _svg_height_mm(svg: str) -> float:
    return float(re.search(r'height="([\d.]+)mm"', svg).group(1))  # type: ignore[union-attr]


def _trace_ys(svg: str) -> np.ndarray:
    points = re.search(r'<polyline points="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    return np.array([float(p.split(",")[1]) for p in points.split()])


def test_tall_waves_grow_the_lane_and_are_never_clipped_silently() -> None:
    # (c) A 3 mV R wave: the lane grows (in whole 5 mm squares) and nothing is clipped.
    taller = synthetic_recording(BeatTruth(r_mv=3.0), duration_s=10, fs_hz=500)[0]
    svg = strip_svg(taller.lead("II"), 500, lead_name="II", start_s=0, duration_s=10)
    height = _svg_height_mm(svg)
    assert 30 < height <= STRIP_MAX_MM and height % 5 == 0
    ys = _trace_ys(svg)
    assert 'class="clipped"' not in svg and ys.min() > 0.5 and ys.max() < height - 0.5
    assert np.ptp(ys) == pytest.approx(10 * np.ptp(taller.lead("II")), rel=0.05)  # 10 mm/mV

    # A 6 mV R wave: the lane stops at its maximum, and the clipped waves are marked.
    huge, beats = synthetic_recording(BeatTruth(r_mv=6.0), duration_s=10, fs_hz=500)
    svg = strip_svg(huge.lead("II"), 500, lead_name="II", start_s=0, duration_s=10)
    assert _svg_height_mm(svg) == STRIP_MAX_MM
    assert 'class="clipped"' in svg and ">clipped</text>" in svg
    assert "some waves clipped" in svg  # said to screen readers too
    marks = re.search(r'<g class="clipped">.*?<path d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    assert marks.count("Z") == len(beats)  # a triangle at each beat's clipped R wave, ...
    assert _trace_ys(svg).max() < _svg_height_mm(svg) - 0.5  # ... the S waves drawn whole

    # In the 3 x 4 grid, rows grow to their tallest lead up to a cap, and mark what they clip.
    normal = twelve_lead.layout(_recording())
    assert all(lane.height_mm % 5 == 0 for lane in normal.lanes)
    assert 'class="clipped"' not in twelve_lead.twelve_lead_svg(_recording())
    tall = twelve_lead.layout(taller)
    assert tall.height_mm <= twelve_lead.TOTAL_MAX_MM
    assert tall.lanes[1].height_mm > normal.lanes[1].height_mm  # II, aVL, V2: II is 3 mV
    grid = twelve_lead.twelve_lead_svg(huge, markers=[(1.0, "V")])
    assert 'class="clipped"' in grid and ">V</text>" in grid


def _read_with(analysis_lead: str, samples: list[int], classes: str) -> EcgAnalysis:
    """A real machine read of a short strip, with the lead and beats a test needs."""
    read = analyze(synthetic(12, 250, leads=("I", "II", "III")))
    beats = Beats(np.asarray(samples), np.asarray(list(classes)), np.ones(len(samples)))
    return dataclasses.replace(read, analysis_lead=analysis_lead, episodes=[], beats=beats)


def test_report_strips_draw_the_twelve_lead_grid_instead_of_the_stack() -> None:
    recording = synthetic(12, 250, leads=tuple(f"ECG {lead}" for lead in STANDARD_LEADS))
    analysis = _read_with("ECG II", [250, 500, 750], "NVN")
    strips = report_strips(recording, analysis)
    assert [s.kind for s in strips] == ["twelve_lead", "strip", "strip"]
    assert [s.title for s in strips[1:]] == ["Rhythm strip, lead ECG II, 0-10 s",
                                             "Rhythm strip, lead ECG II, 10-12 s"]  # fmt: skip
    grid = strips[0].svg
    assert all(f">{lead}</text>" in grid for lead in STANDARD_LEADS)
    assert ">V</text>" in grid  # the ventricular beat at 2 s, over the rhythm strip
    assert grid.count('class="ecg-twelve-lead"') == 1 and 'width="260.00mm"' in grid

    more = synthetic(12, 250, leads=(*STANDARD_LEADS, "X", "Y"))  # leads the grid lacks: kept
    assert [s.title for s in report_strips(more, analysis)][1:3] == ["Lead X, 0-10 s",
                                                                    "Lead Y, 0-10 s"]  # fmt: skip
    # Read on V5 (lead II flat, or unable to find the beats): page 1's rhythm strip is V5, where
    # it printed a flat lead II (an audit of the 12-lead path).
    on_v5 = report_strips(recording, _read_with("ECG V5", [250, 500, 750], "NVN"))[0]
    assert on_v5.title.endswith("Rhythm strip, lead V5, 0-10 s")
    assert on_v5.svg.count(">V5</text>") == 2  # in the grid and over the rhythm strip
    fewer = synthetic(12, 250, leads=("I", "II", "III"))  # not a 12-lead: the stack as before
    titles = [s.title for s in report_strips(fewer, _read_with("II", [], ""))]
    assert titles[:3] == ["Lead I, 0-10 s", "Lead II, 0-10 s", "Lead III, 0-10 s"]


def test_risk_inputs_in_words_at_clinical_precision() -> None:
    assert input_words("total_chol_mg_dl", 224.29) == "total cholesterol 224 mg/dL"
    assert input_words("creatinine_mg_dl", 1.13) == "creatinine 1.13 mg/dL"
    assert input_words("bmi_kg_m2", 27.36) == "BMI 27.4 kg/m²"
    assert input_words("st_depression", False) == "ST-segment depression no"
    assert input_words("in_hospital_pci", True) == "PCI in hospital yes"
    assert input_words("in_hospital_pci", "PCI in hospital yes") == "PCI in hospital yes"
    assert input_words("sex", "female") == input_words("sex", "sex female") == "sex female"


def test_an_amendment_reason_reads_with_one_full_stop(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Page 1 printed "reason for the amendment: ... overlooked at first read.." (an audit)."""
    report, _ = _twelve_lead_pdf(app, people, sql, tmp_path)
    doctor = client_for(app, people.doctor)
    amended = post_form(doctor, f"/reports/{report.id}/amend",
                        {"rhythm_label": "Sinus rhythm", "findings": ["SINUS"],
                         "conclusion": "Sinus rhythm.", "reason": "Overlooked at first read.",
                         "password": PASSWORD, "row_version": str(report.row_version)},
                        token_page=f"/reports/{report.id}")  # fmt: skip
    assert amended.status_code == 302
    path = tmp_path / "amended.pdf"
    path.write_bytes(doctor.get(f"/reports/{report.id}/report.pdf").data)
    page_one = " ".join(_pdftotext(path, "-f", "1", "-l", "1").split())
    assert "reason for the amendment: Overlooked at first read." in page_one
    assert "read.." not in page_one
