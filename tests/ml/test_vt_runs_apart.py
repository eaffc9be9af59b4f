"""Runs of ventricular beats apart by one normal beat are two runs: their beat counts, the VT
finding's "up to N beats" and risk, the episode table, the PDF strip's title and the Holter
summary all count consecutive ectopic beats (a Holter audit: VVVNVVV, two triplets, read one
6-beat VT at high risk, "Emergency" on the worklist; VVVVVNVVVVNVVVVV one run of 14 beats
beside the Holter summary's "Longest run 11 beats")."""

from __future__ import annotations

import numpy as np

from ml import rhythm
from ml.findings import findings_of_read
from ml.holter_summary import holter_summary
from ml.hrv import HeartRateSummary
from ml.intervals import not_measured
from reports.strips import _shown_episode

SINUS_RR_S, V_RR_S = 0.8, 0.4


def _read(pattern: str) -> tuple[list[rhythm.Episode], np.ndarray, np.ndarray, float]:
    """11 min of sinus rhythm at 75 bpm with `pattern` (N and V beats) in its middle."""
    classes = np.array(list("N" * 400 + pattern + "N" * 400))
    rr_s = [V_RR_S if c == "V" else SINUS_RR_S for c in classes[1:]]
    beat_s = np.concatenate([[1.0], 1.0 + np.cumsum(rr_s)])
    duration_s = float(beat_s[-1]) + 1.0
    episodes = rhythm.consolidate(rhythm.detect_rhythms(beat_s, classes, duration_s))
    return episodes, beat_s, classes, duration_s


def _vt_finding(episodes: list[rhythm.Episode], classes: np.ndarray):  # type: ignore[no-untyped-def]
    counts = {k: int(np.sum(classes == k)) for k in "NSVFQ"}
    rate = HeartRateSummary(75.0, 60.0, 150.0, None, None, None, len(classes))
    probabilities = np.full((len(classes), 5), 0.2)
    found = findings_of_read(episodes, not_measured("test"), rate, counts, classes, probabilities)
    (vt,) = [f for f in found if f.code == "VT"]
    return vt


def test_two_triplets_one_normal_beat_apart_are_two_non_sustained_runs() -> None:
    episodes, beat_s, classes, duration_s = _read("VVVNVVV")
    vt = [e for e in episodes if e.label == rhythm.VT]
    assert [e.n_beats for e in vt] == [3, 3]
    finding = _vt_finding(episodes, classes)
    assert finding.risk == "medium"
    assert finding.detail.startswith("2 short run(s) of 3-4 ventricular beats over 100 /min")
    assert "(non-sustained)" in finding.detail
    summary = holter_summary(classes, beat_s, duration_s, episodes)
    assert summary is not None
    assert (summary.ventricular.runs, summary.ventricular.longest_run) == (2, 3)
    shown = _shown_episode(episodes, rhythm.VT)
    assert shown is not None and shown[1].startswith(" (the longest of 2: 3 beats")


def test_a_run_of_five_or_more_stays_high_risk_and_every_count_agrees() -> None:
    episodes, beat_s, classes, duration_s = _read("VVVVVVNVVV")
    vt = [e for e in episodes if e.label == rhythm.VT]
    assert [e.n_beats for e in vt] == [6, 3]
    finding = _vt_finding(episodes, classes)
    assert finding.risk == "high"
    assert finding.detail.endswith("; up to 6 beats")
    summary = holter_summary(classes, beat_s, duration_s, episodes)
    assert summary is not None and summary.ventricular.longest_run == 6
    shown = _shown_episode(episodes, rhythm.VT)
    assert shown is not None and shown[1].startswith(" (the longest of 2: 6 beats")
