"""The stored machine read reads back as the typed `EcgAnalysis`, in every schema version,
and the portal reads it only that way."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ml.analysis import SCHEMA_VERSION, EcgAnalysis, MachineReadError, analyze
from tests.support.ecg_files import synthetic

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stored() -> dict[str, Any]:
    analysis = analyze(synthetic(duration_s=30.0, fs_hz=360.0, leads=("II", "V1")))
    return json.loads(json.dumps(analysis.to_dict()))  # as the database gives it back


def test_a_stored_read_reads_back_unchanged(stored: dict[str, Any]) -> None:
    assert stored["schema_version"] == SCHEMA_VERSION
    typed = EcgAnalysis.from_dict(stored)
    assert json.loads(json.dumps(typed.to_dict())) == stored
    assert typed.beats.samples.dtype == np.int64
    assert (
        len(typed.beats.classes)
        == len(typed.beats.samples)
        == stored["beat_counts"]["N"] + sum(n for c, n in stored["beat_counts"].items() if c != "N")
    )
    assert typed.intervals.qrs_ms == stored["intervals"]["qrs_ms"]
    assert typed.main_finding.code == stored["main_finding"]["code"]


def test_a_read_from_before_schema_versions_reads_with_todays_codes(
    stored: dict[str, Any],
) -> None:
    old = {k: v for k, v in stored.items() if k not in ("schema_version", "strip")}
    old["findings"] = [
        *old["findings"],
        {"code": "AVB1", "label": "1st degree AV block", "risk": "low"},
    ]
    old["intervals"] = {
        k: v for k, v in old["intervals"].items() if k not in ("confidence", "not_measurable")
    }
    typed = EcgAnalysis.from_dict(old)
    assert typed.findings[-1].code == "AV_BLOCK_1"  # the machine once spelled it AVB1
    assert typed.intervals.not_measurable == {} and typed.strip is None


def test_good_segments_come_back_between_the_flagged_ones(stored: dict[str, Any]) -> None:
    flagged = [{"start_s": 10.0, "end_s": 13.0, "level": "noisy", "reason": "artefact"}]
    typed = EcgAnalysis.from_dict(
        {**stored, "quality": {"good_fraction": 0.9, "flagged_segments": flagged}}
    )
    assert [(s.start_s, s.end_s, s.level) for s in typed.quality] == [
        (0.0, 10.0, "good"), (10.0, 13.0, "noisy"), (13.0, stored["duration_s"], "good")
    ]  # fmt: skip
    assert typed.good_quality_fraction == pytest.approx(0.9)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"schema_version": SCHEMA_VERSION + 1}, "schema version"),
        ({"schema_version": "2"}, "schema version"),
        ({"beats": {"sample": [1, 2], "class": "N", "probability": [0.9]}}, "differ in length"),
        ({"intervals": None}, "damaged"),
        ({"main_finding": {"code": "BANANA", "label": "x", "risk": "low"}}, "damaged"),
    ],
)
def test_a_damaged_or_newer_read_is_refused_by_name(
    stored: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    with pytest.raises(MachineReadError, match=message):
        EcgAnalysis.from_dict({**stored, **change})


def test_a_missing_part_is_refused(stored: dict[str, Any]) -> None:
    with pytest.raises(MachineReadError, match="damaged"):
        EcgAnalysis.from_dict({k: v for k, v in stored.items() if k != "beats"})


def test_the_portal_never_picks_at_the_stored_json() -> None:
    """Pages, charts and PDFs go through `machine_read`: no `.get()` or `[...]` on the JSON."""
    picking = re.compile(r"analysis(\s*or\s*\{\})?\)?\s*(\.get\(|\[\s*['\"])")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("portal", "reports", "templates")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in (".py", ".html") and path.name != "machine_read.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if picking.search(line)
    ]
    assert offenders == []
