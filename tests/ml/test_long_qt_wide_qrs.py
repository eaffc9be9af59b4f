"""With a wide QRS the long-QT finding follows the JT index (AHA/ACCF/HRS 2009; Rautaharju
2004), not the QTc alone: a bundle branch block lengthens the QT by itself."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ml.analysis import analyze
from ml.findings import JT_INDEX_LIMIT, findings_of_read, jt_index, jt_index_words
from ml.hrv import HeartRateSummary
from ml.intervals import Intervals, not_measured
from ml.io import read_recording
from ml.research.databases import data_root


def _intervals(qt_ms: float, qrs_ms: float, rr_ms: float) -> Intervals:
    return dataclasses.replace(
        not_measured("test", 100),
        rr_ms=rr_ms,
        qrs_ms=qrs_ms,
        qt_ms=qt_ms,
        qtc_bazett_ms=qt_ms / np.sqrt(rr_ms / 1000),
        not_measurable={},
        confidence={"qrs": "high", "qt": "high"},
    )


def _findings(intervals: Intervals) -> dict[str, tuple[str, str]]:
    classes = np.array(["N"] * 100)
    counts = {"N": 100, "S": 0, "V": 0, "F": 0, "Q": 0}
    rate = HeartRateSummary(75.0, 60.0, 90.0, None, None, None, 100)
    found = findings_of_read([], intervals, rate, counts, classes, np.full((100, 5), 0.2))
    return {f.code: (f.risk, f.detail) for f in found}


def test_the_jt_index_of_known_intervals() -> None:
    # JT 300 ms at 75 bpm: 300 x 175 / 518
    assert jt_index(_intervals(420, 120, 800)) == pytest.approx(300 * 175 / 518)


def test_a_wide_qrs_alone_does_not_make_a_long_qt() -> None:
    """MIT-BIH 109's figures: QT 458, QRS 167 ms at 84 bpm, QTc 542 ms, JT index 103."""
    found = _findings(_intervals(458, 167, 714))
    assert "LONG_QT" not in found
    risk, detail = found["WIDE_QRS"]
    assert risk == "medium"
    assert detail == (
        "QRS 167 ms (>= 120 ms); the QTc of 542 ms is long because the QRS is wide: "
        f"JT index 103, within normal (prolonged from {JT_INDEX_LIMIT})"
    )


def test_a_qrs_that_reads_wide_with_low_confidence_still_explains_a_long_qtc() -> None:
    """MIT-BIH 109 (left bundle branch block) under muscle noise: its QRS withheld as of low
    confidence (the even and odd beats' medians disagree), the QTc its width lengthens read
    "Prolonged QTc" (a review of `_halves_disagree`). The JT index decides it still."""
    doubtful = dataclasses.replace(
        _intervals(458, 167, 714), confidence={"qrs": "low", "qt": "high"}
    )
    found = _findings(doubtful)
    assert "LONG_QT" not in found and "WIDE_QRS" not in found
    long_jt = dataclasses.replace(
        _intervals(555, 164, 814), confidence={"qrs": "low", "qt": "high"}
    )
    assert "JT index 131" in _findings(long_jt)["LONG_QT"][1]


def test_a_long_jt_with_a_wide_qrs_is_a_long_qt() -> None:
    """svdb 886's figures: QT 555, QRS 164 ms, RR 814 ms: JT index 131."""
    found = _findings(_intervals(555, 164, 814))
    assert found["LONG_QT"] == (
        "high",
        "QTc (Bazett) 615 ms with a wide QRS: JT index 131 (>= 112)",
    )
    assert found["WIDE_QRS"][1] == "QRS 164 ms (>= 120 ms)"


def test_a_narrow_qrs_is_judged_by_the_qtc_as_before() -> None:
    found = _findings(_intervals(440, 90, 800))  # QTc 492
    assert found["LONG_QT"] == ("medium", "QTc (Bazett) 492 ms")
    assert "WIDE_QRS" not in found


def test_a_qrs_just_short_of_wide_is_said_beside_a_long_qt() -> None:
    """A Holter audit: MIT-BIH 207 (1,457 LBBB beats) read a high-risk QTc of 660 ms beside a
    QRS of 119 ms, nothing said of the conduction delay that lengthens the QT."""
    found = _findings(_intervals(639, 119, 938))  # 207's figures: QTc 660 ms
    risk, detail = found["LONG_QT"]
    assert risk == "high" and detail.startswith("QTc (Bazett) 660 ms; the QRS of 119 ms")
    assert "lengthens the QT too: JT index" in detail and "bundle branch block" in detail
    # Whether the JT index is prolonged is said in words, not left to the reader ("JT index 104
    # (prolonged from 112)" read as prolonged; a doctor's-day audit).
    assert "JT index 165, prolonged (from 112)" in detail
    _, within = _findings(_intervals(560, 115, 1000))["LONG_QT"]  # JT 445 ms at 60 bpm
    assert "JT index 137, prolonged (from 112)" in within
    assert "WIDE_QRS" not in found
    assert found == _findings(_intervals(639, 119, 938))  # nothing else moves
    assert _findings(_intervals(440, 109, 800))["LONG_QT"] == ("medium", "QTc (Bazett) 492 ms")


def test_mitbih_109_left_bundle_branch_block_reads_no_long_qt() -> None:
    analysis = analyze(read_recording(data_root() / "mitdb" / "109.hea"))
    codes = {f.code for f in analysis.findings}
    assert "WIDE_QRS" in codes and "LONG_QT" not in codes
    assert analysis.main_finding.code != "LONG_QT"


def test_the_jt_index_says_whether_it_is_prolonged() -> None:
    """A doctor's-day audit: "JT index 104 (prolonged from 112)" and "JT index 165 (prolonged
    from 112)" read alike, and a reader took 104 for prolonged."""
    assert jt_index_words(104.2) == "JT index 104, within normal (prolonged from 112)"
    assert jt_index_words(165.0) == "JT index 165, prolonged (from 112)"
    assert jt_index_words(112.0) == "JT index 112, prolonged (from 112)"
    assert jt_index_words(111.7) == "JT index 111.7, within normal (prolonged from 112)"
