"""The T wave ends before the next beat, whatever its class (`ml.intervals.next_beat_s`).
An electrophysiologist's audit: 30 s of MIT-BIH 119's ventricular bigeminy read a QT of
642 ms, its "T end" inside the PVC that follows each sinus beat 0.53 s on, and a high-risk
"Prolonged QTc" 547 ms that the sign form preselected with "Review today"; the whole record
reads a QT of 411 ms."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml.analysis import analyze
from ml.intervals import next_beat_s
from ml.recording import Recording
from ml.research.databases import default_data_dir

MITDB = default_data_dir()


def test_the_next_beat_of_any_class_after_a_normal_one() -> None:
    peaks = np.array([0, 190, 550, 740, 1100, 1290])  # N V N V N V at 360 Hz
    normal = np.array([True, False, True, False, True, False])
    assert next_beat_s(peaks, normal, 360.0) == pytest.approx(190 / 360)
    assert next_beat_s(peaks[:1], normal[:1], 360.0) is None


@pytest.mark.skipif(not (MITDB / "119.hea").is_file(), reason="MIT-BIH not found")
def test_a_bigeminy_strip_measures_the_qt_before_the_pvc() -> None:
    record = wfdb.rdrecord(str(MITDB / "119"), sampfrom=1320 * 360, sampto=1350 * 360)
    analysis = analyze(Recording(360.0, tuple(record.sig_name), record.p_signal))
    qt_ms = analysis.intervals.qt_ms
    assert qt_ms is not None and 380 <= qt_ms <= 450, qt_ms  # the whole record: 411 ms
    assert "LONG_QT" not in {f.code for f in analysis.findings}
    assert "BIGEMINY" in {f.code for f in analysis.findings}
