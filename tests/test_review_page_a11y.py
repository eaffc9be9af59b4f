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
