"""A QT measured with low confidence whose QTc would be long is "not measurable" with the
figures in its reason, not a number beside "No significant arrhythmia", which then says it
(`ml.findings.without_doubtful_long_qt`, `_withheld_doubt`); measured with high confidence it
stays, and makes the long-QT finding."""

from __future__ import annotations

import dataclasses

import numpy as np

from ml.analysis import analyze
from ml.findings import LONG_QTC_MS, without_doubtful_long_qt
from ml.recording import validated
from ml.research.synthetic import BeatTruth, synthetic_recording

RR_S = 60.0 / 72.0
LONG_QT = BeatTruth(hr_bpm=72.0, qt_ms=540.0 * np.sqrt(RR_S), t_duration_ms=200.0)  # QTc 540


def _read(leads: tuple[str, ...]):  # noqa: ANN202
    recording, _ = synthetic_recording(LONG_QT, duration_s=30.0, fs_hz=500.0, leads=leads, seed=3)
    return analyze(validated(recording))


def test_one_lead_s_long_qt_is_withheld_with_its_figures() -> None:
    """Before: "QT 493 ms, QTc 540 ms (low confidence)" beside "No significant arrhythmia"."""
    analysis = _read(("II",))
    intervals = analysis.intervals
    assert intervals.qt_ms is None and intervals.qtc_bazett_ms is None
    reason = intervals.not_measurable["qt"]
    assert "would be a long QT" in reason and "measured with low confidence" in reason
    qtc_ms = float(reason.split("QTc ")[1].split(" ms")[0])
    assert abs(qtc_ms - 540.0) <= 20.0
    assert intervals.t_end_ms is not None  # still marked on the median beat, to be checked
    assert "LONG_QT" not in {f.code for f in analysis.findings}
    # ... and the read's one finding says so: it read "No significant arrhythmia" alone.
    (finding,) = analysis.findings
    assert finding.code == "NORMAL" and finding.detail == f"QT not measurable: {reason}"


def test_twelve_leads_long_qt_is_measured_and_found() -> None:
    analysis = _read(("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"))
    intervals = analysis.intervals
    assert intervals.confidence["qt"] == "high" and intervals.qtc_bazett_ms is not None
    assert abs(intervals.qtc_bazett_ms - 540.0) <= 20.0
    assert "qt" not in intervals.not_measurable
    assert analysis.findings[0].code == "LONG_QT"


def test_only_a_doubtful_qt_that_would_be_long_is_withheld() -> None:
    measured = _read(("II", "V1")).intervals
    assert measured.qt_ms is not None and measured.qtc_bazett_ms is not None
    low = dataclasses.replace(measured, confidence={**measured.confidence, "qt": "low"})
    high = dataclasses.replace(measured, confidence={**measured.confidence, "qt": "high"})
    short = dataclasses.replace(low, qtc_bazett_ms=LONG_QTC_MS - 1)
    assert without_doubtful_long_qt(low).qt_ms is None
    assert without_doubtful_long_qt(high) == high
    assert without_doubtful_long_qt(short) == short
