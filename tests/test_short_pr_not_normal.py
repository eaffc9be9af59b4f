"""A short PR (under 120 ms) is no normal ECG's: with a delta wave it is ventricular
pre-excitation. An electrophysiologist's audit: MIT-BIH 230's pre-excited minute (reference
PREX; PR 117 ms, a slurred upstroke 48 ms before the R peak) read "No significant
arrhythmia", prefilled "Normal ECG", and the library had no statement for it. Now the doctor
can sign "Short PR interval" and "Ventricular pre-excitation (WPW pattern)", "Normal ECG" is
refused beside a PR under 120 ms (`ml.vocabulary.measurement_contradictions`), and the
machine's "No significant arrhythmia" says the short PR (`ml.findings._withheld_doubt`), so
the form does not preselect "Normal ECG"."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from ml import vocabulary
from ml.analysis import analyze
from ml.findings import _withheld_doubt
from ml.recording import Recording
from ml.research.synthetic import BeatTruth, synthetic_recording
from portal.fhir import codes
from reports.plain_language import findings_in_plain_words
from tests.conftest import People, client_for
from tests.support.record_pieces import record_piece
from tests.test_sinus_rate_statement import _preselected, _read_by_the_portal

SHORT_PR_WORDS = "short PR 106 ms: check for a delta wave (pre-excitation)"


def _short_pr_strip() -> Recording:
    """Three limb leads at 70 bpm with a PR of 105 ms (a P wave of 70 ms)."""
    truth = BeatTruth(hr_bpm=70.0, pr_ms=105.0, p_duration_ms=70.0)
    recording, _ = synthetic_recording(
        truth, duration_s=10.0, fs_hz=500.0, leads=("I", "II", "III"), seed=5
    )
    return recording


def test_normal_ecg_is_refused_beside_a_short_pr_and_short_pr_beside_a_normal_one() -> None:
    def said(codes: list[str], pr_ms: float) -> list[str]:
        signed = {"heart_rate_bpm": 70.0, "pr_ms": pr_ms, "qrs_ms": 96.0}
        return vocabulary.measurement_contradictions(codes, signed, True)

    assert said(["SINUS", "NORMAL"], 117.0) == [
        '"Normal ECG": a PR of 117 ms is short: check for a delta wave (pre-excitation) '
        "before calling the ECG normal."
    ]
    assert not said(["SINUS", "NORMAL"], 119.6)  # signed as the form shows it, 120
    assert said(["SINUS", "SHORT_PR"], 150.0) == [
        '"Short PR interval" is a PR under 120 ms, and the PR signed is 150 ms.'
    ]
    assert not said(["SINUS", "SHORT_PR", "PRE_EXCITATION"], 117.0)
    assert not said(["SINUS", "PRE_EXCITATION"], 130.0)  # a pathway far from the node
    assert vocabulary.contradictions(["SINUS", "SHORT_PR", "AV_BLOCK_1"], "Sinus rhythm")


def test_the_statements_reach_fhir_and_the_patient() -> None:
    wpw = codes.statement_concept("PRE_EXCITATION")
    wpw_pattern = {"system": codes.SNOMED, "code": "74390002"}
    assert any(wpw_pattern.items() <= coding.items() for coding in wpw["coding"])
    assert wpw["text"] == "Ventricular pre-excitation (WPW pattern)"
    assert codes.statement_concept("SHORT_PR")["text"] == "Short PR interval"
    words = findings_in_plain_words(["SINUS", "SHORT_PR", "PRE_EXCITATION"])
    assert words[0] == vocabulary.STATEMENTS["PRE_EXCITATION"].plain
    assert vocabulary.STATEMENTS["SHORT_PR"].plain in words
    assert vocabulary.STATEMENTS["PRE_EXCITATION"].risk == "medium"


def test_the_machines_normal_read_says_a_confident_short_pr() -> None:
    analysis = analyze(_short_pr_strip())
    assert analysis.intervals.confidence["pr"] == "high"
    assert [(f.code, f.detail) for f in analysis.findings] == [("NORMAL", SHORT_PR_WORDS)]
    low = dataclasses.replace(
        analysis.intervals, confidence={**analysis.intervals.confidence, "pr": "low"}
    )
    assert "short PR" not in _withheld_doubt(low)  # a doubtful P onset says nothing


def test_a_short_pr_read_is_not_prefilled_normal(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    report = _read_by_the_portal(app, people, sql, tmp_path / "s.csv", _short_pr_strip())
    assert report.versions[0].findings == ["NORMAL"]
    page = html.unescape(
        client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(as_text=True)
    )
    assert SHORT_PR_WORDS in page
    assert _preselected(page) == ["SINUS"]  # was NORMAL and SINUS


def test_mitdb_230s_pre_excited_minute_says_its_short_pr() -> None:
    """The auditor's cut, 271-326 s (reference PREX throughout)."""
    (finding,) = analyze(record_piece("mitdb", "230", 271, 326)).findings
    assert finding.code == "NORMAL"
    assert finding.detail == "short PR 117 ms: check for a delta wave (pre-excitation)"
