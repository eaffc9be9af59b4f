"""The review page's words for those who cannot see colour or the chart: the beat classes
named beside the shapes the strip draws them with (an accessibility audit)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from tests.conftest import People, client_for
from tests.test_browser_review_tools import _analysed_report

REVIEW_JS = Path(__file__).resolve().parents[1] / "static" / "js" / "ecg_review.js"
# Plotly's marker symbols as text, the shape each draws.
SHAPE_OF_SYMBOL = {
    "triangle-down": "▼",
    "diamond": "◆",
    "square": "■",
    "star": "★",
    "circle-open": "○",
}
NAMES = {
    "N": "normal",
    "S": "supraventricular ectopic",
    "V": "ventricular ectopic",
    "F": "fusion",
    "Q": "unclassifiable",
}


def _strip_symbols() -> dict[str, str]:
    """The chart's own SYMBOLS, read from the script, so the page cannot drift from it."""
    found = re.search(r"const SYMBOLS = (\{[^}]*\});", REVIEW_JS.read_text(encoding="utf-8"))
    assert found, "SYMBOLS not found in ecg_review.js"
    return dict(json.loads(re.sub(r"(\w+):", r'"\1":', found.group(1))))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_the_beat_legend_and_table_show_each_class_by_the_strips_shape_and_name(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report_id, _, _ = _analysed_report(app, people, sql, tmp_path, ("I", "II", "III"))
    html = client_for(app, people.doctor).get(f"/reports/{report_id}").get_data(as_text=True)
    legend = re.search(r'<span class="legend">(.*?)</span>\s*</div>', html, re.S)
    assert legend, "no beat legend"
    beats_table = re.search(r'<table[^>]*id="beat-counts".*?</table>', html, re.S)
    assert beats_table, "no Beats table"
    symbols = _strip_symbols()
    assert set(symbols) == set(NAMES)
    for cls, symbol in symbols.items():
        said = f"{SHAPE_OF_SYMBOL[symbol]} {cls} {NAMES[cls]}"
        assert said in _text(legend.group(1)), (said, _text(legend.group(1)))
        assert said in _text(beats_table.group(0)), (said, _text(beats_table.group(0)))


PORTAL_CSS = REVIEW_JS.parents[1] / "css" / "portal.css"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _declared(css: str, selector: str, prop: str) -> str | None:
    """The last `prop` of a rule whose selector list names `selector` exactly."""
    found = None
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if selector in [s.strip() for s in selectors.split(",")]:
            value = re.search(rf"(?:^|;)\s*{prop}\s*:\s*(#[0-9a-fA-F]{{6}})", body)
            found = value.group(1) if value else found
    return found


def test_muted_text_on_the_worklists_urgent_rows_keeps_a_contrast_of_4_5() -> None:
    css = re.sub(r"/\*.*?\*/", "", PORTAL_CSS.read_text(encoding="utf-8"), flags=re.S)
    muted = re.search(r"--muted:\s*(#[0-9a-fA-F]{6})", css)
    assert muted
    for urgency in ("urgency-0", "urgency-1", "urgency-2", "urgency-3"):
        background = _declared(css, f".{urgency}", "background")
        assert background, urgency
        text = _declared(css, f".{urgency} .muted", "color") or muted.group(1)
        assert _contrast(text, background) >= 4.5, (urgency, text, background)


def test_each_worklist_link_and_the_strip_scroller_are_named_for_a_screen_reader(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    """Every worklist row's link was named "Review" alone (six identical names in a screen
    reader's list of links), and the strip's sideways scroller at 320 px could not be reached
    by keyboard nor was it named (an accessibility audit)."""
    report_id, _, _ = _analysed_report(app, people, sql, tmp_path, ("I", "II", "III"))
    doctor = client_for(app, people.doctor)
    worklist = doctor.get("/worklist").get_data(as_text=True)
    link = re.search(rf'<a class="button" href="/reports/{report_id}">(.*?)</a>', worklist, re.S)
    assert link is not None
    named = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", link.group(1))).replace("&#39;", "'")
    assert named.startswith(f"Review {people.patient.full_name}'s ECG of "), named
    page = doctor.get(f"/reports/{report_id}").get_data(as_text=True)
    assert re.search(
        r'<div class="ecg-scroll" tabindex="0" role="region" aria-label="[^"]+">', page
    )
