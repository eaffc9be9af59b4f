"""Supraventricular calls inside atrial fibrillation are not premature atrial beats: in AF
there is no sinus rhythm for a beat to be premature to. MIT-BIH 201's finding read 97 PACs,
its Holter table (outside AF) 88, and "Next finding" stepped to PACs inside its AF; the sign
form then preselected PACs and the patient read of extra beats from the top of the heart (a
consistency audit)."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml import rhythm
from ml.analysis import analyze
from ml.findings import findings_of_read
from ml.hrv import HeartRateSummary
from ml.intervals import not_measured
from ml.recording import Recording
from ml.research.databases import default_data_dir
from portal.finding_stops import ectopic_stops

MITDB = default_data_dir()


def _pac(s_in_af: int) -> list[str]:
    classes = np.array(["N"] * 30 + ["S"] * 10)
    counts = {"N": 30, "S": 10, "V": 0, "F": 0, "Q": 0}
    rate = HeartRateSummary(80.0, 60.0, 120.0, None, None, None, 40)
    findings = findings_of_read(
        [], not_measured("test"), rate, counts, classes, np.full((40, 5), 0.2), s_in_af=s_in_af
    )
    return [f.detail or "" for f in findings if f.code == "PAC"]


def test_the_pac_finding_counts_the_calls_outside_af() -> None:
    assert _pac(0) == ["10 beats (25%)"]
    assert _pac(4) == ["6 beats (15%) outside atrial fibrillation"]
    assert _pac(7) == ["3 beats outside atrial fibrillation"]
    assert _pac(10) == []


def test_frequent_pacs_give_their_share_of_the_beats_as_frequent_pvcs_do() -> None:
    """A cardiologist's audit: svdb 822's atrial bigeminy, 38 S of 77 beats, read
    "Supraventricular ectopic beats 38 beats" beside "Frequent ventricular ectopic beats 14
    beats (21%)" of another strip: from 10 % the share is given."""
    classes = np.array(["N", "S"] * 38 + ["N"])
    counts = {"N": 39, "S": 38, "V": 0, "F": 0, "Q": 0}
    rate = HeartRateSummary(80.0, 60.0, 120.0, None, None, None, 77)
    findings = findings_of_read(
        [], not_measured("test"), rate, counts, classes, np.full((77, 5), 0.2)
    )
    assert [f.detail for f in findings if f.code == "PAC"] == ["38 beats (49%)"]


@pytest.mark.skipif(not (MITDB / "201.hea").is_file(), reason="MIT-BIH not found")
def test_mitdb_201_counts_its_pacs_as_its_holter_table_does() -> None:
    record = wfdb.rdrecord(str(MITDB / "201"))
    analysis = analyze(Recording(360.0, tuple(record.sig_name), record.p_signal))
    holter = analysis.holter
    assert holter is not None
    (pac,) = [f for f in analysis.findings if f.code == "PAC"]
    assert pac.detail == f"{holter.supraventricular.beats} beats outside atrial fibrillation"
    af = [(e.start_s, e.end_s) for e in analysis.episodes if e.label == rhythm.AF]
    pac_stops = [s for s in ectopic_stops(analysis) if s.kind.startswith("PAC")]
    assert pac_stops and not any(a <= s.t_s <= b for s in pac_stops for a, b in af)
