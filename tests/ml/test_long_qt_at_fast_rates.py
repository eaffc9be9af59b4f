"""Above 100 bpm a long QTc by Bazett is a long-QT finding only when Fridericia's QTc is long
too (450 ms or more): Bazett overcorrects at fast rates (AHA/ACCF/HRS 2009, part IV). A sinus
tachycardia at 118 bpm read "Prolonged QTc 471 ms" (Fridericia 421) and the form preselected
Long QT (a clinician-eye audit of the demo portal)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ml.findings import without_doubtful_long_qt
from tests.ml.test_long_qt_wide_qrs import _findings, _intervals


def _at(qt_ms: float, rr_ms: float):  # type: ignore[no-untyped-def]
    measured = _intervals(qt_ms, 90, rr_ms)
    return dataclasses.replace(measured, qtc_fridericia_ms=qt_ms / np.cbrt(rr_ms / 1000))


def test_bazett_alone_makes_no_long_qt_above_100_bpm() -> None:
    sinus_tachycardia = _at(336, 508)  # 118 bpm: Bazett 471, Fridericia 420
    assert sinus_tachycardia.qtc_bazett_ms is not None
    assert round(sinus_tachycardia.qtc_bazett_ms) == 471
    assert "LONG_QT" not in _findings(sinus_tachycardia)
    long_qt = _at(370, 508)  # Bazett 519, Fridericia 463: long by both
    assert _findings(long_qt)["LONG_QT"][0] == "high"
    slower = _at(430, 800)  # 75 bpm: Bazett alone decides, as before (481)
    assert "LONG_QT" in _findings(slower)


def test_a_doubtful_qt_is_withheld_only_where_it_would_be_long() -> None:
    """A low-confidence QT is withheld as "would be a long QT" (`without_doubtful_long_qt`) by
    the same rule: at 118 bpm with Fridericia 420 it would not be, so it stays a number."""
    fast = dataclasses.replace(_at(336, 508), confidence={"qrs": "high", "qt": "low"})
    assert without_doubtful_long_qt(fast).qt_ms == 336
    slow = dataclasses.replace(_at(430, 800), confidence={"qrs": "high", "qt": "low"})
    withheld = without_doubtful_long_qt(slow)
    assert withheld.qt_ms is None and "would be a long QT" in withheld.not_measurable["qt"]
