"""Runs of 3 or more ventricular beats at 100 /min or slower are idioventricular rhythm: an
episode, a finding at medium risk and a "Next finding" stop. MIT-BIH 124's three reference
idioventricular runs (19, 5 and 6 beats at 54-61 /min) had made no episode and no finding:
their beats counted only as ventricular ectopic beats, at low risk (an audit)."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ml import rhythm, vocabulary
from ml.analysis import analyze
from ml.findings import findings_of_read
from ml.hrv import HeartRateSummary
from ml.intervals import not_measured
from ml.recording import Recording
from ml.research.databases import default_data_dir
from ml.vocabulary import STATEMENTS

MITDB = default_data_dir()


def _sinus_then_ventricular_run(run_rr_s: float, run_beats: int) -> tuple[np.ndarray, np.ndarray]:
    """20 sinus beats at 75 /min, a run of V beats `run_rr_s` apart, 20 more sinus beats."""
    sinus_rr_s = 0.8
    rr_s = [sinus_rr_s] * 20 + [run_rr_s] * run_beats + [sinus_rr_s] * 20
    beat_s = np.cumsum(rr_s)
    classes = np.array(["N"] * 20 + ["V"] * run_beats + ["N"] * 20)
    return beat_s, classes


def _read(beat_s: np.ndarray, classes: np.ndarray) -> list[rhythm.Episode]:
    return rhythm.detect_rhythms(beat_s, classes, float(beat_s[-1]) + 1.0)


@pytest.mark.parametrize(("run_rr_s", "label"), [(0.9, rhythm.IVR), (0.5, rhythm.VT)])
def test_a_ventricular_run_is_idioventricular_up_to_100_per_min_and_vt_above(
    run_rr_s: float, label: str
) -> None:
    beat_s, classes = _sinus_then_ventricular_run(run_rr_s, 6)
    runs = [e for e in _read(beat_s, classes) if e.label in (rhythm.IVR, rhythm.VT)]
    assert [(e.label, e.n_beats) for e in runs] == [(label, 6)]
    assert runs[0].start_s == pytest.approx(beat_s[20])


def test_a_long_idioventricular_run_is_the_rhythm_of_its_stretch() -> None:
    beat_s, classes = _sinus_then_ventricular_run(1.0, 15)  # 14 s at 60 /min
    episodes = _read(beat_s, classes)
    ivr = next(e for e in episodes if e.label == rhythm.IVR)
    inside = [e for e in episodes if e.label in rhythm.SINUS_RATES and e.start_s < ivr.end_s - 1]
    assert all(e.end_s <= ivr.start_s + 1e-6 for e in inside), episodes  # no sinus read through
    assert rhythm.headline(episodes, rhythm.IVR).endswith("with idioventricular rhythm (14 s)")


def _ivr_finding(*runs: rhythm.Episode) -> tuple[str, str]:
    n = 40 + sum(e.n_beats for e in runs)
    classes = np.array(["N"] * 40 + ["V"] * (n - 40))
    counts = {"N": 40, "S": 0, "V": n - 40, "F": 0, "Q": 0}
    rate = HeartRateSummary(70.0, 50.0, 90.0, None, None, None, 40)
    findings = findings_of_read(
        list(runs), not_measured("test"), rate, counts, classes, np.full((n, 5), 0.2)
    )
    (ivr,) = [f for f in findings if f.code == "IVR"]
    assert (ivr.label, ivr.risk) == (rhythm.IVR, "medium")
    return ivr.detail or "", STATEMENTS["IVR"].risk


def test_the_finding_gives_the_runs_rates_and_names_a_slow_one_an_escape_rhythm() -> None:
    accelerated = rhythm.Episode(rhythm.IVR, 10.0, 15.0, 6)  # 60 /min
    detail, signed_risk = _ivr_finding(accelerated)
    assert detail == (
        "1 run(s) of 3 or more ventricular beats at 100 /min or slower (60 /min), longest 6 beats"
    )
    assert signed_risk == "medium"
    escape = rhythm.Episode(rhythm.IVR, 30.0, 36.0, 4)  # 30 /min
    detail, _ = _ivr_finding(accelerated, escape)
    assert "(30-60 /min), longest 6 beats" in detail
    assert "ventricular escape rhythm: look for AV block or sinus arrest" in detail


@pytest.mark.skipif(not (MITDB / "124.hea").is_file(), reason="MIT-BIH not found")
def test_mitdb_124_reports_its_reference_idioventricular_runs() -> None:
    path = str(MITDB / "124")
    record = wfdb.rdrecord(path)
    analysis = analyze(Recording(360.0, tuple(record.sig_name), record.p_signal))
    runs = [e for e in analysis.episodes if e.label == rhythm.IVR]
    annotation = wfdb.rdann(path, "atr")
    marks = [
        (sample / 360.0, note.strip("\x00"))
        for sample, note in zip(annotation.sample, annotation.aux_note, strict=True)
        if note
    ]
    reference_spans_s = [
        (start_s, end_s)
        for (start_s, note), (end_s, _) in zip(marks, marks[1:], strict=False)
        if note == "(IVR"
    ]
    assert len(reference_spans_s) == 3
    for start_s, end_s in reference_spans_s:  # each reference run overlaps a reported one
        assert any(e.start_s < end_s and start_s < e.end_s for e in runs), (start_s, runs)
    (finding,) = [f for f in analysis.findings if f.code == "IVR"]
    assert finding.risk == "medium" and "longest 19 beats" in (finding.detail or "")
    # Ranked as the rhythm summary ranks it, above the trigeminy it read first before (the
    # headline had named the 24 s of trigeminy, not the 28.5 s of idioventricular rhythm).
    assert analysis.main_finding.code == "IVR"
    assert "with idioventricular rhythm" in analysis.rhythm_summary


def test_a_signed_idioventricular_rhythm_names_the_report_before_a_low_risk_rhythm() -> None:
    """Signed beside "Sinus bradycardia" (low risk), the worklist named the report by the
    bradycardia, whose medium urgency came from the idioventricular rhythm (an audit)."""
    assert vocabulary.most_urgent(["BRADY", "IVR", "PVC"]) == "IVR"
    assert vocabulary.most_urgent(["SINUS", "NORMAL"]) == "SINUS"
    assert vocabulary.most_urgent(["VF", "IVR"]) == "VF"
