"""A run of 3-4 ventricular beats is non-sustained VT at medium risk; from 5 beats, high risk
(`ml.findings.VT_HIGH_RISK_BEATS`), and the worklist ranks the report by that risk."""

from __future__ import annotations

import numpy as np
import pytest

from ml import rhythm
from ml.analysis import analyze
from ml.findings import VT_HIGH_RISK_BEATS, findings_of_read, main_finding
from ml.hrv import HeartRateSummary
from ml.intervals import not_measured
from ml.io import read_recording
from ml.research.databases import data_root
from portal.services.reports import MEDIUM_URGENCY, URGENCY_NAMES, URGENT_CODES, urgency_of

CINC = data_root() / "cinc2017"


def _vt_findings(*run_beats: int):  # type: ignore[no-untyped-def]
    runs = [
        rhythm.Episode(rhythm.VT, 10.0 * i, 10.0 * i + 0.2 * n, n) for i, n in enumerate(run_beats)
    ]
    classes = np.array(["N"] * 40 + ["V"] * sum(run_beats))
    counts = {"N": 40, "S": 0, "V": int(sum(run_beats)), "F": 0, "Q": 0}
    rate = HeartRateSummary(75.0, 60.0, 90.0, None, None, None, 40)
    probabilities = np.full((len(classes), 5), 0.2)
    findings = findings_of_read(runs, not_measured("test"), rate, counts, classes, probabilities)
    return [f for f in findings if f.code == "VT"], findings


def test_short_runs_are_non_sustained_vt_at_medium_risk() -> None:
    (vt,), findings = _vt_findings(3, 4)
    assert VT_HIGH_RISK_BEATS == 5
    assert (vt.label, vt.risk) == (rhythm.VT, "medium")
    assert vt.detail.startswith(
        "2 short run(s) of 3-4 ventricular beats over 100 /min (non-sustained), longest 0.8 s"
    )
    assert "motion artefact" in vt.detail
    # Still the main finding (no high-risk finding beside it), and ranked as a medium one.
    assert main_finding(findings) is vt
    assert urgency_of([(vt.code, vt.risk)], []) == MEDIUM_URGENCY


def test_a_run_of_five_beats_or_more_is_high_risk_and_ranked_first() -> None:
    (vt,), _ = _vt_findings(3, 6)
    assert vt.risk == "high"
    assert vt.detail == (
        "2 run(s) of 3 or more ventricular beats over 100 /min, longest 1.2 s; up to 6 beats"
    )
    assert urgency_of([(vt.code, vt.risk)], []) == URGENT_CODES["VT"] == 0


def test_the_worklist_ranks_a_coded_finding_first_only_at_high_risk() -> None:
    assert urgency_of([("PAUSE", "high")], []) == URGENT_CODES["PAUSE"]
    assert urgency_of([("PAUSE", "medium")], []) == MEDIUM_URGENCY  # a pause under 3 s
    # A doctor's signed statement carries the vocabulary's risk: VT is high.
    assert urgency_of([("VT", "high"), ("PVC", "low")], []) == 0


@pytest.mark.skipif(not (CINC / "A05318.hea").is_file(), reason="cinc2017 not found")
def test_a_handheld_strip_with_three_artefact_beats_in_a_run_is_not_high_risk() -> None:
    """A05318 (reference: normal rhythm): three beats on a baseline shift at 4.2-4.8 s make a
    "run" in a segment signal quality calls good (its beats look alike, so `ml.artefact_runs`
    keeps it, and the shift is under the swing rule's limit). (A00513, this test's first
    strip, no longer reads a run: its beats sit in bursts of noise, `ml.noise_bursts`.)"""
    analysis = analyze(read_recording(CINC / "A05318.hea", uncalibrated_ok=True))
    vt = [e for e in analysis.episodes if e.label == rhythm.VT]
    assert [e.n_beats for e in vt] == [3]
    assert (analysis.main_finding.code, analysis.main_finding.risk) == ("VT", "medium")


def test_an_st_elevation_or_complete_heart_block_ranks_with_vt_above_af() -> None:
    """A 12-lead audit: an acute inferior STEMI ranked "High", below a rate-controlled AF at
    85 bpm, and an anterior one below a long QT (the worklist then orders by date)."""
    af = urgency_of([("AF", "high")], [])
    for code in ("ST_ELEVATION", "AV_BLOCK_3"):
        assert urgency_of([(code, "high")], []) == 0 < af
        assert urgency_of([(code, "high"), ("LONG_QT", "high")], []) == 0
    assert URGENCY_NAMES[0] == "Emergency"
    assert urgency_of([("ST_ELEVATION", "medium")], []) == MEDIUM_URGENCY
